"""The `/_mock/...` control plane: reset, clock, config, journal, whoami, scripted rules, faults, the
usage ledger and registered URL media. No API key needed, except for whoami, which tells who a key is; who may call it at all is
access.py's to say (Host, Origin, the control token). Handlers take a `ControlContext` and raise ApiError
(control_http.py), as API handlers take an `http.Context`."""
from __future__ import annotations

import builtins
import re
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

from starlette.responses import Response
from starlette.routing import Route

from . import dashboard, pacing, persistence, safe_regex, tiers
from .control_http import ControlContext, ControlHandler, route_table
from .errors import ApiError, invalid_argument, not_found
from .http import api_key, json_response, parse_json
from .call import bare_model
from .rate_limits import check_rate_limit_config
from .resources import logs
from .journal import SOURCES, render, search_text
from .journal_routes import journal_routes
from .wire import paginate, page_size, parse_time

if TYPE_CHECKING:
    from .access import ControlAccess
    from .store import Store

JOURNAL_FILTERS = ("project", "path", "model", "status", "method", "since", "until", "text", "source",
                   "unmatched", "bodies", "pageSize", "pageToken")
STATE_IMPORT_LIMIT = 4 * 1024 ** 3   # an exported state carries its files' bytes


async def reset(ctx: ControlContext) -> Response:
    body = await ctx.json()
    ctx.store.reset(config=bool(body.get("config")), clock=bool(body.get("clock")))
    return json_response({})


