"""State export and import, and the state dir: the snapshot format, crash-safe writes and loading.

The format. One JSON document, the same for `GET /_mock/state:export` and for the snapshots a state dir
keeps:

    {"format": "gemini-mockserver-state", "version": 1, "exportTime": "...",
     "config": {...},                                  # the whole live config (seed included)
     "clock": {"offsetSeconds": 0.0, "now": "..."},    # the offset is what is restored
     "counters": [[project, kind, n], ...],            # the id counters, so new ids never repeat
     "backends": {"files": {...}, "batches": {...}, "caches": {...}, ...},
     "blobs": {"projects/p/files/abc": "<base64>", ...}}   # only in an export

Each backend's part is its `export_state()`. Stored bytes (uploaded files, batch inputs and partial
results) appear in it as references `{"$blob": "<path relative to the data dir>"}`; an export adds the
bytes themselves under `blobs`, base64-encoded, so one document carries everything (it is about 4/3 of
the stored bytes plus the records, and is built in memory: for gigabytes of files copy a state dir
instead). A state dir's snapshot leaves `blobs` out: the bytes are the files next to it.

Not kept: the request journal (a debugging aid, and every request would change it), upload sessions not
yet finalized (the client starts the upload again), and the server's listed keys (they come from the
keys file).

Durability (`--state-dir`). A response that acknowledges a state change is sent only once a snapshot
holding the change is on disk:

* a change is noted with `store.changed(*paths)` after it is made; `PersistMiddleware` notes every
  successful POST/PUT/PATCH/DELETE itself, except the calls that only run a model or count tokens, and
  upload chunks (finalizing an upload notes the new file). Backends note the changes that happen while
  reading (a batch computing results on a GET, a log written by a generateContent).
* before sending any answer, if the store has changes newer than the last durable snapshot, the
  middleware waits for one: the files noted since the last snapshot are fsynced (and their directories),
  then the snapshot is written. Writes run in one worker thread; requests that wait together share one
  write (group commit).
* a snapshot goes to one of two slots, `state.a` and `state.b`, in turn: always the one that does not
  hold the newest good snapshot, overwritten in place and fsynced (one fsync, no rename, no directory
  fsync). A slot is a one-line JSON header `{"format", "sequence", "length", "crc32"}` (the CRC covers
  the sequence and length too) and the document.
  A crash mid-write can only tear the slot being written; loading takes the valid slot with the highest
  sequence, which holds every acknowledged change. (Measured against a snapshot replaced by an atomic
  rename, two fsyncs, and against SQLite in WAL mode with synchronous=FULL, one row holding the document:
  see README, "State and persistence"; tests/test_persistence_crash.py prints the three.)
* so a GET that changes nothing writes nothing, and a generateContent writes only when it changed
  persistent state (a log). Rate-limit windows, the usage ledger, the implicit-cache memory and the use
  counts of rules and faults are kept lazily: they are in every snapshot, but changing them does not
  cause one (a crash may lose their latest counts, never a resource).

Loading at start: the newest valid slot is read, every backend is restored, and then the bytes nobody
refers to are removed (upload parts, files whose snapshot never landed): a partly written upload is never
visible after a restart. A file record whose bytes are missing (a delete that was under way) is dropped.
A dir whose slots are both unreadable is refused (the server does not start over silently).
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import re
import threading
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

log = logging.getLogger("gemini_mockserver.persistence")

FORMAT = "gemini-mockserver-state"
VERSION = 1
SLOTS = ("state.a", "state.b")     # the two snapshot slots, written in turn
SLOT_FORMAT = "gemini-mockserver-snapshot"
LOCK_FILE = ".lock"
GC_ROOTS = ("projects", "batches")   # the data dir's subtrees that hold stored bytes

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Custom verbs of POSTs that change nothing persistent: they run a model or count tokens.
READ_ONLY_VERBS = frozenset({
    "generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents",
    "generateText", "generateMessage", "countTextTokens", "countMessageTokens", "embedText", "batchEmbedText",
})
READ_ONLY_SUFFIXES = ("/openai/chat/completions", "/openai/embeddings")
# Verbs that change state even when sent as GET (the Batch API guide's `curl .../batches/x:cancel`).
GET_WRITE_VERBS = frozenset({"cancel", "delete"})


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class StateError(ValueError):
    """A state document that cannot be imported (wrong format, a bad reference, ...)."""


# -- records <-> JSON -------------------------------------------------------------------------------

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def fields_of(record: Any, **overrides: Any) -> dict:
    """A dataclass record's fields as a dict (values shared, not copied), with `overrides` on top."""
    kind = type(record)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    data = {name: getattr(record, name) for name in names}
    data.update(overrides)
    return data


