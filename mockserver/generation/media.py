"""Token cost of media (inline data and uploaded files), by the published per-modality rates.

* images: 258 tokens each, whatever their size;
* audio: 32 tokens per second of real playing time (read by `audio.py`), ceil(seconds x 32);
* video: 263 tokens per second when the duration can be read from an MP4/QuickTime `mvhd` box,
  ceil(seconds x 263); 258 when it cannot;
* PDF: 258 tokens per page (pages counted from the `/Type /Page` objects, or the page tree's `/Count`);
  258 when no page can be found (a single page);
* text/* and the text-like application types (JSON, XML, JavaScript, Python...): the text's tokens.

Anything else is refused with 400 "Unsupported MIME type", as the real API does.
The files backend can call `describe_media(path, mime_type)` once at upload time and hand the result
back through `resolve_file`.
"""
from __future__ import annotations

import math
import os
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import invalid_argument
from . import audio
from .tokens import count_text

IMAGE_TOKENS = 258
AUDIO_TOKENS_PER_SECOND = 32
VIDEO_TOKENS_PER_SECOND = 263
VIDEO_TOKENS_UNKNOWN_LENGTH = 258
DOCUMENT_TOKENS_PER_PAGE = 258
MAX_AUDIO_SECONDS = 9.5 * 3600

TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT = "TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT"
MODALITIES = (TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT)

_TEXT_APPLICATION_TYPES = {
    "application/json", "application/xml", "application/javascript", "application/x-javascript",
    "application/typescript", "application/x-typescript", "application/x-python", "application/x-python-code",
    "application/x-sh", "application/sql", "application/x-sql", "application/yaml", "application/x-yaml",
    "application/x-tex", "application/rtf", "application/ld+json", "application/x-ndjson", "application/jsonl",
}


@dataclass(frozen=True)
class MediaInfo:
    """What `resolve_file` returns for a `fileData.fileUri`: the file's cost in a prompt."""
    mime_type: str
    modality: str
    tokens: int
    audio_seconds: float = 0.0
    video_seconds: float = 0.0   # 0 when the container gives no duration


def audio_tokens(seconds: float) -> int:
    """32 tokens per second, rounded up to a whole token (60 s -> 1,920)."""
    return math.ceil(round(seconds * AUDIO_TOKENS_PER_SECOND, 6))


def video_tokens(seconds: float | None) -> int:
    if not seconds or seconds <= 0:
        return VIDEO_TOKENS_UNKNOWN_LENGTH
    return math.ceil(round(seconds * VIDEO_TOKENS_PER_SECOND, 6))


def modality_for_mime(mime_type: str | None) -> str | None:
    """TEXT/IMAGE/AUDIO/VIDEO/DOCUMENT for a MIME type the API accepts, else None."""
    mime = audio.normalise_mime(mime_type)
    major = mime.split("/", 1)[0]
    if major == "image":
        return IMAGE
    if major == "audio":
        return AUDIO if mime in audio.AUDIO_MIME_TYPES else None
    if major == "video":
        return VIDEO
    if major == "text" or mime in _TEXT_APPLICATION_TYPES:
        return TEXT
    if mime == "application/pdf":
        return DOCUMENT
    return None


def check_mime(mime_type: str | None, field: str | None = None) -> str:
    """The modality of a supported MIME type; 400 naming `field` otherwise."""
    if not mime_type:
        raise invalid_argument("mimeType must be specified.", field)
    if audio.is_audio_mime(mime_type):
        audio.check_audio_mime(mime_type, field)
        return AUDIO
    modality = modality_for_mime(mime_type)
    if modality is None:
        raise invalid_argument(f"Unsupported MIME type: {mime_type}", field)
    return modality


def describe_media(data: bytes | str | os.PathLike[str], mime_type: str, *, field: str | None = None) -> MediaInfo:
    """The prompt cost of raw bytes or of a file on disk (read in pieces, never whole for big media)."""
    modality = check_mime(mime_type, field)
    if modality == IMAGE:
        return MediaInfo(mime_type, IMAGE, IMAGE_TOKENS)
    if modality == AUDIO:
        seconds = audio.duration_seconds(data, mime_type, field=field)
        return MediaInfo(mime_type, AUDIO, audio_tokens(seconds), seconds)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _describe_bytes(bytes(data), mime_type, modality)
    if modality == VIDEO:
        video_seconds = _mp4_seconds_path(data)
        return MediaInfo(mime_type, VIDEO, video_tokens(video_seconds), video_seconds=video_seconds or 0.0)
    if modality == DOCUMENT:
        return MediaInfo(mime_type, DOCUMENT, DOCUMENT_TOKENS_PER_PAGE * max(1, _pdf_pages_path(data)))
    return MediaInfo(mime_type, TEXT, _count_text_file(data))


