"""The dashboard: `GET /_mock/ui`, one page for front-end developers that shows the emulator's state.

* `GET /_mock/ui` is a static page; its script (`/_mock/ui/app.js`) polls `GET /_mock/ui/state` once a
  second and draws the state with DOM text nodes only, so nothing a client sent (display names, prompts,
  comments) is ever parsed as HTML. The page is served with a Content-Security-Policy that allows no
  inline script at all, as a second wall.
* Its buttons call the control plane as any client would: `POST /_mock/clock` (advance 1 h, 48 h,
  55 days), `PATCH /_mock/projects/{p}/logging`, log feedback, and dataset create / share / delete.
* When the control plane needs a token (access.py), the page is opened as `/_mock/ui?token=...` and its
  script sends the token as `X-Mock-Control-Token` on every call.
* `GET /_mock/ui/state` is plain JSON (also handy for scripts): the clock, projects with their tier and
  logging switch, the request journal, files, batches with their next transition, caches with their
  time to expiry, tuned models and corpora with their permissions, logs and datasets, and usage when
  the emulator keeps it (`store.usage`).

Each section is read through the backends' own list and render methods; a section that cannot be read
is reported in `errors` instead of breaking the page.
"""
from __future__ import annotations

import logging
import traceback
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable

from starlette.responses import Response
from starlette.routing import Route

from .access import PUBLIC_ASSETS
from .auth import Identity
from .control_http import ControlContext, ControlHandler, route_table
from .http import json_response
from .journal import render
from .resources.interactions import dashboard as interactions_view
from .state_browser import browser_routes
from .timeline import Transition
from .wire import parse_time

if TYPE_CHECKING:
    from .resources.batches import Batches
    from .resources.permissions import Shared
    from .store import Store

log = logging.getLogger("gemini_mockserver.dashboard")

JOURNAL_ROWS = 100
LOG_ROWS = 100
EXCERPT = 240
PAID = ("tier1", "tier2", "tier3")
RANK = {"free": 0, "tier1": 1, "tier2": 2, "tier3": 3}

# Media previews (an image, an audio player) show a journaled body's base64 data as a data: URL.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "media-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
MEDIA_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
           "Referrer-Policy": "no-referrer"}


# -- the state ------------------------------------------------------------------------------------------

def _epoch(value: Any) -> float | None:
    try:
        return parse_time(value, "time") if value else None
    except Exception:
        return None


def _stand_in(project: str) -> Identity:
    """An identity that names only a project, for the backends' per-project list methods."""
    return Identity(key="", project=project, email="")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "\u2026"


def _texts(parts: Any) -> str:
    if not isinstance(parts, list):
        return ""
    found = []
    for part in parts:
        if isinstance(part, dict):
            if isinstance(part.get("text"), str) and not part.get("thought"):
                found.append(part["text"])
            elif "functionCall" in part:
                found.append(f"[functionCall {part['functionCall'].get('name', '')}]")
            elif "inlineData" in part or "fileData" in part:
                found.append("[media]")
    return " ".join(found)


def prompt_of(request: Any) -> str:
    """The text of the last user turn of a GenerateContentRequest."""
    if not isinstance(request, dict):
        return ""
    contents = request.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list):
        return ""
    for content in reversed(contents):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            return _excerpt(_texts(content.get("parts")))
    return ""


def answer_of(response: Any) -> str:
    """The text of the first candidate (joined over the chunks of a stream)."""
    chunks = response if isinstance(response, list) else [response]
    texts = []
    for chunk in chunks:
        if isinstance(chunk, dict):
            candidates = chunk.get("candidates") or [{}]
            texts.append(_texts((candidates[0].get("content") or {}).get("parts")))
    return _excerpt("".join(texts))


