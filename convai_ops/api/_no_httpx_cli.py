"""Imported first by :mod:`convai_ops.api`, for its side effect: httpx without its command line.

``import httpx`` also imports httpx's own command line (``httpx._main``, which pulls in rich,
pygments and click's extras: about a tenth of the imports a command pays before its first
request) whenever those libraries are installed, as they are here. The client never runs that
command line, so a placeholder module stands in for it; httpx then defines its usual
``httpx.main`` stub (which says the command line is not installed). Nothing changes when httpx
was already imported.
"""

from __future__ import annotations

import sys
from types import ModuleType

__all__: list[str] = []

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", ModuleType("httpx._main"))
