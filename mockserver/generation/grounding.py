"""Offline results of the grounding tools: Google Search (and the Gemini 1.5 googleSearchRetrieval),
Google Maps and URL context, with the response shapes of the docs:

- https://ai.google.dev/gemini-api/docs/google-search : `groundingMetadata` {webSearchQueries,
  searchEntryPoint.renderedContent, groundingChunks[].web {uri, title}, groundingSupports[] {segment,
  groundingChunkIndices}}. Chunk uris are grounding-api-redirect links and titles are the site's domain.
  `web.domain` exists in the SDK types but "is not supported in Gemini API" (google-genai types.py), so it
  is left out.
- Segment offsets are UTF-8 byte offsets into the part's text ("measured in bytes", google-genai types.py
  `Segment`); as proto3 JSON, zero values (`startIndex` 0, `partIndex` 0) are omitted on the wire.
- https://ai.google.dev/gemini-api/docs/maps-grounding : chunks `maps` {uri, title, placeId "places/..."}
  and `googleMapsWidgetContextToken` ("widgetcontent/...") when `googleMaps.enableWidget` is set.
- https://ai.google.dev/gemini-api/docs/url-context : candidate `urlContextMetadata.urlMetadata[]`
  {retrievedUrl, urlRetrievalStatus}; the retrieved content counts as tool-use prompt tokens; at most 20
  URLs per request are read.
"""
from __future__ import annotations

import base64
import hashlib
import html
import random
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from ..errors import invalid_argument
from .tokens import count_text

URL_STATUSES = ("URL_RETRIEVAL_STATUS_SUCCESS", "URL_RETRIEVAL_STATUS_ERROR", "URL_RETRIEVAL_STATUS_PAYWALL",
                "URL_RETRIEVAL_STATUS_UNSAFE")
MAX_URLS = 20
DEFAULT_DYNAMIC_THRESHOLD = 0.3   # https://ai.google.dev/gemini-api/docs/google-search (dynamic retrieval)
_REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"
_SITES = ("wikipedia.org", "britannica.com", "reuters.com", "bbc.com", "apnews.com", "nature.com",
          "nationalgeographic.com", "theguardian.com", "nasa.gov", "who.int", "un.org", "smithsonianmag.com")
_PLACE_KINDS = ("Café", "Trattoria", "Market", "Bistro", "Gardens", "Museum", "Bakery", "Books")
_URL_RE = re.compile(r"https?://[^\s<>\"'`)\]}]+", re.IGNORECASE)
_SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD_RE = re.compile(r"[a-z0-9]+")
_QUERY_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


# ----------------------------------------------------------------------------------------------------
# Request checks


