"""Fuzzing at scale: tens of thousands of generated requests against one live emulator.

The generators are the test suite's (tests/properties/test_fuzz_openapi.py and test_fuzz_http.py), run
far longer than CI runs them:

* schemathesis over every operation of every version in `/openapi.json`, valid and invalid cases;
* a state machine of resource lifecycles (create, read, change, list, delete, share);
* hypothesis over the raw HTTP edge: mutated and broken JSON bodies, odd ids, prefixes and verbs,
  resumable upload sequences with wrong offsets and headers, broken multipart bodies, malformed HTTP;
* the control plane: mutated rules, faults, config, clock, journal filters, logs and datasets, each
  followed by API calls it acts on (errors a rule or fault scripts on purpose are not counted as 5xx).

Prints the requests sent, the 5xx answers, the answers off the recorded schemas (or not the Google error
envelope), and whether the server is healthy at the end (a normal generateContent answers its
message, and no request raised an internal error). Exits 1 if any of those fail.

    python bench/fuzz.py [--examples 12] [--negative 8] [--edge 3000] [--seed 0]
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "properties")]

from common import report, table  # noqa: E402

import test_fuzz_http as edge  # noqa: E402
import test_fuzz_openapi as spec  # noqa: E402
from gemini_mockserver.pytest_plugin.server import LiveServer  # noqa: E402


def lifecycles(base_url: str, key: str, tally, examples: int) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test
    spec.ResourceLifecycles.server = (base_url, key)
    spec.ResourceLifecycles.tally = tally
    run_state_machine_as_test(spec.ResourceLifecycles, settings=settings(
        max_examples=examples, stateful_step_count=25, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=12, help="valid cases per operation")
    parser.add_argument("--negative", type=int, default=8, help="invalid cases per operation")
    parser.add_argument("--edge", type=int, default=3000, help="mutated JSON bodies (odd ids: 2/3 of it)")
    parser.add_argument("--uploads", type=int, default=300, help="resumable upload sequences")
    parser.add_argument("--lifecycles", type=int, default=40, help="state machine runs (25 steps each)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)   # uvicorn's "Invalid HTTP request received." for the malformed ones

    key = "fuzz-bench"
    rows = []
    totals = spec.Tally()
    started_all = time.perf_counter()
    with LiveServer(config={"files": {"downloadUploaded": True}}) as server:
        base_url = server.base_url
        world = spec.World(server, key)

        def phase(name: str, run) -> None:
            tally = spec.Tally()
            started = time.perf_counter()
            run(tally)
            seconds = time.perf_counter() - started
            rows.append([name, tally.requests, tally.server_errors, tally.off_schema, tally.violations,
                         f"{tally.requests / seconds:.0f}", f"{seconds:.0f}"])
            print(f"  {name}: {tally.requests} requests, {tally.server_errors} 5xx, {tally.off_schema} off-schema,"
                  f" {tally.violations} other failures in {seconds:.0f} s", flush=True)
            for failure in tally.failures[:10]:
                print("    " + failure[:400])
            totals.requests += tally.requests
            totals.off_schema += tally.off_schema
            totals.violations += tally.violations
            totals.unsendable += tally.unsendable
            totals.scripted += tally.scripted
            for status, n in tally.by_status.items():
                totals.by_status[status] = totals.by_status.get(status, 0) + n

        phase("openapi: valid cases, every operation", lambda t: _merge(t, spec.run_fuzz(
            base_url, server, key, examples=args.examples, modes=("positive",), seed=args.seed)))
        phase("openapi: invalid cases, every operation", lambda t: _merge(t, spec.run_fuzz(
            base_url, server, key, examples=args.negative, modes=("negative",), seed=args.seed)))
        phase("resource lifecycles (state machine)", lambda t: lifecycles(base_url, key, t, args.lifecycles))
        world.refresh()
        phase("mutated and broken JSON bodies", lambda t: edge.fuzz_json(base_url, world, t, args.edge, args.seed))
        phase("odd ids, prefixes and verbs", lambda t: edge.fuzz_ids(base_url, world, t, args.edge * 2 // 3, args.seed))
        phase("resumable upload sequences", lambda t: edge.fuzz_uploads(base_url, world, t, args.uploads, args.seed))
        phase("multipart uploads", lambda t: edge.fuzz_multipart(base_url, world, t, args.edge // 3, args.seed))
        phase("malformed HTTP", lambda t: edge.check_protocol_garbage(base_url, world, t))

        is_healthy = spec.healthy(base_url, key)
        internal = len(server.store.internal_errors)
        for error in server.store.internal_errors[:3]:
            print(error)

    with edge.paid_server() as paid:   # the control plane, with a paid-tier key for logs and datasets
        paid_world = spec.World(paid, edge.PAID_KEY)
        phase("control plane, each change followed by API calls",
              lambda t: edge.fuzz_control(paid.base_url, paid_world, t, args.edge // 3, args.seed))
        is_healthy = is_healthy and spec.healthy(paid.base_url, edge.PAID_KEY)
        internal += len(paid.store.internal_errors)
        for error in paid.store.internal_errors[:3]:
            print(error)
    seconds = time.perf_counter() - started_all

    rows.append(["total", totals.requests, totals.server_errors, totals.off_schema, totals.violations,
                 f"{totals.requests / seconds:.0f}", f"{seconds:.0f}"])
    print()
    print(table(rows, ["phase", "requests", "5xx", "off-schema", "other", "req/s", "s"]))
    print()
    print(f"requests: {totals.requests}")
    print(f"5xx answers: {totals.server_errors}")
    print(f"off-schema answers: {totals.off_schema}")
    print(f"other failures (state models, uploads' bytes, generation): {totals.violations}")
    print(f"statuses: {dict(sorted(totals.by_status.items()))}")
    print(f"cases no client could send (not counted): {totals.unsendable}")
    print(f"errors scripted on purpose by fuzzed rules and faults (not counted): {totals.scripted}")
    print(f"healthy at the end: {is_healthy and internal == 0} (generateContent answers its message: {is_healthy}; "
          f"internal errors: {internal})")

    clean = totals.server_errors == 0 and totals.off_schema == 0 and totals.violations == 0
    report("fuzz", "generated requests", totals.requests, "requests", goal=">= 10000", met=totals.requests >= 10_000)
    report("fuzz", "5xx answers", totals.server_errors, "answers", goal="0", met=totals.server_errors == 0)
    report("fuzz", "off-schema answers", totals.off_schema, "answers", goal="0", met=totals.off_schema == 0)
    report("fuzz", "healthy at the end", int(is_healthy and internal == 0), "", goal="1",
           met=is_healthy and internal == 0)
    return 0 if clean and is_healthy and internal == 0 else 1


def _merge(into, tally) -> None:
    into.requests += tally.requests
    into.unsendable += tally.unsendable
    into.off_schema += tally.off_schema
    into.violations += tally.violations
    into.failures += tally.failures
    for status, n in tally.by_status.items():
        into.by_status[status] = into.by_status.get(status, 0) + n


if __name__ == "__main__":
    sys.exit(main())
