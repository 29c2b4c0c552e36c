"""Client calls of the deployments endpoint and the branches' live shares (MockTransport)."""

from __future__ import annotations

import pytest

from convai_ops.errors import RequestValidationError
from tests.api.fakes import FakeApi, Reply, body_of, query_of
from tests.canary.conftest import MakeClient


def test_deploy_traffic_sends_one_percentage_request_per_branch(make_client: MakeClient) -> None:
    api = FakeApi(Reply(json={"traffic_percentage_branch_id_map": {"main": 80, "b1": 20}}))
    split = make_client(api).deploy_traffic("a1", {"main": 80.0, "b1": 20.0})
    assert split == {"main": 80.0, "b1": 20.0}
    assert (api.last.method, api.last.url.path) == ("POST", "/v1/convai/agents/a1/deployments")
    assert body_of(api.last) == {
        "deployment_request": {
            "requests": [
                {
                    "branch_id": "main",
                    "deployment_strategy": {"type": "percentage", "traffic_percentage": 80.0},
                },
                {
                    "branch_id": "b1",
                    "deployment_strategy": {"type": "percentage", "traffic_percentage": 20.0},
                },
            ]
        }
    }


def test_deploy_traffic_rejected_shares_raise_the_validation_error(
    make_client: MakeClient,
) -> None:
    api = FakeApi(Reply(422, json={"detail": [{"loc": ["body"], "msg": "must total 100"}]}))
    with pytest.raises(RequestValidationError):
        make_client(api).deploy_traffic("a1", {"main": 90.0, "b1": 20.0})


def test_traffic_shares_reads_each_branch_current_live_percentage(
    make_client: MakeClient,
) -> None:
    branches = [
        {"id": "main", "name": "Main", "current_live_percentage": 70},
        {"id": "b1", "name": "x", "current_live_percentage": 30},
        {"id": "b2", "name": "y"},
    ]
    api = FakeApi(Reply(json={"results": branches}))
    assert make_client(api).traffic_shares("a1") == {"main": 70.0, "b1": 30.0, "b2": 0.0}
    assert api.last.url.path == "/v1/convai/agents/a1/branches"
    assert ("include_archived", "false") in query_of(api.last)
