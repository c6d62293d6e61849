"""Crash safety of `--state-dir`: the server is killed with SIGKILL at random moments while writers create
and delete resources; after each restart on the same dir the state loads and every acknowledged write is
there (and every acknowledged delete stays done).

`gemini-mock serve --port 0 --state-dir D` runs as a subprocess. Writer threads make uploads (one-request
and resumable), caches, tuned models and permissions, corpora, batches, deletes, config patches and clock
moves, recording each answer they got. A write whose answer never came (the server died under it) may
or may not have happened; any other is checked, cumulatively, after every restart. The kill moments and
the writers' choices are seeded. The test ends by printing the measured cost of one durable write of the
state the loop left, three ways: the two-slot snapshot the server uses, a snapshot file replaced by an
atomic rename, and SQLite in WAL mode.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gemini_mockserver.generation.tokens import count_text
from gemini_mockserver import persistence
from gemini_mockserver.persistence import SLOTS, StateDirError, encode_slot, read_slots, write_slot

from support.paths import ROOT

SEED = 20240607
ROUNDS = 6
WRITERS = 3
MODEL = "gemini-2.5-flash"
KEYS = ("crash-key-a", "crash-key-b")
WORDS = "the quick brown fox jumps over a lazy dog near our old barn".split()


def document(tokens: int, topic: str) -> str:
    """At least `tokens` tokens of text about `topic`."""
    text = " ".join([topic] + [WORDS[i % len(WORDS)] for i in range(tokens - 1)])
    assert count_text(text) >= tokens
    return text


# -- the server ----------------------------------------------------------------------------------------

class Server:
    def __init__(self, state_dir: Path, log: Path) -> None:
        self.log = open(log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "gemini_mockserver", "serve", "--port", "0", "--state-dir", str(state_dir)],
            stdout=subprocess.PIPE, stderr=self.log, cwd=ROOT)
        line = self.process.stdout.readline().decode()
        match = re.search(r"listening on (\S+)", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"the server did not start: {line!r}; see {log}")
        self.url = match.group(1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process.stdout.close()
        self.log.close()


# -- what the writers were told ------------------------------------------------------------------------

@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict = field(default_factory=dict)          # name -> (key, size, sha256 hex)
    deleted_files: dict = field(default_factory=dict)  # name -> key
    caches: dict = field(default_factory=dict)         # name -> (key, expireTime)
    tuned: dict = field(default_factory=dict)          # name -> (key, displayName)
    permissions: dict = field(default_factory=dict)    # name -> (key, emailAddress)
    corpora: dict = field(default_factory=dict)        # name -> key
    batches: dict = field(default_factory=dict)        # name -> (key, displayName)
    ttl: list = field(default_factory=list)            # acknowledged cache.defaultTtlSeconds, in order
    ttl_pending: list = field(default_factory=list)    # sent, no answer
    advanced: float = 0.0                              # acknowledged clock moves, in seconds
    advance_pending: float = 0.0
    acknowledged: int = 0
    unanswered: int = 0


class Writer(threading.Thread):
    def __init__(self, index: int, url: str, ledger: Ledger, stop: threading.Event, seed: int) -> None:
        super().__init__(name=f"writer-{index}", daemon=True)
        self.index, self.url, self.ledger, self.stop = index, url, ledger, stop
        self.rng = random.Random(seed)
        self.count = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=10) as client:
                while not self.stop.is_set():
                    self.count += 1
                    key = self.rng.choice(KEYS)
                    op = self.rng.choice(self.operations())
                    try:
                        op(client, key)
                    except (httpx.TransportError, ConnectionError):   # the server died under this write
                        with self.ledger.lock:
                            self.ledger.unanswered += 1
                        return
        except BaseException as error:   # a wrong answer: the test fails with it
            self.error = error

    def operations(self):
        ops = [self.upload, self.upload, self.resumable, self.cache, self.tuned, self.permission, self.corpus,
               self.batch, self.delete_file]
        if self.index == 0:   # one writer moves the clock and the config: their order is then known
            ops += [self.patch_config, self.advance_clock]
        return ops

    def ok(self, response: httpx.Response) -> dict:
        assert response.status_code == 200, (response.request.method, response.request.url, response.text)
        return response.json()

    def tag(self) -> str:
        return f"w{self.index}-{self.count}-{self.rng.randrange(10 ** 6)}"

    def record(self, kind: str, name: str, value) -> None:
        with self.ledger.lock:
            getattr(self.ledger, kind)[name] = value
            self.ledger.acknowledged += 1

    # -- the writes --------------------------------------------------------------------------------
    def upload(self, client: httpx.Client, key: str) -> None:
        data = self.rng.randbytes(self.rng.randrange(1, 96 * 1024))
        file = self.ok(client.post("/upload/v1beta/files?uploadType=media", content=data, headers={
            "x-goog-api-key": key, "content-type": "application/octet-stream"}))["file"]
        self.record("files", file["name"], (key, len(data), hashlib.sha256(data).hexdigest()))

    def resumable(self, client: httpx.Client, key: str) -> None:
        data = self.rng.randbytes(self.rng.randrange(1, 64 * 1024))
        start = client.post("/upload/v1beta/files", json={"file": {"displayName": self.tag()}}, headers={
            "x-goog-api-key": key, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(len(data)),
            "X-Goog-Upload-Header-Content-Type": "application/octet-stream"})
        assert start.status_code == 200, start.text
        url = start.headers["x-goog-upload-url"]
        half = len(data) // 2
        if half:
            chunk = client.post(url, content=data[:half], headers={"X-Goog-Upload-Command": "upload",
                                                                   "X-Goog-Upload-Offset": "0"})
            assert chunk.status_code == 200, chunk.text
        final = self.ok(client.post(url, content=data[half:], headers={
            "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": str(half)}))["file"]
        self.record("files", final["name"], (key, len(data), hashlib.sha256(data).hexdigest()))

    def cache(self, client: httpx.Client, key: str) -> None:
        cache = self.ok(client.post("/v1beta/cachedContents", headers={"x-goog-api-key": key}, json={
            "model": f"models/{MODEL}", "ttl": "864000s",
            "contents": [{"role": "user", "parts": [{"text": document(1100, self.tag())}]}]}))
        self.record("caches", cache["name"], (key, cache["expireTime"]))

    def tuned(self, client: httpx.Client, key: str) -> None:
        name = self.tag()
        operation = self.ok(client.post("/v1beta/tunedModels", headers={"x-goog-api-key": key}, json={
            "displayName": name, "baseModel": "models/gemini-1.5-flash-001-tuning",
            "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "a", "output": name}]}}}}))
        self.record("tuned", operation["metadata"]["tunedModel"], (key, name))

    def permission(self, client: httpx.Client, key: str) -> None:
        with self.ledger.lock:
            mine = sorted(name for name, (owner, _) in self.ledger.tuned.items() if owner == key)
        if not mine:
            return
        email = f"{self.tag()}@example.com"
        grant = self.ok(client.post(f"/v1beta/{self.rng.choice(mine)}/permissions", headers={"x-goog-api-key": key},
                                    json={"granteeType": "USER", "emailAddress": email, "role": "READER"}))
        self.record("permissions", grant["name"], (key, email))

    def corpus(self, client: httpx.Client, key: str) -> None:
        corpus = self.ok(client.post("/v1beta/corpora", headers={"x-goog-api-key": key},
                                     json={"displayName": self.tag()}))
        self.record("corpora", corpus["name"], key)

    def batch(self, client: httpx.Client, key: str) -> None:
        name = self.tag()
        operation = self.ok(client.post(f"/v1beta/models/{MODEL}:batchGenerateContent", headers={
            "x-goog-api-key": key}, json={"batch": {"displayName": name, "inputConfig": {"requests": {"requests": [
                {"request": {"contents": [{"parts": [{"text": name}]}]}}]}}}}))
        self.record("batches", operation["name"], (key, name))

    def delete_file(self, client: httpx.Client, key: str) -> None:
        with self.ledger.lock:
            mine = sorted(name for name, (owner, *_) in self.ledger.files.items() if owner == key)
        if not mine:
            return
        name = self.rng.choice(mine)
        with self.ledger.lock:   # claimed: no other writer deletes it, and it is not checked meanwhile
            if name not in self.ledger.files:
                return
            del self.ledger.files[name]
        response = client.delete(f"/v1beta/{name}", headers={"x-goog-api-key": key})
        assert response.status_code == 200, response.text
        self.record("deleted_files", name, key)

    def patch_config(self, client: httpx.Client, key: str) -> None:
        ttl = float(self.rng.randrange(60, 100_000))
        with self.ledger.lock:
            self.ledger.ttl_pending.append(ttl)
        self.ok(client.patch("/_mock/config", json={"cache": {"defaultTtlSeconds": ttl}}))
        with self.ledger.lock:
            self.ledger.ttl_pending.remove(ttl)
            self.ledger.ttl.append(ttl)
            self.ledger.acknowledged += 1

    def advance_clock(self, client: httpx.Client, key: str) -> None:
        with self.ledger.lock:
            self.ledger.advance_pending = 1.0
        self.ok(client.post("/_mock/clock", json={"advanceSeconds": 1}))
        with self.ledger.lock:
            self.ledger.advance_pending = 0.0
            self.ledger.advanced += 1.0
            self.ledger.acknowledged += 1


# -- checking a restarted server -----------------------------------------------------------------------

def verify(url: str, ledger: Ledger) -> int:
    """Every acknowledged write is there; the number of resources checked."""
    checked = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        def get(path: str, key: str) -> httpx.Response:
            return client.get(f"/v1beta/{path}", headers={"x-goog-api-key": key})

        for name, (key, size, digest) in ledger.files.items():
            file = get(name, key)
            assert file.status_code == 200, (name, file.text)
            assert file.json()["sizeBytes"] == str(size)
            assert base64.b64decode(file.json()["sha256Hash"]).decode() == digest
            data = client.get(f"/download/v1beta/{name}:download", params={"alt": "media"},
                              headers={"x-goog-api-key": key})
            assert data.status_code == 200 and hashlib.sha256(data.content).hexdigest() == digest, name
            checked += 1
        for name, key in ledger.deleted_files.items():
            assert get(name, key).status_code == 403, name
            checked += 1
        for name, (key, expire) in ledger.caches.items():
            cache = get(name, key)
            assert cache.status_code == 200 and cache.json()["expireTime"] == expire, (name, cache.text)
            checked += 1
        for name, (key, display) in ledger.tuned.items():
            model = get(name, key)
            assert model.status_code == 200 and model.json()["displayName"] == display, (name, model.text)
            checked += 1
        for name, (key, email) in ledger.permissions.items():
            grant = get(name, key)
            assert grant.status_code == 200 and grant.json()["emailAddress"] == email, (name, grant.text)
            checked += 1
        for name, key in ledger.corpora.items():
            assert get(name, key).status_code == 200, name
            checked += 1
        for name, (key, display) in ledger.batches.items():
            batch = get(name, key)
            assert batch.status_code == 200 and batch.json()["metadata"]["displayName"] == display, name
            checked += 1
        config = client.get("/_mock/config").json()
        ttl = config["cache"]["defaultTtlSeconds"]
        assert ttl in ledger.ttl[-1:] + ledger.ttl_pending or (not ledger.ttl and ttl == 3600.0), ttl
        if ttl in ledger.ttl_pending:   # that write landed after all: it is the state now
            ledger.ttl.append(ttl)
        ledger.ttl_pending.clear()
        assert config["files"]["downloadUploaded"] is True
        offset = client.get("/_mock/state:export", params={"bytes": "false"}).json()["clock"]["offsetSeconds"]
        assert offset in (ledger.advanced, ledger.advanced + ledger.advance_pending), (offset, ledger.advanced)
        ledger.advanced, ledger.advance_pending = offset, 0.0
    return checked


# -- the loop ------------------------------------------------------------------------------------------

def test_kill_9_under_load_loses_no_acknowledged_write(tmp_path, capsys):
    state, log = tmp_path / "state", tmp_path / "server.log"
    rng = random.Random(SEED)
    ledger = Ledger()
    started = time.monotonic()
    server = Server(state, log)
    httpx.patch(server.url + "/_mock/config", json={"files": {"downloadUploaded": True}}).raise_for_status()
    checked = 0
    for round_no in range(ROUNDS):
        stop = threading.Event()
        writers = [Writer(i, server.url, ledger, stop, rng.randrange(2 ** 32)) for i in range(WRITERS)]
        for writer in writers:
            writer.start()
        time.sleep(rng.uniform(0.3, 1.2))
        server.kill()   # SIGKILL, wherever the writers are
        stop.set()
        for writer in writers:
            writer.join(15)
            assert not writer.is_alive()
            if writer.error is not None:
                raise writer.error
        server = Server(state, log)                       # the state loads ...
        assert list(state.glob("projects/*/uploads/*")) == []   # (no upload left half done)
        checked = verify(server.url, ledger)              # ... with every acknowledged write
    server.kill()
    elapsed = time.monotonic() - started
    assert ledger.acknowledged > 50, ledger.acknowledged
    assert ledger.files and ledger.caches and ledger.tuned and ledger.batches and ledger.deleted_files

    snapshot = persistence.encode(read_slots(state)[2])
    small = json.dumps(json.loads(snapshot)["config"]).encode()
    with capsys.disabled():
        print(f"\n[persistence] {ROUNDS} SIGKILLs, {ledger.acknowledged} acknowledged writes, "
              f"{ledger.unanswered} unanswered, {checked} resources checked after the last restart, "
              f"{elapsed:.1f} s")
        for name, payload in (("small", small), ("the loop's", snapshot)):
            costs = write_costs(tmp_path / f"bench-{name}", payload)
            print(f"[persistence] one durable write of {name} state ({len(payload) / 1024:.1f} KiB), medians: "
                  + ", ".join(f"{way} {ms:.2f} ms" for way, ms in costs.items()))


def test_a_restart_after_kill_leaves_no_upload_half_visible(tmp_path):
    """An upload cut short by the kill is gone after the restart, bytes included; finished ones stay."""
    state, log = tmp_path / "state", tmp_path / "server.log"
    server = Server(state, log)
    headers = {"x-goog-api-key": KEYS[0]}
    done = httpx.post(server.url + "/upload/v1beta/files?uploadType=media", content=b"whole", headers=headers).json()
    start = httpx.post(server.url + "/upload/v1beta/files", json={"file": {}}, headers={
        **headers, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
        "X-Goog-Upload-Header-Content-Length": "100000"})
    url = start.headers["x-goog-upload-url"]
    assert httpx.post(url, content=b"x" * 50_000, headers={"X-Goog-Upload-Command": "upload",
                                                            "X-Goog-Upload-Offset": "0"}).status_code == 200
    assert any(p.stat().st_size == 50_000 for p in state.glob("projects/*/uploads/*"))
    server.kill()
    server = Server(state, log)
    try:
        files = httpx.get(server.url + "/v1beta/files", headers=headers).json()["files"]
        assert [f["name"] for f in files] == [done["file"]["name"]]
        assert list(state.glob("projects/*/uploads/*")) == []
        answer = httpx.post(url.replace(url.split("/upload/")[0], server.url), content=b"y",
                            headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "50000"})
        assert answer.status_code == 404 and answer.headers["x-goog-upload-status"] == "final"
    finally:
        server.kill()


def atomic_rename_write(path: Path, data: bytes) -> None:
    """The usual alternative: a temporary file, fsync, rename over the snapshot, fsync the directory."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    persistence.fsync_dir(path.parent)


