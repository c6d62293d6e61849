"""generateContent (and streaming) throughput and latency at 16 concurrent clients, as ratios to a bare
Starlette JSON endpoint served by the same uvicorn set-up in the same run. Every request carries a
different prompt, so no answer cache could carry the figure."""
from __future__ import annotations

import argparse
import json

from common import load, report, server_process, table

WORDS = "ocean river mountain forest desert city market garden library engine planet comet".split()


def make_request(stream: bool):
    path = "/v1beta/models/gemini-2.5-flash:" + ("streamGenerateContent?alt=sse" if stream else "generateContent")

    def build(worker: int, n: int):
        topic = " ".join(WORDS[(worker * 7 + n + i) % len(WORDS)] for i in range(5))
        body = {"contents": [{"role": "user", "parts": [{"text": f"Request {worker}-{n}: tell me about {topic}."}]}],
                "generationConfig": {"temperature": 0.7, "maxOutputTokens": 256}}
        return "POST", path, {"content-type": "application/json", "x-goog-api-key": "bench"}, json.dumps(body).encode()
    return build


def measure(concurrency: int, seconds: float, rounds: int = 3) -> list[dict]:
    """Both servers run side by side and are measured in alternating rounds (the best round of each
    kept), so a busy moment of the machine does not fall on one of them only."""
    kinds = {"generateContent": False, "streamGenerateContent (SSE)": True}
    best: dict[str, dict] = {}

    def keep(name: str, result: dict) -> None:
        if name not in best or result["rps"] > best[name]["rps"]:
            best[name] = result

    with server_process(["bench/bare_server.py"]) as (bare_url, _), \
            server_process(["-m", "gemini_mockserver", "serve", "--port", "0", "--quiet"]) as (url, _):
        load(bare_url, make_request(False), concurrency=concurrency, seconds=1)  # warm-up
        for stream in kinds.values():
            load(url, make_request(stream), concurrency=concurrency, seconds=1)
        for _ in range(rounds):
            keep("bare", load(bare_url, make_request(False), concurrency=concurrency, seconds=seconds))
            for name, stream in kinds.items():
                keep(name, load(url, make_request(stream), concurrency=concurrency, seconds=seconds))
    return [{"name": name, "mock": best[name], "bare": best["bare"]} for name in kinds]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    rows = []
    for r in measure(args.concurrency, args.seconds):
        mock, bare = r["mock"], r["bare"]
        rows.append([r["name"], f"{mock['rps']:.0f}", f"{bare['rps']:.0f}", f"{mock['rps'] / bare['rps']:.2f}",
                     f"{mock['p50_ms']:.2f}/{bare['p50_ms']:.2f}", f"{mock['p99_ms']:.2f}/{bare['p99_ms']:.2f}",
                     f"{mock['p99_ms'] / bare['p99_ms']:.2f}"])
        ratio, p99_ratio = mock["rps"] / bare["rps"], mock["p99_ms"] / bare["p99_ms"]
        report(r["name"], "throughput vs bare Starlette", round(ratio, 2), "x", goal=">= 0.85", met=ratio >= 0.85,
               baseline=f"{bare['rps']:.0f} req/s bare, {mock['rps']:.0f} req/s mock")
        report(r["name"], "p99 latency vs bare Starlette", round(p99_ratio, 2), "x", goal="<= 1.5",
               met=p99_ratio <= 1.5, baseline=f"{bare['p99_ms']:.1f} ms bare, {mock['p99_ms']:.1f} ms mock")
    print(f"{args.concurrency} concurrent clients, varied prompts, best of 3 alternating rounds of {args.seconds:.0f} s")
    print(table(rows, ["endpoint", "req/s", "bare req/s", "ratio (goal >= 0.85)", "p50 ms mock/bare",
                       "p99 ms mock/bare", "p99 ratio (goal <= 1.5)"]))


if __name__ == "__main__":
    main()
