"""Gemini Omni Flash through the Interactions API: one turn makes (or, after `previous_interaction_id`, edits)
a video. The rules (options, limits, the MP4) are generation/omni.py; this module turns a create body into
that call and the answer into steps and usage.

The answer's steps follow ai.google.dev/gemini-api/docs/omni (read 2026-12): a `thought` step, then a
`model_output` step with one `{"type": "video", "mime_type": "video/mp4", "data"}` item (`uri` instead of
`data` when `response_format.delivery` is "uri": a generated file's `:download?alt=media` address). Usage
reports the video under `output_tokens_by_modality`. The video an edit starts from is one in the input (inline
or a Files API uri, as the guide's "edit your own videos"), else the one the previous turn made.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from ... import quotas
from ...auth import Identity
from ...errors import invalid_argument
from ...generation import media, omni, tokens
from . import convert

if TYPE_CHECKING:
    from ...store import Store

MP4 = "video/mp4"
FILE_NAME = re.compile(r"(files/[a-z0-9-]+)")
SCAN = 4 << 20   # bytes read from each end of a stored video


def wants_video(body: dict[str, Any]) -> bool:
    modalities = body.get("response_modalities")
    return omni.video_format(body.get("response_format")) is not None or (
        isinstance(modalities, list) and "video" in modalities)


def refuse_video(model: dict[str, Any], body: dict[str, Any]) -> None:
    """A model that makes no video, asked for one: 400 naming the field that asked."""
    if omni.spec(model) is None and wants_video(body):
        field = "response_format" if omni.video_format(body.get("response_format")) else "response_modalities"
        raise invalid_argument(f"The requested combination of response modalities (VIDEO) is not supported by "
                               f"{model.get('name')} ({field}).", field)


def _file_bytes(store: Store, identity: Identity, uri: str) -> bytes:
    """The head and tail of a stored file (where an MP4 keeps its `moov`), so memory stays bounded."""
    match = FILE_NAME.search(uri)
    if match is None:
        return b""
    path = store.files.path_of(identity, match.group(1))
    with open(path, "rb") as handle:
        head = handle.read(SCAN)
        size = handle.seek(0, 2)
        if size <= SCAN:
            return head
        handle.seek(max(SCAN, size - SCAN))
        return head + handle.read()


def _previous_videos(store: Store, identity: Identity, steps: list[dict[str, Any]]) -> list[bytes]:
    items = [item for step in steps if step.get("type") == "model_output"
             for item in step.get("content") or () if item.get("type") == "video"]
    return [base64.b64decode(item["data"]) if item.get("data") else _file_bytes(store, identity, str(item["uri"]))
            for item in items if item.get("data") or item.get("uri")]


def _input_videos(store: Store, identity: Identity, contents: list[dict[str, Any]]) -> list[bytes]:
    """Videos in this turn's input: inline, or a Files API video named by its uri (the guide's way)."""
    found = []
    for content in contents:
        for part in content.get("parts") or ():
            inline, stored = part.get("inlineData") or {}, part.get("fileData") or {}
            if str(inline.get("mimeType", "")).startswith("video/") and inline.get("data"):
                found.append(base64.b64decode(inline["data"]))
            elif stored.get("fileUri") and FILE_NAME.search(str(stored["fileUri"])):
                found.append(_file_bytes(store, identity, str(stored["fileUri"])))
    return found


def _text_tokens(contents: list[dict[str, Any]]) -> int:
    return sum(tokens.count_text(str(part["text"])) for content in contents
               for part in content.get("parts") or () if "text" in part)


def run(store: Store, identity: Identity, model: dict[str, Any], body: dict[str, Any],
        history: list[dict[str, Any]], added: list[dict[str, Any]], previous_steps: list[dict[str, Any]],
        base_url: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """One Omni turn: (steps, Interactions usage, the conversation after it)."""
    chosen = omni.options(model, body.get("response_format"))
    task = omni.task(body.get("generation_config"))
    if chosen.delivery == "uri" and base_url is None:
        raise invalid_argument("response_format.delivery 'uri' is not available here.", "response_format.delivery")
    # The video to edit: one given in this input, else the one the previous turn made.
    given = _input_videos(store, identity, added) + _previous_videos(store, identity, previous_steps)[-1:]
    sources = [clip for clip in map(omni.read_clip, given) if clip]
    source = sources[0] if sources else None
    canonical = json.dumps([store.seed, model.get("name"), history, added, chosen.__dict__, task], sort_keys=True,
                           default=str)
    digest = hashlib.blake2b(canonical.encode(), digest_size=32).digest()
    clip = omni.make(model, chosen, digest, source, extend=task == "extend")
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
