"""Ephemeral tokens (`POST /v1alpha/auth_tokens`): short-lived credentials for Live sessions from browsers.

The shape follows google-genai (google/genai/tokens.py, _tokens_converters.py: the body carries `uses`,
`expireTime`, `newSessionExpireTime`, `bidiGenerateContentSetup` and a comma-separated `fieldMask`; the
answer is an AuthToken whose `name` is the token) and the ephemeral tokens page
(ai.google.dev/gemini-api/docs/ephemeral-tokens): a token starts at most `uses` sessions (default 1; 0 =
no limit; resuming a session does not count), no new session after `newSessionExpireTime` (default one
minute from creation) nor after `expireTime` (default 30 minutes), and only on the constrained endpoint
(BidiGenerateContentConstrained). A session it opened takes no message after `expireTime`: the next one
closes it (1008). A `bidiGenerateContentSetup` locks the session's setup to it: without a
field mask every field it sets, with one the fields the mask names. Times are the emulator clock's.

Token names are bearer credentials, so they are random (secrets), not derived from the seed.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..auth import Identity
from ..errors import ApiError, invalid_argument
from ..http import Context, json_response
from ..routing import route
from ..schema import normalize
from ..wire import format_time, parse_time

if TYPE_CHECKING:
    from ..store import Store

PREFIX = "auth_tokens/"
DEFAULT_EXPIRE_SECONDS = 30 * 60
DEFAULT_NEW_SESSION_SECONDS = 60
FIELDS = ("uses", "expireTime", "newSessionExpireTime", "bidiGenerateContentSetup", "fieldMask", "name")


@dataclass
class Token:
    name: str
    identity: Identity
    uses: int                 # 0: no limit
    used: int
    expire: float
    new_session_expire: float
    setup: dict[str, Any] | None
    field_mask: list[str] | None


def _refused() -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", "The ephemeral token is not valid: it is unknown, expired or used up.")


class AuthTokens:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()

    def create(self, identity: Identity, body: dict[str, Any], version: str) -> dict[str, Any]:
        for key in body:
            if key not in FIELDS:
                raise invalid_argument(f"Invalid JSON payload received. Unknown name \"{key}\": Cannot find field.",
                                       key)
        now = self._store.now()
        uses = body.get("uses", 1)
        if isinstance(uses, str) and uses.isdigit():
            uses = int(uses)
        if isinstance(uses, bool) or not isinstance(uses, int) or uses < 0:
            raise invalid_argument("uses must be a non-negative integer (0: no limit).", "uses")
        expire = parse_time(body["expireTime"], "expireTime") if body.get("expireTime") else now + DEFAULT_EXPIRE_SECONDS
        new_session = (parse_time(body["newSessionExpireTime"], "newSessionExpireTime")
                       if body.get("newSessionExpireTime") else now + DEFAULT_NEW_SESSION_SECONDS)
        if expire <= now:
            raise invalid_argument("expireTime must be in the future.", "expireTime")
        if new_session <= now:
            raise invalid_argument("newSessionExpireTime must be in the future.", "newSessionExpireTime")
        setup = body.get("bidiGenerateContentSetup")
        if setup is not None:
            if isinstance(setup, dict) and isinstance(setup.get("setup"), dict):
                setup = setup["setup"]
            setup = normalize(version, "BidiGenerateContentSetup", setup, "bidiGenerateContentSetup")
        mask = body.get("fieldMask")
        if isinstance(mask, str):
            mask = [item.strip() for item in mask.split(",") if item.strip()]
        elif mask is not None and not (isinstance(mask, list) and all(isinstance(m, str) for m in mask)):
            raise invalid_argument("fieldMask must be a comma-separated list of field paths.", "fieldMask")
        token = Token(PREFIX + secrets.token_urlsafe(24), identity, uses, 0, expire, min(new_session, expire),
                      setup, mask)
        with self._lock:
            self._tokens = {name: item for name, item in self._tokens.items() if item.expire > now}
            self._tokens[token.name] = token
        return {"name": token.name}

    def start_session(self, name: str, *, resuming: bool) -> Token:
        """The token for a new session, with one use taken (none when `resuming`); 401 when refused."""
        now = self._store.now()
        with self._lock:
            token = self._tokens.get(name)
            if token is None or now >= token.expire or now >= token.new_session_expire:
                raise _refused()
            if not resuming:
                if token.uses and token.used >= token.uses:
                    raise _refused()
                token.used += 1
            return token

    def check_message(self, token: Token) -> None:
        """A message in a session the token opened: refused (401, so the session closes 1008) once the
        token's `expireTime` has passed. AuthToken.expireTime (google-genai types): "messages in
        BidiGenerateContent sessions will be rejected" after it."""
        if self._store.now() >= token.expire:
            raise ApiError(401, "UNAUTHENTICATED", f"The ephemeral token expired at {format_time(token.expire)}: "
                                                   "messages in sessions it opened are rejected.")

    def constraints(self, token: Token) -> dict[str, Any] | None:
        if token.setup is None:
            return None
        return {"setup": token.setup, "fieldMask": token.field_mask}


async def create_auth_token(ctx: Context) -> Response:
    body = await ctx.json()
    return json_response(ctx.store.auth_tokens.create(ctx.identity, body, ctx.version))


ROUTES = [route("POST", "auth_tokens", create_auth_token, versions=("v1alpha",))]
