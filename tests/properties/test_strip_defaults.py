"""strip_defaults (what import writes for a workflow or a tool file) loses nothing: filling the
API's defaults back gives what the GET answered; variant tags and map entries stay."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convai_ops.conversions import declared_subset
from convai_ops.dicts import json_equal
from convai_ops.spec import openapi
from convai_ops.spec.defaults import fill_defaults, strip_defaults
from tests.properties.test_fill_defaults import _partial

SCHEMAS = ("AgentWorkflowResponseModel", "WebhookToolConfig-Output", "SystemToolConfig-Output")


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(SCHEMAS))
    value = draw(_partial(openapi.component(name)))
    return name, fill_defaults(value, name) if draw(st.booleans()) else value


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_stripping_defaults_loses_nothing(case: tuple[str, Any]) -> None:
    name, value = case
    lean = strip_defaults(value, name)
    assert json_equal(fill_defaults(lean, name), fill_defaults(value, name))


def test_workflow_nodes_edges_and_their_types_are_kept() -> None:
    workflow = {
        "nodes": {"start_node": {"type": "start"}, "end_node": {"type": "end"}},
        "edges": {
            "e": {
                "source": "start_node",
                "target": "end_node",
                "forward_condition": {"type": "unconditional"},
            }
        },
    }
    filled = fill_defaults(workflow, "AgentWorkflowResponseModel")
    assert strip_defaults(filled, "AgentWorkflowResponseModel") == workflow


def test_a_plain_system_tool_keeps_its_params_tag() -> None:
    tool = {"name": "end_call", "description": "", "params": {"system_tool_type": "end_call"}}
    schema = openapi.component("SystemToolConfig-Input")
    assert declared_subset(tool, schema)["params"] == {"system_tool_type": "end_call"}
    assert (
        declared_subset(
            {"guardrails": {"version": "1"}}, openapi.component("AgentPlatformSettingsRequestModel")
        )
        == {}
    )
