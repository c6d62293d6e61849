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
  hold the newest good snapshot, emptied, rewritten and fsynced (one fsync, no rename, no directory
  fsync); emptied first so that a write cut short is shorter than its header says ("unfinished"). A slot is a one-line JSON header `{"format", "sequence", "length", "crc32"}` (the CRC covers
  the sequence and length too) and the document.
  A crash mid-write can only tear the slot being written; loading takes the valid slot with the highest
  sequence, which holds every acknowledged change. (Measured against a snapshot replaced by an atomic
  rename, two fsyncs, and against SQLite in WAL mode with synchronous=FULL, one row holding the document:
  see README, "State and persistence"; tests/system/test_persistence_crash.py prints the three.)
* so a GET that changes nothing writes nothing, and a generateContent writes only when it changed
  persistent state (a log). Rate-limit windows, the usage ledger, the implicit-cache memory and the use
  counts of rules and faults are kept lazily: they are in every snapshot, but changing them does not
  cause one (a crash may lose their latest counts, never a resource).

Loading at start (`load`): the newest valid slot is read, every backend is restored, every file's bytes
are checked (size, SHA-256), and then the bytes nobody refers to are removed (upload parts, files whose
snapshot never landed): a partly written upload is never visible after a restart. A file whose bytes were
being deleted (renamed to a tombstone, `store.discard`) is dropped quietly. Damage is never dropped
silently: a damaged slot that may hold the newest state, a snapshot of the wrong shape, stored bytes with
no snapshot, or a file's bytes missing or modified is a StateDirError naming it (the CLI prints that one
line and exits 2), or with `recover` a logged warning per loss and a start on what can be read.

The slots, their framing and the document's format check live in snapshot.py (re-exported here).
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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .integrity import TOMBSTONE
from .snapshot import (FORMAT, SLOTS, VERSION, StateDirError, StateError, check_document, encode_slot, fsync_dir,
                       fsync_file, read_slot, read_slots, write_slot)

if TYPE_CHECKING:
    from .store import Store

__all__ = ["FORMAT", "SLOTS", "VERSION", "PersistMiddleware", "Persister", "StateDirError", "StateError", "attach",
           "build", "check_document", "document", "encode", "encode_slot", "fields_of", "fsync_dir", "load",
           "read_slot", "read_slots", "restore_document", "write_slot"]


log = logging.getLogger("gemini_mockserver.persistence")


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


# -- records <-> JSON -------------------------------------------------------------------------------

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def fields_of(record: Any, **overrides: Any) -> dict[str, Any]:
    """A dataclass record's fields as a dict (values shared, not copied), with `overrides` on top."""
    kind = type(record)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    data = {name: getattr(record, name) for name in names}
    data.update(overrides)
    return data


def build(cls: type, data: dict[str, Any], **overrides: Any) -> Any:
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


def document(store: Store, *, include_bytes: bool = True) -> dict[str, Any]:
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


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def restore_document(store: Store, doc: Any) -> None:
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


