"""`gemini-mock catalog record --api-key KEY [--out FILE]`: the real models list, as a catalog file.

It pages through `GET {upstream}/v1beta/models` (pageSize 1000, following nextPageToken) with the key in
`x-goog-api-key`, and writes `{"x-recorded": {...}, "models": [...]}`: the Model objects as the API sent
them, each with the `emulator` facts the shipped catalog has for the same name (embedding size, thinking
levels, caching, lifecycle, ...), so a recorded model behaves as the shipped one does. `serve --catalog
FILE` (config `models.catalog`) serves it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import httpx

from .resources.models import load_catalog

DEFAULT_UPSTREAM = "https://generativelanguage.googleapis.com"
PAGE_SIZE = 1000
MAX_PAGES = 100   # a list that never ends is an upstream bug, not a reason to loop forever


class RecordError(Exception):
    """Why the models list could not be recorded, in one line."""


def fetch_models(api_key: str, upstream: str = DEFAULT_UPSTREAM, *, version: str = "v1beta",
                 client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """Every model of the upstream's models.list, in its order."""
    url = f"{upstream.rstrip('/')}/{version}/models"
    own = client is None
    client = client or httpx.Client(timeout=30.0)
    models: list[dict[str, Any]] = []
    token = ""
    try:
        for _ in range(MAX_PAGES):
            params = {"pageSize": str(PAGE_SIZE)}
            if token:
                params["pageToken"] = token
            try:
                response = client.get(url, params=params, headers={"x-goog-api-key": api_key})
            except httpx.HTTPError as error:
                raise RecordError(f"{url}: {error}") from None
            body = _json(response)
            if response.status_code != 200:
                message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
                raise RecordError(f"{url}: HTTP {response.status_code}: {message or response.text[:200]}")
            page = body.get("models") or []
            if not isinstance(page, list):
                raise RecordError(f"{url}: the answer's 'models' is not a list")
            models.extend(m for m in page if isinstance(m, dict) and m.get("name"))
            token = body.get("nextPageToken") or ""
            if not token:
                return models
        raise RecordError(f"{url}: still paging after {MAX_PAGES} pages")
    finally:
        if own:
            client.close()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def with_emulator_facts(models: list[dict[str, Any]],
                        shipped: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The recorded models, each with the shipped catalog's `emulator` object for the same name."""
    known = {m["name"]: m.get("emulator") for m in (shipped if shipped is not None else load_catalog(None))}
    out = []
    for model in models:
        entry = {k: v for k, v in model.items() if k != "emulator"}
        if known.get(model["name"]):
            entry["emulator"] = known[model["name"]]
        out.append(entry)
    return out


def record_catalog(api_key: str, out: str | Path, upstream: str = DEFAULT_UPSTREAM, *,
                   recorded_at: str, client: httpx.Client | None = None,
                   echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    models = with_emulator_facts(fetch_models(api_key, upstream, client=client))
    document = {"x-recorded": {"from": f"{upstream.rstrip('/')}/v1beta/models", "at": recorded_at},
                "models": models}
    Path(out).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    echo(f"gemini-mock: recorded {len(models)} models into {out}")
    return models
