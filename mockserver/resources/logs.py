"""Logs and datasets: the developer-owned record of a project's Gemini API calls, and the control-plane
routes that read and curate it.

The rules, from the logs-and-datasets policy:

* Logging is opt-in per project, and only for projects with billing enabled: a project whose keys are on
  the free tier is refused with 400 FAILED_PRECONDITION. A project's tier is the one its keys carry in the
  keys file (`tier1`, `tier2`, `tier3` are paid); keys the server derives itself are free.
* With logging on, each `generateContent` and `streamGenerateContent` call made through `models/*` becomes
  a log: the request, the response (or the error), and its metadata (model, method, API version, time,
  status, token counts, latency). Calls a batch job makes internally are not logged.
* A log expires `logs.ttlSeconds` (55 days) after it was made, computed from the clock when read.
* A dataset is made from chosen logs and keeps them with no expiry: a log in at least one dataset is
  retained. A project keeps at most `logs.maxPerProject` (1,000) logs in datasets; a create or add that
  would go beyond is a 400 FAILED_PRECONDITION that says how many fit.
* Each log takes feedback: a rating (THUMBS_UP, THUMBS_DOWN) and a written comment.
* A dataset is shared with Google unless the owner opts out when creating it (`"shared": false`); the
  flag can also be changed afterwards.

Names: `projects/{project}/logs/{id}` and `projects/{project}/datasets/{id}`; wherever a body names a log,
the full name, `logs/{id}` or the bare id are all taken. Errors use the Google envelope; anything that is
absent, expired or another project's is the same 404 NOT_FOUND.

HTTP (under `/_mock`, no API key; see `control_routes`):

    GET|PATCH  /projects/{project}/logging                 {"enabled": bool}
    GET        /projects/{project}/logs                    ?pageSize=&pageToken=   newest first
    GET        /projects/{project}/logs/{log}
    POST       /projects/{project}/logs/{log}:feedback     {"rating"?: ..., "comment"?: ...}
    GET|POST   /projects/{project}/datasets                create: {"displayName", "description"?, "shared"?, "logs"}
    GET|PATCH|DELETE /projects/{project}/datasets/{dataset}   patch: displayName, description, shared
    GET        /projects/{project}/datasets/{dataset}/logs ?pageSize=&pageToken=
    POST       /projects/{project}/datasets/{dataset}:addLogs     {"logs": [...]}
    POST       /projects/{project}/datasets/{dataset}:removeLogs  {"logs": [...]}
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, failed_precondition, invalid_argument, not_found
from ..http import error_response, json_response, parse_json, read_body
from ..persistence import build, fields_of
from ..wire import format_duration, page_size, paginate

PAID_TIERS = ("tier1", "tier2", "tier3")
TIER_RANK = {"free": 0, "tier1": 1, "tier2": 2, "tier3": 3}
THUMBS_UP, THUMBS_DOWN = "THUMBS_UP", "THUMBS_DOWN"
RATINGS = (THUMBS_UP, THUMBS_DOWN)
CLEAR_RATING = "RATING_UNSPECIFIED"
LOGGED_METHODS = ("generateContent", "streamGenerateContent")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
MAX_COMMENT = 10_000
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_DISPLAY_NAME = 512
MAX_DESCRIPTION = 10_000
USAGE_FIELDS = ("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount",
                "toolUsePromptTokenCount", "totalTokenCount")


@dataclass
class LogEntry:
    id: str
    project: str
    method: str                    # generateContent | streamGenerateContent
    model: str                     # models/...
    version: str                   # v1, v1beta, v1alpha
    create_time: float
    expire_time: float
    latency: float                 # seconds, read from the emulator's clock
    http_status: int
    status: str                    # OK, or the google.rpc status name of the error
    request: Any = None            # the request as the handler read it (camelCase)
    response: Any = None           # the body answered: a dict, or the list of chunks of a stream
    error: dict | None = None      # the envelope's `error` on failure
    rating: str | None = None
    comment: str = ""
    feedback_time: float | None = None
    datasets: set[str] = field(default_factory=set)   # ids of the datasets that keep it

    @property
    def name(self) -> str:
        return f"projects/{self.project}/logs/{self.id}"

    @property
    def retained(self) -> bool:
        return bool(self.datasets)

    def alive(self, now: float) -> bool:
        return self.retained or now < self.expire_time

    def usage(self) -> dict:
        """usageMetadata of the answer (the last chunk's for a stream)."""
        answer = self.response
        if isinstance(answer, list):
            answer = next((c for c in reversed(answer) if isinstance(c, dict) and c.get("usageMetadata")), None)
        usage = answer.get("usageMetadata") if isinstance(answer, dict) else None
        return {k: usage[k] for k in USAGE_FIELDS if isinstance(usage, dict) and k in usage}


@dataclass
class Dataset:
    id: str
    project: str
    display_name: str
    description: str
    shared: bool
    create_time: float
    update_time: float
    logs: list[str] = field(default_factory=list)     # log ids, in the order they were added

    @property
    def name(self) -> str:
        return f"projects/{self.project}/datasets/{self.id}"


@dataclass
class Logging:
    enabled: bool = False
    update_time: float | None = None


class Logs:
    """Logs, datasets and the logging switch of every project. Registered as `store.logs`.

    Public API (the handlers, the dashboard, the pytest plugin and tests use it; no HTTP here). `project`
    is a project id string:

    * `tier(project)`, `logging(project)` -> `{"project", "tier", "enabled", ...}`,
      `set_logging(project, enabled)`, `enabled(project)` -> bool.
    * `record(project, method=, model=, version=, request=, response=, error=, latency=)` -> the Log dict
      (used by `recording`, the hook around the generation handlers; also to seed logs in tests).
    * `list_logs(project, size, token)`, `get_log(project, name)`, `feedback(project, name, body)`.
    * `create_dataset(project, body)`, `list_datasets(project, size, token)`, `get_dataset(project, name)`,
      `update_dataset(project, name, body)`, `delete_dataset(project, name)`,
      `add_logs(project, name, logs)`, `remove_logs(project, name, logs)`,
      `dataset_logs(project, name, size, token)`.
    * `projects()` -> the projects with logging state, `reset()`.
    """

    def __init__(self, store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._logging: dict[str, Logging] = {}
        self._logs: dict[str, dict[str, LogEntry]] = {}
        self._datasets: dict[str, dict[str, Dataset]] = {}

    def reset(self) -> None:
        with self.lock:
            self._logging.clear()
            self._logs.clear()
            self._datasets.clear()

    @property
    def config(self) -> dict:
        return self.store.config["logs"]

    # -- projects and the switch ---------------------------------------------------------------------
    def tier(self, project: str) -> str:
        """The billing tier of `project`: the highest its listed keys carry. With no keys file every key is
        derived, hence free. A project no listed key belongs to is a 404."""
        listed = self.store.keys.listed
        if project in self.store.keys.tiers:   # set while the server runs (tiers.py)
            return self.store.keys.tiers[project]
        if listed is None:
            return "free"
        tiers = [identity.tier for identity in listed.values() if identity.project == project]
        if not tiers:
            raise not_found(f"Project {project} is not known: no API key in the keys file belongs to it.")
        return max(tiers, key=lambda t: TIER_RANK.get(t, 0))

    def _require_paid(self, project: str) -> None:
        tier = self.tier(project)
        if tier not in PAID_TIERS:
            raise failed_precondition(
                f"Logging is only available for projects with billing enabled; project {project} is on the "
                f"free tier. Give its key a paid tier (tier1, tier2 or tier3) in the keys file.")

    def logging(self, project: str) -> dict:
        tier = self.tier(project)
        with self.lock:
            state = self._logging.get(project) or Logging()
        body: dict[str, Any] = {"project": project, "tier": tier, "available": tier in PAID_TIERS,
                                "enabled": state.enabled}
        if state.update_time is not None:
            body["updateTime"] = self.store.timestamp(state.update_time)
        return body

    def set_logging(self, project: str, enabled: bool) -> dict:
        if not isinstance(enabled, bool):
            raise invalid_argument("enabled must be true or false.", "enabled")
        if enabled:
            self._require_paid(project)
        else:
            self.tier(project)   # an unknown project is still a 404
        with self.lock:
            self._logging[project] = Logging(enabled, self.store.now())
        return self.logging(project)

    def enabled(self, project: str) -> bool:
        state = self._logging.get(project)
        return bool(state and state.enabled)

    def projects(self) -> list[str]:
        with self.lock:
            return sorted({*self._logging, *self._logs, *self._datasets})

    # -- recording -----------------------------------------------------------------------------------
    def record(self, project: str, *, method: str, model: str, version: str = "v1beta", request: Any = None,
               response: Any = None, error: ApiError | None = None, latency: float = 0.0) -> dict:
        now = self.store.now()
        entry = LogEntry(
            id=self.store.new_id(project, "log"), project=project, method=method, model=model,
            version=version, create_time=now, expire_time=now + float(self.config["ttlSeconds"]),
            latency=max(0.0, float(latency)), http_status=error.code if error else 200,
            status=error.status if error else "OK", request=request,
            response=None if error else response, error=error.envelope()["error"] if error else None)
        with self.lock:
            self._purge(project, now)
            self._logs.setdefault(project, {})[entry.id] = entry
            rendered = self._render_log(entry)
        self.store.changed()   # a log is state, though the call that made it changed nothing else
        return rendered

    # -- reading logs --------------------------------------------------------------------------------
    def _purge(self, project: str, now: float) -> None:
        """Drop the project's logs that expired and no dataset keeps. Logs are kept oldest first, so the
        scan stops at the first one still young (a clock set back may leave an older one behind: reads
        filter with `alive` as well)."""
        logs = self._logs.get(project)
        if not logs:
            return
        gone = []
        for log_id, entry in logs.items():
            if entry.retained:
                continue
            if now < entry.expire_time:
                break
            gone.append(log_id)
        for log_id in gone:
            del logs[log_id]

    def _entry(self, project: str, name: object, field_name: str = "name") -> LogEntry:
        log_id = _id_of(name, project, "logs", field_name)
        entry = self._logs.get(project, {}).get(log_id) if log_id else None
        if entry is None or not entry.alive(self.store.now()):
            shown = f"projects/{project}/logs/{log_id}" if log_id else name   # another project's: as given
            raise not_found(f"Log {shown} was not found: it does not exist, "
                            f"belongs to another project, or expired.")
        return entry

    def _render_log(self, entry: LogEntry) -> dict:
        body: dict[str, Any] = {
            "name": entry.name,
            "method": entry.method,
            "model": entry.model,
            "apiVersion": entry.version,
            "createTime": self.store.timestamp(entry.create_time),
        }
        if not entry.retained:
            body["expireTime"] = self.store.timestamp(entry.expire_time)
        body["latency"] = format_duration(round(entry.latency, 6))
        body["httpStatus"] = entry.http_status
        body["status"] = entry.status
        body["usageMetadata"] = entry.usage()
        body["request"] = entry.request
        if entry.error is not None:
            body["error"] = entry.error
        else:
            body["response"] = entry.response
        if entry.rating or entry.comment:
            feedback: dict[str, Any] = {}
            if entry.rating:
                feedback["rating"] = entry.rating
            if entry.comment:
                feedback["comment"] = entry.comment
            feedback["updateTime"] = self.store.timestamp(entry.feedback_time)
            body["feedback"] = feedback
        body["datasets"] = [f"projects/{entry.project}/datasets/{d}" for d in sorted(entry.datasets)]
        return body

    def list_logs(self, project: str, size: int = DEFAULT_PAGE_SIZE, token: str | None = None) -> dict:
        self._require_paid(project)
        with self.lock:
            now = self.store.now()
            self._purge(project, now)
            entries = [e for e in reversed(self._logs.get(project, {}).values()) if e.alive(now)]
            page, following = paginate(entries, size, token)
            body: dict[str, Any] = {"logs": [self._render_log(e) for e in page]}
        if following:
            body["nextPageToken"] = following
        return body

    def get_log(self, project: str, name: str) -> dict:
        self._require_paid(project)
        with self.lock:
            return self._render_log(self._entry(project, name))

    def feedback(self, project: str, name: str, body: dict) -> dict:
        """Set the rating and/or the comment of a log. A rating of RATING_UNSPECIFIED (or null) and an
        empty comment clear them."""
        self._require_paid(project)
        unknown = [key for key in body if key not in ("rating", "comment")]
        if unknown:
            raise invalid_argument(f"Unknown field '{unknown[0]}': feedback takes rating and comment.", unknown[0])
        if "rating" not in body and "comment" not in body:
            raise invalid_argument("Give a rating (THUMBS_UP or THUMBS_DOWN) or a comment.", "rating")
        rating = body.get("rating")
        if "rating" in body and rating not in (*RATINGS, CLEAR_RATING, None):
            raise invalid_argument(f"rating must be THUMBS_UP, THUMBS_DOWN or RATING_UNSPECIFIED, not {rating!r}.",
                                   "rating")
        comment = body.get("comment")
        if "comment" in body and comment is not None:
            if not isinstance(comment, str):
                raise invalid_argument("comment must be a string.", "comment")
            if len(comment) > MAX_COMMENT:
                raise invalid_argument(f"comment must be at most {MAX_COMMENT} characters.", "comment")
        with self.lock:
            entry = self._entry(project, name)
            if "rating" in body:
                entry.rating = rating if rating in RATINGS else None
            if "comment" in body:
                entry.comment = comment or ""
            entry.feedback_time = self.store.now()
            return self._render_log(entry)

    # -- datasets ------------------------------------------------------------------------------------
    def _dataset(self, project: str, name: object) -> Dataset:
        dataset_id = _id_of(name, project, "datasets", "name")
        dataset = self._datasets.get(project, {}).get(dataset_id) if dataset_id else None
        if dataset is None:
            raise not_found(f"Dataset projects/{project}/datasets/{dataset_id or name} was not found.")
        return dataset

    def _render_dataset(self, dataset: Dataset) -> dict:
        body: dict[str, Any] = {"name": dataset.name}
        if dataset.display_name:
            body["displayName"] = dataset.display_name
        if dataset.description:
            body["description"] = dataset.description
        body.update({
            "shared": dataset.shared,
            "createTime": self.store.timestamp(dataset.create_time),
            "updateTime": self.store.timestamp(dataset.update_time),
            "logCount": len(dataset.logs),
            "logs": [f"projects/{dataset.project}/logs/{i}" for i in dataset.logs],
        })
        return body

    def retained_count(self, project: str) -> int:
        """How many distinct logs the project keeps in datasets (what the storage limit counts)."""
        with self.lock:
            return sum(1 for e in self._logs.get(project, {}).values() if e.retained)

    def _log_list(self, project: str, raw: object, field_name: str = "logs") -> list[LogEntry]:
        if not isinstance(raw, list):
            raise invalid_argument(f"{field_name} must be a list of log names.", field_name)
        entries, seen = [], set()
        for index, item in enumerate(raw):
            if not isinstance(item, str) or not item.strip():
                raise invalid_argument(f"{field_name}[{index}] must be a log name such as "
                                       f"projects/{project}/logs/abc.", f"{field_name}[{index}]")
            entry = self._entry(project, item, f"{field_name}[{index}]")
            if entry.id not in seen:
                seen.add(entry.id)
                entries.append(entry)
        return entries

    def _check_room(self, project: str, entries: list[LogEntry]) -> None:
        limit = int(self.config["maxPerProject"])
        held = self.retained_count(project)
        adding = sum(1 for e in entries if not e.retained)
        if held + adding > limit:
            raise failed_precondition(
                f"Project {project} can keep at most {limit} logs in datasets: it keeps {held}, and this would "
                f"add {adding} more ({limit - held} fit). Remove logs from a dataset or delete one first.")

    def _text(self, body: dict, key: str, limit: int) -> str:
        value = body.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise invalid_argument(f"{key} must be a string.", key)
        if len(value) > limit:
            raise invalid_argument(f"{key} must be at most {limit} characters.", key)
        return value

    def create_dataset(self, project: str, body: dict) -> dict:
        self._require_paid(project)
        unknown = [k for k in body if k not in ("displayName", "description", "shared", "logs")]
        if unknown:
            raise invalid_argument(f"Unknown field '{unknown[0]}': a dataset takes displayName, description, "
                                   f"shared and logs.", unknown[0])
        display_name = self._text(body, "displayName", MAX_DISPLAY_NAME)
        if not display_name.strip():
            raise invalid_argument("displayName is required.", "displayName")
        description = self._text(body, "description", MAX_DESCRIPTION)
        shared = body.get("shared", True)
        if not isinstance(shared, bool):
            raise invalid_argument("shared must be true or false.", "shared")
        with self.lock:
            now = self.store.now()
            self._purge(project, now)
            entries = self._log_list(project, body.get("logs", []))
            self._check_room(project, entries)
            dataset = Dataset(id=self.store.new_id(project, "dataset"), project=project,
                              display_name=display_name, description=description, shared=shared,
                              create_time=now, update_time=now, logs=[e.id for e in entries])
            for entry in entries:
                entry.datasets.add(dataset.id)
            self._datasets.setdefault(project, {})[dataset.id] = dataset
            return self._render_dataset(dataset)

    def list_datasets(self, project: str, size: int = DEFAULT_PAGE_SIZE, token: str | None = None) -> dict:
        self._require_paid(project)
        with self.lock:
            datasets = list(reversed(self._datasets.get(project, {}).values()))
            page, following = paginate(datasets, size, token)
            body: dict[str, Any] = {"datasets": [self._render_dataset(d) for d in page]}
        if following:
            body["nextPageToken"] = following
        return body

    def get_dataset(self, project: str, name: str) -> dict:
        self._require_paid(project)
        with self.lock:
            return self._render_dataset(self._dataset(project, name))

    def update_dataset(self, project: str, name: str, body: dict) -> dict:
        """Change displayName, description or shared; any other field is a 400 naming it."""
        self._require_paid(project)
        unknown = [k for k in body if k not in ("displayName", "description", "shared", "name")]
        if unknown:
            raise invalid_argument(f"Field '{unknown[0]}' cannot be updated: only displayName, description and "
                                   f"shared can be changed (logs change with :addLogs and :removeLogs).",
                                   unknown[0])
        with self.lock:
            dataset = self._dataset(project, name)
            if "name" in body and body["name"] not in (dataset.name, dataset.id):
                raise invalid_argument("The name in the body does not match the dataset being updated.", "name")
            if "displayName" in body:
                display_name = self._text(body, "displayName", MAX_DISPLAY_NAME)
                if not display_name.strip():
                    raise invalid_argument("displayName must not be empty.", "displayName")
                dataset.display_name = display_name
            if "description" in body:
                dataset.description = self._text(body, "description", MAX_DESCRIPTION)
            if "shared" in body:
                if not isinstance(body["shared"], bool):
                    raise invalid_argument("shared must be true or false.", "shared")
                dataset.shared = body["shared"]
            dataset.update_time = self.store.now()
            return self._render_dataset(dataset)

    def add_logs(self, project: str, name: str, logs: object) -> dict:
        self._require_paid(project)
        with self.lock:
            dataset = self._dataset(project, name)
            self._purge(project, self.store.now())
            entries = [e for e in self._log_list(project, logs) if e.id not in dataset.logs]
            self._check_room(project, entries)
            for entry in entries:
                entry.datasets.add(dataset.id)
                dataset.logs.append(entry.id)
            dataset.update_time = self.store.now()
            return self._render_dataset(dataset)

    def remove_logs(self, project: str, name: str, logs: object) -> dict:
        """Take logs out of a dataset. A log past its 55 days that no other dataset keeps is gone after."""
        self._require_paid(project)
        if not isinstance(logs, list):
            raise invalid_argument("logs must be a list of log names.", "logs")
        with self.lock:
            dataset = self._dataset(project, name)
            ids = []
            for index, item in enumerate(logs):
                log_id = _id_of(item, project, "logs", f"logs[{index}]")
                if log_id not in dataset.logs:
                    raise invalid_argument(f"logs[{index}] ({item!r}) is not in dataset {dataset.name}.",
                                           f"logs[{index}]")
                ids.append(log_id)
            for log_id in ids:
                if log_id in dataset.logs:
                    dataset.logs.remove(log_id)
                entry = self._logs.get(project, {}).get(log_id)
                if entry is not None:
                    entry.datasets.discard(dataset.id)
            now = self.store.now()
            dataset.update_time = now
            self._purge(project, now)
            return self._render_dataset(dataset)

    def delete_dataset(self, project: str, name: str) -> None:
        self._require_paid(project)
        with self.lock:
            dataset = self._dataset(project, name)
            for log_id in dataset.logs:
                entry = self._logs.get(project, {}).get(log_id)
                if entry is not None:
                    entry.datasets.discard(dataset.id)
            del self._datasets[project][dataset.id]
            self._purge(project, self.store.now())

    def dataset_logs(self, project: str, name: str, size: int = DEFAULT_PAGE_SIZE,
                     token: str | None = None) -> dict:
        """The full logs a dataset keeps, in the order they were added."""
        self._require_paid(project)
        with self.lock:
            dataset = self._dataset(project, name)
            logs = self._logs.get(project, {})
            entries = [logs[i] for i in dataset.logs if i in logs]
            page, following = paginate(entries, size, token)
            body: dict[str, Any] = {"logs": [self._render_log(e) for e in page]}
        if following:
            body["nextPageToken"] = following
        return body

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict:
        with self.lock:
            return {
                "logging": {project: fields_of(state) for project, state in self._logging.items()},
                "logs": [fields_of(entry, datasets=sorted(entry.datasets))
                         for logs in self._logs.values() for entry in logs.values()],
                "datasets": [fields_of(dataset, logs=list(dataset.logs))
                             for datasets in self._datasets.values() for dataset in datasets.values()],
            }

    def import_state(self, data: dict) -> None:
        with self.lock:
            self._logging = {project: build(Logging, item) for project, item in (data.get("logging") or {}).items()}
            self._logs, self._datasets = {}, {}
            for item in data.get("logs") or []:
                entry = build(LogEntry, item, datasets=set(item.get("datasets") or ()))
                self._logs.setdefault(entry.project, {})[entry.id] = entry
            for item in data.get("datasets") or []:
                dataset = build(Dataset, item, logs=list(item.get("logs") or ()))
                self._datasets.setdefault(dataset.project, {})[dataset.id] = dataset


def _id_of(name: object, project: str, collection: str, field_name: str) -> str | None:
    """The id in `projects/{project}/{collection}/{id}`, `{collection}/{id}` or a bare id. A name in
    another project gives None (that resource is not found here)."""
    if not isinstance(name, str):
        raise invalid_argument(f"{field_name} must be a string.", field_name)
    text = name.strip()
    full = f"projects/{project}/{collection}/"
    if text.startswith(full):
        text = text[len(full):]
    elif text.startswith("projects/"):
        return None
    elif text.startswith(f"{collection}/"):
        text = text[len(collection) + 1:]
    return text if text and "/" not in text else None


def register(store) -> None:
    store.register("logs", Logs(store))


ROUTES: list = []   # no API routes: logs are read through the control plane (`control_routes`)


# -- the hook around the generation handlers ------------------------------------------------------------

class Call:
    """What a generation handler fills in while `recording` watches it."""
    __slots__ = ("request", "response")

    def __init__(self) -> None:
        self.request: Any = None
        self.response: Any = None


@contextmanager
def recording(ctx, method: str, model: str | None = None) -> Iterator[Call]:
    """Wrap the body of a generateContent / streamGenerateContent handler: when logging is on for the
    caller's project, the call becomes a log (its answer, or the error it raised, re-raised)."""
    call = Call()
    logs = ctx.store.backends.get("logs")
    project = ctx.identity.project
    if logs is None or not logs.enabled(project):
        yield call
        return
    start = ctx.store.now()
    model = model or ctx.params.get("model", "")
    model = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
    try:
        yield call
    except ApiError as error:
        logs.record(project, method=method, model=model, version=ctx.version, request=call.request,
                    error=error, latency=ctx.store.now() - start)
        raise
    logs.record(project, method=method, model=model, version=ctx.version, request=call.request,
                response=call.response, latency=ctx.store.now() - start)


# -- control-plane routes -------------------------------------------------------------------------------

def _verbs(handlers: dict):
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


def control_routes(store) -> list[Route]:
    """The `/projects/{project}/logging|logs|datasets` routes (mounted under /_mock)."""
    if "logs" not in store.backends:   # a store built by hand: give it the backend these routes serve
        register(store)
    logs: Logs = store.logs

    async def body_of(request: Request) -> dict:
        data = parse_json(await read_body(request, store.config["limits"]["requestBytes"]))
        if not isinstance(data, dict):
            raise invalid_argument("The request body must be a JSON object.")
        return data

    def paging(request: Request) -> tuple[int, str | None]:
        return (page_size(request.query_params.get("pageSize"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
                request.query_params.get("pageToken"))

    async def get_logging(request, project):
        return json_response(logs.logging(project))

    async def patch_logging(request, project):
        body = await body_of(request)
        unknown = [k for k in body if k != "enabled"]
        if unknown:
            raise invalid_argument(f"Unknown field '{unknown[0]}': logging takes only enabled.", unknown[0])
        if "enabled" not in body:
            raise invalid_argument("Give enabled: true or false.", "enabled")
        return json_response(logs.set_logging(project, body["enabled"]))

    async def list_logs(request, project):
        return json_response(logs.list_logs(project, *paging(request)))

    async def get_log(request, project, log):
        return json_response(logs.get_log(project, log))

    async def feedback(request, project, log):
        return json_response(logs.feedback(project, log, await body_of(request)))

    async def list_datasets(request, project):
        return json_response(logs.list_datasets(project, *paging(request)))

    async def create_dataset(request, project):
        return json_response(logs.create_dataset(project, await body_of(request)))

    async def get_dataset(request, project, dataset):
        return json_response(logs.get_dataset(project, dataset))

    async def patch_dataset(request, project, dataset):
        return json_response(logs.update_dataset(project, dataset, await body_of(request)))

    async def delete_dataset(request, project, dataset):
        logs.delete_dataset(project, dataset)
        return json_response({})

    async def dataset_logs(request, project, dataset):
        return json_response(logs.dataset_logs(project, dataset, *paging(request)))

    def change(method):
        async def handler(request, project, dataset):
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
