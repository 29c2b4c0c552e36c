"""Remote state: read the live agents and normalise them to what the repository declares.

Reading costs one ``GET /v1/convai/agents/{id}`` per agent plus amortised list calls:
``GET /v1/convai/agents`` (only when some agent has no explicit id and is found by its managed
tag), ``GET /v1/convai/agent-testing`` (when some agent has tests),
``GET /v1/convai/knowledge-base`` (when some agent declares knowledge) and
``GET /v1/convai/tools`` (when some agent names tools or has a tool test). The list calls and the
agent reads overlap (:func:`read_snapshot`); the client's limiter bounds requests in flight.

Identity: an agent is the id in ``agent.yaml`` ``environments.<env>`` when given, else the agent
carrying the managed tag ``convai-ops:<slug>`` (added when convai-ops creates it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from convai_ops.errors import NotFoundError
from convai_ops.workspace_tools import ToolIndex

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, KnowledgeSpec, TestSpec

__all__ = [
    "MANAGED_TAG_PREFIX",
    "RemoteAgent",
    "RemoteIndex",
    "Snapshot",
    "document_name",
    "fetch_index",
    "find_agent_ids",
    "managed_tag",
    "map_bounded",
    "project_onto",
    "read_snapshot",
    "remote_test_name",
]

MANAGED_TAG_PREFIX = "convai-ops:"

T = TypeVar("T")
R = TypeVar("R")


class _TestLike(Protocol):
    @property
    def type(self) -> str: ...


class ReadTarget(Protocol):
    """What reading an agent's remote state needs of it: an :class:`AgentSpec`, or the light
    stand-in :mod:`convai_ops.early_reads` builds before the project is loaded."""

    @property
    def slug(self) -> str: ...

    @property
    def tests(self) -> Sequence[_TestLike]: ...

    @property
    def knowledge(self) -> Sequence[object]: ...

    @property
    def tools(self) -> Sequence[str] | None: ...

    def agent_id(self, env: str | None) -> str | None: ...


A = TypeVar("A", bound=ReadTarget)


def managed_tag(slug: str) -> str:
    """The tag convai-ops puts on an agent it creates, e.g. ``convai-ops:support``."""
    return f"{MANAGED_TAG_PREFIX}{slug}"


def remote_test_name(slug: str, test: TestSpec) -> str:
    """Remote name of a test: content-addressed, e.g. ``support/refund-window #1a2b3c4d``.

    Two pull requests changing the same test differently get two remote tests, never one
    overwritten by the other.
    """
    return f"{slug}/{test.name} #{test.content_hash[:8]}"


def document_name(slug: str, knowledge: KnowledgeSpec) -> str:
    """Remote name of a knowledge-base document convai-ops uploads.

    Files are content-addressed (``support/refunds.md #a1b2c3d4``) and never overwritten in
    place; URL entries are named by their URL; id entries keep the name given in YAML.
    """
    if knowledge.kind == "file":
        return f"{slug}/{knowledge.name} #{(knowledge.content_hash or '')[:8]}"
    if knowledge.kind == "url":
        return str(knowledge.url)
    return knowledge.name or str(knowledge.id)


@dataclass(frozen=True)
class RemoteAgent:
    """One live agent as read from main (``GET /v1/convai/agents/{id}``, full response body)."""

    agent_id: str
    config: Mapping[str, Any]

    @property
    def version_id(self) -> str | None:
        """Main's current version id (``None`` when versioning is off)."""
        return self.config.get("version_id")

    @property
    def main_branch_id(self) -> str | None:
        """The id of the agent's main branch (``None`` when versioning is off)."""
        return self.config.get("main_branch_id")


@dataclass(frozen=True)
class RemoteIndex:
    """What the amortised list calls found: managed agents, tests and documents by name,
    every document id (``all_document_ids``; ``None`` when the list was not read) and the
    workspace tools (``tools``, empty when not listed)."""

    agent_ids: Mapping[str, str] = field(default_factory=dict)  # slug -> agent id
    test_ids: Mapping[str, str] = field(default_factory=dict)  # remote test name -> id
    test_names: Mapping[str, str] = field(default_factory=dict)  # id -> remote test name
    document_ids: Mapping[str, str] = field(default_factory=dict)  # document name -> id
    all_document_ids: frozenset[str] | None = None
    tools: ToolIndex = field(default_factory=ToolIndex)


def fetch_index(client: ConvaiClient, agents: Sequence[AgentSpec], env: str) -> RemoteIndex:
    """Run only the list calls ``agents`` need (see the module docstring), side by side."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        lists = _Lists.start(pool, client, agents, env)
        return lists.index(dict(lists.managed_agents()))


def find_agent_ids(client: ConvaiClient, agents: Sequence[AgentSpec], env: str) -> dict[str, str]:
    """``slug -> agent id`` for those of ``agents`` that exist in ``env``: the id in
    ``agent.yaml``, else the agent carrying the managed tag (``GET /v1/convai/agents``, called
    only when some agent has no id written down)."""
    ids = {a.slug: agent_id for a in agents if (agent_id := a.agent_id(env))}
    if len(ids) < len(agents):
        tagged = dict(_Lists(None, None, client.iter_agents(page_size=100)).managed_agents())
        ids.update({a.slug: tagged[a.slug] for a in agents if a.slug in tagged.keys() - ids})
    return ids


@dataclass
class _Lists:
    """The list calls of one read, running in a pool: tests and documents as futures, agent
    summaries as a lazy iterator the caller drains (``None`` when not needed)."""

    tests: Future[dict[str, str]] | None
    documents: Future[list[dict[str, Any]]] | None
    agents: Iterator[dict[str, Any]] | None
    tools: Future[list[dict[str, Any]]] | None = None

    @classmethod
    def start(
        cls, pool: ThreadPoolExecutor, client: ConvaiClient, agents: Sequence[ReadTarget], env: str
    ) -> _Lists:
        """Submit the tests, documents and tools lists ``agents`` need, after the first page of
        the agents list (the reads wait for it: its request goes out first)."""
        wanted = any(a.agent_id(env) is None for a in agents)
        agent_pages = _first_fetched(pool, client.iter_agents(page_size=100)) if wanted else None
        tests = documents = tools = None
        if any(a.tests for a in agents):
            tests = pool.submit(_by_name, lambda: client.iter_tests(page_size=100))
        if any(a.knowledge for a in agents):
            documents = pool.submit(lambda: list(client.iter_documents()))
        if any(_uses_tools(a) for a in agents):
            tools = pool.submit(lambda: list(client.iter_tools(page_size=100)))
        return cls(tests, documents, agent_pages, tools)

    def managed_agents(self) -> Iterator[tuple[str, str]]:
        """Yield ``(slug, agent id)`` for each managed agent as its page arrives; each slug
        once (the first agent carrying its tag in list order, newest first)."""
        seen: set[str] = set()
        for summary in self.agents or ():
            for tag in summary.get("tags") or ():
                slug = tag[len(MANAGED_TAG_PREFIX) :]
                if tag.startswith(MANAGED_TAG_PREFIX) and slug not in seen:
                    seen.add(slug)
                    yield slug, summary["agent_id"]

    def index(self, agent_ids: Mapping[str, str]) -> RemoteIndex:
        """Wait for the tests, documents and tools lists; the index with ``agent_ids``."""
        tests = self.tests.result() if self.tests else {}
        documents = self.documents.result() if self.documents else None
        names = {test_id: name for name, test_id in tests.items()}
        by_name = {d["name"]: d["id"] for d in documents or ()}
        ids = frozenset(str(d["id"]) for d in documents) if documents is not None else None
        tools = ToolIndex(self.tools.result() if self.tools else ())
        return RemoteIndex(agent_ids, tests, names, by_name, ids, tools)


def _first_fetched(pool: ThreadPoolExecutor, items: Iterator[T]) -> Iterator[T]:
    """``items``, its first item (so its first page) fetched in ``pool`` from now on; the
    rest as the caller iterates."""
    end = object()
    first = pool.submit(next, items, end)

    def rest() -> Iterator[T]:
        head = first.result()
        if head is not end:
            yield cast(T, head)
            yield from items

    return rest()


def _uses_tools(agent: ReadTarget) -> bool:
    """The agent names tools, or has a tool test (its ``referenced_tool`` is resolved)."""
    return agent.tools is not None or any(t.type == "tool" for t in agent.tests)


def _by_name(items: Callable[[], Iterable[Mapping[str, Any]]]) -> dict[str, str]:
    return {item["name"]: item["id"] for item in items()}


def map_bounded(func: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """Apply ``func`` to ``items`` in at most ``workers`` threads, keeping order."""
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(func, items))


def project_onto(remote: Any, declared: Any) -> Any:
    """Keep only the parts of ``remote`` at paths present in ``declared``.

    Dicts are walked key by key (a declared key missing remotely stays missing); anything else
    (scalars, lists) is a leaf and returned whole. Server defaults the user never declared
    therefore never show as changes.
    """
    if isinstance(declared, Mapping) and isinstance(remote, Mapping):
        return {k: project_onto(remote[k], v) for k, v in declared.items() if k in remote}
    return remote


@dataclass(frozen=True)
class Snapshot:
    """Everything one run read from the API: the list-call index and main of each agent."""

    index: RemoteIndex
    agents: Mapping[str, RemoteAgent | None]


def read_snapshot(
    client: ConvaiClient,
    agents: Sequence[A],
    env: str,
    *,
    concurrency: int = 8,
    on_agent: Callable[[A, RemoteAgent | None, RemoteIndex], None] | None = None,
) -> Snapshot:
    """Read the remote state of ``agents`` in ``env``: the list calls and one GET per agent.

    Everything overlaps: the tests and documents lists run beside the agent reads, an agent
    with an id in ``agent.yaml`` is read at once, and an agent found by its managed tag is read
    as soon as the page of ``GET /v1/convai/agents`` naming it arrives. The client's limiter
    bounds the requests in flight. ``Snapshot.agents`` holds ``None`` for an agent still to be
    created, in the order of ``agents``.

    ``on_agent(spec, remote, index)``, when given, is called in the calling thread for each
    agent as soon as its read and the list calls are done (in the order reads finish), so work
    on one agent overlaps the reads of the others.

    Raises ``SpecError`` at its ``agent.yaml`` line when an id written there does not exist
    (``reference_check.missing_agent``), ``NotFoundError`` for one found by its tag, and any
    ``ConvaiOpsError`` a list call or read raised (reads not yet started are cancelled).
    """

    def read(agent_id: str, spec: A | None = None) -> RemoteAgent:
        try:
            return RemoteAgent(agent_id, client.get_agent(agent_id))
        except NotFoundError:
            if spec is None or not hasattr(spec, "path"):  # found by its tag, then deleted,
                raise  # or read ahead for a stand-in with no file to point at: a plain 404
            from convai_ops.reference_check import missing_agent  # loads the YAML reader

            raise missing_agent(cast("AgentSpec", spec), env) from None

    pool = ThreadPoolExecutor(max_workers=concurrency + 2)
    try:
        lists = _Lists.start(pool, client, agents, env)
        reads = {a.slug: pool.submit(read, i, a) for a in agents if (i := a.agent_id(env))}
        by_tag = {a.slug for a in agents} - set(reads)
        found: dict[str, str] = {}
        for slug, agent_id in lists.managed_agents():
            found[slug] = agent_id
            if slug in by_tag:
                reads[slug] = pool.submit(read, agent_id)
        index = lists.index(found)
        specs = {a.slug: a for a in agents}
        remote: dict[str, RemoteAgent | None] = {a.slug: None for a in agents}
        slugs = {future: slug for slug, future in reads.items()}
        if on_agent is not None:
            for spec in agents:
                if spec.slug not in reads:
                    on_agent(spec, None, index)
        for future in as_completed(slugs):
            slug = slugs[future]
            remote[slug] = future.result()
            if on_agent is not None:
                on_agent(specs[slug], remote[slug], index)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        client.end_early_reads(drop=True)  # answers read ahead for this snapshot: used or gone
    pool.shutdown(wait=True)
    return Snapshot(index, remote)
