"""The audio of a generated song: 16-bit stereo PCM at 44.1 kHz, encoded as constant-bit-rate MP3.

The Lyria 3 models answer with 44.1 kHz stereo MP3 (ai.google.dev/gemini-api/docs/music-generation, read
2026-12-06). The bit rate is not documented; 128 kbit/s is a common CBR rate. The emulator plays a real,
deterministic tune: a four-chord progression with a bass note per bar and a melody note per beat, the key,
chords and melody drawn from the seed, the tempo from the caller (the prompt's BPM) or the seed.
Each distinct beat is synthesised once and repeated, so a three-minute song costs a few dozen beats of
arithmetic plus the encoder's pass (LAME through `lameenc`).
"""
from __future__ import annotations

import array
import math
import random

import lameenc

SAMPLE_RATE = 44100
CHANNELS = 2
BIT_RATE_KBPS = 128
MIME_TYPE = "audio/mpeg"
MIN_BPM, MAX_BPM = 60, 180

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 4), (5, 3, 0, 4))   # scale degrees: I-V-vi-IV, ...


def _frequency(root_midi: int, degree: int, octave: int = 0) -> float:
    step = _MAJOR[degree % 7] + 12 * (degree // 7 + octave)
    return float(440.0 * 2 ** ((root_midi + step - 69) / 12))


def _tone(frequency: float, samples: int, amplitude: float) -> list[float]:
    """A sine tone that fades out over its last fifth (no click between beats)."""
    period = max(2, round(SAMPLE_RATE / frequency))
    cycle = [amplitude * math.sin(2 * math.pi * i / period) for i in range(period)]
    tone = (cycle * (samples // period + 1))[:samples]
    fade = max(1, samples // 5)
    for i in range(fade):
        tone[samples - fade + i] *= 1 - i / fade
    return tone


def _beat(melody: float, bass: float, samples: int) -> bytes:
    """One beat, interleaved stereo: the melody leans left, the bass right."""
    high = _tone(melody, samples, 7000.0)
    low = _tone(bass, samples, 5000.0)
    out = array.array("h", bytes(4 * samples))
    out[0::2] = array.array("h", (int(h + 0.4 * b) for h, b in zip(high, low)))
    out[1::2] = array.array("h", (int(0.4 * h + b) for h, b in zip(high, low)))
    return out.tobytes()


def pcm(seconds: float, seed: bytes, bpm: int | None = None) -> bytes:
    """`seconds` of interleaved little-endian 16-bit stereo PCM; the same seed gives the same samples."""
    rng = random.Random(int.from_bytes(seed[:8], "little"))
    tempo = bpm if bpm is not None else rng.randint(80, 140)
    root = 57 + rng.randrange(12)   # A3 .. G#4
    progression = rng.choice(_PROGRESSIONS)
    beat_samples = round(SAMPLE_RATE * 60 / max(MIN_BPM, min(MAX_BPM, tempo)))
    total = round(seconds * SAMPLE_RATE)
    beats: dict[tuple[int, int], bytes] = {}
    chunks: list[bytes] = []
    made, index = 0, 0
    while made < total:
        chord = progression[(index // 4) % len(progression)]
        note = chord + rng.choice((0, 2, 4, 7))   # a chord tone, or the octave
        key = (note, chord)
        if key not in beats:
            beats[key] = _beat(_frequency(root, note), _frequency(root, chord, octave=-2), beat_samples)
        chunks.append(beats[key])
        made += beat_samples
        index += 1
    return b"".join(chunks)[:total * 2 * CHANNELS]


def encode_mp3(samples: bytes) -> bytes:
    """MPEG-1 Layer III at 44.1 kHz stereo, constant bit rate."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BIT_RATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(CHANNELS)
    encoder.set_quality(7)   # LAME's fast mode: the tune is simple and the answer must come quickly
    return bytes(encoder.encode(samples) + encoder.flush())


def song_mp3(seconds: float, seed: bytes, bpm: int | None = None) -> bytes:
    return encode_mp3(pcm(seconds, seed, bpm))
