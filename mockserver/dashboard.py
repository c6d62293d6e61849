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
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import Identity
from .http import json_response
from .resources.interactions import dashboard as interactions_view
from .wire import parse_time

log = logging.getLogger("gemini_mockserver.dashboard")

JOURNAL_ROWS = 100
LOG_ROWS = 100
EXCERPT = 240
PAID = ("tier1", "tier2", "tier3")
RANK = {"free": 0, "tier1": 1, "tier2": 2, "tier3": 3}

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
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
    def __init__(self, store) -> None:
        self.store = store
        self.now = store.now()
        self.errors: dict[str, str] = {}

    def backend(self, name: str):
        return self.store.backends.get(name)

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
        found.update(entry["project"] for entry in self.store.journal.entries() if entry.get("project"))
        for name in ("files", "batches", "caches", "logs"):
            backend = self.backend(name)
            if backend is not None:
                found.update(backend.projects())
        tuned = self.backend("tuned_models")
        if tuned is not None:
            found.update(record.project for record in tuned.records())
        return sorted(p for p in found if p)

    def tier(self, project: str) -> str:
        listed = self.store.keys.listed or {}
        tiers = [i.tier for i in listed.values() if i.project == project]
        return max(tiers, key=lambda t: RANK.get(t, 0)) if tiers else "free"

    def projects(self, ids: list[str]) -> list[dict]:
        listed = self.store.keys.listed or {}
        logs = self.backend("logs")
        rows = []
        for project in ids:
            tier = self.tier(project)
            rows.append({
                "project": project,
                "tier": tier,
                "emails": sorted({i.email for i in listed.values() if i.project == project}),
                "loggingAvailable": tier in PAID and logs is not None,
                "loggingEnabled": bool(logs is not None and logs.enabled(project)),
            })
        return rows

    # -- resources ---------------------------------------------------------------------------------
    def journal(self) -> dict:
        entries = self.store.journal.entries()
        return {"requests": list(reversed(entries[-JOURNAL_ROWS:])), "total": len(entries),
                "dropped": self.store.journal.dropped}

    def files(self, ids: list[str]) -> list[dict]:
        backend = self.backend("files")
        if backend is None:
            return []
        rows = []
        for project in ids:
            for item in backend.list_files(project):
                rows.append({"project": project, **{k: item.get(k) for k in (
                    "name", "displayName", "mimeType", "sizeBytes", "state", "source", "createTime",
                    "expirationTime")}, "expireEpoch": _epoch(item.get("expirationTime"))})
        return rows

    def batches(self, ids: list[str]) -> list[dict]:
        backend = self.backend("batches")
        if backend is None:
            return []
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

    def _batch_row(self, backend, project: str, operation: dict) -> dict:
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
            state = meta.get("state")
            if state == "BATCH_STATE_PENDING":
                row["next"] = {"state": "BATCH_STATE_RUNNING", "epoch": job.start}
            elif job.will_expire:
                row["next"] = {"state": "BATCH_STATE_EXPIRED", "epoch": job.expires}
            else:
                row["next"] = {"state": "BATCH_STATE_FAILED" if job.input_error else "BATCH_STATE_SUCCEEDED",
                               "epoch": job.finish}
        return row

    def caches(self, ids: list[str]) -> list[dict]:
        backend = self.backend("caches")
        if backend is None:
            return []
        rows = []
        for project in ids:
            for item in backend.list(_stand_in(project)):
                rows.append({"project": project, "name": item["name"], "displayName": item.get("displayName", ""),
                             "model": item.get("model"), "createTime": item.get("createTime"),
                             "expireTime": item.get("expireTime"), "expireEpoch": _epoch(item.get("expireTime")),
                             "totalTokenCount": (item.get("usageMetadata") or {}).get("totalTokenCount")})
        return rows

    @staticmethod
    def _grants(resource) -> list[dict]:
        from .resources.permissions import render
        acl = getattr(resource, "acl", None)
        return [render(resource.name, grant) for grant in (acl.grants.values() if acl else ())]

    def tuned_models(self) -> list[dict]:
        backend = self.backend("tuned_models")
        rows = []
        for record in (backend.records() if backend is not None else []):
            body = record.render(self.now, self.store.seed)
            rows.append({"project": record.project, "name": record.name, "displayName": body.get("displayName", ""),
                         "baseModel": record.base_model, "state": body.get("state"),
                         "createTime": body.get("createTime"),
                         "readyEpoch": record.complete_time if body.get("state") != "ACTIVE" else None,
                         "permissions": self._grants(record)})
        return rows

    def corpora(self) -> list[dict]:
        backend = self.backend("corpora")
        rows = []
        for corpus in (backend.records() if backend is not None else []):
            body = corpus.render()
            rows.append({"name": corpus.name, "displayName": body.get("displayName", ""),
                         "createTime": body.get("createTime"), "permissions": self._grants(corpus)})
        return rows

    def model_operations(self) -> list[dict]:
        backend = self.backend("video_operations")
        return [{"project": project, "name": op.name, "model": op.model, "done": self.now >= op.done_time,
                 "doneEpoch": op.done_time} for project, op in (backend.records() if backend is not None else [])]

    def environments(self) -> list[dict]:
        backend = self.backend("environments")
        return [{"project": env.project, "id": env.id, "mode": env.mode, "fileCount": len(env.files),
                 "created": self.store.timestamp(env.created)}
                for env in (backend.records() if backend is not None else [])]
    def file_search_stores(self) -> list[dict]:
        backend = self.backend("file_search_stores")
        rows = []
        for record in (backend.records() if backend is not None else []):
            body = backend.render_store(record)
            rows.append({"project": record.project, "name": record.name, "displayName": body.get("displayName", ""),
                         "embeddingModel": record.embedding_model, "createTime": body.get("createTime"),
                         **{key: int(body.get(key, 0)) for key in ("activeDocumentsCount", "pendingDocumentsCount",
                                                                   "failedDocumentsCount", "sizeBytes")}})
        return rows

    def logs(self, projects: list[dict]) -> list[dict]:
        backend = self.backend("logs")
        if backend is None:
            return []
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
    def _log_row(entry: dict) -> dict:
        return {
            "name": entry["name"], "method": entry["method"], "model": entry["model"],
            "createTime": entry["createTime"], "expireEpoch": _epoch(entry.get("expireTime")),
            "httpStatus": entry["httpStatus"], "status": entry["status"], "latency": entry["latency"],
            "usageMetadata": entry.get("usageMetadata", {}), "prompt": prompt_of(entry.get("request")),
            "answer": answer_of(entry.get("response")) if "response" in entry
            else (entry.get("error") or {}).get("message", ""),
            "feedback": entry.get("feedback", {}), "datasets": entry.get("datasets", []),
        }

    def usage(self) -> Any:
        """The usage ledger's report (`store.usage.report()`: {"projects": [...], ...}), when it is kept."""
        backend = self.backend("usage")
        report = getattr(backend, "report", None)
        return report() if callable(report) else None

    def build(self) -> dict:
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


