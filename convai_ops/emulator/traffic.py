"""Synthetic live traffic: callers talking to the agents, split between branches as deployed.

The real service records every live call as a conversation with the ``branch_id`` and
``version_id`` it ran on and its analysis (BEHAVIOUR.md "Live traffic"). The emulator has no
callers, so with ``EmulatorConfig.traffic_rate`` (``convai-ops emulator --traffic RATE``) above
0 it makes them up:

- **Who gets calls.** Every versioned agent, from the moment the emulator first sees it (the
  traffic's start, or the agent's creation), RATE conversations per second. Main takes them all
  until a split is deployed, so a canary and main are measured over the same window.
- **When.** Conversation ``k`` (from 0) of an agent starts ``(k + 1) / RATE`` seconds after its
  traffic started. Conversations that came due are generated before the emulator answers each
  request, and every 0.2 s in the background (:class:`TrafficTicker`, run by ``serve`` and
  ``run_in_thread``). The state changes only through requests, so each conversation meets the
  split, config and documents live at its start time. A backlog beyond :data:`MAX_BACKLOG` per
  agent (a suspended process) is skipped.
- **Which branch.** The id is ``conv_`` and 28 base32 characters of SHA-256 of
  ``"{seed}:{agent_id}:{k}"``; :func:`convai_ops.emulator.deployments.assign` picks the branch
  from the id and the current split; the conversation runs on that branch's tip version.
- **What the caller says.** One question of the seeded pool ``data/live_questions.json``
  (spanning the example agents' topics: orders, refunds, delivery, warranty, expenses,
  laptops, parking, office hours), drawn by ``random.Random("{seed}:{conversation_id}")``
  among the questions sharing a content word with main's prompt and knowledge-base documents
  (the whole pool when none does); the caller's name fills the dynamic variable
  ``customer_name``.
- **How it is answered and judged.** :func:`convai_ops.emulator.simulation.converse`: the
  greeting, the question and the reply of the same deterministic LLM as the tests (a tool the
  agent calls answers as a real webhook call does in the emulator, ``{"emulated": true}``);
  then :func:`convai_ops.emulator.analysis.analyse` judges the agent's evaluation criteria and
  sets ``analysis.call_successful``.
- **Where it goes.** Listed by ``GET /v1/convai/conversations`` (newest first, among the
  recorded ones) and read by ``GET /v1/convai/conversations/{id}``; 4 s of call per message;
  kept in memory only (not in the state file, forgotten by ``reset()``), at most
  :data:`convai_ops.emulator.core.MAX_LIVE_CONVERSATIONS`.

Deterministic given the seed: the same agent id gets the same conversation ids, questions and
callers, and a conversation id the same branch under the same split. Tests make conversations
synchronously with :func:`generate` (the real API has no endpoint for that, so neither does the
emulator).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import threading
from pathlib import Path
from typing import Any

from convai_ops.emulator.agents import find_agent
from convai_ops.emulator.conversations import AnalysisRecord, ConversationRecord, TurnRecord
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.deployments import assign, split_of
from convai_ops.emulator.llm import content_words
from convai_ops.emulator.simulation import Script, converse
from convai_ops.emulator.store import Agent
from convai_ops.emulator.tool_runs import EMULATED_WEBHOOK_ANSWER

__all__ = [
    "LIVE_QUESTIONS",
    "MAX_BACKLOG",
    "TrafficTicker",
    "catch_up",
    "conversation_id",
    "generate",
]

LIVE_QUESTIONS = Path(__file__).parent / "data" / "live_questions.json"
MAX_BACKLOG = 1000
_SECONDS_PER_MESSAGE = 4
_TICK_S = 0.2
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def catch_up(emu: Emulator, now: float | None = None) -> int:
    """Generate every conversation due by ``now`` (Unix seconds; default: the clock) for every
    versioned agent; return how many were made. Does nothing when ``traffic_rate`` is 0."""
    rate = emu.config.traffic_rate
    if rate <= 0:
        return 0
    made = 0
    with emu.lock:
        moment = emu.now() if now is None else now
        for agent in [agent for agent in emu.store.agents.values() if agent.versioned]:
            made += _catch_up_agent(emu, agent, rate, moment)
    return made


def _catch_up_agent(emu: Emulator, agent: Agent, rate: float, now: float) -> int:
    start, done = emu.live.cursors.get(agent.id, (now, 0))
    due = math.floor((now - start) * rate + 1e-9)
    first = max(done, due - MAX_BACKLOG)
    for index in range(first, due):
        _record(emu, agent, index, int(start + (index + 1) / rate))
    emu.live.cursors[agent.id] = (start, max(done, due))
    return max(0, due - first)


def generate(emu: Emulator, agent_id: str, count: int) -> list[str]:
    """Make ``count`` conversations of agent ``agent_id`` now, next in its sequence, whatever
    ``traffic_rate`` is; return their ids (the clock then counts them as made, so its next
    ones come due later). Raises the 404 ``ApiProblem`` for an unknown agent."""
    with emu.lock:
        agent = find_agent(emu, agent_id)
        now = emu.now()
        start, done = emu.live.cursors.get(agent.id, (now, 0))
        for index in range(done, done + count):
            _record(emu, agent, index, int(now))
        emu.live.cursors[agent.id] = (start, done + count)
        return [conversation_id(emu.config.seed, agent.id, n) for n in range(done, done + count)]


def conversation_id(seed: int, agent_id: str, index: int) -> str:
    """The id of conversation ``index`` of ``agent_id`` under ``seed``."""
    digest = hashlib.sha256(f"{seed}:{agent_id}:{index}".encode()).digest()
    return "conv_" + "".join(_ID_ALPHABET[byte % 32] for byte in digest[:28])


def _record(emu: Emulator, agent: Agent, index: int, started: int) -> None:
    ident = conversation_id(emu.config.seed, agent.id, index)
    branch = emu.store.branches[assign(split_of(agent), ident)]
    version = emu.store.versions[branch.tip_version_id]
    draw = random.Random(f"{emu.config.seed}:{ident}")
    question = draw.choice(_relevant_questions(_known_text(emu, agent)))
    caller = draw.choice(_pool()["callers"])
    script = Script(
        lines=[question],
        dynamic_variables={"customer_name": caller},
        tool_mocks=_webhook_answers(emu, version.config),
    )
    played = converse(emu, agent, version, script)
    record = ConversationRecord(
        conversation_id=ident,
        agent_id=agent.id,
        agent_name=agent.name,
        start_time_unix_secs=started,
        call_duration_secs=_SECONDS_PER_MESSAGE * len(played.transcript),
        termination_reason="Call ended by remote party",
        dynamic_variables={"customer_name": caller},
        transcript=[_turn(message) for message in played.transcript],
        analysis=_analysis(played.analysis),
        branch_id=version.branch_id,
        version_id=version.id,
    )
    emu.live.add(record, started)


def _known_text(emu: Emulator, agent: Agent) -> str:
    """Main's prompt, first message and knowledge-base documents: what callers call about."""
    main = emu.store.versions[emu.store.branches[agent.main_branch_id].tip_version_id]
    agent_config = (main.config.get("conversation_config") or {}).get("agent") or {}
    prompt = agent_config.get("prompt") or {}
    documents = [
        emu.store.documents[item["id"]].text
        for item in prompt.get("knowledge_base") or []
        if isinstance(item, dict) and item.get("id") in emu.store.documents
    ]
    texts = [str(prompt.get("prompt") or ""), str(agent_config.get("first_message") or "")]
    return "\n".join(texts + documents)


