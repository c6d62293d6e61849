"""Batches: an OpenAI batch runs as a native batch job; its results are written back as OpenAI JSONL files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...errors import RPC_CODES, STATUS_CODES, ApiError, invalid_argument, not_found
from ...http import Context, json_response
from .. import files as native_files
from .answers import chat_completion
from ..batches.job import Job
from .backend import OpenAIBatch
from .chat import CHAT_ENDPOINT, chat_to_native
from .embeddings import EMBEDDINGS_ENDPOINT, embedding_batch_request, embedding_response
from .errors import expect_object, json_body, unknown_field
from .wire import cursor_page, native_file_name, native_model_name

BATCH_WINDOW = "24h"
# The compatibility page's Batch API section: chat completions, and embeddings with endpoint "/v1/embeddings".
BATCH_ENDPOINTS = {CHAT_ENDPOINT: "generate", EMBEDDINGS_ENDPOINT: "embed"}

BATCH_STATUS = {"BATCH_STATE_PENDING": "validating", "BATCH_STATE_RUNNING": "in_progress",
                "BATCH_STATE_SUCCEEDED": "completed", "BATCH_STATE_FAILED": "failed",
                "BATCH_STATE_CANCELLED": "cancelled", "BATCH_STATE_EXPIRED": "expired"}


def batch_object(record: OpenAIBatch, job: Job, now: float) -> dict[str, Any]:
    """The OpenAI Batch of a native batch job (as `Batches.synced_job` brought it to `now`) and what the
    layer recorded about it. It expires when the native job does (batches/job.py)."""
    status = BATCH_STATUS[job.state(now)]
    end = int(job.end_time) if job.end_time is not None else None
    body: dict[str, Any] = {
        "id": record.name, "object": "batch", "endpoint": record.endpoint, "model": record.model,
        "errors": None, "input_file_id": record.input_file_id, "completion_window": record.completion_window,
        "status": status, "output_file_id": record.output_file_id, "error_file_id": record.error_file_id,
        "created_at": int(record.created), "in_progress_at": None, "expires_at": int(job.expires),
        "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
        "cancelling_at": None, "cancelled_at": None,
        "request_counts": {"total": job.request_count, "completed": job.succeeded, "failed": job.failed},
        "metadata": record.metadata,
    }
    if status == "in_progress":   # the native job's last change: its start, or a later update
        body["in_progress_at"] = int(max(job.created, job.modified, job.start))
    if status == "completed":
        body["finalizing_at"] = body["completed_at"] = end
    elif status == "failed":
        body["failed_at"] = end
        body["errors"] = {"object": "list", "data": [{"code": "invalid_input_file",
                                                      "message": (job.error or {}).get("message", "The batch failed."),
                                                      "param": "input_file_id", "line": None}]}
    elif status == "expired":
        body["expired_at"] = end
    elif status == "cancelled":
        body["cancelling_at"] = body["cancelled_at"] = end
    return body


def batch_line_to_native(line: Any, number: int,
                         endpoint: str) -> tuple[str, dict[str, Any], str, list[Any] | None]:
    """(custom_id, native batch line, the model as named, for embeddings [encoding_format, prompt tokens]) of
    one line of an OpenAI batch input file."""
    where = f"line {number}"
    if not isinstance(line, dict):
        raise invalid_argument(f"{where} of the batch input file is not a JSON object.", "input_file_id")
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise invalid_argument(f"{where}: custom_id is required (a string).", "input_file_id")
    method = line.get("method", "POST")
    if method != "POST":
        raise invalid_argument(f"{where}: method must be POST, not {method!r}.", "input_file_id")
    if line.get("url") != endpoint:
        raise invalid_argument(f"{where}: url must be the batch endpoint {endpoint!r}, not {line.get('url')!r}.",
                               "input_file_id")
    try:
        if endpoint == EMBEDDINGS_ENDPOINT:
            model, request, encoding, tokens = embedding_batch_request(line.get("body"))
            return custom_id, {"key": custom_id, "request": request}, model, [encoding, tokens]
        chat = chat_to_native(line.get("body"))
    except ApiError as error:
        raise invalid_argument(f"{where} ({custom_id}): {error.message}", "input_file_id") from None
    request = dict(chat.request)
    request["model"] = native_model_name(chat.model)
    return custom_id, {"key": custom_id, "request": request}, chat.model, None


_RPC_NAMES = {number: name for name, number in RPC_CODES.items()}


def _http_of(status: dict[str, Any]) -> tuple[int, str]:
    """(HTTP status, status name) of a google.rpc.Status, whose code is the google.rpc.Code number."""
    name = _RPC_NAMES.get(int(status.get("code") or 2), "UNKNOWN")
    return STATUS_CODES.get(name, 500), name


def batch_result_line(native: dict[str, Any], model: str, created: int, number: int,
                      batch_id: str) -> tuple[bool, dict[str, Any]]:
    """(succeeded, OpenAI batch output line) of one native result line of a chat batch."""
    custom_id = native.get("key", "")
    line_id = _line_id(batch_id, number)
    if "response" in native:
        body = chat_completion(native["response"], model=model, created=created)
        return True, {"id": line_id, "custom_id": custom_id,
                      "response": {"status_code": 200, "request_id": body["id"], "body": body}, "error": None}
    return False, _error_line(native, line_id)


def embedding_result_line(native: dict[str, Any], model: str, facts: list[Any], number: int,
                          batch_id: str) -> tuple[bool, dict[str, Any]]:
    """(succeeded, OpenAI batch output line) of one native result line of an embeddings batch; `facts` are its
    line's [encoding_format, prompt tokens]."""
    line_id = _line_id(batch_id, number)
    if "response" not in native:
        return False, _error_line(native, line_id)
    encoding, tokens = facts
    body = embedding_response([native["response"]["embedding"]["values"]], tokens, model, encoding)
    return True, {"id": line_id, "custom_id": native.get("key", ""),
                  "response": {"status_code": 200, "request_id": "", "body": body}, "error": None}


