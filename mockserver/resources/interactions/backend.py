"""The Interactions backend: create, get, cancel, delete; conversation state; background runs on the clock.

Behaviour from ai.google.dev/gemini-api/docs/interactions (read 2026-12) and google-genai 3.6.1:

* An interaction runs a model (through inference.generate, the one generation path) or an agent (agents.py).
* `store` defaults to true; a `store=false` interaction is answered once and never kept, so a later get, cancel,
  delete or `previous_interaction_id` naming it is the same 404 as an id that never existed. So is another
  project's interaction, and a deleted one.
* `previous_interaction_id`: the earlier turns (their input and output, not their tools, system instruction or
  config, which are per interaction) come before this input; the usage counts them.
* `background=true` (needs `store`): `in_progress` until `interactions.backgroundSeconds` (agents: their own
  duration) have passed on the emulator's clock, then the final status (`Interaction.timeline`). The answer is
  computed when the interaction is created, so it is the same as a foreground one; only when it shows depends
  on the clock. Cancel moves an interaction still in progress to `cancelled`, where it stays.
* POST answers the output steps; GET shows the whole timeline, the `user_input` step first.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import inference
from ...call import current_call
from ...auth import Identity
from ...errors import ApiError, invalid_argument
from ...generation import omni
from ...timeline import Timeline, Transition
from . import agents, convert, omni_video

if TYPE_CHECKING:
    from ...store import Store

IN_PROGRESS, CANCELLED = "in_progress", "cancelled"
FINAL = ("completed", "requires_action", "failed", "cancelled", "incomplete")
# Echoed request fields, in the order the Interaction resource lists them.
ECHOED = ("system_instruction", "tools", "generation_config", "response_format", "response_mime_type",
          "response_modalities", "previous_interaction_id", "agent_config", "webhook_config", "labels",
          "service_tier")


def not_found(interaction_id: str) -> ApiError:
    """The one answer for an interaction that is absent, deleted, unstored or another project's."""
    return ApiError(404, "NOT_FOUND", f"Interaction {interaction_id} was not found.")


# The string codes of the Interactions error body: invalid_request, failed_precondition, authentication,
# permission_denied, not_found, model_not_found, rate_limit_exceeded, quota_exceeded, cancelled are the table of
# ai.google.dev/gemini-api/docs/api-errors (read 2026-12); the others (409, 413, 5xx) were not in the part read
# and are named after their google.rpc status.
CODES = {400: "invalid_request", 401: "authentication", 403: "permission_denied", 404: "not_found",
         409: "conflict", 413: "request_too_large", 429: "rate_limit_exceeded", 499: "cancelled",
         500: "internal_error", 501: "not_implemented", 503: "unavailable", 504: "deadline_exceeded"}


def error_code(error: ApiError) -> str:
    if error.code == 400 and error.status == "FAILED_PRECONDITION":
        return "failed_precondition"
    if error.code == 404 and error.message.startswith("models/"):
        return "model_not_found"
    if error.code == 429 and "quota" in error.message.lower():
        return "quota_exceeded"
    return CODES.get(error.code, "internal_error" if error.code >= 500 else "invalid_request")


@dataclass
class Interaction:
    id: str
    project: str
    created: float
    request: dict[str, Any]             # the create body as given (echoed fields, input)
    input_steps: list[dict[str, Any]]   # the user_input step(s) of the timeline
    steps: list[dict[str, Any]]         # the output steps
    usage: dict[str, Any]
    outcome: str                        # completed | requires_action | failed
    contents: list[dict[str, Any]]      # the whole conversation after this turn (for the next one)
    done_time: float                    # when the outcome shows (== created for a foreground run)
    stored: bool = True
    cancelled_at: float | None = None
    error: dict[str, Any] | None = None           # a failed run: {"code": <HTTP code>, "message"}

    @property
    def background(self) -> bool:
        return bool(self.request.get("background"))

    def timeline(self) -> Timeline:
        """In progress until `done_time`, then its outcome (at once for a foreground run). A cancel is not
        the clock's doing: it is kept apart (`cancelled_at`) and holds whatever the clock says after."""
        return Timeline(IN_PROGRESS, end=Transition(self.outcome, self.done_time))

    def status(self, now: float) -> str:
        return CANCELLED if self.cancelled_at is not None else self.timeline().state_at(now)

    def updated(self, now: float) -> float:
        """When the status last changed: the cancel, the outcome showing, or the creation."""
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.created if self.status(now) == IN_PROGRESS else self.done_time


