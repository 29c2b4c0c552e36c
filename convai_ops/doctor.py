"""``convai-ops doctor``: can convai-ops work against this workspace, and what will it meet?

Every check is read-only and gives one line, ``ok``, ``warn`` (worth knowing, not blocking) or
``problem`` (a command will fail). In order:

1. **api**: the base URL answers (``GET /v1/convai/agents?page_size=1``; any HTTP answer
   counts). Without an answer nothing else is checked.
2. **key**: the same call is not refused with 401. The key is never printed, not even in
   part: the line names the variable it came from.
3. **permissions**: the key may list tests (``GET /v1/convai/agent-testing?page_size=1``) and
   knowledge-base documents (``GET /v1/convai/knowledge-base?page_size=1``), and the
   branches of each managed agent (below). Creating is not tried: a read is the closest
   probe that changes nothing.
4. **per managed agent** of the repository (the id in ``agent.yaml`` or the managed tag):
   ``GET /v1/convai/agents/{id}`` and ``GET .../branches?limit=100``, then

   - *traffic*: main's ``current_live_percentage``; below 100 is a ``warn``: a merge into
     main reaches only that share of callers (BEHAVIOUR.md "Live traffic");
   - *protection*: a main with ``protection_status: admin_perms_required`` refuses merges
     (403) from a key without admin permissions; a ``problem`` unless the branch's
     ``access_info.role`` for this key is ``admin`` (then a ``warn``);
   - *RAG*: ``GET /v1/convai/knowledge-base/{id}/rag-index`` for each document main uses;
     an index still ``new``/``created``/``processing`` is a ``warn`` (apply waits for it),
     ``failed`` and the other end states a ``problem``; a 404 (an API or emulator without
     the endpoint) gives ``unknown`` as a ``warn``.

An agent not created yet is ``ok`` (apply creates it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from convai_ops.errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    NotFoundError,
)
from convai_ops.state import find_agent_ids, map_bounded

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec

__all__ = ["DoctorReport", "Finding", "run_doctor"]

Status = Literal["ok", "warn", "problem"]
_RAG_INDEX = "/v1/convai/knowledge-base/{documentation_id}/rag-index"
_RAG_PENDING = frozenset({"new", "created", "processing"})


@dataclass(frozen=True)
class Finding:
    """One checked fact: ``status``, what it is about (``api``, ``key``, a slug...) and why."""

    status: Status
    subject: str
    message: str

    def line(self) -> str:
        """``problem  support: main is protected ...``."""
        return f"{self.status:<8} {self.subject}: {self.message}"


@dataclass(frozen=True)
class DoctorReport:
    """The findings in check order; healthy when none is a ``problem``."""

    findings: tuple[Finding, ...]

    @property
    def problems(self) -> tuple[Finding, ...]:
        """The findings that make a command fail."""
        return tuple(f for f in self.findings if f.status == "problem")

    @property
    def healthy(self) -> bool:
        """Whether no finding is a problem."""
        return not self.problems

    def render(self) -> str:
        """One line per finding, then ``healthy`` or ``N problem(s)``."""
        lines = [finding.line() for finding in self.findings]
        count = len(self.problems)
        lines.append("healthy" if not count else f"{count} problem{'s' if count > 1 else ''}")
        return "\n".join(lines) + "\n"


def run_doctor(
    client: ConvaiClient,
    agents: Sequence[AgentSpec],
    env: str,
    *,
    base_url: str,
    key_env: str,
    concurrency: int = 8,
) -> DoctorReport:
    """Run the checks of the module docstring for ``agents`` (the repository's) in ``env``.

    ``base_url`` and ``key_env`` (the variable the key came from) only word the lines. API
    errors become findings; nothing is raised for an answer the API gives.
    """
    findings = _connection(client, base_url, key_env)
    if any(f.status == "problem" for f in findings):
        return DoctorReport(tuple(findings))
    findings += _permissions(client)
    ids = find_agent_ids(client, agents, env)
    checked = map_bounded(
        lambda spec: _agent(client, spec.slug, ids.get(spec.slug)), list(agents), concurrency
    )
    return DoctorReport(tuple(findings + [f for group in checked for f in group]))


def _connection(client: ConvaiClient, base_url: str, key_env: str) -> list[Finding]:
    try:
        next(iter(client.iter_agents(page_size=1)), None)
    except ApiConnectionError:
        return [Finding("problem", "api", f"{base_url} does not answer: check the base URL")]
    except AuthenticationError as exc:
        answered = Finding("ok", "api", f"{base_url} answers")
        if exc.status == 401:
            why = f"the API refused the key in ${key_env} (HTTP 401): check it"
        else:
            why = f"the key in ${key_env} may not read agents (HTTP {exc.status})"
        return [answered, Finding("problem", "key", why)]
    except ApiError as exc:
        return [Finding("problem", "api", f"{base_url} answers with an error: {exc}")]
    ok = f"accepted (from ${key_env})"
    return [Finding("ok", "api", f"{base_url} answers"), Finding("ok", "key", ok)]


def _permissions(client: ConvaiClient) -> list[Finding]:
    probes: list[tuple[str, Callable[[], object]]] = [
        ("tests", lambda: next(iter(client.iter_tests(page_size=1)), None)),
        ("knowledge base", lambda: next(iter(client.iter_documents(page_size=1)), None)),
    ]
    return [_probe(subject, call) for subject, call in probes]


def _probe(subject: str, call: Callable[[], object]) -> Finding:
    try:
        call()
    except ApiError as exc:
        return Finding("problem", subject, f"the key may not list them (HTTP {exc.status})")
    return Finding("ok", subject, "the key may list them (creating is first tried by apply)")


def _agent(client: ConvaiClient, slug: str, agent_id: str | None) -> list[Finding]:
    if agent_id is None:
        return [Finding("ok", slug, "not created yet in this environment (apply creates it)")]
    try:
        agent = client.get_agent(agent_id)
        branches = client.list_branches(agent_id, limit=100)
    except NotFoundError:
        return [Finding("problem", slug, f"agent {agent_id} does not exist (check agent.yaml)")]
    except ApiError as exc:
        why = f"cannot read agent {agent_id} or its branches (HTTP {exc.status})"
        return [Finding("problem", slug, why)]
    main = _main_branch(client, agent, branches)
    findings = [_traffic(slug, main, branches), _protection(slug, main)]
    return findings + _rag(client, slug, agent)


def _main_branch(
    client: ConvaiClient, agent: Mapping[str, Any], branches: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any]:
    """Main's summary from the list, else ``GET .../branches/{main}`` (a full list of 100 may
    leave main out); ``{}`` for an agent without versioning."""
    main_id = agent.get("main_branch_id")
    if not main_id:
        return {}
    found = next((b for b in branches if b.get("id") == main_id), None)
    return found if found is not None else client.get_branch(str(agent["agent_id"]), main_id)


def _traffic(slug: str, main: Mapping[str, Any], branches: Sequence[Mapping[str, Any]]) -> Finding:
    share = float(main.get("current_live_percentage", 0) or 0) if main else 100.0
    if share >= 100:
        return Finding("ok", slug, "main receives 100% of live traffic")
    others = [
        f"{b.get('name')} {float(b.get('current_live_percentage') or 0):g}%"
        for b in branches
        if b is not main and b.get("id") != main.get("id") and b.get("current_live_percentage")
    ]
    also = f" (also live: {', '.join(others)})" if others else ""
    why = f"main receives {share:g}% of live traffic{also}: a merge reaches only that share"
    return Finding("warn", slug, why)


def _protection(slug: str, main: Mapping[str, Any]) -> Finding:
    if main.get("protection_status") != "admin_perms_required":
        return Finding("ok", slug, "main is not protected: writer permissions merge into it")
    role = (main.get("access_info") or {}).get("role") or "unknown"
    if role == "admin":
        why = "main is protected (admin_perms_required); the API gives this key the admin role"
        return Finding("warn", slug, why)
    why = (
        f"main is protected (admin_perms_required) and this key's role is {role}: merges "
        "answer 403, so apply stops before merging; use an admin key or merge in the dashboard"
    )
    return Finding("problem", slug, why)


def _rag(client: ConvaiClient, slug: str, agent: Mapping[str, Any]) -> list[Finding]:
    prompt = ((agent.get("conversation_config") or {}).get("agent") or {}).get("prompt") or {}
    documents = [d for d in prompt.get("knowledge_base") or () if d.get("id")]
    if not documents:
        return []
    states = {}
    for document in documents:
        states[str(document.get("name") or document["id"])] = _rag_state(client, document["id"])
    return [_rag_finding(slug, states, bool((prompt.get("rag") or {}).get("enabled")))]


def _rag_state(client: ConvaiClient, document_id: str) -> str:
    """``succeeded``, a pending or failed status of the spec's ``RAGIndexStatus``, ``none``
    (no index) or ``unknown`` (the endpoint answered 404)."""
    try:
        answer = client.request("GET", _RAG_INDEX, path_params={"documentation_id": document_id})
    except NotFoundError:
        return "unknown"
    statuses = [str(i.get("status")) for i in (answer or {}).get("indexes") or ()]
    if "succeeded" in statuses:
        return "succeeded"
    pending = [status for status in statuses if status in _RAG_PENDING]
    return pending[0] if pending else (statuses[0] if statuses else "none")


def _rag_finding(slug: str, states: Mapping[str, str], rag_enabled: bool) -> Finding:
    def named(wanted: Callable[[str], bool]) -> str:
        return ", ".join(f"{name} ({state})" for name, state in states.items() if wanted(state))

    known = {"succeeded", "none", "unknown", *_RAG_PENDING}
    if failed := named(lambda state: state not in known):
        return Finding("problem", slug, f"RAG index failed: {failed}")
    if pending := named(lambda state: state in _RAG_PENDING):
        return Finding("warn", slug, f"RAG index pending (apply waits for it): {pending}")
    if unknown := named(lambda state: state == "unknown"):
        return Finding("warn", slug, f"RAG index status unknown (the API answered 404): {unknown}")
    if rag_enabled and (missing := named(lambda state: state == "none")):
        return Finding("warn", slug, f"RAG is on but not indexed yet: {missing}")
    return Finding("ok", slug, f"{len(states)} knowledge-base document(s), none waiting on RAG")
