"""A tool's defaults-filled config is worked out once per distinct config: each caller still
gets its own copy, and configs that differ only in a value's type are not confused."""

from __future__ import annotations

from convai_ops.workspace_tools import comparable

TOOL = {"type": "client", "name": "lookup", "description": "Look an order up."}


def test_each_call_gets_its_own_copy() -> None:
    first = comparable(TOOL)
    first["name"] = "changed by a caller"
    first.clear()
    again = comparable(TOOL)
    assert again["name"] == "lookup"
    assert set(TOOL) < set(again)  # the defaults were filled in
    assert TOOL == {"type": "client", "name": "lookup", "description": "Look an order up."}


def test_values_of_other_types_are_other_configs() -> None:
    flagged = comparable({**TOOL, "expects_response": True})
    numbered = comparable({**TOOL, "expects_response": 1})
    assert flagged["expects_response"] is True
    assert type(numbered["expects_response"]) is int


def test_a_config_that_is_not_plain_json_is_still_filled() -> None:
    class Config(dict[str, object]):
        pass

    assert comparable(Config(TOOL)) == comparable(TOOL)
