"""The Live API: `BidiGenerateContent` over WebSocket, the ephemeral tokens browser clients use for it, and
Live music (Lyria RealTime): `BidiGenerateMusic`.

protocol.py   the wire: reading client messages, the close codes, audio bytes
session.py    one session's conversation (plain Python: client message in, server messages out)
music.py      one Live music session: prompts, config, playback and its audio chunks (plain Python too)
tokens.py     ephemeral tokens (`auth_tokens`): their backend and their REST route (v1alpha)
endpoint.py   the WebSocket skin: authentication, the session loop, faults and the journal
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .endpoint import live_endpoint
from .session import Resumptions
from .tokens import ROUTES, AuthTokens

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["ROUTES", "register", "live_endpoint"]


def register(store: Store) -> None:
    store.register("auth_tokens", AuthTokens(store))
    store.register("live_resumptions", Resumptions(store))
