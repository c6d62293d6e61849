"""The Interactions API, managed agents and webhooks: one resource package (backend.py holds the state and
rules, convert.py the wire format <-> engine mapping, events.py the streamed events, handlers.py and
agents.py the HTTP skins)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...routing import GENERATE, Handler, Route, route
from . import agents, handlers, webhooks
from .backend import Interactions

if TYPE_CHECKING:
    from ...store import Store


def register(store: Store) -> None:
    store.register("interactions", Interactions(store))
    store.register("agents", agents.Agents(store))
    store.register("webhooks", webhooks.Webhooks(store))


def _route(method: str, template: str, handler: Handler, **options: Any) -> Route:
    return route(method, template, handler, render_error=handlers.error_response, **options)


ROUTES = [
    # a model interaction runs a model (an agent's names no model: nothing is counted)
    _route("POST", "interactions", handlers.create, runs=GENERATE, name="interactions.create", model_in_body=True),
    _route("GET", "interactions/{id}", handlers.get),
    _route("DELETE", "interactions/{id}", handlers.delete),
    _route("POST", "interactions/{id}/cancel", handlers.cancel),
    _route("GET", "agents", agents.list_agents),
    _route("POST", "agents", agents.create_agent),
    _route("GET", "agents/{id}", agents.get_agent),
    _route("DELETE", "agents/{id}", agents.delete_agent),
    _route("GET", "webhooks", webhooks.list_webhooks),
    _route("POST", "webhooks", webhooks.create_webhook),
    _route("GET", "webhooks/{id}", webhooks.get_webhook),
    _route("PATCH", "webhooks/{id}", webhooks.update_webhook),
    _route("DELETE", "webhooks/{id}", webhooks.delete_webhook),
    _route("POST", "webhooks/{id}:ping", webhooks.ping_webhook),
    _route("POST", "webhooks/{id}:rotateSigningSecret", webhooks.rotate_secret),
]
