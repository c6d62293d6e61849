"""The Interactions API, managed agents and webhooks: one resource package (backend.py holds the state and
rules, convert.py the wire format <-> engine mapping, events.py the streamed events, handlers.py and
agents.py the HTTP skins)."""
from __future__ import annotations

from ...routing import route
from . import agents, handlers
from .backend import Interactions


def register(store) -> None:
    store.register("interactions", Interactions(store))
    store.register("agents", agents.Agents(store))


def _route(method: str, template: str, handler):
    return route(method, template, handler, render_error=handlers.error_response)


ROUTES = [
    _route("POST", "interactions", handlers.create),
    _route("GET", "interactions/{id}", handlers.get),
    _route("DELETE", "interactions/{id}", handlers.delete),
    _route("POST", "interactions/{id}/cancel", handlers.cancel),
    _route("GET", "agents", agents.list_agents),
    _route("POST", "agents", agents.create_agent),
    _route("GET", "agents/{id}", agents.get_agent),
    _route("DELETE", "agents/{id}", agents.delete_agent),
]
