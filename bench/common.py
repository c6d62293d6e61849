"""Shared pieces of the benchmarks: start a server in a subprocess, drive it with a lean HTTP/1.1 load
generator (keep-alive connections over asyncio streams), and summarise latencies."""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def server_process(args: list[str], pythonpath: Path | None = None):
    """Run `python <args>`; it must print one line ending with its base URL. Yields (url, pid).
    `pythonpath`: a folder whose `gemini_mockserver` is imported instead of this tree's."""
    path = f"{pythonpath}{os.pathsep}{ROOT}" if pythonpath else str(ROOT)
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": path})
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server {args} did not start")
        yield line.split()[-1], proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def _worker(host, port, make_request, deadline, latencies, index):
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while time.perf_counter() < deadline:
            method, path, headers, body = make_request(index, n)
            head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            started = time.perf_counter()
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length, chunked = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "transfer-encoding" and "chunked" in value:
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer {status_line!r} for {path}")
            n += 1
    finally:
        writer.close()


def load(url: str, make_request, *, concurrency: int, seconds: float) -> dict:
    """Drive `url` with `concurrency` keep-alive connections for `seconds`; returns rps and latencies."""
    host, port = url.split("//")[1].split(":")
    latencies: list[float] = []

    async def run():
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_worker(host, int(port), make_request, deadline, latencies, i)
                               for i in range(concurrency)))
    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def table(rows: list[list], header: list[str]) -> str:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def dumps(data) -> bytes:
    return json.dumps(data).encode()


def report(benchmark: str, figure: str, value: float, unit: str, *, goal: str = "", met: bool | None = None,
           baseline: str = "") -> None:
    """Note one headline figure for `make bench`'s summary table (bench/run.py sets BENCH_REPORT)."""
    path = os.environ.get("BENCH_REPORT")
    if not path:
        return
    with open(path, "a") as out:
        out.write(json.dumps({"benchmark": benchmark, "figure": figure, "value": value, "unit": unit,
                              "baseline": baseline, "goal": goal, "met": met}) + "\n")
