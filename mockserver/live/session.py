"""One Live API session: the conversation behind a BidiGenerateContent WebSocket, as plain Python.

`LiveSession.handle(kind, body)` takes one normalised client message and returns the server messages it
causes (camelCase dicts, in order); errors are ApiErrors, which the endpoint turns into a close frame.

What the session does, following the Live API pages (ai.google.dev/gemini-api/docs/live,
/live-guide, /live-tools, /live-session):

* `setup` first and once: the model must be a Live model of the catalog (`bidiGenerateContent` among its
  methods); `generationConfig.responseModalities` takes one modality the model answers in
  (`emulator.liveModalities`; AUDIO when not said and the model speaks). Answered by `setupComplete`.
* `clientContent` turns are added to the conversation; `turnComplete: true` asks for an answer.
* `realtimeInput`: `audio` (16-bit PCM, 16 kHz by default) and `video` frames gather into the next user
  turn; `text` is a turn of its own and is answered at once. With automatic activity detection (the
  default) the gathered audio is answered at `audioStreamEnd` (the emulator does not listen for silence);
  with it disabled, at `activityEnd` (`activityStart` / `activityEnd` are refused otherwise, as documented).
  Audio counts 32 tokens per second, through the same counting as generateContent.
* The answer is the engine's generateContent answer to the conversation so far, so the text (or the
  spoken answer's transcript) is the one generateContent gives for the same prompt. TEXT: `modelTurn`
  text parts streamed in pieces. AUDIO: `modelTurn` inlineData parts of 24 kHz PCM, as long as the text
  takes to say (SPOKEN_TOKENS_PER_SECOND), with `outputTranscription` pieces when enabled. Then
  `generationComplete`, then `turnComplete` with `usageMetadata` (charged in the usage ledger: input
  tokens, and output tokens at the model's audio price when spoken). `inputTranscription` comes first when
  enabled and the turn had audio (a deterministic transcript: the emulator does not recognise speech).
* A function call is a `toolCall` (each call with an `id`); the client's `toolResponse` continues the
  turn. New input while calls are pending cancels them (`toolCallCancellation`).
* Interruption: when answers are paced (pacing.py), a turn takes time to deliver, and new user input
  meanwhile (`clientContent`; `realtimeInput` audio, video or text, or `activityStart` with manual
  activity detection) interrupts it: the endpoint stops sending, the conversation keeps only what was
  sent (`interrupt`), and the turn ends with `interrupted`, then `turnComplete` (no `generationComplete`,
  as the SDKs' LiveServerContent documents). Unpaced answers are sent whole before the next input is read.
* `sessionResumption` in the setup: a `sessionResumptionUpdate` with a new handle after `setupComplete`
  and after every turn; a later setup with that handle resumes the conversation (within
  RESUMPTION_SECONDS, on the same project). `contextWindowCompression` is accepted; with it the session
  has no duration limit.
* Session limits, by the emulator's clock: a connection lasts CONNECTION_SECONDS; GO_AWAY_SECONDS before
  that the next answer is preceded by `goAway` with the time left, and after it the session ends.
"""
from __future__ import annotations

import copy
import hashlib
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, invalid_argument
from ..generation import engine, transcription
from ..generation.validation import plan_request
from ..generation.counting import decode_base64
from ..generation.media import audio_tokens
from ..generation.text import pseudo_words
from ..generation.tokens import count_text, split_text
from ..wire import format_duration
from . import protocol

if TYPE_CHECKING:
    from ..auth import Identity
    from ..store import Store

LIVE_METHOD = "bidiGenerateContent"
# Connection lifetime and the goAway notice before it (ai.google.dev/gemini-api/docs/live-session:
# "the lifetime of a connection is limited to around 10 minutes"; GoAway tells the time left).
CONNECTION_SECONDS = 600
GO_AWAY_SECONDS = 60
RESUMPTION_SECONDS = 2 * 3600        # live-session page: handles stay valid 2 hours after the session ends
SPOKEN_TOKENS_PER_SECOND = 3.25      # about 150 words a minute
AUDIO_CHUNK_SECONDS = 0.5
TEXT_PIECES_PER_CHUNK = 12
# generationConfig fields that shape the voice, not the words: left out of the engine's request.
SPEECH_ONLY = ("responseModalities", "speechConfig", "mediaResolution", "enableAffectiveDialog")


