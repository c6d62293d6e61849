"""Stored bytes are what was stored: each file's bytes are checked against the size and SHA-256 recorded
when they were stored, at start-up (persistence.attach) and again before they are read whenever the file
on disk changed since its last check (a different size, modification time or inode). A file left alone
is hashed once; a file changed behind the server's back is never served as if it were valid.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

TOMBSTONE = ".deleted"
RACY_NS = 2_000_000_000   # a file modified this recently is hashed again on the next read   # a file being deleted is renamed so first (store.discard)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


class VerifiedBytes:
    """The stat stamps of files whose bytes were last seen matching their record."""

    def __init__(self) -> None:
        self._stamps: dict[Path, tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    def remember(self, path: Path) -> None:
        """`path` holds exactly the bytes its record names (it was just written from them)."""
        try:
            stamp = _stamp(os.stat(path))
        except OSError:
            return
        with self._lock:
            self._stamps[path] = stamp

    def forget(self, path: Path) -> None:
        with self._lock:
            self._stamps.pop(path, None)

    def problem(self, path: Path, size: int, sha256_hex: str) -> str | None:
        """None when `path` holds `size` bytes with that SHA-256; else what is wrong with it."""
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return f"its bytes {path.name} are missing"
        except OSError as error:
            return f"its bytes {path.name} cannot be read ({error.strerror})"
        stamp = _stamp(stat)
        with self._lock:
            if self._stamps.get(path) == stamp:
                return None
        if stat.st_size != size:
            return f"its bytes were modified ({stat.st_size} bytes on disk, {size} stored)"
        try:
            actual = sha256_of(path)
        except OSError as error:
            return f"its bytes cannot be read ({error.strerror})"
        if actual != sha256_hex:
            return "its bytes were modified (their SHA-256 no longer matches)"
        # A file written within the file system's timestamp tick of this check could change again without
        # changing its stamp: only an older one is trusted by stamp from now on. (Wall-clock time of the
        # file system, not the emulated clock: this is about the disk, not about emulated state.)
        if time.time_ns() - stat.st_mtime_ns > RACY_NS:
            with self._lock:
                self._stamps[path] = stamp
        return None
