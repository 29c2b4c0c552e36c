"""A test's content hash, worked out once per distinct body, is the hash of its canonical
JSON and its tool's hash, whatever the key order."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from convai_ops.spec import TestSpec, canonical_json

BODY = {"type": "llm", "chat_history": [{"role": "user", "message": "Hi"}], "success_examples": []}


def spec(body: dict[str, Any], tool_hash: str | None = None) -> TestSpec:
    return TestSpec(name="t", type="llm", path=Path("t.yaml"), body=body, tool_hash=tool_hash)


def expected(body: dict[str, Any], tool_hash: str | None = None) -> str:
    data = canonical_json(body) + (tool_hash or "").encode()
    return hashlib.sha256(data).hexdigest()[:12]


def test_the_hash_is_that_of_the_canonical_body() -> None:
    assert spec(BODY).content_hash == expected(BODY)
    assert spec(BODY, "abc").content_hash == expected(BODY, "abc") != spec(BODY).content_hash


def test_key_order_does_not_matter_and_values_do() -> None:
    reordered = dict(reversed(list(BODY.items())))
    assert spec(reordered).content_hash == spec(BODY).content_hash
    changed = {**BODY, "success_examples": [{"response": "Hello", "type": "positive"}]}
    assert spec(changed).content_hash == expected(changed) != spec(BODY).content_hash


def test_a_body_of_other_mapping_types_hashes_the_same() -> None:
    assert spec(OrderedDict(BODY)).content_hash == expected(BODY)
