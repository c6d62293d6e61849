"""The largest per-request cost a client can provoke: server CPU time and resident memory per attack.

Each attack runs against a fresh `gemini-mock serve` process (so its memory figure is its own): the
server's CPU seconds (utime + stime from /proc) and peak RSS growth over the request, the wall time to
the answer (capped: a request still unanswered at the cap is reported as ">= cap"), and how long a
cheap second request took while the attack was in flight.

    python bench/cost.py                  # this tree
    python bench/cost.py --before d396d02 # the same attacks against an older commit (built in a temp dir)

The server runs under a 4 GiB address-space limit, so an unbounded attack ends in MemoryError rather
than taking the machine down.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import httpx

from common import ROOT, table

CAP_SECONDS = 20.0
MEMORY_LIMIT = 4 * 1024 ** 3
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"


def _json_schema(key: str, schema: dict) -> bytes:
    return json.dumps({"contents": [{"parts": [{"text": "list"}]}],
                       "generationConfig": {"responseMimeType": "application/json", key: schema}}).encode()


ATTACKS = {
    "minItems 1e9 (170 B)": ("POST", GENERATE, _json_schema("responseSchema", {
        "type": "OBJECT", "properties": {"x": {"type": "ARRAY", "items": {"type": "STRING"},
                                               "minItems": "1000000000"}}, "required": ["x"]})),
    "minLength 1e9": ("POST", GENERATE, _json_schema("responseJsonSchema", {"type": "string", "minLength": 1e9})),
    "pattern a{1e8}": ("POST", GENERATE, _json_schema("responseJsonSchema", {"type": "string",
                                                                             "pattern": "^a{100000000}$"})),
    "wide schema 27,000 leaves": ("POST", GENERATE, _json_schema("responseJsonSchema", {
        "type": "object", "properties": {f"p{i}": {"type": "object", "properties": {
            f"q{j}": {"type": "object", "properties": {f"r{k}": {"type": "string"} for k in range(30)}}
            for j in range(30)}} for i in range(30)}})),
    "19 MB of valid turns": ("POST", GENERATE, json.dumps({"contents": [
        {"role": "user", "parts": [{"text": "hi there"}]}] * 240_000}).encode()),
    "journal ReDoS ^(a|aa)+$": ("GET", "/_mock/requests?path=%5E%2Fv1beta%2F(a%7Caa)%2B%24", b""),
}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return 0


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _server(source: Path | None):
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    proc = subprocess.Popen([sys.executable, "-m", "gemini_mockserver", "serve", "--port", "0"], cwd=source or ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                            preexec_fn=_limit_memory)
    url = proc.stdout.readline().split()[-1]
    return proc, url


def _attack(source: Path | None, name: str) -> list:
    method, path, body = ATTACKS[name]
    proc, url = _server(source)
    try:
        with httpx.Client(base_url=url, timeout=CAP_SECONDS) as client:
            if "journal" in name:
                client.get("/v1beta/" + "a" * 40 + "!", headers={"x-goog-api-key": "k"})
            client.get("/v1beta/models", headers={"x-goog-api-key": "warm-up"})
            cpu0, rss0 = _cpu_seconds(proc.pid), _rss(proc.pid, "VmRSS:")
            probe: list[float] = []

            def second_client() -> None:
                time.sleep(0.3)
                started = time.monotonic()
                try:
                    httpx.get(url + "/v1beta/models/gemini-2.5-flash", headers={"x-goog-api-key": "other"},
                              timeout=CAP_SECONDS)
                except httpx.HTTPError:
                    pass
                probe.append(time.monotonic() - started)

            thread = threading.Thread(target=second_client)
            thread.start()
            started = time.monotonic()
            try:
                status = client.request(method, path, content=body,
                                        headers={"x-goog-api-key": "k", "content-type": "application/json"}).status_code
                wall = f"{time.monotonic() - started:.2f}"
            except httpx.HTTPError:
                status, wall = "none", f">= {CAP_SECONDS:.0f}"
            thread.join(CAP_SECONDS + 5)
            cpu = _cpu_seconds(proc.pid) - cpu0
            peak = max(_rss(proc.pid, "VmHWM:") - rss0, 0) if proc.poll() is None else 0
        second = f"{probe[0]:.2f}" if probe and probe[0] < CAP_SECONDS else f">= {CAP_SECONDS:.0f}"
        return [name, str(status), wall, f"{cpu:.2f}", f"{peak / 1024 ** 2:.0f}", second]
    finally:
        proc.kill()
        proc.wait(10)


def _checkout(commit: str, where: Path) -> Path:
    archive = where / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), commit], check=True)
    tree = where / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree)
    package = where / "path" / "gemini_mockserver"
    package.parent.mkdir()
    (tree / "mockserver").rename(package)
    for data in ("fixtures", "schemas"):
        (tree / data).rename(package / data)
    return package.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", metavar="COMMIT", help="measure this commit instead of the working tree")
    parser.add_argument("attacks", nargs="*", help="names (substrings) of the attacks to run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = _checkout(args.before, Path(scratch)) if args.before else None
        rows = [_attack(source, name) for name in ATTACKS
                if not args.attacks or any(part in name for part in args.attacks)]
    print(f"\nserver: {args.before or 'this tree'}")
    print(table(rows, ["attack", "status", "answer s", "server CPU s", "peak RSS growth MiB", "2nd client s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