def check_dynamic_retrieval(config: Any, where: str) -> dict[str, Any]:
    """googleSearchRetrieval.dynamicRetrievalConfig -> {"dynamic": bool, "threshold": float}."""
    if config is None:
        return {"dynamic": False, "threshold": DEFAULT_DYNAMIC_THRESHOLD}
    if not isinstance(config, dict):
        raise invalid_argument(f"{where} must be an object.", where)
    mode = str(config.get("mode") or "MODE_UNSPECIFIED").upper()
    if mode not in ("MODE_UNSPECIFIED", "MODE_DYNAMIC"):
        raise invalid_argument(f"Invalid value at '{where}.mode', \"{config.get('mode')}\"", f"{where}.mode")
    threshold = config.get("dynamicThreshold", DEFAULT_DYNAMIC_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise invalid_argument(f"{where}.dynamicThreshold must be a number from 0 to 1.", f"{where}.dynamicThreshold")
    return {"dynamic": mode == "MODE_DYNAMIC", "threshold": float(threshold)}


def check_lat_lng(lat_lng: Any, where: str) -> None:
    if lat_lng is None:
        return
    if not isinstance(lat_lng, dict):
        raise invalid_argument(f"{where} must be an object.", where)
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = lat_lng.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -bound <= value <= bound:
            raise invalid_argument(f"{where}.{key} must be a number from {-bound} to {bound}.", f"{where}.{key}")


def check_url_script(spec: Any, where: str) -> dict[str, Any]:
    """A scripted URL fetch: a status name, or {"status"?, "content"?}."""
    if isinstance(spec, str):
        spec = {"status": spec}
    if not isinstance(spec, dict):
        raise invalid_argument(f"{where} must be a status name or an object.", where)
    for key in spec:
        if key not in ("status", "content"):
            raise invalid_argument(f"Unknown field '{where}.{key}': expected status or content.", f"{where}.{key}")
    status = str(spec.get("status") or URL_STATUSES[0]).upper()
    if not status.startswith("URL_RETRIEVAL_STATUS_"):
        status = "URL_RETRIEVAL_STATUS_" + status
    if status not in URL_STATUSES:
        raise invalid_argument(f"{where}.status must be one of {', '.join(URL_STATUSES)}.", f"{where}.status")
    if spec.get("content") is not None and not isinstance(spec["content"], str):
        raise invalid_argument(f"{where}.content must be a string.", f"{where}.content")
    return {"status": status, **({"content": spec["content"]} if spec.get("content") is not None else {})}


# ----------------------------------------------------------------------------------------------------
# Running the tools


@dataclass
class Search:
    queries: list[str]
    sources: list[dict[str, Any]]   # {"uri", "title", "snippet"?}
    tokens: int                  # what the results add to the prompt
    score: float | None = None   # googleSearchRetrieval's dynamic retrieval score


def _token(rng: random.Random, size: int) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(size)).decode("ascii").rstrip("=")


def search_queries(prompt: str, hints: list[str]) -> list[str]:
    """One query per sentence or question of the prompt (at most 3, 10 words each), else its keywords."""
    out: list[str] = []
    for sentence in _SENTENCE_RE.findall(prompt):
        words = _QUERY_WORD_RE.findall(sentence.lower())[:10]
        query = " ".join(words)
        if len(words) >= 2 and query not in out:
            out.append(query)
    return out[:3] or ([" ".join(hints[:3]).lower()] if hints else [])


def search(retrieval: dict[str, Any] | None, rng: random.Random, prompt: str, hints: list[str],
           script: dict[str, Any] | None) -> Search:
    """What a Google Search returns for the prompt: 2 to 4 sources, or what a rule scripted."""
    score = None
    if retrieval is not None:
        score = round(rng.random(), 2)
        if retrieval["dynamic"] and score < retrieval["threshold"]:
            return Search([], [], 0, score)   # the model answered without searching
    script = script or {}
    queries = script["queries"] if "queries" in script else search_queries(prompt, hints)
    if "sources" in script:
        sources = [dict(s, title=s.get("title") or _domain(s["uri"])) for s in script["sources"]]
    else:
        sites = rng.sample(_SITES, rng.randint(2, 4))
        sources = [{"uri": _REDIRECT + _token(rng, 48), "title": site} for site in sites]
    tokens = sum(count_text(s.get("snippet") or "") or 60 for s in sources) if queries or sources else 0
    return Search(list(queries), sources, tokens, score)


def _domain(uri: str) -> str:
    host = re.sub(r"^[a-z]+://", "", uri, flags=re.IGNORECASE).split("/")[0]
    return host.removeprefix("www.") or uri


