"""The Live API's wire: client messages in, close codes out, and the audio bytes a session carries.

Client messages are JSON objects with exactly one of `setup`, `clientContent`, `realtimeInput` and
`toolResponse` (BidiGenerateContentClientMessage), sent as text or binary frames. @google/genai sends
them in camelCase; google-genai sends snake_case top-level names (`client_content`, `realtime_input`,
`tool_response`: google/genai/live.py, AsyncSession.send_*) with partly snake_case insides. Proto3 JSON
takes both spellings, so every message goes through the recorded schema (schema.normalize) and comes out
camelCase, with the same 400 wording the REST front end uses.

Errors end the session with a WebSocket close frame whose reason is the error's message; the code says
what kind it is, as the real service closes (google/genai/live.py turns `e.rcvd.code` / `e.rcvd.reason`
into an APIError): 1007 for an invalid payload or argument (400: malformed JSON, a bad field, a message
before `setup`, an unknown API key), 1008 for a policy refusal (401/403/404: no key, a refused key or
token, an unknown model), 1011 for the server side (429 quota, 5xx), 1000 for a normal end.
"""
from __future__ import annotations

import base64
import io
import json
import re
import wave
from typing import Any

from ..errors import ApiError, invalid_argument
from ..http import parse_json
from ..schema import normalize

CLIENT_MESSAGE = "BidiGenerateContentClientMessage"
MESSAGE_KINDS = ("setup", "clientContent", "realtimeInput", "toolResponse")

NORMAL_CLOSE = 1000
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
MAX_REASON_BYTES = 123   # RFC 6455 5.5: a control frame's payload is at most 125 bytes, 2 of them the code

# Audio the Live API takes and gives (ai.google.dev/gemini-api/docs/live-guide, "Audio formats"):
# input raw 16-bit little-endian PCM at 16 kHz, output raw 16-bit PCM at 24 kHz, both mono.
INPUT_RATE = 16_000
OUTPUT_RATE = 24_000
OUTPUT_MIME = f"audio/pcm;rate={OUTPUT_RATE}"
_RATE = re.compile(r"rate=(\d+)")


def close_code(error: ApiError) -> int:
    """The WebSocket close code for an error (see the module's doc)."""
    if error.code == 400:
        return INVALID_PAYLOAD
    if error.code in (401, 403, 404):
        return POLICY_VIOLATION
    return INTERNAL_ERROR


def close_reason(message: str) -> str:
    """`message` cut to what a close frame can carry, on a character boundary."""
    raw = message.encode("utf-8")
    if len(raw) <= MAX_REASON_BYTES:
        return message
    return raw[:MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."


def parse_frame(frame: str | bytes) -> Any:
    """The JSON value of one client frame (text or binary); a 400 ApiError when it is not JSON."""
    return parse_json(frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame)


def read_message(frame: str | bytes, version: str) -> tuple[str, dict[str, Any]]:
    """(kind, body) of one client frame, normalised to camelCase; a 400 ApiError when it is not one."""
    data = parse_frame(frame)
    if not isinstance(data, dict):
        raise invalid_argument("Invalid JSON payload received. A Live API message must be a JSON object.")
    message = normalize(version, CLIENT_MESSAGE, data)
    kinds = [kind for kind in MESSAGE_KINDS if kind in message]
    if len(kinds) != 1:
        raise invalid_argument("A Live API message carries exactly one of setup, clientContent, realtimeInput "
                               f"and toolResponse; this one has {', '.join(kinds) or 'none'}.")
    body = message[kinds[0]]
    return kinds[0], body if isinstance(body, dict) else {}


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


# -- audio ----------------------------------------------------------------------------------------------

def pcm_rate(mime_type: str | None, field: str) -> int:
    """The sample rate of an `audio/pcm[;rate=N]` blob (16 kHz when not said); 400 for other audio."""
    mime = (mime_type or "").strip().lower()
    if not mime.startswith("audio/pcm"):
        raise invalid_argument(f"Unsupported MIME type {mime_type!r} at '{field}': realtime audio is raw 16-bit "
                               "PCM, audio/pcm;rate=16000.", field)
    found = _RATE.search(mime)
    rate = int(found.group(1)) if found else INPUT_RATE
    if not 8_000 <= rate <= 48_000:
        raise invalid_argument(f"Unsupported sample rate {rate} at '{field}'.", field)
    return rate


def as_wav(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM wrapped in a WAV header: the form the engine's token counting reads (32 tokens/s)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm[:len(pcm) - len(pcm) % 2])
    return out.getvalue()


# A quiet 200 Hz square-ish tone, one period long: the spoken answer is this period repeated. It is not
# speech, but it is audible, deterministic and cheap at any length.
_PERIOD = OUTPUT_RATE // 200
_TONE = b"".join((1200 if i < _PERIOD // 2 else -1200).to_bytes(2, "little", signed=True) for i in range(_PERIOD))


def speech_pcm(seconds: float) -> bytes:
    """`seconds` of 24 kHz 16-bit mono PCM."""
    samples = int(round(seconds * OUTPUT_RATE))
    whole, rest = divmod(samples, _PERIOD)
    return _TONE * whole + _TONE[:rest * 2]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
