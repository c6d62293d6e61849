"""Batch API cost per request, as a ratio to direct generateContent of the same requests, and how it scales.

Everything runs in this process on one Store (gemini_mockserver.app.create_store), with no HTTP, so the figures
compare the batch machinery itself with the generation it wraps:

* direct: `inference.generate(store, identity, model, request)` in a loop over already-parsed requests
  (what a generateContent handler does after reading its body);
* inline batch: the create body parsed from its JSON bytes and `store.batches.create(...)` (every request
  validated), then the job polled with `store.batches.get(...)` at 20 points of its running time, each
  poll computing the requests that became due;
* file batch: the JSONL input written and registered as a File beforehand (not timed), then create (the
  input is counted line by line) and the same 20 polls, which read the input line by line from where
  the last poll stopped, generate, append the result lines, and at the end register the results File.

Direct generation of the same slice of requests is timed between polls, so both figures see the same
machine state. Times are this process's CPU time (time.process_time), so other processes on the machine
do not skew them. Cost per request also counts the polls' own work (rendering the Operation).

The goal is a batch cost per request within 1.5x the direct one, flat from 1,000 to 100,000 lines.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import tempfile
import time
from pathlib import Path

from common import report, table

from gemini_mockserver import inference
from gemini_mockserver.app import create_store
from gemini_mockserver.http import parse_json

MODEL = "models/gemini-2.5-flash"
WORDS = "ocean river mountain forest desert city market garden library engine planet comet".split()


def make_request(i: int) -> dict:
    topic = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(5))
    return {"contents": [{"role": "user", "parts": [{"text": f"Request {i}: tell me about {topic}."}]}],
            "generationConfig": {"temperature": 0.7, "maxOutputTokens": 256}}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SLICES = 20   # the job is polled this many times while it runs; direct generation is timed in between


def timed_run(store, identity, create, requests: list[dict]) -> tuple[float, float, dict]:
    """(batch seconds, direct seconds, finished Operation).

    The batch is created, then its running time is walked through in SLICES steps: each step moves the
    clock and polls the job (which computes the requests that became due), then generates the same
    requests directly. Interleaving keeps both figures under the same machine load."""
    model = store.models.get(MODEL, "generateContent")
    config = store.config["batch"]
    gc.collect()
    started = time.process_time()
    name = create()["name"]
    batch = time.process_time() - started
    store.clock.advance(config["pendingSeconds"])
    done_direct, direct = 0, 0.0
    for step in range(1, SLICES + 1):
        store.clock.advance(config["runningSeconds"] / SLICES + (1 if step == SLICES else 0))
        started = time.process_time()
        operation = store.batches.get(identity, name)
        batch += time.process_time() - started
        target = len(requests) * step // SLICES
        started = time.process_time()
        for request in requests[done_direct:target]:
            inference.generate(store, identity, model, request)
        direct += time.process_time() - started
        done_direct = target
    assert operation["metadata"]["state"] == "BATCH_STATE_SUCCEEDED", operation["metadata"]["state"]
    return batch, direct, operation


def inline_batch(store, identity, requests: list[dict]) -> tuple[float, float, float]:
    raw = json.dumps({"batch": {"displayName": "bench", "inputConfig": {"requests": {"requests": [
        {"request": r, "metadata": {"key": str(i)}} for i, r in enumerate(requests)]}}}}).encode()

    def create():
        return store.batches.create(identity, MODEL, parse_json(raw), payload_bytes=len(raw))
    batch, direct, done = timed_run(store, identity, create, requests)
    assert len(done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]) == len(requests)
    started = time.process_time()
    json.dumps(store.batches.get(identity, done["name"]), separators=(",", ":"))
    return batch, direct, time.process_time() - started


def file_batch(store, identity, requests: list[dict], workdir: Path) -> tuple[float, float, int, int, float]:
    path = workdir / f"input-{len(requests)}.jsonl"
    with open(path, "w") as out:
        for i, request in enumerate(requests):
            out.write(json.dumps({"key": f"request-{i}", "request": request}) + "\n")
    file = store.files.create_generated(identity, "bench input", "application/jsonl", source_path=path)
    rss_before = peak_rss_mib()

    def create():
        return store.batches.create(identity, MODEL, {"batch": {"inputConfig": {"fileName": file["name"]}}})
    batch, direct, done = timed_run(store, identity, create, requests)
    results = store.files.path_of(identity, done["metadata"]["output"]["responsesFile"])
    with open(results, "rb") as handle:
        lines = sum(1 for _ in handle)
    assert lines == len(requests)
    return batch, direct, path.stat().st_size, results.stat().st_size, peak_rss_mib() - rss_before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inline", type=int, default=10_000, help="requests in the inline batch")
    parser.add_argument("--files", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                        help="lines in the file batches")
    args = parser.parse_args()
    store = create_store()
    identity = store.keys.identify("bench")
    print(__doc__.split("\n", 1)[1].strip())
    print()
    rows = []
    requests = [make_request(i) for i in range(args.inline)]
    batch_s, direct_s, render_s = inline_batch(store, identity, requests)
    per_direct, per_batch = direct_s / len(requests) * 1e6, batch_s / len(requests) * 1e6
    report(f"batch, inline {len(requests):,}", "per-request cost vs direct generateContent",
           round(per_batch / per_direct, 2), "x", goal="<= 1.5", met=per_batch / per_direct <= 1.5,
           baseline=f"{per_direct:.0f} us direct")
    rows.append([f"inline, {len(requests):,} requests", f"{per_direct:.0f}", f"{per_batch:.0f}",
                 f"{per_batch / per_direct:.2f}", "-", f"{render_s * 1000:.0f} ms to serialise the answer"])
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.files:
            requests = [make_request(i) for i in range(size)]
            batch_s, direct_s, in_bytes, out_bytes, rss = file_batch(store, identity, requests, Path(tmp))
            per_direct, per_batch = direct_s / size * 1e6, batch_s / size * 1e6
            ratio = per_batch / per_direct
            first = first or ratio
            report(f"batch, file of {size:,} lines", "per-request cost vs direct generateContent", round(ratio, 2),
                   "x", goal="<= 1.5", met=ratio <= 1.5, baseline=f"{per_direct:.0f} us direct")
            rows.append([f"file, {size:,} lines", f"{per_direct:.0f}", f"{per_batch:.0f}", f"{ratio:.2f}",
                         f"{ratio / first:.2f}",
                         f"in {in_bytes / 2**20:.1f} MiB, out {out_bytes / 2**20:.1f} MiB, "
                         f"peak RSS +{rss:.0f} MiB"])
            del requests
    print(table(rows, ["batch", "direct us/req", "batch us/req", "ratio (goal <= 1.5)",
                       "ratio vs smallest file (flat = linear)", "notes"]))
    store.close()


if __name__ == "__main__":
    main()
