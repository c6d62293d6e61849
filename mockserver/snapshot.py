"""The snapshot on disk: the state document's format and version check, the two slots of a state dir written
in turn, their framing (sequence number and checksum), crash-safe writes (fsync of the file and its
directory) and reading the newest good slot. The rules are described in persistence.py.
"""
from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


FORMAT = "gemini-mockserver-state"
VERSION = 1
SLOTS = ("state.a", "state.b")     # the two snapshot slots, written in turn
SLOT_FORMAT = "gemini-mockserver-snapshot"


class StateError(ValueError):
    """A state document that cannot be imported (wrong format, a bad reference, ...)."""


class StateDirError(RuntimeError):
    """A state dir the server does not start on without --recover; the message is one line saying what
    was found and what --recover would do."""


def check_document(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateError(f"Not a state document: it needs \"format\": \"{FORMAT}\" (from GET /_mock/state:export).")
    if doc.get("version") != VERSION:
        raise StateError(f"State document version {doc.get('version')!r} is not supported; this server reads "
                         f"version {VERSION}.")
    if not isinstance(doc.get("backends", {}), dict) or not isinstance(doc.get("blobs", {}), dict):
        raise StateError("A state document's backends and blobs must be objects.")
    return doc


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
        # Emptied first: a write cut short leaves a slot shorter than its header says (read as
        # "unfinished", never acknowledged), which a damaged complete slot never is.
        os.ftruncate(fd, 0)
        view, offset = memoryview(data), 0
        while offset < len(view):
            offset += os.pwrite(fd, view[offset:], offset)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class SlotReading:
    """What one slot holds: `state` is "absent" (missing or empty), "valid", "unfinished" (a write cut
    short: shorter than its header says, so nothing in it was acknowledged) or "damaged"."""
    index: int
    state: str
    sequence: int | None = None
    document: dict[str, Any] | None = None
    problem: str = ""

    @property
    def name(self) -> str:
        return SLOTS[self.index]


def check_snapshot(doc: Any) -> dict[str, Any]:
    """A snapshot document with the whole shape this server writes (not just the right format)."""
    checked = check_document(doc)
    for key, kind in (("config", dict), ("clock", dict), ("counters", list), ("backends", dict)):
        if not isinstance(checked.get(key), kind):
            raise StateError(f"it has no {key!r} {kind.__name__}")
    for name, part in checked["backends"].items():
        if not isinstance(part, (dict, list)):
            raise StateError(f"backends.{name} is a {type(part).__name__}")
    return checked


def read_slot(root: Path, index: int) -> SlotReading:
    try:
        raw = (Path(root) / SLOTS[index]).read_bytes()
    except FileNotFoundError:
        return SlotReading(index, "absent")
    if not raw:
        return SlotReading(index, "absent")
    end = raw.find(b"\n")
    header: Any = None
    if end >= 0:
        try:
            header = json.loads(raw[:end])
        except ValueError:
            header = None
    if not isinstance(header, dict) or header.get("format") != SLOT_FORMAT:
        if end < 0 and (raw.startswith(_SLOT_PREFIX) or _SLOT_PREFIX.startswith(raw)):
            return SlotReading(index, "unfinished", problem="cut short inside its header")
        return SlotReading(index, "damaged", problem="its header is unreadable")
    sequence = header.get("sequence") if isinstance(header.get("sequence"), int) else None
    length = header.get("length") if isinstance(header.get("length"), int) else None
    if length is not None and len(raw) - end - 1 < length:
        return SlotReading(index, "unfinished", sequence,
                           problem=f"cut short ({len(raw) - end - 1} of {length} bytes)")
    decoded = decode_slot(raw)
    if decoded is None:
        return SlotReading(index, "damaged", sequence, problem="its checksum does not match")
    try:
        doc = check_snapshot(json.loads(decoded[1]))
    except (ValueError, StateError) as error:
        return SlotReading(index, "damaged", decoded[0], problem=f"not a snapshot this server can read: {error}")
    return SlotReading(index, "valid", decoded[0], doc)


_SLOT_PREFIX = json.dumps({"format": SLOT_FORMAT}, separators=(",", ":"))[:-1].encode()


def read_slots(root: Path, notes: list[str] | None = None, *,
               recover: bool = False) -> tuple[int, int, dict[str, Any]] | None:
    """(slot index, sequence, document) of the newest valid snapshot in `root`; None for a new dir.

    A slot cut short by a stop mid-write is ignored (nothing in it was acknowledged) and so is a damaged
    slot older than the valid one; both are named in `notes`. A damaged slot that may hold the newest
    snapshot is a StateDirError, or with `recover` a note, and the older slot is used."""
    notes = [] if notes is None else notes
    readings = [read_slot(root, index) for index in range(len(SLOTS))]
    valid = [r for r in readings if r.state == "valid"]
    best = max(valid, key=lambda r: r.sequence or 0) if valid else None   # a valid reading has its sequence
    for reading in readings:
        where = f"{Path(root) / reading.name}"
        if reading.state == "unfinished":
            notes.append(f"{where}: an unfinished snapshot write was ignored ({reading.problem}); nothing "
                         f"in it had been acknowledged")
        elif reading.state == "damaged":
            if best is not None and reading.sequence is not None and reading.sequence < (best.sequence or 0):
                notes.append(f"{where} is damaged ({reading.problem}) but older than {best.name} "
                             f"(sequence {best.sequence}), which is used")
                continue
            fallback = (f"{best.name} (sequence {best.sequence}) is intact and older" if best is not None
                        else "no readable snapshot is left")
            line = f"{where} is damaged ({reading.problem}) and may hold the newest state; {fallback}"
            if not recover:
                if best is None:
                    raise StateDirError(f"the state dir {root} holds no readable snapshot ({line}); refusing "
                                        f"to start over on it (--recover starts empty)")
                raise StateDirError(f"{line}; refusing to start (--recover starts from {best.name}, losing "
                                    f"what came after it)")
            notes.append(line + ("; starting from it (--recover)" if best else "; starting empty (--recover)"))
    if best is None or best.sequence is None or best.document is None:   # a valid reading has both
        return None
    return best.index, best.sequence, best.document
