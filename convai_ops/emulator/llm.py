r"""The emulator's deterministic "LLM": how an agent replies and how a test's condition is judged.

Everything here is a plain function of its inputs, so a reader can predict why a prompt edit
makes a test pass or fail. Tool calls follow the rules in :mod:`convai_ops.emulator.llm_tools`.

Words
-----
*Words* are the lowercase Unicode word tokens of a text (regex ``\w+``). *Content words* are the
words not in :data:`STOPWORDS`, each reduced by a trivial plural stem (:func:`stem`): ``-ies`` ->
``-y`` (words longer than 4 letters), else a final ``-s`` is dropped (words longer than 3
letters not ending in ``ss``, ``us`` or ``is``). So "Refunds" and "refund" are the same word.

Sentences
---------
A text is cut into lines; each line loses a leading markdown mark (``#`` heading, ``-``/``*``/
``+``/``•`` bullet, ``1.`` or ``1)`` number, ``>`` quote) and its ``**``/``__``/backtick emphasis,
then is cut after ``.``, ``!`` or ``?`` followed by a space.

The agent's reply (:func:`reply`)
---------------------------------
1. ``{{name}}`` references in the prompt and first message are first replaced by the test's
   (or simulation's) ``dynamic_variables``, else the agent's ``dynamic_variable_placeholders``
   (the docs' values "for testing"); a name with neither stays literal (``{{name}}``), so a
   condition on that text fails. System variables (``system__...``) are not filled.
2. No user message in the chat history: the reply is ``first_message``, or
   :data:`GREETING` when that is empty.
3. Otherwise the candidates are the sentences of the system prompt
   (``conversation_config.agent.prompt.prompt``) followed by the sentences of each
   knowledge-base document in ``prompt.knowledge_base`` order. Each candidate scores the number
   of distinct content words it shares with the **last** user message. The reply is the
   best-scoring candidate; ties go to the earliest (prompt before knowledge base). When no
   candidate shares a word, the reply is :data:`FALLBACK_REPLY`.
4. Nondeterminism (``EmulatorConfig.nondeterminism`` > 0 and the agent's ``temperature`` > 0):
   with that probability a test run answers with the second-best candidate instead (the
   fallback when there is none). The draw comes from ``random.Random`` seeded with
   ``"{seed}:{invocation_id}:{run_index}"``.

The judge (:func:`judge`)
-------------------------
In this order:

1. The reply equals a failure example (compared as words, so case and punctuation do not
   matter): failure.
2. The reply equals a success example: success.
3. The condition has double-quoted phrases (``"..."`` or curly quotes): success when every
   phrase appears in the reply as a run of whole words (case and punctuation ignored).
4. Otherwise: the condition's content words minus :data:`JUDGE_WORDS` (agent, says, should,
   mention, ...); success when at least half of them are content words of the reply. A
   condition with no such word (e.g. empty) succeeds.

The rationale lists each phrase or word found and missing, and the summary quotes the reply.

Worked example
--------------
System prompt::

    You are the support agent for Acme Bikes.
    Refunds are accepted within 30 days of purchase.
    Our shop is open Monday to Friday, 9am to 5pm.

Chat history: the user says "What is your refund policy?". Its content words are
{refund, policy}. Scores: sentence 1 {support, agent, acme, bike} -> 0; sentence 2 {refund,
accepted, within, 30, day, purchase} -> 1 ("refund"); sentence 3 -> 0. Reply: "Refunds are
accepted within 30 days of purchase."

Test ``success_condition``: ``The agent says refunds are accepted within "30 days"``. The
quoted phrase "30 days" is in the reply -> success. Edit the prompt to say "14 days" and the
same test fails with the rationale ``missing "30 days"``. Without quotes, the condition
"The agent mentions the refund window in days" has content words {refund, window, day}
(agent and mentions are judge words); the reply has refund and day, 2 of 3 >= half -> success.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convai_ops.spec.dynamic_variables import PLACEHOLDER_PATTERN

__all__ = [
    "FALLBACK_REPLY",
    "GREETING",
    "JUDGE_WORDS",
    "STOPWORDS",
    "AgentContext",
    "Verdict",
    "contains_phrase",
    "content_words",
    "judge",
    "last_user_message",
    "quoted_phrases",
    "ranked_candidates",
    "reply",
    "sentences",
    "stem",
    "substitute",
    "words",
]

FALLBACK_REPLY = "I'm sorry, I don't have information about that."
GREETING = "Hello! How can I help you today?"

_STOPWORDS_TEXT = (
    "a about after all also am an and any are as at be been being but by can could did do does "
    "for from had has have he her his how i if in into is it its me my no not of on or our she "
    "so than that the their them then there these they this those to too us was we were what "
    "when where which who why will with would you your"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_JUDGE_WORDS_RAW = (
    "agent assistant bot user customer caller say says said should must mention mentions "
    "mentioned respond responds response reply replies answer answers tell tells state states "
    "include includes explain explains correctly clearly politely accurately provide provides "
    "give gives ask asks"
)

_WORD = re.compile(r"\w+")
_MARK = re.compile(r"^\s*(?:#{1,6}\s+|[-*+\u2022]\s+|\d+[.)]\s+|>\s*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_QUOTED = re.compile(r"\"([^\"]+)\"|\u201c([^\u201d]+)\u201d")
_PLACEHOLDER = PLACEHOLDER_PATTERN  # one definition with validate's check


def words(text: str) -> list[str]:
    """Return the lowercase word tokens of ``text``."""
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    """Return the trivial plural stem: ``policies`` -> ``policy``, ``days`` -> ``day``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """Return the stemmed words of ``text`` that are not stopwords."""
    return {stem(word) for word in words(text) if word not in STOPWORDS}