class Persister:
    """Keeps a store's snapshot in its data dir. One worker thread writes; waiting requests share writes.

    `durable` is the store generation the snapshot on disk holds. `flush(target)` returns once a
    snapshot holding generation `target` is durable."""

    def __init__(self, store: Store, lock_handle: TextIO | None = None) -> None:
        self.store = store
        self.root = Path(store.data_dir)
        self.durable = store.generation
        self.slot, self.sequence = 1, 0   # the slot holding the newest snapshot, and its sequence
        self._lock_handle = lock_handle
        self._mutex = threading.Lock()
        self._inflight: Future[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gemini-mock-persist")
        self._synced_dirs: set[Path] = set()
        self.writes = 0            # snapshots written
        self.write_seconds = 0.0   # time spent fsyncing and writing them
        self.last_bytes = 0

    # -- writing -------------------------------------------------------------------------------------
    def _capture(self) -> Future[None]:
        """Start writing the state as it is now (called with the mutex held)."""
        generation = self.store.generation
        discarded = self.store.take_discarded()   # taken first: their records are out of this snapshot
        data = encode({"format": FORMAT, "version": VERSION, "exportTime": self.store.timestamp(),
                       **self.store.export_state()})
        paths = self.store.take_unsynced()
        return self._executor.submit(self._write, generation, paths, data, discarded)

    def _submit(self, target: int) -> Future[None] | None:
        with self._mutex:
            if self.durable >= target:
                return None
            future = self._inflight
            if future is None or future.done():
                changed = self.store.generation > self.durable
                future = self._inflight = self._capture() if changed else None
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

    def _write(self, generation: int, paths: set[Path], data: bytes, discarded: Collection[Path] = ()) -> None:
        started = time.perf_counter()
        try:
            for path in sorted(paths):
                if fsync_file(path):
                    self._sync_dirs(path)
            slot, sequence = 1 - self.slot, self.sequence + 1
            write_slot(self.root / SLOTS[slot], encode_slot(sequence, data))
            self.slot, self.sequence = slot, sequence
        except BaseException:
            self.store.give_back(paths, discarded)   # fsync them (and remove those) with the next snapshot
            raise
        for path in discarded:   # no durable snapshot refers to them any more
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
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
                future = self._capture()
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


def _lock_dir(root: Path) -> TextIO:
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


def collect_garbage(store: Store) -> int:
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


def stored_bytes(root: Path) -> list[Path]:
    """The files under the data dir's stored-bytes subtrees."""
    found: list[Path] = []
    for top in GC_ROOTS:
        for directory, _, names in os.walk(Path(root) / top):
            found.extend(Path(directory) / name for name in names)
    return found


def _one_line(problems: list[str]) -> str:
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


def load(store: Store, root: Path, *, recover: bool) -> tuple[tuple[int, int, dict[str, Any]] | None, list[str]]:
    """Restore the newest snapshot of `root` into `store`: (what was read, warnings). Damage (a damaged
    newest slot, stored bytes with no snapshot, a snapshot that cannot be restored, file bytes missing or
    modified) is a StateDirError naming it, or with `recover` a warning and the rest is started on."""
    notes: list[str] = []
    found = read_slots(root, notes, recover=recover)
    if found is None:
        orphans = [p for p in stored_bytes(root) if not p.name.endswith(TOMBSTONE)]
        if orphans:
            line = (f"the state dir {root} holds {len(orphans)} stored file(s) (e.g. "
                    f"{orphans[0].relative_to(root).as_posix()}) but no snapshot that refers to them")
            if not recover:
                raise StateDirError(f"{line}; refusing to start (--recover moves them to {LOST_FOUND}/ and "
                                    f"starts empty)")
            moved = _move_to_lost_found(root, orphans)
            notes.append(f"{line}; moved them to {moved} and started empty (--recover)")
        return None, notes
    try:
        store.import_state(found[2])
    except Exception as error:
        line = (f"{Path(root) / SLOTS[found[0]]} (sequence {found[1]}) could not be restored "
                f"({type(error).__name__}: {error})")
        if not recover:
            raise StateDirError(f"{line}; refusing to start (--recover starts empty)") from None
        store.reset(config=True, clock=True)
        notes.append(f"{line}; started empty (--recover)")
        return None, notes
    problems = store.files.check_stored()
    if problems:
        line = f"the state dir {root}: {_one_line(problems)}"
        if not recover:
            raise StateDirError(f"{line}; refusing to start (--recover starts without those files)")
        notes.extend(f"the state dir {root}: {problem}; left out (--recover)" for problem in problems)
    return found, notes


LOST_FOUND = "lost+found"


def _move_to_lost_found(root: Path, paths: list[Path]) -> Path:
    """Move stored bytes nothing refers to out of the garbage collector's way, keeping their layout."""
    target = Path(root) / LOST_FOUND
    index = 1
    while (target / str(index)).exists():
        index += 1
    target = target / str(index)
    for path in paths:
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)
    return target


def attach(store: Store, *, recover: bool = False) -> Persister:
    """Keep `store`'s state in its data dir: lock the dir, restore the snapshot found there (if any; damage
    is refused unless `recover`, see `load`), remove unreferenced bytes, write a fresh snapshot and persist
    every change from now on. What was found is logged as warnings."""
    root = Path(store.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    handle = _lock_dir(root)
    try:
        found, notes = load(store, root, recover=recover)
        for note in notes:
            log.warning("%s", note)
        collect_garbage(store)
        persister = Persister(store, handle)
        if found is not None:
            persister.slot, persister.sequence = found[0], found[1]
        elif recover:   # start the slots afresh: nothing damaged is left to be read again
            for name in SLOTS:
                (root / name).write_bytes(b"")
        for name in SLOTS:   # both slots exist from now on: writing one never changes the directory
            (root / name).touch()
        fsync_dir(root)
        if root.parent != root:
            fsync_dir(root.parent)   # the state dir itself may be new
        store.persister = persister
        with persister._mutex:
            future = persister._capture()
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

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        store = self.store
        if scope["type"] != "http" or store.persister is None:
            await self.app(scope, receive, send)
            return
        write = is_write(scope["method"], scope["path"], scope.get("query_string", b""))
        failed = False

        async def send_durably(message: Message) -> None:
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
