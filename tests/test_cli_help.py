"""Every command's ``--help``: click's ``\\b`` (keep this block as written) is a marker, never
text the user sees."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from convai_ops.cli import cli


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(cli))


def test_every_command_is_walked() -> None:
    names = {path[0] for path in COMMANDS if path}
    assert {"plan", "apply", "test", "gc", "doctor", "check", "drift"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "convai-ops")
def test_help_never_shows_the_no_rewrap_marker(path: tuple[str, ...]) -> None:
    done = CliRunner().invoke(cli, [*path, "--help"], prog_name="convai-ops")
    assert done.exit_code == 0, done.output
    shown = [line for line in done.output.splitlines() if "\\b" in line or "\b" in line]
    assert shown == [], shown
