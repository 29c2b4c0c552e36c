"""Benchmarks of convai-ops against the local emulator with injected latency.

Run everything (about two and a half minutes on two cores) and print one table::

    .venv/bin/python -m bench

or one part: ``python -m bench.cold_start``, ``bench.plan_scale``, ``bench.apply_gate``,
``bench.memory``, ``bench.rate_limit``. The figures are quoted in ``docs/performance.md``.
"""
