"""The API key never leaves the process in clear: every command, succeeding or failing, with and
without ``--debug``, is run with a known key, and the key is looked for in its stdout, its
stderr and every file under the project, the output folder and ``HOME``.

Failing APIs include one that echoes the key back in its error bodies and headers (401, 422,
500), so redaction is tested, not only the absence of the key from convai-ops' own messages.

Each run uses a fresh key starting ``sk_leakcheck_0123456789abcdef`` (looked for by that prefix),
never registered as a secret before the command starts, so an earlier run cannot mask a leak.
Every case runs in this process (output captured at the file-descriptor level); a few also run
with ``--debug`` as a process of their own. Agents that must exist first are applied through
the library with another key.

Adding a command is one line in ``CASES``; ``test_every_command_is_in_the_table`` fails until
every command of ``convai-ops --help`` has at least one line.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from convai_ops.api import ConvaiClient
from convai_ops.apply import ApplyOptions, apply_plan
from convai_ops.cli import cli, main
from convai_ops.emulator import EmulatorConfig, run_in_thread
from convai_ops.plan import build_plan
from convai_ops.settings import Settings
from convai_ops.spec import load_project
from convai_ops.testing import PollPolicy

REPO = Path(__file__).resolve().parents[2]
KEY_PREFIX = "sk_leakcheck_0123456789abcdef"
SEED_KEY = "sk_seed_only_not_under_test"
NOT_IN_TABLE = {"demo", "emulator"}  # local only: no API key involved

Api = Literal["emulator", "wrong-key", "echo-401", "echo-422", "echo-500", "none"]
Variant = Literal["ok", "bad-yaml", "failing-test"]
APPLY = "apply --auto-approve"
CHECK = "check --branch-name pr-1 --markdown {out}/check.md --junit {out}/check.xml"


@dataclass(frozen=True)
class Case:
    """One command line after ``convai-ops -C <project>``.

    ``{out}`` is a folder for the files it writes, ``{agent}`` the id of the live ``support``
    agent, ``{conversation}`` one of its conversations. ``applied``: the project is applied
    first; ``before``: commands run first (checked too). ``api`` is what answers at the base
    URL, ``project`` which copy of ``agents/`` it runs on; ``exits`` are the expected codes.
    ``own_process``: also run with ``--debug`` as a process of its own (real stderr).
    """

    command: str
    exits: tuple[int, ...] = (0,)
    api: Api = "emulator"
    project: Variant = "ok"
    applied: bool = False
    before: tuple[str, ...] = ()
    own_process: bool = False

    @property
    def id(self) -> str:
        setup = "applied: " if self.applied else ""
        setup += "".join(f"{step}; " for step in self.before)
        plain = (self.api, self.project) == ("emulator", "ok")
        return f"{setup}{self.command}{'' if plain else f' [{self.api}, {self.project}]'}"


CASES = [
    Case("validate"),
    Case("validate", (1,), project="bad-yaml"),
    Case("schema --kind agent", api="none"),
    Case("schema --write", api="none"),
    Case("plan"),
    Case("plan --format json"),
    Case("plan --format markdown --detailed-exitcode", (2,)),
    Case("plan --out {out}/plan.json"),
    Case("plan", (1,), project="bad-yaml", own_process=True),
    Case("plan", (1,), api="wrong-key"),
    Case("plan", (1,), api="echo-401"),
    Case("plan --format json", (1,), api="echo-422"),
    Case("plan", (1,), api="echo-500", own_process=True),
    Case("plan --base-url http://example.com", (1,), api="none"),
    Case(APPLY, own_process=True),
    Case(APPLY, (3,), project="failing-test", own_process=True),
    Case("apply", (1,)),  # no terminal to confirm on
    Case(APPLY, (1,), api="echo-500"),
    Case("apply --auto-approve {out}/plan.json", before=("plan --out {out}/plan.json",)),
    Case(f"{CHECK} --step-summary {{out}}/summary.md"),
    Case(CHECK, (3,), project="failing-test"),
    Case(CHECK, (1,), api="echo-401", own_process=True),
    Case("check --branch-name pr-1 --close", before=(CHECK,)),
    Case("check --branch-name pr-1 --close", (1,), api="echo-500"),
    Case("test --junit {out}/test.xml", applied=True),
    Case("test", (1,), api="echo-500"),
    Case("drift --format json", applied=True),
    Case("drift", (1,), api="wrong-key"),
    Case("pull", applied=True),
    Case("gc", applied=True),
    Case("import {agent} --slug imported", applied=True),
    Case("import agent_missing", (1,), api="echo-401"),
    Case("import --all", applied=True),
    Case("import --all --tag team", (1,), api="echo-401"),
    Case("init {out}/fresh --env staging --env production", api="none"),
    Case("promote --from staging --to production --auto-approve", applied=True),
    Case("conversations list --agent support --format json", applied=True),
    Case("conversations show {conversation} --format yaml", applied=True),
    Case("conversations list", (1,), api="echo-401"),
    Case("conversations list --search Canada --agent support", applied=True),
    Case("mv support helpdesk", api="none"),
    Case(f"{APPLY} --prune", applied=True),
    Case("doctor", applied=True),
    Case("doctor", (1,), api="wrong-key"),
    Case("doctor", (1,), api="echo-401", own_process=True),
    Case("doctor --env production", (1,), api="echo-500"),
    Case("simulate support --scenario 'Do you ship to Canada?'", (0, 3), applied=True),
    Case("simulate support --via-test --scenario 'A refund?'", (0, 3), applied=True),
    Case("simulate support --scenario 'Hello'", (1,), api="echo-500"),
    Case("tests new --from-conversation {conversation} --at-turn 1", applied=True),
    Case(f"{APPLY} --skip-tests --reason outage"),
    Case(f"{APPLY} --skip-tests", (2,), api="echo-500"),
    Case("rollback support --auto-approve", (1,), applied=True),  # the empty shell: refused
    Case("rollback support --to v --auto-approve --skip-tests --reason outage", (1,), applied=True),
    Case("rollback support --auto-approve", (1,), api="echo-500"),
    Case("canary status --format json", applied=True),
    Case("canary analyse", applied=True),
    Case("canary abort support", (1,), applied=True),  # no canary running
    Case("canary status", (1,), api="echo-401", own_process=True),
    Case("apply --auto-approve --canary 20", own_process=True),  # new agents: merged, no canary
]


def test_every_command_is_in_the_table() -> None:
    covered = {shlex.split(case.command)[0] for case in CASES}
    missing = set(cli.commands) - NOT_IN_TABLE - covered
    assert not missing, f"add a line to CASES for: {', '.join(sorted(missing))}"


# --- the APIs ---------------------------------------------------------------------------


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with ``status``, echoing the key in the body and a header."""

    status = 500

    def _answer(self) -> None:
        key = self.headers.get("xi-api-key", "")
        self.rfile.read(int(self.headers.get("content-length") or 0))
        detail: object = {"status": "echo", "message": f"rejected key {key}"}
        if self.status == 422:
            detail = [{"loc": ["header", "xi-api-key"], "msg": f"bad key {key}", "type": "x"}]
        body = json.dumps({"detail": detail}).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-echo-key", key)
        self.send_header("retry-after-ms", "0")  # retried at once: the test stays fast
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _emulator_config(kind: Api) -> EmulatorConfig:
    wrong = kind == "wrong-key"
    return EmulatorConfig(
        rag_index_delay_s=0.05, test_delay_s=0.05, api_key="sk_someone_elses_key" if wrong else None
    )


