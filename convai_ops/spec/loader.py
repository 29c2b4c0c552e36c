"""Loading the whole repository: convai-ops.yaml and every agents/<slug>/ folder."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from convai_ops.errors import SpecError, UsageError
from convai_ops.settings import check_base_url
from convai_ops.spec.agent import load_agent
from convai_ops.spec.check_cache import remembering
from convai_ops.spec.models import AgentSpec, EnvironmentConfig, Project, ProjectConfig
from convai_ops.spec.pointers import check_ignore
from convai_ops.spec.schema import ProjectFile
from convai_ops.spec.tools import bind_tools, load_tools
from convai_ops.spec.validate import check, did_you_mean, parse_model
from convai_ops.spec.yamlio import Document, read_document

__all__ = ["CONFIG_FILE", "SLUG_PATTERN", "load_config", "load_project"]

CONFIG_FILE = "convai-ops.yaml"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""What an agent folder's name (its slug) must look like."""


def load_project(root: Path) -> Project:
    """Read the repository at ``root`` into a :class:`Project` (agents sorted by slug).

    Reads ``convai-ops.yaml`` (optional), ``tools/*.yaml``, ``agents/*/agent.yaml`` with their
    prompt files, ``knowledge/`` documents and ``tests/*.yaml`` (an agent's ``tools:`` must name
    tool files); never touches the network. Files whose content passed the schema check before
    are not checked again (``.convai-ops/cache/``, :mod:`convai_ops.spec.check_cache`). Raises
    :class:`SpecError` (``file:line:col: field: message``) for the first problem found.
    """
    if not root.is_dir():
        raise SpecError(root, "project folder not found")
    with remembering(root):
        config = load_config(root)
        tools = load_tools(root)
        agents = tuple(
            bind_tools(load_agent(directory, config), tools) for directory in _agent_dirs(root)
        )
    _check_unique_ids(agents)
    return Project(root=root, config=config, agents=agents, tools=tools)


def load_config(root: Path) -> ProjectConfig:
    """``<root>/convai-ops.yaml`` as a :class:`ProjectConfig` (defaults when the file is absent).

    Raises :class:`SpecError`.
    """
    doc = read_document(root / CONFIG_FILE, missing_ok=True)
    check(doc, "project")
    spec = parse_model(doc, ProjectFile, doc.data)
    check_ignore(doc, spec.ignore)
    _check_environments(doc, spec)
    known = list(spec.environments)
    default = spec.default_environment
    if default is not None and known and default not in known:
        hint = did_you_mean(default, known) or f" (environments: {', '.join(known)})"
        raise doc.error(("default_environment",), f"unknown environment {default!r}{hint}")
    environments = {
        name: EnvironmentConfig(
            base_url=env.base_url, api_key_env=env.api_key_env, canary=env.canary
        )
        for name, env in spec.environments.items()
    }
    return ProjectConfig(
        environments=environments,
        default_environment=default,
        ignore=tuple(spec.ignore),
        concurrency=spec.concurrency,
        require_tests=spec.require_tests,
        prune=spec.prune,
    )


_OWN_VARIABLES = ("ELEVENLABS_BASE_URL", "CONVAI_OPS_")
"""Variables convai-ops reads for itself: never an environment's API key variable."""


def _check_environments(doc: Document, spec: ProjectFile) -> None:
    """Each environment's base URL is a usable http(s) URL (a port in range, no user or password
    in it, no query) and its key variable is not one of convai-ops's own; errors at their line."""
    for name, env in spec.environments.items():
        if env.base_url is not None:
            problem = _base_url_problem(env.base_url)
            if problem:
                raise doc.error(("environments", name, "base_url"), problem)
        if env.api_key_env.startswith(_OWN_VARIABLES):
            message = f"{env.api_key_env} is a convai-ops setting, not a variable for an API key"
            raise doc.error(("environments", name, "api_key_env"), message)


def _base_url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            return "a base URL must not hold a user or password (the key goes in api_key_env)"
        check_base_url(url, allow_insecure_http=True)  # plain http is refused per run, unless
        parts.port  # noqa: B018  (--allow-insecure-http); reading it checks the port's range
    except UsageError as exc:
        return str(exc)
    except ValueError:
        return f"base URL {url!r} has an invalid host or port"
    if parts.query or parts.fragment:
        return f"base URL {url!r} must not have a query or fragment"
    return None


def _agent_dirs(root: Path) -> list[Path]:
    """The agent folders under ``agents/``: those holding an agent.yaml, by name."""
    folder = root / "agents"
    if not folder.is_dir():
        return []
    found = []
    for directory in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not (directory / "agent.yaml").is_file():
            if (directory / "agent.yml").is_file():
                raise SpecError(directory / "agent.yml", "rename this file to agent.yaml")
            continue
        if not SLUG_PATTERN.match(directory.name):
            message = (
                f"folder name {directory.name!r} is not a valid agent slug"
                " (lowercase letters, digits, '-' and '_', starting with a letter or digit)"
            )
            raise SpecError(directory / "agent.yaml", message)
        found.append(directory)
    return found


def _check_unique_ids(agents: tuple[AgentSpec, ...]) -> None:
    """No two agents may claim the same agent id in the same environment."""
    owners: dict[tuple[str, str], AgentSpec] = {}
    for agent in agents:
        for env, agent_id in agent.environments.items():
            owner = owners.setdefault((env, agent_id), agent)
            if owner is not agent:
                doc = read_document(agent.path)
                message = f"agent id {agent_id!r} is already used by {owner.slug} in {env!r}"
                raise doc.error(("environments", env), message)
