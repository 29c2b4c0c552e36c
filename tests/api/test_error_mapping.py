"""One function maps each status to its error; messages name the call and the API's reason."""

from __future__ import annotations

import httpx
import pytest

from convai_ops.api import error_for_response, message_from_body
from convai_ops.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ServerError,
)

from .fakes import FakeApi, MakeClient, Reply


def answer(status: int, json: object = None, text: str | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.test/v1/convai/agents/a1?branch_id=b1")
    if text is not None:
        return httpx.Response(status, text=text, request=request)
    return httpx.Response(status, json=json, request=request)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ApiError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, ApiError),
        (409, ConflictError),
        (422, RequestValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (599, ServerError),
    ],
)
def test_status_maps_to_error_class(status: int, error: type[ApiError]) -> None:
    exc = error_for_response(answer(status, {"detail": "nope"}), "GET", "/v1/convai/agents/a1")

    assert type(exc) is error
    assert isinstance(exc, AuthenticationError) == (status in (401, 403))
    assert exc.status == status
    assert (exc.method, exc.path) == ("GET", "/v1/convai/agents/a1")
    assert str(exc).startswith(f"GET /v1/convai/agents/a1: HTTP {status}: nope (")


def test_422_message_lists_each_loc_and_msg() -> None:
    detail = [
        {"loc": ["body", "name"], "msg": "field required", "type": "missing"},
        {"loc": ["body", "conversation_config", "tts", "speed"], "msg": "must be <= 1.2"},
    ]
    exc = error_for_response(answer(422, {"detail": detail}), "POST", "/v1/convai/agents/create")

    assert isinstance(exc, RequestValidationError)
    assert "body.name: field required; body.conversation_config.tts.speed: must be <= 1.2" in str(
        exc
    )
    assert exc.detail == {"detail": detail}


def test_detail_message_object_is_quoted() -> None:
    body = {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}
    exc = error_for_response(answer(401, body), "GET", "/v1/convai/agents/a1")

    assert "Invalid API key" in str(exc)
    assert "ELEVENLABS_API_KEY" in str(exc)


def test_plain_text_body_is_used_and_truncated() -> None:
    exc = error_for_response(answer(502, text="Bad gateway " * 100), "GET", "/v1/convai/agents")

    assert "Bad gateway Bad gateway" in str(exc)
    assert len(str(exc)) < 500


def test_empty_body_falls_back_to_reason_phrase() -> None:
    exc = error_for_response(answer(404), "DELETE", "/v1/convai/tools/x")

    assert str(exc).startswith("DELETE /v1/convai/tools/x: HTTP 404: Not Found (")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"detail": "Agent not found"}, "Agent not found"),
        ({"detail": {"message": "Branch is protected"}}, "Branch is protected"),
        ({"detail": [{"loc": ["query", "limit"], "msg": "too big"}]}, "query.limit: too big"),
        ({"detail": [{"msg": "bad"}]}, "bad"),
        ({"message": "top-level"}, "top-level"),
        ({"other": 1}, ""),
        (
            {"detail": {"status": "x", "message": {"reason": "r", "count": 2}}},
            "reason: r, count: 2",
        ),
        ({"detail": {"status": "branch_busy", "retry": True}}, "branch_busy (retry: true)"),
        ({"detail": [{"loc": ["body"], "msg": {"reason": "r"}}]}, "body: reason: r"),
        (None, ""),
        ("plain", "plain"),
    ],
)
def test_message_from_body(body: object, message: str) -> None:
    assert message_from_body(body) == message


def test_client_error_names_path_without_query(make_client: MakeClient) -> None:
    api = FakeApi(Reply(404, json={"detail": "Agent not found"}))

    with pytest.raises(NotFoundError) as caught:
        make_client(api).get_agent("a1", branch_id="secret-branch")

    assert "branch_id" in str(api.last.url)
    assert caught.value.path == "/v1/convai/agents/a1"
    assert "secret-branch" not in str(caught.value)
    assert str(caught.value).startswith("GET /v1/convai/agents/a1: HTTP 404: Agent not found")


def test_merge_conflict_detail_is_rendered_readably_not_as_a_python_dict(
    make_client: MakeClient,
) -> None:
    conflicts = [
        {"path": "conversation_config.agent.prompt.prompt", "winner": "target"},
        {"path": "conversation_config.tts.voice_id", "winner": "target"},
    ]
    detail = {"status": "merge_conflict", "message": "Merge conflict", "conflicts": conflicts}
    api = FakeApi(Reply(409, json={"detail": detail}))

    with pytest.raises(ConflictError) as caught:
        make_client(api).merge_branch("a1", "b1", "main1")

    message = str(caught.value)
    assert message.startswith(
        "POST /v1/convai/agents/a1/branches/b1/merge: HTTP 409: Merge conflict (conflicts: "
        "(path: conversation_config.agent.prompt.prompt, winner: target; "
        "path: conversation_config.tts.voice_id, winner: target)) ("
    )
    assert "{" not in message and "'" not in message
    assert caught.value.detail == {"detail": detail}
