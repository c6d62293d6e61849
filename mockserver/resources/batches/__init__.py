"""The Batch API: batch jobs over generateContent and embedContent, their clock-driven state machine
with its 48 h expiry, inline and JSON Lines file input, and the routes of `batches/*`.

A job (`batches/{id}`, answered as a google.longrunning.Operation whose `metadata` is the
GenerateContentBatch / EmbedContentBatch) moves through its states by the clock alone:

* PENDING for `batch.pendingSeconds` after creation, then RUNNING for `batch.runningSeconds`, then
  SUCCEEDED. Both are read from the config when the job is created; `Batches.set_timings` overrides
  them per job. While RUNNING the requests are worked off evenly over the running time, so
  `pendingRequestCount` falls and `successfulRequestCount` / `failedRequestCount` grow.
* EXPIRED, with no results, when the job could not end within `batch.expirySeconds` (48 h) of its
  creation.
* FAILED when its input file is not JSON Lines (binary, not UTF-8, empty, or no line is a JSON object).
* CANCELLED by `:cancel` while PENDING or RUNNING; the results of the requests done by then are kept.

Nothing runs in the background. Every read of a job first brings it up to the clock: the requests the
clock says are done by now and are not yet computed are computed then (through `inference`, exactly as a
direct generateContent / embedContent of the same request), once, and kept. So advancing the clock,
`POST /_mock/clock` or freezegun move every job at once, and a poll costs only the requests that became
due since the last one.

Input is inline (`inputConfig.requests.requests[]` of `{request, metadata}`; at most 20 MB) or a JSONL
File (`inputConfig.fileName`; at most 2 GB) whose lines are `{"key": ..., "request": {...}}` or a bare
request. A file is read line by line and its results written line by line to a generated File named by
`output.responsesFile`; inline results come back in `output.inlinedResponses.inlinedResponses[]`. A line
that is not JSON, not a valid request, or names an unknown model fails alone (`error`, a google.rpc.Status
with the google.rpc.Code number); the others succeed. Inline requests are part of the create body, which
is read as a whole as the real front end reads it: one that is not a valid GenerateContentRequest makes
the create a 400 naming it; one that fails when run (unknown model, bad file reference) fails alone.

Routes: `models/*` and `tunedModels/*` `:batchGenerateContent` / `:asyncBatchEmbedContent`, and
`batches` (list), `batches/*` (get, DELETE), `:cancel` (POST), `:updateGenerateContentBatch` /
`:updateEmbedContentBatch` (PATCH). The Batch API guide's curl examples also send `GET batches/*:cancel`
and `GET batches/*:delete`; both are served as written there.

One module per concern: `job` (states, kinds, the Job record), `backend` (`Batches`, the state machine and
the work) and `handlers` (HTTP and the route table).
"""
from __future__ import annotations

from .backend import Batches, register
from .handlers import ROUTES
from .job import CANCELLED, EXPIRED, FAILED, PENDING, RUNNING, SUCCEEDED, TERMINAL, Job

__all__ = ["CANCELLED", "EXPIRED", "FAILED", "PENDING", "ROUTES", "RUNNING", "SUCCEEDED", "TERMINAL", "Batches",
           "Job", "register"]
