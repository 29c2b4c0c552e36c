"""Gated apply in depth, end to end over loopback: knowledge sync, saved plans, concurrency,
cleanup of kept branches."""

from __future__ import annotations

import itertools
import json
import re
import threading
from pathlib import Path
from typing import Any

import httpx

from convai_ops.api import ConvaiClient
from convai_ops.apply import ApplyOptions, apply_branch_name, apply_plan
from convai_ops.plan import build_plan
from convai_ops.settings import Settings
from convai_ops.spec import load_project
from tests.e2e.conftest import KEY, agent_ids, main_config


def _posts(server: Any, suffix: str) -> list[Any]:
    return [
        e for e in server.emulator.request_log if e.method == "POST" and e.path.endswith(suffix)
    ]


def _documents(server: Any) -> dict[str, str]:
    response = httpx.get(f"{server.url}/v1/convai/knowledge-base", headers={"xi-api-key": KEY})
    return {d["name"]: d["id"] for d in response.json()["documents"]}


def test_knowledge_change_uploads_new_document_and_keeps_old(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    old_docs = _documents(server)
    [old_name] = [n for n in old_docs if n.startswith("assistant/parking.md #")]
    parking = project / "agents/assistant/knowledge/parking.md"
    parking.write_text(parking.read_text().replace("P2 garage with", "P2 garage (level 3) with"))
    code, out, _ = cli("plan", "--detailed-exitcode")
    assert code == 2 and f"{old_name}" in out
    uploads_before = len(_posts(server, "/knowledge-base/text"))
    code, out, err = cli("apply", "--auto-approve")
    assert code == 0, out + err
    assert len(_posts(server, "/knowledge-base/text")) == uploads_before + 1
    docs = _documents(server)
    assert docs[old_name] == old_docs[old_name]  # the old document is untouched
    locators = main_config(server, agent_ids(server)["assistant"])["conversation_config"]["agent"][
        "prompt"
    ]["knowledge_base"]
    assert [loc["name"] for loc in locators] != [old_name]
    assert all(loc["name"] in docs for loc in locators)
    uploads = len(_posts(server, "/knowledge-base/text"))
    assert cli("apply", "--auto-approve")[0] == 0
    assert len(_posts(server, "/knowledge-base/text")) == uploads  # nothing re-uploaded


def test_saved_plan_applies_when_fresh(cli: Any, server: Any, project: Path) -> None:
    plan_file = project / "plan.json"
    code, out, _ = cli("plan", "--out", str(plan_file))
    assert code == 0 and plan_file.is_file()
    assert json.loads(plan_file.read_text())["format_version"] == 2
    code, out, err = cli("apply", str(plan_file))
    assert code == 0, out + err
    assert set(agent_ids(server)) == {"assistant", "support"}


def test_stale_saved_plan_is_refused_naming_agent_and_field(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text().replace("2 business days", "1 business day"))
    plan_file = project / "plan.json"
    assert cli("plan", "--out", str(plan_file))[0] == 0
    agent_id = agent_ids(server)["support"]
    edit = {"conversation_config": {"agent": {"first_message": "Edited in the dashboard."}}}
    httpx.patch(
        f"{server.url}/v1/convai/agents/{agent_id}", json=edit, headers={"xi-api-key": KEY}
    ).raise_for_status()
    before = main_config(server, agent_id)
    code, _, err = cli("apply", str(plan_file))
    assert code == 1
    assert "support: main moved" in err
    assert "conversation_config.agent.first_message" in err
    assert main_config(server, agent_id) == before


def test_saved_plan_refused_when_repository_changed(cli: Any, project: Path) -> None:
    plan_file = project / "plan.json"
    assert cli("plan", "--out", str(plan_file))[0] == 0
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text() + "Always thank the caller.\n")
    code, _, err = cli("apply", str(plan_file))
    assert code == 1
    assert "agents/support changed in the repository since the plan" in err


class _Interleave:
    """Orders two concurrent applies, ``a`` and ``b``, through their reporters: both plan
    against the same main, ``b`` creates its branch before ``a`` can merge, and ``b`` goes on
    (polls its tests, checks main before merging) only once ``a`` has finished."""

    def __init__(self) -> None:
        self.planned = threading.Barrier(2, timeout=30)
        self.b_branched = threading.Event()
        self.a_done = threading.Event()

    def reporter(self, key: str) -> Any:
        def report(slug: str, message: str) -> None:
            if not message.startswith("created branch"):
                return
            if key == "a":
                self.b_branched.wait(30)
            else:
                self.b_branched.set()
                self.a_done.wait(30)

        return report


