"""Test invocations: start runs on a snapshot of an agent, resubmit them, and shape responses.

A run's verdict is computed when the run starts, from a snapshot of the agent config (branch tip,
or main; ``agent_config_override`` deep-merged over it), of the knowledge-base documents and of
the tools it references. The run reads ``pending`` until ``test_delay_s`` has passed, then shows
``passed``/``failed`` with its ``condition_result`` and ``agent_responses``.
"""

from __future__ import annotations

import json
import random
from typing import Any

from convai_ops.emulator.agent_tests import find_test, run_info_of
from convai_ops.emulator.agents import find_agent, resolved_config, version_at
from convai_ops.emulator.configtree import deep_merge
from convai_ops.emulator.core import Emulator, RequestLogEntry
from convai_ops.emulator.llm_tools import ToolSpec
from convai_ops.emulator.problems import not_found
from convai_ops.emulator.rag import readable_documents
from convai_ops.emulator.runner import AgentSnapshot, run_test
from convai_ops.emulator.store import Agent, Invocation, RunOutcome, Test, TestRun, Version
from convai_ops.emulator.tool_runs import EMULATED_WEBHOOK_ANSWER

__all__ = ["record_real_calls", "resubmit", "snapshot_of", "start_invocation"]


def snapshot_of(emu: Emulator, config: dict[str, Any]) -> AgentSnapshot:
    """Return what the agent with resolved ``config`` knows now: the documents it can read at
    this moment (:func:`convai_ops.emulator.rag.readable_documents`: RAG-retrieved documents
    only once indexed) and its tools, looked up."""
    agent = config["conversation_config"].get("agent", {})
    prompt = agent.get("prompt", {})
    documents = readable_documents(emu, config, emu.now())
    tools = [
        ToolSpec.from_config(
            tool_id, emu.store.tools[tool_id].tool_config, emu.store.tools[tool_id].response_mocks
        )
        for tool_id in prompt.get("tool_ids") or []
        if tool_id in emu.store.tools
    ]
    tools += [ToolSpec.from_config(None, item) for item in prompt.get("tools") or []]
    variables = (agent.get("dynamic_variables") or {}).get("dynamic_variable_placeholders")
    return AgentSnapshot(
        prompt=str(prompt.get("prompt") or ""),
        first_message=str(agent.get("first_message") or ""),
        documents=tuple(document.text for document in documents),
        tools=tuple(tools),
        temperature=float(prompt.get("temperature") or 0),
        placeholders=variables or {},
    )


def _target(
    emu: Emulator, agent: Agent, body: dict[str, Any]
) -> tuple[Version, AgentSnapshot, bool]:
    version = version_at(emu, agent, branch_id=body.get("branch_id"))
    config = resolved_config(version.config)
    override = body.get("agent_config_override")
    if override:
        config = {name: deep_merge(config[name], override.get(name) or {}) for name in config}
    return version, snapshot_of(emu, config), bool(override)


def start_invocation(emu: Emulator, agent: Agent, body: dict[str, Any]) -> Invocation:
    """Start a ``RunAgentTestsRequestModel``: one run per test per repeat, all pending."""
    tests = [find_test(emu, str(item["test_id"])) for item in body["tests"]]
    version, snapshot, draft = _target(emu, agent, body)
    repeat = int(body.get("repeat_count") or 1)
    invocation = Invocation(
        id=emu.new_id("tinv_"),
        agent_id=agent.id,
        branch_id=version.branch_id if agent.versioned else None,
        version_id=version.id if agent.versioned else None,
        ran_against_draft=draft,
        created_at=int(emu.now()),
        repeat_count=repeat,
        title=tests[0].name if len(tests) == 1 else f"{len(tests)} tests",
    )
    emu.store.invocations[invocation.id] = invocation
    for test in tests:
        for _ in range(repeat):
            run = _new_run(emu, invocation, test, snapshot, len(invocation.run_ids))
            invocation.run_ids.append(run.id)
    return invocation


def _rank(emu: Emulator, snapshot: AgentSnapshot, key: str) -> int:
    chance = emu.config.nondeterminism
    if chance <= 0 or snapshot.temperature <= 0:
        return 0
    return 1 if random.Random(f"{emu.config.seed}:{key}").random() < chance else 0


def _new_run(
    emu: Emulator, invocation: Invocation, test: Test, snapshot: AgentSnapshot, index: int
) -> TestRun:
    now = emu.now()
    rank = _rank(emu, snapshot, f"{invocation.id}:{index}")
    run = TestRun(
        id=emu.new_id("trun_"),
        invocation_id=invocation.id,
        test_id=test.id,
        test_name=test.name,
        test_type=test.type,
        test_info=run_info_of(test.type, test.body),
        agent_id=invocation.agent_id,
        branch_id=invocation.branch_id,
        version_id=invocation.version_id,
        ran_against_draft=invocation.ran_against_draft,
        created_at=int(now),
        due_at=now + emu.config.test_delay_s,
        outcome=run_test(test.type, test.body, snapshot, rank=rank),
    )
    emu.store.runs[run.id] = run
    record_real_calls(emu, run.outcome)
    return run


def record_real_calls(emu: Emulator, outcome: RunOutcome) -> None:
    """Append an ``outbound`` entry to the request log for each real webhook call of a run
    (method and URL of the webhook, the parameters as ``body``; nothing is sent)."""
    now = emu.now()
    for message in outcome.agent_responses:
        for call in message.get("tool_calls") or []:
            details = call.get("tool_details") or {}
            if not call.get("tool_has_been_called") or details.get("type") != "webhook":
                continue
            entry = RequestLogEntry(
                method=str(details["method"]),
                path=str(details["url"]),
                query="",
                status=200,
                duration_ms=0.0,
                timestamp=now,
                body=json.loads(call["params_as_json"]),
                response_body=EMULATED_WEBHOOK_ANSWER,
                outbound=True,
            )
            emu.record(entry)


def resubmit(emu: Emulator, invocation: Invocation, body: dict[str, Any]) -> None:
    """Re-run ``body["test_run_ids"]`` of ``invocation`` on the branch tip named by ``body``
    (main when absent), with each test's current definition; the runs become pending again."""
    agent = find_agent(emu, str(body["agent_id"]))
    runs = [_run_of(emu, invocation, str(run_id)) for run_id in body["test_run_ids"]]
    version, snapshot, draft = _target(emu, agent, body)
    for run in runs:
        test = emu.store.tests.get(run.test_id)
        test_type, test_body = (test.type, test.body) if test else (run.test_type, run.test_info)
        run.attempt += 1
        index = invocation.run_ids.index(run.id)
        rank = _rank(emu, snapshot, f"{invocation.id}:{index}:{run.attempt}")
        run.outcome = run_test(test_type, test_body, snapshot, rank=rank)
        record_real_calls(emu, run.outcome)
        run.test_info = run_info_of(test_type, test_body)
        run.branch_id = version.branch_id if agent.versioned else None
        run.version_id = version.id if agent.versioned else None
        run.ran_against_draft = draft
        run.created_at, run.due_at = int(emu.now()), emu.now() + emu.config.test_delay_s


def _run_of(emu: Emulator, invocation: Invocation, run_id: str) -> TestRun:
    run = emu.store.runs.get(run_id)
    if run is None or run.invocation_id != invocation.id:
        raise not_found("test run", run_id)
    return run