@dataclass
class _Speaking:
    """A model turn as it is delivered: its text, the text each of its modelTurn messages carries (in order),
    the engine's answer, and where the turn sits in the conversation."""
    text: str
    pieces: list[str]
    response: dict[str, Any]
    at: int


class SessionEnded(Exception):
    """The session reached its time limit: the endpoint closes normally with this reason."""


# -- resumption handles: a backend of their own ------------------------------------------------------

@dataclass
class _Saved:
    project: str
    model: str
    history: list[Any]
    expires: float


class Resumptions:
    """Session resumption handles: handle -> the conversation at that point, per project."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._saved: dict[str, _Saved] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._saved.clear()

    def save(self, project: str, model: str, history: list[Any]) -> str:
        handle = self._store.new_id(project, "live-handle", 24)
        now = self._store.now()
        with self._lock:
            self._saved = {key: item for key, item in self._saved.items() if item.expires > now}
            self._saved[handle] = _Saved(project, model, copy.deepcopy(history), now + RESUMPTION_SECONDS)
        return handle

    def load(self, project: str, model: str, handle: str) -> list[Any]:
        with self._lock:
            saved = self._saved.get(handle)
        if saved is None or saved.project != project or saved.model != model or saved.expires <= self._store.now():
            raise invalid_argument(f"Invalid session resumption handle {handle[:64]!r}: it is unknown, expired, or "
                                   "of another model.", "setup.sessionResumption.handle")
        return copy.deepcopy(saved.history)


# -- the session -------------------------------------------------------------------------------------

def live_model(store: Store, name: str, version: str, method: str = LIVE_METHOD) -> dict[str, Any]:
    """The catalog entry of a model offering `method` (a Live model by default, or the music model), or the
    real service's refusal for any other name."""
    name = name if name.startswith("models/") else f"models/{name}"
    model = store.models.find(name)
    if model is None or method not in model.get("supportedGenerationMethods", ()):
        raise ApiError(404, "NOT_FOUND", f"{name} is not found for API version {version}, or is not supported "
                                         f"for {method}. Call ListModels to see the list of available models "
                                         "and their supported methods.")
    return model


def _modality(model: dict[str, Any], config: dict[str, Any]) -> str:
    spoken: list[str] = list(model.get("emulator", {}).get("liveModalities") or ["AUDIO"])
    asked: list[str] = config.get("responseModalities") or []
    if not asked:
        return "AUDIO" if "AUDIO" in spoken else spoken[0]
    if len(asked) != 1:
        raise invalid_argument("A Live session answers in one modality: give one of responseModalities.",
                               "setup.generationConfig.responseModalities")
    if asked[0] not in spoken:
        raise invalid_argument(f"{model['name']} does not support response modality {asked[0]} in the Live API; "
                               f"it answers in {', '.join(spoken)}.", "setup.generationConfig.responseModalities")
    return asked[0]


