"""``convai-ops doctor``: end to end against the emulator over loopback (healthy, wrong key,
protected main), and the checks one by one against ``httpx.MockTransport`` answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.doctor import DoctorReport, run_doctor
from convai_ops.emulator import EmulatorConfig, EmulatorServer, run_in_thread
from convai_ops.spec import AgentSpec
from tests.helpers import Runner, cli_runner, copy_example

KEY = "doctor-key-4c1e7a"
CONFIG = EmulatorConfig(test_delay_s=0.05, rag_index_delay_s=0.05)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with run_in_thread(CONFIG) as running:
        yield running


@pytest.fixture
def cli(
    server: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    return cli_runner(copy_example(tmp_path), server.url, KEY, monkeypatch, capsys)


def lines_of(out: str, status: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(status + " ")]


def test_doctor_is_healthy_against_the_emulator_after_apply(cli: Runner) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    code, out, err = cli("doctor")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "healthy"
    assert lines_of(out, "problem") == []
    ok = lines_of(out, "ok")
    assert any(line.startswith("ok       api: http://127.0.0.1:") for line in ok)
    assert "ok       key: accepted (from $ELEVENLABS_API_KEY)" in ok
    assert "ok       support: main receives 100% of live traffic" in ok
    assert "ok       assistant: main is not protected: writer permissions merge into it" in ok
    assert KEY not in out


def test_doctor_before_apply_says_the_agents_do_not_exist_yet(cli: Runner) -> None:
    code, out, _ = cli("doctor")
    assert code == 0
    assert "ok       support: not created yet in this environment (apply creates it)" in out


def test_a_wrong_key_is_one_problem_and_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    right = "the-right-key-93b2"
    config = EmulatorConfig(api_key=right, test_delay_s=0.05, rag_index_delay_s=0.05)
    with run_in_thread(config) as server:
        run = cli_runner(copy_example(tmp_path), server.url, KEY, monkeypatch, capsys)
        code, out, err = run("doctor")
        sent = [(e.method, e.path, e.status) for e in server.emulator.request_log]
    assert code == 1
    assert lines_of(out, "problem") == [
        "problem  key: the API refused the key in $ELEVENLABS_API_KEY (HTTP 401): check it"
    ]
    assert out.splitlines()[-1] == "1 problem"
    assert sent == [("GET", "/v1/convai/agents", 401)]
    for secret in (KEY, right, KEY[:6], KEY[-6:]):
        assert secret not in out + err


def test_a_protected_main_is_reported(cli: Runner, server: EmulatorServer) -> None:
    assert cli("apply", "--auto-approve")[0] == 0
    headers = {"xi-api-key": KEY}
    agents = httpx.get(f"{server.url}/v1/convai/agents", headers=headers).json()["agents"]
    agent_id = next(a["agent_id"] for a in agents if "convai-ops:support" in a["tags"])
    agent = httpx.get(f"{server.url}/v1/convai/agents/{agent_id}", headers=headers).json()
    protect = {"protection_status": "admin_perms_required"}
    branch_url = f"{server.url}/v1/convai/agents/{agent_id}/branches/{agent['main_branch_id']}"
    assert httpx.patch(branch_url, json=protect, headers=headers).status_code == 200
    code, out, _ = cli("doctor")
    protected = [line for line in out.splitlines() if "support: main is protected" in line]
    assert len(protected) == 1 and "admin_perms_required" in protected[0]
    assert protected[0].startswith("problem") and code == 1  # the emulated key is an editor
    assert "assistant: main is not protected" in out


def test_a_main_protected_by_the_emulator_knob_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = EmulatorConfig(protect_main=True, test_delay_s=0.05, rag_index_delay_s=0.05)
    with run_in_thread(config) as server:
        http = httpx.Client(base_url=server.url, headers={"xi-api-key": KEY})
        body = {"conversation_config": {}, "name": "Support", "tags": ["convai-ops:support"]}
        agent_id = http.post("/v1/convai/agents/create", json=body).json()["agent_id"]
        main = http.get(f"/v1/convai/agents/{agent_id}").json()["main_branch_id"]
        protect = {"protection_status": "admin_perms_required"}  # a no-op once the knob does it
        assert http.patch(f"/v1/convai/agents/{agent_id}/branches/{main}", json=protect).is_success
        http.close()
        run = cli_runner(copy_example(tmp_path), server.url, KEY, monkeypatch, capsys)
        code, out, _ = run("doctor")
    [line] = [line for line in out.splitlines() if "support: main is protected" in line]
    assert "(admin_perms_required)" in line and line.split()[0] == "problem"
    assert "role is editor" in line and code == 1


def test_without_a_key_doctor_says_so_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(CONFIG) as server:
        run = cli_runner(copy_example(tmp_path), server.url, KEY, monkeypatch, capsys)
        monkeypatch.delenv("ELEVENLABS_API_KEY")
        code, out, _ = run("doctor")
        assert server.emulator.request_log == []
    assert code == 1
    assert out.splitlines() == ["problem  key: $ELEVENLABS_API_KEY is not set", "1 problem"]


def test_env_picks_the_environments_key_variable(cli: Runner, server: EmulatorServer) -> None:
    code, out, _ = cli("doctor", "--env", "production")
    assert code == 1
    assert "problem  key: $ELEVENLABS_API_KEY_PRODUCTION is not set" in out.splitlines()
    assert server.emulator.request_log == []


def test_help_gives_examples_and_the_exit_status(cli: Runner) -> None:
    code, out, _ = cli("doctor", "--help")
    assert code == 0
    assert "convai-ops doctor --env production" in out
    assert "Exit status: 0 healthy" in out


# ---- the checks one by one, against canned answers -------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]
AGENT = "agent_1"
MAIN = {
    "id": "br_main",
    "name": "Main",
    "current_live_percentage": 70,
    "protection_status": "writer_perms_required",
    "access_info": {"role": "editor"},
}
CANARY = {"id": "br_canary", "name": "canary", "current_live_percentage": 30}


def api(
    *,
    main: dict[str, Any] | None = None,
    rag: dict[str, Any] | int = 404,
    agents: int = 200,
    listed: list[dict[str, Any]] | None = None,
) -> tuple[Handler, list[str]]:
    """A fake API with one agent, ``main`` and a canary branch; ``rag`` is the rag-index
    answer (a body, or a status)."""
    seen: list[str] = []
    knowledge = [{"type": "file", "name": "faq.md", "id": "doc_1", "usage_mode": "auto"}]
    config = {"agent": {"prompt": {"knowledge_base": knowledge, "rag": {"enabled": True}}}}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        seen.append(path)
        if path == "/v1/convai/agents":
            return httpx.Response(agents, json={"agents": [], "has_more": False})
        if path in ("/v1/convai/agent-testing", "/v1/convai/knowledge-base"):
            key = "tests" if "testing" in path else "documents"
            return httpx.Response(200, json={key: [], "has_more": False})
        if path == f"/v1/convai/agents/{AGENT}":
            body = {"agent_id": AGENT, "main_branch_id": "br_main", "conversation_config": config}
            return httpx.Response(200, json=body)
        if path.endswith("/branches"):
            results = [main or MAIN, CANARY] if listed is None else listed
            return httpx.Response(200, json={"results": results})
        if path.endswith("/branches/br_main"):
            return httpx.Response(200, json=main or MAIN)
        if path.endswith("/rag-index"):
            if isinstance(rag, int):
                return httpx.Response(rag, json={"detail": "Not Found"})
            return httpx.Response(200, json=rag)
        return httpx.Response(404, json={"detail": "Not Found"})

    return handle, seen


def doctor(handler: Handler) -> DoctorReport:
    agent = AgentSpec(
        slug="support", name="Support", dir=Path("agents/support"), environments={"prod": AGENT}
    )
    transport = httpx.MockTransport(handler)
    with ConvaiClient(
        "https://api.test", "key-123456-abcdef-7890", transport=transport, max_retries=0
    ) as c:
        return run_doctor(c, [agent], "prod", base_url="https://api.test", key_env="K")


def support_lines(report: DoctorReport) -> list[str]:
    return [f.line() for f in report.findings if f.subject == "support"]


def test_traffic_below_100_percent_is_a_warning_naming_the_other_branch() -> None:
    handler, _ = api()
    report = doctor(handler)
    assert report.healthy
    assert support_lines(report)[0] == (
        "warn     support: main receives 70% of live traffic (also live: canary 30%): "
        "a merge reaches only that share"
    )


def test_main_missing_from_a_full_branch_list_is_read_by_id() -> None:
    crowd = [{"id": f"br_{n}", "name": f"b{n}", "current_live_percentage": 0} for n in range(100)]
    handler, seen = api(listed=crowd)
    report = doctor(handler)
    assert f"/v1/convai/agents/{AGENT}/branches/br_main" in seen
    assert support_lines(report)[0].startswith("warn     support: main receives 70% of live")


def test_protected_main_is_a_problem_for_a_key_without_the_admin_role() -> None:
    handler, _ = api(main={**MAIN, "protection_status": "admin_perms_required"})
    report = doctor(handler)
    assert not report.healthy
    [problem] = report.problems
    assert problem.subject == "support" and "this key's role is editor" in problem.message
    assert "403" in problem.message
    admin = {**MAIN, "protection_status": "admin_perms_required", "access_info": {"role": "admin"}}
    handler, _ = api(main=admin)
    assert doctor(handler).healthy


@pytest.mark.parametrize(
    ("rag", "expected"),
    [
        (
            404,
            "warn     support: RAG index status unknown (the API answered 404): faq.md (unknown)",
        ),
        (
            {"indexes": [{"id": "i1", "status": "processing", "progress_percentage": 40}]},
            "warn     support: RAG index pending (apply waits for it): faq.md (processing)",
        ),
        (
            {"indexes": [{"id": "i1", "status": "rag_limit_exceeded"}]},
            "problem  support: RAG index failed: faq.md (rag_limit_exceeded)",
        ),
        (
            {"indexes": [{"id": "i1", "status": "succeeded"}]},
            "ok       support: 1 knowledge-base document(s), none waiting on RAG",
        ),
        ({"indexes": []}, "warn     support: RAG is on but not indexed yet: faq.md (none)"),
    ],
)
def test_rag_index_states(rag: dict[str, Any] | int, expected: str) -> None:
    handler, seen = api(rag=rag)
    assert support_lines(doctor(handler))[-1] == expected
    assert "/v1/convai/knowledge-base/doc_1/rag-index" in seen


def test_an_unreachable_api_stops_the_checks() -> None:
    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    report = doctor(refuse)
    assert [f.line() for f in report.findings] == [
        "problem  api: https://api.test does not answer: check the base URL"
    ]
    assert calls == ["/v1/convai/agents"]


def test_a_key_without_read_permission_on_tests_is_a_problem() -> None:
    handler, _ = api()

    def no_tests(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/convai/agent-testing":
            return httpx.Response(403, json={"detail": {"message": "missing permission"}})
        return handler(request)

    report = doctor(no_tests)
    assert [f.line() for f in report.problems] == [
        "problem  tests: the key may not list them (HTTP 403)"
    ]
