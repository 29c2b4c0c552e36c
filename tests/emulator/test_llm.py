"""The deterministic LLM's rules: words, sentences, replies and the judge."""

from __future__ import annotations

from typing import Any

import pytest

from convai_ops.emulator import llm

PROMPT = (
    "You are the support agent for Acme Bikes.\n"
    "Refunds are accepted within 30 days of purchase.\n"
    "Our shop is open Monday to Friday, 9am to 5pm."
)


def user(message: str) -> dict[str, Any]:
    return {"role": "user", "message": message, "time_in_call_secs": 0}


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("days", "day"),
        ("policies", "policy"),
        ("address", "address"),
        ("bus", "bus"),
        ("analysis", "analysis"),
        ("yes", "yes"),
        ("ties", "tie"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert llm.stem(word) == stemmed


def test_content_words_drop_stopwords_and_stem() -> None:
    assert llm.content_words("What are YOUR refund policies?") == {"refund", "policy"}


def test_sentences_strip_markdown_and_split() -> None:
    text = "# Hours\n- **Open** daily. Closed on holidays!\n1. Call us? Yes\n> quoted"
    assert llm.sentences(text) == [
        "Hours",
        "Open daily.",
        "Closed on holidays!",
        "Call us?",
        "Yes",
        "quoted",
    ]


def test_reply_picks_sentence_sharing_most_words() -> None:
    context = llm.AgentContext(prompt=PROMPT)
    assert llm.reply(context, [user("What is your refund policy?")]) == (
        "Refunds are accepted within 30 days of purchase."
    )
    assert llm.reply(context, [user("When is the shop open on Friday?")]) == (
        "Our shop is open Monday to Friday, 9am to 5pm."
    )


def test_reply_uses_the_last_user_message() -> None:
    context = llm.AgentContext(prompt=PROMPT)
    history = [
        user("Is the shop open?"),
        {"role": "agent", "message": "Yes."},
        user("And refunds?"),
    ]
    assert llm.reply(context, history).startswith("Refunds")


def test_reply_ties_go_to_the_earliest_sentence_prompt_first() -> None:
    context = llm.AgentContext(prompt="Bikes are red.", documents=("Bikes are blue.",))
    assert llm.reply(context, [user("bikes")]) == "Bikes are red."
    assert llm.reply(context, [user("blue bikes")]) == "Bikes are blue."


def test_reply_reads_knowledge_base_documents() -> None:
    context = llm.AgentContext(prompt=PROMPT, documents=("- Warranty lasts 2 years.",))
    assert llm.reply(context, [user("How long is the warranty?")]) == "Warranty lasts 2 years."


def test_reply_without_overlap_is_the_fallback() -> None:
    context = llm.AgentContext(prompt=PROMPT)
    assert llm.reply(context, [user("Do you sell pizza?")]) == llm.FALLBACK_REPLY


def test_reply_without_user_message_is_the_first_message() -> None:
    assert llm.reply(llm.AgentContext(prompt=PROMPT, first_message="Hi!"), []) == "Hi!"
    assert llm.reply(llm.AgentContext(prompt=PROMPT), []) == llm.GREETING


def test_second_rank_reply_is_the_runner_up_then_fallback() -> None:
    context = llm.AgentContext(prompt=PROMPT)
    assert llm.reply(context, [user("open shop refund")], rank=1).startswith("Refunds")
    assert llm.reply(context, [user("refund")], rank=1) == llm.FALLBACK_REPLY


def test_substitute_fills_known_placeholders_only() -> None:
    assert llm.substitute("Hi {{name}}, {{ unknown }}", {"name": "Ann"}) == "Hi Ann, {{ unknown }}"


def test_judge_quoted_phrase_found() -> None:
    verdict = llm.judge('says "30 days"', "Refunds are accepted within 30 days.")
    assert verdict.success
    assert verdict.messages == ('found "30 days"',)
    assert 'Reply: "Refunds are accepted within 30 days."' in verdict.summary


def test_judge_quoted_phrase_missing_fails_and_names_it() -> None:
    verdict = llm.judge('says "30 days" and \u201cMonday\u201d', "Refunds within 14 days.")
    assert not verdict.success
    assert verdict.messages == ('missing "30 days"', 'missing "Monday"')
    assert verdict.summary.startswith('Failure: the reply lacks "30 days", "Monday".')


def test_judge_phrase_needs_whole_words() -> None:
    assert not llm.judge('"30 day"', "within 30 days").success
    assert llm.judge('"30 DAYS"', "within 30 days!").success


def test_judge_without_quotes_needs_half_the_content_words() -> None:
    reply = "Refunds are accepted within 30 days of purchase."
    assert llm.judge("The agent mentions the refund window in days", reply).success
    verdict = llm.judge("The agent mentions store opening hours and location", reply)
    assert not verdict.success
    assert "missing hour" in verdict.messages


def test_judge_examples_take_precedence() -> None:
    reply = "Refunds are accepted within 30 days."
    failed = llm.judge('"30 days"', reply, failure_examples=["refunds are accepted within 30 DAYS"])
    assert not failed.success
    passed = llm.judge('"90 days"', reply, success_examples=[reply])
    assert passed.success


def test_judge_empty_condition_succeeds() -> None:
    assert llm.judge("", "anything").success


def test_worked_example_of_the_module_docstring() -> None:
    history = [user("What is your refund policy?")]
    condition = 'The agent says refunds are accepted within "30 days"'
    good = llm.reply(llm.AgentContext(prompt=PROMPT), history)
    bad = llm.reply(llm.AgentContext(prompt=PROMPT.replace("30 days", "14 days")), history)
    assert llm.judge(condition, good).success
    assert llm.judge(condition, bad).messages == ('missing "30 days"',)
