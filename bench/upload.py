"""Upload benchmark: 1 GiB through the google-genai SDK to an emulator running as its own process.

Reports the server's peak RSS growth (VmHWM before and after, from /proc/<pid>/status; goal < 64 MiB:
the bytes are streamed to disk, never held) and the upload throughput as a ratio to a raw loopback
copy of the same size measured in the same run (a socket sink in a thread; goal >= 0.5).

Two reference rows say where the time goes: the same SDK upload to a null server (a protocol stub that
drops the bytes: the SDK's own ceiling on this machine), and a plain socket HTTP client running the
same resumable protocol against the emulator (the emulator's own ceiling: receive, hash, write).

    python bench/upload.py [--size-mib 1024] [--repeat 1]

With --repeat N every measurement is taken N times and the fastest kept (the machine's page cache and
other load make single runs noisy); peak RSS is over all runs.

The data is a sparse temporary file (reads back as zeros without taking disk space); the server's
copy is deleted through the API and the servers stopped at the end. Linux only (/proc).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report  # noqa: E402

MIB = 1024 * 1024
PIECE = 8 * MIB   # what the SDK sends per request; the raw copy uses the same size


def proc_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def start_server(*command: str) -> tuple[subprocess.Popen, str]:
    """Run `command` (a server that prints a line with its URL) and return it with the URL."""
    process = subprocess.Popen(list(command), stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"(https?://\S+)", line)
        if match:
            return process, match.group(1)
    process.kill()
    raise RuntimeError(f"{command} did not announce its URL")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def null_app(scope, receive, send) -> None:
    """The resumable protocol with nothing behind it: bytes are read and dropped."""
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    while (await receive()).get("more_body"):
        pass
    command = headers.get(b"x-goog-upload-command", b"").decode()
    body = b""
    if command == "start":
        host = headers[b"host"].decode()
        answer = [(b"x-goog-upload-url", f"http://{host}/upload/v1beta/files?upload_id=null".encode()),
                  (b"x-goog-upload-status", b"active")]
    elif "finalize" in command:
        body = b'{"file": {"name": "files/null", "sizeBytes": "0"}}'
        answer = [(b"x-goog-upload-status", b"final"), (b"content-type", b"application/json")]
    else:
        answer = [(b"x-goog-upload-status", b"active")]
    await send({"type": "http.response.start", "status": 200, "headers": answer})
    await send({"type": "http.response.body", "body": body})


def serve_null() -> int:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d" % sock.getsockname()[1]

    class Announcing(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            print(f"null server on {url}", flush=True)

    Announcing(uvicorn.Config(null_app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])
    return 0


def sdk_upload_seconds(url: str, path: Path, size: int) -> tuple[float, str]:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=url))
    began = time.perf_counter()
    file = client.files.upload(file=str(path), config={"mime_type": "application/octet-stream"})
    return time.perf_counter() - began, file.name


def read_pieces(path: Path, size: int = PIECE):
    """The file in pieces of `size`, read into one reused buffer (no allocation per piece)."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as source:
        while count := source.readinto(buffer):
            yield view[:count]


def raw_loopback_seconds(path: Path, size: int) -> float:
    """Time to send `size` bytes read from `path` through a loopback socket to a sink thread."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = 0

    def sink() -> None:
        nonlocal received
        connection, _ = server.accept()
        buffer = bytearray(1 << 20)
        with connection:
            while count := connection.recv_into(buffer):
                received += count

    thread = threading.Thread(target=sink)
    thread.start()
    began = time.perf_counter()
    with socket.create_connection(server.getsockname()) as client:
        for piece in read_pieces(path):
            client.sendall(piece)
    thread.join()
    elapsed = time.perf_counter() - began
    server.close()
    assert received == size, (received, size)
    return elapsed


def _http(sock: socket.socket, reader, method: str, target: str, headers: dict[str, str],
          body=()) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 exchange on a kept-alive socket: `body` is an iterable of bytes-like pieces."""
    head = f"{method} {target} HTTP/1.1\r\nHost: {sock.getpeername()[0]}:{sock.getpeername()[1]}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    for piece in body:
        sock.sendall(piece)
    status = int(reader.readline().split()[1])
    answer = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        key, _, value = line.decode().partition(":")
        answer[key.strip().lower()] = value.strip()
    return status, answer, reader.read(int(answer.get("content-length", 0)))


