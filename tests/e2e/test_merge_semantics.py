"""Apply under the real API's merge semantics, end to end over loopback: no 409 on merge
(timestamps settle conflicts), identical merges refused or committing nothing, protected main
answering 403, and main's new version proven to descend from what the tests ran against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.apply import ApplyOptions, ApplyResult, apply_plan
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.plan import FieldChange, Plan, build_plan
from convai_ops.settings import Settings
from convai_ops.spec import load_project
from tests.e2e.conftest import KEY, agent_ids, main_config

AGENTS = "/v1/convai/agents"


def _branches(server: Any, agent_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.url}{AGENTS}/{agent_id}/branches",
        params={"include_archived": True},
        headers={"xi-api-key": KEY},
    )
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _settings(server: Any, project: Path) -> Settings:
    return Settings.resolve(
        project,
        load_project(project).config,
        base_url=server.url,
        environ={"ELEVENLABS_API_KEY": KEY},
        poll_initial=0.05,
    )


def _apply(
    server: Any,
    project: Path,
    *,
    transport: httpx.BaseTransport | None = None,
    force_update: str | None = None,
) -> tuple[ApplyResult, list[str]]:
    """Plan and apply at library level; ``force_update`` marks that agent's (empty) plan as an
    update, as a plan the API normalises away would; returns the result and the reports."""
    loaded, settings = load_project(project), _settings(server, project)
    lines: list[str] = []
    with ConvaiClient(settings.base_url, KEY, transport=transport) as client:
        planned, snapshot = build_plan(client, loaded, settings)
        if force_update:
            planned = _as_update(planned, force_update)
        options = ApplyOptions.from_settings(settings)
        result = apply_plan(
            client, loaded, planned, snapshot.index, options, lambda s, m: lines.append(f"{s}: {m}")
        )
    return result, lines


def _as_update(plan: Plan, slug: str) -> Plan:
    """``plan`` with ``slug`` marked as a gated update whose one change the API holds already
    (a plan normalised away): its branch equals main."""
    same = FieldChange(
        path=("conversation_config", "agent", "language"), kind="change", before="en", after="en"
    )
    update = {"action": "update", "changes": (same,)}
    agents = tuple(a.model_copy(update=update) if a.slug == slug else a for a in plan.agents)
    return plan.model_copy(update={"agents": agents})


def _outcome(result: ApplyResult, slug: str) -> Any:
    return next(o for o in result.outcomes if o.slug == slug)


class TestProtectedMain:
    @pytest.fixture
    def server(self) -> Iterator[Any]:
        with run_in_thread(EmulatorConfig(test_delay_s=0.05, protect_main=True)) as handle:
            yield handle

    def test_apply_into_a_protected_main_fails_in_one_line_and_keeps_the_branch(
        self, cli: Any, server: Any
    ) -> None:
        code, out, err = cli("apply", "--auto-approve")
        assert code == 1, out + err
        ids = agent_ids(server)
        for slug, agent_id in ids.items():
            lines = [line for line in (out + err).splitlines() if "403" in line and slug in line]
            assert lines, out + err
            line = lines[-1]
            assert agent_id in line and "admin permission" in line and "dashboard" in line
            kept = [b for b in _branches(server, agent_id) if b["name"].startswith("convai-ops-")]
            assert len(kept) == 1 and not kept[0]["is_archived"]
            assert kept[0]["name"] in line and kept[0]["id"] in line
            main = main_config(server, agent_id)
            assert main["conversation_config"]["agent"]["prompt"]["prompt"] == ""
        assert "Traceback" not in out + err
        creates = [e for e in server.emulator.request_log if e.path.endswith("/agents/create")]
        assert creates and all("enable_versioning" not in e.query for e in creates)


@pytest.mark.parametrize("identical_merge", ["refuse", "commit-nothing"])
class TestBranchEqualToMain:
    @pytest.fixture
    def server(self, identical_merge: Any) -> Iterator[Any]:
        config = EmulatorConfig(test_delay_s=0.05, identical_merge=identical_merge)
        with run_in_thread(config) as handle:
            yield handle

    def test_apply_of_a_branch_equal_to_main_ends_cleanly(
        self, cli: Any, server: Any, project: Path
    ) -> None:
        assert cli("apply", "--auto-approve")[0] == 0
        agent_id = agent_ids(server)["support"]
        before = main_config(server, agent_id)["version_id"]
        result, lines = _apply(server, project, force_update="support")
        outcome = _outcome(result, "support")
        assert outcome.status == "merged", outcome.message
        assert result.exit_code == 0
        assert main_config(server, agent_id)["version_id"] == before
        staged = next(b for b in _branches(server, agent_id) if b["id"] == outcome.branch_id)
        assert staged["is_archived"] is True
        assert cli("plan", "--detailed-exitcode")[0] == 0
        refused = server.emulator.config.identical_merge == "refuse"
        merges = [e for e in server.emulator.request_log if e.path.endswith("/merge")]
        assert merges[-1].status == (422 if refused else 200)
        assert any("equals main: nothing to merge" in line for line in lines) == refused


class _Interposer(httpx.BaseTransport):
    """A real loopback transport that writes ``change`` to main once, just before (or just
    after) forwarding the first merge request: another change landing at that moment."""

    def __init__(self, url: str, change: dict[str, Any], *, after: bool) -> None:
        self.inner = httpx.HTTPTransport()
        self.url, self.change, self.after, self.done = url, change, after, False
        self.landed: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        interpose = request.method == "POST" and request.url.path.endswith("/merge")
        if interpose and not self.done and not self.after:
            self._land(request)
        response = self.inner.handle_request(request)
        if interpose and not self.done and self.after:
            response.read()
            self._land(request)
        return response

    def close(self) -> None:
        self.inner.close()

    def _land(self, request: httpx.Request) -> None:
        self.done = True
        agent_id = request.url.path.split("/")[4]
        answer = httpx.patch(
            f"{self.url}{AGENTS}/{agent_id}", json=self.change, headers={"xi-api-key": KEY}
        )
        self.landed = str(answer.json()["version_id"])


UNDECLARED = {"conversation_config": {"tts": {"speed": 1.1}}}


def _change_support_prompt(project: Path) -> None:
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text() + "\nWe also ship to Canada.\n")


def test_a_change_landing_just_before_the_merge_is_reported(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    tested_main = main_config(server, agent_id)["version_id"]
    _change_support_prompt(project)
    interposer = _Interposer(server.url, UNDECLARED, after=False)
    result, _ = _apply(server, project, transport=interposer)
    outcome = _outcome(result, "support")
    assert (outcome.status, result.exit_code) == ("error", 1)
    assert "another change reached main" in outcome.message
    assert str(interposer.landed) in outcome.message
    merged = main_config(server, agent_id)["version_id"]
    assert merged in outcome.message and merged not in (tested_main, interposer.landed)


def test_a_change_landing_just_after_the_merge_is_walked_past(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    _change_support_prompt(project)
    interposer = _Interposer(server.url, UNDECLARED, after=True)
    result, lines = _apply(server, project, transport=interposer)
    outcome = _outcome(result, "support")
    assert outcome.status == "merged", outcome.message
    assert main_config(server, agent_id)["version_id"] == interposer.landed
    assert any(
        "moved on after the merge" in line and str(interposer.landed) in line for line in lines
    )
    assert (
        "Canada"
        in main_config(server, agent_id)["conversation_config"]["agent"]["prompt"]["prompt"]
    )


def test_merge_conflict_is_settled_not_refused(cli: Any, server: Any, project: Path) -> None:
    # main changes the prompt after the branch was made: the API settles it by timestamp
    # (main's later value wins) instead of a 409, and apply reports the untested result
    assert cli("apply", "--auto-approve")[0] == 0
    agent_id = agent_ids(server)["support"]
    _change_support_prompt(project)
    theirs = {"conversation_config": {"agent": {"prompt": {"prompt": "Someone else's prompt."}}}}
    result, _ = _apply(server, project, transport=_Interposer(server.url, theirs, after=False))
    outcome = _outcome(result, "support")
    assert outcome.status == "error" and "another change reached main" in outcome.message
    merges = [e for e in server.emulator.request_log if e.path.endswith("/merge")]
    assert merges[-1].status == 200
    prompt = main_config(server, agent_id)["conversation_config"]["agent"]["prompt"]["prompt"]
    assert prompt == "Someone else's prompt."