def _line_id(batch_id: str, number: int) -> str:
    return "batch_req_" + hashlib.blake2b(f"{batch_id}|{number}".encode(), digest_size=12).hexdigest()


def _error_line(native: dict[str, Any], line_id: str) -> dict[str, Any]:
    custom_id = native.get("key", "")
    status = native.get("error") or {}
    http, name = _http_of(status)
    error = {"code": http, "message": status.get("message", ""), "status": name}
    if status.get("details"):
        error["details"] = status["details"]
    return {"id": line_id, "custom_id": custom_id,
            "response": {"status_code": http, "request_id": "", "body": [{"error": error}]}, "error": None}


# -- handlers: batches ------------------------------------------------------------------------------


def _convert_input(ctx: Context, source: Path, endpoint: str,
                   embeddings: dict[str, list[Any]]) -> tuple[Path, dict[str, str], str]:
    """Write the native JSONL of an OpenAI batch input file to a temporary file:
    (its path, the model of each custom_id, the first line's model). An embeddings line's
    [encoding_format, prompt tokens] go into `embeddings`."""
    target = ctx.store.files.new_part(ctx.identity)
    lines: dict[str, str] = {}
    first_model = ""
    try:
        with open(source, "rb") as handle, open(target, "wb") as out:
            for number, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise invalid_argument(f"line {number} of the batch input file is not JSON.",
                                           "input_file_id") from None
                custom_id, native, model, facts = batch_line_to_native(data, number, endpoint)
                if facts is not None:
                    embeddings[custom_id] = facts
                if custom_id in lines:
                    raise invalid_argument(f"line {number}: custom_id {custom_id!r} is used twice; custom_id "
                                           f"values must be unique in a batch.", "input_file_id")
                lines[custom_id] = model
                first_model = first_model or model
                out.write(json.dumps(native, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not lines:
        target.unlink(missing_ok=True)
        raise invalid_argument("The batch input file has no requests.", "input_file_id")
    return target, lines, first_model


def _create_batch(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    for key in body:
        if key not in ("input_file_id", "endpoint", "completion_window", "metadata", "extra_body"):
            raise unknown_field(key)
    endpoint = body.get("endpoint")
    if endpoint not in BATCH_ENDPOINTS:
        raise invalid_argument(f"endpoint must be {' or '.join(map(repr, BATCH_ENDPOINTS))}, not {endpoint!r}.",
                               "endpoint")
    window = body.get("completion_window", BATCH_WINDOW)
    if window != BATCH_WINDOW:
        raise invalid_argument(f"completion_window must be {BATCH_WINDOW!r}, not {window!r}.", "completion_window")
    metadata = body.get("metadata")
    if metadata is not None:
        metadata = expect_object(metadata, "metadata")
    input_file_id = body.get("input_file_id")
    if not isinstance(input_file_id, str) or not input_file_id:
        raise invalid_argument("input_file_id is required.", "input_file_id")
    files, project = ctx.store.files, ctx.project
    input_file = files.get_file(ctx.identity, native_file_name(input_file_id))
    embeddings: dict[str, list[Any]] = {}
    converted, lines, model = _convert_input(ctx, files.path_of(ctx.identity, input_file["name"]), endpoint,
                                             embeddings)
    try:
        native_input = files.create_generated(project, f"{input_file['name'].split('/', 1)[1]}-gemini-requests",
                                              "application/jsonl", source_path=converted,
                                              base_url=native_files.base_url(ctx))
    finally:
        converted.unlink(missing_ok=True)
    display = (metadata or {}).get("description") or f"openai batch of {input_file['name']}"
    operation = ctx.store.batches.create(
        ctx.identity, native_model_name(model),
        {"batch": {"displayName": str(display)[:512], "inputConfig": {"fileName": native_input["name"]}}},
        kind=BATCH_ENDPOINTS[endpoint], version=ctx.version)
    job = ctx.store.batches.synced_job(ctx.identity, operation["name"])
    record = ctx.store.openai.add_batch(OpenAIBatch(
        name=operation["name"], project=project, input_file_id=input_file["name"],
        native_input=native_input["name"], endpoint=endpoint, completion_window=window, metadata=metadata,
        model=model, created=job.created, seq=0, models=lines, embeddings=embeddings))
    return batch_object(record, job, ctx.store.now())


async def create_batch(ctx: Context) -> Response:
    body = await json_body(ctx)
    return json_response(await run_in_threadpool(_create_batch, ctx, body))


def _result_lines(record: OpenAIBatch, responses: Path, created: int) -> Iterator[tuple[bool, dict[str, Any]]]:
    """(succeeded, OpenAI output line) of each native result line, in order."""
    with open(responses, "rb") as source:
        for number, raw in enumerate(source, 1):
            if not raw.strip():
                continue
            native = json.loads(raw)
            key = native.get("key")
            model = record.models.get(key, record.model)
            if record.endpoint == EMBEDDINGS_ENDPOINT:
                yield embedding_result_line(native, model, record.embeddings[key], number, record.name)
            else:
                yield batch_result_line(native, model, created, number, record.name)


def _publish_results(ctx: Context, record: OpenAIBatch, job: Job) -> None:
    """Once the native batch has results, write them as OpenAI output and error files (once)."""
    responses = (job.output or {}).get("responsesFile")
    if record.converted or not responses or not job.final:
        return
    files = ctx.store.files
    created = int(job.end_time) if job.end_time is not None else int(record.created)
    ok_path, error_path = files.new_part(ctx.identity), files.new_part(ctx.identity)
    ok_count = error_count = 0
    try:
        with open(ok_path, "wb") as ok_out, open(error_path, "wb") as error_out:
            for succeeded, line in _result_lines(record, files.path_of(ctx.identity, responses), created):
                (ok_out if succeeded else error_out).write(
                    json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
                ok_count += succeeded
                error_count += not succeeded
        stem = record.name.split("/", 1)[1]
        base = native_files.base_url(ctx)
        if ok_count:
            output = files.create_generated(ctx.project, f"{stem}-output.jsonl", "application/jsonl",
                                            source_path=ok_path, base_url=base)
            record.output_file_id = output["name"]
            ctx.store.openai.set_purpose(ctx.project, output["name"], "batch_output")
        if error_count:
            errors = files.create_generated(ctx.project, f"{stem}-errors.jsonl", "application/jsonl",
                                            source_path=error_path, base_url=base)
            record.error_file_id = errors["name"]
            ctx.store.openai.set_purpose(ctx.project, errors["name"], "batch_output")
        record.converted = True
    finally:
        ok_path.unlink(missing_ok=True)
        error_path.unlink(missing_ok=True)


def _batch_now(ctx: Context, record: OpenAIBatch) -> dict[str, Any]:
    try:
        job = ctx.store.batches.synced_job(ctx.identity, record.name)
    except ApiError as error:
        if error.code in (403, 404):   # deleted through the native API meanwhile
            ctx.store.openai.drop_batch(record)
            raise not_found(f"Batch {record.name} was not found.") from None
        raise
    with ctx.store.openai.lock:
        _publish_results(ctx, record, job)
    return batch_object(record, job, ctx.store.now())


async def get_batch(ctx: Context) -> Response:
    record = ctx.store.openai.batch(ctx.project, ctx.params["id"])
    return json_response(await run_in_threadpool(_batch_now, ctx, record))


async def cancel_batch(ctx: Context) -> Response:
    await ctx.body()
    record = ctx.store.openai.batch(ctx.project, ctx.params["id"])
    ctx.store.batches.cancel(ctx.identity, record.name)
    return json_response(await run_in_threadpool(_batch_now, ctx, record))


def _list_batches(ctx: Context) -> list[dict[str, Any]]:
    items = []
    for record in ctx.store.openai.batches(ctx.project):
        try:
            items.append(_batch_now(ctx, record))
        except ApiError as error:
            if error.code != 404:
                raise
    return items


async def list_batches(ctx: Context) -> Response:
    return json_response(cursor_page(ctx, await run_in_threadpool(_list_batches, ctx)))
