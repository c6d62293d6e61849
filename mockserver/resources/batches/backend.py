"""Batch jobs: the backend (`Batches`, no HTTP), registered as `store.batches`.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence


from ... import inference
from ...auth import Identity
from ...batch_limits import BatchLimits, request_tokens
from ...errors import RPC_CODES, ApiError, failed_precondition, invalid_argument, missing_resource, rpc_status
from ...persistence import build, fields_of
from ...quotas import embedding_usage
from ...schema import normalize
from ...wire import int64, paginate
from .job import (CANCELLED, DEFAULT_PAGE_SIZE, EMBED, EXPIRED, FAILED, GENERATE, INLINE_LIMIT,
                  INPUT_FILE_LIMIT, Job, KINDS, Kind, MAX_PAGE_SIZE, PENDING, RESULTS_MIME_TYPE, RUNNING,
                  SUCCEEDED, TYPE_PREFIX, UPDATABLE, jsonl_line, readable_duration, scan_jsonl)

if TYPE_CHECKING:
    from ...store import Store

# A model look-up for one pass over a job: a request's model name (None: the job's) -> (the model, the tuned
# model record or None)
ResolveModel = Callable[[str | None], tuple[dict[str, Any], Any]]

# -- the backend ----------------------------------------------------------------------------------------


class Batches:
    """Batch jobs of every project. Registered as `store.batches`.

    Public API (handlers, the pytest plugin and tests use it; no HTTP here):

    * `create(identity, model, body, *, kind="generate"|"embed", version="v1beta", payload_bytes=None)`
      -> Operation dict. `model` is `models/{id}` or `tunedModels/{id}`; `body` the create request as
      sent (`{"batch": {...}}`, camelCase or snake_case).
    * `get(identity, name)` -> Operation; `list(identity, page_size=None, page_token=None)` ->
      `{"operations": [...], "nextPageToken"}`; `cancel(identity, name)`; `delete(identity, name)`;
      `update(identity, name, body, update_mask=None, *, kind)` -> the batch resource.
    * `set_timings(name, pending=None, running=None, expiry=None)`: per-job override of the seconds
      spent PENDING, RUNNING, and before expiry (counted from creation), for tests; refused once the
      job has ended.
    * `state_of(name)` -> the job's state now (any project), for tests and the control plane.
    * `reset()`.

    A missing, deleted or other project's job is the one 403 `missing_resource("Batch", name)`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._jobs: dict[str, dict[str, Job]] = {}
        self._seq = 0
        self.inline_limit = INLINE_LIMIT
        self.input_file_limit = INPUT_FILE_LIMIT
        self.limits = BatchLimits()

    @property
    def root(self) -> Path:
        return self.store.data_dir / "batches"

    def reset(self) -> None:
        with self.lock:
            self._jobs.clear()
            self._seq = 0
            shutil.rmtree(self.root, ignore_errors=True)

    # -- lookup ----------------------------------------------------------------------------------------
    def projects(self) -> set[str]:
        """The projects that hold batch jobs (for the dashboard)."""
        with self.lock:
            return {project for project, jobs in self._jobs.items() if jobs}

    def job(self, owner: Identity | str, name: str) -> Job:
        """The internal job (its timings), for the dashboard; raises like `get`."""
        return self._job(owner, name)

    def synced_job(self, identity: Identity, name: str) -> Job:
        """The job brought up to the clock's now (as `get` does before rendering it), for readers that need
        its state and counts rather than its Operation (the OpenAI layer); raises like `get`."""
        with self.lock:
            job = self._job(identity, name)
            self._sync(job, self.store.now())
            return job

    def _job(self, owner: Identity | str, name: str) -> Job:
        project = owner if isinstance(owner, str) else owner.project
        job_id = name[len("batches/"):] if name.startswith("batches/") else name
        job = self._jobs.get(project, {}).get(job_id)
        if job is None:
            raise missing_resource("Batch", f"batches/{job_id}")
        return job

    def _any_job(self, name: str) -> Job:
        job_id = name[len("batches/"):] if name.startswith("batches/") else name
        for jobs in self._jobs.values():
            if job_id in jobs:
                return jobs[job_id]
        raise missing_resource("Batch", f"batches/{job_id}")

    # -- models ----------------------------------------------------------------------------------------
    def _model(self, identity: Identity, name: str, method: str, version: str) -> tuple[dict[str, Any], Any]:
        """(catalog-shaped model, tuned model record or None) for `name`, checked to offer `method`."""
        if name.startswith("tunedModels/"):
            tuned = self.store.tuned_models
            record = tuned.usable(identity, name)
            model = tuned.as_model(record)
            # a tuned model batches what it offers directly
            needed = {"batchGenerateContent": "generateContent",
                      "asyncBatchEmbedContent": "embedContent"}.get(method, method)
            if needed not in (model.get("supportedGenerationMethods") or []):
                raise invalid_argument(f"{name} does not support {method}.", "model")
            return model, record
        if not name.startswith("models/"):
            name = f"models/{name}"
        return self.store.models.get(name, method, version), None

    # -- create ----------------------------------------------------------------------------------------
    def create(self, identity: Identity, model: str, body: dict[str, Any], *, kind: str = "generate",
               version: str = "v1beta", payload_bytes: int | None = None) -> dict[str, Any]:
        spec = KINDS[kind]
        batch = self._read_create(spec, version, body)   # the body first, as the real front end does
        self._model(identity, model, spec.create_method, version)
        source = batch.get("inputConfig") or {}
        has_requests, has_file = "requests" in source, bool(source.get("fileName"))
        if has_requests and has_file:
            raise invalid_argument("batch.input_config takes either requests or file_name, not both.",
                                   "batch.input_config")
        if not has_requests and not has_file:
            raise invalid_argument("batch.input_config is required: give requests (inline) or file_name "
                                   "(a JSONL file from the File API).", "batch.input_config")
        config = self.store.config["batch"]
        now = self.store.now()
        job_fields = dict(
            identity=identity, kind=spec, version=version, model=model,
            display_name=batch.get("displayName") or "", priority=int(batch.get("priority") or 0),
            webhook=batch.get("webhookConfig"), created=now,
            pending_s=float(config["pendingSeconds"]), running_s=float(config["runningSeconds"]),
            expiry_s=float(config["expirySeconds"]), modified=now)
        if has_requests:
            requests = (source.get("requests") or {}).get("requests") or []
            if not requests:
                raise invalid_argument("batch.input_config.requests.requests must hold at least one request.",
                                       "batch.input_config.requests.requests")
            size = payload_bytes if payload_bytes is not None else len(json.dumps(requests))
            if size > self.inline_limit:
                raise invalid_argument(
                    f"The inline requests of a batch are limited to {self.inline_limit} bytes; this one has "
                    f"{size}. Put the requests in a JSONL file (File API) and give its file_name.",
                    "batch.input_config.requests")
            tokens = request_tokens(requests)
            with self.lock:
                self._admit(identity, model, tokens, now)
                job = self._new_job(identity, job_fields, request_count=len(requests))
                job.inline, job.enqueued_tokens = requests, tokens
            return self._render(job, now)
        file_name = source["fileName"]
        files = self.store.files
        file = files.get_file(identity, file_name)     # 403 when missing or someone else's
        if int(file.get("sizeBytes") or 0) > self.input_file_limit:
            raise invalid_argument(
                f"The input file {file['name']} is {file['sizeBytes']} bytes; a batch input file may be at "
                f"most {self.input_file_limit} bytes.", "batch.input_config.file_name")
        if file.get("state") == "PROCESSING":
            raise failed_precondition(f"The File {file['name']} is not in an ACTIVE state and usage is "
                                      f"not allowed.")
        source_path = Path(files.path_of(identity, file_name))
        with self.lock:
            self._admit(identity, model, 0, now)
            job = self._new_job(identity, job_fields, request_count=0)
            job.file_name = file["name"]
            job.work_dir = self.root / job.project / job.id
            job.work_dir.mkdir(parents=True, exist_ok=True)
            job.input_path = self._snapshot(source_path, job.work_dir / "input.jsonl")
            job.request_count, job.input_error = scan_jsonl(job.input_path, job.file_name)
        self.store.changed(job.input_path)
        return self._render(job, now)

    def _admit(self, identity: Identity, model: str, tokens: int, now: float) -> None:
        """The Batch API's own limits (batch_limits.py) against the project's jobs in flight."""
        in_flight = [(job.model, job.enqueued_tokens) for job in self._jobs.get(identity.project, {}).values()
                     if self._state(job, now) in (PENDING, RUNNING)]
        self.limits.check(identity, model, tokens, in_flight)

    def _new_job(self, identity: Identity, job_fields: dict[str, Any], request_count: int) -> Job:
        project = identity.project
        jobs = self._jobs.setdefault(project, {})
        while True:
            job_id = self.store.new_id(project, "batch")
            if job_id not in jobs:
                break
        self._seq += 1
        job = Job(id=job_id, request_count=request_count, seq=self._seq, **job_fields)
        jobs[job_id] = job
        return job

    @staticmethod
    def _snapshot(source: Path, target: Path) -> Path:
        """The input as it is now: a hard link (no copy), so a later delete of the File does not take
        the job's input away; where links are impossible, the File's own path."""
        try:
            os.link(source, target)
            return target
        except OSError:
            return source

    def _read_create(self, spec: Kind, version: str, body: dict[str, Any]) -> dict[str, Any]:
        """The `batch` of a create body, camelCase, its requests normalised (a 400 names the field)."""
        if not isinstance(body, dict):
            raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
        batch = normalize(version, spec.create_message, body).get("batch")
        if not isinstance(batch, dict):
            raise invalid_argument("batch is required.", "batch")
        return batch

    # -- reads -----------------------------------------------------------------------------------------
    def get(self, identity: Identity, name: str) -> dict[str, Any]:
        with self.lock:
            job = self._job(identity, name)
            now = self.store.now()
            self._sync(job, now)
            return self._render(job, now)

    def list(self, identity: Identity, page_size: int | None = None, page_token: str | None = None) -> dict[str, Any]:
        size = page_size or DEFAULT_PAGE_SIZE
        with self.lock:
            jobs = sorted(self._jobs.get(identity.project, {}).values(), key=lambda j: -j.seq)
            page, token = paginate(jobs, min(size, MAX_PAGE_SIZE), page_token)
            now = self.store.now()
            operations = []
            for job in page:
                self._sync(job, now)
                operations.append(self._render(job, now))
        body: dict[str, Any] = {"operations": operations} if operations else {}
        if token:
            body["nextPageToken"] = token
        return body

    def state_of(self, name: str) -> str:
        with self.lock:
            job = self._any_job(name)
            now = self.store.now()
            self._sync(job, now)
            return self._state(job, now)

    # -- changes ---------------------------------------------------------------------------------------
    def cancel(self, identity: Identity, name: str) -> None:
        with self.lock:
            job = self._job(identity, name)
            now = self.store.now()
            self._sync(job, now)
            if job.final:
                raise failed_precondition(
                    f"Batch {job.name} cannot be cancelled: it has already ended ({job.final}).")
            self._close(job, CANCELLED, now, keep=True)

    def delete(self, identity: Identity, name: str) -> None:
        with self.lock:
            job = self._job(identity, name)
            self._jobs[job.project].pop(job.id, None)
            self._discard(job)

    def update(self, identity: Identity, name: str, body: dict[str, Any], update_mask: Sequence[str] | None = None, *,
               kind: str = "generate", version: str = "v1beta") -> dict[str, Any]:
        spec = KINDS[kind]
        if not isinstance(body, dict):
            raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
        body = normalize(version, spec.batch_message, body)
        with self.lock:
            job = self._job(identity, name)
            if job.kind is not spec:
                other = KINDS["embed" if spec is GENERATE else "generate"]
                raise invalid_argument(
                    f"{job.name} is a {job.kind.batch_message}; update it with :{job.kind.update_verb}, "
                    f"not :{spec.update_verb} (which is for a {other.batch_message}).", "name")
            paths = update_mask if update_mask is not None else [p for p in UPDATABLE if p in body]
            for path in paths:
                if path not in UPDATABLE:
                    raise invalid_argument(
                        f"Field '{path}' of a batch cannot be updated; updatable fields: display_name, priority.",
                        "update_mask")
            now = self.store.now()
            self._sync(job, now)
            if "displayName" in paths:
                job.display_name = body.get("displayName") or ""
            if "priority" in paths:
                job.priority = int(body.get("priority") or 0)
            if paths:
                job.modified = now
            return self._resource(job, now)

    def set_timings(self, name: str, pending: float | None = None, running: float | None = None,
                    expiry: float | None = None) -> None:
        """Per-job seconds PENDING, RUNNING and until expiry (from creation), in place of the config's.
        Meant for right after creation; refused (400 FAILED_PRECONDITION) once the job has ended."""
        with self.lock:
            job = self._any_job(name)
            self._sync(job, self.store.now())
            if job.final:
                raise failed_precondition(f"Batch {job.name} has already ended ({job.final}).")
            for label, value in (("pending", pending), ("running", running), ("expiry", expiry)):
                if value is not None and (not isinstance(value, (int, float)) or value < 0):
                    raise invalid_argument(f"{label} must be a number of seconds >= 0.", label)
            if pending is not None:
                job.pending_s = float(pending)
            if running is not None:
                job.running_s = float(running)
            if expiry is not None:
                job.expiry_s = float(expiry)

    # -- the state machine -----------------------------------------------------------------------------
    def _state(self, job: Job, now: float) -> str:
        """The state the clock gives (without computing anything): `Job.timeline`."""
        return job.state(now)

    def _due(self, job: Job, now: float) -> int:
        """How many requests the clock says are done by `now` (evenly over the running time)."""
        if now < job.start:
            return 0
        if now >= job.start + job.running_s or job.running_s <= 0:
            return job.request_count
        return min(job.request_count, math.floor(job.request_count * (now - job.start) / job.running_s))

    def _sync(self, job: Job, now: float) -> None:
        """Bring `job` up to `now`: compute the requests that became due, and end it if its time came."""
        if job.final:
            return
        before = (job.processed, job.seen_running)
        try:
            self._advance(job, now)
        finally:
            if (job.processed, job.seen_running) != before or job.final:   # computed on a read: keep it
                self.store.changed(*([job.out_path] if job.work_dir is not None and job.out_path.exists() else []))

    def _advance(self, job: Job, now: float) -> None:
        state = self._state(job, now)
        if state == PENDING:
            return
        if state == RUNNING:
            job.seen_running = True
            self._work(job, self._due(job, now))
        elif state == EXPIRED:
            self._work(job, self._due(job, job.expires))
            self._close(job, EXPIRED, job.expires, keep=False, error={
                "code": RPC_CODES["DEADLINE_EXCEEDED"],
                "message": f"Batch {job.name} expired: it was pending or running for more than "
                           f"{readable_duration(job.expiry_s)} and has no results. Submit it again, or split it into "
                           f"smaller batches."})
        elif state == FAILED:
            self._close(job, FAILED, job.finish, keep=False, error={
                "code": RPC_CODES["INVALID_ARGUMENT"], "message": job.input_error})
        else:  # SUCCEEDED
            self._work(job, job.request_count)
            if job.file_name is not None and not job.parsed_any:
                self._close(job, FAILED, job.finish, keep=False, error={
                    "code": RPC_CODES["INVALID_ARGUMENT"],
                    "message": f"The input file {job.file_name} is not a JSON Lines file: none of its lines "
                               f"is a JSON object."})
            else:
                self._close(job, SUCCEEDED, job.finish, keep=True)

    def _close(self, job: Job, state: str, end: float, *, keep: bool, error: dict[str, Any] | None = None) -> None:
        """End the job in `state` at `end`, publishing the results computed so far when `keep`."""
        job.final, job.end_time = state, end
        if keep and job.processed:
            if job.inline is not None:
                job.output = {"inlinedResponses": {"inlinedResponses": job.results}}
            else:
                file = self.store.files.create_generated(
                    job.project, f"{job.id}-responses", RESULTS_MIME_TYPE, source_path=job.out_path)
                job.output = {"responsesFile": file["name"]}
        elif not keep:
            job.results = []
        if error is not None and job.output is None:
            job.error = error
        elif state == CANCELLED and job.output is None:
            job.error = {"code": RPC_CODES["CANCELLED"], "message": f"Batch {job.name} was cancelled."}
        self._discard(job)

    @staticmethod
    def _discard(job: Job) -> None:
        """Remove the job's private bytes (its input snapshot and partial results)."""
        if job.work_dir is not None:
            shutil.rmtree(job.work_dir, ignore_errors=True)
            job.work_dir = None

    # -- computing results -----------------------------------------------------------------------------
    def _work(self, job: Job, target: int) -> None:
        if target <= job.processed:
            return
        resolve = self._resolver(job)
        if job.inline is not None:
            for item in job.inline[job.processed:target]:
                response, error = self._run(job, item["request"], resolve)
                if response is not None and job.kind is EMBED:
                    response = single_embed_response(response, item["request"])
                entry = {"response": response} if error is None else {"error": error}
                if "metadata" in item:
                    entry["metadata"] = item["metadata"]
                job.results.append(entry)
            job.processed = target
            return
        assert job.input_path is not None, "a job without inline requests has an input file"
        with open(job.input_path, "rb") as source, open(job.out_path, "ab") as out:
            source.seek(job.offset)
            while job.processed < target:
                line = source.readline()
                if not line:   # fewer lines than counted: cannot happen with an unchanged input
                    job.request_count = job.processed
                    break
                job.line_no += 1
                if not line.strip():
                    continue
                out.write(self._line(job, line, resolve))
                job.processed += 1
            job.offset = source.tell()

    def _line(self, job: Job, raw: bytes, resolve: ResolveModel) -> bytes:
        """The result line of one input line: `{"key", "response"}` or `{"key", "error"}` (no key when
        the line is a bare request)."""
        entry: dict[str, Any] = {}
        try:
            data = json.loads(raw)
        except ValueError as bad:
            message = getattr(bad, "msg", str(bad))
            column = getattr(bad, "colno", None)
            where = f" at column {column}" if column else ""
            job.failed += 1
            entry["error"] = {"code": RPC_CODES["INVALID_ARGUMENT"],
                              "message": f"Invalid JSON payload received on line {job.line_no}: {message}{where}."}
            return jsonl_line(entry)
        request = data
        if isinstance(data, dict):
            job.parsed_any = True
            if "request" in data or "key" in data:
                if "key" in data:
                    entry["key"] = data["key"]
                request = data.get("request")
                if request is None:
                    job.failed += 1
                    entry["error"] = {"code": RPC_CODES["INVALID_ARGUMENT"],
                                      "message": f"Line {job.line_no} has no request: a line is "
                                                 f"{{\"key\": ..., \"request\": {{...}}}} or a bare request."}
                    return jsonl_line(entry)
        response, error = self._run(job, request, resolve, normalized=False)
        if error is None:
            entry["response"] = response
        else:
            entry["error"] = error
        return jsonl_line(entry)

    def _resolver(self, job: Job) -> ResolveModel:
        """A model look-up for the requests of one pass over `job` (each name looked up once)."""
        seen: dict[str, Any] = {}

        def resolve(name: str | None) -> tuple[dict[str, Any], Any]:
            key = name or job.model
            found = seen.get(key)
            if found is None:
                try:
                    found = self._model(job.identity, key, job.kind.request_method, job.version)
                except ApiError as error:
                    found = error
                seen[key] = found
            if isinstance(found, ApiError):
                raise found
            return found
        return resolve

    def _run(self, job: Job, request: Any, resolve: ResolveModel,
             normalized: bool = True) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(response, None) or (None, error status) of one request, as a direct call would answer it."""
        try:
            if not normalized:
                request = normalize(job.version, job.kind.request_message, request)
            model, tuned = resolve(request.get("model"))
            if job.kind is EMBED:
                response = inference.embed(self.store, job.identity, model, request)
            else:
                override = None
                if tuned is not None:
                    override = self.store.tuned_models.override_for(tuned, inference.last_user_text(request))
                response = inference.generate(self.store, job.identity, model, request, override=override)
        except ApiError as error:
            job.failed += 1
            return None, rpc_status(error)
        job.succeeded += 1
        return response, None

    # -- rendering -------------------------------------------------------------------------------------
    def _resource(self, job: Job, now: float, *, typed: bool = False) -> dict[str, Any]:
        """The GenerateContentBatch / EmbedContentBatch (with `@type` when it is Operation.metadata)."""
        body: dict[str, Any] = {}
        if typed:
            body["@type"] = TYPE_PREFIX + job.kind.batch_message
        body["model"] = job.model
        if job.display_name:
            body["displayName"] = job.display_name
        if job.file_name is not None:
            body["inputConfig"] = {"fileName": job.file_name}
        else:
            body["inputConfig"] = {"requests": {"requests": job.inline}}
        state = self._state(job, now)
        body["createTime"] = self.store.timestamp(job.created)
        marks = [job.created, job.modified]
        if job.end_time is not None:
            marks.append(job.end_time)
        elif state == RUNNING:
            marks.append(job.start)
        body["updateTime"] = self.store.timestamp(max(marks))
        if job.end_time is not None:
            body["endTime"] = self.store.timestamp(job.end_time)
        stats = {}
        for key, value in (("requestCount", job.request_count), ("successfulRequestCount", job.succeeded),
                           ("failedRequestCount", job.failed),
                           ("pendingRequestCount", job.request_count - job.processed)):
            if value:   # proto3 JSON leaves zero counters out, as the live service does
                stats[key] = int64(value)
        body["batchStats"] = stats
        body["state"] = state
        if job.output is not None:
            body["output"] = job.output
        if job.priority:
            body["priority"] = int64(job.priority)
        if job.webhook:
            body["webhookConfig"] = job.webhook
        body["name"] = job.name
        return body

    def _render(self, job: Job, now: float) -> dict[str, Any]:
        """The Operation: `metadata` for the SDKs, `done` and `response` / `error` for REST users.

        `done` is written even while false (proto3 JSON would leave it out): the Batch API guide's own
        status script tests `jq -r '.done'` for "false"."""
        operation: dict[str, Any] = {"name": job.name, "metadata": self._resource(job, now, typed=True),
                                     "done": bool(job.final)}
        if job.final:
            if job.output is not None:
                operation["response"] = {"@type": TYPE_PREFIX + job.kind.output_message, **job.output}
            elif job.error is not None:
                operation["error"] = job.error
        return operation

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Every job with its progress; a running file job's input and results so far by reference."""
        with self.lock:
            jobs = sorted((job for jobs in self._jobs.values() for job in jobs.values()), key=lambda j: j.seq)
            return {"seq": self._seq, "jobs": [self._export_job(job) for job in jobs]}

    def _export_job(self, job: Job) -> dict[str, Any]:
        work_dir = None if job.final else job.work_dir   # kept while the job still works
        out = job.out_path if work_dir is not None and job.out_path.exists() else None
        return fields_of(
            job, identity=job.identity.stored(), kind=job.kind.name, results=list(job.results),
            input_path=self.store.blob_ref(job.input_path) if work_dir is not None and job.input_path else None,
            work_dir=self.store.blob_ref(work_dir)["$blob"] if work_dir is not None else None,
            out=self.store.blob_ref(out) if out is not None else None,
            out_size=out.stat().st_size if out is not None else 0)

    def import_state(self, data: dict[str, Any]) -> None:
        """Replace every job by those of `data`. A running job's partial results are cut back to what
        the snapshot counted (lines written after it are computed again, identically)."""
        with self.lock:
            self._jobs = {}
            for item in data.get("jobs") or []:
                identity = self.store.keys.restore(item["identity"])
                work_dir = self.store.blob_path(item["work_dir"]) if item.get("work_dir") else None
                input_path = self.store.blob_path(item["input_path"]) if item.get("input_path") else None
                if input_path is not None and not input_path.exists():
                    continue   # removed by a reset or delete that was under way when the server stopped
                job = build(Job, item, identity=identity, kind=KINDS[item["kind"]], work_dir=work_dir,
                            input_path=input_path)
                if work_dir is not None:
                    work_dir.mkdir(parents=True, exist_ok=True)
                    size = int(item.get("out_size") or 0)
                    with open(job.out_path, "ab") as out:
                        if out.tell() < size:   # results lost: start over (they come out the same)
                            job.processed = job.succeeded = job.failed = job.offset = job.line_no = 0
                            job.parsed_any, size = False, 0
                        out.truncate(size)
                self._jobs.setdefault(job.project, {})[job.id] = job
            self._seq = int(data.get("seq") or 0)


def single_embed_response(response: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """An inlined embedding result as the SDKs read it (SingleEmbedContentResponse in google-genai and
    @google/genai 3.6.1): the embedding and the request's `tokenCount`, an int64."""
    return {**response, "tokenCount": int64(embedding_usage([request])["promptTokenCount"])}


def register(store: Store) -> None:
    store.register("batches", Batches(store))

