"""tools/<name>.yaml: loaded into Project.tools, named by agents, validated like agent files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from spec_helpers import write_tree

from convai_ops.errors import SpecError, UsageError
from convai_ops.spec import canonical_json, load_project

_CLIENT = "tool_config:\n  type: client\n  description: Shows the order on screen.\n"


def test_tool_file_is_loaded_with_its_name_filled_in(sample: Path) -> None:
    (tool,) = load_project(sample).tools
    assert tool.name == "lookup_order"
    assert tool.path == sample / "tools" / "lookup_order.yaml"
    assert tool.body["tool_config"]["name"] == "lookup_order"
    assert tool.body["tool_config"]["api_schema"]["method"] == "GET"
    assert tool.tool_config is tool.body["tool_config"]
    expected = hashlib.sha256(canonical_json(tool.body)).hexdigest()[:12]
    assert tool.content_hash == expected


def test_tools_are_sorted_and_found_by_name(sample: Path) -> None:
    write_tree(sample, {"tools/a_show_order.yaml": _CLIENT})
    project = load_project(sample)
    assert [tool.name for tool in project.tools] == ["a_show_order", "lookup_order"]
    assert project.tool("a_show_order").body["tool_config"]["type"] == "client"


def test_unknown_tool_name_suggests_the_closest(sample: Path) -> None:
    with pytest.raises(UsageError, match="did you mean 'lookup_order'"):
        load_project(sample).tool("lookup_ordr")


def test_the_hash_follows_the_content(sample: Path) -> None:
    before = load_project(sample).tool("lookup_order").content_hash
    path = sample / "tools" / "lookup_order.yaml"
    path.write_text(path.read_text().replace("by its number", "by number"))
    assert load_project(sample).tool("lookup_order").content_hash != before


def test_an_explicit_name_equal_to_the_stem_gives_the_same_tool(sample: Path) -> None:
    path = sample / "tools" / "lookup_order.yaml"
    before = load_project(sample).tool("lookup_order")
    path.write_text(
        path.read_text().replace("  type: webhook\n", "  type: webhook\n  name: lookup_order\n")
    )
    assert load_project(sample).tool("lookup_order").body == before.body


def test_agent_tools_name_tool_files(sample: Path) -> None:
    assert load_project(sample).agent("support").tools == ("lookup_order",)


def test_agent_naming_a_tool_without_any_tool_file(sample: Path) -> None:
    (sample / "tools" / "lookup_order.yaml").unlink()
    with pytest.raises(SpecError, match=r"no tool 'lookup_order' in tools/ \(add tools/<name>"):
        load_project(sample)


def test_missing_required_tool_field_is_located(sample: Path) -> None:
    write_tree(sample, {"tools/show.yaml": "tool_config:\n  type: client\n"})
    with pytest.raises(SpecError) as caught:
        load_project(sample)
    assert caught.value.path == sample / "tools" / "show.yaml"
    assert "missing required field 'description'" in str(caught.value)


def test_response_mocks_are_part_of_the_body(sample: Path) -> None:
    mocks = 'response_mocks:\n  - {mock_result: \'{"status": "shipped"}\'}\n'
    write_tree(sample, {"tools/show.yaml": _CLIENT + mocks})
    tool = load_project(sample).tool("show")
    assert tool.body["response_mocks"] == [{"mock_result": '{"status": "shipped"}'}]


def test_a_tool_test_names_its_tool_and_hashes_its_content(sample: Path) -> None:
    project = load_project(sample)
    test = next(t for t in project.agent("support").tests if t.type == "tool")
    assert test.tool_name == "lookup_order"
    assert test.tool == project.tool("lookup_order")
    assert project.agent("support").tool_specs == (project.tool("lookup_order"),)
    path = sample / "tools" / "lookup_order.yaml"
    path.write_text(path.read_text().replace("by its number", "by number"))
    again = next(t for t in load_project(sample).agent("support").tests if t.type == "tool")
    assert again.body == test.body
    assert again.content_hash != test.content_hash  # a new remote test for the new tool


def test_a_tool_file_spelling_out_a_default_names_the_same_tool(sample: Path) -> None:
    """The remote test name follows the tool as the API holds it, so a file written by import
    (defaults spelled out or left out) keeps the tests' remote names."""
    path = sample / "tools" / "lookup_order.yaml"
    before = load_project(sample)
    text = path.read_text()
    assert "    method: GET\n" in text  # the default, spelled out (import leaves it out)
    path.write_text(text.replace("    method: GET\n", "", 1))
    after = load_project(sample)
    assert after.tool("lookup_order").content_hash != before.tool("lookup_order").content_hash
    assert after.tool("lookup_order").identity_hash == before.tool("lookup_order").identity_hash
    hashes = [[t.content_hash for t in p.agent("support").tests] for p in (before, after)]
    assert hashes[0] == hashes[1]


def test_a_tool_test_naming_an_unknown_tool(sample: Path) -> None:
    path = sample / "agents" / "support" / "tests" / "lookup.yaml"
    path.write_text(path.read_text().replace("{name: lookup_order}", "{name: lookup_ordr}"))
    with pytest.raises(SpecError) as caught:
        load_project(sample)
    assert caught.value.path == path and caught.value.line == 6
    assert "no tool 'lookup_ordr' in tools/; did you mean 'lookup_order'?" in str(caught.value)


def test_a_tool_test_naming_a_tool_its_agent_does_not_list(sample: Path) -> None:
    write_tree(sample, {"tools/show.yaml": _CLIENT})
    path = sample / "agents" / "support" / "tests" / "lookup.yaml"
    path.write_text(path.read_text().replace("{name: lookup_order}", "{name: show}"))
    with pytest.raises(SpecError, match=r"'show' is not a tool of agent support"):
        load_project(sample)


def test_a_tool_reference_by_name_takes_no_other_key(sample: Path) -> None:
    path = sample / "agents" / "support" / "tests" / "lookup.yaml"
    path.write_text(
        path.read_text().replace("{name: lookup_order}", "{name: lookup_order, type: webhook}")
    )
    with pytest.raises(SpecError, match="referenced_tool"):
        load_project(sample)
