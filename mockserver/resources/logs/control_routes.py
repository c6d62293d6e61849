"""Logs and datasets over the control plane (the API has no routes for them).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from starlette.responses import Response
from starlette.routing import Route

from ...control_http import ControlContext, ControlHandler, by_verb, route_table
from ...errors import invalid_argument
from ...http import json_response
from ...wire import page_size
from .backend import Logs
from .records import ALL_METHODS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

if TYPE_CHECKING:
    from ...store import Store

# -- control-plane handlers -----------------------------------------------------------------------------


def _logs(ctx: ControlContext) -> Logs:
    return ctx.store.logs


def _paging(ctx: ControlContext) -> tuple[int, str | None]:
    return page_size(ctx.query("pageSize"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE), ctx.query("pageToken")


async def get_logging(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).logging(ctx.params["project"]))


def _only_field(body: dict[str, Any], name: str, unknown: str, missing: str) -> Any:
    """The value of `body`'s one field `name`; another field, or none, is a 400 naming it."""
    others = [k for k in body if k != name]
    if others:
        raise invalid_argument(f"Unknown field '{others[0]}': {unknown}", others[0])
    if name not in body:
        raise invalid_argument(missing, name)
    return body[name]


async def patch_logging(ctx: ControlContext) -> Response:
    enabled = _only_field(await ctx.json(), "enabled", "logging takes only enabled.", "Give enabled: true or false.")
    return json_response(_logs(ctx).set_logging(ctx.params["project"], enabled))


async def list_logs(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).list_logs(ctx.params["project"], *_paging(ctx)))


async def get_log(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).get_log(ctx.params["project"], ctx.params["log"]))


async def feedback(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).feedback(ctx.params["project"], ctx.params["log"], await ctx.json()))


async def list_datasets(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).list_datasets(ctx.params["project"], *_paging(ctx)))


async def create_dataset(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).create_dataset(ctx.params["project"], await ctx.json()))


async def get_dataset(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).get_dataset(ctx.params["project"], ctx.params["dataset"]))


async def patch_dataset(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).update_dataset(ctx.params["project"], ctx.params["dataset"], await ctx.json()))


async def delete_dataset(ctx: ControlContext) -> Response:
    _logs(ctx).delete_dataset(ctx.params["project"], ctx.params["dataset"])
    return json_response({})


async def dataset_logs(ctx: ControlContext) -> Response:
    return json_response(_logs(ctx).dataset_logs(ctx.params["project"], ctx.params["dataset"], *_paging(ctx)))


def _change(method: Callable[[Logs, str, str, Any], dict[str, Any]]) -> ControlHandler:
    """addLogs / removeLogs: `{"logs": [...]}` into `Logs.add_logs` or `Logs.remove_logs`."""
    async def handler(ctx: ControlContext) -> Response:
        logs = _only_field(await ctx.json(), "logs", "give logs.", "logs is required: the names of the logs.")
        return json_response(method(_logs(ctx), ctx.params["project"], ctx.params["dataset"], logs))
    return handler


def control_routes(store: Store) -> list[Route]:
    """The `/projects/{project}/logging|logs|datasets` routes (mounted under /_mock). Every verb reaches the
    handlers: one a path does not serve is a 404 envelope, as the API router answers it."""
    base = "/projects/{project}"
    table: list[tuple[str, dict[str, ControlHandler]]] = [
        (f"{base}/logging", {"GET": get_logging, "PATCH": patch_logging}),
        (f"{base}/logs", {"GET": list_logs}),
        (base + "/logs/{log}:feedback", {"POST": feedback}),
        (base + "/logs/{log}", {"GET": get_log}),
        (f"{base}/datasets", {"GET": list_datasets, "POST": create_dataset}),
        (base + "/datasets/{dataset}:addLogs", {"POST": _change(Logs.add_logs)}),
        (base + "/datasets/{dataset}:removeLogs", {"POST": _change(Logs.remove_logs)}),
        (base + "/datasets/{dataset}/logs", {"GET": dataset_logs}),
        (base + "/datasets/{dataset}", {"GET": get_dataset, "PATCH": patch_dataset, "DELETE": delete_dataset}),
    ]
    return route_table(store, [(path, by_verb(verbs), ALL_METHODS) for path, verbs in table])
