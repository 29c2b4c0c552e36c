"""Helpers for the spec tests: a small valid project, written into a folder."""

from __future__ import annotations

from pathlib import Path

SAMPLE: dict[str, str] = {
    "convai-ops.yaml": """\
version: 1
default_environment: staging
environments:
  staging: {}
  production:
    base_url: https://api.elevenlabs.io
    api_key_env: ELEVENLABS_API_KEY_PROD
concurrency: 4
ignore:
  - /conversation_config/tts/voice_id
""",
    "agents/support/agent.yaml": """\
# yaml-language-server: $schema=../../.convai-ops/schema/agent.schema.json
name: Acme Support
tags: [support, tier-1]
environments: {staging: agent_s1, production: agent_p1}
prompt_file: prompt.md
conversation_config:
  agent:
    first_message: "Hi, this is Acme support."
    language: en
    prompt: {llm: gemini-2.5-flash, temperature: 0}
  tts:
    stability: 0.5
platform_settings:
  call_limits: {daily_limit: 1000}
knowledge_base:
  - file: knowledge/refunds.md
    usage_mode: prompt
  - url: https://acme.example/terms
  - id: doc_abc123
    name: Terms
tools: [lookup_order]
overrides:
  production:
    tags: [support]
    conversation_config: {agent: {prompt: {temperature: 0.3}}}
ignore: [/platform_settings/widget]
""",
    "tools/lookup_order.yaml": """\
# yaml-language-server: $schema=../.convai-ops/schema/tool.schema.json
tool_config:
  type: webhook
  description: Looks up an order by its number.
  api_schema:
    url: "https://api.acme.example/orders/{order_id}"
    method: GET
    path_params_schema:
      order_id: {type: string, description: The order number.}
""",
    "agents/support/prompt.md": "You are Acme's support agent.\nBe brief.\n",
    "agents/support/knowledge/refunds.md": "Refunds within 30 days.\n",
    "agents/support/knowledge/shipping.md": "Shipping takes 3 days.\n",
    "agents/support/tests/refund.yaml": """\
chat_history:
  - role: user
    message: Can I get a refund?
    time_in_call_secs: 1
success_condition: The agent explains the 30 day refund policy.
success_examples: ["Yes, within 30 days."]
failure_examples: [{response: "No refunds, sorry."}]
repeat: 3
min_pass: 2
""",
    "agents/support/tests/lookup.yaml": """\
type: tool
name: looks up the order
chat_history:
  - {role: user, message: "Where is order 42?", time_in_call_secs: 1}
tool_call_parameters:
  referenced_tool: {name: lookup_order}
  parameters:
    - path: order_id
      eval: {type: exact, expected_value: "42"}
""",
    "agents/support/tests/journey.yaml": """\
type: simulation
simulation_scenario: A customer wants to return shoes.
success_conditions: [The agent starts a return.]
simulation_max_turns: 6
""",
    "agents/billing/agent.yaml": """\
name: Billing
conversation_config: {agent: {first_message: Hello}}
""",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``; returns ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
