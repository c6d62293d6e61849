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

One module per concern: `records`, `backend` (`Logs`), `hook` (`log_call`, around the generation handlers)
and `control_routes` (the control plane's routes).
"""
from __future__ import annotations

from typing import Any

from .backend import Logs, register
from .control_routes import control_routes
from .hook import LoggedExchange, log_call

ROUTES: list[Any] = []   # no API routes: logs are read through the control plane (`control_routes`)

__all__ = ["ROUTES", "LoggedExchange", "Logs", "control_routes", "log_call", "register"]
