"""Remote state: read the live agents and normalise them to what the repository declares.

Reading costs one ``GET /v1/convai/agents/{id}`` per agent plus amortised list calls:
``GET /v1/convai/agents`` (only when some agent has no explicit id and is found by its managed
tag), ``GET /v1/convai/agent-testing`` (when some agent has tests),
``GET /v1/convai/knowledge-base`` (when some agent declares knowledge) and
``GET /v1/convai/tools`` (when some agent names tools or has a tool test). The list calls and the
agent reads overlap (:func:`read_snapshot`); the client's limiter bounds requests in flight.

Identity (one rule, :func:`resolve_agent_id`, used by every command that finds an agent): an
agent is the id in ``agent.yaml`` ``environments.<env>`` when given, else the one live agent
carrying the managed tag ``convai-ops:<slug>`` (added when convai-ops creates it), else -- after
``convai-ops mv`` -- the one carrying ``convai-ops:<previous slug>`` for a ``previous_slugs``
entry whose folder no longer exists. Two live agents carrying the tag looked for is an
:class:`~convai_ops.errors.AmbiguousAgentError`, never a silent pick. Archived agents are not
listed (the list's ``archived`` filter defaults to false), so they are never found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from convai_ops.errors import AmbiguousAgentError, NotFoundError
from convai_ops.workspace_tools import ToolIndex

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, KnowledgeSpec, TestSpec

__all__ = [
    "MANAGED_TAG_PREFIX",
    "UNTESTED_TAG",
    "LiveAgents",
    "RemoteAgent",
    "RemoteIndex",
    "Snapshot",
    "document_name",
    "fetch_index",
    "find_agent_ids",
    "managed_slugs",
    "managed_tag",
    "map_bounded",
    "project_onto",
    "read_snapshot",
    "remote_test_name",
    "resolve_agent_id",
]

MANAGED_TAG_PREFIX = "convai-ops:"
#: The tag a break-glass merge leaves on the agent until a tested merge (no colon: never a
#: managed tag; :mod:`convai_ops.breakglass`). Never declared in agent.yaml, never compared.
UNTESTED_TAG = "convai-ops-untested"

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


def managed_slugs(tags: Iterable[str] | None) -> list[str]:
    """The slugs of the managed tags among ``tags`` (``convai-ops:support`` -> ``support``)."""
    return [t[len(MANAGED_TAG_PREFIX) :] for t in tags or () if t.startswith(MANAGED_TAG_PREFIX)]


@dataclass(frozen=True)
class LiveAgents:
    """The managed agents ``GET /v1/convai/agents`` listed: ``tagged`` maps a slug to the ids
    of every agent carrying ``convai-ops:<slug>`` (list order, newest first); ``names`` maps
    each of those ids to the agent's name."""

    tagged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, summaries: Iterable[Mapping[str, Any]]) -> LiveAgents:
        """From agent summaries (``{agent_id, name, tags}``, as the list answers them)."""
        tagged: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        for summary in summaries:
            for slug in managed_slugs(summary.get("tags")):
                tagged.setdefault(slug, []).append(str(summary["agent_id"]))
                names[str(summary["agent_id"])] = str(summary.get("name") or "")
        return cls({slug: tuple(ids) for slug, ids in tagged.items()}, names)


def resolve_agent_id(spec: ReadTarget, env: str, live: LiveAgents | None) -> str | None:
    """The live agent ``spec`` is in ``env`` (see the module docstring), ``None`` when there is
    none yet; ``live`` is ``None`` when the list was not read (only a pinned id is found).

    A ``previous_slugs`` entry is looked at (newest first) only when no agent carries the
    agent's own tag and no folder of that name exists beside the agent's (that folder owns its
    tag). Raises :class:`AmbiguousAgentError` naming every id and both fixes when more than
    one agent carries the tag looked at.
    """
    pinned = spec.agent_id(env)
    if pinned or live is None:
        return pinned
    # an AgentSpec's previous folder names; the early reads' stand-ins have none
    previous: Sequence[str] = getattr(spec, "previous_slugs", ())
    for slug in (spec.slug, *reversed(previous)):
        if slug != spec.slug and _folder_exists(spec, slug):
            continue
        ids = live.tagged.get(slug, ())
        if len(ids) > 1:
            raise _ambiguous(spec, env, slug, ids)
        if ids:
            return ids[0]
    return None


def _folder_exists(spec: ReadTarget, slug: str) -> bool:
    """Whether ``agents/<slug>/`` beside ``spec``'s folder holds an ``agent.yaml``."""
    folder: Path = getattr(spec, "dir")  # noqa: B009 (not part of ReadTarget)
    return (folder.parent / slug / "agent.yaml").is_file()


