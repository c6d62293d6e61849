"""generateContent (and streaming) throughput and latency at 16 concurrent clients, as ratios to a bare
Starlette JSON endpoint served by the same uvicorn set-up in the same run. Every request carries a
different prompt, so no answer cache could carry the figure."""
from __future__ import annotations

import argparse
import json

from common import load, server_process, table

WORDS = "ocean river mountain forest desert city market garden library engine planet comet".split()


def make_request(stream: bool):
    path = "/v1beta/models/gemini-2.5-flash:" + ("streamGenerateContent?alt=sse" if stream else "generateContent")

    def build(worker: int, n: int):
        topic = " ".join(WORDS[(worker * 7 + n + i) % len(WORDS)] for i in range(5))
        body = {"contents": [{"role": "user", "parts": [{"text": f"Request {worker}-{n}: tell me about {topic}."}]}],
                "generationConfig": {"temperature": 0.7, "maxOutputTokens": 256}}
        return "POST", path, {"content-type": "application/json", "x-goog-api-key": "bench"}, json.dumps(body).encode()
    return build


def measure(concurrency: int, seconds: float) -> list[dict]:
    results = []
    with server_process(["bench/bare_server.py"]) as (bare_url, _):
        load(bare_url, make_request(False), concurrency=concurrency, seconds=1)  # warm-up
        bare = load(bare_url, make_request(False), concurrency=concurrency, seconds=seconds)
    with server_process(["-m", "mockserver", "serve", "--port", "0"]) as (url, _):
        for stream in (False, True):
            load(url, make_request(stream), concurrency=concurrency, seconds=1)
            mock = load(url, make_request(stream), concurrency=concurrency, seconds=seconds)
            results.append({"name": "streamGenerateContent (SSE)" if stream else "generateContent",
                            "mock": mock, "bare": bare})
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    rows = []
    for r in measure(args.concurrency, args.seconds):
        mock, bare = r["mock"], r["bare"]
        rows.append([r["name"], f"{mock['rps']:.0f}", f"{bare['rps']:.0f}", f"{mock['rps'] / bare['rps']:.2f}",
                     f"{mock['p50_ms']:.2f}/{bare['p50_ms']:.2f}", f"{mock['p99_ms']:.2f}/{bare['p99_ms']:.2f}",
                     f"{mock['p99_ms'] / bare['p99_ms']:.2f}"])
    print(f"{args.concurrency} concurrent clients, {args.seconds:.0f} s each, varied prompts")
    print(table(rows, ["endpoint", "req/s", "bare req/s", "ratio (goal >= 0.85)", "p50 ms mock/bare",
                       "p99 ms mock/bare", "p99 ratio (goal <= 1.5)"]))


if __name__ == "__main__":
    main()