def write_costs(directory: Path, payload: bytes, writes: int = 40) -> dict[str, float]:
    """Median ms per durable write of `payload`: into a slot (the server's way), as a file replaced by an
    atomic rename, and as one row of an SQLite database in WAL mode with synchronous=FULL. The three
    alternate, so that a disk busy with something else weighs on all alike."""
    directory.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(directory / "state.db", isolation_level=None)
    times: dict[str, list[float]] = {"two slots": [], "atomic rename": [], "SQLite WAL": []}
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, doc BLOB)")
        for n in range(writes):
            for way, write in (
                    ("two slots", lambda: write_slot(directory / SLOTS[n % 2], encode_slot(n, payload))),
                    ("atomic rename", lambda: atomic_rename_write(directory / "state.json", payload)),
                    ("SQLite WAL", lambda: db.execute("INSERT OR REPLACE INTO state VALUES (1, ?)", (payload,)))):
                began = time.perf_counter()
                write()
                times[way].append(time.perf_counter() - began)
    finally:
        db.close()
    return {way: statistics.median(values) * 1000 for way, values in times.items()}


def test_write_costs_are_measurable(tmp_path):
    state = {"backends": {"files": {"files": [{"id": f"f{i}", "size": i} for i in range(200)]}}}
    costs = write_costs(tmp_path, json.dumps(state).encode(), writes=3)
    assert set(costs) == {"two slots", "atomic rename", "SQLite WAL"} and all(ms > 0 for ms in costs.values())


