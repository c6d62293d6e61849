"""Logs and datasets: the backend (`Logs`, no HTTP), registered as `store.logs`.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any


from ...errors import ApiError, failed_precondition, invalid_argument, not_found
from ...persistence import build, fields_of
from ...wire import format_duration, paginate
from .records import (CLEAR_RATING, DEFAULT_PAGE_SIZE, Dataset, LogEntry, Logging, MAX_COMMENT,
                      MAX_DESCRIPTION, MAX_DISPLAY_NAME, PAID_TIERS, RATINGS, TIER_RANK, id_of)

if TYPE_CHECKING:
    from ...store import Store


class Logs:
    """Logs, datasets and the logging switch of every project. Registered as `store.logs`.

    Public API (the handlers, the dashboard, the pytest plugin and tests use it; no HTTP here). `project`
    is a project id string:

    * `tier(project)`, `logging(project)` -> `{"project", "tier", "enabled", ...}`,
      `set_logging(project, enabled)`, `enabled(project)` -> bool.
    * `record(project, method=, model=, version=, request=, response=, error=, latency=)` -> the Log dict
      (used by `log_call`, the hook around the generation handlers; also to seed logs in tests).
    * `list_logs(project, size, token)`, `get_log(project, name)`, `feedback(project, name, body)`.
    * `create_dataset(project, body)`, `list_datasets(project, size, token)`, `get_dataset(project, name)`,
      `update_dataset(project, name, body)`, `delete_dataset(project, name)`,
      `add_logs(project, name, logs)`, `remove_logs(project, name, logs)`,
      `dataset_logs(project, name, size, token)`.
    * `projects()` -> the projects with logging state, `reset()`.
    """

    def __init__(self, store: Store) -> None:
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
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.store.config["logs"]
        return config

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

    def logging(self, project: str) -> dict[str, Any]:
        tier = self.tier(project)
        with self.lock:
            state = self._logging.get(project) or Logging()
        body: dict[str, Any] = {"project": project, "tier": tier, "available": tier in PAID_TIERS,
                                "enabled": state.enabled}
        if state.update_time is not None:
            body["updateTime"] = self.store.timestamp(state.update_time)
        return body

    def set_logging(self, project: str, enabled: bool) -> dict[str, Any]:
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

    # -- logging a call ------------------------------------------------------------------------------
    def record(self, project: str, *, method: str, model: str, version: str = "v1beta", request: Any = None,
               response: Any = None, error: ApiError | None = None, latency: float = 0.0) -> dict[str, Any]:
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
        log_id = id_of(name, project, "logs", field_name)
        entry = self._logs.get(project, {}).get(log_id) if log_id else None
        if entry is None or not entry.alive(self.store.now()):
            shown = f"projects/{project}/logs/{log_id}" if log_id else name   # another project's: as given
            raise not_found(f"Log {shown} was not found: it does not exist, "
                            f"belongs to another project, or expired.")
        return entry

    def _render_log(self, entry: LogEntry) -> dict[str, Any]:
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

    def list_logs(self, project: str, size: int = DEFAULT_PAGE_SIZE, token: str | None = None) -> dict[str, Any]:
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

    def get_log(self, project: str, name: str) -> dict[str, Any]:
        self._require_paid(project)
        with self.lock:
            return self._render_log(self._entry(project, name))

    def feedback(self, project: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
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
        dataset_id = id_of(name, project, "datasets", "name")
        dataset = self._datasets.get(project, {}).get(dataset_id) if dataset_id else None
        if dataset is None:
            raise not_found(f"Dataset projects/{project}/datasets/{dataset_id or name} was not found.")
        return dataset

    def _render_dataset(self, dataset: Dataset) -> dict[str, Any]:
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

    def _text(self, body: dict[str, Any], key: str, limit: int) -> str:
        value = body.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise invalid_argument(f"{key} must be a string.", key)
        if len(value) > limit:
            raise invalid_argument(f"{key} must be at most {limit} characters.", key)
        return value

    def create_dataset(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
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

    def list_datasets(self, project: str, size: int = DEFAULT_PAGE_SIZE, token: str | None = None) -> dict[str, Any]:
        self._require_paid(project)
        with self.lock:
            datasets = list(reversed(self._datasets.get(project, {}).values()))
            page, following = paginate(datasets, size, token)
            body: dict[str, Any] = {"datasets": [self._render_dataset(d) for d in page]}
        if following:
            body["nextPageToken"] = following
        return body

    def get_dataset(self, project: str, name: str) -> dict[str, Any]:
        self._require_paid(project)
        with self.lock:
            return self._render_dataset(self._dataset(project, name))

    def update_dataset(self, project: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
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

    def add_logs(self, project: str, name: str, logs: object) -> dict[str, Any]:
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

    def remove_logs(self, project: str, name: str, logs: object) -> dict[str, Any]:
        """Take logs out of a dataset. A log past its 55 days that no other dataset keeps is gone after."""
        self._require_paid(project)
        if not isinstance(logs, list):
            raise invalid_argument("logs must be a list of log names.", "logs")
        with self.lock:
            dataset = self._dataset(project, name)
            ids = []
            for index, item in enumerate(logs):
                log_id = id_of(item, project, "logs", f"logs[{index}]")
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
                     token: str | None = None) -> dict[str, Any]:
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
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "logging": {project: fields_of(state) for project, state in self._logging.items()},
                "logs": [fields_of(entry, datasets=sorted(entry.datasets))
                         for logs in self._logs.values() for entry in logs.values()],
                "datasets": [fields_of(dataset, logs=list(dataset.logs))
                             for datasets in self._datasets.values() for dataset in datasets.values()],
            }

    def import_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._logging = {project: build(Logging, item) for project, item in (data.get("logging") or {}).items()}
            self._logs, self._datasets = {}, {}
            for item in data.get("logs") or []:
                entry = build(LogEntry, item, datasets=set(item.get("datasets") or ()))
                self._logs.setdefault(entry.project, {})[entry.id] = entry
            for item in data.get("datasets") or []:
                dataset = build(Dataset, item, logs=list(item.get("logs") or ()))
                self._datasets.setdefault(dataset.project, {})[dataset.id] = dataset


def register(store: Store) -> None:
    store.register("logs", Logs(store))
