"""Realistic streams: streamed answers sent at a pace, so loading states can be built against the emulator.

A pace is a time to first token and a rate in tokens per second. The config's `stream` section sets it for
every model and per model; a scripted rule may set its own (`"pace": {...}` in the rule), which wins:

    "stream": {"tokensPerSecond": 0, "firstTokenSeconds": 0,
               "models": {"gemini-2.5-pro": {"tokensPerSecond": 40, "firstTokenSeconds": 1.5}}}

Zero is no pace (the default: tests stay fast). `gemini-mock serve --realistic` starts with REALISTIC. The
pace applies to SSE streams (streamGenerateContent with alt=sse, the OpenAI-compatible stream) and to a Live
session's server messages, and is slept on the real clock (asyncio.sleep), never the emulator's clock: it
shapes delivery, not emulated state. The first event waits the time to first token; each later one waits
for its own tokens at the rate.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator

from .errors import invalid_argument

if TYPE_CHECKING:
    from .config import Config

# A figure of the right order for a fast hosted model answering a short prompt; not a measurement of the
# real service (which varies by model, load and prompt length).
REALISTIC = {"tokensPerSecond": 80.0, "firstTokenSeconds": 0.6}
PACE_FIELDS = ("tokensPerSecond", "firstTokenSeconds")
MAX_SECONDS = 60.0
# The text a streamed event carries: Gemini's parts[].text, OpenAI's delta.content, Live transcriptions.
_TEXT = re.compile(rb'"(?:text|content)"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass
class Pace:
    tokens_per_second: float = 0.0
    first_token_seconds: float = 0.0
    started: bool = False

    @property
    def active(self) -> bool:
        return self.tokens_per_second > 0 or self.first_token_seconds > 0

    def delay(self, tokens: int) -> float:
        """Seconds to wait before sending an event of `tokens` tokens."""
        if not self.started:
            self.started = True
            return self.first_token_seconds
        return tokens / self.tokens_per_second if self.tokens_per_second > 0 else 0.0

    async def wait(self, tokens: int) -> None:
        seconds = min(self.delay(tokens), MAX_SECONDS)
        if seconds > 0:
            await sleep(seconds)


async def sleep(seconds: float) -> None:
    """The real clock's wait (a stream's pace is delivery, not emulated time)."""
    await asyncio.sleep(seconds)


def check(pace: Any, where: str) -> dict[str, Any]:
    """A pace object as a rule or the config gives it: numbers from 0 to 10 000 (a 400 otherwise)."""
    if not isinstance(pace, dict):
        raise invalid_argument(f"{where} must be an object with tokensPerSecond and firstTokenSeconds.", where)
    unknown = [key for key in pace if key not in PACE_FIELDS]
    if unknown:
        raise invalid_argument(f"Unknown field {where}.{unknown[0]}: a pace has {', '.join(PACE_FIELDS)}.",
                               f"{where}.{unknown[0]}")
    out = {}
    for key in PACE_FIELDS:
        value = pace.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 10_000:
            raise invalid_argument(f"{where}.{key} must be a number from 0 to 10000.", f"{where}.{key}")
        out[key] = float(value)
    return out


def check_models(stream: Any) -> None:
    """The per-model paces of a config patch's `stream` section (an open map the config cannot check)."""
    models = stream.get("models") if isinstance(stream, dict) else None
    if isinstance(models, dict):
        for name, pace in models.items():
            check(pace, f"stream.models.{name}")


def pace_for(config: Config, model: str | None, rule_pace: dict[str, Any] | None = None) -> Pace | None:
    """The pace of a stream of `model` (bare or `models/...`), or None when there is none."""
    spec = rule_pace
    if spec is None:
        section = config["stream"]
        spec = section
        name = (model or "").removeprefix("models/").removeprefix("tunedModels/")
        for key, value in (section.get("models") or {}).items():
            if isinstance(value, dict) and key.removeprefix("models/") == name:
                spec = {**section, **value}
                break
    pace = Pace(float(spec.get("tokensPerSecond") or 0), float(spec.get("firstTokenSeconds") or 0))
    return pace if pace.active else None


def tokens_in(event: bytes) -> int:
    """About how many tokens of text an event carries (four characters a token, at least one)."""
    chars = sum(len(found) for found in _TEXT.findall(event))
    return max(1, round(chars / 4))


async def paced(source: AsyncIterable[str | bytes | memoryview], pace: Pace) -> AsyncIterator[bytes]:
    """The chunks of an SSE stream, each sent after its wait."""
    try:
        async for chunk in source:
            data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            await pace.wait(tokens_in(data))
            yield data
    finally:
        closing = getattr(source, "aclose", None)
        if closing is not None:
            await closing()
