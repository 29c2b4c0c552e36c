"""What a knowledge-base file upload may be (BEHAVIOUR.md "Knowledge base", stated by the docs):
PDF, TXT, DOCX, HTML, EPUB, and Markdown (taken as text), at most 21 MB per file.

The document lists only ``422`` for ``POST /v1/convai/knowledge-base/file``, so a refused file
answers ``422`` in the ``HTTPValidationError`` shape, located at ``["body", "file"]``. The type
is judged by the file name's extension; 21 MB is read as 21,000,000 bytes (the stricter reading
of "MB").
"""

from __future__ import annotations

from pathlib import PurePath

from convai_ops.emulator.problems import InvalidRequest

__all__ = ["ACCEPTED_SUFFIXES", "MAX_FILE_BYTES", "check_upload"]

ACCEPTED_SUFFIXES = (".pdf", ".txt", ".docx", ".html", ".htm", ".epub", ".md", ".markdown")
MAX_FILE_BYTES = 21_000_000


def check_upload(filename: str, size: int) -> None:
    """Raise :class:`InvalidRequest` (422) unless ``filename`` has an accepted extension and
    ``size`` (bytes) is at most :data:`MAX_FILE_BYTES`."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        accepted = ", ".join(ACCEPTED_SUFFIXES)
        message = (
            f"Unsupported file type {suffix or '(none)'!r} of {filename!r}; accepted: {accepted}"
        )
        raise InvalidRequest.one(["body", "file"], message, "unsupported_file_type")
    if size > MAX_FILE_BYTES:
        message = f"File {filename!r} is {size} bytes; the limit is {MAX_FILE_BYTES} bytes (21 MB)"
        raise InvalidRequest.one(["body", "file"], message, "file_too_large")
