"""`POST files:register`: registering Cloud Storage objects as Files.

The request is `{"uris": ["gs://bucket/object", ...]}` and the answer `{"files": [File, ...]}`
(RegisterFilesRequest / RegisterFilesResponse in the v1beta discovery document; google-genai 3.6.1
`files.register_files` and @google/genai `files.registerFiles` send it). It is the one Files method that needs
more than an API key: the SDKs add `Authorization: Bearer <OAuth access token>` from Google credentials next
to the key, because the service reads the objects from Cloud Storage on the caller's behalf, and the bucket
must grant the Gemini API service agent read access (google-genai's `register_files` docstring and the Kotlin
and Java SDK references; ai.google.dev/gemini-api/docs/file-input-methods#registration, read 2026-12).

The emulator holds no Cloud Storage, so:

* without OAuth credentials the call is Google's standard 401 UNAUTHENTICATED for a method that needs them
  (ErrorInfo reason CREDENTIALS_MISSING);
* with credentials, malformed URIs are a 400 naming `uris[i]`, and a well-formed `gs://` object is a 403:
  no bucket the emulator knows grants its service agent read access. Registering objects that resolve to
  served bytes is not emulated.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NoReturn

from starlette.datastructures import Headers
from starlette.responses import Response

from ..errors import ApiError, invalid_argument
from ..http import Context
from ..routing import route

if TYPE_CHECKING:
    from ..store import Store

GCS_URI = re.compile(r"gs://([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])/(\S+)\Z")
MAX_URIS = 100
CREDENTIALS_MISSING = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")


def oauth_token(headers: Headers) -> str | None:
    """The OAuth access token next to the API key (`Authorization: Bearer ...`), if any."""
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    return token or None


def check_uris(body: dict[str, Any]) -> list[str]:
    uris = body.get("uris")
    if not isinstance(uris, list) or not uris:
        raise invalid_argument("uris must list at least one Cloud Storage URI (gs://bucket/object).", "uris")
    if len(uris) > MAX_URIS:
        raise invalid_argument(f"At most {MAX_URIS} uris can be registered in one call, got {len(uris)}.", "uris")
    for index, uri in enumerate(uris):
        if not isinstance(uri, str) or not GCS_URI.match(uri):
            raise invalid_argument(f"uris[{index}] {str(uri)[:200]!r} is not a Cloud Storage URI "
                                   f"(gs://bucket/object).", f"uris[{index}]")
    return uris


def register_files(has_credentials: bool, body: dict[str, Any]) -> NoReturn:
    """The emulator's answer to files:register (see the module docstring): always an ApiError."""
    if not has_credentials:
        raise ApiError(401, "UNAUTHENTICATED", CREDENTIALS_MISSING, [{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CREDENTIALS_MISSING",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com",
                         "method": "google.ai.generativelanguage.v1beta.FileService.RegisterFiles"}}])
    uris = check_uris(body)
    first = GCS_URI.match(uris[0])
    assert first is not None, "check_uris matched every uri"
    bucket = first.group(1)
    raise ApiError(403, "PERMISSION_DENIED",
                   f"The Gemini API service agent cannot read {uris[0]}: bucket {bucket} does not grant it "
                   f"the Storage Object Viewer role, or the object does not exist.")


async def register_handler(ctx: Context) -> Response:
    ctx.identity   # the API key names the project, as on every call
    body = await ctx.json()
    key_apart = ctx.request.headers.get("x-goog-api-key") or ctx.query("key")   # else Bearer was the key
    register_files(bool(key_apart) and oauth_token(ctx.request.headers) is not None, body)


def register(store: Store) -> None:
    """No state of its own."""


ROUTES = [route("POST", "files:register", register_handler)]
