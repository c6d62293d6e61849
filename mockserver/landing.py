"""`GET /` (where to go from here) and `GET /healthz` (is the server up).

Neither needs an API key nor leaves a journal entry: they are not API calls. `/` answers HTML when the
client's Accept header prefers text/html (a browser), JSON otherwise (curl, scripts).
"""
from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from . import installed_version
from .http import json_response


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type`: its own entry, else type/*, else */*, else 0."""
    kind = media_type.split("/")[0]
    best: dict[int, float] = {}
    for item in accept.split(","):
        name, *params = [piece.strip() for piece in item.split(";")]
        name = name.lower()
        rank = 3 if name == media_type else 2 if name == f"{kind}/*" else 1 if name == "*/*" else 0
        if not rank:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best[rank] = max(best.get(rank, 0.0), q)
    return best[max(best)] if best else 0.0


def wants_html(accept: str | None) -> bool:
    """HTML only when text/html is asked for by name and ranks at least as high as JSON."""
    if not accept or "text/html" not in accept.lower():
        return False
    html = _quality(accept, "text/html")
    return html > 0 and html >= _quality(accept, "application/json")


def links(base: str) -> dict[str, Any]:
    return {
        "name": "gemini-mockserver",
        "description": "An offline, stateful, deterministic emulator of the Gemini API.",
        "version": installed_version(),
        "baseUrl": base,
        "dashboard": f"{base}/_mock/ui",
        "openapi": f"{base}/openapi.json",
        "health": f"{base}/healthz",
        "example": f"{base}/v1beta/models/gemini-2.5-flash:generateContent",
    }


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gemini-mockserver</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:0 .25rem}}</style></head>
<body><h1>gemini-mockserver {version}</h1>
<p>{description} Point a client at <code>{baseUrl}</code> with any API key.</p>
<ul>
<li><a href="{dashboard}">Dashboard</a>: the emulator's state, live</li>
<li><a href="{openapi}">OpenAPI document</a>: every route</li>
<li><a href="{health}">Health check</a></li>
</ul>
<p>Try it:</p>
<pre><code>curl "{example}" \\
  -H 'Content-Type: application/json' -H 'x-goog-api-key: any-key' \\
  -d '{{"contents": [{{"parts": [{{"text": "hello"}}]}}]}}'</code></pre>
</body></html>
"""


async def landing(request: Request) -> Response:
    info = links(str(request.base_url).rstrip("/"))
    if wants_html(request.headers.get("accept")):
        return HTMLResponse(PAGE.format(**{key: escape(value) for key, value in info.items()}),
                            headers={"Vary": "Accept"})
    return json_response(info, headers={"Vary": "Accept"})


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def favicon(request: Request) -> Response:
    """A browser opening the landing page or the dashboard asks for /favicon.ico: no icon, and no 404 in
    the journal (the inspector would show it as a failed request the developer never made)."""
    return Response(status_code=204)