JUDGE_WORDS = frozenset(stem(word) for word in _JUDGE_WORDS_RAW.split())


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (lines, then ``.``/``!``/``?`` + space), markdown marks
    stripped, empty pieces dropped."""
    found: list[str] = []
    for line in text.splitlines():
        line = _MARK.sub("", line)
        line = line.replace("**", "").replace("__", "").replace("`", "")
        found.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return found


def substitute(text: str, variables: Mapping[str, Any]) -> str:
    """Replace ``{{name}}`` placeholders with ``variables[name]`` (unknown names stay)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(variables[name]) if name in variables else match.group(0)

    return _PLACEHOLDER.sub(value, text)


@dataclass(frozen=True)
class AgentContext:
    """What the agent knows: system ``prompt``, ``first_message`` and the texts of its
    knowledge-base ``documents`` in ``prompt.knowledge_base`` order."""

    prompt: str
    first_message: str = ""
    documents: tuple[str, ...] = field(default_factory=tuple)

    def candidates(self) -> list[str]:
        """Return the prompt's sentences, then each document's."""
        found = sentences(self.prompt)
        for document in self.documents:
            found.extend(sentences(document))
        return found


def last_user_message(history: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the text of the last ``role == "user"`` entry with a message, or ``None``."""
    for entry in reversed(history):
        if entry.get("role") == "user" and entry.get("message"):
            return str(entry["message"])
    return None


def ranked_candidates(context: AgentContext, message: str) -> list[str]:
    """Return the candidates sharing at least one content word with ``message``, best first
    (more shared words first, then earlier)."""
    wanted = content_words(message)
    scored = [
        (len(wanted & content_words(sentence)), index, sentence)
        for index, sentence in enumerate(context.candidates())
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [sentence for score, _, sentence in scored if score > 0]


def reply(context: AgentContext, history: Sequence[Mapping[str, Any]], *, rank: int = 0) -> str:
    """Return the agent's reply to ``history``; ``rank`` 1 gives the second-best candidate."""
    message = last_user_message(history)
    if message is None:
        return context.first_message or GREETING
    options = [*ranked_candidates(context, message), FALLBACK_REPLY]
    return options[min(rank, len(options) - 1)]


@dataclass(frozen=True)
class Verdict:
    """A judgement: ``success``, one message per phrase/word checked, and a summary."""

    success: bool
    messages: tuple[str, ...]
    summary: str


def quoted_phrases(condition: str) -> list[str]:
    """Return the double-quoted phrases of ``condition`` (straight or curly quotes)."""
    return [(straight or curly).strip() for straight, curly in _QUOTED.findall(condition)]


def contains_phrase(text: str, phrase: str) -> bool:
    """True when ``phrase``'s words appear in ``text`` as a contiguous run of words."""
    needle = words(phrase)
    if not needle:
        return phrase.strip().lower() in text.lower()
    haystack = words(text)
    size = len(needle)
    return any(haystack[start : start + size] == needle for start in range(len(haystack)))


def judge(
    condition: str,
    reply_text: str,
    *,
    success_examples: Iterable[str] = (),
    failure_examples: Iterable[str] = (),
) -> Verdict:
    """Judge ``reply_text`` against ``condition`` and the examples (rules in the module doc)."""
    quoted = f'Reply: "{reply_text}"'
    example = _example_verdict(reply_text, success_examples, failure_examples, quoted)
    if example is not None:
        return example
    phrases = quoted_phrases(condition)
    if phrases:
        return _phrase_verdict(phrases, reply_text, quoted)
    return _word_verdict(condition, reply_text, quoted)


def _example_verdict(
    reply_text: str, successes: Iterable[str], failures: Iterable[str], quoted: str
) -> Verdict | None:
    said = words(reply_text)
    for example in failures:
        if words(example) == said:
            message = f'The reply equals the failure example "{example}".'
            return Verdict(False, (message,), f"Failure: {message} {quoted}")
    for example in successes:
        if words(example) == said:
            message = f'The reply equals the success example "{example}".'
            return Verdict(True, (message,), f"Success: {message} {quoted}")
    return None


def _phrase_verdict(phrases: list[str], reply_text: str, quoted: str) -> Verdict:
    found = [phrase for phrase in phrases if contains_phrase(reply_text, phrase)]
    missing = [phrase for phrase in phrases if phrase not in found]
    messages = tuple([f'found "{p}"' for p in found] + [f'missing "{p}"' for p in missing])
    if missing:
        listed = ", ".join(f'"{phrase}"' for phrase in missing)
        return Verdict(False, messages, f"Failure: the reply lacks {listed}. {quoted}")
    listed = ", ".join(f'"{phrase}"' for phrase in found)
    return Verdict(True, messages, f"Success: the reply contains {listed}. {quoted}")


def _word_verdict(condition: str, reply_text: str, quoted: str) -> Verdict:
    needed = sorted(content_words(condition) - JUDGE_WORDS)
    if not needed:
        return Verdict(True, (), f"Success: the condition names nothing to check. {quoted}")
    present = content_words(reply_text)
    found = [word for word in needed if word in present]
    missing = [word for word in needed if word not in present]
    messages = tuple([f"found {w}" for w in found] + [f"missing {w}" for w in missing])
    success = 2 * len(found) >= len(needed)
    outcome = "Success" if success else "Failure"
    summary = f"{outcome}: {len(found)} of {len(needed)} condition words are in the reply"
    return Verdict(success, messages, f"{summary} (at least half needed). {quoted}")
