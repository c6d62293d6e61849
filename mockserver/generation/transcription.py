"""Speech-to-text answers of the transcription models (`gemini-3.5-transcribe`).

What the Gemini API documents (ai.google.dev/gemini-api/docs/generate-content/transcribe, updated
2026-08-28; google-genai 3.6.1 types AudioTranscriptionConfig, Transcription, WordInfo):

- the request is generateContent with audio; `generationConfig.audioTranscriptionConfig` holds
  `languageCodes` (BCP-47 hints; empty or absent: detected), `customVocabulary` (at most 1,000 phrases),
  `wordTimestamp`, `diarization` (at most 8 speakers, labelled `spk_1`, `spk_2`, ...) and `mode`
  (`VERBATIM`, the default, or `SMART`: fillers removed and the text tidied; SMART cannot be combined
  with word timestamps or diarization);
- the whole transcript is the answer's text (`response.text`); with word timestamps or diarization the
  candidate also carries word-level annotations: parts whose `audioTranscription` holds a speaker turn's
  text, its `speakerLabel` and its `words` (`word`, `startOffset`, `endOffset` as durations, "0.100s");
- a request may hold up to an hour of audio, 30 minutes with word timestamps or diarization.

The emulator cannot hear. Its transcript is drawn from the request's digest at 2.5 words a second of
audio (the rate the Live API's input transcription uses), and the custom vocabulary is spoken in it, so a
test sees its phrases reach the model; the same request always gives the same transcript.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from ..errors import invalid_argument
from .text import ADJECTIVES, NOUNS

CONFIG_FIELD = "generationConfig.audioTranscriptionConfig"
MAX_SECONDS = 3600.0
MAX_ANNOTATED_SECONDS = 1800.0    # with word timestamps or diarization
MAX_VOCABULARY = 1000
MAX_SPEAKERS = 8
WORDS_PER_SECOND = 2.5
TURN_WORDS = (6, 18)              # how many words a speaker says before the next one takes over
FILLERS = ("um", "uh", "er", "like")   # one word each: a filler is timed like any other word
FILLER_EVERY = 12                 # a verbatim transcript has one filler every twelve words
VOCABULARY_EVERY = 9
# A BCP-47 tag as the documented codes are written: en-US, es-419, yue-Hant-HK, ceb.
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def transcribes(model: dict[str, Any]) -> bool:
    return bool((model.get("emulator") or {}).get("transcribes"))


@dataclass(frozen=True)
class Options:
    smart: bool
    diarization: bool
    word_timestamps: bool
    vocabulary: tuple[str, ...]

    @property
    def annotated(self) -> bool:
        return self.diarization or self.word_timestamps


def settings(config: dict[str, Any], field: str, *, live: bool = False) -> Options:
    """`audioTranscriptionConfig` (or a Live setup's `inputAudioTranscription`, `live`), checked against the
    documented limits: 400s naming the field under `field`. The Live API has neither word timestamps nor
    diarization (ai.google.dev/gemini-api/docs/live-api/live-transcribe, Limitations)."""
    smart = str(config.get("mode") or "VERBATIM").upper() == "SMART"
    chosen = Options(smart=smart, diarization=bool(config.get("diarization")),
                     word_timestamps=bool(config.get("wordTimestamp")),
                     vocabulary=tuple(str(p) for p in config.get("customVocabulary") or () if str(p).strip()))
    if live and chosen.annotated:
        name = "diarization" if chosen.diarization else "wordTimestamp"
        raise invalid_argument(f"{name} is not supported in live transcription sessions; the unary "
                               "gemini-3.5-transcribe model offers it.", f"{field}.{name}")
    if chosen.smart and chosen.annotated:
        raise invalid_argument("Smart transcription (mode SMART) cannot be combined with wordTimestamp or "
                               "diarization; use mode VERBATIM.", f"{field}.mode")
    if len(config.get("customVocabulary") or ()) > MAX_VOCABULARY:
        raise invalid_argument(f"customVocabulary holds {len(config['customVocabulary'])} phrases; at most "
                               f"{MAX_VOCABULARY} are allowed.", f"{field}.customVocabulary")
    for index, code in enumerate(config.get("languageCodes") or ()):
        if not isinstance(code, str) or not _LANGUAGE_CODE.fullmatch(code):
            raise invalid_argument(f"languageCodes[{index}] ({code!r}) is not a BCP-47 language code such as "
                                   "en-US.", f"{field}.languageCodes")
    return chosen


def options(request: dict[str, Any], audio_seconds: float) -> Options:
    """The request's transcription settings, checked against the documented limits (400 naming the field)."""
    chosen = settings((request.get("generationConfig") or {}).get("audioTranscriptionConfig") or {}, CONFIG_FIELD)
    if audio_seconds <= 0:
        raise invalid_argument("The transcription model transcribes audio, and the request holds none: send an "
                               "audio part (inlineData or fileData).", "contents")
    limit = MAX_ANNOTATED_SECONDS if chosen.annotated else MAX_SECONDS
    if audio_seconds > limit:
        because = " with word timestamps or diarization" if chosen.annotated else ""
        raise invalid_argument(f"The audio lasts {audio_seconds / 60:.1f} minutes; the limit{because} is "
                               f"{int(limit // 60)} minutes a request.", "contents")
    return chosen


def heard(rng: random.Random, seconds: float, chosen: Options) -> list[str]:
    """The words `seconds` of speech hold. The words come one after another from `rng`, so a longer stretch
    of the same speech begins with the words of a shorter one (the Live API's interim transcripts grow
    into the final one); the custom vocabulary is spoken early, one phrase every VOCABULARY_EVERY words, and a verbatim
    transcript keeps a filler every FILLER_EVERY words."""
    count = max(1, round(seconds * WORDS_PER_SECOND))
    phrases = list(chosen.vocabulary)
    words: list[str] = []
    while len(words) < count:
        if phrases and len(words) % VOCABULARY_EVERY == 2:
            words += phrases.pop(0).split()
        elif not chosen.smart and len(words) % FILLER_EVERY == FILLER_EVERY - 1:   # verbatim keeps fillers
            words.append(rng.choice(FILLERS))
        else:
            words.append(rng.choice(ADJECTIVES if len(words) % 2 == 0 else NOUNS))
    return words[:count]


def sentence(words: list[str]) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:] + "."


