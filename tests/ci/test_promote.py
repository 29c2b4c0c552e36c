"""``convai-ops promote --from staging --to production`` against two emulators (one per
environment, each accepting only its own API key), over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from convai_ops.emulator import EmulatorServer
from tests.ci.conftest import PRODUCTION_KEY, PROJECT_FILES, STAGING_KEY, Environments, commit

PROMOTE = ("promote", "--from", "staging", "--to", "production", "--auto-approve")


def _call(server: EmulatorServer, key: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"xi-api-key": key}
    response = httpx.request(method, f"{server.url}{path}", headers=headers, json=body)
    response.raise_for_status()
    return response.json()


def _writes(server: EmulatorServer, since: int = 0) -> list[str]:
    log = server.emulator.request_log[since:]
    return [f"{e.method} {e.path}" for e in log if e.method != "GET"]


def _main(server: EmulatorServer, key: str) -> dict[str, str]:
    agents = _call(server, key, "GET", "/v1/convai/agents")["agents"]
    return {
        a["agent_id"]: json.dumps(_call(server, key, "GET", f"/v1/convai/agents/{a['agent_id']}"))
        for a in agents
    }


def _sabotage_test(server: EmulatorServer, name_prefix: str) -> None:
    """Change a remote test in place (as someone could in the dashboard): the repository and
    the live agents still match, but the test now fails on main."""
    tests = _call(server, STAGING_KEY, "GET", "/v1/convai/agent-testing")["tests"]
    [test] = [t for t in tests if t["name"].startswith(name_prefix)]
    body = _call(server, STAGING_KEY, "GET", f"/v1/convai/agent-testing/{test['id']}")
    body["success_condition"] = 'The agent confirms the refund window of "14 days".'
    body.pop("id", None)
    _call(server, STAGING_KEY, "PUT", f"/v1/convai/agent-testing/{test['id']}", body)


def test_refuses_while_staging_is_behind_the_repository(environments: Environments) -> None:
    code, out, err = environments.cli(*PROMOTE)
    assert code == 1, out
    assert "staging is not in sync with the repository" in err
    assert "apply to staging first" in err
    assert environments.production.emulator.request_log == []


def test_promotes_what_staging_runs_through_the_gate(environments: Environments) -> None:
    assert environments.cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    staging_start = len(environments.staging.emulator.request_log)
    code, out, err = environments.cli(*PROMOTE)
    assert code == 0, out + err
    assert "staging matches the repository. Plan for production:" in out
    assert "Apply: 3 merged" in out
    tested = {
        f"POST /v1/convai/agents/{a}/run-tests" for a in _main(environments.staging, STAGING_KEY)
    }
    assert sorted(_writes(environments.staging, staging_start)) == sorted(tested)  # tests only
    runs = [e.body for e in environments.staging.emulator.request_log[staging_start:] if e.body]
    assert all(not body.get("branch_id") for body in runs)  # on staging's main
    code, out, _ = environments.cli("plan", "--env", "production", "--detailed-exitcode")
    assert code == 0, out
    assert PRODUCTION_KEY not in out and STAGING_KEY not in out


def test_failing_staging_tests_leave_production_untouched(
    environments: Environments, project: Path
) -> None:
    assert environments.cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    assert environments.cli(*PROMOTE)[0] == 0
    prompt = PROJECT_FILES["agents/support/prompt.md"] + "Be kind.\n"
    commit(project, {"agents/support/prompt.md": prompt}, "kinder")
    assert environments.cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    _sabotage_test(environments.staging, "support/refund-window #")
    before = _main(environments.production, PRODUCTION_KEY)
    start = len(environments.production.emulator.request_log)
    code, out, err = environments.cli(*PROMOTE)
    assert code == 3, out + err
    assert "x support: 0/1 test(s) passed" in out and "FAIL refund-window" in out
    assert "Promotion refused: tests failed on staging's main; production was not touched." in out
    assert _writes(environments.production, start) == []
    assert _main(environments.production, PRODUCTION_KEY) == before


def test_needs_auto_approve_without_a_terminal(environments: Environments) -> None:
    assert environments.cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    code, _, err = environments.cli("promote", "--from", "staging", "--to", "production")
    assert code == 1
    assert "pass --auto-approve" in err
    assert _writes(environments.production) == []


def test_same_environment_twice_is_a_usage_error(environments: Environments) -> None:
    code, _, err = environments.cli("promote", "--from", "staging", "--to", "staging")
    assert code == 1
    assert "name two environments" in err


def test_the_source_gate_waits_for_rag_indexes_on_staging_main(
    environments: Environments, project: Path
) -> None:
    rag = "conversation_config:\n  agent:\n    prompt:\n      rag: {enabled: true}\n"
    agent_yaml = PROJECT_FILES["agents/helpdesk/agent.yaml"] + rag
    commit(project, {"agents/helpdesk/agent.yaml": agent_yaml}, "helpdesk retrieves via RAG")
    assert environments.cli("apply", "--auto-approve", "--env", "staging")[0] == 0
    staging = environments.staging.emulator
    for document in staging.store.documents.values():
        document.rag_indexes.clear()  # as if staging's main documents were still unindexed
    start = len(staging.request_log)
    code, out, err = environments.cli(*PROMOTE)
    assert code == 0, out + err
    log = staging.request_log[start:]
    [helpdesk] = [a.id for a in staging.store.agents.values() if "convai-ops:helpdesk" in a.tags]
    first_run = next(i for i, e in enumerate(log) if e.path.endswith(f"{helpdesk}/run-tests"))
    succeeded = [
        e
        for e in log[:first_run]
        if e.method == "GET"
        and e.path.endswith("/rag-index")
        and any(i["status"] == "succeeded" for i in e.response_body["indexes"])
    ]
    assert succeeded  # the helpdesk's document was indexed before any test ran on staging
