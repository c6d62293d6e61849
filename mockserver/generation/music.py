"""Songs of the Lyria 3 music models: their length, their timed lyrics, and the generateContent candidate.

As documented (ai.google.dev/gemini-api/docs/music-generation, read 2026-12-06, every revision):
* the models take text and images and answer with 44.1 kHz stereo MP3 plus the generated lyrics and song
  structure: a text part, then an `inlineData` part of mimeType `audio/mpeg`; the response always holds
  both (the older revision asked for responseModalities ["AUDIO", "TEXT"], which stays accepted);
* `lyria-3-clip-preview` always makes a 30-second clip; `lyria-3-pro-preview` and `lyria-3.5` make songs of
  "a couple of minutes", the length controllable through the prompt. The catalog holds each model's rule
  (`emulator.song`): `{"seconds": 30}`, or `{"defaultSeconds": 120, "maxSeconds": 180}` (three minutes
  being the longest song the Lyria 3 cookbook notebook names).
A length is read from the prompt as a stated duration ("a 2-minute song", "90 seconds", "two minutes") or,
failing that, from timestamped sections ("[0:00 - 0:30] Intro ... [2:00 - 2:30] Outro": the last end).
The lyrics are timed lines as the service writes them (the cookbook's recorded output: `[0.0:] line` ...
`[24.0:28.8] last line`, seconds from the start); an instrumental prompt gets its sections instead.

The models take no tools and no structured output (the models page: no function calling, no structured
outputs); such requests are refused with a 400 naming the field. The audio is counted at the Gemini API's
32 tokens a second, as speech output is.
"""
from __future__ import annotations

import base64
import random
import re
from typing import Any

from ..errors import invalid_argument
from . import song_audio
from .media import audio_tokens
from .text import ADJECTIVES, NOUNS, VERBS, keywords
from .tokens import count_text

BARS_PER_LINE = 2
BEATS_PER_BAR = 4
SECTIONS = ("Intro", "Verse", "Chorus", "Verse", "Chorus", "Bridge", "Chorus", "Outro")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "a couple of": 2}
_NUMBER = r"\b(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_MINUTES_RE = re.compile(_NUMBER + r"[\s-]*(?:minutes?|mins?)\b(?:[\s,]*(?:and\s+)?(\d+)[\s-]*(?:seconds?|secs?)\b)?",
                         re.IGNORECASE)
_SECONDS_RE = re.compile(_NUMBER + r"[\s-]*(?:seconds?|secs?)\b", re.IGNORECASE)
_SECTION_RE = re.compile(r"\[\s*(\d+):([0-5]\d)\s*[-\u2013]\s*(\d+):([0-5]\d)\s*\]")
_BPM_RE = re.compile(r"\b(\d{2,3})\s*bpm\b", re.IGNORECASE)
_INSTRUMENTAL_RE = re.compile(r"\binstrumental\b|\bno vocals\b|\bwithout vocals\b", re.IGNORECASE)
_STRUCTURED = ("responseMimeType", "responseSchema", "responseJsonSchema")
# Words of the brief itself, not of the song's subject: left out of the lyrics.
_BRIEF_WORDS = frozenset({"create", "make", "generate", "compose", "write", "song", "songs", "music", "track",
                          "clip", "piece", "minute", "minutes", "second", "seconds", "long", "about", "with"})


def is_song_model(model: dict[str, Any]) -> bool:
    return bool((model.get("emulator") or {}).get("song"))


def _number(text: str) -> float:
    lowered = text.lower()
    return float(_NUMBER_WORDS[lowered]) if lowered in _NUMBER_WORDS else float(text)


def stated_seconds(prompt: str) -> float | None:
    """The length the prompt asks for, in seconds, or None."""
    minutes = _MINUTES_RE.search(prompt)   # a song's length is said in minutes, an intro's in seconds
    if minutes:
        return _number(minutes.group(1)) * 60 + float(minutes.group(2) or 0)
    seconds = _SECONDS_RE.search(prompt)
    if seconds:
        return _number(seconds.group(1))
    ends = [int(m.group(3)) * 60 + int(m.group(4)) for m in _SECTION_RE.finditer(prompt)]
    return float(max(ends)) if ends else None


