"""Live music generation (Lyria RealTime): the session behind a BidiGenerateMusic WebSocket, as plain Python.

`MusicSession.handle(kind, body)` takes one client message and returns the server messages it causes;
`next_chunk()` gives the next audio chunk while `playing`. The endpoint (endpoint.py) sends the chunks at
the configured speed. Errors are ApiErrors, which the endpoint turns into a close frame naming the field.

The wire, from the SDKs (google/genai/live_music.py and types.py LiveMusic*; @google/genai's
LiveMusic / LiveMusicSession):

* client messages are JSON objects with one of `setup` (`{"model": "models/lyria-realtime-exp"}`, first
  and once, answered by `{"setupComplete": {}}`), `clientContent` (`{"weightedPrompts": [{"text",
  "weight"}]}`), `musicGenerationConfig` (at the top level of the message, not inside clientContent) and
  `playbackControl` (`"PLAY"`, `"PAUSE"`, `"STOP"`, `"RESET_CONTEXT"`). google-genai converts keys to
  camelCase; proto3 JSON takes snake_case too, so both spellings are read.
* server messages: `setupComplete`, `serverContent.audioChunks[]` (`data` base64, `mimeType`,
  `sourceMetadata` with the `clientContent` and `musicGenerationConfig` the chunk was made from) and
  `filteredPrompt`.
* prompts and config replace the previous ones (@google/genai: "Updates the session's current weighted
  prompts"; "Passing an empty or undefined config ... will reset the config to defaults"). Weights are
  normalised and must not be 0 (types.WeightedPrompt). The config ranges are those of
  types.LiveMusicGenerationConfig's field docs.
* `filteredPrompt` (`{"text", "filteredReason"}`) tells that a prompt was refused. The emulator refuses
  none by itself: a scripted error rule (rules.py; method `bidiGenerateMusic`, `prompt` matched against
  each prompt's text) filters the prompts it matches, with the rule's message as the reason. A filtered
  prompt is left out of the prompts in effect; when none is left, the previous prompts stay.
* playback (types.LiveMusicPlaybackControl): PLAY starts or resumes from the current position; PAUSE holds
  it; STOP stops and resets the context, keeping prompts and config; RESET_CONTEXT resets the context
  without stopping.

The audio is raw 16-bit little-endian PCM, 48 kHz, stereo (ai.google.dev/gemini-api/docs/music-generation;
magenta.tensorflow.org/lyria-realtime: "a continuous stream of 48kHz stereo music"), in 2-second chunks
(the Lyria RealTime developer guide on dev.to/googleai: "It generates audio in 2-second chunks"). The
emulator does not compose: each beat is a tone whose pitch, timbre and length follow a hash of the
normalised prompts, the config and the beat's position, on the beat grid of the bpm, with a drum thump
and bass notes unless muted. Same prompts and config give the same bytes; any change gives other bytes.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, invalid_argument
from .session import live_model

if TYPE_CHECKING:
    from ..auth import Identity
    from ..store import Store

MUSIC_METHOD = "bidiGenerateMusic"
RATE = 48_000
CHANNELS = 2
FRAME_BYTES = 2 * CHANNELS
CHUNK_SECONDS = 2.0
CHUNK_FRAMES = int(RATE * CHUNK_SECONDS)
# The label the service gives its chunks. Neither SDK nor the docs spell it; public client code written
# against the real service reads "audio/l16;rate=48000;channels=2". The samples are little-endian, as the
# Gemini API's raw PCM is everywhere else (protocol.py), whatever RFC 2586 says of L16.
MIME_TYPE = f"audio/l16;rate={RATE};channels={CHANNELS}"
DEFAULT_BPM = 120          # the emulator's tempo when the config sets none (the service picks its own)

KINDS = {"setup": "setup", "clientContent": "clientContent", "client_content": "clientContent",
         "musicGenerationConfig": "musicGenerationConfig", "music_generation_config": "musicGenerationConfig",
         "playbackControl": "playbackControl", "playback_control": "playbackControl"}
CONTROLS = ("PLAY", "PAUSE", "STOP", "RESET_CONTEXT")
SCALES = ("C_MAJOR_A_MINOR", "D_FLAT_MAJOR_B_FLAT_MINOR", "D_MAJOR_B_MINOR", "E_FLAT_MAJOR_C_MINOR",
          "E_MAJOR_D_FLAT_MINOR", "F_MAJOR_D_MINOR", "G_FLAT_MAJOR_E_FLAT_MINOR", "G_MAJOR_E_MINOR",
          "A_FLAT_MAJOR_F_MINOR", "A_MAJOR_G_FLAT_MINOR", "B_FLAT_MAJOR_G_MINOR", "B_MAJOR_A_FLAT_MINOR")
MODES = ("MUSIC_GENERATION_MODE_UNSPECIFIED", "QUALITY", "DIVERSITY", "VOCALIZATION")
# name: (kind, low, high) of types.LiveMusicGenerationConfig
NUMBERS: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 3.0), "topK": (int, 1, 1000), "guidance": (float, 0.0, 6.0),
    "bpm": (int, 60, 200), "density": (float, 0.0, 1.0), "brightness": (float, 0.0, 1.0),
    "seed": (int, -2**31, 2**31 - 1)}
FLAGS = ("muteBass", "muteDrums", "onlyBassAndDrums")
ENUMS = {"scale": ("SCALE_UNSPECIFIED", *SCALES), "musicGenerationMode": MODES}
MAJOR = (0, 2, 4, 5, 7, 9, 11)
AMPLITUDE = 6000
DRUM_FRAMES = RATE // 40   # a 25 ms thump at each beat


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def read_music_message(message: Any) -> tuple[str, Any]:
    """(kind, body) of one client message (a parsed JSON value); a 400 naming what is wrong otherwise."""
    if not isinstance(message, dict):
        raise invalid_argument("Invalid JSON payload received. A Live music message must be a JSON object.")
    unknown = [key for key in message if key not in KINDS]
    if unknown:
        raise invalid_argument(f'Invalid JSON payload received. Unknown name "{unknown[0][:60]}": Cannot find '
                               "field.", unknown[0][:60])
    kinds = sorted({KINDS[key] for key in message})
    if len(kinds) != 1 or len(message) != 1:
        raise invalid_argument("A Live music message carries exactly one of setup, clientContent, "
                               f"musicGenerationConfig and playbackControl; this one has {', '.join(kinds) or 'none'}.")
    return kinds[0], next(iter(message.values()))


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_argument(f"Invalid value at '{where}': an object is expected.", where)
    return {_camel(key): item for key, item in value.items() if item is not None}


def check_config(value: Any) -> dict[str, Any]:
    """A musicGenerationConfig, camelCase, every field in its documented range (400 naming the field)."""
    config = _object(value, "musicGenerationConfig")
    for name, item in config.items():
        where = f"musicGenerationConfig.{name}"
        if name in NUMBERS:
            kind, low, high = NUMBERS[name]
            number = isinstance(item, (int, float)) and not isinstance(item, bool)
            if kind is int and number and float(item).is_integer():
                item = config[name] = int(item)
            if not number or (kind is int and not isinstance(item, int)) or not low <= item <= high:
                what = "an integer" if kind is int else "a number"
                raise invalid_argument(f"{where} must be {what} from {low:g} to {high:g}; got {item!r}.", where)
        elif name in FLAGS:
            if not isinstance(item, bool):
                raise invalid_argument(f"{where} must be true or false; got {item!r}.", where)
        elif name in ENUMS:
            if not isinstance(item, str) or item.upper() not in ENUMS[name]:
                raise invalid_argument(f"Invalid value at '{where}' ({str(item)[:40]!r}): one of "
                                       f"{', '.join(ENUMS[name][:3])}, ... is expected.", where)
            config[name] = item.upper()
        else:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{name[:60]}" at '
                                   "'musicGenerationConfig': Cannot find field.", where[:100])
    return config


def check_prompts(value: Any) -> list[dict[str, Any]]:
    """clientContent's weightedPrompts: at least one, each with text and a weight other than 0."""
    content = _object(value, "clientContent")
    unknown = [key for key in content if key != "weightedPrompts"]
    if unknown:
        raise invalid_argument(f'Invalid JSON payload received. Unknown name "{unknown[0][:60]}" at '
                               "'clientContent': Cannot find field.", f"clientContent.{unknown[0][:60]}")
    prompts = content.get("weightedPrompts")
    if not isinstance(prompts, list) or not prompts:
        raise invalid_argument("clientContent.weightedPrompts must hold at least one prompt.",
                               "clientContent.weightedPrompts")
    out = []
    for index, raw in enumerate(prompts):
        where = f"clientContent.weightedPrompts[{index}]"
        prompt = _object(raw, where)
        text, weight = prompt.get("text"), prompt.get("weight", 1.0)
        if set(prompt) - {"text", "weight"}:
            extra = sorted(set(prompt) - {"text", "weight"})[0][:60]
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{extra}" at \'{where}\': '
                                   "Cannot find field.", f"{where}.{extra}")
        if not isinstance(text, str) or not text.strip():
            raise invalid_argument(f"{where}.text is required.", f"{where}.text")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight == 0:
            raise invalid_argument(f"{where}.weight must be a number other than 0; got {weight!r}.", f"{where}.weight")
        out.append({"text": text, "weight": float(weight)})
    return out


