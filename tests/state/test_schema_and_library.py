"""``convai-ops schema`` (no network), the commands' help, and the library called directly."""

from __future__ import annotations

import json
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from convai_ops.api import ConvaiClient
from convai_ops.cli import cli as cli_group
from convai_ops.cli import state as cli_state
from convai_ops.drift import detect_drift, render_drift_text
from convai_ops.emulator import EmulatorServer
from convai_ops.importer import import_agent
from convai_ops.pull import pull_agents
from convai_ops.spec import SCHEMA_DIR, SCHEMA_HEADER, load_project
from convai_ops.spec.schema import SCHEMA_KINDS

from .helpers import KEY, Cli, patch_agent, template


def test_schema_kinds_match_the_spec() -> None:
    assert cli_state.SCHEMA_KINDS == SCHEMA_KINDS


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_prints_a_valid_json_schema(kind: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_group, ["-C", str(tmp_path), "schema", "--kind", kind])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    Draft202012Validator.check_schema(schema)
    assert not (tmp_path / SCHEMA_DIR).exists()


def test_schema_write_puts_the_files_where_the_headers_point(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_group, ["-C", str(tmp_path), "schema", "--write"])
    assert result.exit_code == 0
    for kind, where in (("project", "."), ("agent", "agents/a"), ("test", "agents/a/tests")):
        assert f"wrote {SCHEMA_DIR}/{kind}.schema.json" in result.output
        relative = SCHEMA_HEADER[kind].split("$schema=", 1)[1]
        assert (tmp_path / where / relative).resolve().is_file()


@pytest.mark.parametrize("command", cli_state.COMMANDS, ids=lambda c: str(c.name))
def test_every_command_has_help_with_examples(command: click.Command) -> None:
    result = CliRunner().invoke(cli_group, [str(command.name), "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and f"convai-ops {command.name}" in result.output


def test_drift_and_pull_as_library_calls(
    server: EmulatorServer, api: httpx.Client, project: Path
) -> None:
    with ConvaiClient(server.url, KEY) as client:
        agent_id = client.create_agent(template("default"))
        result = import_agent(client, agent_id, project, env="staging", slug="lib")
        assert result.directory == project / "agents" / "lib"
        assert result.directory / "agent.yaml" in result.files
        patch_agent(api, agent_id, {"conversation_config": {"agent": {"language": "de"}}})

        report = detect_drift(client, load_project(project), "staging")
        [agent] = report.drifted
        [change] = agent.changes
        assert (change.dotted, change.before, change.after) == (
            "conversation_config.agent.language",
            "de",
            "en",
        )
        text = render_drift_text(report, colour=True)
        assert "\x1b[" in text and 'live "de", repository "en"' in click.unstyle(text)

        [pulled] = pull_agents(client, load_project(project), "staging", ["lib"])
        assert pulled.fields == ("conversation_config.agent.language",)
        assert pulled.files == (project / "agents" / "lib" / "agent.yaml",)
        assert not detect_drift(client, load_project(project), "staging").has_drift


def test_validate_passes_on_an_imported_agent_with_tests(cli: Cli, api: httpx.Client) -> None:
    body = {
        "type": "simulation",
        "simulation_scenario": "Ask for hours.",
        "success_conditions": ["ok"],
    }
    test_id = api.post("/v1/convai/agent-testing/create", json={**body, "name": "Hours"}).json()[
        "id"
    ]
    agent_id = api.post("/v1/convai/agents/create", json=template("text-only")).json()["agent_id"]
    patch_agent(
        api,
        agent_id,
        {"platform_settings": {"testing": {"attached_tests": [{"test_id": test_id}]}}},
    )
    assert cli("import", agent_id, "--slug", "t")[0] == 0
    code, out, _ = cli("validate")
    assert code == 0 and "1 test(s) valid" in out