def slot_document(sequence: int) -> bytes:
    doc = {"format": persistence.FORMAT, "version": persistence.VERSION, "config": {}, "clock": {}, "counters": [],
           "backends": {"files": {"files": [], "padding": "x" * (40 + sequence)}}, "sequence": sequence}
    return persistence.encode(doc)


def test_a_slot_write_cut_at_any_byte_leaves_the_previous_snapshot(tmp_path):
    """A slot is emptied before it is written, so a stop mid-write leaves a prefix of the new bytes:
    loading names it as unfinished and takes the other slot, which holds the last acknowledged state."""
    write_slot(tmp_path / SLOTS[0], encode_slot(1, slot_document(1)))
    write_slot(tmp_path / SLOTS[1], encode_slot(2, slot_document(2)))
    new = encode_slot(3, slot_document(3))
    for cut in range(1, len(new) + 1):
        (tmp_path / SLOTS[0]).write_bytes(new[:cut])
        notes = []
        slot, sequence, doc = read_slots(tmp_path, notes)
        if cut == len(new):
            assert (slot, sequence, doc["sequence"], notes) == (0, 3, 3, [])
        else:
            assert (slot, sequence, doc["sequence"]) == (1, 2, 2), cut
            assert len(notes) == 1 and "state.a: an unfinished snapshot write was ignored" in notes[0], notes
    # A disk may also persist the sectors of an unfinished write in any order (a power cut): a slot of
    # the full length whose checksum fails cannot be told from a finished snapshot damaged later, so it
    # is refused unless the user asks to recover from the other slot.
    rng, sector = random.Random(SEED), 16
    big_old = encode_slot(1, slot_document(300))
    big_new = encode_slot(3, slot_document(301))
    for _ in range(300):
        mixed = b"".join((big_new if rng.random() < 0.5 else big_old)[i:i + sector]
                         for i in range(0, max(len(big_new), len(big_old)), sector))
        (tmp_path / SLOTS[0]).write_bytes(mixed)
        if mixed.startswith(big_new):
            assert read_slots(tmp_path)[:2] == (0, 3)
            continue
        notes = []
        try:
            found = read_slots(tmp_path, notes)
        except StateDirError as error:
            assert "state.a is damaged" in str(error) and "--recover" in str(error)
            found = read_slots(tmp_path, notes, recover=True)
            assert "state.a is damaged" in notes[-1]
        slot, sequence, doc = found
        assert (slot, sequence, doc["sequence"]) == (1, 2, 2)


def test_a_dir_with_no_readable_snapshot_is_refused(tmp_path):
    (tmp_path / SLOTS[0]).write_bytes(b"garbage")
    (tmp_path / SLOTS[1]).write_bytes(encode_slot(5, b"{}")[:-1] + b"!")
    with pytest.raises(RuntimeError, match="no readable snapshot"):
        read_slots(tmp_path)
    for name in SLOTS:
        (tmp_path / name).write_bytes(b"")
    assert read_slots(tmp_path) is None   # empty slots: a new dir


def test_a_state_dir_is_used_by_one_server_at_a_time(tmp_path):
    log = tmp_path / "server.log"
    server = Server(tmp_path / "state", log)
    try:
        second = subprocess.run([sys.executable, "-m", "gemini_mockserver", "serve", "--port", "0", "--state-dir",
                                 str(tmp_path / "state")], capture_output=True, timeout=60)
        assert second.returncode != 0 and b"in use by another emulator process" in second.stderr
    finally:
        server.kill()
