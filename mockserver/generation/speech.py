"""Speech output of the TTS models: deterministic 16-bit mono PCM at 24 kHz, one tone per spoken word.

As documented (ai.google.dev/gemini-api/docs/speech-generation, read 2026-12): the answer is an
`inlineData` part with mimeType `audio/L16;codec=pcm;rate=24000` holding raw little-endian 16-bit mono
PCM (the docs' sample wraps it in a WAV header itself: 1 channel, sample width 2, rate 24000); the
voice comes from `speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName`, or per speaker from
`speechConfig.multiSpeakerVoiceConfig.speakerVoiceConfigs[]` (two speakers); audio output is billed at
32 tokens per second, like audio input.

The Gemini 3.8 TTS models (catalog `speechContainer: "wav"`) answer generateContent with a whole WAV file
instead, mimeType `audio/wav` (RIFF header, 24 kHz, mono, 16-bit), while streamGenerateContent still
carries raw PCM (google-gemini/cookbook quickstarts/Get_started_TTS.ipynb, read 2026-12-06).

The length follows the text spoken: 0.35 s a word (about 170 words a minute) after a 0.25 s lead-in;
in a dialogue the `Speaker:` labels are not spoken.
"""
from __future__ import annotations

import base64
import hashlib
import io
import math
import re
import struct
import wave
from typing import Any

from ..errors import invalid_argument
from .media import audio_tokens

SAMPLE_RATE = 24000
MIME_TYPE = f"audio/L16;codec=pcm;rate={SAMPLE_RATE}"
WAV_MIME_TYPE = "audio/wav"
SECONDS_PER_WORD = 0.35
LEAD_SECONDS = 0.25
SPEAKERS = 2

# The 30 prebuilt voices of the speech generation guide, with the character the guide gives each.
VOICES = {
    "Zephyr": "Bright", "Puck": "Upbeat", "Charon": "Informative", "Kore": "Firm", "Fenrir": "Excitable",
    "Leda": "Youthful", "Orus": "Firm", "Aoede": "Breezy", "Callirrhoe": "Easy-going", "Autonoe": "Bright",
    "Enceladus": "Breathy", "Iapetus": "Clear", "Umbriel": "Easy-going", "Algieba": "Smooth",
    "Despina": "Smooth", "Erinome": "Clear", "Algenib": "Gravelly", "Rasalgethi": "Informative",
    "Laomedeia": "Upbeat", "Achernar": "Soft", "Alnilam": "Firm", "Schedar": "Even", "Gacrux": "Mature",
    "Pulcherrima": "Forward", "Achird": "Friendly", "Zubenelgenubi": "Casual", "Vindemiatrix": "Gentle",
    "Sadachbia": "Lively", "Sadaltager": "Knowledgeable", "Sulafat": "Warm",
}
DEFAULT_VOICE = "Zephyr"
_BY_LOWER = {name.lower(): name for name in VOICES}
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _voice_name(voice_config: object, field: str) -> str:
    if voice_config is None:
        return DEFAULT_VOICE
    if not isinstance(voice_config, dict):
        raise invalid_argument(f"{field} must be an object.", field)
    prebuilt = voice_config.get("prebuiltVoiceConfig") or {}
    name = prebuilt.get("voiceName") if isinstance(prebuilt, dict) else None
    if name is None:
        return DEFAULT_VOICE
    voice = _BY_LOWER.get(str(name).lower())
    if voice is None:
        raise invalid_argument(f"Voice name {name!r} is not supported. Supported voices are: "
                               f"{', '.join(VOICES)}.", f"{field}.prebuiltVoiceConfig.voiceName")
    return voice


