"""Audio durations for token counting (32 tokens per second), read with mutagen.

The Gemini API accepts WAV, MP3, AIFF, AAC, OGG Vorbis and FLAC (`audio/wav`, `audio/mp3`, `audio/aiff`,
`audio/aac`, `audio/ogg`, `audio/flac`) and a few common aliases of those names. Any other audio MIME type
is a 400, and so are bytes that do not decode as audio.

Which parser reads the bytes: the container is sniffed from its first bytes (RIFF/WAVE, FORM/AIFF, fLaC,
OggS, ADTS or MPEG sync, optionally behind an ID3 tag). When the sniffed format is a supported one it wins
over the declared MIME type, as a real decoder would (a WAV labelled `audio/mp3` still plays); when nothing
is recognised, the declared type's parser gets a try; if that fails too the request is refused with
"Unable to process input audio".

Given a path, only headers are read (plus ADTS frame headers, which have no index), never the whole file.
"""
from __future__ import annotations

import io
import os
import struct
from typing import BinaryIO

from mutagen import MutagenError
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.mp3 import MP3, MPEGInfo
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from ..errors import invalid_argument

# MIME type (lower case, without parameters) -> container format.
AUDIO_MIME_TYPES: dict[str, str] = {
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
    "audio/x-pn-wav": "wav",
    "audio/mp3": "mp3", "audio/mpeg": "mp3", "audio/mpeg3": "mp3", "audio/x-mp3": "mp3",
    "audio/x-mpeg": "mp3", "audio/x-mpeg-3": "mp3", "audio/mpga": "mp3",
    "audio/aiff": "aiff", "audio/x-aiff": "aiff", "audio/aif": "aiff",
    "audio/aac": "aac", "audio/x-aac": "aac", "audio/aacp": "aac",
    "audio/ogg": "ogg", "audio/vorbis": "ogg", "audio/x-vorbis": "ogg", "audio/x-ogg": "ogg",
    "audio/vorbis-config": "ogg",
    "audio/flac": "flac", "audio/x-flac": "flac",
}

_UNABLE = ("Unable to process input audio. Please retry or report in "
           "https://developers.generativeai.google/guide/troubleshooting")

_SNIFF_BYTES = 64


def normalise_mime(mime_type: str | None) -> str:
    """`Audio/MPEG; charset=x` -> `audio/mpeg`."""
    return (mime_type or "").split(";", 1)[0].strip().lower()


def is_audio_mime(mime_type: str | None) -> bool:
    return normalise_mime(mime_type).startswith("audio/")


def check_audio_mime(mime_type: str, field: str | None = None) -> str:
    """The container format for a supported audio MIME type; 400 naming `field` otherwise."""
    fmt = AUDIO_MIME_TYPES.get(normalise_mime(mime_type))
    if fmt is None:
        supported = "audio/wav, audio/mp3, audio/aiff, audio/aac, audio/ogg, audio/flac"
        raise invalid_argument(f"Unsupported MIME type: {mime_type}. Supported audio types: {supported}.", field)
    return fmt


def duration_seconds(data: bytes | str | os.PathLike[str], mime_type: str, *, field: str | None = None) -> float:
    """Playing time of `data` (raw bytes, or a path read header-first) declared as `mime_type`.

    Raises a 400 ApiError (naming `field`) for an unsupported MIME type or bytes that do not decode.
    """
    declared = check_audio_mime(mime_type, field)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _duration(io.BytesIO(bytes(data)), declared, field)
    try:
        with open(os.fspath(data), "rb") as handle:
            return _duration(handle, declared, field)
    except OSError:
        raise invalid_argument(_UNABLE, field) from None


def _duration(handle: BinaryIO, declared: str, field: str | None) -> float:
    head = handle.read(_SNIFF_BYTES)
    sniffed = _sniff(handle, head)
    for fmt in dict.fromkeys([sniffed, declared] if sniffed else [declared]):
        handle.seek(0)
        try:
            seconds = _PARSERS[fmt](handle)
        except (MutagenError, ValueError, struct.error, EOFError, IndexError, ZeroDivisionError):
            continue
        if seconds and seconds > 0:
            return float(seconds)
    raise invalid_argument(_UNABLE, field)


