"""An agent with no tests is not merged: its gate would pass vacuously. plan says so in every
format; apply stages the branch, keeps it, leaves main unchanged and exits 3; ``require_tests:
false`` (convai-ops.yaml or one agent.yaml) opts out and the merge is reported ``UNTESTED``.
End to end against the emulator on loopback."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, run_in_thread
from tests.example_fixtures import FAST, MODES
from tests.helpers import Runner, cli_runner

from .conftest import KEY

SUPPORT = "agents/support"
BLOCKED = "no tests: will not merge"


def _live(server: Any, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}{path}", headers={"xi-api-key": KEY}, params=params)
    answer.raise_for_status()
    return answer.json()


def _support_id(server: Any) -> str:
    agents = _live(server, "/v1/convai/agents")["agents"]
    [agent_id] = [a["agent_id"] for a in agents if "convai-ops:support" in a["tags"]]
    return str(agent_id)


def _without_tests(project: Path, opt_out: bool) -> None:
    shutil.rmtree(project / SUPPORT / "tests")
    if opt_out:
        agent_yaml = project / SUPPORT / "agent.yaml"
        agent_yaml.write_text(agent_yaml.read_text() + "require_tests: false\n")


def _edit_prompt(project: Path) -> None:
    prompt = project / SUPPORT / "prompt.md"
    prompt.write_text(prompt.read_text().replace("within 30 days", "within 45 days"))


def _opt_out_removed(project: Path) -> None:
    agent_yaml = project / SUPPORT / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("require_tests: false\n", ""))


def test_plan_says_no_tests_will_not_merge_in_every_format(cli: Runner, project: Path) -> None:
    _without_tests(project, opt_out=False)
    code, text, _ = cli("plan", "--target", "support")
    assert code == 0
    assert f"! {BLOCKED} (add tests under agents/support/tests/, or set require_tests: false)" in (
        text
    )
    assert "1 agent(s) without tests will not merge." in text
    _, markdown, _ = cli("plan", "--target", "support", "--format", "markdown")
    assert f"**{BLOCKED}**" in markdown
    _, raw, _ = cli("plan", "--format", "json")
    agents = {a["slug"]: a for a in json.loads(raw)["agents"]}
    assert agents["support"]["merge_blocked"] == BLOCKED
    assert agents["assistant"]["merge_blocked"] is None  # it has tests
    assert json.loads(raw)["summary"]["blocked_without_tests"] == 1


def test_apply_of_an_agent_without_tests_keeps_main_and_the_branch(
    cli: Runner, server: Any, project: Path
) -> None:
    _without_tests(project, opt_out=True)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agent_id = _support_id(server)
    before = _live(server, f"/v1/convai/agents/{agent_id}")
    _opt_out_removed(project)
    _edit_prompt(project)

    code, out, err = cli("apply", "--auto-approve", "--target", "support")

    assert code == 3, out + err
    assert "x support: no tests: NOT merged, main unchanged; branch " in out
    assert "set require_tests: false (agent.yaml or convai-ops.yaml) to merge it UNTESTED" in out
    assert "Apply: 0 merged, 1 blocked: no tests." in out
    after = _live(server, f"/v1/convai/agents/{agent_id}")
    assert after["version_id"] == before["version_id"]
    assert "within 30 days" in after["conversation_config"]["agent"]["prompt"]["prompt"]
    branches = _live(server, f"/v1/convai/agents/{agent_id}/branches", include_archived=True)
    named = re.search(r"NOT merged, main unchanged; branch (\S+) kept", out)
    assert named is not None
    [kept] = [b for b in branches["results"] if b["id"] == named.group(1)]
    assert not kept.get("is_archived")  # staged, kept for inspection, named in the outcome
    assert not [e for e in server.emulator.request_log if e.path.endswith("/merge")][1:]


def test_require_tests_false_in_agent_yaml_merges_untested(
    cli: Runner, server: Any, project: Path
) -> None:
    _without_tests(project, opt_out=True)
    code, plan, _ = cli("plan", "--target", "support")
    assert code == 0 and BLOCKED not in plan
    code, out, err = cli("apply", "--auto-approve", "--target", "support")
    assert code == 0, out + err
    assert "support: merged into main (UNTESTED: no tests)" in out
    assert cli("plan", "--detailed-exitcode", "--target", "support")[0] == 0


def test_require_tests_false_in_the_project_file_opts_every_agent_out(
    cli: Runner, server: Any, project: Path
) -> None:
    _without_tests(project, opt_out=False)
    config = project / "convai-ops.yaml"
    config.write_text(config.read_text() + "require_tests: false\n")
    code, out, err = cli("apply", "--auto-approve", "--target", "support")
    assert code == 0, out + err
    assert "UNTESTED: no tests" in out
    live = _live(server, f"/v1/convai/agents/{_support_id(server)}")
    assert "within 30 days" in live["conversation_config"]["agent"]["prompt"]["prompt"]


def test_an_agent_yaml_true_overrides_the_project_opt_out(cli: Runner, project: Path) -> None:
    _without_tests(project, opt_out=False)
    (project / "convai-ops.yaml").write_text(
        (project / "convai-ops.yaml").read_text() + "require_tests: false\n"
    )
    agent_yaml = project / SUPPORT / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text() + "require_tests: true\n")
    _, out, _ = cli("plan", "--target", "support")
    assert BLOCKED in out


def test_metadata_only_direct_write_is_not_blocked(cli: Runner, server: Any, project: Path) -> None:
    _without_tests(project, opt_out=True)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    _opt_out_removed(project)
    agent_yaml = project / SUPPORT / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text().replace("tags: [support, acme]", "tags: [acme]"))
    code, plan, _ = cli("plan", "--target", "support")
    assert "metadata only" in plan and BLOCKED not in plan
    code, out, err = cli("apply", "--auto-approve", "--target", "support")
    assert code == 0, out + err
    assert _live(server, f"/v1/convai/agents/{_support_id(server)}")["tags"] == [
        "acme",
        "convai-ops:support",
    ]


def test_require_tests_is_in_the_schema_and_checked(cli: Runner, project: Path) -> None:
    for kind in ("project", "agent"):
        code, out, _ = cli("schema", "--kind", kind)
        assert code == 0
        assert json.loads(out)["properties"]["require_tests"]["description"]
    agent_yaml = project / SUPPORT / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text() + "require_tests: sometimes\n")
    code, _, err = cli("validate")
    assert code == 1
    assert "agents/support/agent.yaml:" in err and "require_tests" in err


@pytest.fixture(params=sorted(MODES))
def mode_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    with run_in_thread(EmulatorConfig(**FAST, **MODES[request.param])) as handle:
        yield handle


def test_blocked_apply_writes_nothing_on_main_under_every_api_reading(
    mode_server: Any,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Agent-wide settings are written on main only after a merge: none when blocked."""
    cli = cli_runner(project, mode_server.url, KEY, monkeypatch, capsys)
    _without_tests(project, opt_out=True)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    agent_id = _support_id(mode_server)
    before = _live(mode_server, f"/v1/convai/agents/{agent_id}")
    _opt_out_removed(project)
    _edit_prompt(project)
    agent_yaml = project / SUPPORT / "agent.yaml"
    limit = "agent_concurrency_limit: -1"
    assert limit in agent_yaml.read_text()
    agent_yaml.write_text(agent_yaml.read_text().replace(limit, "agent_concurrency_limit: 5"))

    code, out, err = cli("apply", "--auto-approve", "--target", "support")

    assert code == 3, out + err
    after = _live(mode_server, f"/v1/convai/agents/{agent_id}")
    before.pop("metadata"), after.pop("metadata")  # updated_at moves with any branch commit
    assert json.dumps(after, sort_keys=True) == json.dumps(before, sort_keys=True)
    assert after["platform_settings"]["call_limits"]["agent_concurrency_limit"] == -1


