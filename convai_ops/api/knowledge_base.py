"""Knowledge base documents: create from text, URL or file; list, read, delete; RAG indexes."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from typing import Any

from convai_ops.errors import ApiError

from .base import BaseClient
from .routing import compact

__all__ = ["KnowledgeBaseMixin"]

_KB = "/v1/convai/knowledge-base"
_DOCUMENT = _KB + "/{documentation_id}"


class KnowledgeBaseMixin(BaseClient):
    """Knowledge base calls of :class:`ConvaiClient`."""

    def create_text_document(self, text: str, *, name: str | None = None) -> dict[str, Any]:
        """Create a document holding ``text``; return ``{"id", "name", ...}``.

        Calls ``POST /v1/convai/knowledge-base/text``. Raises :class:`RequestValidationError`.
        """
        return self._object("POST", _KB + "/text", json=compact(text=text, name=name))

    def create_url_document(self, url: str, *, name: str | None = None) -> dict[str, Any]:
        """Create a document from the web page at ``url``; return ``{"id", "name", ...}``.

        Calls ``POST /v1/convai/knowledge-base/url``. Raises :class:`RequestValidationError`.
        """
        return self._object("POST", _KB + "/url", json=compact(url=url, name=name))

    def create_file_document(
        self, filename: str, content: bytes, *, name: str | None = None
    ) -> dict[str, Any]:
        """Upload ``content`` as the file ``filename``; return ``{"id", "name", ...}``.

        Sent as multipart form data: field ``file`` (content type guessed from ``filename``)
        and, when given, ``name``. Calls ``POST /v1/convai/knowledge-base/file``. Raises
        :class:`RequestValidationError` (e.g. an unsupported file type).
        """
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        files = {"file": (filename, content, content_type)}
        return self._object("POST", _KB + "/file", files=files, data=compact(name=name))

    def iter_documents(
        self,
        *,
        search: str | None = None,
        types: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Yield document summaries (``id``, ``name``, ``type``, ``metadata``, ...) lazily.

        ``search`` matches name prefixes; ``types`` keeps ``file``/``url``/``text``/``folder``
        documents; ``page_size`` is 1-100. Calls ``GET /v1/convai/knowledge-base`` (cursor
        pages).
        """
        params = {"search": search, "types": types, "page_size": page_size}
        return self._paginate(_KB, "documents", params)

    def get_document(self, document_id: str) -> dict[str, Any]:
        """Return a document (``id``, ``name``, ``type``, ``metadata``, ``url`` or
        ``extracted_inner_html``, ...).

        Calls ``GET /v1/convai/knowledge-base/{documentation_id}``. Raises
        :class:`NotFoundError`.
        """
        return self._object("GET", _DOCUMENT, path_params={"documentation_id": document_id})

    def get_document_content(self, document_id: str) -> str:
        """Return a document's full content as text (HTML for web pages).

        Calls ``GET /v1/convai/knowledge-base/{documentation_id}/content``. Raises
        :class:`NotFoundError`.
        """
        path_params = {"documentation_id": document_id}
        content = self.request("GET", _DOCUMENT + "/content", path_params=path_params)
        if content is None:
            return ""
        if isinstance(content, str):
            return content
        raise ApiError("expected text content", method="GET", path=_DOCUMENT + "/content")

    def delete_document(self, document_id: str, *, force: bool = False) -> None:
        """Delete a document; ``force`` also removes it from the agents that use it.

        Calls ``DELETE /v1/convai/knowledge-base/{documentation_id}``. Raises
        :class:`NotFoundError`, or :class:`ApiError` when agents still depend on it.
        """
        path_params = {"documentation_id": document_id}
        params = {"force": True if force else None}
        self.request("DELETE", _DOCUMENT, path_params=path_params, params=params)

    def document_dependent_agents(self, document_id: str) -> list[dict[str, Any]]:
        """Return every agent that uses the document (``id``, ``name``, ``type``
        ``available``/``unknown``, ...), following all pages.

        Calls ``GET /v1/convai/knowledge-base/{documentation_id}/dependent-agents`` (cursor
        pages). Raises :class:`NotFoundError`.
        """
        path_params = {"documentation_id": document_id}
        pages = self._paginate(_DOCUMENT + "/dependent-agents", "agents", {}, path_params)
        return list(pages)

    def document_dependents(self, document_id: str) -> dict[str, list[dict[str, Any]]]:
        """Return ``{"agents": [...], "branches": [...]}`` using the document: agents as
        :meth:`document_dependent_agents` gives them, branches as ``{agent_id, agent_name,
        branch_id, branch_name, is_main}`` (first page, up to 100 agents).

        Calls ``GET /v1/convai/knowledge-base/{documentation_id}/dependent-agents``. Raises
        :class:`NotFoundError`.
        """
        path_params = {"documentation_id": document_id}
        page = self._object(
            "GET",
            _DOCUMENT + "/dependent-agents",
            path_params=path_params,
            params={"page_size": 100},
        )
        return {key: list(page.get(key) or []) for key in ("agents", "branches")}

    def compute_rag_index(self, document_id: str, *, model: str) -> dict[str, Any]:
        """Start the document's RAG index for embedding ``model`` unless it has one; return it
        (``{"id", "model", "status", "progress_percentage", ...}``, ``status`` one of
        ``RAGIndexStatus``: ``processing``, ``succeeded``, ``failed``, ...).

        Calls ``POST /v1/convai/knowledge-base/{documentation_id}/rag-index``. Raises
        :class:`NotFoundError`, :class:`RequestValidationError` (unknown model).
        """
        path_params = {"documentation_id": document_id}
        body = {"model": model}
        return self._object("POST", _DOCUMENT + "/rag-index", path_params=path_params, json=body)

    def get_rag_indexes(self, document_id: str) -> list[dict[str, Any]]:
        """Return every RAG index of the document (one per embedding model; ``[]`` when none
        was started), each as :meth:`compute_rag_index` answers.

        Calls ``GET /v1/convai/knowledge-base/{documentation_id}/rag-index``. Raises
        :class:`NotFoundError`.
        """
        path_params = {"documentation_id": document_id}
        found = self._object("GET", _DOCUMENT + "/rag-index", path_params=path_params)
        return list(found.get("indexes") or [])