def _ambiguous(spec: ReadTarget, env: str, slug: str, ids: Sequence[str]) -> AmbiguousAgentError:
    tag = managed_tag(slug)
    named = ", ".join(ids[:-1]) + f" and {ids[-1]}"
    return AmbiguousAgentError(
        f"{spec.slug}: {len(ids)} live agents carry the tag {tag} ({named}); refusing to guess: "
        f"pin one under environments: in agents/{spec.slug}/agent.yaml ({env}: {ids[0]}), or "
        f"remove the tag {tag} from the other{'s' if len(ids) > 2 else ''}"
    )


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
    """What the amortised list calls found: the agents found by tag (``agent_ids``), tests and
    documents by name, every document id (``all_document_ids``; ``None`` when the list was not
    read), the workspace tools (``tools``, empty when not listed) and every managed agent the
    agents list named (``live``; ``None`` when it was not read)."""

    agent_ids: Mapping[str, str] = field(default_factory=dict)  # slug -> agent id
    test_ids: Mapping[str, str] = field(default_factory=dict)  # remote test name -> id
    test_names: Mapping[str, str] = field(default_factory=dict)  # id -> remote test name
    document_ids: Mapping[str, str] = field(default_factory=dict)  # document name -> id
    all_document_ids: frozenset[str] | None = None
    tools: ToolIndex = field(default_factory=ToolIndex)
    live: LiveAgents | None = None