@dataclass(frozen=True)
class _Turn:
    speaker: int
    words: list[tuple[str, float, float]]   # (word, start, end) in seconds


def _turns(rng: random.Random, words: list[str], seconds: float, chosen: Options) -> list[_Turn]:
    """The words timed evenly over the audio and cut into turns; with diarization, turns alternate between
    two to three speakers (never more than the documented eight), labelled in the order they first speak."""
    speakers = min(MAX_SPEAKERS, rng.randint(2, 3)) if chosen.diarization else 1
    slot = seconds / len(words)
    turns: list[_Turn] = []
    speaker, heard_so_far, start = 1, 1, 0
    while start < len(words):
        end = min(len(words), start + rng.randint(*TURN_WORDS))
        timed = [(word, index * slot, index * slot + slot * 0.85) for index, word in enumerate(words[start:end], start)]
        turns.append(_Turn(speaker, timed))
        if speakers > 1:   # someone already heard, or the next new voice (spk_2 before spk_3)
            speaker = rng.choice([s for s in range(1, min(speakers, heard_so_far + 1) + 1) if s != speaker])
            heard_so_far = max(heard_so_far, speaker)
        start = end
    return turns


def _offset(seconds: float) -> str:
    return f"{seconds:.3f}s"


def candidate(chosen: Options, digest: bytes, index: int, audio_seconds: float,
              safety: list[dict[str, Any]]) -> dict[str, Any]:
    """One candidate: the transcript as text, then (when asked for) one annotation part per speaker turn."""
    rng = random.Random(int.from_bytes(digest[:8], "little") + index)
    words = heard(rng, audio_seconds, chosen)
    turns = _turns(rng, words, audio_seconds, chosen)
    sentences = [sentence([word for word, _, _ in turn.words]) for turn in turns]
    joiner = "\n\n" if chosen.smart else "\n" if chosen.diarization else " "
    parts: list[dict[str, Any]] = [{"text": joiner.join(sentences)}]
    if chosen.annotated:
        for turn, said in zip(turns, sentences):
            annotation: dict[str, Any] = {"text": said}
            if chosen.diarization:
                annotation["speakerLabel"] = f"spk_{turn.speaker}"
            if chosen.word_timestamps:
                annotation["words"] = [{"word": word, "startOffset": _offset(start), "endOffset": _offset(end)}
                                       for word, start, end in turn.words]
            parts.append({"audioTranscription": annotation})
    return {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": index,
            "safetyRatings": safety}


