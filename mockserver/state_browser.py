"""The dashboard's state browser: every project's resources of every kind, with detail views and actions.

It is generic over backends: a resource family plugs in with one `Kind` in KINDS (or `register(kind)`),
saying how to list a project's items (as the API renders them), which projects have some, and which
actions an item takes (delete, cancel, expire now, ...). A kind whose backend is not registered is left
out, so the browser follows whatever the store holds.

    GET  /_mock/browse                                  {"kinds": [{name, label, actions}], "projects": [...]}
    GET  /_mock/browse/{project}/{kind}                 {"items": [<resource>, ...]}
    GET  /_mock/browse/{project}/{kind}?name=files/x    the resource
    POST /_mock/browse/{project}/{kind}/{action}        {"name": "files/x"} -> {"items": [...]} after it
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, TypeVar

from starlette.responses import Response
from starlette.routing import Route

from .auth import Identity
from .control_http import ControlContext, route_table
from .errors import ApiError, invalid_argument, not_found
from .http import json_response, parse_json

if TYPE_CHECKING:
    from .store import Store

Items = Callable[["Store", Identity], list[Any]]    # (store, project identity) -> rendered resources
Action = Callable[["Store", Identity, str], object]   # (store, project identity, item name); result unused
T = TypeVar("T")


class Owned(Protocol):
    """A backend of permissioned records by name (tuned models, corpora)."""
    def lookup(self, name: str, /) -> object | None: ...

    def forget(self, name: str, /) -> None: ...


@dataclass
class Kind:
    name: str                                   # the URL word: files, batches, ...
    label: str
    backend: str                                # the store backend it needs
    items: Items                                # (store, project identity) -> rendered resources
    projects: Callable[[Store], set[str]] = lambda store: set()
    actions: dict[str, Action] = field(default_factory=dict)


def _stand_in(project: str) -> Identity:
    """An identity naming only a project (the control plane acts for the project's owner)."""
    return Identity(key="", project=project, email="")


def _pages(list_page: Callable[[str | None], dict[str, Any]], field_name: str) -> list[Any]:
    items, token = [], None
    while True:
        page = list_page(token)
        items += page.get(field_name, [])
        token = page.get("nextPageToken")
        if not token:
            return items


def _expire_file(store: Store, who: Identity, name: str) -> None:
    with store.lock:
        store.files.record_of(who, name).expire_time = store.now()
    store.changed()


def _expire_cache(store: Store, who: Identity, name: str) -> None:
    store.caches.expire_now(who, name)
    store.changed()


def _expire_batch(store: Store, who: Identity, name: str) -> None:
    batches = store.batches
    with batches.lock:
        job = batches.job(who, name)
        if job.final:
            raise ApiError(400, "FAILED_PRECONDITION", f"Batch {name} has already ended ({job.final}).")
        job.expiry_s = max(0.0, store.now() - job.created)
    store.changed()


def _owned(records: Callable[[Store], Sequence[T]], render: Callable[[Store, T], dict[str, Any]]) -> Items:
    """Items of the backends that keep records by name with permissions (tuned models, corpora): those of
    the project (a corpus names no project: every project's browser shows it)."""
    def items(store: Store, who: Identity) -> list[Any]:
        return [render(store, record) for record in records(store)
                if getattr(record, "project", who.project) == who.project]
    return items


def _drop(backend: Callable[[Store], Owned]) -> Action:
    """Delete a permissioned record as the control plane (its owner's e-mail is not the project's)."""
    def delete(store: Store, who: Identity, name: str) -> None:
        with store.lock:
            owned = backend(store)
            record = owned.lookup(name)
            if record is None or getattr(record, "project", who.project) != who.project:
                raise not_found(f"{name[:200]} was not found.")
            owned.forget(name)
        store.changed()
    return delete


KINDS: list[Kind] = [
    Kind("files", "Files", "files", lambda store, who: store.files.list_files(who),
         lambda store: store.files.projects(),
         {"delete": lambda store, who, name: store.files.delete_file(who, name), "expire": _expire_file}),
    Kind("batches", "Batches", "batches",
         lambda store, who: _pages(lambda token: store.batches.list(who, 1000, token), "operations"),
         lambda store: store.batches.projects(),
         {"cancel": lambda store, who, name: store.batches.cancel(who, name), "expire": _expire_batch,
          "delete": lambda store, who, name: store.batches.delete(who, name)}),
    Kind("caches", "Caches", "caches", lambda store, who: store.caches.list(who), lambda store: store.caches.projects(),
         {"delete": lambda store, who, name: store.caches.delete(who, name), "expire": _expire_cache}),
    Kind("tunedModels", "Tuned models", "tuned_models",
         _owned(lambda store: store.tuned_models.records(),
                lambda store, record: record.render(store.now(), store.seed)),
         lambda store: {record.project for record in store.tuned_models.records()},
         {"delete": _drop(lambda store: store.tuned_models)}),
    Kind("corpora", "Corpora", "corpora",
         _owned(lambda store: store.corpora.records(), lambda store, record: record.render()),
         actions={"delete": _drop(lambda store: store.corpora)}),
]


def _interactions(store: Store, who: Identity) -> list[Any]:
    from .resources.interactions.backend import view
    return [{"name": record.id, **view(store, record, timeline=True)}
            for record in store.interactions.all(who.project)]


KINDS.append(Kind("interactions", "Interactions", "interactions", _interactions,
                  lambda store: set(store.interactions.projects()),
                  {"cancel": lambda store, who, name: store.interactions.cancel(who.project, name),
                   "delete": lambda store, who, name: store.interactions.delete(who.project, name)}))


KINDS.append(Kind("fileSearchStores", "File Search stores", "file_search_stores",
                  lambda store, who: _pages(lambda token: store.file_search_stores.list(who, 1000, token),
                                            "fileSearchStores"),
                  lambda store: {record.project for record in store.file_search_stores.records()},
                  {"delete": lambda store, who, name: store.file_search_stores.delete(who, name, True)}))


def register(kind: Kind) -> None:
    """Add a resource family to the browser (a module's `register(store)` may call it)."""
    KINDS[:] = [known for known in KINDS if known.name != kind.name] + [kind]


def kinds(store: Store) -> list[Kind]:
    return [kind for kind in KINDS if kind.backend in store.backends]


def projects(store: Store) -> list[str]:
    found: set[str | None] = {identity.project for identity in (store.keys.listed or {}).values()}
    found.update(entry.get("project") for entry in store.journal.raw())
    for kind in kinds(store):
        found.update(kind.projects(store))
    return sorted(project for project in found if project)


def _kind(store: Store, name: str) -> Kind:
    for kind in kinds(store):
        if kind.name == name:
            return kind
    raise not_found(f"The state browser has no resource kind {name[:60]!r}.")


def _item(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise not_found(f"{name[:200]} was not found.")


async def index(ctx: ControlContext) -> Response:
    store = ctx.store
    return json_response({"kinds": [{"name": kind.name, "label": kind.label, "actions": sorted(kind.actions)}
                                    for kind in kinds(store)], "projects": projects(store)})


async def listing(ctx: ControlContext) -> Response:
    kind = _kind(ctx.store, ctx.params["kind"])
    who = _stand_in(ctx.params["project"])
    items = kind.items(ctx.store, who)
    name = ctx.query("name")
    return json_response(_item(items, name) if name else {"items": items})


async def act(ctx: ControlContext) -> Response:
    kind = _kind(ctx.store, ctx.params["kind"])
    action = kind.actions.get(ctx.params["action"])
    if action is None:
        raise invalid_argument(f"{kind.label} take {', '.join(sorted(kind.actions)) or 'no action'}, not "
                               f"{ctx.params['action'][:40]!r}.", "action")
    body = parse_json(await ctx.body(64 * 1024))
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise invalid_argument("Give the item's name, e.g. {\"name\": \"files/abc\"}.", "name")
    who = _stand_in(ctx.params["project"])
    action(ctx.store, who, name)
    return json_response({"items": kind.items(ctx.store, who)})


def browser_routes(store: Store) -> list[Route]:
    return route_table(store, [
        ("/browse", index, ["GET"]),
        ("/browse/{project}/{kind}", listing, ["GET"]),
        ("/browse/{project}/{kind}/{action}", act, ["POST"]),
    ])
