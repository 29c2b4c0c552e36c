"""Knowledge-base uploads (types, size) and RAG indexes over loopback HTTP: an index reaches
``succeeded`` only ``rag_index_delay_s`` after it started, and the emulated agent reads a
document retrieved through RAG only once it is indexed."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from convai_ops.emulator import EmulatorConfig, EmulatorServer
from convai_ops.emulator.uploads import MAX_FILE_BYTES

from .helpers import create_agent, create_test, run_tests, wait_for

KB = "/v1/convai/knowledge-base"
DELAY = 0.4
FACT = "Parking permits are issued by the facilities team."
QUESTION = "Who issues parking permits?"


@pytest.mark.parametrize("filename", ["manual.pdf", "notes.txt", "faq.md", "page.html", "a.docx"])
def test_documented_file_types_are_accepted(client: httpx.Client, filename: str) -> None:
    response = client.post(f"{KB}/file", files={"file": (filename, b"Some text.")})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("filename", ["diagram.png", "data.csv", "noextension"])
def test_other_file_types_are_refused_with_422(client: httpx.Client, filename: str) -> None:
    response = client.post(f"{KB}/file", files={"file": (filename, b"\x89PNG....")})
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["loc"] == ["body", "file"]
    assert "Unsupported file type" in item["msg"] and filename in item["msg"]
    assert client.get(KB).json()["documents"] == []


def test_a_file_over_21_mb_is_refused(client: httpx.Client) -> None:
    big = b"a" * (MAX_FILE_BYTES + 1)
    response = client.post(f"{KB}/file", files={"file": ("big.txt", big)})
    assert response.status_code == 422
    assert "21 MB" in response.json()["detail"][0]["msg"]
    exact = client.post(f"{KB}/file", files={"file": ("max.txt", big[:-1])})
    assert exact.status_code == 200


def add_text(client: httpx.Client, text: str = FACT) -> str:
    response = client.post(f"{KB}/text", json={"name": "parking", "text": text})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def rag_agent(
    client: httpx.Client, doc_id: str, *, enabled: bool = True, mode: str = "auto"
) -> str:
    locator = {"type": "text", "name": "parking", "id": doc_id, "usage_mode": mode}
    prompt = {
        "prompt": "You are the office helpdesk.",
        "knowledge_base": [locator],
        "rag": {"enabled": enabled},
    }
    agent = create_agent(client, conversation_config={"agent": {"prompt": prompt}})
    return str(agent["agent_id"])


def indexes(client: httpx.Client, doc_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{KB}/{doc_id}/rag-index")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["indexes"]
    return found


def reply_to_question(client: httpx.Client, agent_id: str) -> str:
    test_id = create_test(
        client,
        name="parking",
        type="llm",
        chat_history=[{"role": "user", "message": QUESTION, "time_in_call_secs": 0}],
        success_condition='The agent says "facilities team"',
    )
    done = wait_for(client, run_tests(client, agent_id, [test_id])["id"])
    return str(done["test_runs"][0]["agent_responses"][0]["message"])


class TestRagIndex:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(test_delay_s=0.01, rag_index_delay_s=DELAY)

    def test_upload_starts_no_index_and_post_starts_one(self, client: httpx.Client) -> None:
        doc_id = add_text(client)
        assert indexes(client, doc_id) == []
        started = client.post(f"{KB}/{doc_id}/rag-index", json={"model": "e5_mistral_7b_instruct"})
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "processing"
        again = client.post(f"{KB}/{doc_id}/rag-index", json={"model": "e5_mistral_7b_instruct"})
        assert again.json()["id"] == started.json()["id"]
        time.sleep(DELAY + 0.05)
        (index,) = indexes(client, doc_id)
        assert (index["status"], index["progress_percentage"]) == ("succeeded", 100.0)
        assert index["document_model_index_usage"]["used_bytes"] == len(FACT)

    def test_rag_index_request_needs_a_model(self, client: httpx.Client) -> None:
        doc_id = add_text(client)
        assert client.post(f"{KB}/{doc_id}/rag-index", json={}).status_code == 422
        assert (
            client.post(
                f"{KB}/nope/rag-index", json={"model": "e5_mistral_7b_instruct"}
            ).status_code
            == 404
        )

    def test_attaching_to_a_rag_agent_starts_indexing(self, client: httpx.Client) -> None:
        doc_id = add_text(client)
        rag_agent(client, doc_id)
        (index,) = indexes(client, doc_id)
        assert (index["model"], index["status"]) == ("e5_mistral_7b_instruct", "processing")

    def test_attaching_without_rag_or_in_prompt_mode_starts_nothing(
        self, client: httpx.Client
    ) -> None:
        plain, prompt_mode = add_text(client), add_text(client)
        rag_agent(client, plain, enabled=False)
        rag_agent(client, prompt_mode, mode="prompt")
        assert indexes(client, plain) == [] and indexes(client, prompt_mode) == []

    def test_agent_reads_a_rag_document_only_once_indexed(self, client: httpx.Client) -> None:
        doc_id = add_text(client)
        agent_id = rag_agent(client, doc_id)
        assert reply_to_question(client, agent_id) != FACT  # started before the index succeeded
        time.sleep(DELAY + 0.05)
        assert reply_to_question(client, agent_id) == FACT

    def test_prompt_mode_and_rag_off_documents_are_read_at_once(self, client: httpx.Client) -> None:
        for options in ({"enabled": False}, {"mode": "prompt"}):
            agent_id = rag_agent(client, add_text(client), **options)  # type: ignore[arg-type]
            assert reply_to_question(client, agent_id) == FACT

    def test_batch_get_or_create_and_overview(self, client: httpx.Client) -> None:
        doc_id = add_text(client)
        model = "multilingual_e5_large_instruct"
        items = [
            {"document_id": doc_id, "create_if_missing": False, "model": model},
            {"document_id": "missing", "create_if_missing": True, "model": model},
        ]
        first = client.post(f"{KB}/rag-index", json={"items": items}).json()
        assert first[doc_id]["error_code"] == 404 and first["missing"]["status"] == "failure"
        items[0]["create_if_missing"] = True
        second = client.post(f"{KB}/rag-index", json={"items": items[:1]}).json()
        assert second[doc_id]["data"]["status"] == "processing"
        time.sleep(DELAY + 0.05)
        overview = client.get(f"{KB}/rag-index").json()
        assert overview["models"] == [{"model": model, "used_bytes": len(FACT)}]

    def test_delete_rag_index(self, client: httpx.Client, server: EmulatorServer) -> None:
        doc_id = add_text(client)
        index = client.post(f"{KB}/{doc_id}/rag-index", json={"model": "e5_mistral_7b_instruct"})
        deleted = client.delete(f"{KB}/{doc_id}/rag-index/{index.json()['id']}")
        assert deleted.status_code == 200 and indexes(client, doc_id) == []
        assert client.delete(f"{KB}/{doc_id}/rag-index/nope").status_code == 404
