"""validate refuses a ``{{name}}`` without a placeholder, at file:line:col, with a did-you-mean;
system variables pass; test files' dynamic_variables are checked against the placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import write_tree

from convai_ops.cli import main
from convai_ops.errors import SpecError
from convai_ops.spec import load_project
from convai_ops.spec.dynamic_variables import call_variables, check_placeholders, used_names
from convai_ops.spec.yamlio import read_document

AGENT = """\
name: Shop
prompt_file: prompt.md
conversation_config:
  agent:
    first_message: "Hi {{customer_name}}, how can I help?"
    dynamic_variables:
      dynamic_variable_placeholders:
        customer_name: there
        loyalty_level: standard
"""
PROMPT = "You are the shop's agent.\nThe caller's tier is {{ loyalty_level }}.\n"


def _project(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    base = {
        "convai-ops.yaml": "environments: {staging: {}, production: {}}\n",
        "agents/shop/agent.yaml": AGENT,
        "agents/shop/prompt.md": PROMPT,
    }
    return write_tree(tmp_path / "repo", {**base, **(files or {})})


def _error(root: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_project(root)
    return caught.value


def test_declared_variables_and_system_variables_pass(tmp_path: Path) -> None:
    prompt = PROMPT + "Today is {{system__time_utc}}; the caller is {{ system__caller_id }}.\n"
    root = _project(tmp_path, {"agents/shop/prompt.md": prompt})

    agent = load_project(root).agent("shop")

    assert "{{system__time_utc}}" in agent.conversation_config["agent"]["prompt"]["prompt"]


def test_prompt_file_variable_without_placeholder_fails_at_its_line_and_column(
    tmp_path: Path,
) -> None:
    prompt = "You are the shop's agent.\nGreet by tier: {{loyalty_tier}}.\n"
    root = _project(tmp_path, {"agents/shop/prompt.md": prompt})

    error = _error(root)

    assert error.path == root / "agents/shop/prompt.md"
    assert (error.line, error.column) == (2, 16)
    assert str(error).startswith(f"{root / 'agents/shop/prompt.md'}:2:16: ")
    assert "{{loyalty_tier}} has no placeholder under" in str(error)
    assert "did you mean 'loyalty_level'?" in str(error)


def test_cli_validate_prints_file_line_col_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = "Greet by tier: {{loyalty_tier}}.\n"
    root = _project(tmp_path, {"agents/shop/prompt.md": prompt})

    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(root), "validate"])

    out, err = capsys.readouterr()
    assert exit_info.value.code == 1 and out == ""
    assert err.startswith(f"error: {root / 'agents/shop/prompt.md'}:1:16: ")
    assert "loyalty_tier" in err and len(err.strip().splitlines()) == 1


def test_first_message_typo_points_at_the_braces_in_agent_yaml(tmp_path: Path) -> None:
    agent = AGENT.replace("Hi {{customer_name}}", "Hi {{custmer_name}}")
    root = _project(tmp_path, {"agents/shop/agent.yaml": agent})

    error = _error(root)

    assert error.path == root / "agents/shop/agent.yaml"
    assert (error.line, error.column) == (5, 24)
    assert error.field == "conversation_config.agent.first_message"
    assert "did you mean 'customer_name'?" in str(error)


def test_block_scalar_and_repeated_reference_are_located(tmp_path: Path) -> None:
    agent = AGENT.replace(
        'first_message: "Hi {{customer_name}}, how can I help?"',
        "first_message: |\n      Hi {{customer_name}}.\n      Again {{x}} and {{x}}.",
    )
    root = _project(tmp_path, {"agents/shop/agent.yaml": agent})

    error = _error(root)

    assert (error.line, error.column) == (7, 13)


def test_system_variable_typo_is_not_a_system_variable(tmp_path: Path) -> None:
    root = _project(tmp_path, {"agents/shop/prompt.md": "Call {{sytem__caller_id}}.\n"})

    assert "did you mean 'system__caller_id'?" in str(_error(root))


WEBHOOK = """\
      tools:
        - type: webhook
          name: lookup_order
          description: Find an order.
          api_schema:
            url: https://shop.example/orders?tier={{loyalty_level}}&t={{order_token}}