async def clock(ctx: ControlContext) -> Response:
    store = ctx.store
    if ctx.method == "POST":
        body = await ctx.json()
        if "advanceSeconds" in body and "now" in body:
            raise invalid_argument("Give either advanceSeconds or now, not both.", "advanceSeconds")
        if "reset" in body and (body["reset"] is not True or len(body) > 1):
            raise invalid_argument("reset takes true, alone: the clock goes back to the real time.", "reset")
        if "reset" in body:   # back to the real time
            store.clock.reset()
        elif "advanceSeconds" in body:
            seconds = body["advanceSeconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise invalid_argument("advanceSeconds must be a number.", "advanceSeconds")
            _check_clock_target(store.now() + seconds, "advanceSeconds")
            store.clock.advance(seconds)
        elif "now" in body:
            when = parse_time(body["now"], "now")
            _check_clock_target(when, "now")
            store.clock.set(when)
        else:
            raise invalid_argument("Give advanceSeconds, now, or reset: true.", "advanceSeconds")
    return json_response({"now": store.timestamp(), "epochSeconds": store.now()})


async def config(ctx: ControlContext) -> Response:
    if ctx.method == "PATCH":
        body = await ctx.json()
        check_rate_limit_config(body.get("rateLimits"))
        pacing.check_models(body.get("stream"))
        return json_response(ctx.store.config.patch(body))
    return json_response(ctx.store.config.as_dict())


def whoami(access: ControlAccess | None) -> ControlHandler:
    """Who a key is; a Bearer that is the control token (access.py) is not taken for the key."""
    async def handler(ctx: ControlContext) -> Response:
        key = api_key(ctx.request)
        if access is not None and access.is_token(key):   # that Bearer was the control token, not a key
            key = ctx.request.headers.get("x-goog-api-key") or ctx.query("key")
        return json_response(ctx.store.keys.identify(key).as_dict())
    return handler


async def requests(ctx: ControlContext) -> Response:
    journal = ctx.store.journal
    if ctx.method == "DELETE":
        journal.clear()
        return json_response({})
    query = ctx.request.query_params
    bodies = _flag(query, "bodies")
    entries = [render(entry, bodies) for entry in _filter_journal(journal.raw(), query)]
    body = {"requests": entries, "dropped": journal.dropped}
    if query.get("pageSize") or query.get("pageToken"):
        body["requests"], token = paginate(entries, page_size(query.get("pageSize"), 100, 10_000),
                                           query.get("pageToken"))
        if token:
            body["nextPageToken"] = token
    return json_response(body)


class Scripts(Protocol):
    """A collection the control plane edits item by item: scripted rules, faults, registered URLs."""
    def add(self, item: dict[str, Any], /) -> dict[str, Any]: ...

    def delete(self, item_id: str, /) -> None: ...

    def clear(self) -> None: ...

    def list(self) -> builtins.list[dict[str, Any]]: ...


def collection(name: str, plural: str, backend_of: Callable[[Store], Scripts]) -> tuple[ControlHandler, ControlHandler]:
    """POST one item (or {plural: [...]}), GET them all, DELETE them all; `/{id}` GET or DELETE one."""
    async def items(ctx: ControlContext) -> Response:
        backend = backend_of(ctx.store)
        if ctx.method == "POST":
            body = await ctx.json()
            if set(body) == {plural} and isinstance(body[plural], list):
                added = []
                try:
                    for item in body[plural]:
                        added.append(backend.add(item))
                except ApiError:
                    for item in added:
                        backend.delete(item["id"])
                    raise
                return json_response({plural: added})
            return json_response(backend.add(body))
        if ctx.method == "DELETE":
            backend.clear()
            return json_response({})
        return json_response({plural: backend.list()})

    async def one(ctx: ControlContext) -> Response:
        backend, item_id = backend_of(ctx.store), ctx.params["item"]
        if ctx.method == "DELETE":
            backend.delete(item_id)
            return json_response({})
        for item in backend.list():
            if item["id"] == item_id:
                return json_response(item)
        raise not_found(f"{name[:-1].capitalize()} {item_id} was not found.")
    return items, one


rules, rule = collection("rules", "rules", lambda store: store.rules)
faults, fault = collection("faults", "faults", lambda store: store.faults)
urls, url = collection("urls", "urls", lambda store: store.urls)   # what a fileData URL holds (resources/url_media.py)


async def usage(ctx: ControlContext) -> Response:
    unknown = [key for key in ctx.request.query_params if key != "project"]
    if unknown:
        raise invalid_argument(f"Unknown query parameter '{unknown[0]}': give project or nothing.", unknown[0])
    return json_response(ctx.store.usage.report(ctx.query("project")))


async def state_export(ctx: ControlContext) -> Response:
    """The whole state as one JSON document (persistence.py); `?bytes=false` leaves the stored
    bytes out (references only: for looking, not for importing elsewhere)."""
    include = (ctx.query("bytes") or "true").lower() not in ("false", "0")
    return json_response(persistence.document(ctx.store, include_bytes=include))


async def state_import(ctx: ControlContext) -> Response:
    """Replace the whole state by an exported document."""
    doc = parse_json(await ctx.body(STATE_IMPORT_LIMIT))
    try:
        persistence.restore_document(ctx.store, doc)
    except persistence.StateError as error:
        raise invalid_argument(str(error)) from None
    return json_response({})


def routes(store: Store, access: ControlAccess | None = None) -> list[Route]:
    return [
        *route_table(store, [
            ("/state:export", state_export, ["GET"]),
            ("/state:import", state_import, ["POST"]),
            ("/reset", reset, ["POST"]),
            ("/clock", clock, ["GET", "POST"]),
            ("/config", config, ["GET", "PATCH"]),
            ("/whoami", whoami(access), ["GET"]),
            ("/requests", requests, ["GET", "DELETE"]),
        ]),
        *journal_routes(store),
        *route_table(store, [
            ("/rules", rules, ["GET", "POST", "DELETE"]),
            ("/rules/{item}", rule, ["GET", "DELETE"]),
            ("/faults", faults, ["GET", "POST", "DELETE"]),
            ("/faults/{item}", fault, ["GET", "DELETE"]),
            ("/urls", urls, ["GET", "POST", "DELETE"]),
            ("/urls/{item}", url, ["GET", "DELETE"]),
            ("/usage", usage, ["GET"]),
        ]),
        *logs.control_routes(store),
        *tiers.control_routes(store),
        *dashboard.routes(store),
    ]


# The clock may go anywhere from 1970 to the year 9000 (leaving room for TTLs and expiries after it).
LATEST_CLOCK = 221845392000.0   # 9000-01-01T00:00:00Z


def _check_clock_target(when: float, field: str) -> None:
    if not 0 <= when <= LATEST_CLOCK:
        raise invalid_argument(f"The clock can be set between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z; "
                               f"{field} would move it outside.", field)


def _filter_journal(entries: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    """The journal entries that pass the query's filters: project, path (a substring or a regular
    expression), model (with or without `models/`), status (a code or a class such as 4xx), method."""
    unknown = [key for key in query if key not in JOURNAL_FILTERS]
    if unknown:
        raise invalid_argument(f"Unknown query parameter '{unknown[0]}': the filters are "
                               f"{', '.join(JOURNAL_FILTERS)}.", unknown[0])
    tests: list[Callable[[dict[str, Any]], bool]] = []
    if query.get("project"):
        project = query["project"]
        tests.append(lambda e: e.get("project") == project)
    if query.get("path"):
        text = query["path"]
        pattern = safe_regex.try_compile(text)   # not a regular expression: matched as a substring only
        budget = safe_regex.Budget()   # one budget for the whole journal, not one per entry
        tests.append(lambda e: text in (e.get("path") or "") or bool(
            pattern and safe_regex.search(pattern, e.get("path") or "", "path", budget)))
    if query.get("model"):
        model = bare_model(query["model"])
        tests.append(lambda e: bare_model(e.get("model")) == model)
    if query.get("status"):
        status = query["status"].strip().lower()
        if re.fullmatch(r"\d{3}", status):
            tests.append(lambda e: str(e.get("status")) == status)
        elif re.fullmatch(r"\dxx", status):
            tests.append(lambda e: str(e.get("status"))[:1] == status[0])
        else:
            raise invalid_argument(f"status must be an HTTP code such as 429 or a class such as 4xx, not "
                                   f"{query['status']!r}.", "status")
    if query.get("method"):
        method = query["method"].upper()
        tests.append(lambda e: (e.get("method") or "").upper() == method)
    if query.get("since"):
        since = parse_time(query["since"], "since")
        tests.append(lambda e: e["time"] >= since)
    if query.get("until"):
        until = parse_time(query["until"], "until")
        tests.append(lambda e: e["time"] <= until)
    if query.get("text"):
        text = query["text"].lower()
        tests.append(lambda e: text in search_text(e))
    if query.get("source"):
        if query["source"] not in SOURCES:
            raise invalid_argument(f"source must be one of {', '.join(SOURCES)}.", "source")
        source = query["source"]
        tests.append(lambda e: e.get("source", "replay" if e.get("replayed") else "emulated") == source)
    if _flag(query, "unmatched"):
        tests.append(lambda e: bool(e.get("unmatched")))
    return [entry for entry in entries if all(test(entry) for test in tests)]


def _flag(query: Mapping[str, str], name: str) -> bool:
    return (query.get(name) or "").lower() in ("true", "1", "yes")
