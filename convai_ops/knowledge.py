"""Knowledge-base sync: upload an agent's documents under content-addressed names.

A local file becomes a document named ``<slug>/<path> #<sha256[:8]>``
(``POST /v1/convai/knowledge-base/text`` for .md/.txt, ``/file`` otherwise); a URL entry a
document named by its URL (``POST /v1/convai/knowledge-base/url``); an ``id`` entry is used as
is (``GET /v1/convai/knowledge-base/{id}`` for its name and type). A document is never
overwritten in place: changed content gets a new name, so main keeps pointing at the old one
until the branch carrying the new one passes its tests. Unchanged content is never re-uploaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convai_ops.state import RemoteIndex, document_name

if TYPE_CHECKING:
    from convai_ops.api import ConvaiClient
    from convai_ops.spec import AgentSpec, KnowledgeSpec

__all__ = ["TEXT_SUFFIXES", "sync_knowledge"]

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
