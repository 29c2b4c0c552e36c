"""Every user-facing failure of convai-ops, and the exit code each one maps to.

The tree::

    ConvaiOpsError                      exit 1   base; message tells the user what to do
    ├── UsageError                      exit 1   bad flags or settings (no API call made)
    │   └── MissingReasonError          exit 2   --skip-tests without --reason (a usage error)
    ├── SpecError                       exit 1   bad YAML / schema in the repository (file:line:col)
    ├── StalePlanError                  exit 1   a saved plan no longer matches the live agent
    ├── MainMovedError                  exit 1   main moved between branch creation and merge
    ├── ProtectedBranchError            exit 1   merge into a protected main refused (403)
    ├── OutOfSyncError                  exit 1   promote: the source environment differs from git
    ├── AmbiguousAgentError             exit 1   two live agents carry one agent's managed tag
    ├── VerifyError                     exit 1   after a merge, main does not hold what was planned
    ├── TestRunError                    exit 1   tests could not be run to a verdict
    ├── KnowledgeIndexError             exit 1   a document's RAG index failed or took too long
    ├── TrafficSplitError               exit 1   main shares live traffic with a foreign split
    ├── TestsFailedError                exit 3   tests ran and at least one failed: nothing merged
    └── ApiError                        exit 1   the API answered with an error status
        ├── AuthenticationError                  401 / 403
        │   └── PermissionDeniedError            403 (the key lacks a permission)
        ├── NotFoundError                        404
        ├── ConflictError                        409
        ├── RequestValidationError               422 (``detail`` lists loc/msg/type)
        ├── RateLimitError                       429 after retries
        ├── ServerError                          5xx after retries
        └── ApiConnectionError                   no answer (refused, timeout) after retries

Messages never contain the API key: :func:`redact` is applied by the one top-level handler in
``convai_ops.cli`` and by every ``__str__`` here. It masks whole occurrences of the key (also
inside a longer token), never fragments of words: a key shorter than :data:`MIN_API_KEY_LENGTH`
cannot be masked safely (``k`` would mask every "k"), so it is refused before any request
(:func:`check_api_key`) and never masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_TESTS_FAILED",
    "MIN_API_KEY_LENGTH",
    "AmbiguousAgentError",
    "ApiConnectionError",
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "ConvaiOpsError",
    "KnowledgeIndexError",
    "MainMovedError",
    "MissingReasonError",
    "NotFoundError",
    "OutOfSyncError",
    "PermissionDeniedError",
    "ProtectedBranchError",
    "RateLimitError",
    "RequestValidationError",
    "ServerError",
    "SpecError",
    "StalePlanError",
    "TestRunError",
    "TestsFailedError",
    "TrafficSplitError",
    "UsageError",
    "VerifyError",
    "check_api_key",
    "redact",
    "register_secret",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_TESTS_FAILED = 3

MIN_API_KEY_LENGTH = 16
"""Characters an API key must have (ElevenLabs keys are ``sk_`` and 48 hex digits): shorter,
its whole occurrences could not be told from ordinary words, so it could not be masked."""

_SECRETS: set[str] = set()


def check_api_key(value: str, where: str = "the key") -> None:
    """Raise ``UsageError`` when ``value`` is shorter than :data:`MIN_API_KEY_LENGTH`.

    ``where`` names the key's origin (e.g. the environment variable) in the message; the
    message gives the key's length, never the key.
    """
    if len(value) < MIN_API_KEY_LENGTH:
        raise UsageError(
            f"{where} is too short to be an API key ({len(value)} "
            f"character{'' if len(value) == 1 else 's'}, at least "
            f"{MIN_API_KEY_LENGTH}; ElevenLabs keys look like sk_ and 48 hex digits): "
            "set the whole key"
        )


def register_secret(value: str | None) -> None:
    """Remember a secret (an API key) so that :func:`redact` masks it everywhere.

    Values shorter than :data:`MIN_API_KEY_LENGTH` are not remembered (see :func:`redact`).
    """
    if value and len(value) >= MIN_API_KEY_LENGTH:
        _SECRETS.add(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every whole occurrence of a registered secret, and of each of ``secrets``,
    replaced by ``***`` (also where it is part of a longer token: that is still a leak).

    Secrets shorter than :data:`MIN_API_KEY_LENGTH` are skipped: masking them would mask
    fragments of ordinary words; such keys are refused before they are sent.
    """
    for secret in sorted({*_SECRETS, *secrets}, key=len, reverse=True):
        if len(secret) >= MIN_API_KEY_LENGTH:
            text = text.replace(secret, "***")
    return text


