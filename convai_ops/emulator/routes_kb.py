"""Knowledge-base routes: ``/v1/convai/knowledge-base/{text,url,file}`` (create),
``/v1/convai/knowledge-base`` (list), ``/v1/convai/knowledge-base/{documentation_id}``
(GET, PATCH, DELETE), ``.../content`` and ``.../dependent-agents``.

URL documents are not fetched (the emulator stays offline): their text is empty until a PATCH
gives ``content``. File documents are read as UTF-8 text.
"""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse

from convai_ops.emulator import references
from convai_ops.emulator.core import ACCESS_INFO, Emulator
from convai_ops.emulator.http import Body, Emu, page
from convai_ops.emulator.problems import not_found
from convai_ops.emulator.store import Document
from convai_ops.emulator.uploads import check_upload

__all__ = ["router"]

router = APIRouter()
PageSize = Annotated[int, Query(ge=1, le=100)]
DocumentType = Literal["file", "url", "text", "folder"]
_BASE = "/v1/convai/knowledge-base"


def _add(
    emu: Emulator, kind: Literal["text", "url", "file"], name: str, text: str, **extra: str | None
) -> dict[str, Any]:
    now = int(emu.now())
    with emu.lock:
        document = Document(
            id=emu.new_id(),
            name=name,
            type=kind,
            text=text,
            created_at=now,
            updated_at=now,
            **extra,
        )
        emu.store.documents[document.id] = document
    return {"id": document.id, "name": document.name, "folder_path": []}


@router.post(f"{_BASE}/text")
def create_text_document_route(emu: Emu, body: Body) -> dict[str, Any]:
    """``AddKnowledgeBaseResponseModel`` ``{"id", "name"}``; name defaults to the text's start."""
    name = body.get("name") or body["text"].strip()[:40] or "Text document"
    return _add(emu, "text", name, body["text"])


@router.post(f"{_BASE}/url")
def create_url_document_route(emu: Emu, body: Body) -> dict[str, Any]:
    """``AddKnowledgeBaseResponseModel``; the URL is recorded, not fetched."""
    return _add(emu, "url", body.get("name") or body["url"], "", url=body["url"])


@router.post(f"{_BASE}/file")
def create_file_document_route(
    emu: Emu,
    file: Annotated[UploadFile, File()],
    name: Annotated[str | None, Form(min_length=1)] = None,
    parent_folder_id: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """``AddKnowledgeBaseResponseModel`` for a multipart upload (``file``, ``name``); a file of
    a type the API does not take or over 21 MB answers 422 (:func:`uploads.check_upload`)."""
    content = file.file.read()
    filename = file.filename or "document.txt"
    check_upload(filename, len(content))
    text = content.decode("utf-8", "replace")
    return _add(emu, "file", name or filename, text, filename=filename)


def _find(emu: Emulator, document_id: str) -> Document:
    document = emu.store.documents.get(document_id)
    if document is None:
        raise not_found("knowledge-base document", document_id)
    return document


def _common(document: Document) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": document.id,
        "name": document.name,
        "metadata": {
            "created_at_unix_secs": document.created_at,
            "last_updated_at_unix_secs": document.updated_at,
            "size_bytes": len(document.text.encode()),
        },
        "supported_usages": ["prompt", "auto"],
        "access_info": dict(ACCESS_INFO),
        "folder_parent_id": None,
        "folder_path": [],
        "type": document.type,
    }
    if document.type == "url":
        body["url"] = document.url or ""
    return body


def _dependents(emu: Emulator, document: Document) -> list[dict[str, Any]]:
    return references.agent_entries(references.users_of_document(emu, document.id))


def _detail(document: Document) -> dict[str, Any]:
    body = {
        **_common(document),
        "extracted_inner_html": html.escape(document.text),
        "content_format": "html",
    }
    if document.type == "file":
        body["filename"] = document.filename or ""
    return body