@functools.lru_cache(maxsize=256)
def _relevant_questions(known: str) -> tuple[str, ...]:
    questions = [str(item["question"]) for item in _pool()["questions"]]
    topics = content_words(known)
    relevant = tuple(q for q in questions if content_words(q) & topics)
    return relevant or tuple(questions)


@functools.cache
def _pool() -> dict[str, Any]:
    pool: dict[str, Any] = json.loads(LIVE_QUESTIONS.read_text("utf-8"))
    return pool


def _webhook_answers(emu: Emulator, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every tool of the version answers as a real call does in the emulator."""
    prompt = ((config.get("conversation_config") or {}).get("agent") or {}).get("prompt") or {}
    names = [
        str(emu.store.tools[tool_id].tool_config.get("name"))
        for tool_id in prompt.get("tool_ids") or []
        if tool_id in emu.store.tools
    ]
    names += [str(tool.get("name")) for tool in prompt.get("tools") or []]
    return {name: {"default_return_value": EMULATED_WEBHOOK_ANSWER} for name in names}


def _turn(message: dict[str, Any]) -> TurnRecord:
    return TurnRecord(
        role=message["role"],
        message=message.get("message"),
        time_in_call_secs=_SECONDS_PER_MESSAGE * int(message.get("time_in_call_secs") or 0),
        tool_calls=list(message.get("tool_calls") or []),
        tool_results=list(message.get("tool_results") or []),
    )


def _analysis(analysis: dict[str, Any]) -> AnalysisRecord:
    return AnalysisRecord(
        call_successful=analysis["call_successful"],
        transcript_summary=analysis["transcript_summary"],
        call_summary_title=analysis["call_summary_title"],
        evaluation_criteria_results=analysis["evaluation_criteria_results"],
    )


class TrafficTicker:
    """A daemon thread calling :func:`catch_up` every 0.2 s until :meth:`stop`."""

    def __init__(self, emu: Emulator, interval_s: float = _TICK_S) -> None:
        self.emu = emu
        self.interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="convai-ops-traffic", daemon=True)

    def start(self) -> None:
        """Start ticking (nothing happens while ``traffic_rate`` is 0)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking and wait for the thread."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            catch_up(self.emu)