class StateBuilder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.now = store.now()
        self.errors: dict[str, str] = {}

    def section(self, name: str, build: Callable[[], Any], default: Any) -> Any:
        try:
            return build()
        except Exception as error:   # the page must keep working while one backend is broken
            log.error("dashboard section %s failed\n%s", name, traceback.format_exc())
            self.errors[name] = f"{type(error).__name__}: {error}"
            return default

    # -- projects ----------------------------------------------------------------------------------
    def project_ids(self) -> list[str]:
        found: set[str] = set()
        listed = self.store.keys.listed or {}
        found.update(identity.project for identity in listed.values())
        found.update(entry["project"] for entry in self.store.journal.raw() if entry.get("project"))
        store = self.store
        for backend in (store.files, store.batches, store.caches, store.logs):
            found.update(backend.projects())
        found.update(record.project for record in store.tuned_models.records())
        return sorted(p for p in found if p)

    def tier(self, project: str) -> str:
        listed = self.store.keys.listed or {}
        tiers = [i.tier for i in listed.values() if i.project == project]
        return max(tiers, key=lambda t: RANK.get(t, 0)) if tiers else "free"

    def projects(self, ids: list[str]) -> list[dict[str, Any]]:
        listed = self.store.keys.listed or {}
        logs = self.store.logs
        rows = []
        for project in ids:
            tier = self.tier(project)
            rows.append({
                "project": project,
                "tier": tier,
                "emails": sorted({i.email for i in listed.values() if i.project == project}),
                "loggingAvailable": tier in PAID,
                "loggingEnabled": bool(logs.enabled(project)),
            })
        return rows

    # -- resources ---------------------------------------------------------------------------------
    def journal(self) -> dict[str, Any]:
        entries = self.store.journal.raw()   # only the rows shown are rendered
        return {"requests": [render(entry, False) for entry in reversed(entries[-JOURNAL_ROWS:])],
                "total": len(entries), "dropped": self.store.journal.dropped}

    def files(self, ids: list[str]) -> list[dict[str, Any]]:
        backend = self.store.files
        rows = []
        for project in ids:
            for item in backend.list_files(project):
                rows.append({"project": project, **{k: item.get(k) for k in (
                    "name", "displayName", "mimeType", "sizeBytes", "state", "source", "createTime",
                    "expirationTime")}, "expireEpoch": _epoch(item.get("expirationTime"))})
        return rows

    def batches(self, ids: list[str]) -> list[dict[str, Any]]:
        backend = self.store.batches
        rows = []
        for project in ids:
            token = None
            while True:
                page = backend.list(_stand_in(project), 1000, token)
                for operation in page.get("operations", []):
                    rows.append(self._batch_row(backend, project, operation))
                token = page.get("nextPageToken")
                if not token:
                    break
        return rows

    def _batch_row(self, backend: Batches, project: str, operation: dict[str, Any]) -> dict[str, Any]:
        meta = operation.get("metadata", {})
        stats = meta.get("batchStats", {})
        row = {"project": project, "name": operation["name"], "displayName": meta.get("displayName", ""),
               "model": meta.get("model"), "state": meta.get("state"), "done": operation.get("done", False),
               "createTime": meta.get("createTime"), "endTime": meta.get("endTime"),
               "requestCount": int(stats.get("requestCount", 0)),
               "successfulRequestCount": int(stats.get("successfulRequestCount", 0)),
               "failedRequestCount": int(stats.get("failedRequestCount", 0)),
               "pendingRequestCount": int(stats.get("pendingRequestCount", 0))}
        job = backend.job(project, operation["name"])
        if not operation.get("done"):
            row["expireEpoch"] = job.expires
            upcoming = job.next_transition(self.now)
            if upcoming is not None:
                row["next"] = {"state": upcoming.state, "epoch": upcoming.at}
        return row

    def caches(self, ids: list[str]) -> list[dict[str, Any]]:
        backend = self.store.caches
        rows = []
        for project in ids:
            for item in backend.list(_stand_in(project)):
                rows.append({"project": project, "name": item["name"], "displayName": item.get("displayName", ""),
                             "model": item.get("model"), "createTime": item.get("createTime"),
                             "expireTime": item.get("expireTime"), "expireEpoch": _epoch(item.get("expireTime")),
                             "totalTokenCount": (item.get("usageMetadata") or {}).get("totalTokenCount")})
        return rows

    @staticmethod
    def _grants(resource: Shared) -> list[dict[str, Any]]:
        from .resources.permissions import render
        acl = getattr(resource, "acl", None)
        return [render(resource.name, grant) for grant in (acl.grants.values() if acl else ())]

    def tuned_models(self) -> list[dict[str, Any]]:
        rows = []
        for record in self.store.tuned_models.records():
            body = record.render(self.now, self.store.seed)
            rows.append({"project": record.project, "name": record.name, "displayName": body.get("displayName", ""),
                         "baseModel": record.base_model, "state": body.get("state"),
                         "createTime": body.get("createTime"),
                         "readyEpoch": _epoch_of(record.timeline().next_transition(self.now)),
                         "permissions": self._grants(record)})
        return rows

    def corpora(self) -> list[dict[str, Any]]:
        rows = []
        for corpus in self.store.corpora.records():
            body = corpus.render()
            rows.append({"name": corpus.name, "displayName": body.get("displayName", ""),
                         "createTime": body.get("createTime"), "permissions": self._grants(corpus)})
        return rows

    def model_operations(self) -> list[dict[str, Any]]:
        return [{"project": project, "name": op.name, "model": op.model, "done": op.done(self.now),
                 "doneEpoch": op.done_time} for project, op in self.store.video_operations.records()]

    def environments(self) -> list[dict[str, Any]]:
        return [{"project": env.project, "id": env.id, "mode": env.mode, "fileCount": len(env.files),
                 "created": self.store.timestamp(env.created)}
                for env in self.store.environments.records()]

    def file_search_stores(self) -> list[dict[str, Any]]:
        backend = self.store.file_search_stores
        rows = []
        for record in backend.records():
            body = backend.render_store(record)
            rows.append({"project": record.project, "name": record.name, "displayName": body.get("displayName", ""),
                         "embeddingModel": record.embedding_model, "createTime": body.get("createTime"),
                         **{key: int(body.get(key, 0)) for key in ("activeDocumentsCount", "pendingDocumentsCount",
                                                                   "failedDocumentsCount", "sizeBytes")}})
        return rows

    def logs(self, projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        backend = self.store.logs
        rows = []
        for project in projects:
            if not project["loggingAvailable"]:
                continue
            name = project["project"]
            entries = backend.list_logs(name, LOG_ROWS)["logs"]
            datasets = backend.list_datasets(name, 1000)["datasets"]
            rows.append({
                "project": name,
                "enabled": project["loggingEnabled"],
                "retained": backend.retained_count(name),
                "limit": int(self.store.config["logs"]["maxPerProject"]),
                "logs": [self._log_row(entry) for entry in entries],
                "datasets": [{k: d.get(k) for k in ("name", "displayName", "description", "shared", "createTime",
                                                    "logCount", "logs")} for d in datasets],
            })
        return rows

    @staticmethod
    def _log_row(entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": entry["name"], "method": entry["method"], "model": entry["model"],
            "createTime": entry["createTime"], "expireEpoch": _epoch(entry.get("expireTime")),
            "httpStatus": entry["httpStatus"], "status": entry["status"], "latency": entry["latency"],
            "usageMetadata": entry.get("usageMetadata", {}), "prompt": prompt_of(entry.get("request")),
            "answer": answer_of(entry.get("response")) if "response" in entry
            else (entry.get("error") or {}).get("message", ""),
            "feedback": entry.get("feedback", {}), "datasets": entry.get("datasets", []),
        }

    def usage(self) -> dict[str, Any]:
        """The usage ledger's report (`store.usage.report()`: {"projects": [...], ...})."""
        return self.store.usage.report()

    def build(self) -> dict[str, Any]:
        ids = self.section("projects", self.project_ids, [])
        projects = self.section("projects", lambda: self.projects(ids), [])
        state = {
            "now": self.store.timestamp(self.now),
            "epochSeconds": self.now,
            "projects": projects,
            "journal": self.section("journal", self.journal, {"requests": [], "total": 0, "dropped": 0}),
            "files": self.section("files", lambda: self.files(ids), []),
            "batches": self.section("batches", lambda: self.batches(ids), []),
            "caches": self.section("caches", lambda: self.caches(ids), []),
            "tunedModels": self.section("tunedModels", self.tuned_models, []),
            "corpora": self.section("corpora", self.corpora, []),
            "modelOperations": self.section("modelOperations", self.model_operations, []),
            "environments": self.section("environments", self.environments, []),
            "fileSearchStores": self.section("fileSearchStores", self.file_search_stores, []),
            "logs": self.section("logs", lambda: self.logs(projects), []),
            "usage": self.section("usage", self.usage, None),
            "interactions": self.section("interactions", lambda: interactions_view.interactions(self.store), []),
            "webhookDeliveries": self.section("webhookDeliveries", lambda: interactions_view.deliveries(self.store), []),
        }
        state["errors"] = self.errors
        return state


def _epoch_of(transition: Transition | None) -> float | None:
    return None if transition is None else transition.at


def state(store: Store) -> dict[str, Any]:
    """The dashboard's view of the whole emulator, as `GET /_mock/ui/state` answers it."""
    return StateBuilder(store).build()


# -- routes ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def asset(name: str) -> bytes:
    """A file of the page, shipped in the package (`ui/`) and read once."""
    return (resources.files(__package__) / "ui" / name).read_bytes()


async def page(ctx: ControlContext) -> Response:
    return Response(asset("index.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


def static(name: str, media_type: str) -> ControlHandler:
    async def serve(ctx: ControlContext) -> Response:
        return Response(asset(name), media_type=media_type, headers=HEADERS)
    return serve


async def current(ctx: ControlContext) -> Response:
    return json_response(state(ctx.store), headers={"Cache-Control": "no-store"})


def routes(store: Store) -> list[Route]:
    return [
        *route_table(store, [
            ("/ui", page, ["GET"]),
            *((path.removeprefix("/_mock"), static(path.rsplit("/", 1)[1], MEDIA_TYPES[path.rsplit(".", 1)[1]]),
               ["GET"]) for path in sorted(PUBLIC_ASSETS)),
            ("/ui/state", current, ["GET"]),
        ]),
        *browser_routes(store),
    ]
