"""Model calls at 16 concurrent clients, as ratios to bare Starlette endpoints served by the same uvicorn
set-up in the same run (bare_server.py): generateContent, countTokens and embedContent against a bare JSON
endpoint, streamGenerateContent (SSE) against a bare endpoint streaming ten SSE events. Every request
carries a different prompt, so no answer cache could carry the figure. Server CPU per request is read
from /proc for both processes over each round."""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from common import load, report, server_process, table

WORDS = "ocean river mountain forest desert city market garden library engine planet comet".split()
HEADERS = {"content-type": "application/json", "x-goog-api-key": "bench"}
# (name, method path, bare baseline, goal on throughput, goal on p99): the goals. A stable model:
# gemini-2.5-flash (in the figures before 2026-12) is past its shutdown date on the emulator's clock now,
# so its calls would also take the retired-model path (a warning to listeners, modelStatus).
KINDS = [
    ("generateContent", "models/gemini-2.5-flash-lite:generateContent", "json", 0.6, 2.0),
    ("streamGenerateContent (SSE)", "models/gemini-2.5-flash-lite:streamGenerateContent?alt=sse", "sse", 0.7, 3.0),
    ("countTokens", "models/gemini-2.5-flash-lite:countTokens", "json", None, None),
    ("embedContent", "models/gemini-embedding-001:embedContent", "json", None, None),
]
BARE_PATHS = {"json": "models/bare:generateContent", "sse": "models/bare:streamGenerateContent?alt=sse"}


def make_request(path: str):
    def build(worker: int, n: int):
        topic = " ".join(WORDS[(worker * 7 + n + i) % len(WORDS)] for i in range(5))
        content = {"role": "user", "parts": [{"text": f"Request {worker}-{n}: tell me about {topic}."}]}
        if path.endswith("embedContent"):
            body = {"content": content}
        elif path.endswith("countTokens"):
            body = {"contents": [content]}
        else:
            body = {"contents": [content], "generationConfig": {"temperature": 0.7, "maxOutputTokens": 256}}
        return "POST", "/v1beta/" + path, HEADERS, json.dumps(body).encode()
    return build


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(concurrency: int, seconds: float, rounds: int, before: Path | None = None) -> dict[str, dict]:
    """The servers run side by side and are measured in alternating rounds (the best round of each
    kept), so a busy moment of the machine does not fall on one of them only. `before`: an older tree
    (cost._checkout), served and measured in the same rounds, its results under "before <name>"."""
    best: dict[str, dict] = {}

    def run(name: str, url: str, pid: int, path: str) -> None:
        before = cpu_seconds(pid)
        result = load(url, make_request(path), concurrency=concurrency, seconds=seconds)
        result["cpu_us"] = (cpu_seconds(pid) - before) / max(result["requests"], 1) * 1e6
        if name not in best or result["rps"] > best[name]["rps"]:
            best[name] = result

    serve = ["-m", "gemini_mockserver", "serve", "--port", "0", "--quiet"]
    with ExitStack() as stack:
        bare_url, bare_pid = stack.enter_context(server_process(["bench/bare_server.py"]))
        mocks = {"": stack.enter_context(server_process(serve))}
        if before is not None:
            mocks["before "] = stack.enter_context(server_process(serve, pythonpath=before))
        for path in BARE_PATHS.values():   # warm-up
            load(bare_url, make_request(path), concurrency=concurrency, seconds=1)
        for url, _ in mocks.values():
            for _, path, _, _, _ in KINDS:
                load(url, make_request(path), concurrency=concurrency, seconds=1)
        for _ in range(rounds):
            for baseline, path in BARE_PATHS.items():
                run("bare " + baseline, bare_url, bare_pid, path)
            for prefix, (url, pid) in mocks.items():
                for name, path, _, _, _ in KINDS:
                    run(prefix + name, url, pid, path)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="COMMIT", help="also serve this older commit, in the same rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.before:
            from cost import _checkout
        best = measure(args.concurrency, args.seconds, args.rounds,
                       _checkout(args.before, Path(scratch)) if args.before else None)
    rows = []
    for baseline in BARE_PATHS:
        bare = best["bare " + baseline]
        rows.append([f"(bare {baseline})", f"{bare['rps']:.0f}", "", "", f"{bare['p50_ms']:.2f}",
                     f"{bare['p99_ms']:.2f}", "", f"{bare['cpu_us']:.0f}"])
    for name, _, baseline, rps_goal, p99_goal in KINDS:
        mock, bare = best[name], best["bare " + baseline]
        ratio, p99_ratio = mock["rps"] / bare["rps"], mock["p99_ms"] / bare["p99_ms"]
        rows.append([name, f"{mock['rps']:.0f}", f"bare {baseline} {bare['rps']:.0f}", f"{ratio:.2f}",
                     f"{mock['p50_ms']:.2f}/{bare['p50_ms']:.2f}", f"{mock['p99_ms']:.2f}/{bare['p99_ms']:.2f}",
                     f"{p99_ratio:.2f}", f"{mock['cpu_us']:.0f}/{bare['cpu_us']:.0f}"])
        against = f"bare {'SSE (ten events)' if baseline == 'sse' else 'Starlette JSON'}"
        report(name, f"throughput vs {against}", round(ratio, 2), "x",
               goal=f">= {rps_goal}" if rps_goal else "", met=ratio >= rps_goal if rps_goal else None,
               baseline=f"{bare['rps']:.0f} req/s bare, {mock['rps']:.0f} req/s mock")
        report(name, f"p99 latency vs {against}", round(p99_ratio, 2), "x",
               goal=f"<= {p99_goal}" if p99_goal else "", met=p99_ratio <= p99_goal if p99_goal else None,
               baseline=f"{bare['p99_ms']:.1f} ms bare, {mock['p99_ms']:.1f} ms mock")
        report(name, "server CPU per request", round(mock["cpu_us"]), "us",
               baseline=f"{bare['cpu_us']:.0f} us bare {baseline}")
        if args.before:
            old = best["before " + name]
            rows.append([f"  before ({args.before})", f"{old['rps']:.0f}", "", f"{old['rps'] / bare['rps']:.2f}",
                         f"{old['p50_ms']:.2f}/{bare['p50_ms']:.2f}", f"{old['p99_ms']:.2f}/{bare['p99_ms']:.2f}",
                         f"{old['p99_ms'] / bare['p99_ms']:.2f}", f"{old['cpu_us']:.0f}/{bare['cpu_us']:.0f}"])
    sse, bare_json = best["streamGenerateContent (SSE)"], best["bare json"]
    print(f"{args.concurrency} concurrent clients, varied prompts, best of {args.rounds} alternating rounds of "
          f"{args.seconds:g} s; SSE against bare JSON: {sse['rps'] / bare_json['rps']:.2f}")
    print(table(rows, ["endpoint", "req/s", "baseline req/s", "ratio", "p50 ms mock/bare", "p99 ms mock/bare",
                       "p99 ratio", "CPU us/req mock/bare"]))


if __name__ == "__main__":
    main()