@contextmanager
def _api(kind: Api) -> Iterator[str]:
    """The base URL of an API of ``kind`` for the duration of the block (``""`` for none)."""
    if kind == "none":
        yield ""
    elif kind in ("emulator", "wrong-key"):
        with run_in_thread(_emulator_config(kind)) as server:
            yield server.url
    else:
        handler = type("Echo", (_EchoHandler,), {"status": int(kind.split("-")[1])})
        echo = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=echo.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{echo.server_address[1]}"
        finally:
            echo.shutdown()
            echo.server_close()
            thread.join()


ApiFactory = Callable[[Api], AbstractContextManager[str]]


# --- one case ---------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """What one case runs in: the project copy, the output folder, the API and the keys."""

    project: Path
    out: Path
    url: str
    key: str
    production_key: str

    def environment(self) -> dict[str, str]:
        env = {
            "ELEVENLABS_API_KEY": self.key,
            "ELEVENLABS_API_KEY_PRODUCTION": self.production_key,
            "CONVAI_OPS_POLL_INTERVAL": "0.05",
            "GITHUB_STEP_SUMMARY": str(self.out / "step-summary.md"),
        }
        if self.url:
            env["ELEVENLABS_BASE_URL"] = self.url
        return env

    def _get(self, path: str, **params: str) -> Any:
        headers = {"xi-api-key": SEED_KEY}
        return httpx.get(f"{self.url}{path}", params=params, headers=headers).json()

    def agent_id(self, slug: str) -> str:
        for agent in self._get("/v1/convai/agents")["agents"]:
            if f"convai-ops:{slug}" in agent["tags"]:
                return str(agent["agent_id"])
        return "agent_not_created"

    def conversation_id(self, slug: str) -> str:
        found = self._get("/v1/convai/conversations", agent_id=self.agent_id(slug))
        return str(found["conversations"][0]["conversation_id"]) if found else "conv_none"

    def argv(self, command: str, debug: bool) -> list[str]:
        if "{agent}" in command:
            command = command.replace("{agent}", self.agent_id("support"))
        if "{conversation}" in command:
            command = command.replace("{conversation}", self.conversation_id("support"))
        args = shlex.split(command.replace("{out}", str(self.out)))
        return ["-C", str(self.project), *(["--debug"] if debug else []), *args]

    def apply_project(self) -> None:
        """Apply the project through the library with ``SEED_KEY``, not the key under test."""
        project = load_project(self.project)
        environ = {"ELEVENLABS_API_KEY": SEED_KEY}
        settings = Settings.resolve(
            project.root, project.config, base_url=self.url, environ=environ
        )
        options = ApplyOptions(settings.environment, policy=PollPolicy(0.05, 0.05, 60.0))
        with ConvaiClient(self.url, SEED_KEY) as client:
            plan, snapshot = build_plan(client, project, settings)
            result = apply_plan(client, project, plan, snapshot.index, options)
        assert result.exit_code == 0, result