@dataclass
class MusicSession:
    store: Store
    project: str
    version: str
    identity: Identity | None = None
    model: dict[str, Any] | None = None
    prompts: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    state: str = "STOPPED"          # STOPPED | PLAYING | PAUSED
    position: int = 0               # frames generated since the context was last reset
    chunks: int = 0                 # audio chunks sent in the session

    @property
    def playing(self) -> bool:
        """Whether audio flows: PLAY was asked and there is something to play (the emulator waits for
        prompts rather than refusing a PLAY that comes first)."""
        return self.state == "PLAYING" and bool(self.prompts)

    def handle(self, kind: str, body: Any) -> list[dict[str, Any]]:
        if kind == "setup":
            return self._setup(body)
        if self.model is None:
            raise invalid_argument(f"The first message of a Live music session must be setup; got {kind}.", kind)
        if kind == "clientContent":
            return self._prompts(check_prompts(body))
        if kind == "musicGenerationConfig":
            self.config = check_config(body)
        else:
            self._control(body)
        return []

    def _setup(self, body: Any) -> list[dict[str, Any]]:
        if self.model is not None:
            raise invalid_argument("setup may be sent only once, as the first message of the session.", "setup")
        setup = _object(body, "setup")
        extra = [key for key in setup if key != "model"]
        if extra:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{extra[0][:60]}" at \'setup\': '
                                   "Cannot find field.", f"setup.{extra[0][:60]}")
        if not isinstance(setup.get("model"), str) or not setup["model"]:
            raise invalid_argument("setup.model is required.", "setup.model")
        self.model = live_model(self.store, setup["model"], self.version, MUSIC_METHOD)
        return [{"setupComplete": {}}]

    def _prompts(self, prompts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept, out = [], []
        for prompt in prompts:
            request = {"contents": [{"role": "user", "parts": [{"text": prompt["text"]}]}]}
            try:
                self.store.rules.answer_for(self.identity, self.model, request, MUSIC_METHOD)
            except ApiError as refused:
                out.append({"filteredPrompt": {"text": prompt["text"], "filteredReason": refused.message}})
            else:
                kept.append(prompt)
        if kept:
            self.prompts = kept
        return out

    def _control(self, value: Any) -> None:
        control = value.upper() if isinstance(value, str) else value
        if control not in CONTROLS:
            raise invalid_argument(f"Invalid value at 'playbackControl' ({str(value)[:40]!r}): one of "
                                   f"{', '.join(CONTROLS)} is expected.", "playbackControl")
        if control in ("STOP", "RESET_CONTEXT"):
            self.position = 0
        if control != "RESET_CONTEXT":
            self.state = {"PLAY": "PLAYING", "PAUSE": "PAUSED", "STOP": "STOPPED"}[control]

    # -- audio ---------------------------------------------------------------------------------------
    def next_chunk(self) -> dict[str, Any]:
        """The next CHUNK_SECONDS of music as a serverContent message."""
        if not self.playing:
            raise ApiError(500, "INTERNAL", "No audio is generated while the session is not playing.")
        pcm = render(self.prompts, self.config, self.store.seed, self.position, CHUNK_FRAMES)
        self.position += CHUNK_FRAMES
        self.chunks += 1
        metadata: dict[str, Any] = {"clientContent": {"weightedPrompts": [dict(p) for p in self.prompts]}}
        if self.config:
            metadata["musicGenerationConfig"] = dict(self.config)
        return {"serverContent": {"audioChunks": [{"data": base64.b64encode(pcm).decode("ascii"),
                                                   "mimeType": MIME_TYPE, "sourceMetadata": metadata}]}}


# -- the fake music ---------------------------------------------------------------------------------------

def music_key(prompts: list[dict[str, Any]], config: dict[str, Any], seed: int) -> bytes:
    """What the sound follows: the prompts with their weights normalised, the config, the seed."""
    total = sum(abs(p["weight"]) for p in prompts) or 1.0
    steering = sorted((p["text"], round(p["weight"] / total, 6)) for p in prompts)
    shape = {key: value for key, value in sorted(config.items()) if key != "bpm"}
    text = json.dumps([steering, shape, config.get("seed", seed)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).digest()


def render(prompts: list[dict[str, Any]], config: dict[str, Any], seed: int, start: int, frames: int) -> bytes:
    """`frames` stereo frames of 16-bit PCM from frame `start` of the context (beats on the bpm's grid)."""
    key = music_key(prompts, config, seed)
    beat_frames = round(RATE * 60 / int(config.get("bpm", DEFAULT_BPM)))
    first, offset = divmod(start, beat_frames)
    out = bytearray()
    beat = first
    while len(out) < (offset + frames) * FRAME_BYTES:
        out += _beat(key, config, beat, beat_frames)
        beat += 1
    return bytes(out[offset * FRAME_BYTES:(offset + frames) * FRAME_BYTES])


def _beat(key: bytes, config: dict[str, Any], index: int, frames: int) -> bytes:
    digest = hashlib.sha256(key + index.to_bytes(8, "little", signed=True)).digest()
    scale = config.get("scale", "SCALE_UNSPECIFIED")
    root = SCALES.index(scale) if scale in SCALES else key[0] % 12
    bass = bool(config.get("onlyBassAndDrums")) or (index % 2 == 0 and not config.get("muteBass"))
    if config.get("onlyBassAndDrums") and config.get("muteBass"):
        tone = b""
    else:
        note = (36 if bass else 60) + root + MAJOR[digest[0] % 7] + (0 if bass else 12 * (digest[1] % 2))
        frequency = 440.0 * 2 ** ((note - 69) / 12)
        density = float(config.get("density", 0.5))
        sounding = int(frames * (0.2 + 0.75 * density) * (0.8 + 0.2 * digest[2] / 255))
        tone = _repeat(_period(frequency, float(config.get("brightness", 0.5)), digest[3] / 255), sounding)
    if not config.get("muteDrums"):
        thump = _repeat(_period(55.0, 1.0, 0.5, AMPLITUDE * 3 // 2), min(DRUM_FRAMES, frames))
        tone = thump + tone[len(thump):]
    tone = tone[:frames * FRAME_BYTES]
    return tone + bytes(frames * FRAME_BYTES - len(tone))


def _period(frequency: float, brightness: float, pan: float, amplitude: int = AMPLITUDE) -> bytes:
    """One period of a tone, stereo: a square wave (bright) blended with a triangle (dark), panned."""
    length = max(2, round(RATE / frequency))
    left, right = amplitude * (1.2 - 0.4 * pan), amplitude * (0.8 + 0.4 * pan)
    out = bytearray()
    for i in range(length):
        phase = i / length
        square = 1.0 if phase < 0.5 else -1.0
        triangle = 1.0 - 4.0 * abs(phase - 0.5)
        value = brightness * square + (1.0 - brightness) * triangle
        out += int(value * left).to_bytes(2, "little", signed=True)
        out += int(value * right).to_bytes(2, "little", signed=True)
    return bytes(out)


def _repeat(period: bytes, frames: int) -> bytes:
    whole, rest = divmod(frames * FRAME_BYTES, len(period))
    return period * whole + period[:rest]
