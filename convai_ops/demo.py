"""``convai-ops demo``: the whole gated flow against a local emulator, no API key needed.

Steps, in a temporary copy of the example project: plan (agents to create) -> apply (tests
pass, merged) -> a prompt edit that breaks a test -> plan (a one-line diff) -> apply (tests
fail, nothing merged) -> main read back still holds the good prompt.

With ``--canary`` (:mod:`convai_ops.canary.demo`), live traffic is emulated and steps 7-9
follow: a change promoted by its canary, one rolled back on live traffic.

Any project (``--example DIR``) gets steps 1 and 2; steps 3 to 6 need the bundled example's
``agents/support/prompt.md`` with its refund sentence (and the test that checks it), and are
left out in one line naming what is missing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convai_ops.errors import EXIT_ERROR, EXIT_OK, EXIT_TESTS_FAILED, UsageError

__all__ = ["find_example", "run_demo"]

Echo = Callable[..., Any]
GOOD, BAD = "within 30 days", "within 14 days"
DEMO_AGENT = "support"


def find_example() -> Path:
    """The example project (``convai-ops.yaml`` + ``agents/``) of the source checkout.

    Raises ``UsageError`` when convai-ops is installed without its repository.
    """
    root = Path(__file__).resolve().parent.parent
    if (root / "convai-ops.yaml").is_file() and (root / "agents").is_dir():
        return root
    raise UsageError(
        "the demo needs the example project: clone the convai-ops repository and install it "
        'with `pip install -e ".[dev]"`'
    )


def run_demo(echo: Echo, *, example: Path | None = None, canary: bool = False) -> int:
    """Run the walkthrough, printing through ``echo``; returns 0 when it behaved as shown.
    With ``canary``, live traffic is emulated and steps 7-9 (:mod:`convai_ops.canary.demo`)
    follow."""
    from convai_ops.emulator import EmulatorConfig, run_in_thread

    source = example or find_example()
    _check_project(source)
    rate = 0.0
    if canary:
        from convai_ops.canary.demo import TRAFFIC_RATE

        rate = TRAFFIC_RATE
    config = EmulatorConfig(test_delay_s=0.3, rag_index_delay_s=1.0, traffic_rate=rate)
    with tempfile.TemporaryDirectory(prefix="convai-ops-demo-") as tmp:
        work = _copy_example(source, Path(tmp) / "project")
        with run_in_thread(config) as server:
            echo(f"convai-ops demo: a local ElevenLabs API emulator is serving {server.url}")
            echo(f"Working copy of the example project: {work}\n")
            return _walk(echo, work, server.url, canary)


def _check_project(source: Path) -> None:
    """Raise ``UsageError`` in one line unless ``source`` holds convai-ops.yaml and agents/."""
    missing = [
        name
        for name, present in (
            ("convai-ops.yaml", (source / "convai-ops.yaml").is_file()),
            ("agents/", (source / "agents").is_dir()),
        )
        if not present
    ]
    if missing:
        raise UsageError(
            f"{source}: not a convai-ops project, the demo needs {' and '.join(missing)} there"
        )


def _breaking_edit(work: Path) -> str | None:
    """Why steps 3-6 cannot run on this project, None when they can."""
    prompt = work / "agents" / DEMO_AGENT / "prompt.md"
    if not prompt.is_file():
        return f"this project has no agents/{DEMO_AGENT}/prompt.md"
    if GOOD not in prompt.read_text(encoding="utf-8"):
        return f'agents/{DEMO_AGENT}/prompt.md does not say "{GOOD}"'
    return None


def _copy_example(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    shutil.copy2(source / "convai-ops.yaml", target / "convai-ops.yaml")
    shutil.copytree(source / "agents", target / "agents")
    if (source / "tools").is_dir():
        shutil.copytree(source / "tools", target / "tools")
    return target


def _walk(echo: Echo, work: Path, url: str, canary: bool = False) -> int:
    missing = _breaking_edit(work)
    canary_missing = _canary_missing(work) if canary else None
    total = 2 if missing else 9 if canary and not canary_missing else 6
    session = _Session(work, url, echo, total=total)
    session.step(1, "convai-ops plan", "the example agents do not exist yet")
    session.plan()
    session.step(
        2, "convai-ops apply --auto-approve", "each change is tested on a branch, then merged"
    )
    first = session.apply()
    if missing:
        echo(f"Steps 3-6 (a prompt edit that breaks a test) left out: {missing}.")
        return first
    good_prompt = session.main_prompt()
    prompt_file = work / "agents" / DEMO_AGENT / "prompt.md"
    prompt_file.write_text(prompt_file.read_text().replace(GOOD, BAD))
    session.step(3, f"edit agents/{DEMO_AGENT}/prompt.md", f'"{GOOD}" becomes "{BAD}"')
    session.step(4, "convai-ops plan", "one changed line")
    session.plan()
    session.step(5, "convai-ops apply --auto-approve", "the refund test now fails")
    second = session.apply()
    kept = session.main_prompt() == good_prompt
    session.step(6, f"GET /v1/convai/agents/{{id}} for {DEMO_AGENT}", "what main holds now")
    echo(f"  main still holds the tested prompt: {'yes' if kept else 'NO'}")
    echo(f'  "{_line_with(good_prompt, "Refunds")}"\n')
    verdict = _verdict(echo, first, second, kept)
    if not canary or verdict != EXIT_OK:
        return verdict
    if canary_missing:
        echo(f"Steps 7-9 (a canary on live traffic) left out: {canary_missing}.")
        return verdict
    return _canary_verdict(echo, session, work)


def _canary_missing(work: Path) -> str | None:
    from convai_ops.canary.demo import missing_fact

    return missing_fact(work)


def _canary_verdict(echo: Echo, session: _Session, work: Path) -> int:
    from convai_ops.canary.demo import walk_canary

    (work / "agents" / DEMO_AGENT / "prompt.md").write_text(session.main_prompt())
    if walk_canary(session, echo, work):
        echo("Canary complete: the harmless change reached every caller after its canary held;")
        echo("the one that broke an untested fact was rolled back on live traffic, main unchanged.")
        return EXIT_OK
    echo("Demo did not behave as expected with the canary (see the steps above).")
    return EXIT_ERROR


def _verdict(echo: Echo, first: int, second: int, kept: bool) -> int:
    if first == EXIT_OK and second == EXIT_TESTS_FAILED and kept:
        echo("Demo complete: one change merged after its tests passed, one change blocked by a")
        echo("failing test with main left exactly as it was. Next: edit agents/ and run")
        echo("`convai-ops plan` against your own account (export ELEVENLABS_API_KEY=...).")
        return EXIT_OK
    echo(f"Demo did not behave as expected (apply exits {first} and {second}, main kept: {kept}).")
    return EXIT_ERROR


def _line_with(text: str, word: str) -> str:
    return next((line for line in text.splitlines() if word in line), "")


class _Session:
    """One demo run: loads the working copy and talks to the emulator like the CLI does."""

    def __init__(self, work: Path, url: str, echo: Echo, total: int) -> None:
        self.work, self.url, self.echo, self.total = work, url, echo, total

    def step(self, number: int, command: str, why: str) -> None:
        self.echo(f"--- Step {number}/{self.total}: {command}   ({why})")

    def _settings(self) -> Any:
        from convai_ops.settings import Settings
        from convai_ops.spec import load_project

        project = load_project(self.work)
        key_names = [e.api_key_env for e in project.config.environments.values()]
        environ = {name: "sk_demo_0123456789abcdef" for name in ("ELEVENLABS_API_KEY", *key_names)}
        environ["ELEVENLABS_BASE_URL"] = self.url
        settings = Settings.resolve(
            self.work,
            project.config,
            environ=environ,
            poll_initial=0.2,
            poll_max=1.0,
            test_timeout=60,
        )
        return project, settings

    def _client(self, settings: Any) -> Any:
        from convai_ops.api import ConvaiClient

        return ConvaiClient(settings.base_url, settings.require_api_key())

    def plan(self) -> None:
        from convai_ops.plan import build_plan
        from convai_ops.render import render_plan_text

        project, settings = self._settings()
        with self._client(settings) as client:
            planned, _ = build_plan(client, project, settings)
        self.echo(render_plan_text(planned))

    def apply(self, canary: Any = None) -> int:
        from dataclasses import replace

        from convai_ops.apply import ApplyOptions, apply_plan
        from convai_ops.plan import build_plan
        from convai_ops.render import render_apply_result

        project, settings = self._settings()
        options = replace(ApplyOptions.from_settings(settings), canary=canary)
        with self._client(settings) as client:
            planned, snapshot = build_plan(client, project, settings)
            result = apply_plan(client, project, planned, snapshot.index, options, self._report)
        self.echo(render_apply_result(result))
        return result.exit_code

    def _report(self, slug: str, message: str) -> None:
        self.echo(f"  {slug}: {message}")

    def main_prompt(self) -> str:
        from convai_ops.plan import build_plan

        project, settings = self._settings()
        with self._client(settings) as client:
            _, snapshot = build_plan(client, project, settings)
            remote = snapshot.agents[DEMO_AGENT]
        if remote is None:
            return ""
        prompt: str = remote.config["conversation_config"]["agent"]["prompt"]["prompt"]
        return prompt
