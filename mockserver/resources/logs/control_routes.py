"""Logs and datasets over the control plane (the API has no routes for them).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import ApiError, invalid_argument
from ...http import error_response, json_response, parse_json, read_body
from ...wire import page_size
from .records import ALL_METHODS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

if TYPE_CHECKING:
    from ...store import Store

# -- control-plane routes -------------------------------------------------------------------------------


# A control handler: the request and the path parameters (project, log, dataset) as keywords
ControlHandler = Callable[..., Awaitable[Response]]


def _verbs(handlers: dict[str, ControlHandler]) -> Callable[[Request], Awaitable[Response]]:
    """One Starlette endpoint serving several verbs; any other verb, and every ApiError, answers the
    Google envelope (a wrong verb is a 404, as the API router answers it)."""
    async def endpoint(request: Request) -> Response:
        try:
            handler = handlers.get(request.method)
            if handler is None:
                raise ApiError(404, "NOT_FOUND", f"Method {request.method} {request.url.path} is not found.")
            return await handler(request, **request.path_params)
        except ApiError as error:
            return error_response(error)
    return endpoint


def control_routes(store: Store) -> list[Route]:
    """The `/projects/{project}/logging|logs|datasets` routes (mounted under /_mock)."""
    logs = store.logs

    async def body_of(request: Request) -> dict[str, Any]:
        data = parse_json(await read_body(request, store.config["limits"]["requestBytes"]))
        if not isinstance(data, dict):
            raise invalid_argument("The request body must be a JSON object.")
        return data

    def paging(request: Request) -> tuple[int, str | None]:
        return (page_size(request.query_params.get("pageSize"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
                request.query_params.get("pageToken"))

    async def get_logging(request: Request, project: str) -> Response:
        return json_response(logs.logging(project))

    async def patch_logging(request: Request, project: str) -> Response:
        body = await body_of(request)
        unknown = [k for k in body if k != "enabled"]
        if unknown:
            raise invalid_argument(f"Unknown field '{unknown[0]}': logging takes only enabled.", unknown[0])
        if "enabled" not in body:
            raise invalid_argument("Give enabled: true or false.", "enabled")
        return json_response(logs.set_logging(project, body["enabled"]))

    async def list_logs(request: Request, project: str) -> Response:
        return json_response(logs.list_logs(project, *paging(request)))

    async def get_log(request: Request, project: str, log: str) -> Response:
        return json_response(logs.get_log(project, log))

    async def feedback(request: Request, project: str, log: str) -> Response:
        return json_response(logs.feedback(project, log, await body_of(request)))

    async def list_datasets(request: Request, project: str) -> Response:
        return json_response(logs.list_datasets(project, *paging(request)))

    async def create_dataset(request: Request, project: str) -> Response:
        return json_response(logs.create_dataset(project, await body_of(request)))

    async def get_dataset(request: Request, project: str, dataset: str) -> Response:
        return json_response(logs.get_dataset(project, dataset))

    async def patch_dataset(request: Request, project: str, dataset: str) -> Response:
        return json_response(logs.update_dataset(project, dataset, await body_of(request)))

    async def delete_dataset(request: Request, project: str, dataset: str) -> Response:
        logs.delete_dataset(project, dataset)
        return json_response({})

    async def dataset_logs(request: Request, project: str, dataset: str) -> Response:
        return json_response(logs.dataset_logs(project, dataset, *paging(request)))

    def change(method: Callable[[str, str, object], dict[str, Any]]) -> ControlHandler:
        async def handler(request: Request, project: str, dataset: str) -> Response:
            body = await body_of(request)
            unknown = [k for k in body if k != "logs"]
            if unknown:
                raise invalid_argument(f"Unknown field '{unknown[0]}': give logs.", unknown[0])
            if "logs" not in body:
                raise invalid_argument("logs is required: the names of the logs.", "logs")
            return json_response(method(project, dataset, body["logs"]))
        return handler

    base = "/projects/{project}"
    routes = [
        (f"{base}/logging", _verbs({"GET": get_logging, "PATCH": patch_logging})),
        (f"{base}/logs", _verbs({"GET": list_logs})),
        (base + "/logs/{log}:feedback", _verbs({"POST": feedback})),
        (base + "/logs/{log}", _verbs({"GET": get_log})),
        (f"{base}/datasets", _verbs({"GET": list_datasets, "POST": create_dataset})),
        (base + "/datasets/{dataset}:addLogs", _verbs({"POST": change(logs.add_logs)})),
        (base + "/datasets/{dataset}:removeLogs", _verbs({"POST": change(logs.remove_logs)})),
        (base + "/datasets/{dataset}/logs", _verbs({"GET": dataset_logs})),
        (base + "/datasets/{dataset}", _verbs({"GET": get_dataset, "PATCH": patch_dataset,
                                                    "DELETE": delete_dataset})),
    ]
    return [Route(path, endpoint, methods=ALL_METHODS) for path, endpoint in routes]