def state(store) -> dict:
    """The dashboard's view of the whole emulator, as `GET /_mock/ui/state` answers it."""
    return StateBuilder(store).build()


# -- routes ---------------------------------------------------------------------------------------------

def routes(store) -> list[Route]:
    async def page(request: Request) -> Response:
        return Response(PAGE, media_type="text/html; charset=utf-8", headers=HEADERS)

    async def script(request: Request) -> Response:
        return Response(SCRIPT, media_type="text/javascript; charset=utf-8", headers=HEADERS)

    async def styles(request: Request) -> Response:
        return Response(STYLES, media_type="text/css; charset=utf-8", headers=HEADERS)

    async def current(request: Request) -> Response:
        return json_response(state(store), headers={"Cache-Control": "no-store"})

    return [
        Route("/ui", page, methods=["GET"]),
        Route("/ui/app.js", script, methods=["GET"]),
        Route("/ui/app.css", styles, methods=["GET"]),
        Route("/ui/state", current, methods=["GET"]),
    ]


# -- the page -------------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gemini-mockserver dashboard</title>
<link rel="stylesheet" href="ui/app.css">
<script src="ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>gemini-mockserver</h1>
  <div class="clock">mock time <strong id="now">&hellip;</strong></div>
  <div class="controls">
    <button type="button" data-advance="3600" id="advance-1h">advance 1 h</button>
    <button type="button" data-advance="172800" id="advance-48h">advance 48 h</button>
    <button type="button" data-advance="4752000" id="advance-55d">advance 55 days</button>
    <label><input type="checkbox" id="live" checked> live</label>
  </div>
