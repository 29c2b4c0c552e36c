"""The emulator's knobs: one frozen value, built once and handed to :func:`create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["MIN_KEY_LENGTH", "EmulatorConfig"]

MIN_KEY_LENGTH = 16
"""A shorter ``xi-api-key`` is answered ``401 invalid_api_key`` and refused as ``api_key``: real
keys are ``sk_`` and 48 hex digits, so no shorter string is one (inferred)."""


@dataclass(frozen=True)
class EmulatorConfig:
    """How the local ElevenLabs API behaves.

    Attributes:
        latency_ms: extra delay, in milliseconds, added to every request before it is answered.
        fail_rate: share (0..1) of requests answered ``500`` before any processing.
        rate_limit: requests per second allowed (token bucket, burst = ``max(1, rate_limit)``);
            a request over the limit is answered ``429`` with ``Retry-After`` (whole seconds)
            and ``retry-after-ms`` headers. ``None`` disables rate limiting.
        api_key: when set, only this ``xi-api-key`` is accepted (another key: ``401``); when
            ``None`` any key of at least ``MIN_KEY_LENGTH`` (16) characters is accepted. A
            request without the header, or with a shorter key: ``401``.
        state_file: JSON file the state is written to after every successful mutating request
            and read back at start. ``None`` keeps the state in memory only.
        test_delay_s: seconds a test run stays ``pending`` before it shows its verdict.
        seed: seeds the id generator, the injected failures and the nondeterministic replies.
        nondeterminism: probability (0..1) that a test run of an agent whose LLM
            ``temperature`` is above 0 answers with its second-best reply (see ``llm.py``).
        conversations_file: JSON file of recorded conversations served by
            ``GET /v1/convai/conversations`` instead of the bundled fixture (format in
            :mod:`convai_ops.emulator.conversations`). ``None``: the bundled conversations.
        agent_wide_on_branch: what an agent-wide (unversioned) ``platform_settings`` field
            written on a branch does: ``"live"`` (default) takes effect on the live agent at
            once; ``"dropped"`` is ignored. BEHAVIOUR.md: "What a version holds" (inferred).
        identical_merge: a merge of a branch whose config equals its target's: ``"refuse"``
            (default) answers 422; ``"commit-nothing"`` answers 200 and commits no version.
            BEHAVIOUR.md: "Versions and branches" (inferred).
        protect_main: every agent's main branch is protected (``admin_perms_required``) and the
            emulated key has no admin permissions, so a merge into main answers ``403``.
        rag_index_delay_s: seconds a knowledge-base document's RAG index stays
            ``processing`` before it reaches ``succeeded``; the emulated agent uses a document's
            facts only once it is indexed.
        request_log_file: JSON-lines file every request is appended to (method, path, query,
            status; never a key's value). ``None``: no file.
        live_branch_archive: archiving a branch that holds live traffic (directly or by a
            merge that archives its source): ``"refuse"`` (default) answers
            ``400 branch_has_live_traffic``; ``"to-main"`` archives it and gives its share to
            main. BEHAVIOUR.md: "Live traffic" (inferred).
        traffic_rate: synthetic live conversations per second per agent, split between its
            branches as deployed (:mod:`convai_ops.emulator.traffic`); 0 (default): none.
    """

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    rate_limit: float | None = None
    api_key: str | None = None
    state_file: Path | None = None
    test_delay_s: float = 1.0
    seed: int = 0
    nondeterminism: float = 0.0
    conversations_file: Path | None = None
    agent_wide_on_branch: Literal["live", "dropped"] = "live"
    identical_merge: Literal["refuse", "commit-nothing"] = "refuse"
    protect_main: bool = False
    rag_index_delay_s: float = 3.0
    request_log_file: Path | None = None
    live_branch_archive: Literal["refuse", "to-main"] = "refuse"
    traffic_rate: float = 0.0

    def __post_init__(self) -> None:
        _require(self.latency_ms >= 0, "latency_ms must be >= 0")
        _require(0 <= self.fail_rate <= 1, "fail_rate must be between 0 and 1")
        _require(self.rate_limit is None or self.rate_limit > 0, "rate_limit must be > 0")
        _require(
            self.api_key is None or len(self.api_key) >= MIN_KEY_LENGTH,
            f"api_key must have at least {MIN_KEY_LENGTH} characters",
        )
        _require(self.test_delay_s >= 0, "test_delay_s must be >= 0")
        _require(0 <= self.nondeterminism <= 1, "nondeterminism must be between 0 and 1")
        _require(self.rag_index_delay_s >= 0, "rag_index_delay_s must be >= 0")
        _require(self.traffic_rate >= 0, "traffic_rate must be >= 0")
        _require(
            self.agent_wide_on_branch in ("live", "dropped"),
            "agent_wide_on_branch must be 'live' or 'dropped'",
        )
        _require(
            self.identical_merge in ("refuse", "commit-nothing"),
            "identical_merge must be 'refuse' or 'commit-nothing'",
        )
        _require(
            self.live_branch_archive in ("refuse", "to-main"),
            "live_branch_archive must be 'refuse' or 'to-main'",
        )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"EmulatorConfig: {message}")