def build(cls: type, data: dict, **overrides: Any) -> Any:
    """A dataclass record from `data` (keys it does not know are ignored), with `overrides` on top."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {key: value for key, value in data.items() if key in names}
    kwargs.update(overrides)
    return cls(**kwargs)


def blob_refs(tree: Any) -> set[str]:
    """The relative paths of every `{"$blob": ...}` reference in a state tree."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$blob")
            if isinstance(ref, str) and len(item) == 1:
                found.add(ref)
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


# -- the document -----------------------------------------------------------------------------------

def document(store, *, include_bytes: bool = True) -> dict:
    """The state as one JSON-able document; with `include_bytes` the stored bytes too (base64)."""
    doc = {"format": FORMAT, "version": VERSION, "exportTime": store.timestamp(), **store.export_state()}
    if include_bytes:
        blobs = {}
        for rel in sorted(blob_refs(doc["backends"])):
            try:
                blobs[rel] = base64.b64encode(store.blob_path(rel).read_bytes()).decode("ascii")
            except OSError:   # removed meanwhile (a delete under way): the import drops what refers to it
                continue
        doc["blobs"] = blobs
    return doc


def encode(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def check_document(doc: Any) -> dict:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateError(f"Not a state document: it needs \"format\": \"{FORMAT}\" (from GET /_mock/state:export).")
    if doc.get("version") != VERSION:
        raise StateError(f"State document version {doc.get('version')!r} is not supported; this server reads "
                         f"version {VERSION}.")
    if not isinstance(doc.get("backends", {}), dict) or not isinstance(doc.get("blobs", {}), dict):
        raise StateError("A state document's backends and blobs must be objects.")
    return doc


def restore_document(store, doc: Any) -> None:
    """Replace the whole state by `doc` (an export): reset, write its bytes, restore every backend.
    A document that cannot be read is a StateError; once the reset has begun, a failure leaves the
    state empty."""
    check_document(doc)
    blobs = doc.get("blobs") or {}
    targets = {}
    for rel, data in blobs.items():
        try:
            targets[rel] = store.blob_path(rel)
        except ValueError as error:
            raise StateError(f"blobs: {error}.") from None
        if not isinstance(data, str) or len(data) % 4 or not _BASE64.fullmatch(data):
            raise StateError(f"blobs[{rel!r}] is not valid base64.")
    try:
        store.reset(config=True, clock=True)
        if store.persister is not None:   # the old state's bytes are overwritten next: forget it durably first
            store.changed()
            store.persister.flush_sync()
        written = []
        for rel, data in blobs.items():
            path = targets[rel]
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.write_bytes(base64.b64decode(data, validate=True))
            except ValueError:
                raise StateError(f"blobs[{rel!r}] is not valid base64.") from None
            written.append(path)
        store.import_state(doc)
        store.changed(*written)
    except Exception as error:
        store.reset(config=True, clock=True)
        if isinstance(error, StateError):
            raise
        raise StateError(f"The state document could not be imported ({type(error).__name__}: {error}); "
                         f"the state is now empty.") from error


# -- durable files ----------------------------------------------------------------------------------

def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> bool:
    """fsync a file's data; False when it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _checksum(sequence: int, document: bytes) -> int:
    """CRC-32 of the sequence, the length and the document: a header torn between two writes (the new
    sequence beside the old length and checksum) does not pass for a valid one."""
    return zlib.crc32(document, zlib.crc32(f"{sequence}:{len(document)}:".encode()))


def encode_slot(sequence: int, document: bytes) -> bytes:
    """A slot's content: a one-line JSON header (sequence, length and checksum), then the document."""
    header = {"format": SLOT_FORMAT, "sequence": sequence, "length": len(document),
              "crc32": _checksum(sequence, document)}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + document


def decode_slot(raw: bytes) -> tuple[int, bytes] | None:
    """(sequence, document) of a slot, or None when it is empty, torn or not a slot."""
    end = raw.find(b"\n")
    if end < 0:
        return None
    try:
        header = json.loads(raw[:end])
        length, crc, sequence = int(header["length"]), int(header["crc32"]), int(header["sequence"])
    except (ValueError, KeyError, TypeError):
        return None
    if header.get("format") != SLOT_FORMAT:
        return None
    document = raw[end + 1:end + 1 + length]
    if len(document) != length or _checksum(sequence, document) != crc:
        return None
    return sequence, document


def write_slot(path: Path, data: bytes) -> None:
    """Overwrite the slot at `path` with `data` (from `encode_slot`) and fsync it: one fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        view, offset = memoryview(data), 0
        while offset < len(view):
            offset += os.pwrite(fd, view[offset:], offset)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_slots(root: Path) -> tuple[int, int, dict] | None:
    """(slot index, sequence, document) of the newest valid snapshot in `root`; None for a new dir."""
    best, unreadable = None, []
    for index, name in enumerate(SLOTS):
        try:
            raw = (Path(root) / name).read_bytes()
        except FileNotFoundError:
            continue
        decoded = decode_slot(raw)
        if decoded is None:
            if raw:
                unreadable.append(name)
            continue
        if best is None or decoded[0] > best[1]:
            best = (index, decoded[0], decoded[1])
    if best is None:
        if unreadable:
            raise RuntimeError(f"the state dir {root} holds no readable snapshot ({', '.join(unreadable)} "
                               f"damaged); refusing to start over on it")
        return None
    try:
        return best[0], best[1], check_document(json.loads(best[2]))
    except (ValueError, StateError) as error:
        raise RuntimeError(f"{Path(root) / SLOTS[best[0]]} is not a state snapshot this server can read: "
                           f"{error}") from None


class Persister:
    """Keeps a store's snapshot in its data dir. One worker thread writes; waiting requests share writes.

    `durable` is the store generation the snapshot on disk holds. `flush(target)` returns once a
    snapshot holding generation `target` is durable."""

    def __init__(self, store, lock_handle=None) -> None:
        self.store = store
        self.root = Path(store.data_dir)
        self.durable = store.generation
        self.slot, self.sequence = 1, 0   # the slot holding the newest snapshot, and its sequence
        self._lock_handle = lock_handle
        self._mutex = threading.Lock()
        self._inflight: Future | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gemini-mock-persist")
        self._synced_dirs: set[Path] = set()
        self.writes = 0            # snapshots written
        self.write_seconds = 0.0   # time spent fsyncing and writing them
        self.last_bytes = 0

    # -- writing -------------------------------------------------------------------------------------
    def _capture(self, force: bool = False) -> Future | None:
        """Start writing the state as it is now (called with the mutex held)."""
        generation = self.store.generation
        if generation <= self.durable and not force:
            return None
        data = encode({"format": FORMAT, "version": VERSION, "exportTime": self.store.timestamp(),
                       **self.store.export_state()})
        paths = self.store.take_unsynced()
        return self._executor.submit(self._write, generation, paths, data)

    def _submit(self, target: int) -> Future | None:
        with self._mutex:
            if self.durable >= target:
                return None
            future = self._inflight
            if future is None or future.done():
                future = self._inflight = self._capture()
            return future

    async def flush(self, target: int | None = None) -> None:
        """Wait until a snapshot holding generation `target` (default: the current one) is durable."""
        target = self.store.generation if target is None else target
        while (future := self._submit(target)) is not None:
            await asyncio.wrap_future(future)

    def flush_sync(self, target: int | None = None) -> None:
        target = self.store.generation if target is None else target
        while (future := self._submit(target)) is not None:
            future.result()

    def _write(self, generation: int, paths: set[Path], data: bytes) -> None:
        started = time.perf_counter()
        try:
            for path in sorted(paths):
                if fsync_file(path):
                    self._sync_dirs(path)
            slot, sequence = 1 - self.slot, self.sequence + 1
            write_slot(self.root / SLOTS[slot], encode_slot(sequence, data))
            self.slot, self.sequence = slot, sequence
        except BaseException:
            with self.store._change_lock:   # fsync them with the next snapshot
                self.store._unsynced.update(paths)
            raise
        with self._mutex:
            self.durable = max(self.durable, generation)
            self.writes += 1
            self.write_seconds += time.perf_counter() - started
            self.last_bytes = len(data)

    def _sync_dirs(self, path: Path) -> None:
        """fsync the directory holding `path`, and each directory above it up to the data dir the first
        time (so a directory made for it is durable too)."""
        directory = path.parent
        fsync_dir(directory)
        while directory != self.root and directory not in self._synced_dirs and self.root in directory.parents:
            fsync_dir(directory.parent)
            self._synced_dirs.add(directory)
            directory = directory.parent

    def close(self) -> None:
        """A last snapshot (it holds what is kept lazily), then stop the writer and free the dir."""
        try:
            with self._mutex:
                future = self._capture(force=True)
            if future is not None:
                future.result()
        except Exception:   # closing must not raise; what was acknowledged is on disk already
            log.exception("the last snapshot of %s could not be written", self.root)
        finally:
            self._executor.shutdown(wait=True)
            if self._lock_handle is not None:
                self._lock_handle.close()
                self._lock_handle = None
            if self.store.persister is self:
                self.store.persister = None


# -- opening a state dir ----------------------------------------------------------------------------

def _lock_dir(root: Path):
    """An exclusive lock on the state dir (released by the OS when the process dies, even by SIGKILL)."""
    handle = open(root / LOCK_FILE, "a+")
    try:
        import fcntl
    except ImportError:   # not POSIX: no lock
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RuntimeError(f"the state dir {root} is in use by another emulator process") from None
    return handle


def collect_garbage(store) -> int:
    """Remove the bytes under the data dir that the state does not refer to (upload parts, files whose
    snapshot never landed, work files of batches that ended); the number of files removed."""
    root = Path(store.data_dir)
    keep = {root / rel for rel in blob_refs(store.export_state()["backends"])}
    removed = 0
    for top in GC_ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for directory, subdirs, names in os.walk(base, topdown=False):
            here = Path(directory)
            for name in names:
                path = here / name
                if path not in keep:
                    try:
                        path.unlink()
                        removed += 1
                    except OSError:
                        pass
            if here != base:
                try:
                    here.rmdir()   # only when empty
                except OSError:
                    pass
    return removed


def attach(store) -> Persister:
    """Keep `store`'s state in its data dir: lock the dir, restore the snapshot found there (if any),
    remove unreferenced bytes, write a fresh snapshot and persist every change from now on."""
    root = Path(store.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    handle = _lock_dir(root)
    try:
        found = read_slots(root)
        if found is not None:
            store.import_state(found[2])
        collect_garbage(store)
        persister = Persister(store, handle)
        if found is not None:
            persister.slot, persister.sequence = found[0], found[1]
        for name in SLOTS:   # both slots exist from now on: writing one never changes the directory
            (root / name).touch()
        fsync_dir(root)
        if root.parent != root:
            fsync_dir(root.parent)   # the state dir itself may be new
        store.persister = persister
        with persister._mutex:
            future = persister._capture(force=True)
        future.result()
        return persister
    except BaseException:
        store.persister = None
        handle.close()
        raise


# -- the HTTP hook ----------------------------------------------------------------------------------

def is_write(method: str, path: str, query: bytes = b"") -> bool:
    """Whether a successful answer to this call acknowledges a change of persistent state."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    verb = last.rpartition(":")[2] if ":" in last else None
    if method not in WRITE_METHODS:
        return method == "GET" and verb in GET_WRITE_VERBS and not path.startswith("/_mock/")
    if b"upload_id=" in query:   # an upload chunk: finalizing it notes the new file itself
        return False
    if verb in READ_ONLY_VERBS:
        return False
    return not path.rstrip("/").endswith(READ_ONLY_SUFFIXES)


class PersistMiddleware:
    """ASGI middleware: before an answer is sent, note the change it acknowledges, and wait until the
    state dir holds every change made so far. A no-op without a state dir."""

    def __init__(self, app, store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope, receive, send) -> None:
        store = self.store
        if scope["type"] != "http" or store.persister is None:
            await self.app(scope, receive, send)
            return
        write = is_write(scope["method"], scope["path"], scope.get("query_string", b""))
        failed = False

        async def send_durably(message) -> None:
            nonlocal failed
            if failed:
                return
            if message["type"] == "http.response.start":
                if write and message["status"] < 400:
                    store.changed()
                persister = store.persister
                if persister is not None and store.generation > persister.durable:
                    try:
                        await persister.flush(store.generation)
                    except Exception as error:
                        log.exception("could not save the state to %s", store.data_dir)
                        failed = True
                        body = encode({"error": {"code": 500, "status": "INTERNAL",
                                                 "message": f"The emulator could not save its state: {error}"}})
                        await send({"type": "http.response.start", "status": 500, "headers": [
                            (b"content-type", b"application/json; charset=UTF-8"),
                            (b"content-length", str(len(body)).encode())]})
                        await send({"type": "http.response.body", "body": body})
                        return
            await send(message)

        await self.app(scope, receive, send_durably)
