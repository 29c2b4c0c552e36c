"""A plan of 200 agents against an emulator allowing 20 requests per second (50 ms latency).

Over the limit the emulator answers 429 with ``Retry-After``/``retry-after-ms``. The client
waits what the answer asks, halves its concurrency on a 429 and raises it again on successes
(AIMD). Shown over a few runs: how many plans completed, the requests that finally failed, the
429s answered and retried, the most attempts one call needed (hinted 429s: up to 50 attempts),
the concurrency limit over the run, and the wall time beside the bound ``requests / rate``
(less the burst of 20 the token bucket starts with).

    .venv/bin/python -m bench.rate_limit
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.common import (
    KEY,
    LATENCY_MS,
    Figure,
    Workspace,
    emulator,
    median,
    run_main,
    settings_for,
)
from convai_ops.api import ClientStats, ConvaiClient
from convai_ops.errors import ConvaiOpsError
from convai_ops.plan import build_plan
from convai_ops.spec import Project, load_project

AGENTS = 200
RATE = 20.0
RUNS = 3
SECTION = f"plan {AGENTS} agents at {RATE:g} requests/s"


class CountingTransport(httpx.HTTPTransport):
    """The default transport, counting attempts per ``METHOD URL`` (one URL = one call)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.attempts[f"{request.method} {request.url}"] += 1
        return super().handle_request(request)


class Sampler:
    """Reads ``probe()`` every 10 ms in a thread; ``values`` holds every reading."""

    def __init__(self, probe: Callable[[], int]) -> None:
        self.probe = probe
        self.values: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.01):
            self.values.append(self.probe())


@dataclass(frozen=True)
class Throttled:
    """One plan under the rate limit: seconds, the error (empty when it completed), the
    client's counters, the most attempts of one call and the concurrency limits seen."""

    seconds: float
    error: str
    stats: ClientStats
    most_attempts: int
    limits: tuple[int, ...]

    @property
    def succeeded(self) -> int:
        """Calls answered 2xx."""
        return sum(n for status, n in self.stats.status_counts.items() if 200 <= status < 300)

    @property
    def failed_calls(self) -> int:
        """Calls whose last answer was not 2xx."""
        return self.stats.requests - self.stats.retries - self.succeeded


def plan_once(project: Project, url: str) -> Throttled:
    """Plan ``project`` against ``url``; a call failing after its retries ends the plan."""
    settings = settings_for(project, url)
    transport = CountingTransport()
    error = ""
    with ConvaiClient(
        url, KEY, transport=transport, max_concurrency=settings.concurrency
    ) as client:
        with Sampler(lambda: client.limiter.limit) as sampled:
            started = time.perf_counter()
            try:
                build_plan(client, project, settings)
            except ConvaiOpsError as exc:
                error = str(exc)
            seconds = time.perf_counter() - started
        stats, limits = client.stats, (settings.concurrency, *sampled.values, client.limiter.limit)
    return Throttled(seconds, error, stats, max(transport.attempts.values()), limits)


def run(workspace: Workspace) -> list[Figure]:
    """``RUNS`` plans, each against a fresh rate-limited emulator (a full token bucket)."""
    project = load_project(workspace.project(AGENTS))
    runs: list[Throttled] = []
    answered: Counter[str] = Counter()
    for _ in range(RUNS):
        state = workspace.state(AGENTS)
        with emulator(latency_ms=LATENCY_MS, rate_limit=RATE, state=state) as served:
            runs.append(plan_once(project, served.url))
        answered.update(served.log["by_status"])
    completed = [r for r in runs if not r.error]
    succeeded = median([r.succeeded for r in completed]) if completed else 0.0
    bound = max(0.0, (succeeded - RATE) / RATE)
    seconds = median([r.seconds for r in completed]) if completed else 0.0
    failed = [r.error for r in runs if r.error]
    errors = f"{len(failed)} x {failed[0][:60]}..." if failed else "none"
    return [
        Figure(
            SECTION,
            "plans completed",
            f"{len(completed)} of {RUNS}",
            "",
            f"{RUNS} of {RUNS}",
            len(completed) == RUNS,
        ),
        Figure(
            SECTION,
            "calls that finally failed (all runs)",
            sum(r.failed_calls for r in runs),
            "",
            "0",
            all(r.failed_calls == 0 for r in runs),
        ),
        Figure(SECTION, "errors", errors),
        Figure(SECTION, "429 answers (emulator log, all runs)", answered.get("429", 0)),
        Figure(
            SECTION,
            "429s seen / retries by the client (all runs)",
            f"{sum(r.stats.rate_limited for r in runs)} / {sum(r.stats.retries for r in runs)}",
        ),
        Figure(
            SECTION,
            "most attempts of one call (hinted 429s: up to 50)",
            max(r.most_attempts for r in runs),
        ),
        Figure(
            SECTION,
            "concurrency limit: start / lowest / end (last run)",
            f"{runs[-1].limits[0]} / {min(runs[-1].limits)} / {runs[-1].limits[-1]}",
        ),
        *(
            [
                Figure(SECTION, "bound (successful requests - burst) / rate", bound, "s"),
                Figure(
                    SECTION,
                    f"wall time, completed plans (median of {len(completed)})",
                    seconds,
                    "s",
                ),
                Figure(SECTION, "wall / bound", seconds / bound, "x"),
            ]
            if completed and bound
            else []
        ),
    ]


if __name__ == "__main__":
    run_main("rate limit", run)