def duration(model: dict[str, Any], prompt: str) -> float:
    """The song's length in seconds under the model's rule."""
    rule = (model.get("emulator") or {}).get("song") or {}
    if rule.get("seconds"):
        return float(rule["seconds"])
    asked = stated_seconds(prompt)
    longest = float(rule.get("maxSeconds") or 180)
    if asked is None or asked <= 0:
        return min(float(rule.get("defaultSeconds") or 120), longest)
    return min(max(asked, 1.0), longest)


def tempo(prompt: str) -> int | None:
    """The tempo the prompt names ("85 BPM"), within what the synthesiser plays."""
    found = _BPM_RE.search(prompt)
    if not found:
        return None
    return max(song_audio.MIN_BPM, min(song_audio.MAX_BPM, int(found.group(1))))


def _line(rng: random.Random, hints: list[str]) -> str:
    words = [rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS), "the", rng.choice(NOUNS)]
    if hints:
        words[1] = rng.choice(hints).lower()
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:]


def lyrics(seconds: float, bpm: int, instrumental: bool, hints: list[str], rng: random.Random) -> str:
    """Timed lines, one every two bars: `[start:] text`, the last `[start:end] text`."""
    step = BARS_PER_LINE * BEATS_PER_BAR * 60 / bpm
    starts = [i * step for i in range(max(1, int(seconds // step)))]
    lines = []
    for n, start in enumerate(starts):
        text = f"({SECTIONS[min(n * len(SECTIONS) // len(starts), len(SECTIONS) - 1)]})" if instrumental \
            else _line(rng, hints)
        end = f"{min(start + step, seconds):.1f}" if n == len(starts) - 1 else ""
        lines.append(f"[{start:.1f}:{end}] {text}")
    return "\n".join(lines)


def check(model: dict[str, Any], request: dict[str, Any], modalities: frozenset[str]) -> None:
    """What the music models refuse: tools, structured output, an answer without audio."""
    if request.get("tools"):
        raise invalid_argument("tools are not supported by this model: a music model calls no tools.", "tools")
    config = request.get("generationConfig") or {}
    for key in _STRUCTURED:
        value = config.get(key)
        if value is not None and not (key == "responseMimeType" and str(value).lower() == "text/plain"):
            raise invalid_argument("Structured output is not supported by this model.", f"generationConfig.{key}")
    if "AUDIO" not in modalities:
        raise invalid_argument(f"{model.get('name')} generates music: responseModalities must include AUDIO.",
                               "generationConfig.responseModalities")


def subject_words(prompt: str) -> list[str]:
    """Up to three words of what the song is about (the prompt's content words, less the brief's own)."""
    return [w for w in keywords(prompt, 12) if w.lower() not in _BRIEF_WORDS and not w[0].isdigit()][:3]


def candidate(model: dict[str, Any], digest: bytes, index: int, prompt: str,
              modalities: frozenset[str], safety: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, int]]:
    """One candidate: the lyrics (when TEXT is asked for, as by default), then the MP3; and its tokens."""
    seed = digest + bytes([index])
    rng = random.Random(int.from_bytes(seed[:8], "little"))
    seconds = duration(model, prompt)
    asked_bpm = tempo(prompt)
    bpm = asked_bpm or rng.randint(80, 140)
    parts: list[dict[str, Any]] = []
    tokens = {"AUDIO": audio_tokens(seconds)}
    if "TEXT" in modalities:
        text = lyrics(seconds, bpm, bool(_INSTRUMENTAL_RE.search(prompt)), subject_words(prompt), rng)
        parts.append({"text": text})
        tokens["TEXT"] = count_text(text)
    audio = song_audio.song_mp3(seconds, seed, bpm)
    parts.append({"inlineData": {"mimeType": song_audio.MIME_TYPE, "data": base64.b64encode(audio).decode()}})
    content = {"parts": parts, "role": "model"}
    return {"content": content, "finishReason": "STOP", "index": index, "safetyRatings": safety}, tokens
