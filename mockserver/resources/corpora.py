"""Corpora (`corpora/{id}`): just enough of the semantic-retrieval store to own permissions on.

A corpus has a name, a display name and its times; its creator's identity gets the OWNER grant. Get and
list need READER, delete needs OWNER (see permissions.py); the emulator keeps no documents, so
`DELETE ...?force=` is accepted with either value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..auth import Identity
from ..errors import already_exists, invalid_argument, not_found
from ..http import Context, json_response
from ..persistence import build, fields_of
from ..routing import route
from ..wire import format_time, page_size, paginate
from .permissions import OWNER, READER, USER, Acl, can, require

if TYPE_CHECKING:
    from ..store import Store

KIND = "Corpus"
ID_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?\Z")
SUFFIX_LENGTH = 12
MAX_DISPLAY_NAME = 512
VERSIONS = ("v1beta", "v1alpha")


@dataclass
class Corpus:
    KIND = KIND
    name: str
    display_name: str
    create_time: float
    update_time: float
    acl: Acl = field(default_factory=Acl)

    def render(self) -> dict[str, Any]:
        body = {"name": self.name}
        if self.display_name:
            body["displayName"] = self.display_name
        body["createTime"] = format_time(self.create_time)
        body["updateTime"] = format_time(self.update_time)
        return body


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


class Corpora:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._corpora: dict[str, Corpus] = {}

    def reset(self) -> None:
        self._corpora.clear()

    def lookup(self, name: str) -> Corpus | None:
        """The corpus, whoever may see it (permissions.py decides that)."""
        return self._corpora.get(name)

    def _fetch(self, identity: Identity, name: str, needed: str) -> Corpus:
        return require(self._corpora.get(name), identity, needed, kind=KIND, name=name)

    def _new_name(self, project: str, display_name: str) -> str:
        stem = _slug(display_name)[:40 - SUFFIX_LENGTH - 1].strip("-")
        while True:
            suffix = self.store.new_id(project, "corpus", SUFFIX_LENGTH)
            name = f"corpora/{stem}-{suffix}" if stem else f"corpora/{suffix}"
            if name not in self._corpora:
                return name

    def create(self, identity: Identity, body: dict[str, Any]) -> dict[str, Any]:
        display_name = body.get("displayName", "")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise invalid_argument(f"displayName must be at most {MAX_DISPLAY_NAME} characters.", "displayName")
        requested = body.get("name")
        with self.store.lock:
            if requested:
                corpus_id = requested.removeprefix("corpora/")
                if not ID_PATTERN.match(corpus_id):
                    raise invalid_argument(
                        f"name {requested!r} is not valid: the id after `corpora/` must be up to 40 lowercase"
                        f" letters, digits or dashes, and may not start or end with a dash.", "name")
                name = f"corpora/{corpus_id}"
                if name in self._corpora:
                    raise already_exists(f"Corpus {name} already exists.")
            else:
                name = self._new_name(identity.project, display_name)
            now = self.store.now()
            corpus = Corpus(name, display_name, now, now)
            self._corpora[name] = corpus
            self.store.permissions.grant(corpus, USER, identity.email, OWNER)
            return corpus.render()

    def records(self) -> list[Corpus]:
        """Every corpus, oldest first, whoever may see it (for the dashboard)."""
        return sorted(self._corpora.values(), key=lambda c: (c.create_time, c.name))

    def get(self, identity: Identity, name: str) -> dict[str, Any]:
        return self._fetch(identity, name, READER).render()

    def list(self, identity: Identity, size: int, token: str | None) -> dict[str, Any]:
        visible = sorted((c for c in self._corpora.values() if can(c, identity, READER)),
                         key=lambda c: (c.create_time, c.name))
        page, following = paginate([c.render() for c in visible], size, token)
        body: dict[str, Any] = {"corpora": page}
        if following:
            body["nextPageToken"] = following
        return body

    def get_operation(self, identity: Identity, name: str, op_id: str) -> dict[str, Any]:
        """`corpora/{id}/operations/{op}`: the corpus must be visible (else the usual 403). No method the
        emulator serves starts a corpus operation, so every operation id is NOT_FOUND."""
        self._fetch(identity, name, READER)
        raise not_found(f"Operation {name}/operations/{op_id} not found.")

    def delete(self, identity: Identity, name: str, force: bool = False) -> None:
        with self.store.lock:
            self._fetch(identity, name, OWNER)
            del self._corpora[name]

    def forget(self, name: str) -> None:
        """Remove the corpus without a permission check (the control plane's delete)."""
        with self.store.lock:
            self._corpora.pop(name, None)

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self.store.lock:
            return {"corpora": [fields_of(c, acl=c.acl.export_state()) for c in self._corpora.values()]}

    def import_state(self, data: dict[str, Any]) -> None:
        with self.store.lock:
            self._corpora = {}
            for item in data.get("corpora") or []:
                corpus = build(Corpus, item, acl=Acl.from_state(item.get("acl")))
                self._corpora[corpus.name] = corpus


def register(store: Store) -> None:
    store.register("corpora", Corpora(store))


# -- handlers ------------------------------------------------------------------------------------------

def parse_bool(raw: str | None, field_name: str) -> bool:
    """A boolean query parameter as the real front end reads it (`true`, `True`, `1`, ...)."""
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid_argument(f"Invalid value at '{field_name}' (TYPE_BOOL), \"{raw}\"", field_name)


async def create_corpus(ctx: Context) -> Response:
    return json_response(ctx.store.corpora.create(ctx.identity, await ctx.json("Corpus")))


async def list_corpora(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), 10, 20)
    return json_response(ctx.store.corpora.list(ctx.identity, size, ctx.query("pageToken")))


async def get_corpus(ctx: Context) -> Response:
    return json_response(ctx.store.corpora.get(ctx.identity, f"corpora/{ctx.params['corpus']}"))


async def delete_corpus(ctx: Context) -> Response:
    force = parse_bool(ctx.query("force"), "force")
    ctx.store.corpora.delete(ctx.identity, f"corpora/{ctx.params['corpus']}", force)
    return json_response({})


async def get_corpus_operation(ctx: Context) -> Response:
    return json_response(ctx.store.corpora.get_operation(ctx.identity, f"corpora/{ctx.params['corpus']}",
                                                         ctx.params["operation"]))


ROUTES = [
    route("POST", "corpora", create_corpus, versions=VERSIONS),
    route("GET", "corpora", list_corpora, versions=VERSIONS),
    route("GET", "corpora/{corpus}", get_corpus, versions=VERSIONS),
    route("DELETE", "corpora/{corpus}", delete_corpus, versions=VERSIONS),
    route("GET", "corpora/{corpus}/operations/{operation}", get_corpus_operation, versions=VERSIONS),
]