</header>
<div id="notice" role="status" hidden></div>
<div id="errors" hidden></div>
<nav>
  <a href="#projects">projects</a> <a href="#journal">requests</a> <a href="#files">files</a>
  <a href="#batches">batches</a> <a href="#caches">caches</a> <a href="#tuned">tuned models</a> <a href="#operations">operations</a>
  <a href="#logs">logs &amp; datasets</a> <a href="#usage">usage</a> <a href="#interactions">interactions</a>
</nav>
<main>
  <section id="projects"><h2>Projects</h2><div class="body"></div></section>
  <section id="journal"><h2>Requests</h2><div class="body"></div></section>
  <section id="files"><h2>Files</h2><div class="body"></div></section>
  <section id="batches"><h2>Batches</h2><div class="body"></div></section>
  <section id="caches"><h2>Caches</h2><div class="body"></div></section>
  <section id="tuned"><h2>Tuned models &amp; corpora</h2><div class="body"></div></section>
  <section id="operations"><h2>Model operations &amp; environments</h2><div class="body"></div></section>
  <section id="logs"><h2>Logs &amp; datasets</h2><div class="body"></div></section>
  <section id="usage"><h2>Usage</h2><div class="body"></div></section>
  <section id="interactions"><h2>Interactions &amp; webhook deliveries</h2><div class="body"></div></section>
</main>
<noscript>This page needs JavaScript; the same state is at <code>/_mock/ui/state</code>.</noscript>
</body>
</html>
"""

STYLES = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --accent: #0969da; }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1em; background: var(--bg);
         border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; flex-wrap: wrap; }
header h1 { font-size: 1.1em; margin: 0; }
nav { padding: .4em 1em; border-bottom: 1px solid var(--line); }
nav a { margin-right: .8em; color: var(--accent); }
main { padding: 0 1em 3em; }
section h2 { font-size: 1em; margin: 1.4em 0 .4em; }
h3 { font-size: .95em; margin: 1em 0 .3em; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { border-bottom: 1px solid var(--line); padding: .25em .5em; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.text { max-width: 28em; overflow-wrap: anywhere; }
.empty { color: var(--muted); font-style: italic; }
.state { font-family: ui-monospace, monospace; }
.muted { color: var(--muted); }
.rating-THUMBS_UP { color: #1a7f37; } .rating-THUMBS_DOWN { color: #cf222e; }
button { cursor: pointer; }
button[aria-pressed="true"] { background: #ddf4ff; border-color: var(--accent); font-weight: 600; }
#notice { margin: .5em 1em; padding: .4em .8em; border: 1px solid var(--line); background: #fff8c5; }
#errors { margin: .5em 1em; padding: .4em .8em; border: 1px solid #cf222e; color: #cf222e; }
.form { margin: .5em 0; display: flex; gap: .5em; align-items: center; flex-wrap: wrap; }
pre { background: var(--bg); padding: .6em; overflow: auto; }
"""

