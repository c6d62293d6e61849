"""Server CPU per model call without sockets: the ASGI app called in-process (no uvicorn, no client), the
process time of 2,000 varied generateContent (or SSE) calls, best of 3. Steadier than the load test on a
busy machine, so it is what the step-by-step figures in README.md use; it leaves out what uvicorn costs.

    python bench/inprocess.py [--sse] [--before COMMIT] [--profile]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import WORDS

PATH = "/v1beta/models/gemini-2.5-flash-lite:"


def _body(n: int) -> bytes:
    topic = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(5))
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": f"Request {n}: tell me about {topic}."}]}],
                       "generationConfig": {"temperature": 0.7, "maxOutputTokens": 256}}).encode()


async def _call(app, path: str, query: bytes, body: bytes) -> None:
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
             "root_path": "", "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                                          (b"x-goog-api-key", b"bench"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 8000), "state": {}}
    delivered = False
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()   # a client that stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise RuntimeError(f"unexpected answer {sent}")


def measure(sse: bool, calls: int = 2000, profile: bool = False) -> float:
    from gemini_mockserver.app import create_app

    app = create_app()
    path, query = PATH + ("streamGenerateContent" if sse else "generateContent"), b"alt=sse" if sse else b""
    bodies = [_body(n) for n in range(calls)]

    async def run() -> None:
        for body in bodies:
            await _call(app, path, query, body)
    asyncio.run(run())   # warm-up
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        asyncio.run(run())
        best = min(best, time.process_time() - started)
    if profile:
        cProfile.runctx("asyncio.run(run())", globals(), locals(), str(Path(tempfile.gettempdir()) / "inprocess.prof"))
        pstats.Stats(str(Path(tempfile.gettempdir()) / "inprocess.prof")).sort_stats("tottime").print_stats(30)
    return best / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sse", action="store_true", help="streamGenerateContent?alt=sse instead")
    parser.add_argument("--before", metavar="COMMIT", help="measure this older commit's tree instead")
    parser.add_argument("--profile", action="store_true", help="also print where the time goes")
    args = parser.parse_args()
    if args.before:
        from cost import _checkout
        with tempfile.TemporaryDirectory() as scratch:
            tree = _checkout(args.before, Path(scratch))
            here = str(Path(__file__).parent)
            code = (f"import sys; sys.path.insert(0, {str(tree)!r}); sys.path.insert(1, {here!r});"
                    f" import inprocess; print(f'{{inprocess.measure({args.sse}):.0f}}')")
            figure = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    cwd=tempfile.gettempdir()).stdout.split()[-1]
    else:
        figure = f"{measure(args.sse, profile=args.profile):.0f}"
    kind = "streamGenerateContent (SSE)" if args.sse else "generateContent"
    print(f"{kind}: {figure} us of CPU a call in-process ({args.before or 'this tree'})")


if __name__ == "__main__":
    main()
