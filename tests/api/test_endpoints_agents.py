"""Agent, branch, version, test and test-invocation calls: endpoint, query, body, result."""

from __future__ import annotations

import pytest

from .fakes import Case, MakeClient, Reply, check_case, one_page

AGENT = {"agent_id": "a1", "name": "Support", "conversation_config": {}}
BRANCH = {"id": "b1", "name": "feature", "is_archived": False}
TEST = {"id": "t1", "name": "greets", "type": "llm"}
INVOCATION = {"id": "i1", "test_runs": [{"test_run_id": "r1", "status": "pending"}]}

CASES: dict[str, Case] = {
    "create_agent": Case(
        lambda c: c.create_agent({"name": "Support", "conversation_config": {}}),
        "POST",
        "/v1/convai/agents/create",
        Reply(json={"agent_id": "a1"}),
        "a1",
        body={"name": "Support", "conversation_config": {}},
    ),
    "update_agent_on_main_sends_no_deprecated_query": Case(
        lambda c: c.update_agent("a1", {"name": "New"}),
        "PATCH",
        "/v1/convai/agents/a1",
        Reply(json={**AGENT, "name": "New"}),
        {**AGENT, "name": "New"},
        body={"name": "New"},
    ),
    "get_agent": Case(
        lambda c: c.get_agent("a1", branch_id="b1", version_id="v1"),
        "GET",
        "/v1/convai/agents/a1",
        Reply(json=AGENT),
        AGENT,
        query=(("branch_id", "b1"), ("version_id", "v1")),
    ),
    "get_agent_main": Case(
        lambda c: c.get_agent("a1"), "GET", "/v1/convai/agents/a1", Reply(json=AGENT), AGENT
    ),
    "update_agent": Case(
        lambda c: c.update_agent("a1", {"name": "New"}, branch_id="b1"),
        "PATCH",
        "/v1/convai/agents/a1",
        Reply(json={**AGENT, "name": "New"}),
        {**AGENT, "name": "New"},
        query=(("branch_id", "b1"),),
        body={"name": "New"},
    ),
    "delete_agent": Case(
        lambda c: c.delete_agent("a1"), "DELETE", "/v1/convai/agents/a1", Reply(204), None
    ),
    "iter_agents": Case(
        lambda c: list(c.iter_agents(search="sup", tags=["x", "y"], page_size=50)),
        "GET",
        "/v1/convai/agents",
        Reply(json=one_page("agents", AGENT)),
        [AGENT],
        query=(("search", "sup"), ("tags", "x"), ("tags", "y"), ("page_size", "50")),
    ),
    "create_branch": Case(
        lambda c: c.create_branch(
            "a1",
            parent_version_id="v1",
            name="feature",
            description="try a new prompt",
            conversation_config={"agent": {"first_message": "Hi"}},
        ),
        "POST",
        "/v1/convai/agents/a1/branches",
        Reply(json={"created_branch_id": "b2", "created_version_id": "v2"}),
        {"created_branch_id": "b2", "created_version_id": "v2"},
        body={
            "parent_version_id": "v1",
            "name": "feature",
            "description": "try a new prompt",
            "conversation_config": {"agent": {"first_message": "Hi"}},
        },
    ),
    "list_branches": Case(
        lambda c: c.list_branches("a1", include_archived=True, limit=10),
        "GET",
        "/v1/convai/agents/a1/branches",
        Reply(json={"results": [BRANCH], "meta": {"total": 1}}),
        [BRANCH],
        query=(("include_archived", "true"), ("limit", "10")),
    ),
    "list_branches_defaults": Case(
        lambda c: c.list_branches("a1"),
        "GET",
        "/v1/convai/agents/a1/branches",
        Reply(json={"results": []}),
        [],
        query=(("include_archived", "false"), ("limit", "100")),
    ),
    "get_branch": Case(
        lambda c: c.get_branch("a1", "b1"),
        "GET",
        "/v1/convai/agents/a1/branches/b1",
        Reply(json=BRANCH),
        BRANCH,
    ),
    "update_branch": Case(
        lambda c: c.update_branch("a1", "b1", is_archived=True),
        "PATCH",
        "/v1/convai/agents/a1/branches/b1",
        Reply(json={**BRANCH, "is_archived": True}),
        {**BRANCH, "is_archived": True},
        body={"is_archived": True},
    ),
    "merge_preview": Case(
        lambda c: c.merge_preview("a1", "b2", "b1"),
        "GET",
        "/v1/convai/agents/a1/branches/b2/merge-preview",
        Reply(json={**AGENT, "conflicts": []}),
        {**AGENT, "conflicts": []},
        query=(("target_branch_id", "b1"),),
    ),
    "merge_branch": Case(
        lambda c: c.merge_branch("a1", "b2", "b1"),
        "POST",
        "/v1/convai/agents/a1/branches/b2/merge",
        Reply(json={"merged": True}),
        {"merged": True},
        query=(("target_branch_id", "b1"),),
        body={"archive_source_branch": True, "force": False},
    ),
    "merge_branch_forced": Case(
        lambda c: c.merge_branch("a1", "b2", "b1", archive_source_branch=False, force=True),
        "POST",
        "/v1/convai/agents/a1/branches/b2/merge",
        Reply(200),
        None,
        query=(("target_branch_id", "b1"),),
        body={"archive_source_branch": False, "force": True},
    ),
    "get_version": Case(
        lambda c: c.get_version("a1", "v1"),
        "GET",
        "/v1/convai/agents/a1/versions/v1",
        Reply(json={"id": "v1", "branch_id": "b1"}),
        {"id": "v1", "branch_id": "b1"},
    ),
    "create_test": Case(
        lambda c: c.create_test({"name": "greets", "type": "llm"}),
        "POST",
        "/v1/convai/agent-testing/create",
        Reply(json={"id": "t1"}),
        "t1",
        body={"name": "greets", "type": "llm"},
    ),
    "get_test": Case(
        lambda c: c.get_test("t1"), "GET", "/v1/convai/agent-testing/t1", Reply(json=TEST), TEST
    ),
    "update_test": Case(
        lambda c: c.update_test("t1", {"name": "greets warmly", "type": "llm"}),
        "PUT",
        "/v1/convai/agent-testing/t1",
        Reply(json={**TEST, "name": "greets warmly"}),
        {**TEST, "name": "greets warmly"},
        body={"name": "greets warmly", "type": "llm"},
    ),
    "delete_test": Case(
        lambda c: c.delete_test("t1"), "DELETE", "/v1/convai/agent-testing/t1", Reply(json={}), None
    ),
    "iter_tests": Case(
        lambda c: list(c.iter_tests(search="greet")),
        "GET",
        "/v1/convai/agent-testing",
        Reply(json=one_page("tests", TEST)),
        [TEST],
        query=(("search", "greet"), ("page_size", "100")),
    ),
    "run_tests": Case(
        lambda c: c.run_tests("a1", ["t1", "t2"], branch_id="b1", repeat_count=3),
        "POST",
        "/v1/convai/agents/a1/run-tests",
        Reply(json=INVOCATION),
        INVOCATION,
        body={
            "tests": [{"test_id": "t1"}, {"test_id": "t2"}],
            "branch_id": "b1",
            "repeat_count": 3,
        },
    ),
    "run_tests_on_main": Case(
        lambda c: c.run_tests("a1", ["t1"]),
        "POST",
        "/v1/convai/agents/a1/run-tests",
        Reply(json=INVOCATION),
        INVOCATION,
        body={"tests": [{"test_id": "t1"}], "repeat_count": 1},
    ),
    "get_test_invocation": Case(
        lambda c: c.get_test_invocation("i1"),
        "GET",
        "/v1/convai/test-invocations/i1",
        Reply(json=INVOCATION),
        INVOCATION,
    ),
    "iter_test_invocations": Case(
        lambda c: list(c.iter_test_invocations(agent_id="a1")),
        "GET",
        "/v1/convai/test-invocations",
        Reply(json=one_page("results", INVOCATION)),
        [INVOCATION],
        query=(("agent_id", "a1"), ("page_size", "100")),
    ),
    "resubmit_test_invocation": Case(
        lambda c: c.resubmit_test_invocation(
            "i1", test_run_ids=["r1", "r2"], agent_id="a1", branch_id="b1"
        ),
        "POST",
        "/v1/convai/test-invocations/i1/resubmit",
        Reply(json={}),
        {},
        body={"test_run_ids": ["r1", "r2"], "agent_id": "a1", "branch_id": "b1"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_method_calls_endpoint_and_returns_answer(make_client: MakeClient, case: Case) -> None:
    check_case(make_client, case)