# ----------------------------------------------------------------------------------------------------
# The Interactions API's shape of the same settings and annotations (google-genai 3.6.1
# _gaos/types/interactions: TranscriptionConfig, SmartTranscriptionMode, VerbatimTranscriptionMode, WordInfo)

INTERACTIONS_FIELD = "generation_config.transcription_config"


def from_interactions(given: Any) -> dict[str, Any]:
    """`generation_config.transcription_config` as generateContent's `audioTranscriptionConfig`.

    `mode` is `{"type": "smart"}`, `{"type": "verbatim", "diarization_mode", "timestamp_granularities"}` or
    the bare name; `diarization_mode` takes "speaker", `timestamp_granularities` takes "word"."""
    if not isinstance(given, dict):
        raise invalid_argument("transcription_config must be an object.", INTERACTIONS_FIELD)
    mode = given.get("mode") or {}
    mode = {"type": mode} if isinstance(mode, str) else mode
    if not isinstance(mode, dict) or str(mode.get("type", "verbatim")).lower() not in ("smart", "verbatim"):
        raise invalid_argument("transcription_config.mode.type must be smart or verbatim.", f"{INTERACTIONS_FIELD}.mode")
    config: dict[str, Any] = {"mode": str(mode.get("type", "verbatim")).upper()}
    for source, target in (("custom_vocabulary", "customVocabulary"), ("language_codes", "languageCodes"),
                           ("language_hints", "languageCodes")):
        if given.get(source):
            config.setdefault(target, list(given[source]))
    for where in (given, mode):
        diarization = where.get("diarization_mode")
        if diarization is not None:
            if diarization != "speaker":
                raise invalid_argument(f"diarization_mode {diarization!r} is not supported; use \"speaker\".",
                                       f"{INTERACTIONS_FIELD}.diarization_mode")
            config["diarization"] = True
        for granularity in where.get("timestamp_granularities") or ():
            if granularity != "word":
                raise invalid_argument(f"timestamp_granularities holds {granularity!r}; the supported value is "
                                       "\"word\".", f"{INTERACTIONS_FIELD}.timestamp_granularities")
            config["wordTimestamp"] = True
    return config


def word_infos(parts: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """`word_info` annotations of the transcript `text`: each word with its byte span in the text, and its
    timing and speaker when the answer carries them."""
    lowered, cursor = text.lower(), 0
    out: list[dict[str, Any]] = []
    for part in parts:
        turn = part.get("audioTranscription")
        if not isinstance(turn, dict):
            continue
        timed = turn.get("words") or [{"word": word} for word in str(turn.get("text", "")).rstrip(".").split()]
        for entry in timed:
            word = str(entry.get("word", ""))
            at = lowered.find(word.lower(), cursor)
            if at < 0:
                continue
            cursor = at + len(word)
            info: dict[str, Any] = {"type": "word_info", "text": word,
                                    "start_index": len(text[:at].encode()), "end_index": len(text[:cursor].encode())}
            for source, target in (("startOffset", "start_offset"), ("endOffset", "end_offset")):
                if source in entry:
                    info[target] = entry[source]
            if turn.get("speakerLabel"):
                info["speaker"] = turn["speakerLabel"]
            out.append(info)
    return out
