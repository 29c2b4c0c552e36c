"""RAG index routes: ``POST/GET /v1/convai/knowledge-base/{documentation_id}/rag-index``,
``DELETE .../rag-index/{rag_index_id}``, the batch ``POST /v1/convai/knowledge-base/rag-index``
and the overview ``GET /v1/convai/knowledge-base/rag-index``. Timing and meaning of the states:
:mod:`convai_ops.emulator.rag`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from convai_ops.emulator.core import Emulator
from convai_ops.emulator.http import Body, Emu
from convai_ops.emulator.problems import ApiProblem, not_found
from convai_ops.emulator.rag import index_response, index_status, start_index
from convai_ops.emulator.store import Document

__all__ = ["router"]

router = APIRouter()
_BASE = "/v1/convai/knowledge-base"
_TOTAL_MAX_BYTES = 1_000_000_000  # the emulator's own quota: the document names none


def _find(emu: Emulator, document_id: str) -> Document:
    document = emu.store.documents.get(document_id)
    if document is None:
        raise not_found("knowledge-base document", document_id)
    return document


@router.get(_BASE + "/rag-index")
def get_rag_index_overview(emu: Emu) -> dict[str, Any]:
    """``RAGIndexOverviewResponseModel``: bytes used by succeeded indexes, per model."""
    used: dict[str, int] = {}
    with emu.lock:
        for document in emu.store.documents.values():
            for model, index in document.rag_indexes.items():
                done = index_status(emu, index)[0] == "succeeded"
                used[model] = used.get(model, 0) + (len(document.text.encode()) if done else 0)
    models = [{"model": model, "used_bytes": size} for model, size in sorted(used.items())]
    total = sum(used.values())
    return {"total_used_bytes": total, "total_max_bytes": _TOTAL_MAX_BYTES, "models": models}


@router.post(_BASE + "/rag-index")
def get_or_create_rag_indexes(emu: Emu, body: Body) -> dict[str, Any]:
    """Batch: ``{document_id: RAGIndexBatchSuccessfulResponseModel | BatchFailureResponseModel}``
    (failure ``404`` for an unknown document, or a missing index without
    ``create_if_missing``)."""
    with emu.lock:
        return {str(item["document_id"]): _batch_item(emu, item) for item in body["items"]}


def _batch_item(emu: Emulator, item: dict[str, Any]) -> dict[str, Any]:
    try:
        document = _find(emu, str(item["document_id"]))
    except ApiProblem as problem:
        return _failure(problem.status, problem.code, problem.message)
    model = str(item["model"])
    index = document.rag_indexes.get(model)
    if index is None and not item["create_if_missing"]:
        message = f"Document {document.id!r} has no RAG index for model {model!r}."
        return _failure(404, "rag_index_not_found", message)
    index = index or start_index(emu, document, model)
    return {"status": "success", "data": index_response(emu, document, index)}


def _failure(code: int, status: str, message: str) -> dict[str, Any]:
    return {
        "status": "failure",
        "error_code": code,
        "error_status": status,
        "error_message": message,
    }


@router.post(_BASE + "/{documentation_id}/rag-index")
def rag_index_status(documentation_id: str, emu: Emu, body: Body) -> dict[str, Any]:
    """``RAGDocumentIndexResponseModel`` of the index for ``body["model"]``, started now when
    the document has none for that model."""
    with emu.lock:
        document = _find(emu, documentation_id)
        return index_response(emu, document, start_index(emu, document, str(body["model"])))


@router.get(_BASE + "/{documentation_id}/rag-index")
def get_rag_indexes(documentation_id: str, emu: Emu) -> dict[str, Any]:
    """``RAGDocumentIndexesResponseModel``: every index of the document (none until one is
    started)."""
    with emu.lock:
        document = _find(emu, documentation_id)
        return {
            "indexes": [index_response(emu, document, i) for i in document.rag_indexes.values()]
        }


@router.delete(_BASE + "/{documentation_id}/rag-index/{rag_index_id}")
def delete_rag_index(documentation_id: str, rag_index_id: str, emu: Emu) -> dict[str, Any]:
    """Remove the index; answers it (``RAGDocumentIndexResponseModel``) as it was."""
    with emu.lock:
        document = _find(emu, documentation_id)
        for model, index in document.rag_indexes.items():
            if index.id == rag_index_id:
                answer = index_response(emu, document, index)
                del document.rag_indexes[model]
                return answer
    raise not_found("rag index", rag_index_id)
