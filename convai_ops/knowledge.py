"""Knowledge-base sync: upload an agent's documents under content-addressed names.

A local file becomes a document named ``<slug>/<path> #<sha256[:8]>``
(``POST /v1/convai/knowledge-base/text`` for .md/.txt, ``/file`` otherwise); a URL entry a
document named by its URL (``POST /v1/convai/knowledge-base/url``); an ``id`` entry is used as
is (``GET /v1/convai/knowledge-base/{id}`` for its name and type). A document is never
overwritten in place: changed content gets a new name, so main keeps pointing at the old one
until the branch carrying the new one passes its tests. Unchanged content is never re-uploaded.

Before tests run, :func:`wait_for_rag_indexes` makes sure every document the agent retrieves
through RAG is indexed (docs: a document must be RAG-indexed before retrieval works, and
indexing "may take a few minutes"). Which documents: with ``prompt.rag.enabled`` on the branch
(or main) the tests run on, those whose locator has ``usage_mode`` ``auto`` (the default);
``prompt`` documents are put in the prompt whole and RAG-off agents read documents whole, so
neither needs an index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_result,
    stop_after_delay,
    wait_exponential,
)

from convai_ops.errors import KnowledgeIndexError
from convai_ops.state import RemoteIndex, document_name

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, KnowledgeSpec
    from convai_ops.testing import PollPolicy

__all__ = ["TEXT_SUFFIXES", "rag_documents", "sync_knowledge", "wait_for_rag_indexes"]

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
Reporter = Callable[[str, str], None]


def sync_knowledge(
    client: ConvaiClient, spec: AgentSpec, index: RemoteIndex, report: Reporter
) -> list[dict[str, Any]]:
    """Make sure every document of ``spec`` exists; return the agent's knowledge-base locators
    (``[{type, name, id, usage_mode}]``, for ``conversation_config.agent.prompt.knowledge_base``).
    """
    return [_locator(client, spec, k, index, report) for k in spec.knowledge]


def _locator(
    client: ConvaiClient,
    spec: AgentSpec,
    knowledge: KnowledgeSpec,
    index: RemoteIndex,
    report: Reporter,
) -> dict[str, Any]:
    name = document_name(spec.slug, knowledge)
    doc_id = knowledge.id if knowledge.kind == "id" else index.document_ids.get(name)
    kind = {"file": "text" if _is_text(knowledge) else "file", "url": "url", "id": "text"}
    doc_type = kind[knowledge.kind]
    if doc_id is None:
        doc_id = _upload(client, knowledge, name)["id"]
        report(spec.slug, f"uploaded knowledge-base document {name!r} ({doc_id})")
    elif knowledge.kind == "id":
        doc = client.get_document(doc_id)
        name, doc_type = doc.get("name", name), doc.get("type", doc_type)
    return {"type": doc_type, "name": name, "id": doc_id, "usage_mode": knowledge.usage_mode}


def _upload(client: ConvaiClient, knowledge: KnowledgeSpec, name: str) -> dict[str, Any]:
    if knowledge.kind == "url":
        return client.create_url_document(str(knowledge.url), name=name)
    path = knowledge.path
    assert path is not None  # a file entry always has its absolute path
    if _is_text(knowledge):
        return client.create_text_document(path.read_text(encoding="utf-8"), name=name)
    return client.create_file_document(path.name, path.read_bytes(), name=name)


def _is_text(knowledge: KnowledgeSpec) -> bool:
    return str(knowledge.path).lower().endswith(TEXT_SUFFIXES)


_FAILED = frozenset({"failed", "rag_limit_exceeded", "document_too_small", "cannot_index_folder"})
_DEFAULT_MODEL = "e5_mistral_7b_instruct"  # RagConfig.embedding_model's default in the spec
Progress = Callable[[str], None]


def rag_documents(agent: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    """``(embedding_model, locators)``: the knowledge-base locators of ``agent`` (a GET answer)
    that reach it through RAG retrieval (none when ``prompt.rag.enabled`` is off)."""
    prompt = (agent.get("conversation_config") or {}).get("agent", {}).get("prompt") or {}
    rag = prompt.get("rag") or {}
    model = str(rag.get("embedding_model") or _DEFAULT_MODEL)
    if not rag.get("enabled"):
        return model, []
    locators = [loc for loc in prompt.get("knowledge_base") or [] if isinstance(loc, Mapping)]
    return model, [loc for loc in locators if (loc.get("usage_mode") or "auto") == "auto"]


def wait_for_rag_indexes(
    client: ConvaiClient,
    agent_id: str,
    branch_id: str | None,
    policy: PollPolicy,
    progress: Progress | None = None,
) -> None:
    """Wait until every document the agent retrieves through RAG on ``branch_id`` (main when
    None) has a ``succeeded`` index for the agent's embedding model.

    Reads the agent (``GET /v1/convai/agents/{id}``), requests each index
    (``POST /v1/convai/knowledge-base/{id}/rag-index``), then polls
    ``GET .../{id}/rag-index`` with exponential backoff (``policy.initial`` doubling up to
    ``policy.cap`` seconds) for at most ``policy.timeout`` seconds. Raises
    :class:`KnowledgeIndexError` naming the documents whose index failed or is still pending,
    or an ``ApiError``.
    """
    model, locators = rag_documents(client.get_agent(agent_id, branch_id=branch_id))
    names = {str(loc["id"]): str(loc.get("name") or loc["id"]) for loc in locators}
    if not names:
        return
    for document_id in names:
        client.compute_rag_index(document_id, model=model)
    retrying = Retrying(
        retry=retry_if_result(bool),
        wait=wait_exponential(multiplier=policy.initial, min=policy.initial, max=policy.cap),
        stop=stop_after_delay(policy.timeout),
        before_sleep=lambda state: _say(progress, _waiting(state, names)),
        sleep=policy.sleep or time.sleep,
    )
    try:
        retrying(_pending, client, names, model)
    except RetryError as exc:
        pending = exc.last_attempt.result()
        raise KnowledgeIndexError(
            f"RAG index not ready after {policy.timeout:g}s (--test-timeout) for "
            f"{_listed(pending, names)}; tests were not run. Retry later or raise the timeout."
        ) from None
    _say(progress, f"RAG index succeeded for {len(names)} document(s)")


def _pending(client: ConvaiClient, names: Mapping[str, str], model: str) -> dict[str, str]:
    """``{document_id: status}`` of the documents not indexed yet; raises for a failed one."""
    pending = {}
    for document_id in names:
        indexes = client.get_rag_indexes(document_id)
        status = next((str(i["status"]) for i in indexes if i.get("model") == model), "none")
        if status in _FAILED:
            raise KnowledgeIndexError(
                f"RAG index of knowledge-base document {names[document_id]!r} ({document_id}) "
                f"is {status!r}: fix or replace the document; tests were not run"
            )
        if status != "succeeded":
            pending[document_id] = status
    return pending


def _waiting(state: RetryCallState, names: Mapping[str, str]) -> str:
    pending = state.outcome.result() if state.outcome else {}
    return f"waiting for the RAG index of {_listed(pending, names)}"


def _listed(pending: Mapping[str, str], names: Mapping[str, str]) -> str:
    return ", ".join(f"{names[doc]!r} ({doc}: {status})" for doc, status in pending.items())


def _say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)
