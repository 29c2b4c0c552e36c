"""Loading an agent's tests: agents/<slug>/tests/*.yaml, one test per file.

A test file is the API's create-test request body (``type`` llm | tool | simulation, default
llm) without the need for ``name`` (default: the file name), plus ``repeat`` and ``min_pass``.
``success_examples`` / ``failure_examples`` may be plain strings. A simulation test without
``tool_mock_config`` mocks every tool (:func:`convai_ops.tool_mocks.with_default_mocks`); an
explicit ``tool_mock_config: {mocking_strategy: none}`` opts in to real tool calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from convai_ops.spec.models import TestSpec
from convai_ops.spec.schema import TEST_TYPES, TestOptions
from convai_ops.spec.validate import check, did_you_mean, parse_model
from convai_ops.spec.yamlio import Document, read_document
from convai_ops.tool_mocks import with_default_mocks

__all__ = ["PLACEHOLDER", "load_test", "load_tests"]

PLACEHOLDER = "TODO:"
"""A success condition holding this marker was written as a placeholder and is refused."""

_OPTIONS = ("name", "repeat", "min_pass")
_EXAMPLES = (("success_examples", "success"), ("failure_examples", "failure"))


def load_tests(directory: Path) -> tuple[TestSpec, ...]:
    """Every ``tests/*.yaml`` (and ``*.yml``) of the agent folder ``directory``, by file name.

    Raises :class:`SpecError` for an invalid test or two tests with the same name.
    """
    folder = directory / "tests"
    if not folder.is_dir():
        return ()
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    tests: dict[str, TestSpec] = {}
    for path in files:
        doc = read_document(path)
        test = load_test(doc)
        if test.name in tests:
            other = tests[test.name].path.name
            raise doc.error(("name",), f"test name {test.name!r} is already used by {other}")
        tests[test.name] = test
    return tuple(tests.values())


def load_test(doc: Document) -> TestSpec:
    """The :class:`TestSpec` of one parsed test file; raises :class:`SpecError`."""
    test_type = _test_type(doc)
    check(doc, f"test:{test_type}")
    options = parse_model(doc, TestOptions, {k: doc.data[k] for k in _OPTIONS if k in doc.data})
    _check_conditions(doc, test_type)
    min_pass = options.min_pass or options.repeat
    if min_pass > options.repeat:
        message = f"must be at most repeat ({options.repeat}), got {min_pass}"
        raise doc.error(("min_pass",), message)
    return TestSpec(
        name=options.name or doc.path.stem,
        type=test_type,
        path=doc.path,
        repeat=options.repeat,
        min_pass=min_pass,
        body=_body(doc.data, test_type),
    )


def _test_type(doc: Document) -> str:
    value = doc.data.get("type", "llm")
    if isinstance(value, str) and value in TEST_TYPES:
        return str(value)
    hint = did_you_mean(str(value), TEST_TYPES) or " (expected llm, tool or simulation)"
    raise doc.error(("type",), f"unknown test type {value!r}{hint}")


def _check_conditions(doc: Document, test_type: str) -> None:
    """A test must say what passing means, and not with a placeholder."""
    condition = doc.data.get("success_condition") or ""
    conditions = doc.data.get("success_conditions") or []
    for path in _placeholders(doc.data):
        raise doc.error(
            path, _placeholder(next(str(p) for p in reversed(path) if isinstance(p, str)))
        )
    if test_type == "llm" and not condition.strip():
        message = "missing success_condition: say what a passing reply does"
        raise doc.error(("success_condition",), message)
    if test_type == "simulation" and not condition.strip() and not conditions:
        message = "missing success_conditions: say what a passing conversation does"
        raise doc.error(("success_conditions",), message)


_RECORDED = ("chat_history", "from_conversation_metadata")  # what a call said, kept verbatim


def _placeholders(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Paths of strings still holding ``TODO:`` (a test written by ``tests new`` leaves them
    in conditions, descriptions and expected values); recorded transcripts are skipped."""
    if isinstance(value, str) and PLACEHOLDER in value:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (not path and key in _RECORDED):
                yield from _placeholders(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, (*path, index))


def _placeholder(field: str) -> str:
    return f"fill in {field}: it still holds the {PLACEHOLDER} placeholder"


def _body(data: dict[str, Any], test_type: str) -> dict[str, Any]:
    """The create-test request without ``name``: ``type`` set, examples as objects, every tool
    mocked unless the file says otherwise."""
    body: dict[str, Any] = {"type": test_type}
    body.update((k, v) for k, v in data.items() if k not in _OPTIONS and k != "type")
    for key, kind in _EXAMPLES:
        if key in body:
            body[key] = [_example(item, kind) for item in body[key]]
    return with_default_mocks(body)


def _example(item: Any, kind: str) -> dict[str, str]:
    response = item if isinstance(item, str) else item["response"]
    return {"response": response, "type": kind}