class ConvaiOpsError(Exception):
    """Base of every error convai-ops reports to the user; ``exit_code`` is the process exit."""

    exit_code: int = EXIT_ERROR

    def __str__(self) -> str:
        return redact(super().__str__())


class UsageError(ConvaiOpsError):
    """Raised for bad flags, settings or environment (missing API key, unknown environment)."""


class MissingReasonError(UsageError):
    """Raised when ``--skip-tests`` (break-glass) is given without ``--reason``: exit 2, the
    exit of a command-line usage error, before anything is read or sent."""

    exit_code = EXIT_CHANGES  # 2: the usage-error exit a refusal of break-glass is checked by


class SpecError(ConvaiOpsError):
    """Raised when a repository file is malformed; the message is ``file:line:col: field: why``.

    ``path`` is the file, ``line``/``column`` are 1-based (0 when unknown) and ``field`` is the
    dotted path of the offending key (empty when the whole file is at fault).
    """

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int = 0,
        column: int = 0,
        field: str = "",
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.field = field
        self.reason = message
        location = str(self.path)
        if line:
            location += f":{line}"
            if column:
                location += f":{column}"
        prefix = f"{field}: " if field else ""
        super().__init__(f"{location}: {prefix}{message}")


class StalePlanError(ConvaiOpsError):
    """Raised by ``apply PLAN`` when main moved or the repository changed since ``plan``."""


class MainMovedError(ConvaiOpsError):
    """Raised when main moved after the branch was made; the branch is kept, nothing merged."""


class ProtectedBranchError(ConvaiOpsError):
    """Raised when the API refuses (403) to merge a tested branch into a protected main: the
    API key lacks admin permission. Nothing is merged; the branch is kept and named."""


class OutOfSyncError(ConvaiOpsError):
    """Raised by ``promote`` when the source environment's live agents differ from the
    repository: apply to the source environment first."""


class AmbiguousAgentError(ConvaiOpsError):
    """Raised when two live agents carry one agent's managed tag (``convai-ops:<slug>``) and
    ``agent.yaml`` pins neither: nothing is written; the message names both ids and the fixes."""


class VerifyError(ConvaiOpsError):
    """Raised when, after a merge, re-reading main shows fields that did not persist."""


class TestRunError(ConvaiOpsError):
    """Raised when tests could not be run to a verdict (API error, a run stuck in ``pending``)."""

    __test__ = False  # not a pytest test class


class KnowledgeIndexError(ConvaiOpsError):
    """Raised when a knowledge-base document's RAG index did not reach ``succeeded``: it
    failed, or was still indexing when the wait's time ran out. The message names the
    documents."""


class TrafficSplitError(ConvaiOpsError):
    """Raised by ``apply`` (without a canary) for an agent whose main holds less than 100% of
    live traffic because of a split not made by convai-ops: a merge would reach only main's
    share of callers. ``--ignore-traffic-split`` merges anyway."""


class TestsFailedError(ConvaiOpsError):
    """Raised when tests ran and at least one failed (or missed ``min_pass``): exit code 3."""

    __test__ = False
    exit_code = EXIT_TESTS_FAILED


class ApiError(ConvaiOpsError):
    """Raised when the ElevenLabs API answers an error status.

    ``status`` is the HTTP status (0 when there was no answer), ``method`` and ``path`` name the
    call, ``detail`` is the decoded error body (``None`` when absent).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        path: str = "",
        detail: object = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.detail = detail
        where = f"{method} {path}: " if method else ""
        code = f"HTTP {status}: " if status else ""
        super().__init__(f"{where}{code}{message}")


class AuthenticationError(ApiError):
    """Raised on 401/403: the API key is missing, wrong, or lacks permission."""


class PermissionDeniedError(AuthenticationError):
    """Raised on 403: the key is valid but lacks a permission the call needs (for example
    admin permission to merge into a protected branch)."""


class NotFoundError(ApiError):
    """Raised on 404: the agent, branch, test or document id does not exist."""


class ConflictError(ApiError):
    """Raised on 409: e.g. a branch name already taken, a document still in use (merges never
    answer 409: the API settles conflicts by timestamp)."""


class RequestValidationError(ApiError):
    """Raised on 422: the API rejected the request body; the message lists each ``loc: msg``."""


class RateLimitError(ApiError):
    """Raised on 429 once retries are exhausted."""


class ServerError(ApiError):
    """Raised on 5xx once retries are exhausted."""


class ApiConnectionError(ApiError):
    """Raised when the API could not be reached (refused, DNS, timeout) after retries."""
