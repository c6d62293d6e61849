"""Media documents built in memory for uploads and prompts."""
from __future__ import annotations

import io
import struct
import wave
import zlib


def wav_bytes(seconds: float, rate: int = 8000, sample: bytes = b"\x10\x00") -> bytes:
    """A mono 16-bit WAV of `seconds` (a constant sample, so it compresses to nothing in git)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(sample * int(seconds * rate))
    return buffer.getvalue()


def mp4_bytes(seconds: int) -> bytes:
    """A minimal MP4 whose `mvhd` box gives its length (enough for the Files API and token counting)."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    mvhd_body = struct.pack(">B3xIIII", 0, 0, 0, 1000, seconds * 1000) + b"\x00" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    return ftyp + moov


def png(width: int = 4, height: int = 3, rgb: bytes = b"\xff\x00\x00") -> bytes:
    """A small valid PNG of one colour (red unless told), so a model or a browser has a real image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + rgb * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