SCRIPT = r"""
"use strict";
(function () {
  const BASE = location.pathname.replace(/\/ui\/?$/, "");
  // The control token, when the server needs one: given to the page as ?token=, sent as a header.
  const TOKEN = new URLSearchParams(location.search).get("token");
  const AUTH = TOKEN ? {"X-Mock-Control-Token": TOKEN} : {};
  const selected = new Map();   // project -> Set of log names picked for a dataset
  const drafts = new Map();     // log name -> comment being written
  const forms = new Map();      // project -> {name, shared} of the dataset form
  let state = null;
  let busy = false;

  // Every node is built here; text always goes in as a text node, never as HTML.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "checked" || key === "value" || key === "disabled") el[key] = value;
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function table(headers, rows, empty) {
    if (!rows.length) return h("p", {class: "empty"}, empty || "none");
    return h("table", {},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows));
  }

  function relative(epoch) {
    if (epoch === null || epoch === undefined || !state) return "";
    const delta = Math.round(epoch - state.epochSeconds), a = Math.abs(delta);
    let text;
    if (a < 60) text = a + " s";
    else if (a < 3600) text = Math.floor(a / 60) + " min";
    else if (a < 2 * 86400) text = Math.floor(a / 3600) + " h " + Math.floor((a % 3600) / 60) + " min";
    else text = Math.floor(a / 86400) + " d " + Math.floor((a % 86400) / 3600) + " h";
    return delta >= 0 ? "in " + text : text + " ago";
  }

  function notice(text) {
    const el = document.getElementById("notice");
    el.textContent = text || "";
    el.hidden = !text;
  }

  async function call(method, path, body) {
    const options = {method, headers: {...AUTH}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(BASE + path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      notice((error.status || response.status) + ": " + (error.message || "request failed"));
      throw new Error(error.message || "request failed");
    }
    notice("");
    return data;
  }

  async function act(method, path, body) {
    let ok = true;
    try { await call(method, path, body); } catch (e) { ok = false; /* shown in the notice */ }
    await refresh(true);
    return ok;
  }

  const enc = encodeURIComponent;
  const projectPath = (project) => "/projects/" + enc(project);
  const tail = (name) => name.split("/").pop();

  // -- sections ------------------------------------------------------------------------------------
  function projects() {
    return table(["project", "tier", "e-mail", "logging"], state.projects.map((p) => h("tr", {"data-project": p.project},
      h("td", {}, p.project), h("td", {}, p.tier), h("td", {}, p.emails.join(", ")),
      h("td", {}, p.loggingAvailable
        ? [p.loggingEnabled ? "on " : "off ",
           h("button", {type: "button", class: "logging-toggle",
                        onclick: () => act("PATCH", projectPath(p.project) + "/logging", {enabled: !p.loggingEnabled})},
             p.loggingEnabled ? "turn logging off" : "turn logging on")]
        : h("span", {class: "muted"}, "free tier: no logging")))), "no project has called yet");
  }

  function journal() {
    const j = state.journal;
    return [h("p", {class: "muted"}, j.total + " requests kept" + (j.dropped ? ", " + j.dropped + " dropped" : "") + "; newest first"),
      table(["time", "method", "path", "project", "model", "status"], j.requests.map((r) => h("tr", {},
        h("td", {}, r.time), h("td", {}, r.method), h("td", {class: "text"}, r.path), h("td", {}, r.project || ""),
        h("td", {}, r.model || ""), h("td", {}, r.status))), "no requests yet")];
  }

  function files() {
    return table(["project", "name", "display name", "type", "bytes", "state", "expires"], state.files.map((f) =>
      h("tr", {"data-name": f.name}, h("td", {}, f.project), h("td", {}, f.name), h("td", {class: "text"}, f.displayName || ""),
        h("td", {}, f.mimeType), h("td", {}, f.sizeBytes), h("td", {class: "state"}, f.state),
        h("td", {title: f.expirationTime}, relative(f.expireEpoch)))), "no files");
  }

  function batches() {
    return table(["project", "name", "display name", "model", "state", "requests (ok / failed / pending)", "next", "expires"],
      state.batches.map((b) => h("tr", {"data-name": b.name, class: "batch"},
        h("td", {}, b.project), h("td", {}, b.name), h("td", {class: "text"}, b.displayName),
        h("td", {}, b.model), h("td", {class: "state"}, b.state),
        h("td", {}, b.requestCount + " (" + b.successfulRequestCount + " / " + b.failedRequestCount + " / " + b.pendingRequestCount + ")"),
        h("td", {}, b.next ? b.next.state.replace("BATCH_STATE_", "") + " " + relative(b.next.epoch) : (b.endTime ? "ended " + b.endTime : "")),
        h("td", {}, b.done ? "" : relative(b.expireEpoch)))), "no batches");
  }

  function caches() {
    return table(["project", "name", "display name", "model", "tokens", "expires"], state.caches.map((c) =>
      h("tr", {"data-name": c.name}, h("td", {}, c.project), h("td", {}, c.name), h("td", {class: "text"}, c.displayName),
        h("td", {}, c.model), h("td", {}, c.totalTokenCount), h("td", {title: c.expireTime, class: "expires"}, relative(c.expireEpoch)))),
      "no caches");
  }

  function grants(list) {
    return list.map((g) => g.role + " " + (g.emailAddress || g.granteeType)).join(", ");
  }

  function tuned() {
    return [h("h3", {}, "Tuned models"),
      table(["name", "display name", "base model", "state", "owner project", "permissions"], state.tunedModels.map((t) =>
        h("tr", {"data-name": t.name}, h("td", {}, t.name), h("td", {class: "text"}, t.displayName), h("td", {}, t.baseModel),
          h("td", {class: "state"}, t.state + (t.readyEpoch ? " (ready " + relative(t.readyEpoch) + ")" : "")),
          h("td", {}, t.project), h("td", {class: "text"}, grants(t.permissions)))), "no tuned models"),
      h("h3", {}, "Corpora"),
      table(["name", "display name", "created", "permissions"], state.corpora.map((c) =>
        h("tr", {"data-name": c.name}, h("td", {}, c.name), h("td", {class: "text"}, c.displayName), h("td", {}, c.createTime),
          h("td", {class: "text"}, grants(c.permissions)))), "no corpora"),
      h("h3", {}, "File Search stores"),
      table(["name", "display name", "documents (active / pending / failed)", "bytes", "embedding model", "project"],
        (state.fileSearchStores || []).map((s) =>
          h("tr", {"data-name": s.name}, h("td", {}, s.name), h("td", {class: "text"}, s.displayName),
            h("td", {}, s.activeDocumentsCount + " / " + s.pendingDocumentsCount + " / " + s.failedDocumentsCount),
            h("td", {}, String(s.sizeBytes)), h("td", {}, s.embeddingModel), h("td", {}, s.project))),
        "no File Search stores")];
  }

  function operations() {
    return [h("h3", {}, "Model operations"),
      table(["project", "name", "model", "state"], state.modelOperations.map((o) =>
        h("tr", {"data-name": o.name}, h("td", {}, o.project), h("td", {}, o.name), h("td", {}, o.model),
          h("td", {class: "state"}, o.done ? "done" : "running (done " + relative(o.doneEpoch) + ")"))), "no model operations"),
      h("h3", {}, "Environments"),
      table(["project", "id", "mode", "files", "created"], state.environments.map((e) =>
        h("tr", {"data-name": e.id}, h("td", {}, e.project), h("td", {}, e.id), h("td", {}, e.mode),
          h("td", {}, e.fileCount), h("td", {}, e.created))), "no environments")];
  }

  function tokens(usage) {
    if (!usage || usage.totalTokenCount === undefined) return "";
    return (usage.promptTokenCount || 0) + " in / " + (usage.candidatesTokenCount || 0) + " out";
  }

  function logRow(project, entry) {
    const picked = selected.get(project) || new Set();
    const rating = (entry.feedback || {}).rating;
    const draft = drafts.has(entry.name) ? drafts.get(entry.name) : ((entry.feedback || {}).comment || "");
    const path = projectPath(project) + "/logs/" + enc(tail(entry.name)) + ":feedback";
    const comment = h("input", {type: "text", class: "comment", placeholder: "comment", value: draft,
      "data-log": entry.name, oninput: (e) => drafts.set(entry.name, e.target.value)});
    return h("tr", {"data-name": entry.name, class: "log"},
      h("td", {}, h("input", {type: "checkbox", class: "pick", checked: picked.has(entry.name),
        "aria-label": "select " + entry.name,
        onchange: (e) => { const s = selected.get(project) || new Set(); e.target.checked ? s.add(entry.name) : s.delete(entry.name); selected.set(project, s); }})),
      h("td", {}, entry.createTime), h("td", {}, entry.method), h("td", {}, entry.model),
      h("td", {}, entry.httpStatus + " " + entry.status), h("td", {}, tokens(entry.usageMetadata)), h("td", {}, entry.latency),
      h("td", {class: "text prompt"}, entry.prompt), h("td", {class: "text answer"}, entry.answer),
      h("td", {class: "keep"}, entry.datasets.length ? "kept in " + entry.datasets.length + " dataset(s)" : relative(entry.expireEpoch)),
      h("td", {class: "feedback"},
        h("span", {class: "rating rating-" + (rating || "none")}, rating ? rating.replace("THUMBS_", "thumbs ").toLowerCase() : "no rating"), " ",
        h("button", {type: "button", class: "thumbs-up", title: "thumbs up (press again to clear)",
          "aria-pressed": String(rating === "THUMBS_UP"),
          onclick: () => act("POST", path, {rating: rating === "THUMBS_UP" ? "RATING_UNSPECIFIED" : "THUMBS_UP"})}, "\u{1F44D} up"),
        h("button", {type: "button", class: "thumbs-down", title: "thumbs down (press again to clear)",
          "aria-pressed": String(rating === "THUMBS_DOWN"),
          onclick: () => act("POST", path, {rating: rating === "THUMBS_DOWN" ? "RATING_UNSPECIFIED" : "THUMBS_DOWN"})}, "\u{1F44E} down"),
        " ", comment,
        h("button", {type: "button", class: "save-comment",
          onclick: () => { const text = comment.value; drafts.delete(entry.name); act("POST", path, {comment: text}); }}, "save")));
  }

  function datasetForm(project) {
    const form = forms.get(project) || {name: "", shared: true};
    forms.set(project, form);
    const name = h("input", {type: "text", class: "dataset-name", placeholder: "dataset name", value: form.name,
      oninput: (e) => { form.name = e.target.value; }});
    const shared = h("input", {type: "checkbox", class: "dataset-shared", checked: form.shared,
      onchange: (e) => { form.shared = e.target.checked; }});
    return h("div", {class: "form"}, name, h("label", {}, shared, " share with Google"),
      h("button", {type: "button", class: "create-dataset", onclick: () => {
        const logs = Array.from(selected.get(project) || []);
        act("POST", projectPath(project) + "/datasets", {displayName: name.value, shared: shared.checked, logs})
          .then((ok) => { if (ok) { selected.delete(project); forms.delete(project); refresh(true); } });
      }}, "create dataset from selected logs"));
  }

  function logs() {
    if (!state.logs.length) return h("p", {class: "empty"}, "no paid-tier project: logging is only for projects with billing enabled");
    return state.logs.map((p) => h("div", {class: "log-project", "data-project": p.project},
      h("h3", {}, p.project + " \u2014 logging " + (p.enabled ? "on" : "off") + "; " + p.retained + " of " + p.limit + " logs kept in datasets"),
      table(["", "time", "method", "model", "status", "tokens", "latency", "prompt", "answer", "expires", "feedback"],
        p.logs.map((entry) => logRow(p.project, entry)), p.enabled ? "no logs yet" : "no logs (turn logging on)"),
      datasetForm(p.project),
      table(["dataset", "display name", "shared", "logs", "created", ""], p.datasets.map((d) =>
        h("tr", {"data-name": d.name, class: "dataset"}, h("td", {}, d.name), h("td", {class: "text"}, d.displayName || ""),
          h("td", {class: "shared"}, d.shared ? "shared" : "not shared"), h("td", {}, d.logCount), h("td", {}, d.createTime),
          h("td", {},
            h("button", {type: "button", class: "toggle-shared",
              onclick: () => act("PATCH", projectPath(p.project) + "/datasets/" + enc(tail(d.name)), {shared: !d.shared})},
              d.shared ? "stop sharing" : "share"), " ",
            h("button", {type: "button", class: "delete-dataset",
              onclick: () => act("DELETE", projectPath(p.project) + "/datasets/" + enc(tail(d.name)))}, "delete")))),
        "no datasets")));
  }

  function usage() {
    const u = state.usage;
    if (u === null || u === undefined) return h("p", {class: "empty"}, "usage is not tracked by this server");
    if (!Array.isArray(u.projects)) return h("pre", {}, JSON.stringify(u, null, 2));
    const money = (x) => (typeof x === "number" ? "$" + x.toFixed(6) : "");
    const rows = [];
    for (const p of u.projects) {
      rows.push(h("tr", {"data-project": p.project, class: "usage-project"},
        h("td", {}, p.project), h("td", {}, "all models"), h("td", {}, p.tier), h("td", {}, p.requests),
        h("td", {}, p.failedRequests), h("td", {}, p.rateLimitedRequests), h("td", {}, p.inputTokens),
        h("td", {}, p.cachedTokens), h("td", {}, p.outputTokens), h("td", {}, money(p.costUsd)),
        h("td", {}, money(p.paidTierCostUsd))));
      for (const m of p.models || []) {
        rows.push(h("tr", {class: "usage-model"},
          h("td", {}, ""), h("td", {}, m.model), h("td", {}, ""), h("td", {}, m.requests),
          h("td", {}, m.failedRequests), h("td", {}, m.rateLimitedRequests), h("td", {}, m.inputTokens),
          h("td", {}, m.cachedTokens), h("td", {}, m.outputTokens), h("td", {}, money(m.costUsd)),
          h("td", {}, money(m.paidTierCostUsd))));
      }
    }
    return [table(["project", "model", "tier", "requests", "failed", "rate-limited", "input tokens", "cached",
                   "output tokens", "cost", "at paid prices"], rows, "no usage yet"),
            u.pricing ? h("p", {class: "muted"}, String(u.pricing)) : null];
  }

  function interactions() {
    return [table(["project", "id", "model / agent", "status", "created", "previous", "steps"], state.interactions.map((i) =>
      h("tr", {"data-name": i.id, class: "interaction"}, h("td", {}, i.project), h("td", {}, i.id), h("td", {}, i.model),
        h("td", {class: "state"}, i.status + (i.background ? " (background)" : "")), h("td", {}, i.created),
        h("td", {}, i.previous || ""), h("td", {class: "text"}, i.steps.join("\n")))), "no stored interactions"),
      h("h3", {}, "Webhook deliveries"),
      table(["project", "webhook", "event", "message", "attempts", "statuses"], state.webhookDeliveries.map((d) =>
        h("tr", {"data-name": d.id}, h("td", {}, d.project), h("td", {}, d.webhook), h("td", {}, d.event), h("td", {}, d.id),
          h("td", {}, d.attempts + (d.done ? "" : " (retrying)")), h("td", {}, d.log.map((l) => l.status).join(", ")))),
        "no deliveries")];
  }

  const SECTIONS = {projects, journal, files, batches, caches, tuned, operations, logs, usage, interactions};
  const drawn = {};

  function draw() {
    document.getElementById("now").textContent = state.now;
    const errors = document.getElementById("errors");
    const failed = Object.entries(state.errors || {});
    errors.hidden = !failed.length;
    errors.replaceChildren(...failed.map(([k, v]) => h("div", {}, "section " + k + " could not be read: " + v)));
    const active = document.activeElement;
    for (const [id, render] of Object.entries(SECTIONS)) {
      const body = document.querySelector("#" + id + " .body");
      // Do not redraw a section while something in it is being typed into.
      if (active && active.tagName === "INPUT" && active.type === "text" && body.contains(active)) continue;
      const content = render();
      body.replaceChildren(...[content].flat());
      drawn[id] = true;
    }
  }

  async function refresh(force) {
    if (busy && !force) return;
    busy = true;
    try {
      const response = await fetch(BASE + "/ui/state", {cache: "no-store", headers: AUTH});
      state = await response.json();
      draw();
      document.body.dataset.ready = "1";
    } catch (e) {
      notice("cannot reach the emulator: " + e.message);
    } finally {
      busy = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-advance]")) {
      button.addEventListener("click", () => act("POST", "/clock", {advanceSeconds: Number(button.dataset.advance)}));
    }
    refresh(true);
    setInterval(() => { if (document.getElementById("live").checked) refresh(false); }, 1000);
  });
})();
"""