def test_the_pull_request_check_fails_an_agent_apply_would_not_merge(
    cli: Runner, server: Any, project: Path
) -> None:
    """The check says what apply will do: no tests and no opt-out is a refused merge (exit 3),
    and no branch is staged for it; with the opt-out it passes as before."""
    _without_tests(project, opt_out=True)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    _opt_out_removed(project)
    _edit_prompt(project)
    markdown = project / "check.md"

    code, out, err = cli("check", "--branch-name", "pr-7", "--markdown", str(markdown))

    assert code == 3, out + err
    assert "x support: no tests: will not merge (add tests under agents/support/tests/" in out
    assert "❌ no tests: will not merge" in markdown.read_text()
    agent_id = _support_id(server)
    branches = _live(server, f"/v1/convai/agents/{agent_id}/branches")["results"]
    assert [b["name"] for b in branches] == ["Main"]
    agent_yaml = project / SUPPORT / "agent.yaml"
    agent_yaml.write_text(agent_yaml.read_text() + "require_tests: false\n")
    code, out, err = cli("check", "--branch-name", "pr-7")
    assert code == 0, out + err
    assert "no tests declared" in out


def test_skip_tests_merges_an_agent_without_tests(cli: Runner, server: Any, project: Path) -> None:
    """Break-glass is the one way past the gate without the opt-out: the merge is recorded as
    untested and plan flags it."""
    _without_tests(project, opt_out=True)
    assert cli("apply", "--auto-approve", "--target", "support")[0] == 0
    _opt_out_removed(project)
    _edit_prompt(project)

    code, out, err = cli(
        "apply", "--auto-approve", "--target", "support", "--skip-tests", "--reason", "hotfix"
    )

    assert code == 0, out + err
    live = _live(server, f"/v1/convai/agents/{_support_id(server)}")
    assert "within 45 days" in live["conversation_config"]["agent"]["prompt"]["prompt"]
    _, plan, _ = cli("plan", "--target", "support")
    assert "! main holds an untested change (" in plan