def _apply_in_thread(
    server: Any, project: Path, results: dict[str, Any], key: str, order: _Interleave
) -> None:
    loaded = load_project(project)
    settings = Settings.resolve(
        project,
        loaded.config,
        base_url=server.url,
        environ={"ELEVENLABS_API_KEY": KEY},
        poll_initial=0.05,
    )
    try:
        with ConvaiClient(settings.base_url, KEY) as client:
            planned, snapshot = build_plan(client, loaded, settings)
            order.planned.wait()
            options = ApplyOptions.from_settings(settings)
            report = order.reporter(key)
            results[key] = apply_plan(client, loaded, planned, snapshot.index, options, report)
    finally:
        if key == "a":
            order.a_done.set()


def test_two_concurrent_applies_exactly_one_merges(
    cli: Any, server: Any, project: Path, tmp_path: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    prompt = project / "agents/assistant/prompt.md"
    prompt.write_text(prompt.read_text().replace("one or two sentences", "two sentences at most"))
    results: dict[str, Any] = {}
    # Both plan against the same main version and both branch from it; b's tests finish
    # after a has merged, so b must find main moved and refuse to merge.
    order = _Interleave()
    threads = [
        threading.Thread(target=_apply_in_thread, args=(server, project, results, k, order))
        for k in ("a", "b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first = next(o for o in results["a"].outcomes if o.slug == "assistant")
    second = next(o for o in results["b"].outcomes if o.slug == "assistant")
    assert (first.status, second.status) == ("merged", "error"), (first.message, second.message)
    moved_to = main_config(server, first.agent_id)["version_id"]
    assert "main moved from version" in second.message and moved_to in second.message
    merges = [e for e in server.emulator.request_log if e.path.endswith("/merge")]
    assert len(merges) == 3  # two from the initial apply, one from the concurrent pair
    assert len(_posts(server, "/branches")) == 4  # b did branch from the old main, as a did


def _branches(server: Any, agent_id: str) -> dict[str, dict[str, Any]]:
    """Branch name -> the branch (``id``, ``is_archived``, ...), for one agent."""
    response = httpx.get(
        f"{server.url}/v1/convai/agents/{agent_id}/branches",
        params={"include_archived": True},
        headers={"xi-api-key": KEY},
    )
    return {b["name"]: b for b in response.json()["results"]}


def test_failed_branch_is_kept_then_cleanup_archives_it(
    cli: Any, server: Any, project: Path
) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    prompt = project / "agents/support/prompt.md"
    prompt.write_text(prompt.read_text().replace("within 30 days", "within 14 days"))
    code, out, _ = cli("apply", "--auto-approve")
    assert code == 3
    agent_id = agent_ids(server)["support"]
    kept = [
        name
        for name, branch in _branches(server, agent_id).items()
        if not branch["is_archived"] and name.startswith("convai-ops-")
    ]
    assert len(kept) == 1 and _branches(server, agent_id)[kept[0]]["id"] in out
    # a check's branch (named as check names one after a git branch) is not apply's leftover
    assert cli("check", "--branch-name", "convai-ops-fix-refunds")[0] == 3
    code, out, _ = cli("apply", "--auto-approve", "--target", "support", "--cleanup")
    assert code == 3
    assert f"archived branch {kept[0]}" in out
    branches = _branches(server, agent_id)
    assert branches[kept[0]]["is_archived"] is True
    assert branches["convai-ops-fix-refunds"]["is_archived"] is False
    assert "archived branch convai-ops-fix-refunds" not in out


def test_apply_branch_names_do_not_collide_within_a_millisecond() -> None:
    # 200 names take well under a millisecond each, so most share one; 32 random bits make a
    # chance collision among them less likely than one in 200,000
    names = {apply_branch_name() for _ in range(200)}
    assert len(names) == 200
    assert len({name.rsplit("-", 1)[0] for name in names}) < 200  # milliseconds were shared
    assert all(re.fullmatch(r"convai-ops-\d{13}-[0-9a-f]{8}", name) for name in names)


def test_gates_waiting_for_tests_do_not_hold_the_request_slots(cli: Any, server: Any) -> None:
    # One request in flight at a time, two agents to create: the second agent's tests must
    # start while the first agent's tests are still running, not after its merge.
    code, out, err = cli("apply", "--auto-approve", "--concurrency", "1")
    assert code == 0, out + err
    log = list(server.emulator.request_log)
    runs = [i for i, e in enumerate(log) if e.method == "POST" and e.path.endswith("/run-tests")]
    merges = [i for i, e in enumerate(log) if e.method == "POST" and e.path.endswith("/merge")]
    assert len(runs) == 2 and len(merges) == 2
    assert runs[1] < merges[0]
    spans = sorted((e.timestamp, e.timestamp + e.duration_ms / 1000) for e in log)
    overlapping = [a for a, b in itertools.pairwise(spans) if b[0] < a[1] - 0.001]
    assert overlapping == []  # still at most one request in flight