def voices_for(speech_config: object) -> dict[str | None, str]:
    """{speaker name (None for a single voice): voice name}; 400 naming the field when invalid."""
    field = "generationConfig.speechConfig"
    if speech_config is None:
        return {None: DEFAULT_VOICE}
    if not isinstance(speech_config, dict):
        raise invalid_argument("speechConfig must be an object.", field)
    multi = speech_config.get("multiSpeakerVoiceConfig")
    if multi is not None and speech_config.get("voiceConfig") is not None:
        raise invalid_argument("voiceConfig and multiSpeakerVoiceConfig cannot both be set.",
                               f"{field}.multiSpeakerVoiceConfig")
    if multi is None:
        return {None: _voice_name(speech_config.get("voiceConfig"), f"{field}.voiceConfig")}
    where = f"{field}.multiSpeakerVoiceConfig.speakerVoiceConfigs"
    speakers = (multi or {}).get("speakerVoiceConfigs") if isinstance(multi, dict) else None
    if not isinstance(speakers, list) or len(speakers) != SPEAKERS:
        raise invalid_argument(f"Multi-speaker speech needs exactly {SPEAKERS} speakerVoiceConfigs, got "
                               f"{len(speakers) if isinstance(speakers, list) else 0}.", where)
    voices: dict[str | None, str] = {}
    for i, item in enumerate(speakers):
        speaker = (item or {}).get("speaker") if isinstance(item, dict) else None
        if not speaker:
            raise invalid_argument(f"{where}[{i}].speaker must name the speaker.", f"{where}[{i}].speaker")
        if speaker in voices:
            raise invalid_argument(f"Speaker {speaker!r} is configured twice.", f"{where}[{i}].speaker")
        voices[speaker] = _voice_name(item.get("voiceConfig"), f"{where}[{i}].voiceConfig")
    return voices


def _turns(text: str, voices: dict[str | None, str]) -> list[tuple[str, list[str]]]:
    """(voice, words) per stretch of speech: `Name: line` lines go to that speaker's voice."""
    single = voices.get(None)
    turns: list[tuple[str, list[str]]] = []
    current = single or next(iter(voices.values()))
    for line in text.splitlines() or [text]:
        name, sep, rest = line.partition(":")
        if single is None and sep and name.strip() in voices:
            current, line = voices[name.strip()], rest
        words = _WORD_RE.findall(line)
        if words:
            turns.append((current, words))
    return turns


def pcm(text: str, voices: dict[str | None, str], seed: bytes) -> bytes:
    """The PCM samples: a lead-in of silence, then per word a tone whose pitch comes from the voice and the
    word (so the same text in the same voice is the same audio), with a short gap after it."""
    word_samples = int(SAMPLE_RATE * SECONDS_PER_WORD)
    tone_samples = word_samples * 4 // 5
    out = [b"\x00\x00" * int(SAMPLE_RATE * LEAD_SECONDS)]
    turns = _turns(text, voices) or [(next(iter(voices.values())), ["..."])]
    for voice, words in turns:
        base = 110 + 7 * list(VOICES).index(voice)   # 110-313 Hz: each voice its own pitch
        for word in words:
            digest = hashlib.blake2b(seed + word.lower().encode(), digest_size=2).digest()
            frequency = base * (1 + digest[0] / 512)
            period = max(2, round(SAMPLE_RATE / frequency))
            cycle = struct.pack(f"<{period}h", *(int(8000 * math.sin(2 * math.pi * i / period))
                                                 for i in range(period)))
            tone = (cycle * (tone_samples // period + 1))[:tone_samples * 2]
            out.append(tone + b"\x00\x00" * (word_samples - tone_samples))
    return b"".join(out)


def wav_file(samples: bytes) -> bytes:
    """The PCM samples in a WAV (RIFF) container: mono, 16-bit, 24 kHz."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples)
    return out.getvalue()


def speech_part(text: str, voices: dict[str | None, str], seed: bytes, *,
                wav: bool = False) -> tuple[dict[str, Any], int]:
    """(the `inlineData` part, its output tokens at 32 a second): raw PCM, or with `wav` a WAV file."""
    samples = pcm(text, voices, seed)
    seconds = len(samples) / 2 / SAMPLE_RATE
    data, mime = (wav_file(samples), WAV_MIME_TYPE) if wav else (samples, MIME_TYPE)
    part = {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}
    return part, audio_tokens(seconds)