def fetch_index(client: ConvaiClient, agents: Sequence[AgentSpec], env: str) -> RemoteIndex:
    """Run only the list calls ``agents`` need (see the module docstring), side by side; the
    index's ``agent_ids`` holds each agent found (:func:`resolve_agent_id`). Raises
    :class:`AmbiguousAgentError`."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        lists = _Lists.start(pool, client, agents, env)
        live = lists.live()
        return lists.index(_resolved(agents, env, live), live)


def find_agent_ids(client: ConvaiClient, agents: Sequence[AgentSpec], env: str) -> dict[str, str]:
    """``slug -> agent id`` for those of ``agents`` that exist in ``env``
    (:func:`resolve_agent_id`; ``GET /v1/convai/agents`` is called only when some agent has no
    id written down). Raises :class:`AmbiguousAgentError`."""
    wanted = any(a.agent_id(env) is None for a in agents)
    live = LiveAgents.of(client.iter_agents(page_size=100)) if wanted else None
    return _resolved(agents, env, live)


def _resolved(agents: Sequence[AgentSpec], env: str, live: LiveAgents | None) -> dict[str, str]:
    found = {a.slug: resolve_agent_id(a, env, live) for a in agents}
    return {slug: agent_id for slug, agent_id in found.items() if agent_id}


@dataclass
class _Lists:
    """The list calls of one read, running in a pool: tests and documents as futures, agent
    summaries as a lazy iterator the caller drains (``None`` when not needed)."""

    tests: Future[dict[str, str]] | None
    documents: Future[list[dict[str, Any]]] | None
    agents: Iterator[dict[str, Any]] | None
    tools: Future[list[dict[str, Any]]] | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        pool: ThreadPoolExecutor,
        client: ConvaiClient,
        agents: Sequence[ReadTarget],
        env: str,
        list_agents: bool = False,
    ) -> _Lists:
        """Submit the tests, documents and tools lists ``agents`` need, after the first page of
        the agents list (the reads wait for it: its request goes out first); the agents list is
        read when some agent has no pinned id, and always with ``list_agents``."""
        wanted = list_agents or any(a.agent_id(env) is None for a in agents)
        agent_pages = _first_fetched(pool, client.iter_agents(page_size=100)) if wanted else None
        tests = documents = tools = None
        if any(a.tests for a in agents):
            tests = pool.submit(_by_name, lambda: client.iter_tests(page_size=100))
        if any(a.knowledge for a in agents):
            documents = pool.submit(lambda: list(client.iter_documents()))
        if any(_uses_tools(a) for a in agents):
            tools = pool.submit(lambda: list(client.iter_tools(page_size=100)))
        return cls(tests, documents, agent_pages, tools)

    def first_tagged(self) -> Iterator[tuple[str, str]]:
        """Yield ``(slug, agent id)`` for the first agent carrying each managed tag, as its
        page arrives (a guess to start reading early: :meth:`live` has the whole list)."""
        first: set[str] = set()
        for summary in self.agents or ():
            self.seen.append(summary)
            for slug in managed_slugs(summary.get("tags")):
                if slug not in first:
                    first.add(slug)
                    yield slug, str(summary["agent_id"])

    def live(self) -> LiveAgents | None:
        """Every managed agent listed (drains the list); ``None`` when it was not read."""
        if self.agents is None:
            return None
        for _ in self.first_tagged():
            pass
        return LiveAgents.of(self.seen)

    def index(self, agent_ids: Mapping[str, str], live: LiveAgents | None) -> RemoteIndex:
        """Wait for the tests, documents and tools lists; the index with ``agent_ids`` and
        ``live``."""
        tests = self.tests.result() if self.tests else {}
        documents = self.documents.result() if self.documents else None
        names = {test_id: name for name, test_id in tests.items()}
        by_name = {d["name"]: d["id"] for d in documents or ()}
        ids = frozenset(str(d["id"]) for d in documents) if documents is not None else None
        tools = ToolIndex(self.tools.result() if self.tools else ())
        return RemoteIndex(agent_ids, tests, names, by_name, ids, tools, live)


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
    list_agents: bool = False,
    keep_early: bool = False,
) -> Snapshot:
    """Read the remote state of ``agents`` in ``env``: the list calls and one GET per agent.

    Everything overlaps: the tests and documents lists run beside the agent reads, an agent
    with an id in ``agent.yaml`` is read at once, and an agent found by its managed tag is read
    as soon as the page of ``GET /v1/convai/agents`` naming it arrives (one found through a
    previous slug once the whole list is read). The client's limiter bounds the requests in
    flight. ``Snapshot.agents`` holds ``None`` for an agent still to be created, in the order
    of ``agents``. ``list_agents`` reads the agents list even when every id is pinned (the
    plan's orphans need it; ``Snapshot.index.live``). Answers read ahead by early reads
    (:mod:`convai_ops.early_reads`) not taken are dropped at the end, unless ``keep_early``:
    the caller then ends them (``client.end_early_reads(drop=True)``) after its own reads.

    ``on_agent(spec, remote, index)``, when given, is called in the calling thread for each
    agent as soon as its read and the list calls are done (in the order reads finish), so work
    on one agent overlaps the reads of the others.

    Raises ``SpecError`` at its ``agent.yaml`` line when an id written there does not exist
    (``reference_check.missing_agent``), ``NotFoundError`` for one found by its tag,
    :class:`AmbiguousAgentError` (before ``on_agent`` is called) when two agents carry the tag
    looked for, and any ``ConvaiOpsError`` a list call or read raised (reads not yet started
    are cancelled).
    """
    pool = ThreadPoolExecutor(max_workers=concurrency + 2)
    try:
        lists = _Lists.start(pool, client, agents, env, list_agents)
        reads = _start_reads(pool, client, agents, env, lists)
        index = lists.index({s: r.agent_id for s, r in reads.items()}, lists.live())
        remote = _finish_reads(agents, reads, index, on_agent)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if not keep_early:  # answers read ahead for this snapshot: used or gone
            client.end_early_reads(drop=True)
    pool.shutdown(wait=True)
    return Snapshot(index, remote)


@dataclass(frozen=True)
class _Read:
    agent_id: str
    future: Future[RemoteAgent]


def _start_reads(
    pool: ThreadPoolExecutor,
    client: ConvaiClient,
    agents: Sequence[A],
    env: str,
    lists: _Lists,
) -> dict[str, _Read]:
    """Start one read per agent that exists: pinned ones at once, tagged ones as their page
    arrives; then, with the whole list, resolve every agent (:func:`resolve_agent_id`: raises
    on an ambiguous tag) and start the reads still missing."""

    def read(agent_id: str, spec: A | None = None) -> RemoteAgent:
        try:
            return RemoteAgent(agent_id, client.get_agent(agent_id))
        except NotFoundError:
            if spec is None or not hasattr(spec, "path"):  # found by its tag, then deleted,
                raise  # or read ahead for a stand-in with no file to point at: a plain 404
            from convai_ops.reference_check import missing_agent  # loads the YAML reader

            raise missing_agent(cast("AgentSpec", spec), env) from None

    reads = {a.slug: _Read(i, pool.submit(read, i, a)) for a in agents if (i := a.agent_id(env))}
    by_tag = {a.slug for a in agents} - set(reads)
    for slug, agent_id in lists.first_tagged():
        if slug in by_tag and slug not in reads:
            reads[slug] = _Read(agent_id, pool.submit(read, agent_id))
    live = lists.live()
    for spec in agents:
        found = resolve_agent_id(spec, env, live)
        if found and (spec.slug not in reads or reads[spec.slug].agent_id != found):
            reads[spec.slug] = _Read(found, pool.submit(read, found))
    return reads


def _finish_reads(
    agents: Sequence[A],
    reads: Mapping[str, _Read],
    index: RemoteIndex,
    on_agent: Callable[[A, RemoteAgent | None, RemoteIndex], None] | None,
) -> dict[str, RemoteAgent | None]:
    specs = {a.slug: a for a in agents}
    remote: dict[str, RemoteAgent | None] = {a.slug: None for a in agents}
    slugs = {r.future: slug for slug, r in reads.items()}
    if on_agent is not None:
        for spec in agents:
            if spec.slug not in reads:
                on_agent(spec, None, index)
    for future in as_completed(slugs):
        slug = slugs[future]
        remote[slug] = future.result()
        if on_agent is not None:
            on_agent(specs[slug], remote[slug], index)
    return remote
