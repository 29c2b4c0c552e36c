"""Shared values and helpers of the import / pull / drift tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

KEY = "state-test-key-0123456789"
TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "agent-templates"
TEMPLATE_NAMES = sorted(path.stem for path in TEMPLATES.glob("*.json"))

Cli = Callable[..., tuple[int, str, str]]


def template(name: str) -> dict[str, Any]:
    """One of the six real agent configurations (a create-agent body)."""
    body: dict[str, Any] = json.loads((TEMPLATES / f"{name}.json").read_text("utf-8"))
    return body


def allow_untested(project: Path) -> None:
    """``require_tests: false`` in ``project``'s convai-ops.yaml: apply merges its agents
    without tests (imported agents have none; these tests are not about the gate)."""
    config = project / "convai-ops.yaml"
    config.write_text(config.read_text("utf-8") + "require_tests: false\n", "utf-8")


def patch_agent(api: httpx.Client, agent_id: str, body: dict[str, Any]) -> None:
    """A dashboard edit: ``PATCH /v1/convai/agents/{id}`` on main."""
    api.patch(f"/v1/convai/agents/{agent_id}", json=body).raise_for_status()


def apply_examples(cli: Cli, api: httpx.Client, project: Path) -> dict[str, str]:
    """Copy the repository's example agents into ``project`` and apply them; ids by slug."""
    shutil.copytree(Path(__file__).resolve().parents[2] / "agents", project / "agents")
    shutil.copytree(Path(__file__).resolve().parents[2] / "tools", project / "tools")
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    agents = api.get("/v1/convai/agents").json()["agents"]
    return {t.split(":")[1]: a["agent_id"] for a in agents for t in a["tags"] if ":" in t}
