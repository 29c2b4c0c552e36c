"""A file named in agent.yaml (knowledge document, prompt) never comes from outside the agent's
folder: ``..``, absolute paths and symlinks leading out are refused with a ``SpecError``."""

from __future__ import annotations

from pathlib import Path

import pytest

from convai_ops.errors import SpecError
from convai_ops.spec import load_project

ESCAPES = [
    "../billing/agent.yaml",
    "knowledge/../../billing/agent.yaml",
    "..\\billing\\agent.yaml",
    "./../billing/agent.yaml",
    "OUTSIDE",  # replaced by the absolute path of a file outside the project
    "knowledge/link.md",  # a symlink to that file
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for slug in ("support", "billing"):
        (root / "agents" / slug / "knowledge").mkdir(parents=True)
        (root / "agents" / slug / "agent.yaml").write_text(f"name: {slug}\n")
    (root / "agents" / "support" / "prompt.md").write_text("You help.\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the knowledge base\n")
    (root / "agents" / "support" / "knowledge" / "link.md").symlink_to(outside)
    return root


def _agent_yaml(project: Path, body: str) -> None:
    (project / "agents" / "support" / "agent.yaml").write_text(f"name: Acme\n{body}")


def _escape(project: Path, value: str) -> str:
    return str(project.parent / "outside.txt") if value == "OUTSIDE" else value


def _refused(project: Path, field: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_project(project)
    error = caught.value
    assert error.path == project / "agents" / "support" / "agent.yaml"
    assert error.field == field
    assert "agent folder" in error.reason
    return error


@pytest.mark.parametrize("value", ESCAPES)
def test_knowledge_file_outside_the_agent_folder_is_refused(project: Path, value: str) -> None:
    (project / "agents" / "support" / "knowledge" / "link.md").unlink()
    (project / "agents" / "support" / "knowledge" / "link.md").symlink_to(
        project.parent / "outside.txt"
    )
    _agent_yaml(project, f"knowledge_base:\n  - file: '{_escape(project, value)}'\n")

    _refused(project, "knowledge_base[0].file")


@pytest.mark.parametrize("value", ESCAPES)
def test_prompt_file_outside_the_agent_folder_is_refused(project: Path, value: str) -> None:
    _agent_yaml(project, f"prompt_file: '{_escape(project, value)}'\n")

    _refused(project, "prompt_file")


def test_a_file_inside_the_folder_is_accepted(project: Path) -> None:
    (project / "agents" / "support" / "knowledge" / "link.md").unlink()
    (project / "agents" / "support" / "knowledge" / "refunds.md").write_text("30 days.\n")
    _agent_yaml(
        project, "prompt_file: prompt.md\nknowledge_base:\n  - file: knowledge/refunds.md\n"
    )

    agent = load_project(project).agent("support")

    assert [k.name for k in agent.knowledge] == ["refunds.md"]


def test_symlink_in_the_knowledge_folder_leading_outside_is_refused(project: Path) -> None:
    # link.md (made by the fixture) points at a file outside the project; nothing names it.
    _refused(project, "knowledge_base")