@router.get(_BASE)
def get_knowledge_base_list_route(
    emu: Emu,
    page_size: PageSize = 30,
    search: str | None = None,
    types: Annotated[list[DocumentType] | None, Query()] = None,
    sort_direction: Literal["asc", "desc"] = "desc",
    sort_by: Literal["name", "created_at", "updated_at", "size"] | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``GetKnowledgeBaseListResponseModel``: names starting with ``search``, ``types``
    filter, sorting (default newest first), cursor pages."""
    with emu.lock:
        chosen = [
            doc
            for doc in emu.store.documents.values()
            if (not search or doc.name.startswith(search)) and (not types or doc.type in types)
        ]
        chosen = _sorted(chosen, sort_by, sort_direction)
        items = [{**_common(doc), "dependent_agents": _dependents(emu, doc)} for doc in chosen]
    found, next_cursor, has_more = page(items, cursor, page_size)
    return {"documents": found, "next_cursor": next_cursor, "has_more": has_more}


def _sorted(documents: list[Document], sort_by: str | None, direction: str) -> list[Document]:
    keys = {
        "name": lambda doc: doc.name.lower(),
        "updated_at": lambda doc: doc.updated_at,
        "size": lambda doc: len(doc.text.encode()),
    }
    key = keys.get(sort_by or "created_at", lambda doc: doc.created_at)
    ordered = sorted(documents, key=key)  # stable: creation order breaks ties
    return ordered[::-1] if direction == "desc" else ordered


@router.get(_BASE + "/{documentation_id}")
def get_documentation_from_knowledge_base(documentation_id: str, emu: Emu) -> dict[str, Any]:
    """``GetKnowledgeBase{Text,URL,File}ResponseModel`` by ``type``."""
    with emu.lock:
        return _detail(_find(emu, documentation_id))


@router.patch(_BASE + "/{documentation_id}")
def update_document_route(documentation_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """Rename and/or replace the content; answers the document."""
    with emu.lock:
        document = _find(emu, documentation_id)
        if body.get("name") is not None:
            document.name = body["name"]
        if body.get("content") is not None:
            document.text = body["content"]
        document.updated_at = int(emu.now())
        return _detail(document)


@router.delete(_BASE + "/{documentation_id}")
def delete_knowledge_base_document(
    documentation_id: str, emu: Emu, force: bool = False
) -> dict[str, Any]:
    """Delete; ``409 knowledge_base_document_in_use`` while a branch tip references it, unless
    ``force`` (then it is removed from those branches, one commit each). Answers ``{}``."""
    with emu.lock:
        document = _find(emu, documentation_id)
        users = references.users_of_document(emu, document.id)
        if not force:
            references.refuse_if_used(users, "knowledge-base document", document.id)
        references.drop_document(emu, document.id)
        del emu.store.documents[document.id]
    return {}


@router.get(_BASE + "/{documentation_id}/content", response_class=HTMLResponse)
def get_knowledge_base_content(documentation_id: str, emu: Emu) -> HTMLResponse:
    """The document's text (``text/html``)."""
    with emu.lock:
        return HTMLResponse(_find(emu, documentation_id).text)


@router.get(_BASE + "/{documentation_id}/dependent-agents")
def get_knowledge_base_dependent_agents(
    documentation_id: str,
    emu: Emu,
    dependent_type: Literal["direct", "transitive", "all"] = "all",
    page_size: PageSize = 30,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``GetKnowledgeBaseDependentAgentsResponseModel``: agents and branches whose tip uses it
    (all direct; ``transitive`` gives none)."""
    with emu.lock:
        document = _find(emu, documentation_id)
        users = references.users_of_document(emu, document.id)
        agents = _dependents(emu, document) if dependent_type != "transitive" else []
        branches = references.branch_entries(users)
    found, next_cursor, has_more = page(agents, cursor, page_size)
    if dependent_type == "transitive":
        branches = []
    return {"agents": found, "branches": branches, "next_cursor": next_cursor, "has_more": has_more}
