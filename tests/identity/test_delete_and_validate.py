"""What prune and validate rest on: the emulator's ``DELETE /v1/convai/agents/{agent_id}``
follows the document, a create's lost answer never makes a second agent over real loopback
HTTP, and ``convai-ops:`` tags are refused in agent.yaml at their line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from convai_ops.api import ConvaiClient
from convai_ops.emulator.contract import log_violations
from tests.identity.conftest import KEY, create_agent, live_agents, tagged


def test_delete_agent_follows_the_document(server: Any) -> None:
    agent_id = create_agent(server, "Doomed", ["convai-ops:doomed"])
    branches = httpx.get(
        f"{server.url}/v1/convai/agents/{agent_id}/branches", headers={"xi-api-key": KEY}
    )
    assert branches.status_code == 200
    url = f"{server.url}/v1/convai/agents/{agent_id}"
    deleted = httpx.delete(url, headers={"xi-api-key": KEY})
    assert deleted.status_code in (200, 204)  # the document lists both
    assert httpx.get(url, headers={"xi-api-key": KEY}).status_code == 404
    assert httpx.delete(url, headers={"xi-api-key": KEY}).status_code == 404
    assert tagged(server, "doomed") == []
    assert log_violations(server.emulator.request_log, strict=True) == []


class _LoseCreateAnswers(httpx.BaseTransport):
    """A real loopback transport that hangs up after the first create reached the server."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/agents/create") and self.lost == 0:
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_create_whose_answer_was_lost_makes_one_agent_over_loopback(server: Any) -> None:
    transport = _LoseCreateAnswers()
    body = {"name": "Support", "tags": ["convai-ops:support"], "conversation_config": {}}
    with ConvaiClient(server.url, KEY, transport=transport, sleep=lambda s: None) as client:
        agent_id = client.create_agent(body, identity_tag="convai-ops:support")
    assert transport.lost == 1
    assert tagged(server, "support") == [agent_id]
    assert len(live_agents(server)) == 1
    creates = [e for e in server.emulator.request_log if e.path.endswith("/agents/create")]
    assert len(creates) == 1


def test_validate_refuses_convai_ops_tags_at_their_line(cli: Any, project: Path) -> None:
    agent_yaml = project / "agents" / "support" / "agent.yaml"
    text = agent_yaml.read_text()
    agent_yaml.write_text(text.replace("tags: [support, acme]", "tags: [support, convai-ops:x]"))
    line = 1 + text[: text.index("tags: [support, acme]")].count("\n")
    code, _, err = cli("validate")
    assert code == 1
    assert re.search(rf"agent\.yaml:{line}:\d+: tags\[1\]: 'convai-ops:x'", err), err
    assert "convai-ops's own" in err

    agent_yaml.write_text(text + "overrides:\n  production:\n    tags: [convai-ops:support]\n")
    code, _, err = cli("validate")
    assert code == 1 and "overrides.production.tags[0]" in err, err


def test_import_declares_no_convai_ops_tag(cli: Any, server: Any, project: Path) -> None:
    tags = ["team", "convai-ops:helpdesk", "convai-ops:old"]  # old: a re-tag still pending
    agent_id = create_agent(server, "Helpdesk", tags)
    code, out, err = cli("import", agent_id, "--slug", "helpdesk")
    assert code == 0, out + err
    text = (project / "agents" / "helpdesk" / "agent.yaml").read_text()
    assert "team" in text and "convai-ops:" not in text
    assert cli("validate")[0] == 0
