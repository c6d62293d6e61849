"""Gemini Omni Flash through the Interactions API: one turn makes (or, after `previous_interaction_id`, edits)
a video. The rules (options, limits, the MP4) are generation/omni.py; this module turns a create body into
that call and the answer into steps and usage.

The answer's steps follow ai.google.dev/gemini-api/docs/omni (read 2026-12): a `thought` step, then a
`model_output` step with one `{"type": "video", "mime_type": "video/mp4", "data"}` item (`uri` instead of
`data` when `response_format.delivery` is "uri": a generated file's `:download?alt=media` address, while a
later GET shows the bytes inline, as the guide notes). Usage reports the video under
`output_tokens_by_modality`.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from ... import quotas
from ...auth import Identity
from ...errors import invalid_argument
from ...generation import media, omni, tokens
from . import convert

if TYPE_CHECKING:
    from ...store import Store

MP4 = "video/mp4"


def wants_video(body: dict[str, Any]) -> bool:
    modalities = body.get("response_modalities")
    return omni.video_format(body.get("response_format")) is not None or (
        isinstance(modalities, list) and "video" in modalities)


def refuse_video(model: dict[str, Any], body: dict[str, Any]) -> None:
    """A model that makes no video, asked for one: 400 naming the field that asked."""
    if omni.spec(model) is None and wants_video(body):
        field = "response_format" if omni.video_format(body.get("response_format")) else "response_modalities"
        raise invalid_argument(f"{model.get('name')} does not support video output ({field}).", field)


def _videos(steps: list[dict[str, Any]]) -> list[bytes]:
    return [base64.b64decode(item["data"]) for step in steps if step.get("type") in ("model_output", "user_input")
            for item in step.get("content") or () if item.get("type") == "video" and item.get("data")]


def _input_videos(contents: list[dict[str, Any]]) -> list[bytes]:
    found = []
    for content in contents:
        for part in content.get("parts") or ():
            inline = part.get("inlineData") or {}
            if str(inline.get("mimeType", "")).startswith("video/") and inline.get("data"):
                found.append(base64.b64decode(inline["data"]))
    return found


def _text_tokens(contents: list[dict[str, Any]]) -> int:
    return sum(tokens.count_text(str(part["text"])) for content in contents
               for part in content.get("parts") or () if "text" in part)


def run(store: Store, identity: Identity, model: dict[str, Any], body: dict[str, Any],
        history: list[dict[str, Any]], added: list[dict[str, Any]], previous_steps: list[dict[str, Any]],
        base_url: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """One Omni turn: (steps, Interactions usage, the conversation after it)."""
    chosen = omni.options(model, body.get("response_format"))
    if chosen.delivery == "uri" and base_url is None:
        raise invalid_argument("response_format.delivery 'uri' is not available here.", "response_format.delivery")
    # The video to edit: one given in this input, else the one the previous turn made.
    sources = [clip for clip in map(omni.read_clip, _input_videos(added) + _videos(previous_steps)[-1:]) if clip]
    source = sources[0] if sources else None
    canonical = json.dumps([store.seed, model.get("name"), history, added, chosen.__dict__], sort_keys=True,
                           default=str)
    digest = hashlib.blake2b(canonical.encode(), digest_size=32).digest()
    clip = omni.make(model, chosen, digest, source)
    item: dict[str, Any] = {"type": "video", "mime_type": MP4}
    if chosen.delivery == "uri":
        made = store.files.create_generated(identity, f"omni-{digest[:8].hex()}.mp4", MP4, data=clip.data,
                                            base_url=base_url)
        item["uri"] = f"{base_url}/v1beta/{made['name']}:download?alt=media"
    else:
        item["data"] = base64.b64encode(clip.data).decode()
    steps: list[dict[str, Any]] = [{"type": "thought", "signature": convert.text_signature(store.seed, digest.hex())},
             {"type": "model_output", "content": [item]}]
    text_in = _text_tokens(history + added)
    video_in = media.video_tokens(source.seconds) if source else 0
    details = [{"modality": "TEXT", "tokenCount": text_in}]
    if video_in:
        details.append({"modality": "VIDEO", "tokenCount": video_in})
    metadata = {"promptTokenCount": text_in + video_in, "candidatesTokenCount": clip.tokens,
                "totalTokenCount": text_in + video_in + clip.tokens, "promptTokensDetails": details,
                "candidatesTokensDetails": [{"modality": "VIDEO", "tokenCount": clip.tokens}]}
    quotas.record(store, identity, model, metadata)
    usage = convert.usage(metadata)
    usage["output_tokens_by_modality"] = [{"modality": "video", "tokens": clip.tokens}]
    return steps, usage, history + added
