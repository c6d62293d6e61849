"""The one way a test starts an emulator of its own.

Most tests use the plugin's `gemini_mock` / `gemini_server` fixtures: one emulator per session (per xdist
worker), reset between tests. A test that needs a server configured differently (a keys file, a config,
a state dir, control-plane access rules, cassettes to replay, another ASGI app such as the recording
proxy, TLS) starts one with `serve(...)`, in the test or in a fixture of whatever scope it needs:

    with serve(keys={"paid": Identity("paid", "project-paid", "paid@example.com", tier="tier1")}) as server:
        with api_client(server, key="paid") as api:
            ...

The server is stopped (and its store closed) when the block ends, whatever the test did.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from gemini_mockserver.auth import Identity, KeyRing
from gemini_mockserver.pytest_plugin.server import LiveServer


@contextmanager
def serve(*, keys: KeyRing | Mapping[str, Identity] | None = None, **options: Any) -> Iterator[LiveServer]:
    """An emulator on 127.0.0.1:<free port> for the block. `keys` lists the identities the server knows
    (a KeyRing, or a mapping from key to Identity; none: any key is accepted); the other options go to
    `LiveServer` (`app=`, `tls=`, `sock=`) or to `create_app` (`config=`, `state_dir=`, `access=`, `replay=`)."""
    if keys is not None:
        options["keys"] = keys if isinstance(keys, KeyRing) else KeyRing(dict(keys))
    with LiveServer(**options) as server:
        yield server


def api_client(server: LiveServer, key: str | None = None, **headers: str) -> httpx.Client:
    """A plain HTTP client on `server` (sending `key` as x-goog-api-key when given), for `with`."""
    sent = {"x-goog-api-key": key} if key is not None else {}
    return httpx.Client(base_url=server.base_url, headers={**sent, **headers}, timeout=30)