def _project(root: Path, variant: Variant) -> Path:
    root.mkdir()
    shutil.copy2(REPO / "convai-ops.yaml", root / "convai-ops.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    shutil.copytree(REPO / "tools", root / "tools")
    support = root / "agents" / "support"
    if variant == "bad-yaml":
        agent = support / "agent.yaml"
        agent.write_text(agent.read_text().replace("tags: [support, acme]", "tags: [support"))
    elif variant == "failing-test":
        prompt = support / "prompt.md"
        prompt.write_text(prompt.read_text().replace("within 30 days", "within 14 days"))
    return root


def _leaks(outputs: dict[str, str], folders: list[Path]) -> list[str]:
    """Names of the outputs and paths of the files holding the key (its first 29 characters)."""
    found = [name for name, text in outputs.items() if KEY_PREFIX in text]
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and KEY_PREFIX.encode() in path.read_bytes():
                found.append(str(path))
    return found


@dataclass(frozen=True)
class Outcome:
    """The exit code of a case's command, every step's output, and where the key was found."""

    code: int
    outputs: dict[str, str]
    leaks: list[str]

    def transcript(self) -> str:
        return "\n".join(f"--- {name}:\n{text}" for name, text in self.outputs.items())


Runner = Callable[["World", str], tuple[int, str, str]]


def _run_case(
    case: Case, root: Path, runner: Runner, folders: list[Path], api: ApiFactory = _api
) -> Outcome:
    outputs: dict[str, str] = {}
    code = -1
    with api(case.api) as url:
        (root / "out").mkdir()
        world = World(
            _project(root / "project", case.project),
            root / "out",
            url,
            key=f"{KEY_PREFIX}_{uuid.uuid4().hex}",  # fresh: no earlier run registered it
            production_key=f"{KEY_PREFIX}_prod_{uuid.uuid4().hex}",
        )
        if case.applied:
            world.apply_project()
        for step in (*case.before, case.command):
            code, outputs[f"{step} (stdout)"], outputs[f"{step} (stderr)"] = runner(world, step)
    return Outcome(code, outputs, _leaks(outputs, [root, *folders]))


# --- every case, with and without --debug, in this process ---------------------------------


@pytest.fixture(scope="module")
def shared_api() -> Iterator[ApiFactory]:
    """Like ``_api``, but one emulator per kind for the module, emptied before each case."""
    with ExitStack() as stack:
        servers: dict[Api, Any] = {}

        @contextmanager
        def api(kind: Api) -> Iterator[str]:
            if kind not in ("emulator", "wrong-key"):
                with _api(kind) as url:
                    yield url
                return
            if kind not in servers:
                servers[kind] = stack.enter_context(run_in_thread(_emulator_config(kind)))
            servers[kind].emulator.reset()
            yield servers[kind].url

        yield api


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_key_is_never_printed_nor_written(
    case: Case,
    debug: bool,
    tmp_path: Path,
    shared_api: ApiFactory,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    def in_process(world: World, command: str) -> tuple[int, str, str]:
        for name, value in world.environment().items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SystemExit) as exit_info:
            main(world.argv(command, debug))
        out, err = capfd.readouterr()  # file-descriptor level: sys.stdout/err and below
        return int(exit_info.value.code or 0), out, err

    outcome = _run_case(case, tmp_path, in_process, [Path(os.environ["HOME"])], shared_api)

    assert outcome.code in case.exits, outcome.transcript()
    assert outcome.leaks == []


# --- some cases with --debug in a process of their own ------------------------------------


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.own_process], ids=[c.id for c in CASES if c.own_process]
)
def test_key_never_leaves_a_process_of_its_own(case: Case, tmp_path: Path) -> None:
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ELEVENLABS_", "CONVAI_OPS_"))
    }

    def own_process(world: World, command: str) -> tuple[int, str, str]:
        argv = [sys.executable, "-m", "convai_ops", *world.argv(command, debug=True)]
        env = {**environ, **world.environment()}
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr

    outcome = _run_case(case, tmp_path, own_process, [Path(os.environ["HOME"])])

    assert outcome.code in case.exits, outcome.transcript()
    assert outcome.leaks == []
