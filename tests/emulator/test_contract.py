"""The contract checker itself: it must catch what the document forbids."""

from __future__ import annotations

from convai_ops.emulator.contract import validate_response


def test_conforming_body_has_no_violations() -> None:
    assert validate_response("POST", "/v1/convai/agents/create", 200, {"agent_id": "a"}) == []


def test_missing_required_field_is_reported() -> None:
    [violation] = validate_response(
        "GET",
        "/v1/convai/agents/agent_1?x=1",
        200,
        {
            "agent_id": "agent_1",
            "name": "n",
            "metadata": {"created_at_unix_secs": 1, "updated_at_unix_secs": 1},
        },
    )
    assert violation.startswith("GET /v1/convai/agents/agent_1?x=1 -> 200: at /:")
    assert "'conversation_config' is a required property" in violation


def test_wrong_type_deep_inside_is_reported() -> None:
    body = {
        "id": "i",
        "test_runs": [
            {
                "test_run_id": "r",
                "test_invocation_id": "i",
                "agent_id": "a",
                "test_id": "t",
                "status": "running",
            }
        ],
    }
    [violation] = validate_response("GET", "/v1/convai/test-invocations/i", 200, body)
    assert "at /test_runs/0/status" in violation


def test_literal_paths_win_over_templates() -> None:
    body: dict[str, object] = {"tests": {}}
    assert validate_response("POST", "/v1/convai/agent-testing/summaries", 200, body) == []


def test_undocumented_operations_and_statuses() -> None:
    assert validate_response("GET", "/v1/convai/nowhere", 200, {}) != []
    assert validate_response("PUT", "/v1/convai/agents/a", 200, {}) != []
    assert validate_response("POST", "/v1/convai/agents/create", 201, {"agent_id": "a"}) != []


def test_error_statuses_use_the_envelope() -> None:
    envelope = {"detail": {"status": "agent_not_found", "message": "gone"}}
    assert validate_response("GET", "/v1/convai/agents/a", 404, envelope) == []
    assert validate_response("GET", "/v1/convai/agents/a", 404, {"error": "gone"}) != []
    invalid = {"detail": [{"loc": ["body"], "msg": "m", "type": "t"}]}
    assert validate_response("POST", "/v1/convai/agents/create", 422, invalid) == []
    assert validate_response("POST", "/v1/convai/agents/create", 422, {"detail": "x"}) != []
