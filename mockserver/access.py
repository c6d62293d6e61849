"""Who may reach the control plane (`/_mock/...`, the dashboard included). README, "Security model".

The control plane needs no API key, so it is protected by where a request comes from instead:

* CORS. The API routes answer CORS for any origin (a front end calls the emulated API from the browser,
  preflight included). `/_mock/*` answers no CORS at all: a page of another origin can neither read a
  control answer nor send a request that needs a preflight.
* Host. A control request's Host must name this server: localhost, 127.0.0.1, [::1], the address it was
  bound to, the local address the connection came in on, and the names given with `--allow-host`. A
  DNS-rebinding page (its own name resolving to 127.0.0.1) sends its own name and gets 403.
* Origin. A control request carrying an Origin other than the server's own is refused with 403. Browsers
  send Origin with every cross-origin request, including the "simple" ones that skip the preflight (a
  `text/plain` POST from any page), so no web page can change the state.
* Token. On a non-loopback address (or when one is given) control requests need the control token, as
  `Authorization: Bearer <token>` or `X-Mock-Control-Token: <token>`; the dashboard page also takes
  `?token=<token>` and sends the header itself from then on. Its script and style sheet are public.

Clients without a browser (curl, the SDKs, the pytest plugin, a TestClient) send none of Origin, a foreign
Host or CORS, and pass unchanged on loopback.
"""
from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError
from .http import error_response

CONTROL_PREFIX = "/_mock"
TOKEN_HEADER = "x-mock-control-token"
DASHBOARD_PAGE = "/_mock/ui"
PUBLIC_ASSETS = frozenset({"/_mock/ui/app.js", "/_mock/ui/app.css",   # static code, no state in them
                           "/_mock/ui/requests.js", "/_mock/ui/controls.js"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The name in a Host header value, without port or IPv6 brackets, lowercase."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _authority(scheme: str, netloc: str) -> tuple[str, int | None]:
    """(host, port) of an authority, the scheme's default port filled in."""
    parts = urlsplit(f"{scheme}://{netloc}")
    try:
        port = parts.port
    except ValueError:
        return netloc, None
    return (parts.hostname or "").rstrip("."), port or DEFAULT_PORTS.get(scheme)


@dataclass(frozen=True)
class ControlAccess:
    """The control plane's protection. `token`: required on every control request when set. `hosts`: the
    names a control request's Host may carry besides the loopback names and the connection's own address."""
    token: str | None = None
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_bind(cls, host: str, *, token: str | None = None, extra_hosts: Iterable[str] = ()) -> ControlAccess:
        names = {host_name(name) for name in extra_hosts if name}
        if host not in ("0.0.0.0", "::", ""):
            names.add(host_name(host))
        return cls(token=token or None, hosts=frozenset(names))

    def refusal(self, scope: Scope) -> ApiError | None:
        """Why a control request is refused, or None."""
        headers = Headers(scope=scope)
        host = headers.get("host")
        if host is not None:
            name = host_name(host)
            server = (scope.get("server") or (None,))[0]
            if name not in LOOPBACK_NAMES and name not in self.hosts and name != (server or "").lower():
                return ApiError(403, "PERMISSION_DENIED",
                                f"Host {host!r} is not a name this server listens on; the control plane answers "
                                f"only to its own names (start it with --allow-host {name} to add this one).")
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, scope, host):
            return ApiError(403, "PERMISSION_DENIED",
                            f"Control requests from another origin ({origin}) are refused: the control plane "
                            f"takes no requests from web pages other than its own dashboard.")
        if self.token is None or scope["path"] in PUBLIC_ASSETS:
            return None
        given = self._token(scope, headers)
        if given is None:
            return ApiError(401, "UNAUTHENTICATED",
                            "The control plane needs the control token (printed at start): send it as "
                            "'Authorization: Bearer <token>' or 'X-Mock-Control-Token: <token>'.")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return ApiError(403, "PERMISSION_DENIED", "The control token is not valid.")
        return None

    @staticmethod
    def _same_origin(origin: str, scope: Scope, host: str | None) -> bool:
        parts = urlsplit(origin.strip())
        if parts.scheme not in DEFAULT_PORTS or not parts.netloc or host is None:
            return False   # "null" (sandboxed frames, file:), or nothing to compare with
        scheme = scope.get("scheme", "http")
        return _authority(parts.scheme, parts.netloc) == _authority(scheme, host.strip().lower()) \
            and parts.scheme == scheme

    @staticmethod
    def _token(scope: Scope, headers: Headers) -> str | None:
        token = headers.get(TOKEN_HEADER)
        if token:
            return token
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        if scope["path"].rstrip("/") == DASHBOARD_PAGE:
            values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
            return values[0] if values else None
        return None

    def is_token(self, value: str | None) -> bool:
        return bool(self.token and value and hmac.compare_digest(value.encode(), self.token.encode()))


def is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class AccessMiddleware:
    """ASGI middleware: API routes go through CORS; control routes through `ControlAccess` and no CORS."""

    def __init__(self, app: ASGIApp, access: ControlAccess, **cors_options: Any) -> None:
        self.app = app
        self.access = access
        self.api = CORSMiddleware(app, **cors_options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_control(scope["path"]):
            await self.api(scope, receive, send)
            return
        refused = self.access.refusal(scope)
        if refused is not None:
            await error_response(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
