"""A local stand-in for the ElevenLabs ``/v1/convai`` API, for the demo, tests and benchmarks.

Same paths, JSON shapes, status codes, cursor pagination, branch/version/merge semantics and
asynchronous test runs as the bundled OpenAPI document (``convai_ops/openapi``); the "LLM" that
answers tests is deterministic and documented in :mod:`convai_ops.emulator.llm`.

Public API::

    EmulatorConfig(latency_ms=0, fail_rate=0, rate_limit=None, api_key=None, state_file=None,
                   test_delay_s=1.0, seed=0, nondeterminism=0.0, conversations_file=None,
                   ..., live_branch_archive="refuse", traffic_rate=0.0)   # see config.py
    create_app(config: EmulatorConfig | None = None) -> fastapi.FastAPI
        # app.state.emulator is the Emulator
    run_in_thread(config=None, host="127.0.0.1", port=0) -> ContextManager[EmulatorServer]
        # EmulatorServer(url="http://127.0.0.1:<port>", emulator=Emulator)
    serve(config=None, host="127.0.0.1", port=8787) -> None   # blocks
    Emulator: .config, .store, .request_log: list[RequestLogEntry], .lock, .conversations,
              .reset(), .record(entry)  # appends to request_log and the request log file
    RequestLogEntry(method, path, query, status, duration_ms, timestamp, body, response_body)

Synthetic live traffic (``traffic_rate``): :mod:`convai_ops.emulator.traffic`; tests make N
conversations at once with ``traffic.generate(emulator, agent_id, n)``.

Contract checks for any test suite: :func:`convai_ops.emulator.contract.validate_response` and
:func:`convai_ops.emulator.contract.log_violations`. See ``README.md`` in this package.
"""

from convai_ops.emulator.app import create_app
from convai_ops.emulator.config import EmulatorConfig
from convai_ops.emulator.core import Emulator, RequestLogEntry
from convai_ops.emulator.server import EmulatorServer, run_in_thread, serve

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "RequestLogEntry",
    "create_app",
    "run_in_thread",
    "serve",
]
