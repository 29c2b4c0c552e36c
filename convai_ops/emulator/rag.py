"""RAG indexes of knowledge-base documents, and which documents an agent can use.

BEHAVIOUR.md "Knowledge base": a document must be RAG-indexed before retrieval works; indexing
starts when the document is added to an agent with RAG enabled and takes a while; the docs'
example polls the index until ``SUCCEEDED``. The emulator's reading (the stricter one):

- A document has one index per embedding model (``EmbeddingModelEnum``). Indexing starts only
  when asked (``POST /v1/convai/knowledge-base/{id}/rag-index`` or the batch endpoint with
  ``create_if_missing``) or when a version is committed whose agent has
  ``prompt.rag.enabled`` and lists the document with ``usage_mode`` ``auto`` (the default);
  uploading a document starts nothing.
- An index reads ``processing`` (progress growing with time) until
  ``EmulatorConfig.rag_index_delay_s`` seconds after it started, then ``succeeded`` (100%).
- Which documents the agent reads (:func:`readable_documents`): with RAG disabled, every
  document whole (the RAG docs: without RAG, documents are loaded into the context window);
  with RAG enabled, ``usage_mode: prompt`` documents whole (the locator's "prompt" mode puts
  the document in the prompt, capped at 300 KB by the docs) and ``auto`` documents only once
  their index for the agent's ``rag.embedding_model`` has succeeded at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from convai_ops.emulator.core import Emulator
from convai_ops.emulator.store import Document, RagIndex

__all__ = [
    "DEFAULT_MODEL",
    "index_response",
    "index_status",
    "rag_settings",
    "readable_documents",
    "start_for_config",
    "start_index",
]

DEFAULT_MODEL = "e5_mistral_7b_instruct"
"""``EmbeddingModelEnum``'s default (also ``RagConfig.embedding_model``'s)."""


def start_index(emu: Emulator, document: Document, model: str) -> RagIndex:
    """Return ``document``'s index for ``model``, starting it now when there is none."""
    index = document.rag_indexes.get(model)
    if index is None:
        index = RagIndex(id=emu.new_id(), model=model, started_at=emu.now())
        document.rag_indexes[model] = index
    return index


def index_status(emu: Emulator, index: RagIndex, at: float | None = None) -> tuple[str, float]:
    """``(status, progress_percentage)`` of ``index`` at ``at`` (default now):
    ``("processing", 0..99)`` before ``rag_index_delay_s`` has passed, then
    ``("succeeded", 100)``."""
    delay = emu.config.rag_index_delay_s
    elapsed = (emu.now() if at is None else at) - index.started_at
    if elapsed >= delay:
        return "succeeded", 100.0
    return "processing", min(99.0, float(int(100 * max(0.0, elapsed) / delay)))


def index_response(emu: Emulator, document: Document, index: RagIndex) -> dict[str, Any]:
    """``RAGDocumentIndexResponseModel`` of ``index``."""
    status, progress = index_status(emu, index)
    used = len(document.text.encode()) if status == "succeeded" else 0
    return {
        "id": index.id,
        "model": index.model,
        "status": status,
        "progress_percentage": progress,
        "document_model_index_usage": {"used_bytes": used},
    }


def rag_settings(config: Mapping[str, Any]) -> tuple[bool, str]:
    """``(enabled, embedding_model)`` of a version's stored ``config`` (``RagConfig``'s
    defaults: disabled, ``e5_mistral_7b_instruct``)."""
    rag = _prompt(config).get("rag") or {}
    return bool(rag.get("enabled", False)), str(rag.get("embedding_model") or DEFAULT_MODEL)


def _prompt(config: Mapping[str, Any]) -> Mapping[str, Any]:
    agent = (config.get("conversation_config") or {}).get("agent") or {}
    return dict(agent.get("prompt") or {})


def _locators(config: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for locator in _prompt(config).get("knowledge_base") or []:
        if isinstance(locator, Mapping):
            yield locator


def _retrieved(locator: Mapping[str, Any], enabled: bool) -> bool:
    """True when the document reaches the agent through RAG retrieval (needs an index)."""
    return enabled and (locator.get("usage_mode") or "auto") == "auto"


def start_for_config(emu: Emulator, config: Mapping[str, Any]) -> None:
    """Start the index of each document ``config`` retrieves through RAG (see module doc)."""
    enabled, model = rag_settings(config)
    for locator in _locators(config):
        document = emu.store.documents.get(str(locator.get("id")))
        if document is not None and _retrieved(locator, enabled):
            start_index(emu, document, model)


def readable_documents(emu: Emulator, config: Mapping[str, Any], at: float) -> list[Document]:
    """The documents of ``config`` (a resolved or stored version config) the agent can read at
    Unix time ``at``, in ``knowledge_base`` order (rules in the module doc)."""
    enabled, model = rag_settings(config)
    found = []
    for locator in _locators(config):
        document = emu.store.documents.get(str(locator.get("id")))
        if document is None:
            continue
        if _retrieved(locator, enabled) and not _indexed(emu, document, model, at):
            continue
        found.append(document)
    return found


def _indexed(emu: Emulator, document: Document, model: str, at: float) -> bool:
    index = document.rag_indexes.get(model)
    return index is not None and index_status(emu, index, at)[0] == "succeeded"
