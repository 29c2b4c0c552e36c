"""Property: the plan of an agent is empty exactly when its normalised desired state is contained
in the remote one.

"Normalised desired state" is ``desired_view`` (declared fields only; tags as a set with the
managed tag). "Contained": every declared mapping key exists remotely, recursively, and every
declared leaf equals the remote value as JSON does (numbers by value, so ``1 == 1.0``; booleans
are not numbers; a list is one leaf, compared in order). Remote states are generated from the
desired one by random edits: extra keys (still contained), changed, removed or retyped values
(usually not), and numbers turned into floats of equal value (still contained).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convai_ops.plan import desired_view, make_agent_plan
from convai_ops.spec import AgentSpec
from convai_ops.state import RemoteAgent, RemoteIndex, managed_tag

KEYS = st.sampled_from(["agent", "tts", "prompt", "llm", "language", "a", "b", "c"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS | st.lists(SCALARS, max_size=3),
    lambda children: st.dictionaries(KEYS, children, max_size=3),
    max_leaves=8,
)
CONFIGS = st.dictionaries(KEYS, VALUES, max_size=3)
TAGS = st.none() | st.lists(st.sampled_from(["acme", "support", "tier-1"]), unique=True)
BUDGET = settings(max_examples=400, deadline=None)


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON values: numbers by value, bool apart from numbers, lists in order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def contained(desired: Any, remote: Any) -> bool:
    """Every declared key exists remotely (recursively) and every declared leaf is equal."""
    if isinstance(desired, Mapping):
        return isinstance(remote, Mapping) and all(
            key in remote and contained(value, remote[key]) for key, value in desired.items()
        )
    return json_equal(desired, remote)


def normalised_remote(config: Mapping[str, Any]) -> dict[str, Any]:
    """The remote side in the terms of ``desired_view``: tags as a sorted set."""
    return {**config, "tags": sorted(set(config["tags"]))}


@st.composite
def edited(draw: st.DrawFn, value: Any) -> Any:
    """``value`` after a few random edits (see the module docstring)."""
    if isinstance(value, Mapping):
        out = {k: draw(edited(v)) if draw(st.booleans()) else v for k, v in value.items()}
        for key in draw(st.lists(KEYS, max_size=2)):
            if draw(st.booleans()):
                out.pop(key, None)
            elif key not in out:
                out[key] = draw(VALUES)  # an undeclared server field
        return out
    edit = draw(st.sampled_from(["keep", "float", "replace"]))
    if edit == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return draw(VALUES) if edit == "replace" else value


@st.composite
def agents(draw: st.DrawFn) -> tuple[AgentSpec, dict[str, Any]]:
    """A declared agent and a remote ``GET /v1/convai/agents/{id}`` body derived from it."""
    tags = draw(TAGS)
    spec = AgentSpec(
        slug="support",
        dir=Path("agents/support"),
        name=draw(st.sampled_from(["Acme", "Acme Support"])),
        tags=None if tags is None else tuple(tags),
        conversation_config=draw(CONFIGS),
        platform_settings=draw(CONFIGS),
    )
    managed = {
        "name": spec.name,
        "conversation_config": spec.conversation_config,
        "platform_settings": spec.platform_settings,
    }
    remote = {"agent_id": "agent_1", "version_id": "agtvrsn_1", **draw(edited(managed))}
    # The API answers tags as a list of strings: edited as a set (one more, one fewer).
    remote_tags = {*(tags or []), managed_tag("support")}
    if draw(st.booleans()):
        remote_tags ^= {draw(st.sampled_from(["acme", "support", "vip", managed_tag("support")]))}
    remote["tags"] = draw(st.permutations(sorted(remote_tags)))
    return spec, remote


@BUDGET
@given(agents())
def test_plan_is_empty_exactly_when_desired_is_contained_in_remote(
    agent: tuple[AgentSpec, dict[str, Any]],
) -> None:
    spec, remote = agent

    planned = make_agent_plan(spec, RemoteAgent("agent_1", remote), RemoteIndex(), "staging")
    expected = contained(desired_view(spec, "staging"), normalised_remote(remote))

    assert (planned.action == "no-op") == expected, planned.changes
    assert (planned.changes == ()) == expected


@BUDGET
@given(agents())
def test_the_unedited_remote_always_plans_empty(agent: tuple[AgentSpec, dict[str, Any]]) -> None:
    spec, _ = agent
    remote = {
        "name": spec.name,
        "tags": sorted({*(spec.tags or ()), managed_tag("support")}),
        "conversation_config": spec.conversation_config,
        "platform_settings": spec.platform_settings,
    }

    planned = make_agent_plan(spec, RemoteAgent("agent_1", remote), RemoteIndex(), "staging")

    assert planned.action == "no-op", planned.changes