def _sniff(handle: BinaryIO, head: bytes) -> str | None:
    """The container format from the first bytes, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    offset = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        # ID3v2 size is a 28-bit synchsafe integer, plus a 10-byte header (and footer when flagged).
        size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
        offset = 10 + size + (10 if head[5] & 0x10 else 0)
        handle.seek(offset)
        head = handle.read(4)
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # 12-bit sync, layer 00: ADTS
            return "aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # 11-bit sync, layer I/II/III
            return "mp3"
    return None


def _wav(handle: BinaryIO) -> float:
    length: float = WAVE(handle).info.length
    return length


def _aiff(handle: BinaryIO) -> float:
    length: float = AIFF(handle).info.length
    return length


def _flac(handle: BinaryIO) -> float:
    length: float = FLAC(handle).info.length
    return length


def _ogg(handle: BinaryIO) -> float:
    """OGG Vorbis, and the other codecs commonly found in `.ogg` files (Opus, FLAC)."""
    for kind in (OggVorbis, OggOpus, OggFLAC):
        handle.seek(0)
        try:
            length: float = kind(handle).info.length
            return length
        except MutagenError:
            continue
    raise ValueError("not an Ogg audio stream")


def _mp3(handle: BinaryIO) -> float:
    info = MP3(handle).info
    if getattr(info, "sketchy", False):
        raise ValueError("no reliable MPEG audio frames")
    gapless = _gapless_mp3_seconds(handle, info)
    return gapless if gapless is not None else info.length


def _gapless_mp3_seconds(handle: BinaryIO, info: MPEGInfo) -> float | None:
    """Length without encoder delay and padding from an Info/Xing tag written by a non-LAME encoder.

    mutagen applies the delay/padding only when the tag's encoder string starts with "LAME"; ffmpeg writes
    the same fields after "Lavc..." and they mean the same thing.
    """
    handle.seek(info.frame_offset)
    frame = handle.read(512)
    for tag in (b"Info", b"Xing"):
        pos = frame.find(tag, 4, 64)
        if pos != -1:
            break
    else:
        return None
    try:
        flags = struct.unpack(">I", frame[pos + 4:pos + 8])[0]
        cursor = pos + 8
        frames = None
        if flags & 1:
            frames = struct.unpack(">I", frame[cursor:cursor + 4])[0]
            cursor += 4
        cursor += (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
        encoder = frame[cursor:cursor + 9]
        if frames is None or encoder.startswith((b"LAME", b"L3.99")) or not encoder[:4].isalpha():
            return None
        packed = frame[cursor + 21:cursor + 24]
        delay = packed[0] << 4 | packed[1] >> 4
        padding = (packed[1] & 0x0F) << 8 | packed[2]
    except (struct.error, IndexError):
        return None
    samples_per_frame = 1152 if info.version == 1 else 576
    if info.layer == 1:
        samples_per_frame = 384
    elif info.layer == 2:
        samples_per_frame = 1152
    samples = frames * samples_per_frame - delay - padding
    return samples / info.sample_rate if samples > 0 else None


_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _aac(handle: BinaryIO) -> float:
    """ADTS AAC: count the frames exactly (mutagen only estimates from the bitrate).

    Each 7-byte ADTS header carries its frame length, so walking the headers touches a few bytes per
    1024 samples. A stream that breaks off (bad sync after at least one frame) counts what came before.
    """
    start = handle.tell()
    head = handle.read(10)
    if head[:3] == b"ID3":
        size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
        start += 10 + size
    handle.seek(start)
    samples = 0
    rate = 0
    frames = 0
    while True:
        header = handle.read(7)
        if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
            break
        index = (header[2] >> 2) & 0x0F
        if index >= len(_ADTS_RATES):
            break
        length = (header[3] & 0x03) << 11 | header[4] << 3 | header[5] >> 5
        if length < 7:
            break
        rate = rate or _ADTS_RATES[index]
        samples += 1024 * ((header[6] & 0x03) + 1)
        frames += 1
        handle.seek(length - 7, io.SEEK_CUR)
    if frames == 0:
        # Not ADTS: let mutagen try (it also reads ADIF).
        handle.seek(0)
        seconds: float = AAC(handle).info.length
        return seconds
    return samples / rate


_PARSERS = {"wav": _wav, "mp3": _mp3, "aiff": _aiff, "aac": _aac, "ogg": _ogg, "flac": _flac}
