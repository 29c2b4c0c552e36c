"""The one identity rule (``state.resolve_agent_id``) on listed agents, no API needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from convai_ops.errors import AmbiguousAgentError
from convai_ops.spec import AgentSpec, load_project
from convai_ops.state import LiveAgents, resolve_agent_id
from tests.helpers import copy_example


def _live(*agents: tuple[str, str]) -> LiveAgents:
    return LiveAgents.of({"agent_id": i, "name": i, "tags": [f"convai-ops:{s}"]} for i, s in agents)


def _support(tmp_path: Path, previous: tuple[str, ...] = ()) -> AgentSpec:
    spec = load_project(copy_example(tmp_path / "repo")).agent("support")
    return spec.model_copy(update={"previous_slugs": previous})


def test_the_own_tag_wins_over_a_previous_slug(tmp_path: Path) -> None:
    spec = _support(tmp_path, ("helpdesk",))
    assert resolve_agent_id(spec, "staging", _live(("a1", "helpdesk"), ("a2", "support"))) == "a2"
    assert resolve_agent_id(spec, "staging", _live(("a1", "helpdesk"))) == "a1"
    assert resolve_agent_id(spec, "staging", _live(("a1", "other"))) is None


def test_a_previous_slug_whose_folder_exists_belongs_to_that_folder(tmp_path: Path) -> None:
    spec = _support(tmp_path, ("assistant",))  # agents/assistant exists in the example
    assert resolve_agent_id(spec, "staging", _live(("a1", "assistant"))) is None


def test_a_pinned_id_needs_no_list_and_settles_an_ambiguity(tmp_path: Path) -> None:
    spec = _support(tmp_path).model_copy(update={"environments": {"staging": "pinned"}})
    assert resolve_agent_id(spec, "staging", None) == "pinned"
    assert resolve_agent_id(spec, "staging", _live(("a1", "support"), ("a2", "support"))) == (
        "pinned"
    )


def test_two_agents_with_the_tag_looked_at_are_refused_naming_every_id(tmp_path: Path) -> None:
    spec = _support(tmp_path, ("helpdesk",))
    live = _live(("a1", "helpdesk"), ("a2", "helpdesk"), ("a3", "helpdesk"))
    with pytest.raises(AmbiguousAgentError) as caught:
        resolve_agent_id(spec, "staging", live)
    message = str(caught.value)
    assert "a1, a2 and a3" in message and "convai-ops:helpdesk" in message
    assert "staging: a1" in message and "remove the tag convai-ops:helpdesk" in message
