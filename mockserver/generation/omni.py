"""Gemini Omni Flash: video generation and conversational editing (the rules, no HTTP, no state).

Sources (read 2026-12):

* ai.google.dev/gemini-api/docs/omni and /docs/video: Omni Flash is called through the Interactions API
  (`interactions.create(model=..., input=...)`), answers a `model_output` step holding
  `{"type": "video", "mime_type": "video/mp4", "data": <base64>}` (`interaction.output_video`), and each turn
  with `previous_interaction_id` produces a new video that edits the previous one.
* google-genai 3.6.1 `_gaos/types/interactions/videoresponseformat.py`: `response_format` `{"type": "video",
  "aspect_ratio": "16:9" | "9:16", "resolution": "360p" | "720p" | "1080p" | "4k" (default 720p),
  "duration": <string>, "delivery": "inline" | "uri"}`.
* The model's own limits are catalog data (`emulator.omni` in fixtures/models.json): 1.1 picks its own
  length (3-10 s); 1.2 takes a requested one (3-15 s).
* A generateContent call answers 400 "This model only supports Interactions API." (the live API's answer,
  as reported in github.com/TanStack/ai issue 871, 2026-07-01).
* Extension (`generation_config.video_config.task` "extend", one of the SDK's `VideoConfig` tasks): the model
  makes a 3-10 s continuation of the video and joins it to up to the last 30 s of it, at most 40 s in all
  (docs.cloud.google.com/gemini-enterprise-agent-platform/models/video/extend-videos, read 2026-12).
* Output usage: 5,792 video tokens per second of output (57,920 for a 10 s clip, the same report and the
  Cloud model card's output token limit).
"""
from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any

from ..errors import invalid_argument
from . import video

TOKENS_PER_SECOND = 5792
DIMENSIONS = {("360p", "16:9"): (640, 360), ("360p", "9:16"): (360, 640), **video.DIMENSIONS}
DEFAULT_RESOLUTION, DEFAULT_ASPECT = "720p", "16:9"
_SECONDS = re.compile(r"(\d+)s?")
ONLY_INTERACTIONS = "This model only supports Interactions API."
TASKS = ("text_to_video", "image_to_video", "reference_to_video", "edit", "extend", "upscale")
EXTENSION, KEPT_FOR_EXTENSION = (3, 10), 30
TASK_FIELD = "generation_config.video_config.task"


def spec(model: dict[str, Any]) -> dict[str, Any] | None:
    """The model's `emulator.omni` block, or None for a model that makes no Omni video."""
    found = (model.get("emulator") or {}).get("omni")
    return found if isinstance(found, dict) else None


def task(generation_config: Any) -> str | None:
    """`generation_config.video_config.task`, checked against the SDK's values (None: the model decides)."""
    config = generation_config.get("video_config") if isinstance(generation_config, dict) else None
    value = config.get("task") if isinstance(config, dict) else None
    if value is not None and value not in TASKS:
        raise invalid_argument(f"{TASK_FIELD} {value!r} is not one of {', '.join(TASKS)}.", TASK_FIELD)
    return value


def refuse_generate_content(model: dict[str, Any]) -> None:
    """An Omni model is reached through the Interactions API only."""
    if spec(model) is not None:
        raise invalid_argument(ONLY_INTERACTIONS, "model")


@dataclass(frozen=True)
class Options:
    resolution: str | None       # None: not named (720p for a new video; an edit keeps its source's)
    aspect_ratio: str | None     # None: not named (16:9 for a new video; an edit keeps its source's)
    seconds: int | None          # None: not named (a new video's length is the model's choice)
    delivery: str


def video_format(response_format: Any) -> dict[str, Any] | None:
    """The `{"type": "video"}` entry of `response_format` (an object or a list of them), if any."""
    entries = response_format if isinstance(response_format, list) else [response_format]
    return next((f for f in entries if isinstance(f, dict) and f.get("type") == "video"), None)


def _choice(fmt: dict[str, Any], key: str, allowed: list[str]) -> str | None:
    value = fmt.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise invalid_argument(f"response_format.{key} {value!r} is not supported by this model; use one of "
                               f"{', '.join(allowed)}.", f"response_format.{key}")
    return str(value)


