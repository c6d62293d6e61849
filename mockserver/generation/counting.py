"""Prompt token counts per modality, for countTokens and for generateContent's usageMetadata.

Text parts are counted with `tokens.count_text`; function calls, function responses, executable code and
code results by the tokens of their canonical JSON text; tools by the canonical JSON of each tool;
inline media and files by `media.py`'s rates. Audio longer than 9.5 hours in one prompt is refused.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field as dataclass_field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import orjson

from ..errors import invalid_argument
from . import media
from .media import MAX_AUDIO_SECONDS, MODALITIES, TEXT, MediaInfo
from .tokens import count_text

if TYPE_CHECKING:
    from .gemini3 import MediaTokens

ResolveFile = Callable[[str], MediaInfo]

# Part fields whose canonical JSON is counted as text.
_JSON_PART_FIELDS = ("functionCall", "functionResponse", "executableCode", "codeExecutionResult", "toolCall",
                     "toolResponse")


def canonical_json(value: object) -> str:
    """The one JSON spelling used for hashing and for counting structured values: the stdlib's
    `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, character for character (the
    hashes that seed every answer depend on it). orjson writes the same text faster, except where
    _SPELLED_APART finds a difference, or where it refuses (keys that are not strings, integers beyond 64
    bits, lone surrogates): then the stdlib writes it."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:   # orjson.JSONEncodeError
        text = b"null"
    if _SPELLED_APART.search(text) is None:
        return text.decode()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Where orjson's text may differ from the stdlib's: NaN and infinities (orjson writes null), floats below
# 1e-4 (orjson: 0.00001 where Python writes 1e-05) and one-digit exponents (orjson: 1e-7, Python: 1e-07).
# A match inside a string only sends that value to the stdlib. Checked against 400,000 random doubles.
_SPELLED_APART = re.compile(rb"null|0\.0000|\de[-+]?\d(?!\d)")


@dataclass
class Counts:
    """Token counts per modality (TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT) and the audio playing time."""
    by_modality: dict[str, int] = dataclass_field(default_factory=dict)
    audio_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.by_modality.values())

    def add(self, modality: str, tokens: int) -> None:
        self.by_modality[modality] = self.by_modality.get(modality, 0) + tokens

    def merged(self, other: "Counts") -> "Counts":
        result = Counts(dict(self.by_modality), self.audio_seconds + other.audio_seconds)
        for modality, tokens in other.by_modality.items():
            result.add(modality, tokens)
        return result

    def details(self) -> list[dict[str, Any]]:
        """`[{"modality", "tokenCount"}]` in a fixed modality order, without empty modalities."""
        return [{"modality": m, "tokenCount": self.by_modality[m]} for m in MODALITIES if self.by_modality.get(m)]


def decode_base64(data: object, field: str) -> bytes:
    """Bytes of a proto3-JSON bytes field (standard or URL-safe alphabet, padding optional)."""
    if not isinstance(data, str):
        raise invalid_argument(f"Invalid value at '{field}' (TYPE_BYTES): expected a base64 string.", field)
    text = data
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    if len(text) % 4:
        text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        preview = data if len(data) <= 40 else data[:40] + "..."
        raise invalid_argument(f"Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed for \"{preview}\"",
                               field) from None


def _no_file(uri: str) -> MediaInfo:
    raise invalid_argument(f"File {uri} is not available here.", None)


def count_part(part: dict[str, Any], counts: Counts, field: str, resolve_file: ResolveFile | None,
               media_tokens: MediaTokens | None = None) -> None:
    """Add one part's tokens to `counts`; 400 naming `field...` for undecodable or unsupported data.
    `media_tokens(part, field, info)`: the model's own count of a media part (gemini3.media_tokens)."""
    text = part.get("text")
    if text is not None:
        counts.add(TEXT, count_text(text) if isinstance(text, str) else 0)
    inline = part.get("inlineData")
    if inline is not None:
        mime = inline.get("mimeType") or inline.get("mime_type")
        media.check_mime(mime, f"{field}.inlineData.mimeType")
        raw = decode_base64(inline.get("data", ""), f"{field}.inlineData.data")
        info = media.describe_media(raw, mime, field=f"{field}.inlineData")
        counts.add(info.modality, media_tokens(part, field, info) if media_tokens else info.tokens)
        counts.audio_seconds += info.audio_seconds
    file_data = part.get("fileData")
    if file_data is not None:
        uri = file_data.get("fileUri") or file_data.get("file_uri")
        if not uri:
            raise invalid_argument("fileData.fileUri must be specified.", f"{field}.fileData.fileUri")
        info = (resolve_file or _no_file)(uri)
        counts.add(info.modality, media_tokens(part, field, info) if media_tokens else info.tokens)
        counts.audio_seconds += info.audio_seconds
    for key in _JSON_PART_FIELDS:
        value = part.get(key)
        if value is not None:
            counts.add(TEXT, count_text(canonical_json(value)))


def count_content(content: dict[str, Any] | None, counts: Counts, field: str, resolve_file: ResolveFile | None,
                  media_tokens: MediaTokens | None = None) -> None:
    for j, part in enumerate((content or {}).get("parts") or ()):
        count_part(part, counts, f"{field}.parts[{j}]", resolve_file, media_tokens)


def count_content_list(contents: Iterable[dict[str, Any]] | None, counts: Counts, field: str,
                       resolve_file: ResolveFile | None, media_tokens: MediaTokens | None = None) -> None:
    for i, content in enumerate(contents or ()):
        count_content(content, counts, f"{field}[{i}]", resolve_file, media_tokens)


_TOOL_TOKENS: dict[str, int] = {}  # canonical JSON of a tool -> its tokens (the same tools come back often)


def count_tools(tools: Iterable[dict[str, Any]] | None, counts: Counts) -> None:
    for tool in tools or ():
        key = canonical_json(tool)
        tokens = _TOOL_TOKENS.get(key)
        if tokens is None:
            if len(_TOOL_TOKENS) >= 1024:
                _TOOL_TOKENS.clear()
            tokens = _TOOL_TOKENS[key] = count_text(key)
        counts.add(TEXT, tokens)


def part_tokens(part: dict[str, Any]) -> int:
    """Tokens of one part of the model's answer: its text, or the canonical JSON of its function call."""
    if "functionCall" in part:
        return count_text(canonical_json(part["functionCall"]))
    if "executableCode" in part:
        return count_text(part["executableCode"].get("code") or "")
    if "codeExecutionResult" in part:
        return count_text(part["codeExecutionResult"].get("output") or "")
    return count_text(part.get("text", ""))


def check_audio_limit(counts: Counts, field: str = "contents") -> None:
    if counts.audio_seconds > MAX_AUDIO_SECONDS:
        hours = counts.audio_seconds / 3600
        raise invalid_argument(
            f"The audio in this prompt lasts {hours:.2f} hours; the maximum total length of audio in a single "
            f"prompt is 9.5 hours ({int(MAX_AUDIO_SECONDS)} seconds).", field)


def count_contents(contents: Iterable[dict[str, Any]] | None, system_instruction: dict[str, Any] | None = None,
                   tools: Iterable[dict[str, Any]] | None = None, *, resolve_file: ResolveFile | None,
                   field: str = "contents", check_limit: bool = True) -> Counts:
    """Tokens of `contents` (+ system instruction + tools) per modality. See the module docstring."""
    counts = Counts()
    if system_instruction:
        count_content(system_instruction, counts, "systemInstruction", resolve_file)
    count_content_list(contents, counts, field, resolve_file)
    count_tools(tools, counts)
    if check_limit:
        check_audio_limit(counts, field)
    return counts