def _input_steps(raw: Any) -> list[dict[str, Any]]:
    """The input as timeline steps: the user's content as `user_input`, function results as they came."""
    if isinstance(raw, list) and raw and all(isinstance(i, dict) and i.get("type") in (
            "user_input", "model_output", "function_call", "function_result", "thought") for i in raw):
        return copy.deepcopy(raw)
    if isinstance(raw, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": raw}]}]
    items = raw if isinstance(raw, list) else [raw]
    return [{"type": "user_input", "content": copy.deepcopy(items)}]


class Interactions:
    """Every project's interactions. Registered as `store.interactions`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self._items: dict[str, dict[str, Interaction]] = {}

    def reset(self) -> None:
        with self.lock:
            self._items.clear()

    # -- reading ------------------------------------------------------------------------------------
    def find(self, project: str, interaction_id: str) -> Interaction:
        with self.lock:
            record = self._items.get(project, {}).get(interaction_id)
        if record is None:
            raise not_found(interaction_id)
        return record

    def all(self, project: str | None = None) -> list[Interaction]:
        with self.lock:
            groups = [self._items.get(project, {})] if project else list(self._items.values())
            records = [r for group in groups for r in group.values()]
        return sorted(records, key=lambda r: (r.created, r.id))

    def projects(self) -> list[str]:
        with self.lock:
            return list(self._items)

    # -- writing ------------------------------------------------------------------------------------
    def create(self, identity: Identity, body: dict[str, Any], base_url: str | None = None) -> Interaction:
        """Run one interaction, on a model or (agents.py) an agent. `base_url`: where generated files are
        downloaded from (a video delivered by uri)."""
        model_name, agent = body.get("model"), body.get("agent")
        if model_name and agent:
            raise invalid_argument("Give either model or agent, not both.", "model")
        if not model_name and not agent:
            raise invalid_argument("model or agent is required.", "model")
        stored = body.get("store", True) is not False
        background = bool(body.get("background"))
        if background and not stored:
            raise invalid_argument("background=true requires store=true.", "store")
        history = self._history(identity.project, body.get("previous_interaction_id"))
        added = convert.input_contents(body.get("input"), history)
        interaction_id = self.store.new_id(identity.project, "interaction", 24)
        now = self.store.now()
        failure = None
        try:
            if agent:
                steps, usage, contents, seconds = agents.run(self.store, identity, body, history + added)
            else:
                steps, usage, contents = self._run_model(identity, body, history, added, base_url)
                seconds = float(self.store.config["interactions"]["backgroundSeconds"]) if background else 0.0
        except ApiError as error:
            # A background run that the model fails (a 429 or 5xx, as a scripted rule or fault can make it)
            # was accepted: it ends `failed` with the error. A foreground one answers the error.
            if not background or error.code < 429:
                raise
            failure = error
            steps, usage, contents = [], {}, history + added
            seconds = float(self.store.config["interactions"]["backgroundSeconds"])
        outcome = "failed" if failure else (
            "requires_action" if steps and steps[-1]["type"] == "function_call" else "completed")
        record = Interaction(id=interaction_id, project=identity.project, created=now,
                             request=copy.deepcopy(body), input_steps=_input_steps(body.get("input")),
                             steps=steps, usage=usage, outcome=outcome, contents=contents,
                             done_time=now + seconds, stored=stored,
                             error=None if failure is None else {"code": failure.code, "message": failure.message})
        if stored:
            with self.lock:
                self._items.setdefault(identity.project, {})[interaction_id] = record
            self.store.changed()
        return record

    def _history(self, project: str, previous_id: Any) -> list[dict[str, Any]]:
        if previous_id in (None, ""):
            return []
        if not isinstance(previous_id, str):
            raise invalid_argument("previous_interaction_id must be a string.", "previous_interaction_id")
        previous = self.find(project, previous_id)
        status = previous.status(self.store.now())
        if status not in ("completed", "requires_action"):
            raise invalid_argument(f"The previous interaction {previous_id} is {status}; a conversation continues "
                                   f"from a completed one.", "previous_interaction_id")
        return copy.deepcopy(previous.contents)

    def _run_model(self, identity: Identity, body: dict[str, Any], history: list[dict[str, Any]],
                   added: list[dict[str, Any]], base_url: str | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        name = str(body["model"])
        model = self.store.models.get(name.removeprefix("models/"), "generateContent", "v1beta")
        if omni.spec(model) is not None:   # Gemini Omni: a video turn (omni_video.py)
            previous = body.get("previous_interaction_id")
            steps = self.find(identity.project, previous).steps if previous else []
            return omni_video.run(self.store, identity, model, body, history, added, steps, base_url)
        omni_video.refuse_video(model, body)
        tools, _ = convert.tools_for(body.get("tools"), self.store.file_search_stores.interaction_tool)
        config, tool_config = convert.generation_config(body)
        request: dict[str, Any] = {"contents": history + added}
        system = body.get("system_instruction")
        if system:
            if not isinstance(system, str):
                raise invalid_argument("system_instruction must be a string.", "system_instruction")
            request["systemInstruction"] = {"parts": [{"text": system}]}
        if tools:
            request["tools"] = tools
        if tool_config:
            request["toolConfig"] = tool_config
        if config:
            request["generationConfig"] = config
        # Flex and priority (service_tiers.py): refused or noted on the call, whose answer names the tier
        self.store.service_tiers.serve(current_call(), body.get("service_tier"))
        response = inference.generate(self.store, identity, model, request)
        steps = convert.output_steps(response)
        return steps, convert.usage(response.get("usageMetadata")), request["contents"] + convert.model_contents(steps)

    def cancel(self, project: str, interaction_id: str) -> Interaction:
        record = self.find(project, interaction_id)
        now = self.store.now()
        with self.lock:
            status = record.status(now)
            if status != IN_PROGRESS:
                raise invalid_argument(f"Interaction {interaction_id} is {status}; only a background interaction "
                                       f"in progress can be cancelled.", "id")
            record.cancelled_at = now
        self.store.changed()
        return record

    def delete(self, project: str, interaction_id: str) -> None:
        with self.lock:
            record = self._items.get(project, {}).pop(interaction_id, None)
        if record is None:
            raise not_found(interaction_id)
        self.store.changed()

    # -- export and import ----------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {"interactions": [dict(r.__dict__) for group in self._items.values() for r in group.values()]}

    def import_state(self, data: dict[str, Any]) -> None:
        items: dict[str, dict[str, Interaction]] = {}
        for raw in data.get("interactions") or ():
            record = Interaction(**raw)
            items.setdefault(record.project, {})[record.id] = record
        with self.lock:
            self._items = items


# -- the wire view ------------------------------------------------------------------------------------

def view(store: Store, record: Interaction, *, timeline: bool, include_input: bool = False,
         steps: bool = True) -> dict[str, Any]:
    """The Interaction resource as the API answers it. `timeline`: the input steps first (GET); else the
    output steps only (POST). `steps=False`: no steps (the stream's created / completed events)."""
    now = store.now()
    status = record.status(now)
    body = record.request
    out: dict[str, Any] = {"id": record.id, "status": status}
    if body.get("agent"):
        out["agent"] = body["agent"]
    else:
        out["model"] = body.get("model")
    for key in ECHOED:
        if body.get(key) is not None:
            out[key] = body[key]
    if include_input:
        out["input"] = body.get("input")
    out["created"] = store.timestamp(record.created)
    out["updated"] = store.timestamp(record.updated(now))
    if steps:
        shown = record.steps if status in ("completed", "requires_action") else []
        out["steps"] = (copy.deepcopy(record.input_steps) if timeline else []) + copy.deepcopy(shown)
    if status in ("completed", "requires_action"):
        out["usage"] = dict(record.usage)
    if status == "failed" and record.error:
        error = ApiError(record.error["code"], "", record.error["message"])
        out["errors"] = [{"code": error_code(error), "message": error.message}]
    return out


LEGACY_REVISION_BEFORE = "2026-05-20"


def legacy(out: dict[str, Any]) -> dict[str, Any]:
    """The schema before the 2026-05-20 revision (`Api-Revision: 2026-05-07`, accepted until the old schema's
    removal): a flat `outputs` list of content and calls instead of `steps`
    (ai.google.dev/gemini-api/docs/interactions-breaking-changes-may-2026)."""
    outputs: list[dict[str, Any]] = []
    for step in out.pop("steps", []):
        if step["type"] == "user_input":
            continue
        if step["type"] == "model_output":
            outputs.extend(step.get("content") or [])
        else:
            outputs.append(step)
    out["outputs"] = outputs
    out["role"] = "model"
    return out
