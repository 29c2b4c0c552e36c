"""``convai-ops demo --canary``: after the gated flow, two changes whose tests pass reach live
callers through a canary (the demo's emulator makes synthetic live conversations):

7. a harmless wording change: its canary holds on every metric, it is merged;
8. a change breaking a fact no test covers (the support agent's "2-year warranty"): its tests
   pass, live callers who ask about the warranty get the wrong answer, the canary rolls it back
   naming the metric and the failed conversation ids;
9. main read back still holds the warranty.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from convai_ops.canary.config import CanaryConfig

__all__ = ["DEMO_CANARY", "TRAFFIC_RATE", "missing_fact", "walk_canary"]

#: Synthetic live conversations per second per agent while the demo runs.
TRAFFIC_RATE = 30.0
DEMO_CANARY = CanaryConfig(
    steps=(20.0,), min_conversations=10, max_duration_s=90, margin=0.25, analysis_interval_s=0.5
)
HARMLESS = ("Be warm,", "Be warm and friendly,")
BREAKING = ("2-year warranty", "1-year warranty")
AGENT = "support"


def missing_fact(work: Path) -> str | None:
    """Why steps 7-9 cannot run on this project, None when they can."""
    prompt = work / "agents" / AGENT / "prompt.md"
    text = prompt.read_text(encoding="utf-8") if prompt.is_file() else ""
    missing = [f'"{old}"' for old, _ in (HARMLESS, BREAKING) if old not in text]
    return f"agents/{AGENT}/prompt.md does not say {' and '.join(missing)}" if missing else None


def _edit(work: Path, change: tuple[str, str]) -> None:
    prompt = work / "agents" / AGENT / "prompt.md"
    prompt.write_text(prompt.read_text(encoding="utf-8").replace(*change), encoding="utf-8")


def walk_canary(session: Any, echo: Callable[..., Any], work: Path) -> bool:
    """Steps 7-9 on ``session`` (the demo's); True when the first change was merged, the
    second rolled back (exit 3) and main still states the warranty."""
    _edit(work, HARMLESS)
    session.step(7, "convai-ops apply --canary 20", "a harmless wording change, live callers")
    promoted = session.apply(canary=DEMO_CANARY)
    _edit(work, BREAKING)
    session.step(
        8, "convai-ops apply --canary 20", '"2-year warranty" becomes "1-year": no test covers it'
    )
    rolled_back = session.apply(canary=DEMO_CANARY)
    kept = BREAKING[0] in session.main_prompt()
    session.step(9, f"GET /v1/convai/agents/{{id}} for {AGENT}", "what main holds now")
    echo(f"  main still states the {BREAKING[0]}: {'yes' if kept else 'NO'}\n")
    return promoted == 0 and rolled_back == 3 and kept