def _seconds(fmt: dict[str, Any], limits: dict[str, Any], name: str) -> int | None:
    raw = fmt.get("duration")
    if raw is None:
        return None
    low, high = limits["durationRange"]
    if not limits.get("durationSelectable"):
        raise invalid_argument(f"response_format.duration is not supported by {name}: the model chooses the "
                               f"length of its video ({low}-{high} s).", "response_format.duration")
    match = _SECONDS.fullmatch(str(raw).strip()) if isinstance(raw, (str, int)) else None
    if match is None or not low <= int(match.group(1)) <= high:
        raise invalid_argument(f"response_format.duration {raw!r} is out of range: {name} makes videos of "
                               f"{low} to {high} seconds.", "response_format.duration")
    return int(match.group(1))


def options(model: dict[str, Any], response_format: Any) -> Options:
    """The request's video options, checked against the model (400 naming the field)."""
    limits = spec(model) or {}
    name = str(model.get("name", ""))
    if response_format is not None and not isinstance(response_format, (dict, list)):
        raise invalid_argument("response_format must be an object.", "response_format")
    fmt = video_format(response_format) or {}
    return Options(resolution=_choice(fmt, "resolution", list(limits["resolutions"])),
                   aspect_ratio=_choice(fmt, "aspect_ratio", list(limits["aspectRatios"])),
                   seconds=_seconds(fmt, limits, name),
                   delivery=_choice(fmt, "delivery", ["inline", "uri"]) or "inline")


@dataclass(frozen=True)
class Clip:
    seconds: int
    width: int
    height: int
    data: bytes

    @property
    def tokens(self) -> int:
        return self.seconds * TOKENS_PER_SECOND


def _pick_seconds(limits: dict[str, Any], digest: bytes) -> int:
    low, high = limits["durationRange"]
    return int(low) + digest[0] % (int(high) - int(low) + 1)


def _shape(source: Clip | None) -> tuple[str, str]:
    """The resolution and aspect ratio an earlier video was made at (the defaults for a new one; 720p in the
    source's orientation for a video of another size, such as an upload)."""
    for key, size in DIMENSIONS.items():
        if source is not None and size == (source.width, source.height):
            return key
    tall = source is not None and source.height > source.width
    return DEFAULT_RESOLUTION, "9:16" if tall else DEFAULT_ASPECT


def _extended_seconds(chosen: Options, digest: bytes, source: Clip | None) -> int:
    if source is None:
        raise invalid_argument(f"{TASK_FIELD} 'extend' needs a video to extend: give one in the input or continue "
                               f"from an interaction that made one (previous_interaction_id).", TASK_FIELD)
    low, high = EXTENSION
    if chosen.seconds is not None and not low <= chosen.seconds <= high:
        raise invalid_argument(f"response_format.duration {chosen.seconds}s is out of range: an extension is {low} "
                               f"to {high} seconds.", "response_format.duration")
    added = chosen.seconds or low + digest[1] % (high - low + 1)
    return min(source.seconds, KEPT_FOR_EXTENSION) + added


def make(model: dict[str, Any], chosen: Options, digest: bytes, source: Clip | None = None,
         extend: bool = False) -> Clip:
    """The video: a new one, an edit of an earlier video (`source`), which keeps its length and shape unless
    the request names new ones, or (`extend`) the source's last 30 s or less followed by a 3-10 s extension."""
    limits = spec(model) or {}
    shape = _shape(source)
    width, height = DIMENSIONS[(chosen.resolution or shape[0], chosen.aspect_ratio or shape[1])]
    if extend:
        seconds = _extended_seconds(chosen, digest, source)
    elif source is not None:   # an edit is as long as its source, within what the model makes
        seconds = chosen.seconds or min(source.seconds, int(limits["durationRange"][1]))
    else:
        seconds = chosen.seconds or _pick_seconds(limits, digest)
    picture = hashlib.blake2b(digest + (source.data[-64:] if source else b""), digest_size=16).digest()
    return Clip(seconds, width, height, video.mp4(seconds, width, height, picture))


def read_clip(data: bytes) -> Clip | None:
    """Length and size of an MP4 (the `mvhd` duration, the first `tkhd` size), or None if it has neither."""
    mvhd, tkhd = data.find(b"mvhd"), data.find(b"tkhd")
    if mvhd < 4 or tkhd < 4:
        return None
    try:
        version = data[mvhd + 4]
        if version == 1:
            timescale, duration = struct.unpack(">IQ", data[mvhd + 24:mvhd + 36])
        else:
            timescale, duration = struct.unpack(">II", data[mvhd + 16:mvhd + 24])
        size_at = tkhd + 4 + (88 if data[tkhd + 4] == 1 else 76)
        width, height = (v >> 16 for v in struct.unpack(">II", data[size_at:size_at + 8]))
    except (struct.error, IndexError):
        return None
    if not timescale or not width or not height:
        return None
    return Clip(max(1, round(duration / timescale)), width, height, data)
