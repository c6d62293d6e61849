"""Media behind URLs in `fileData.fileUri`: YouTube videos and public https URLs, answered offline.

The real API fetches a YouTube video or a public (or signed) https URL given as `fileData.fileUri` in
generateContent and countTokens (https://ai.google.dev/gemini-api/docs/video-understanding#youtube,
https://ai.google.dev/gemini-api/docs/file-input-methods, read 2026-12). The emulator fetches nothing:

* a URL registered by a test (`gemini_mock.register_url(...)`) or the control plane
  (`POST /_mock/urls {"url", "mimeType", "durationSeconds", "pages", "text"}`) holds what was registered;
  a registration with a `project` is seen by that project only and wins over one without;
* an unregistered YouTube URL is a video whose length (30 to 600 s) is derived from its video id;
* any other unregistered https URL holds media of the part's `mimeType` (else the type its extension
  names, else a web page) with a length, page count or text size derived from the URL.

So the same URL always costs the same tokens. A Files API uri (`files/{id}`, `<base>/{version}/files/{id}`)
goes to the files backend; any other scheme (http, gs, ...) or a malformed URL is a 400 naming the field.
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

from ..errors import invalid_argument, not_found
from ..generation import media
from ..generation.media import MediaInfo
from ..generation.tokens import count_text

if TYPE_CHECKING:
    from ..auth import Identity
    from ..store import Store

FIELD = "fileData.fileUri"
YOUTUBE_SECONDS = (30, 600)        # an unregistered YouTube video lasts this long, by its id
OTHER_SECONDS = (10, 300)          # an unregistered audio or video URL
OTHER_PAGES = (1, 10)              # an unregistered PDF
OTHER_TEXT_TOKENS = (200, 2000)    # an unregistered text page
DEFAULT_MIME = "text/html"         # an unregistered URL whose part and path name no type: a web page
MAX_SECONDS = 24 * 3600
MAX_PAGES = 1000                   # the documented PDF page limit
_FILES_PATH = re.compile(r"(?:^|/)(?:v1|v1beta|v1alpha)/files/[^/]+/?\Z")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be",
                  "www.youtu.be"}
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}\Z")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?\Z")
# A fixed table (not the `mimetypes` module, whose answers depend on the machine's files).
EXTENSIONS = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "webp": "image/webp", "heic": "image/heic", "heif": "image/heif", "gif": "image/gif",
    "mp3": "audio/mp3", "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac", "aac": "audio/aac",
    "aiff": "audio/aiff", "mp4": "video/mp4", "mpeg": "video/mpeg", "mov": "video/mov", "avi": "video/avi",
    "webm": "video/webm", "wmv": "video/wmv", "3gp": "video/3gpp", "flv": "video/x-flv",
    "txt": "text/plain", "html": "text/html", "htm": "text/html", "csv": "text/csv", "md": "text/markdown",
    "xml": "text/xml", "json": "application/json",
}


def is_files_uri(uri: str) -> bool:
    """A Files API uri (or something that is no URL at all, which the files backend refuses)."""
    text = uri.strip()
    return "://" not in text or bool(_FILES_PATH.search(urlsplit(text).path))


def youtube_id(uri: str) -> str | None:
    """The video id of a YouTube URL, None for another host; a YouTube URL without a valid id is a 400."""
    parts = urlsplit(uri.strip())
    host = (parts.hostname or "").lower()
    if host not in _YOUTUBE_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if host.endswith("youtu.be"):
        candidate = segments[0] if segments else ""
    elif segments[:1] == ["watch"]:
        candidate = (parse_qs(parts.query).get("v") or [""])[0]
    elif len(segments) >= 2 and segments[0] in ("shorts", "embed", "live", "v"):
        candidate = segments[1]
    else:
        candidate = ""
    if not _VIDEO_ID.match(candidate):
        raise invalid_argument(f"Invalid YouTube URL in fileData.fileUri: {uri} names no video.", FIELD)
    return candidate


def check_url(uri: object, field: str = FIELD) -> str:
    """The URL stripped; 400 naming `field` unless it is a well-formed https URL."""
    text = uri.strip() if isinstance(uri, str) else ""
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme.lower() != "https":
        scheme = parts.scheme if parts is not None and parts.scheme else "none"
        raise invalid_argument(f"Unsupported file uri {text[:200]!r} (scheme {scheme}): fileData.fileUri takes a "
                               "Files API uri, a YouTube URL or a public https URL.", field)
    if not port_ok or not parts.netloc or "@" in parts.netloc or not _HOST.match(parts.netloc) \
            or any(c.isspace() for c in text):
        raise invalid_argument(f"Invalid URL in {field}: {text[:200]!r}.", field)
    return text


def _key(url: str) -> str:
    """What registrations and lookups are matched by: a YouTube video by its id, any other URL as given."""
    video = youtube_id(url)
    return f"youtube:{video}" if video else url


def _spread(url: str, salt: str, low: int, high: int) -> int:
    """A number in [low, high] derived from the URL: the same URL, the same number, on every machine."""
    digest = hashlib.blake2b(f"{salt}:{url}".encode(), digest_size=8).digest()
    return low + int.from_bytes(digest, "big") % (high - low + 1)


@dataclass
class Registration:
    id: str
    url: str
    mime_type: str
    project: str | None = None
    duration_seconds: float | None = None
    pages: int | None = None
    text: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "url": self.url, "mimeType": self.mime_type}
        for key, value in (("durationSeconds", self.duration_seconds), ("pages", self.pages),
                           ("text", self.text), ("project", self.project)):
            if value is not None:
                body[key] = value
        return body


def _registration(item_id: str, item: Any) -> Registration:
    if not isinstance(item, dict):
        raise invalid_argument("A URL registration is an object: {url, mimeType, durationSeconds, pages, text}.")
    unknown = sorted(set(item) - {"url", "mimeType", "durationSeconds", "pages", "text", "project", "id"})
    if unknown:
        raise invalid_argument(f"Unknown field '{unknown[0]}' in a URL registration.", unknown[0])
    url = check_url(item.get("url"), "url")
    mime = item.get("mimeType") or ("video/mp4" if youtube_id(url) else None)
    if not isinstance(mime, str):
        raise invalid_argument("mimeType is required (except for a YouTube URL).", "mimeType")
    media.check_mime(mime, "mimeType")
    seconds, pages, text = item.get("durationSeconds"), item.get("pages"), item.get("text")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                or not 0 < seconds <= MAX_SECONDS):
        raise invalid_argument(f"durationSeconds must be a number of seconds in (0, {MAX_SECONDS}].",
                               "durationSeconds")
    if pages is not None and (isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= MAX_PAGES):
        raise invalid_argument(f"pages must be a whole number from 1 to {MAX_PAGES}.", "pages")
    if text is not None and not isinstance(text, str):
        raise invalid_argument("text must be a string.", "text")
    project = item.get("project")
    if project is not None and not isinstance(project, str):
        raise invalid_argument("project must be a string.", "project")
    return Registration(item_id, url, mime, project, float(seconds) if seconds is not None else None, pages, text)


class UrlMedia:
    """The registered URLs (control plane and plugin) and what any URL holds."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._items: dict[str, Registration] = {}
        self._next = 1
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._items.clear()
            self._next = 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def add(self, item: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            registration = _registration(f"url-{self._next}", item)
            self._next += 1
            self._items[registration.id] = registration
            return registration.as_dict()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item.as_dict() for item in self._items.values()]

    def delete(self, item_id: str) -> None:
        with self._lock:
            if self._items.pop(item_id, None) is None:
                raise not_found(f"Url {item_id} was not found.")

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            return {"next": self._next, "urls": [item.as_dict() for item in self._items.values()]}

    def import_state(self, data: dict[str, Any]) -> None:
        items = {item["id"]: _registration(item["id"], item) for item in data.get("urls") or []}
        with self._lock:
            self._items, self._next = items, int(data.get("next") or 1)

    # -- what a URL holds ----------------------------------------------------------------------------
    def registered(self, project: str | None, url: str) -> Registration | None:
        key = _key(url)
        with self._lock:
            found = [item for item in self._items.values()
                     if item.project in (None, project) and _key(item.url) == key]
        found.sort(key=lambda item: item.project is not None)   # the project's own registration wins
        return found[-1] if found else None

    def media_info(self, project: str | None, uri: str, mime_type: str | None) -> MediaInfo:
        url = check_url(uri)
        video = youtube_id(url)
        item = self.registered(project, url)
        if item is not None:
            return _info(item.mime_type, item.url, item.duration_seconds, item.pages, item.text)
        if video:
            return _info("video/mp4", url, _spread(video, "youtube", *YOUTUBE_SECONDS), None, None)
        path = urlsplit(url).path
        extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        return _info(mime_type or EXTENSIONS.get(extension) or DEFAULT_MIME, url, None, None, None)


