"""Knowledge-base documents and tools over loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from .helpers import create_agent, create_branch, get_agent

KB = "/v1/convai/knowledge-base"
TOOLS = "/v1/convai/tools"


def add_text(client: httpx.Client, name: str, text: str) -> dict[str, Any]:
    response = client.post(f"{KB}/text", json={"name": name, "text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def agent_using(client: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    locator = {"type": "text", "name": document["name"], "id": document["id"]}
    prompt = {"prompt": "Answer questions.", "knowledge_base": [locator]}
    return create_agent(client, conversation_config={"agent": {"prompt": prompt}})


def test_create_documents_of_each_kind(client: httpx.Client) -> None:
    text = add_text(client, "hours", "We open at 9.")
    url = client.post(f"{KB}/url", json={"url": "https://example.com/faq"}).json()
    upload = client.post(f"{KB}/file", files={"file": ("faq.md", b"# FAQ\nShipping is free.")})
    assert upload.status_code == 200, upload.text
    file = upload.json()
    assert (text["name"], url["name"], file["name"]) == (
        "hours",
        "https://example.com/faq",
        "faq.md",
    )
    got = client.get(f"{KB}/{file['id']}").json()
    assert (got["type"], got["filename"], got["metadata"]["size_bytes"]) == ("file", "faq.md", 23)
    assert client.get(f"{KB}/{url['id']}").json()["url"] == "https://example.com/faq"
    content = client.get(f"{KB}/{text['id']}/content")
    assert content.headers["content-type"].startswith("text/html")
    assert content.text == "We open at 9."


def test_file_upload_needs_a_file(client: httpx.Client) -> None:
    response = client.post(f"{KB}/file", data={"name": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_list_documents(client: httpx.Client) -> None:
    add_text(client, "alpha", "a")
    add_text(client, "beta", "b")
    client.post(f"{KB}/url", json={"url": "https://example.com", "name": "alpine"})
    names = [d["name"] for d in client.get(KB, params={"search": "alp"}).json()["documents"]]
    assert names == ["alpine", "alpha"]
    texts = client.get(KB, params={"types": "text", "sort_by": "name", "sort_direction": "asc"})
    assert [d["name"] for d in texts.json()["documents"]] == ["alpha", "beta"]
    page = client.get(KB, params={"page_size": 2}).json()
    assert (len(page["documents"]), page["has_more"]) == (2, True)


def test_patch_document_changes_what_agents_read(client: httpx.Client) -> None:
    document = add_text(client, "policy", "Returns take 5 days.")
    patched = client.patch(f"{KB}/{document['id']}", json={"content": "Returns take 9 days."})
    assert patched.json()["extracted_inner_html"] == "Returns take 9 days."
    assert client.get(f"{KB}/{document['id']}/content").text == "Returns take 9 days."


def test_dependent_agents_and_guarded_delete(client: httpx.Client) -> None:
    document = add_text(client, "policy", "Returns take 5 days.")
    agent = agent_using(client, document)
    dependents = client.get(f"{KB}/{document['id']}/dependent-agents").json()
    assert [a["id"] for a in dependents["agents"]] == [agent["agent_id"]]
    assert dependents["branches"][0]["is_main"] is True
    listed = client.get(KB).json()["documents"][0]
    assert [a["id"] for a in listed["dependent_agents"]] == [agent["agent_id"]]
    refused = client.delete(f"{KB}/{document['id']}")
    assert refused.status_code == 409
    assert refused.json()["detail"]["status"] == "knowledge_base_document_in_use"
    assert client.delete(f"{KB}/{document['id']}", params={"force": True}).status_code == 200
    after = get_agent(client, agent["agent_id"])
    assert after["conversation_config"]["agent"]["prompt"]["knowledge_base"] == []
    assert after["version_id"] != agent["version_id"]
    assert client.get(f"{KB}/{document['id']}").status_code == 404


def test_unused_document_deletes_without_force(client: httpx.Client) -> None:
    document = add_text(client, "loose", "x")
    assert client.delete(f"{KB}/{document['id']}").status_code == 200


CLIENT_TOOL = {"type": "client", "name": "lookup_order", "description": "Find an order"}


def test_tool_crud_with_defaults(client: httpx.Client) -> None:
    created = client.post(TOOLS, json={"tool_config": CLIENT_TOOL})
    assert created.status_code == 200, created.text
    tool = created.json()
    assert tool["id"].startswith("tool_")
    assert tool["tool_config"]["response_timeout_secs"] == 20
    changed = {**CLIENT_TOOL, "description": "Find an order by id"}
    patched = client.patch(f"{TOOLS}/{tool['id']}", json={"tool_config": changed}).json()
    assert patched["tool_config"]["description"] == "Find an order by id"
    assert client.get(f"{TOOLS}/{tool['id']}").json() == patched
    listed = client.get(TOOLS, params={"search": "lookup"}).json()
    assert [t["id"] for t in listed["tools"]] == [tool["id"]]
    assert client.delete(f"{TOOLS}/{tool['id']}").status_code == 200
    assert client.get(f"{TOOLS}/{tool['id']}").status_code == 404


def test_tool_request_is_validated(client: httpx.Client) -> None:
    response = client.post(TOOLS, json={"tool_config": {"type": "client", "name": "bad name!"}})
    assert response.status_code == 422


def test_tool_in_use_is_guarded(client: httpx.Client) -> None:
    tool = client.post(TOOLS, json={"tool_config": CLIENT_TOOL}).json()
    prompt = {"prompt": "Use lookup_order.", "tool_ids": [tool["id"]]}
    agent = create_agent(client, conversation_config={"agent": {"prompt": prompt}})
    assert client.delete(f"{TOOLS}/{tool['id']}").status_code == 409
    assert client.delete(f"{TOOLS}/{tool['id']}", params={"force": True}).status_code == 200
    after = get_agent(client, agent["agent_id"])
    assert after["conversation_config"]["agent"]["prompt"]["tool_ids"] == []


def test_tool_dependents_list_agents_and_branches(client: httpx.Client) -> None:
    tool = client.post(TOOLS, json={"tool_config": CLIENT_TOOL}).json()
    unused = client.post(TOOLS, json={"tool_config": {**CLIENT_TOOL, "name": "spare"}}).json()
    agent = create_agent(client, conversation_config={"agent": {"prompt": {"prompt": "Hi."}}})
    prompt = {"prompt": "Use lookup_order.", "tool_ids": [tool["id"]]}
    created = create_branch(
        client, agent, "with-tool", conversation_config={"agent": {"prompt": prompt}}
    )
    branch = created["created_branch_id"]
    found = client.get(f"{TOOLS}/{tool['id']}/dependent-agents").json()
    assert [a["id"] for a in found["agents"]] == [agent["agent_id"]]
    assert [(b["branch_id"], b["is_main"]) for b in found["branches"]] == [(branch, False)]
    assert found["has_more"] is False
    empty = client.get(f"{TOOLS}/{unused['id']}/dependent-agents").json()
    assert (empty["agents"], empty["branches"]) == ([], [])
    assert client.get(f"{TOOLS}/tool_nope/dependent-agents").status_code == 404


def _tool_test(reference: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "lookup",
        "type": "tool",
        "chat_history": [{"role": "user", "message": "Where is A-1?", "time_in_call_secs": 0}],
        "tool_call_parameters": {"referenced_tool": reference, "parameters": []},
    }


def test_a_tool_test_naming_no_tool_id_is_refused(client: httpx.Client) -> None:
    tool = client.post(TOOLS, json={"tool_config": CLIENT_TOOL}).json()
    by_name = _tool_test({"id": "lookup_order", "type": "client"})
    refused = client.post("/v1/convai/agent-testing/create", json=by_name)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-2:] == ["referenced_tool", "id"]
    good = client.post(
        "/v1/convai/agent-testing/create", json=_tool_test({"id": tool["id"], "type": "client"})
    )
    assert good.status_code == 200, good.text
    update = client.put(f"/v1/convai/agent-testing/{good.json()['id']}", json=by_name)
    assert update.status_code == 422