def plain_http_upload_seconds(url: str, path: Path, size: int) -> float:
    """Time for a minimal HTTP client (no SDK) to run the resumable protocol with the SDK's 8 MiB chunks:
    what the server itself sustains."""
    host, port = re.match(r"https?://([^:/]+):(\d+)", url).groups()
    with socket.create_connection((host, int(port))) as sock, sock.makefile("rb") as reader:
        metadata = b'{"file": {"mimeType": "application/octet-stream"}}'
        status, headers, _ = _http(sock, reader, "POST", "/upload/v1beta/files", {
            "x-goog-api-key": "bench-plain", "Content-Type": "application/json",
            "Content-Length": str(len(metadata)), "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start", "X-Goog-Upload-Header-Content-Length": str(size)}, [metadata])
        assert status == 200, status
        upload = urlsplit(headers["x-goog-upload-url"])
        target = f"{upload.path}?{upload.query}"
        began = time.perf_counter()
        offset = 0
        for piece in read_pieces(path):
            last = offset + len(piece) >= size
            status, headers, body = _http(sock, reader, "POST", target, {
                "Content-Length": str(len(piece)), "X-Goog-Upload-Offset": str(offset),
                "X-Goog-Upload-Command": "upload, finalize" if last else "upload"}, [piece])
            assert status == 200, body
            offset += len(piece)
        elapsed = time.perf_counter() - began
        assert headers["x-goog-upload-status"] == "final"
        name = json.loads(body)["file"]["name"]
        _http(sock, reader, "DELETE", f"/v1beta/{name}", {"x-goog-api-key": "bench-plain"})
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1, help="take each measurement this many times, keep the best")
    parser.add_argument("--serve-null", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_null:
        return serve_null()
    size = args.size_mib * MIB

    from google import genai
    from google.genai import types

    folder = tempfile.mkdtemp(prefix="gemini-mock-bench-")
    data = Path(folder) / "payload.bin"
    process = null = None
    try:
        with open(data, "wb") as handle:   # sparse: no disk blocks, reads as zeros
            handle.truncate(size)
        for _ in read_pieces(data):   # into the page cache first, so no run pays for that alone
            pass
        process, url = start_server(sys.executable, "-m", "gemini_mockserver", "serve", "--port", "0", "--quiet")
        client = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=url))
        client.files.list()   # warm up the server (imports, first request) before measuring
        rss_before = proc_kib(process.pid, "VmRSS")
        hwm_before = proc_kib(process.pid, "VmHWM")

        upload_seconds = math.inf
        for _ in range(args.repeat):
            seconds, name = sdk_upload_seconds(url, data, size)
            upload_seconds = min(upload_seconds, seconds)
            file = client.files.get(name=name)
            assert int(file.size_bytes) == size, file.size_bytes
            client.files.delete(name=name)
        hwm_after = proc_kib(process.pid, "VmHWM")

        plain_seconds = min(plain_http_upload_seconds(url, data, size) for _ in range(args.repeat))
        hwm_plain = proc_kib(process.pid, "VmHWM")
        stop(process)
        process = None

        null, null_url = start_server(sys.executable, __file__, "--serve-null")
        null_seconds = min(sdk_upload_seconds(null_url, data, size)[0] for _ in range(args.repeat))
        stop(null)
        null = None

        raw_seconds = min(raw_loopback_seconds(data, size) for _ in range(args.repeat))
    finally:
        for running in (process, null):
            if running is not None:
                stop(running)
        data.unlink(missing_ok=True)
        os.rmdir(folder)

    growth_mib = (hwm_after - hwm_before) / 1024
    plain_growth_mib = (hwm_plain - hwm_before) / 1024

    def rate(seconds: float) -> str:
        return f"{seconds:.2f} s  {size / MIB / seconds:5.0f} MiB/s"

    sdk_ratio = raw_seconds / upload_seconds
    rows = [
        ("payload", f"{size / MIB:.0f} MiB", ""),
        ("server RSS before", f"{rss_before / 1024:.1f} MiB", ""),
        ("peak RSS growth, SDK upload", f"{growth_mib:.1f} MiB",
         "goal < 64 MiB: " + ("met" if growth_mib < 64 else "MISSED")),
        ("peak RSS growth, both uploads", f"{plain_growth_mib:.1f} MiB", ""),
        ("raw loopback copy", rate(raw_seconds), "socket to a sink thread, same process"),
        ("SDK upload to the emulator", rate(upload_seconds),
         f"ratio {sdk_ratio:.2f}, goal >= 0.5: " + ("met" if sdk_ratio >= 0.5 else "MISSED")),
        ("SDK upload to a null server", rate(null_seconds),
         f"ratio {raw_seconds / null_seconds:.2f} (the SDK's own ceiling)"),
        ("plain HTTP client to the emulator", rate(plain_seconds),
         f"ratio {raw_seconds / plain_seconds:.2f} (the emulator's own ceiling)"),
    ]
    report("upload 1 GiB (SDK)", "server peak RSS growth", round(growth_mib, 1), "MiB", goal="< 64",
           met=growth_mib < 64)
    report("upload 1 GiB (SDK)", "throughput vs raw loopback copy", round(sdk_ratio, 2), "x", goal=">= 0.5",
           met=sdk_ratio >= 0.5, baseline=f"raw {size / MIB / raw_seconds:.0f} MiB/s, "
           f"SDK's own ceiling {raw_seconds / null_seconds:.2f}x")
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>{value_width}}  {note}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