"""


def test_inline_tool_config_variable_without_placeholder_fails(tmp_path: Path) -> None:
    agent = AGENT.replace(
        "    dynamic_variables:", "    prompt:\n" + WEBHOOK + "    dynamic_variables:"
    )
    root = _project(tmp_path, {"agents/shop/agent.yaml": agent})

    error = _error(root)

    assert error.field == "conversation_config.agent.prompt.tools[0].api_schema.url"
    assert (error.line, error.column) == (12, 71)
    assert "{{order_token}}" in str(error)


def test_placeholder_declared_only_in_an_override_counts_for_that_environment(
    tmp_path: Path,
) -> None:
    override = (
        "overrides:\n  production:\n    conversation_config:\n      agent:\n"
        "        first_message: Hello {{region}}\n"
        "        dynamic_variables: {dynamic_variable_placeholders: {region: EU}}\n"
    )
    root = _project(tmp_path, {"agents/shop/agent.yaml": AGENT + override})
    assert load_project(root).agent("shop").overrides["production"]

    in_base = AGENT.replace("Hi {{customer_name}}", "Hi {{region}}") + override
    root = _project(tmp_path, {"agents/shop/agent.yaml": in_base})
    error = _error(root)
    assert error.field == "conversation_config.agent.first_message" and error.line == 5

    uses_undeclared = override.replace("Hello {{region}}", "Hello {{zone}}")
    root = _project(tmp_path, {"agents/shop/agent.yaml": AGENT + uses_undeclared})
    error = _error(root)
    assert error.field == "overrides.production.conversation_config.agent.first_message"
    assert "(environment 'production')" in str(error)


def test_check_placeholders_is_callable_on_any_yaml_document(tmp_path: Path) -> None:
    path = tmp_path / "lookup_order.yaml"
    path.write_text("tool_config:\n  description: 'Look up {{ order_id }}'\n", encoding="utf-8")
    doc = read_document(path)
    text = doc.data["tool_config"]["description"]

    check_placeholders(doc, text, ("tool_config", "description"), {"order_id"})
    with pytest.raises(SpecError) as caught:
        check_placeholders(doc, text, ("tool_config", "description"), set())

    assert (caught.value.line, caught.value.column) == (2, 25)
    assert used_names(text) == ["order_id"]


TEST = """\
type: llm
chat_history: [{role: user, message: Hi, time_in_call_secs: 0}]
success_condition: The agent greets "Sam".
dynamic_variables:
  customer_name: Sam
"""


def test_test_file_dynamic_variables_go_into_the_body(tmp_path: Path) -> None:
    root = _project(tmp_path, {"agents/shop/tests/greet.yaml": TEST})

    test = load_project(root).agent("shop").tests[0]

    assert test.body["dynamic_variables"] == {"customer_name": "Sam"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("custmer_name: Sam", "did you mean 'customer_name'?"),
        ("system__caller_id: '+1555'", "is a system variable"),
        ("customer_name: [Sam]", "a string, a number or true/false"),
    ],
)
def test_test_file_dynamic_variables_are_validated(
    tmp_path: Path, entry: str, message: str
) -> None:
    test = TEST.replace("customer_name: Sam", entry)
    root = _project(tmp_path, {"agents/shop/tests/greet.yaml": test})

    error = _error(root)

    assert error.path == root / "agents/shop/tests/greet.yaml"
    assert error.line == 5 and error.field.startswith("dynamic_variables.")
    assert message in str(error)


def test_call_variables_keep_declared_ones_and_name_the_rest() -> None:
    conversation = {
        "conversation_initiation_client_data": {
            "dynamic_variables": {
                "system__agent_id": "agent_1",
                "secret__token": "s3cr3t",
                "customer_name": "Dana",
                "caller_tier": "gold",
            }
        }
    }

    kept, left_out = call_variables(conversation, {"customer_name", "secret__token"})

    assert kept == {"customer_name": "Dana"}
    assert left_out == [
        "system__agent_id (set by the platform)",
        "secret__token (secret: kept out of files)",
        "caller_tier (no placeholder in agent.yaml)",
    ]


def test_a_tool_parameter_filled_from_an_undeclared_variable_fails(tmp_path: Path) -> None:
    params = (
        "            query_params_schema:\n"
        "              properties:\n"
        "                tier: {type: string, dynamic_variable: loyalty_levl}\n"
    )
    webhook = WEBHOOK.replace("&t={{order_token}}", "") + params
    agent = AGENT.replace(
        "    dynamic_variables:", "    prompt:\n" + webhook + "    dynamic_variables:"
    )
    root = _project(tmp_path, {"agents/shop/agent.yaml": agent})

    error = _error(root)

    assert error.field.endswith("query_params_schema.properties.tier.dynamic_variable")
    assert (error.line, error.column) == (15, 56)
    assert "dynamic variable 'loyalty_levl' has no placeholder" in str(error)
    assert "did you mean 'loyalty_level'?" in str(error)