def _info(mime: str, url: str, seconds: float | None, pages: int | None, text: str | None) -> MediaInfo:
    modality = media.check_mime(mime, "fileData.mimeType")
    if modality == media.IMAGE:
        return MediaInfo(mime, modality, media.IMAGE_TOKENS)
    if modality in (media.AUDIO, media.VIDEO):
        seconds = seconds or _spread(url, "seconds", *OTHER_SECONDS)
        if modality == media.AUDIO:
            return MediaInfo(mime, modality, media.audio_tokens(seconds), seconds)
        return MediaInfo(mime, modality, media.video_tokens(seconds), video_seconds=seconds)
    if modality == media.DOCUMENT:
        return MediaInfo(mime, modality, media.DOCUMENT_TOKENS_PER_PAGE * (pages or _spread(url, "pages",
                                                                                            *OTHER_PAGES)))
    tokens = count_text(text) if text is not None else _spread(url, "text", *OTHER_TEXT_TOKENS)
    return MediaInfo(mime, modality, tokens)


# -- the one resolver of fileData uris ---------------------------------------------------------------------

def _mime_hints(bodies: Iterable[dict[str, Any] | None]) -> dict[str, str]:
    """fileUri -> the mimeType its part gives, over the contents of the given request bodies."""
    hints: dict[str, str] = {}
    pending = [body for body in bodies if isinstance(body, dict)]
    while pending:
        body = pending.pop()
        inner = body.get("generateContentRequest")
        if isinstance(inner, dict):
            pending.append(inner)
        turns = list(body.get("contents") or [])
        if isinstance(body.get("systemInstruction"), dict):
            turns.append(body["systemInstruction"])
        for turn in turns:
            for part in (turn.get("parts") or []) if isinstance(turn, dict) else ():
                data = part.get("fileData") if isinstance(part, dict) else None
                if isinstance(data, dict) and isinstance(data.get("fileUri"), str) and data.get("mimeType"):
                    hints.setdefault(data["fileUri"], str(data["mimeType"]))
    return hints


def resolver(store: Store, identity: Identity, *bodies: dict[str, Any] | None) -> Callable[[str], MediaInfo]:
    """Resolves every `fileData.fileUri` of `bodies`: Files API uris through the files backend, URLs here."""
    hints = _mime_hints(bodies)

    def resolve(uri: str) -> MediaInfo:
        if is_files_uri(uri):
            return store.files.media_info(identity, uri)
        return store.urls.media_info(identity.project, uri, hints.get(uri))
    return resolve


def register(store: Store) -> None:
    store.register("urls", UrlMedia(store))