@dataclass
class LiveSession:
    store: Store
    project: str
    version: str
    identity: Identity | None = None
    constraints: dict[str, Any] | None = None   # an ephemeral token's locked setup (tokens.locked_setup)
    started: float = 0.0
    model: dict[str, Any] | None = None
    modality: str = "AUDIO"
    request: dict[str, Any] = field(default_factory=dict)   # systemInstruction, tools, generationConfig for the engine
    history: list[Any] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)   # the setup as accepted
    manual_activity: bool = False
    in_activity: bool = False
    pending_parts: list[Any] = field(default_factory=list)
    pending_audio: bytearray = field(default_factory=bytearray)
    audio_rate: int = protocol.INPUT_RATE
    pending_calls: dict[str, Any] = field(default_factory=dict)
    warned: bool = False
    turns: int = 0
    speaking: _Speaking | None = None   # the model turn last answered, as its messages carry it
    listening: transcription.Options | None = None   # a live transcription model's settings (it only listens)
    utterance_seed: int = 0             # the words of the utterance being heard come from it
    interim_words: int = 0              # how many words the last interim transcript held

    def __post_init__(self) -> None:
        self.started = self.store.now()

    # -- dispatch ----------------------------------------------------------------------------------
    def handle(self, kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        if kind == "setup":
            return self._setup(body)
        if self.model is None:
            raise invalid_argument(f"The first message of a Live session must be setup; got {kind}.", kind)
        out = self._clock()
        if kind == "clientContent":
            out += self._client_content(body)
        elif kind == "realtimeInput":
            out += self._realtime_input(body)
        else:
            out += self._tool_response(body)
        return out

    def _clock(self) -> list[dict[str, Any]]:
        if "contextWindowCompression" in self.options:
            return []
        left = self.started + CONNECTION_SECONDS - self.store.now()
        if left <= 0:
            raise SessionEnded("The session reached its time limit.")
        if left <= GO_AWAY_SECONDS and not self.warned:
            self.warned = True
            return [self.go_away(left)]
        return []

    @staticmethod
    def go_away(seconds: float) -> dict[str, Any]:
        return {"goAway": {"timeLeft": format_duration(round(max(seconds, 0.0), 3))}}

    # -- setup -------------------------------------------------------------------------------------
    def _setup(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        if self.model is not None:
            raise invalid_argument("setup may be sent only once, as the first message of the session.", "setup")
        if self.constraints is not None:
            body = _constrained(body, self.constraints)
        if not body.get("model"):
            raise invalid_argument("setup.model is required.", "setup.model")
        model = live_model(self.store, body["model"], self.version)
        config = dict(body.get("generationConfig") or {})
        self.modality = _modality(model, config)
        self.request = {key: body[key] for key in ("systemInstruction", "tools") if body.get(key)}
        engine_config = {key: value for key, value in config.items() if key not in SPEECH_ONLY}
        if engine_config:
            self.request["generationConfig"] = engine_config
        self.model = model
        # the engine answers as this model would answer generateContent (it offers only the Live method), in
        # text: that text is the transcript, which the session itself speaks when the modality is AUDIO
        self._engine_model = {**model, "supportedGenerationMethods": [*model["supportedGenerationMethods"],
                                                                      "generateContent"],
                              "emulator": {**model.get("emulator", {}), "responseModalities": ["TEXT"]}}
        plan_request(self._engine_model, {**self.request, "contents": [
            {"role": "user", "parts": [{"text": "setup"}]}]}, None)   # a bad config fails now, naming its field
        self.options = body
        if transcription.transcribes(model):
            self.listening = transcription.settings(body.get("inputAudioTranscription") or {},
                                                    "setup.inputAudioTranscription", live=True)
        detection = (body.get("realtimeInputConfig") or {}).get("automaticActivityDetection") or {}
        self.manual_activity = bool(detection.get("disabled"))
        resumption = body.get("sessionResumption")
        if resumption is not None and resumption.get("handle"):
            self.history = self.store.live_resumptions.load(self.project, model["name"], resumption["handle"])
        return [{"setupComplete": {}}, *self._resumption_update()]

    def _resumption_update(self) -> list[dict[str, Any]]:
        if self.options.get("sessionResumption") is None:
            return []
        assert self.model is not None, "only a session set up saves its state"
        handle = self.store.live_resumptions.save(self.project, self.model["name"], self.history)
        return [{"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}}]

    def interrupts(self, kind: str, body: dict[str, Any]) -> bool:
        """Whether this client message interrupts a model turn being delivered: new user input."""
        if kind == "clientContent":
            return True
        if kind != "realtimeInput":
            return False
        if self.manual_activity:
            return "activityStart" in body
        return any(body.get(key) for key in ("audio", "video", "text", "mediaChunks"))

    def interrupt(self, delivered: int) -> list[dict[str, Any]]:
        """The last answer was cut after its first `delivered` modelTurn messages: the conversation keeps
        what was said, and the turn ends (`interrupted`, then `turnComplete` counting what was said)."""
        turn, self.speaking = self.speaking, None
        if turn is None:
            return []
        said = "".join(turn.pieces[:delivered])
        if said:
            self.history[turn.at] = {"role": "model", "parts": [{"text": said}]}
        else:
            del self.history[turn.at]
        if self.modality == "AUDIO":
            seconds = min(delivered * AUDIO_CHUNK_SECONDS, _speaking_seconds(turn.text))
            answer = {"modality": "AUDIO", "tokenCount": audio_tokens(seconds) if delivered else 0}
        else:
            answer = {"modality": "TEXT", "tokenCount": count_text(said)}
        usage = self._charged(_usage(turn.response, answer))
        return [{"serverContent": {"interrupted": True}},
                {"serverContent": {"turnComplete": True}, "usageMetadata": usage},
                *self._resumption_update()]

    def _charged(self, usage: dict[str, Any]) -> dict[str, Any]:
        """`usage` (a turn's usageMetadata), charged in the usage ledger as an interactive call's tokens:
        the whole conversation as input on every turn, as the Live API bills it. No request is counted:
        the Live API is limited by sessions, not requests."""
        if self.identity is not None and self.model is not None:
            ledger = self.store.usage
            ledger.charge(ledger.entry(self.identity, self.model, {
                "promptTokenCount": usage["promptTokenCount"], "promptTokensDetails": usage["promptTokensDetails"],
                "candidatesTokenCount": usage["responseTokenCount"],
                "candidatesTokensDetails": usage["responseTokensDetails"],
                "thoughtsTokenCount": usage.get("thoughtsTokenCount", 0)}, batch=False))
        return usage

    # -- input -------------------------------------------------------------------------------------
    def _cancel_calls(self) -> list[dict[str, Any]]:
        if not self.pending_calls:
            return []
        ids, self.pending_calls = list(self.pending_calls), {}
        return [{"toolCallCancellation": {"ids": ids}}]

    def _client_content(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        self._audio_only("clientContent", body)
        out = self._cancel_calls()
        for index, turn in enumerate(body.get("turns") or ()):
            if not turn.get("parts"):
                raise invalid_argument("A turn needs at least one part.", f"clientContent.turns[{index}].parts")
            self.history.append({"role": turn.get("role") or "user", "parts": turn["parts"]})
        if body.get("turnComplete"):
            if not self.history or self.history[-1].get("role") != "user":
                raise invalid_argument("turnComplete needs a user turn to answer.", "clientContent.turnComplete")
            out += self._answer(audio_seconds=0.0)
        return out

    def _realtime_input(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        if self.listening is not None:
            return self._transcribe(body)
        out: list[dict[str, Any]] = []
        for key in ("activityStart", "activityEnd"):
            if key in body and not self.manual_activity:
                raise invalid_argument(f"{key} needs automatic activity detection disabled in the setup "
                                       "(realtimeInputConfig.automaticActivityDetection.disabled).",
                                       f"realtimeInput.{key}")
        if "activityStart" in body:
            out += self._cancel_calls()
            self.in_activity = True
        blobs = [("realtimeInput.audio", body["audio"])] if body.get("audio") else []
        blobs += [("realtimeInput.video", body["video"])] if body.get("video") else []
        blobs += [(f"realtimeInput.mediaChunks[{i}]", chunk) for i, chunk in enumerate(body.get("mediaChunks") or ())]
        for where, blob in blobs:
            self._take_blob(blob, where)
        if body.get("text"):
            out += self._cancel_calls()
            self.pending_parts.append({"text": body["text"]})
            out += self._finish_input()
        if "activityEnd" in body and self.in_activity:
            self.in_activity = False
            out += self._finish_input()
        if body.get("audioStreamEnd") and not self.manual_activity:
            out += self._finish_input()
        return out

    # -- live transcription (ai.google.dev/gemini-api/docs/live-api/live-transcribe) -----------------------
    def _audio_only(self, kind: str, body: dict[str, Any]) -> None:
        """A live transcription model takes audio only: other input is a 400 naming it."""
        if self.listening is None:
            return
        other = kind if kind != "realtimeInput" else next(
            (f"realtimeInput.{key}" for key in ("text", "video", "mediaChunks") if body.get(key)), None)
        if other is not None:
            raise invalid_argument("A live transcription session takes audio input only (raw 16-bit PCM in "
                                   "realtimeInput.audio).", other)

    def _transcribe(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Audio in; `interimInputTranscription` while the speech goes on (each a longer start of the same
        words), then `inputTranscription` with the whole utterance when it ends: at `audioStreamEnd`, or at
        `activityEnd` with activity detection turned off. No model turn follows: the model only listens."""
        self._audio_only("realtimeInput", body)
        for key in ("activityStart", "activityEnd"):
            if key in body and not self.manual_activity:
                raise invalid_argument(f"{key} needs automatic activity detection disabled in the setup "
                                       "(realtimeInput.automaticActivityDetection.disabled).",
                                       f"realtimeInput.{key}")
        if body.get("audio"):
            if not self.pending_audio:
                data = str(body["audio"].get("data", ""))
                self.utterance_seed = int.from_bytes(hashlib.blake2b(
                    f"{self.store.seed}|{self.turns}|{data[:4096]}".encode(), digest_size=8).digest(), "little")
            self._take_blob(body["audio"], "realtimeInput.audio")
        ended = ("activityEnd" in body) if self.manual_activity else bool(body.get("audioStreamEnd"))
        seconds = len(self.pending_audio) / 2 / self.audio_rate
        if not seconds:
            return []
        assert self.listening is not None
        words = transcription.heard(random.Random(self.utterance_seed), seconds, self.listening)
        if not ended:
            if round(seconds * transcription.WORDS_PER_SECOND) <= self.interim_words:
                return []
            self.interim_words = len(words)
            return [{"serverContent": {"interimInputTranscription": {"text": " ".join(words)}}}]
        text = transcription.sentence(words)
        self.pending_audio, self.interim_words = bytearray(), 0
        self.turns += 1
        self._charged({"promptTokenCount": audio_tokens(seconds),
                       "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": audio_tokens(seconds)}],
                       "responseTokenCount": count_text(text),
                       "responseTokensDetails": [{"modality": "TEXT", "tokenCount": count_text(text)}]})
        return [{"serverContent": {"inputTranscription": {"text": text, "finished": True}}}]

    def _take_blob(self, blob: dict[str, Any], where: str) -> None:
        mime = (blob.get("mimeType") or "").lower()
        data = decode_base64(blob.get("data", ""), f"{where}.data")
        if mime.startswith("audio/"):
            rate = protocol.pcm_rate(mime, f"{where}.mimeType")
            if self.pending_audio and rate != self.audio_rate:
                raise invalid_argument("Every audio chunk of a turn must have the same sample rate.",
                                       f"{where}.mimeType")
            self.audio_rate = rate
            self.pending_audio += data
        elif mime in ("image/jpeg", "image/png", "image/webp"):
            self.pending_parts.append({"inlineData": {"mimeType": mime, "data": blob.get("data", "")}})
        else:
            raise invalid_argument(f"Unsupported MIME type {blob.get('mimeType')!r}: realtime input takes "
                                   "audio/pcm and image/jpeg or image/png frames.", f"{where}.mimeType")

    def _finish_input(self) -> list[dict[str, Any]]:
        parts = list(self.pending_parts)
        seconds = 0.0
        if self.pending_audio:
            pcm = bytes(self.pending_audio)
            seconds = len(pcm) / 2 / self.audio_rate
            parts.insert(0, {"inlineData": {"mimeType": "audio/wav",
                                            "data": protocol.b64(protocol.as_wav(pcm, self.audio_rate))}})
        self.pending_parts, self.pending_audio = [], bytearray()
        if not parts:
            return []
        self.history.append({"role": "user", "parts": parts})
        return self._answer(audio_seconds=seconds)

    def _tool_response(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        responses = body.get("functionResponses") or []
        if not responses:
            raise invalid_argument("toolResponse.functionResponses must not be empty.",
                                   "toolResponse.functionResponses")
        parts = []
        for index, response in enumerate(responses):
            call_id = response.get("id")
            if call_id and call_id not in self.pending_calls:
                raise invalid_argument(f"No pending function call has id {call_id!r}.",
                                       f"toolResponse.functionResponses[{index}].id")
            self.pending_calls.pop(call_id, None)
            parts.append({"functionResponse": {key: response[key] for key in ("id", "name", "response")
                                               if key in response}})
        self.history.append({"role": "user", "parts": parts})
        if self.pending_calls:     # the model waits for every call's response
            return []
        return self._answer(audio_seconds=0.0)

    # -- output ------------------------------------------------------------------------------------
    def _answer(self, audio_seconds: float) -> list[dict[str, Any]]:
        self.turns += 1
        self.speaking = None   # set again below when this answer is a spoken or written turn
        request = {**self.request, "contents": self.history}
        override = self.store.rules.answer_for(self.identity, self.model, request, LIVE_METHOD)
        response = engine.generate_content(self._engine_model, request, seed=self.store.seed,
                                           resolve_file=None, override=override)
        out: list[dict[str, Any]] = []
        if audio_seconds and "inputAudioTranscription" in self.options:
            out.append({"serverContent": {"inputTranscription": {"text": self._heard(audio_seconds)}}})
        parts = (response["candidates"][0].get("content") or {}).get("parts") or []
        calls = [part["functionCall"] for part in parts if "functionCall" in part]
        if calls:
            return out + self._tool_call(calls, response)
        text = "".join(part.get("text", "") for part in parts if not part.get("thought"))
        self.history.append({"role": "model", "parts": [{"text": text}]})
        if self.modality == "AUDIO":
            spoken, pieces = self._spoken(text)
            out += spoken
            seconds = _speaking_seconds(text)
            answer = {"modality": "AUDIO", "tokenCount": audio_tokens(seconds)}
        else:
            pieces = _pieces(text)
            out += [{"serverContent": {"modelTurn": {"parts": [{"text": piece}]}}} for piece in pieces]
            answer = {"modality": "TEXT", "tokenCount": count_text(text)}
        self.speaking = _Speaking(text, pieces, response, len(self.history) - 1)
        out.append({"serverContent": {"generationComplete": True}})
        out.append({"serverContent": {"turnComplete": True}, "usageMetadata": self._charged(_usage(response, answer))})
        return out + self._resumption_update()

    def _tool_call(self, calls: list[dict[str, Any]], response: dict[str, Any]) -> list[dict[str, Any]]:
        digest = hashlib.blake2b(f"{response['responseId']}|{self.turns}".encode(), digest_size=8).hexdigest()
        wire = []
        for index, call in enumerate(calls):
            call_id = f"function-call-{digest}-{index}"
            self.pending_calls[call_id] = call["name"]
            wire.append({"id": call_id, "name": call["name"], "args": call.get("args") or {}})
        self.history.append({"role": "model", "parts": [{"functionCall": item} for item in wire]})
        return [{"toolCall": {"functionCalls": wire}}]

    def _spoken(self, text: str) -> tuple[list[dict[str, Any]], list[str]]:
        """The audio messages of `text`, and the words each audio chunk says."""
        pcm = protocol.speech_pcm(_speaking_seconds(text))
        step = int(protocol.OUTPUT_RATE * AUDIO_CHUNK_SECONDS) * 2
        chunks = [pcm[i:i + step] for i in range(0, len(pcm), step)] or [b""]
        words = _pieces(text, len(chunks))
        transcribe = "outputAudioTranscription" in self.options
        out: list[dict[str, Any]] = []
        for index, chunk in enumerate(chunks):
            out.append({"serverContent": {"modelTurn": {"parts": [
                {"inlineData": {"mimeType": protocol.OUTPUT_MIME, "data": protocol.b64(chunk)}}]}}})
            if transcribe and index < len(words):
                out.append({"serverContent": {"outputTranscription": {"text": words[index]}}})
        return out, words

    def _heard(self, seconds: float) -> str:
        """The input transcription of a turn's audio: words drawn from the audio's own digest."""
        audio = self.history[-1]["parts"][0]["inlineData"]["data"]
        digest = hashlib.blake2b(f"{self.store.seed}|{audio}".encode(), digest_size=8).digest()
        return pseudo_words(random.Random(int.from_bytes(digest, "little")), max(1, round(seconds * 2.5)))


def _speaking_seconds(text: str) -> float:
    return round(max(count_text(text), 1) / SPOKEN_TOKENS_PER_SECOND, 3)


def _pieces(text: str, count: int | None = None) -> list[str]:
    """`text` in consecutive pieces: `count` of them, or one per TEXT_PIECES_PER_CHUNK tokens."""
    tokens = split_text(text) or [text]
    if count is None:
        count = max(1, -(-len(tokens) // TEXT_PIECES_PER_CHUNK))
    count = max(1, min(count, len(tokens)))
    size = -(-len(tokens) // count)
    return ["".join(tokens[i:i + size]) for i in range(0, len(tokens), size)]


def _usage(response: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    usage = response["usageMetadata"]
    thoughts = usage.get("thoughtsTokenCount", 0)
    total = usage["promptTokenCount"] + answer["tokenCount"] + thoughts
    body = {"promptTokenCount": usage["promptTokenCount"], "responseTokenCount": answer["tokenCount"],
            "totalTokenCount": total, "promptTokensDetails": usage.get("promptTokensDetails") or [],
            "responseTokensDetails": [answer]}
    if thoughts:
        body["thoughtsTokenCount"] = thoughts
    return body


def _constrained(body: dict[str, Any], constraints: dict[str, Any]) -> dict[str, Any]:
    """The setup an ephemeral token allows: its locked fields win over what the client sent."""
    locked, mask = constraints.get("setup") or {}, constraints.get("fieldMask")
    if mask is None:       # no field mask: the whole constrained setup is locked
        merged = copy.deepcopy(body)
        merged.update(copy.deepcopy(locked))
        return merged
    merged = copy.deepcopy(body)
    for path in mask:
        head, _, rest = path.partition(".")
        source = locked.get(head)
        if rest:
            if isinstance(source, dict) and rest in source:
                merged.setdefault(head, {})[rest] = copy.deepcopy(source[rest])
        elif head in locked:
            merged[head] = copy.deepcopy(source)
    return merged
