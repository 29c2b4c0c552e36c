"""YAML from a pull request never constructs an object: Python tags are refused with a
``SpecError`` naming the file and line, and nothing they name ever runs."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from convai_ops.errors import SpecError
from convai_ops.spec import load_project

REPO = Path(__file__).resolve().parents[2]
FILES = ("convai-ops.yaml", "agents/support/agent.yaml", "agents/support/tests/refund-window.yaml")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "agents").mkdir(parents=True)
    shutil.copy2(REPO / "convai-ops.yaml", root / "convai-ops.yaml")
    shutil.copytree(REPO / "agents" / "support", root / "agents" / "support")
    shutil.copytree(REPO / "tools", root / "tools")
    return root


SCALAR_PAYLOADS = [
    "!!python/name:os.system",
    "!!python/module:os",
    "!python/object:os.system x",
    "!!python/object:builtins.str x",
    "!!binary aGk=",
    "!!set {a}",
    "!custom x",
    "!!python/object/apply:os.system x",
]
SEQUENCE_PAYLOADS = [
    '!!python/object/apply:os.system ["touch {marker}"]',
    '!!python/object/new:os.system ["touch {marker}"]',
    '!<tag:yaml.org,2002:python/object/apply:os.system> ["touch {marker}"]',
]
MAPPING_PAYLOADS = [
    "!!python/object:builtins.dict {{}}",
    "!!python/object/apply:builtins.dict {{}}",
]


def _inject(root: Path, relative: str, payload: str) -> None:
    """Set a top-level key holding a list of strings in that file to ``payload``."""
    key = {"convai-ops.yaml": "ignore", "agents/support/agent.yaml": "tags"}.get(
        relative, "success_examples"
    )
    path = root / relative
    lines = [line for line in path.read_text().splitlines() if not line.startswith(f"{key}:")]
    path.write_text("\n".join([*lines, f"{key}: {payload}", ""]))


def _refused(root: Path, relative: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_project(root)
    error = caught.value
    assert error.path == root / relative
    assert error.line > 0
    return error


@pytest.mark.parametrize("relative", FILES)
@pytest.mark.parametrize("payload", SCALAR_PAYLOADS)
def test_tagged_scalar_is_refused(project: Path, relative: str, payload: str) -> None:
    _inject(project, relative, payload)

    error = _refused(project, relative)

    assert "tag" in str(error) or "unsupported" in str(error) or "expected" in str(error)


@pytest.mark.parametrize("relative", FILES)
@pytest.mark.parametrize("payload", SEQUENCE_PAYLOADS + MAPPING_PAYLOADS)
def test_python_tag_on_a_collection_runs_nothing(
    project: Path, tmp_path: Path, relative: str, payload: str
) -> None:
    marker = tmp_path / "constructed"
    _inject(project, relative, payload.format(marker=marker))

    with contextlib.suppress(SpecError):
        load_project(project)

    assert not marker.exists()


@pytest.mark.parametrize(
    ("key", "payload"),
    [("tags", p) for p in SEQUENCE_PAYLOADS] + [("platform_settings", p) for p in MAPPING_PAYLOADS],
)
def test_python_tag_on_a_collection_is_refused(
    project: Path, tmp_path: Path, key: str, payload: str
) -> None:
    agent = project / "agents" / "support" / "agent.yaml"
    agent.write_text(f"name: Acme\n{key}: {payload.format(marker=tmp_path / 'constructed')}\n")

    error = _refused(project, "agents/support/agent.yaml")

    assert (error.line, error.column, error.field) == (2, 1, key)
    assert "unsupported YAML tag tag:yaml.org,2002:python/object" in error.reason
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "name: Acme\ntags: !local [a]\n",
        "name: Acme\nplatform_settings: !local {}\n",
        "--- !local\nname: Acme\n",
        "name: Acme\ntags: [!!python/list [a]]\n",
    ],
)
def test_any_unknown_tag_on_a_collection_is_refused(project: Path, text: str) -> None:
    (project / "agents" / "support" / "agent.yaml").write_text(text)

    error = _refused(project, "agents/support/agent.yaml")

    assert "unsupported YAML tag" in error.reason


def test_standard_tags_on_collections_and_scalars_still_load(project: Path) -> None:
    (project / "agents" / "support" / "agent.yaml").write_text(
        "name: !!str Acme\n"
        "tags: !!seq [!!str a, b]\n"
        "platform_settings: !!map\n"
        "  call_limits: !!omap [daily_limit: !!int '5']\n"
    )

    agent = load_project(project).agent("support")

    assert agent.desired(None)["tags"] == ["a", "b"]
    assert agent.desired(None)["platform_settings"] == {"call_limits": {"daily_limit": 5}}
