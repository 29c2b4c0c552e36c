"""fill_defaults: the API's response defaults, filled inside objects, list items, map values and
anyOf/oneOf members. Properties: filling is idempotent and never changes a value given."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convai_ops.dicts import json_equal
from convai_ops.spec import openapi
from convai_ops.spec.defaults import fill_defaults, schema_at, strip_item_defaults

SCHEMAS = (
    "AgentPlatformSettingsResponseModel",
    "ConversationalConfigAPIModel-Output",
    "PromptAgentAPIModel-Output",
    "WebhookToolConfig-Output",
)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4), st.floats(0, 1)
)


def _partial(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like ``schema`` but partial and sometimes of the wrong type."""
    resolved = openapi.resolve(schema)
    members = resolved.get("anyOf") or resolved.get("oneOf")
    if depth > 5:
        return _SCALARS
    if isinstance(members, list):
        return st.one_of(*[_partial(m, depth + 1) for m in members[:4]])
    props = resolved.get("properties")
    if isinstance(props, dict) and props:
        keys = sorted(props)[:25]
        parts = {k: _partial(props[k], depth + 1) for k in keys}
        return st.fixed_dictionaries({}, optional=parts)
    extra = resolved.get("additionalProperties")
    if isinstance(extra, dict):
        return st.dictionaries(st.sampled_from(["a", "b"]), _partial(extra, depth + 1), max_size=2)
    if isinstance(resolved.get("items"), dict):
        return st.lists(_partial(resolved["items"], depth + 1), max_size=2)
    return _SCALARS


def _contains(filled: Any, given_value: Any) -> bool:
    """Every key and item of ``given_value`` is in ``filled`` with the same value."""
    if isinstance(given_value, dict):
        return isinstance(filled, dict) and all(
            k in filled and _contains(filled[k], v) for k, v in given_value.items()
        )
    if isinstance(given_value, list):
        return (
            isinstance(filled, list)
            and len(filled) == len(given_value)
            and all(map(_contains, filled, given_value))
        )
    return type(filled) is type(given_value) and filled == given_value


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, Any, bool]:
    name = draw(st.sampled_from(SCHEMAS))
    return name, draw(_partial(openapi.component(name))), draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_filling_is_idempotent_and_keeps_what_was_given(case: tuple[str, Any, bool]) -> None:
    name, value, lists_only = case
    once = fill_defaults(value, name, lists_only=lists_only)
    assert fill_defaults(once, name, lists_only=lists_only) == once
    assert _contains(once, value)


LISTS = (
    ("AgentPlatformSettingsResponseModel", ("evaluation", "criteria")),
    ("AgentPlatformSettingsResponseModel", ("testing", "attached_tests")),
    ("PromptAgentAPIModel-Output", ("tools",)),
    ("PromptAgentAPIModel-Output", ("knowledge_base",)),
)


@st.composite
def _list_case(draw: st.DrawFn) -> tuple[dict[str, Any], list[Any]]:
    name, path = draw(st.sampled_from(LISTS))
    schema = schema_at(name, path)
    assert schema is not None
    items = draw(st.lists(_partial(schema["items"]), max_size=3))
    return schema, fill_defaults(items, schema) if draw(st.booleans()) else items


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_list_case())
def test_stripping_item_defaults_loses_nothing(case: tuple[dict[str, Any], list[Any]]) -> None:
    schema, items = case
    lean = strip_item_defaults(items, schema)
    assert json_equal(fill_defaults(lean, schema), fill_defaults(items, schema))
    assert len(lean) == len(items)


def test_stripping_keeps_what_was_changed_and_what_is_kept() -> None:
    schema = schema_at("AgentPlatformSettingsResponseModel", ("evaluation", "criteria"))
    assert schema is not None
    given_value = [{"id": "c", "name": "n", "conversation_goal_prompt": "g", "scope": "agent"}]
    live = fill_defaults([{**given_value[0], "llm": "gpt-4o"}], schema)
    assert strip_item_defaults(live, schema) == [{**given_value[0], "llm": "gpt-4o"}]
    kept = strip_item_defaults(live, schema, [{"max_score"}])
    assert kept == [{**given_value[0], "llm": "gpt-4o", "max_score": 100}]


def test_list_items_get_their_defaults() -> None:
    given_value = {
        "evaluation": {
            "criteria": [{"id": "c1", "name": "solved", "conversation_goal_prompt": "g"}]
        },
        "testing": {"attached_tests": [{"test_id": "t1"}]},
        "data_collection": {"x": {"type": "string", "description": "the x"}},
    }
    filled = fill_defaults(given_value, "AgentPlatformSettingsResponseModel")
    [criterion] = filled["evaluation"]["criteria"]
    assert criterion["type"] == "prompt"
    assert criterion["scope"] == "conversation"
    assert criterion["scoring_mode"] == "binary"
    assert criterion["max_score"] == 100
    assert criterion["llm"] is None  # nullable without a default reads null
    assert filled["testing"]["attached_tests"] == [{"test_id": "t1", "workflow_node_id": None}]
    assert filled["data_collection"]["x"]["dynamic_variable"] == ""
    assert filled["data_collection"]["x"]["description"] == "the x"
    assert filled["archived"] is False  # an object-level default
    assert given_value["testing"]["attached_tests"] == [{"test_id": "t1"}]  # input untouched


def test_lists_only_adds_no_object_keys_outside_lists() -> None:
    given_value = {"evaluation": {"criteria": [{"id": "c", "name": "n"}]}}
    filled = fill_defaults(given_value, "AgentPlatformSettingsResponseModel", lists_only=True)
    assert set(filled) == {"evaluation"} and set(filled["evaluation"]) == {"criteria"}
    assert filled["evaluation"]["criteria"][0]["max_score"] == 100


def test_tools_are_filled_by_their_discriminator() -> None:
    tools = [
        {"type": "client", "name": "ask", "description": "d"},
        {"type": "webhook", "name": "hook", "description": "d", "api_schema": {"url": "https://x"}},
    ]
    schema = schema_at("PromptAgentAPIModel-Output", ("tools",))
    assert schema is not None
    client_tool, webhook = fill_defaults(tools, schema)
    assert client_tool["expects_response"] is False  # ClientToolConfig-Output only
    assert "expects_response" not in webhook
    assert webhook["api_schema"]["method"] == "GET"
    assert webhook["response_timeout_secs"] == client_tool["response_timeout_secs"] == 20


def test_a_value_no_member_fits_is_kept_as_given() -> None:
    odd = {"evaluation": {"criteria": "not a list"}, "archived": "yes"}
    filled = fill_defaults(odd, "AgentPlatformSettingsResponseModel")
    assert filled["evaluation"]["criteria"] == "not a list"
    assert filled["archived"] == "yes"