def places(rng: random.Random, hints: list[str], script: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What Google Maps finds: 2 or 3 places, or the scripted ones (each with uri and placeId)."""
    if script is not None:
        found = script.get("places") or []
    else:
        words = [w.title() for w in hints] or ["Corner"]
        found = [{"title": f"{words[i % len(words)]} {kind}"}
                 for i, kind in enumerate(rng.sample(_PLACE_KINDS, rng.randint(2, 3)))]
    out = []
    for place in found:
        place_rng = random.Random(hashlib.blake2b(place["title"].encode(), digest_size=8).digest())
        place_id = place.get("placeId") or "places/ChIJ" + _token(place_rng, 17)[:23]
        cid = place_rng.randrange(10 ** 18, 10 ** 19)
        out.append({"title": place["title"], "uri": place.get("uri") or f"https://maps.google.com/?cid={cid}",
                    "placeId": place_id, **({"snippet": place["snippet"]} if place.get("snippet") else {})})
    return out


def fetch_urls(prompt: str, script: dict[str, Any] | None) -> tuple[list[dict[str, Any]], int]:
    """urlMetadata for the URLs in the prompt (at most 20), and the tokens their content adds."""
    script = script or {}
    urls: list[str] = []
    for match in _URL_RE.findall(prompt):
        url = match.rstrip(".,;:!?")
        if url not in urls:
            urls.append(url)
    metadata, tokens = [], 0
    for url in urls[:MAX_URLS]:
        spec = script.get(url) or {"status": URL_STATUSES[0]}
        metadata.append({"retrievedUrl": url, "urlRetrievalStatus": spec["status"]})
        if spec["status"] == URL_STATUSES[0]:
            if spec.get("content") is not None:
                tokens += count_text(spec["content"])
            else:   # a page of deterministic length
                tokens += 300 + int.from_bytes(hashlib.blake2b(url.encode(), digest_size=4).digest(), "little") % 2700
    return metadata, tokens


# ----------------------------------------------------------------------------------------------------
# groundingMetadata


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, surrounding spaces left out."""
    spans = []
    for match in _SENTENCE_RE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _cite(sentence: str, chunks: list[dict[str, Any]], k: int) -> list[int]:
    """The chunks whose title or snippet share most words with the sentence (at most 2), else one in turn."""
    words = set(_WORD_RE.findall(sentence.lower()))
    scored = []
    for index, chunk in enumerate(chunks):
        own = set(_WORD_RE.findall(f"{chunk.get('title', '')} {chunk.get('snippet', '')}".lower()))
        overlap = len(words & own)
        if overlap:
            scored.append((-overlap, index))
    if scored:
        return sorted(index for _, index in sorted(scored)[:2])
    return [k % len(chunks)]


def segment(text: str, part_index: int, start: int, end: int) -> dict[str, Any]:
    """A grounding support's Segment for text[start:end]: indices in UTF-8 bytes, zeros left out."""
    out: dict[str, Any] = {}
    if part_index:
        out["partIndex"] = part_index
    byte_start = len(text[:start].encode("utf-8"))
    if byte_start:
        out["startIndex"] = byte_start
    out["endIndex"] = byte_start + len(text[start:end].encode("utf-8"))
    out["text"] = text[start:end]
    return out


def _supports(text: str, part_index: int, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    supports = []
    for k, (start, end) in enumerate(_sentences(text)):
        supports.append({"segment": segment(text, part_index, start, end),
                         "groundingChunkIndices": _cite(text[start:end], chunks, k)})
    return supports


def _entry_point(queries: list[str]) -> dict[str, Any]:
    """searchEntryPoint.renderedContent: the HTML of the search suggestion chips the app must show."""
    chips = "".join(f'<a class="chip" href="https://www.google.com/search?q={quote_plus(q)}">{html.escape(q)}</a>'
                    for q in queries)
    return {"renderedContent": (
        "<style>.container{display:flex;align-items:center;border-radius:999px;padding:4px 8px}"
        ".chip{display:inline-block;margin:0 4px;padding:4px 12px;border:1px solid #d2d2d2;border-radius:16px;"
        "color:#5e5e5e;text-decoration:none;white-space:nowrap}</style>"
        f'<div class="container"><div class="carousel">{chips}</div></div>')}


def metadata(search: Search | None, found_places: list[dict[str, Any]] | None, parts: list[dict[str, Any]],
             index: int | None, widget: bool, digest: bytes) -> dict[str, Any]:
    """The candidate's groundingMetadata for what the tools found and the answer text in parts[index]."""
    out: dict[str, Any] = {}
    chunks: list[dict[str, Any]] = []   # for citing: title and snippet
    wire_chunks: list[dict[str, Any]] = []
    if search is not None:
        if search.queries:
            out["searchEntryPoint"] = _entry_point(search.queries)
        for source in search.sources:
            chunks.append(source)
            wire_chunks.append({"web": {"uri": source["uri"], "title": source["title"]}})
    for place in found_places or ():
        chunks.append(place)
        wire_chunks.append({"maps": {"uri": place["uri"], "title": place["title"], "placeId": place["placeId"]}})
    if wire_chunks:
        out["groundingChunks"] = wire_chunks
        if index is not None:
            supports = _supports(parts[index]["text"], index, chunks)
            if supports:
                out["groundingSupports"] = supports
    if search is not None and search.queries:
        out["webSearchQueries"] = search.queries
    if search is not None and search.score is not None:
        out["retrievalMetadata"] = {"googleSearchDynamicRetrievalScore": search.score}
    if found_places and widget:
        out["googleMapsWidgetContextToken"] = widget_token(digest)
    return out


# ----------------------------------------------------------------------------------------------------
# Tool context circulation (toolConfig.includeServerSideToolInvocations, Gemini 3)
#
# https://ai.google.dev/gemini-api/docs/tool-combination: each server-side tool the model used comes back
# as a `toolCall` part and a `toolResponse` part with the same id, every one with a thought signature, so
# the client can return them as they are in the next turn. Args and response per tool (the page's
# "Tool-specific data" table): GOOGLE_SEARCH_WEB queries -> search_suggestions; GOOGLE_MAPS queries ->
# places, google_maps_widget_context_token; URL_CONTEXT urls -> urls_metadata {retrieved_url,
# url_retrieval_status}. The page shows no more of the responses than those keys; the search suggestions
# here are the search entry point's HTML, and places carry the grounding chunk's fields.


def _call_id(digest: bytes, n: int) -> str:
    raw = hashlib.blake2b(digest + b"tool-call" + bytes([n]), digest_size=8).digest()
    return "".join("abcdefghijklmnopqrstuvwxyz0123456789"[b % 36] for b in raw)


def _thought_signature(digest: bytes, n: int) -> str:
    return base64.b64encode(hashlib.blake2b(digest + b"tool-signature" + bytes([n]), digest_size=48).digest()).decode()


def circulation_parts(search: Search | None, found_places: list[dict[str, Any]] | None,
                      urls: list[dict[str, Any]] | None, widget_token: str | None, prompt_query: list[str],
                      digest: bytes) -> list[dict[str, Any]]:
    """The toolCall / toolResponse pairs of the server-side tools that ran."""
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if search is not None and search.queries:
        calls.append(("GOOGLE_SEARCH_WEB", {"queries": search.queries},
                      {"search_suggestions": _entry_point(search.queries)["renderedContent"]}))
    if found_places:
        response: dict[str, Any] = {"places": [{"title": p["title"], "uri": p["uri"], "placeId": p["placeId"]}
                                     for p in found_places]}
        if widget_token:
            response["google_maps_widget_context_token"] = widget_token
        calls.append(("GOOGLE_MAPS", {"queries": prompt_query}, response))
    if urls:
        calls.append(("URL_CONTEXT", {"urls": [u["retrievedUrl"] for u in urls]},
                      {"urls_metadata": [{"retrieved_url": u["retrievedUrl"],
                                          "url_retrieval_status": u["urlRetrievalStatus"]} for u in urls]}))
    parts = []
    for n, (tool_type, args, response) in enumerate(calls):
        call_id = _call_id(digest, n)
        parts.append({"toolCall": {"toolType": tool_type, "args": args, "id": call_id},
                      "thoughtSignature": _thought_signature(digest, 2 * n)})
        parts.append({"toolResponse": {"toolType": tool_type, "response": response, "id": call_id},
                      "thoughtSignature": _thought_signature(digest, 2 * n + 1)})
    return parts


def widget_token(digest: bytes) -> str:
    token = base64.urlsafe_b64encode(hashlib.blake2b(digest + b"maps-widget", digest_size=48).digest())
    return "widgetcontent/" + token.decode("ascii").rstrip("=")
