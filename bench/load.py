"""Concurrency, load and memory bounds, at scale.

1. Load: 32 client threads over 4 keys for a while (default 30 s) doing mixed operations (generate,
   stream, count, embed, uploads and sha256-checked downloads, deletes, caches, batches, permissions on
   tuned models used by the grantees); then the server's state is checked against every client's ledger
   (nothing lost, nothing twice, nothing in another project). The engine is tests/system/test_load.py's.
2. Memory: 100,000 resources made through the backends (tests/system/test_memory_bounds.py's mix), bytes per
   resource (tracemalloc on a sample, the resident set over all), and a journal fed 100,000 entries that
   stays at its cap of 10,000 and counts the rest as dropped.

    python bench/load.py [--seconds 30] [--clients 32] [--keys 4] [--resources 100000]
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "system")]

from common import report, table  # noqa: E402

import test_load  # noqa: E402
import test_memory_bounds as memory  # noqa: E402
from gemini_mockserver.app import create_store  # noqa: E402
from gemini_mockserver.config import Config  # noqa: E402
from gemini_mockserver.pytest_plugin.server import LiveServer  # noqa: E402


def run_load(seconds: float, clients: int, keys: int) -> bool:
    with LiveServer(config={"files": {"downloadUploaded": True}}) as server:
        result = test_load.run_load(server.base_url, seconds=seconds, clients=clients, keys=keys, seed=0)
        fives = sum(1 for entry in server.store.journal.entries() if entry["status"] >= 500)
        internal = len(server.store.internal_errors)
    rows = [[op, n, f"{n / result.seconds:.0f}"] for op, n in result.ops.most_common()]
    print(table(rows, ["operation", "count", "per s"]))
    print()
    print(f"{clients} clients over {keys} keys for {result.seconds:.1f} s: {result.requests} operations, "
          f"{result.ops_per_second:.0f}/s, latency p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
    print(f"uploaded {result.bytes_up / 1e6:.1f} MB, downloaded {result.bytes_down / 1e6:.1f} MB (every download "
          f"sha256-checked)")
    print(f"alive at the end: {result.files} files, {result.caches} caches, {result.batches} batches, "
          f"{result.grants} grants -- every list matched the ledgers: {not result.problems}")
    print(f"problems: {len(result.problems)}; 5xx answers in the journal: {fives}; internal errors: {internal}")
    for problem in result.problems[:10]:
        print("  " + problem)
    clean = not result.problems and fives == 0 and internal == 0
    report("load", f"operations/s at {clients} clients", round(result.ops_per_second), "ops/s",
           baseline=f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
    report("load", "lost, duplicated or cross-project resources", len(result.problems), "", goal="0",
           met=not result.problems)
    return clean


def run_memory(resources: int) -> bool:
    store = create_store(Config())
    try:
        maker = memory.Maker(store, keys=50)
        maker.make(1_000)
        sample = min(10_000, resources // 10)
        with memory.measured(sample) as traced:
            maker.make(sample)
        with memory.measured(resources - sample, trace=False) as growth:
            maker.make(resources - sample)
        made = sum(maker.made.values())
        kinds = ", ".join(f"{kind.replace('_', ' ')}: {n}" for kind, n in maker.made.items())
        print(f"{made} resources ({kinds}) over {len(maker.identities)} projects")
        print(f"  allocations held per resource (tracemalloc, {sample} sampled): {traced.traced_per_item:.0f} B")
        print(f"  resident set growth per resource ({resources - sample} made): {growth.rss_per_item:.0f} B; "
              f"total {growth.rss / 1e6:.1f} MB in {growth.seconds:.1f} s")
    finally:
        store.close()

    store = create_store(Config())
    try:
        cap = store.config["limits"]["journalEntries"]
        tracemalloc.start()
        for n in range(cap):
            store.journal.add(memory.journal_entry(store, n, path_chars=2048))
        full = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        for n in range(100_000):
            store.journal.add(memory.journal_entry(store, n, path_chars=2048))
        grown = tracemalloc.get_traced_memory()[0] - full
        tracemalloc.stop()
        seconds = time.perf_counter() - started
        kept, dropped = len(store.journal.entries()), store.journal.dropped
        print(f"journal fed {100_000 + cap} entries with 2 KB paths: keeps {kept} (its cap, limits.journalEntries "
              f"= {cap}), dropped = {dropped}; the last 100,000 took {seconds:.1f} s and grew memory by "
              f"{grown / 1e6:+.2f} MB (the full journal holds {full / 1e6:.1f} MB)")
    finally:
        store.close()
    ok = traced.traced_per_item < 4096 and growth.rss_per_item < 8192 and kept == cap and dropped == 100_000
    report("load", f"bytes per resource at {resources} resources", round(growth.rss_per_item), "B (RSS)",
           goal="< 8192", met=growth.rss_per_item < 8192,
           baseline=f"{traced.traced_per_item:.0f} B traced")
    report("load", "journal entries kept after 110,000", kept, "entries", goal=f"= {cap}", met=kept == cap)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--resources", type=int, default=100_000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print("== load ==")
    load_ok = run_load(args.seconds, args.clients, args.keys)
    print("\n== memory ==")
    memory_ok = run_memory(args.resources)
    return 0 if load_ok and memory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
