"""A streaming reader of multipart bodies: part headers in memory (bounded), part bodies in pieces.

Used by the Files API's multipart uploads, the OpenAI layer's form uploads and File Search uploads.
"""
from __future__ import annotations

from typing import AsyncIterable, AsyncIterator

from .errors import invalid_argument


class MultipartReader:
    """A streaming reader of a multipart body: headers in memory (bounded), part bodies in pieces."""

    HEADER_LIMIT = 64 * 1024

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream.__aiter__()
        self.buffer = bytearray()
        self.eof = False

    async def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            self.buffer += await self._stream.__anext__()
        except StopAsyncIteration:
            self.eof = True
            return False
        return True

    async def until(self, marker: bytes, limit: int) -> bytes:
        """The bytes before `marker` (consumed, marker included); 400 past `limit` or at the end."""
        start = 0
        while True:
            index = self.buffer.find(marker, start)
            if index >= 0:
                data = bytes(self.buffer[:index])
                del self.buffer[:index + len(marker)]
                return data
            if len(self.buffer) > limit:
                raise invalid_argument("Malformed multipart body: a part or its headers are too large.")
            start = max(0, len(self.buffer) - len(marker) + 1)
            if not await self._fill():
                raise invalid_argument("Malformed multipart body: it ends before the closing boundary.")

    async def pieces_until(self, marker: bytes) -> AsyncIterator[bytes]:
        """Yield the bytes before `marker` as they arrive; the marker is consumed."""
        keep = len(marker) - 1
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                if index:
                    yield bytes(self.buffer[:index])
                del self.buffer[:index + len(marker)]
                return
            if len(self.buffer) > keep:
                cut = len(self.buffer) - keep
                yield bytes(self.buffer[:cut])
                del self.buffer[:cut]
            if not await self._fill():
                raise invalid_argument("Malformed multipart body: it ends before the closing boundary.")


def part_headers(raw: bytes) -> dict[str, str]:
    headers = {}
    for line in raw.decode("latin-1").split("\r\n"):
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return headers