def _describe_bytes(data: bytes, mime_type: str, modality: str) -> MediaInfo:
    """describe_media of raw bytes (a video, a PDF or text)."""
    if modality == VIDEO:
        seconds = _mp4_seconds_bytes(data)
        return MediaInfo(mime_type, VIDEO, video_tokens(seconds), video_seconds=seconds or 0.0)
    if modality == DOCUMENT:
        return MediaInfo(mime_type, DOCUMENT, DOCUMENT_TOKENS_PER_PAGE * max(1, _pdf_pages_bytes(data)))
    return MediaInfo(mime_type, TEXT, count_text(data.decode("utf-8", "replace")))


def _count_text_file(path: str | os.PathLike[str]) -> int:
    """count_text of a whole file, read 1 MiB at a time and cut only where a word meets whitespace."""
    total = 0
    carry = ""
    with open(os.fspath(path), "r", encoding="utf-8", errors="replace") as handle:
        while True:
            block = handle.read(1 << 20)
            if not block:
                break
            buffer = carry + block
            cut = _last_boundary(buffer)
            total += count_text(buffer[:cut])
            carry = buffer[cut:]
    return total + count_text(carry)


def _last_boundary(text: str) -> int:
    """The last position where whitespace starts right after a non-space character (0 if none)."""
    index = len(text) - 1
    while index > 0:
        if text[index].isspace() and not text[index - 1].isspace():
            return index
        index -= 1
    return 0


# -- PDF pages ------------------------------------------------------------------------------------

_PAGE_RE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_COUNT_RE = re.compile(rb"/Type\s*/Pages(?![A-Za-z])[^>]{0,200}?/Count\s+(\d+)|/Count\s+(\d+)[^>]{0,200}?/Type\s*/Pages")


def _pdf_pages_bytes(data: bytes) -> int:
    pages = len(_PAGE_RE.findall(data))
    if pages:
        return pages
    counts = [int(a or b) for a, b in _COUNT_RE.findall(data)]
    return max(counts) if counts else 1


def _pdf_pages_path(path: str | os.PathLike[str]) -> int:
    pages = 0
    best_count = 0
    tail = b""
    with open(os.fspath(path), "rb") as handle:
        while True:
            block = handle.read(1 << 20)
            if not block:
                break
            window = tail + block
            # Count only matches that start in the new block (the tail was searched already).
            pages += sum(1 for m in _PAGE_RE.finditer(window) if m.start() >= len(tail))
            for a, b in _COUNT_RE.findall(window):
                best_count = max(best_count, int(a or b))
            tail = window[-256:]
    return pages or best_count or 1


# -- MP4 / QuickTime duration -----------------------------------------------------------------------

def _mvhd_seconds(box: bytes) -> float | None:
    """Duration from the payload of an `mvhd` box."""
    try:
        if box[0] == 1:
            timescale, duration = struct.unpack(">IQ", box[20:32])
        else:
            timescale, duration = struct.unpack(">II", box[12:20])
    except (struct.error, IndexError):
        return None
    return duration / timescale if timescale else None


def _mp4_seconds_bytes(data: bytes) -> float | None:
    pos = data.find(b"mvhd")
    if pos < 4:
        return None
    return _mvhd_seconds(data[pos + 4:pos + 40])


def _mp4_seconds_path(path: str | os.PathLike[str]) -> float | None:
    """Walk the top-level boxes to `moov` (often at the end of the file) and read its `mvhd`."""
    try:
        with open(os.fspath(path), "rb") as handle:
            return _walk_boxes(handle)
    except OSError:
        return None


def _walk_boxes(handle: BinaryIO) -> float | None:
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        header_size = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            header_size = 16
        if kind == b"moov":
            payload = handle.read(min(size - header_size, 1 << 16) if size else 1 << 16)
            return _mp4_seconds_bytes(payload)
        if size == 0 or size < header_size:
            return None
        handle.seek(size - header_size, os.SEEK_CUR)
