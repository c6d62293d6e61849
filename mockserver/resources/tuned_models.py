"""Tuned models (`tunedModels/{id}`): creation as a long-running operation, training driven by the
clock, and use of an ACTIVE model for generation.

* `POST tunedModels[?tunedModelId=]` validates the base model (it must offer `createTunedModel`), the
  training examples (at least one, each with `textInput` and `output`) and the hyperparameters, and
  answers the Operation `tunedModels/{id}/operations/{op}`. The google-genai SDK's `tunings.tune` drops
  the examples on the way (it sends only `baseModel`, `displayName` and hyperparameters), so through that
  SDK a create is a 400 here, as it is for the real API.
* The model is CREATING for `tunedModel.trainingSeconds` (config, read at creation) and ACTIVE after;
  steps, snapshots and the operation's progress are computed from the clock when read.
* An ACTIVE model answers a prompt equal to one of its training inputs with that example's output, and
  anything else as its base model would (deterministic, named after the tuned model).
* Access goes through permissions.py: the creator holds OWNER, others see a model only through a grant.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from starlette.responses import Response

from .. import inference
from ..auth import Identity
from ..errors import already_exists, failed_precondition, invalid_argument, not_found
from ..http import Context, json_response
from ..inference import last_user_text
from ..persistence import build, fields_of
from ..routing import GENERATE, route
from ..timeline import Timeline, Transition
from ..wire import format_time, page_size, paginate, parse_update_mask
from . import legacy
from .logs import log_call
from .models import stream_response
from .permissions import (EVERYONE, OWNER, READER, SHARING_VERSIONS, USER, WRITER, Acl, effective_role,
                          require)

if TYPE_CHECKING:
    from ..store import Store

KIND = "TunedModel"
ID_PATTERN = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?\Z")
SUFFIX_LENGTH = 5
MAX_DISPLAY_NAME = 40
MAX_SNAPSHOTS = 1000          # longer trainings list this many snapshots, evenly spaced
INT32_MAX = 2 ** 31 - 1
DEFAULT_EPOCHS, DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE = 5, 4, 0.001
TYPE_PREFIX = "type.googleapis.com/google.ai.generativelanguage"

CREATING, ACTIVE = "CREATING", "ACTIVE"
MUTABLE = ("displayName", "description", "temperature", "topP", "topK")
OUTPUT_ONLY = ("name", "state", "createTime", "updateTime")
# What a tuned model offers once ACTIVE, whatever its base model offers.
METHODS = ["generateContent", "countTokens", "generateText"]


@dataclass
class TunedModel:
    KIND = KIND
    name: str
    project: str                       # the creator's project
    base_model: str                    # models/...
    source: str | None                 # tunedModelSource.tunedModel, when tuned from a tuned model
    display_name: str
    description: str
    temperature: float | None
    top_p: float | None
    top_k: int | None
    hyperparameters: dict[str, Any]    # as shown on the wire
    epochs: int
    batch_size: int
    examples: list[tuple[str, str]]    # (textInput, output)
    create_time: float
    update_time: float
    training_seconds: float
    operation_id: str
    acl: Acl = field(default_factory=Acl)

    # -- training, from the clock ------------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.examples) // self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def complete_time(self) -> float:
        return self.create_time + self.training_seconds

    def timeline(self) -> Timeline:
        """CREATING while it trains, ACTIVE from `complete_time` on."""
        return Timeline(CREATING, end=Transition(ACTIVE, self.complete_time))

    def state(self, now: float) -> str:
        return self.timeline().state_at(now)

    def completed_steps(self, now: float) -> int:
        if now >= self.complete_time:
            return self.total_steps
        elapsed = max(0.0, now - self.create_time)
        return min(self.total_steps, int(self.total_steps * elapsed / self.training_seconds))

    def _snapshot_steps(self) -> list[int]:
        total = self.total_steps
        if total <= MAX_SNAPSHOTS:
            return list(range(1, total + 1))
        return sorted({-(-k * total // MAX_SNAPSHOTS) for k in range(1, MAX_SNAPSHOTS + 1)})

    def snapshots(self, now: float, seed: int) -> list[dict[str, Any]]:
        done = self.completed_steps(now)
        total = self.total_steps
        start = 1.5 + _unit(f"{seed}|{self.name}|loss") * 1.5
        shots = []
        for step in self._snapshot_steps():
            if step > done:
                break
            loss = start * math.exp(-3.0 * step / total) + 0.05 * _unit(f"{seed}|{self.name}|{step}")
            shots.append({
                "step": step,
                "epoch": min(self.epochs, (step - 1) // self.steps_per_epoch + 1),
                "meanLoss": round(loss, 6),
                "computeTime": format_time(self.create_time + self.training_seconds * step / total),
            })
        return shots

    # -- wire ---------------------------------------------------------------------------------------
    def render(self, now: float, seed: int) -> dict[str, Any]:
        state = self.state(now)
        body: dict[str, Any] = {"name": self.name}
        if self.display_name:
            body["displayName"] = self.display_name
        if self.description:
            body["description"] = self.description
        body["state"] = state
        body["createTime"] = format_time(self.create_time)
        body["updateTime"] = format_time(max(self.update_time, self.complete_time) if state == ACTIVE
                                         else self.update_time)
        if self.source:
            body["tunedModelSource"] = {"tunedModel": self.source, "baseModel": self.base_model}
        else:
            body["baseModel"] = self.base_model
        for key, value in (("temperature", self.temperature), ("topP", self.top_p), ("topK", self.top_k)):
            if value is not None:
                body[key] = value
        task: dict[str, Any] = {"startTime": format_time(self.create_time)}
        if state == ACTIVE:
            task["completeTime"] = format_time(self.complete_time)
        task["snapshots"] = self.snapshots(now, seed)
        task["hyperparameters"] = dict(self.hyperparameters)
        body["tuningTask"] = task
        return body

    def operation(self, version: str, now: float, seed: int) -> dict[str, Any]:
        done = self.state(now) == ACTIVE
        completed = self.completed_steps(now)
        total = self.total_steps
        op: dict[str, Any] = {
            "name": f"{self.name}/operations/{self.operation_id}",
            "metadata": {
                "@type": f"{TYPE_PREFIX}.{version}.CreateTunedModelMetadata",
                "tunedModel": self.name,
                "totalSteps": total,
                "completedSteps": completed,
                "completedPercent": round(100.0 * completed / total, 4) if total else 100.0,
                "snapshots": self.snapshots(now, seed),
            },
            "done": done,
        }
        if done:
            op["response"] = {"@type": f"{TYPE_PREFIX}.{version}.TunedModel", **self.render(now, seed)}
        return op

    def answer_for(self, prompt: str) -> str | None:
        """The output of the training example whose input equals `prompt` (surrounding blanks aside)."""
        wanted = prompt.strip()
        for text_input, output in self.examples:
            if text_input.strip() == wanted:
                return output
        return None


def _unit(text: str) -> float:
    """A deterministic number in [0, 1) from `text`."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2 ** 64


def _slug(text: str) -> str:
    slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")
    return re.sub(r"^[^a-z]+", "", slug)


# -- validation ----------------------------------------------------------------------------------------

def _positive_int(value: int | None, field_name: str, default: int) -> int:
    """`value` (an int32 field, as the schema normalized it) checked to be positive; None: the default."""
    if value is None:
        return default
    if value <= 0:
        raise invalid_argument(f"{field_name} must be a positive number, not {value}.", field_name)
    return value


def _sampling(body: dict[str, Any], base: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """temperature / topP / topK from `body`, checked against the base model's ranges."""
    values = dict(defaults or {})
    max_temperature = base.get("maxTemperature") or 1.0
    if body.get("temperature") is not None:
        t = body["temperature"]
        if not 0.0 <= t <= max_temperature:
            raise invalid_argument(f"temperature must be in [0, {max_temperature:g}], not {t:g}.", "temperature")
        values["temperature"] = t
    if body.get("topP") is not None:
        p = body["topP"]
        if not 0.0 <= p <= 1.0:
            raise invalid_argument(f"topP must be in [0, 1], not {p:g}.", "topP")
        values["topP"] = p
    if body.get("topK") is not None:
        k = body["topK"]
        if k < 0:
            raise invalid_argument(f"topK must not be negative, not {k}.", "topK")
        values["topK"] = k
    return values


def _display_name(value: str) -> str:
    if len(value) > MAX_DISPLAY_NAME:
        raise invalid_argument(f"displayName must be at most {MAX_DISPLAY_NAME} characters, "
                               f"not {len(value)}.", "displayName")
    return value


def _examples(task: dict[str, Any]) -> list[tuple[str, str]]:
    where = "tuningTask.trainingData.examples.examples"
    items = (((task.get("trainingData") or {}).get("examples") or {}).get("examples")) or []
    if not items:
        raise invalid_argument(f"{where} must hold at least one training example "
                               f"(each with textInput and output).", where)
    examples = []
    for i, item in enumerate(items):
        text_input, output = item.get("textInput"), item.get("output")
        if not text_input:
            raise invalid_argument(f"{where}[{i}].textInput is required.", f"{where}[{i}].textInput")
        if not output:
            raise invalid_argument(f"{where}[{i}].output is required.", f"{where}[{i}].output")
        examples.append((text_input, output))
    return examples


def _hyperparameters(task: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    where = "tuningTask.hyperparameters"
    given = task.get("hyperparameters") or {}
    epochs = _positive_int(given.get("epochCount"), f"{where}.epochCount", DEFAULT_EPOCHS)
    batch = _positive_int(given.get("batchSize"), f"{where}.batchSize", DEFAULT_BATCH_SIZE)
    shown: dict[str, Any] = {"epochCount": epochs, "batchSize": batch}
    if given.get("learningRateMultiplier") is not None:
        multiplier = given["learningRateMultiplier"]
        if multiplier <= 0:
            raise invalid_argument(f"{where}.learningRateMultiplier must be positive.",
                                   f"{where}.learningRateMultiplier")
        shown["learningRateMultiplier"] = multiplier
    else:
        rate = given.get("learningRate", DEFAULT_LEARNING_RATE)
        if rate <= 0:
            raise invalid_argument(f"{where}.learningRate must be positive.", f"{where}.learningRate")
        shown["learningRate"] = rate
    return shown, epochs, batch


def _parse_filter(raw: str | None) -> list[str]:
    terms = [t for t in re.split(r"\s+", (raw or "").strip()) if t and t != "AND"]
    for term in terms:
        if term not in ("owner:me", "readers:me", "readers:everyone"):
            raise invalid_argument(
                f"Invalid filter {raw!r}: supported terms are owner:me, readers:me and readers:everyone "
                f"(joined with spaces or AND).", "filter")
    return terms


# -- the backend ---------------------------------------------------------------------------------------

class TunedModels:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._models: dict[str, TunedModel] = {}

    def reset(self) -> None:
        self._models.clear()

    # -- look-ups ------------------------------------------------------------------------------------
    def lookup(self, name: str) -> TunedModel | None:
        """The tuned model, whoever may see it (permissions.py decides that)."""
        return self._models.get(name)

    def fetch(self, identity: Identity, name: str, needed: str = READER) -> TunedModel:
        return require(self._models.get(name), identity, needed, kind=KIND, name=name)

    def usable(self, identity: Identity, name: str) -> TunedModel:
        """A model the caller may generate with: READER, and training finished."""
        record = self.fetch(identity, name, READER)
        state = record.state(self.store.now())
        if state != ACTIVE:
            raise failed_precondition(f"Tuned model {name} is not ready for use: its state is {state}. "
                                      f"Wait for the tuning operation to finish.")
        return record

    def as_model(self, record: TunedModel) -> dict[str, Any]:
        """A catalog-shaped model for generation: the base model under the tuned model's name."""
        base = self.store.models.find(record.base_model) or {}
        model = dict(base)
        model.update(name=record.name, displayName=record.display_name or record.name,
                     supportedGenerationMethods=list(METHODS))
        for key, value in (("temperature", record.temperature), ("topP", record.top_p), ("topK", record.top_k)):
            if value is not None:
                model[key] = value
        return model

    # -- create --------------------------------------------------------------------------------------
    def _new_name(self, project: str, display_name: str) -> str:
        stem = _slug(display_name)[:40 - SUFFIX_LENGTH - 1].rstrip("-") or "tuned-model"
        while True:
            name = f"tunedModels/{stem}-{self.store.new_id(project, 'tunedModel', SUFFIX_LENGTH)}"
            if name not in self._models:
                return name

    def _source(self, identity: Identity, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        source = body.get("tunedModelSource")
        if source:
            parent = source.get("tunedModel")
            if not parent:
                raise invalid_argument("tunedModelSource.tunedModel is required.", "tunedModelSource.tunedModel")
            record = self.usable(identity, parent)   # READER on an ACTIVE model
            base = self.store.models.find(record.base_model)
            if base is None:   # the catalog changed since the source was tuned
                raise not_found(f"The base model {record.base_model} of {record.name} is not in the catalog.")
            return base, record.name
        name = body.get("baseModel")
        if not name:
            raise invalid_argument("baseModel is required: the model to tune, e.g. "
                                   "models/gemini-1.5-flash-001-tuning.", "baseModel")
        base = self.store.models.get(name)
        if "createTunedModel" not in base["supportedGenerationMethods"]:
            raise invalid_argument(f"baseModel {base['name']} does not support tuning (createTunedModel is "
                                   f"not among its supportedGenerationMethods).", "baseModel")
        return base, None

    def create(self, identity: Identity, body: dict[str, Any], tuned_model_id: str | None,
               version: str) -> dict[str, Any]:
        tuned_model_id = tuned_model_id or None   # an empty id is no id, as proto3 reads it
        if tuned_model_id is not None and not ID_PATTERN.match(tuned_model_id):
            raise invalid_argument(
                f"tunedModelId {tuned_model_id!r} is not valid: it must be up to 40 characters, match "
                f"[a-z]([a-z0-9-]{{0,38}}[a-z0-9])?.", "tunedModelId")
        base, source = self._source(identity, body)
        task = body.get("tuningTask")
        if task is None:
            raise invalid_argument("tuningTask is required.", "tuningTask")
        examples = _examples(task)
        hyperparameters, epochs, batch = _hyperparameters(task)
        if epochs * -(-len(examples) // batch) > INT32_MAX:
            raise invalid_argument("tuningTask.hyperparameters.epochCount is too large for this training set.",
                                   "tuningTask.hyperparameters.epochCount")
        display_name = _display_name(body.get("displayName", ""))
        sampling = _sampling(body, base, {k: base.get(k) for k in ("temperature", "topP", "topK")})
        with self.store.lock:
            if tuned_model_id:
                name = f"tunedModels/{tuned_model_id}"
                if name in self._models:
                    raise already_exists(f"Tuned model {name} already exists.")
            else:
                name = self._new_name(identity.project, display_name)
            now = self.store.now()
            record = TunedModel(
                name=name, project=identity.project, base_model=base["name"], source=source,
                display_name=display_name, description=body.get("description", ""),
                temperature=sampling.get("temperature"), top_p=sampling.get("topP"), top_k=sampling.get("topK"),
                hyperparameters=hyperparameters, epochs=epochs, batch_size=batch, examples=examples,
                create_time=now, update_time=now,
                training_seconds=float(self.store.config["tunedModel"]["trainingSeconds"]),
                operation_id=self.store.new_id(name, "operation"),
            )
            self._models[name] = record
            self.store.permissions.grant(record, USER, identity.email, OWNER)
            return record.operation(version, now, self.store.seed)

    # -- read ----------------------------------------------------------------------------------------
    def records(self) -> list[TunedModel]:
        """Every tuned model of every project, oldest first, whoever may see it (for the dashboard)."""
        with self.store.lock:
            return sorted(self._models.values(), key=lambda r: (r.create_time, r.name))

    def get(self, identity: Identity, name: str) -> dict[str, Any]:
        return self.fetch(identity, name).render(self.store.now(), self.store.seed)

    def list(self, identity: Identity, size: int, token: str | None, filter_text: str | None) -> dict[str, Any]:
        terms = _parse_filter(filter_text)
        now, seed = self.store.now(), self.store.seed
        chosen = []
        for record in sorted(self._models.values(), key=lambda r: (r.create_time, r.name)):
            role = effective_role(record, identity)
            if role is None:
                continue
            if "owner:me" in terms and role != OWNER:
                continue
            if "readers:me" in terms and role != READER:
                continue
            if "readers:everyone" in terms and not any(g.grantee_type == EVERYONE
                                                       for g in record.acl.grants.values()):
                continue
            chosen.append(record)
        page, following = paginate(chosen, size, token)
        body: dict[str, Any] = {"tunedModels": [r.render(now, seed) for r in page]}
        if following:
            body["nextPageToken"] = following
        return body

    def get_operation(self, identity: Identity, name: str, operation_id: str, version: str) -> dict[str, Any]:
        record = self.fetch(identity, name)
        if operation_id != record.operation_id:
            raise not_found(f"Operation {name}/operations/{operation_id} not found.")
        return record.operation(version, self.store.now(), self.store.seed)

    def list_operations(self, identity: Identity, name: str, size: int, token: str | None,
                        version: str) -> dict[str, Any]:
        record = self.fetch(identity, name)
        page, following = paginate([record.operation(version, self.store.now(), self.store.seed)], size, token)
        body: dict[str, Any] = {"operations": page}
        if following:
            body["nextPageToken"] = following
        return body

    # -- change --------------------------------------------------------------------------------------
    def patch(self, identity: Identity, name: str, body: dict[str, Any],
              mask: Sequence[str] | None) -> dict[str, Any]:
        record = self.fetch(identity, name, WRITER)
        current = record.render(self.store.now(), self.store.seed)
        if mask is None:   # the SDK sends no updateMask: the fields given are the fields to change
            mask = []
            for key, value in body.items():
                if key in MUTABLE:
                    mask.append(key)
                elif key not in OUTPUT_ONLY and value != current.get(key):
                    raise invalid_argument(f"Field `{key}` of a tuned model cannot be updated; updatable "
                                           f"fields: {', '.join(MUTABLE)}.", key)
        for path in mask:
            if path not in MUTABLE:
                raise invalid_argument(f"updateMask: field `{path}` of a tuned model cannot be updated; "
                                       f"updatable fields: {', '.join(MUTABLE)}.", "updateMask")
        base = self.store.models.find(record.base_model) or {}
        changes = {key: body.get(key) for key in mask}
        if "displayName" in changes:
            _display_name(changes["displayName"] or "")
        sampling = _sampling({k: v for k, v in changes.items() if k in ("temperature", "topP", "topK")}, base)
        with self.store.lock:
            if "displayName" in changes:
                record.display_name = changes["displayName"] or ""
            if "description" in changes:
                record.description = changes["description"] or ""
            for key, attribute in (("temperature", "temperature"), ("topP", "top_p"), ("topK", "top_k")):
                if key in changes:   # in the mask but not in the body: back to the base model's default
                    setattr(record, attribute, sampling.get(key, base.get(key)))
            if mask:
                record.update_time = self.store.now()
            return record.render(self.store.now(), self.store.seed)

    def delete(self, identity: Identity, name: str) -> None:
        with self.store.lock:
            self.fetch(identity, name, OWNER)
            del self._models[name]

    def forget(self, name: str) -> None:
        """Remove the tuned model without a permission check (the control plane's delete)."""
        with self.store.lock:
            self._models.pop(name, None)

    def transfer_ownership(self, identity: Identity, name: str, email: str | None) -> None:
        if not isinstance(email, str) or not email.strip():
            raise invalid_argument("emailAddress is required: the e-mail of the new owner.", "emailAddress")
        record = self.fetch(identity, name, OWNER)
        self.store.permissions.transfer(record, email.strip())
        record.update_time = self.store.now()

    # -- use -----------------------------------------------------------------------------------------
    def override_for(self, record: TunedModel, prompt: str | None) -> dict[str, Any] | None:
        if prompt is None:
            return None
        output = record.answer_for(prompt)
        return {"text": output} if output is not None else None

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Every tuned model with its permissions (training state is computed from the clock)."""
        with self.store.lock:
            return {"tunedModels": [fields_of(r, examples=[list(e) for e in r.examples], acl=r.acl.export_state())
                                    for r in self._models.values()]}

    def import_state(self, data: dict[str, Any]) -> None:
        with self.store.lock:
            self._models = {}
            for item in data.get("tunedModels") or []:
                record = build(TunedModel, item, examples=[tuple(e) for e in item.get("examples") or []],
                               acl=Acl.from_state(item.get("acl")))
                self._models[record.name] = record


def register(store: Store) -> None:
    store.register("tuned_models", TunedModels(store))


# -- handlers ------------------------------------------------------------------------------------------

def _name(ctx: Context) -> str:
    return f"tunedModels/{ctx.params['tuned']}"


async def create_tuned_model(ctx: Context) -> Response:
    body = await ctx.json("TunedModel")
    tuned_model_id = ctx.query("tunedModelId", ctx.query("tuned_model_id"))
    return json_response(ctx.store.tuned_models.create(ctx.identity, body, tuned_model_id, ctx.version))


async def list_tuned_models(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), 10, 1000)
    return json_response(ctx.store.tuned_models.list(ctx.identity, size, ctx.query("pageToken"),
                                                     ctx.query("filter")))


async def get_tuned_model(ctx: Context) -> Response:
    return json_response(ctx.store.tuned_models.get(ctx.identity, _name(ctx)))


async def patch_tuned_model(ctx: Context) -> Response:
    body = await ctx.json("TunedModel")
    mask = parse_update_mask(ctx.query("updateMask", ctx.query("update_mask")))
    return json_response(ctx.store.tuned_models.patch(ctx.identity, _name(ctx), body, mask))


async def delete_tuned_model(ctx: Context) -> Response:
    ctx.store.tuned_models.delete(ctx.identity, _name(ctx))
    return json_response({})


async def transfer_ownership(ctx: Context) -> Response:
    body = await ctx.json("TransferOwnershipRequest")
    ctx.store.tuned_models.transfer_ownership(ctx.identity, _name(ctx), body.get("emailAddress"))
    return json_response({})


async def generate_text(ctx: Context) -> Response:
    request = await ctx.json("GenerateTextRequest")
    backend = ctx.store.tuned_models
    record = backend.usable(ctx.identity, _name(ctx))
    prompt = (request.get("prompt") or {}).get("text")
    return json_response(legacy.generate_text(ctx.store, ctx.identity, backend.as_model(record), request,
                                              override=backend.override_for(record, prompt)))


async def generate_content(ctx: Context) -> Response:
    with log_call(ctx, "generateContent", _name(ctx)) as exchange:   # a log, when logging is on
        exchange.request = request = await ctx.json("GenerateContentRequest")
        backend = ctx.store.tuned_models
        record = backend.usable(ctx.identity, _name(ctx))
        override = backend.override_for(record, last_user_text(request))
        exchange.response = inference.generate(ctx.store, ctx.identity, backend.as_model(record), request,
                                               override=override)
    return json_response(exchange.response)


async def stream_generate_content(ctx: Context) -> Response:
    with log_call(ctx, "streamGenerateContent", _name(ctx)) as exchange:
        exchange.request = request = await ctx.json("GenerateContentRequest")
        backend = ctx.store.tuned_models
        record = backend.usable(ctx.identity, _name(ctx))
        override = backend.override_for(record, last_user_text(request))
        exchange.response = inference.stream(ctx.store, ctx.identity, backend.as_model(record), request,
                                             override=override)
    return stream_response(ctx, exchange.response)


async def get_operation(ctx: Context) -> Response:
    return json_response(ctx.store.tuned_models.get_operation(ctx.identity, _name(ctx), ctx.params["operation"],
                                                              ctx.version))


async def list_operations(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), 10, 1000)
    return json_response(ctx.store.tuned_models.list_operations(ctx.identity, _name(ctx), size,
                                                                ctx.query("pageToken"), ctx.version))


GENERATE_CONTENT_VERSIONS = ("v1beta", "v1alpha", "v1")
# /v1, the SDKs' default version, serves tuned models too (get, list, generation), as /v1beta does.
SERVING_VERSIONS = (*SHARING_VERSIONS, "v1")

ROUTES = [
    route("POST", "tunedModels", create_tuned_model, versions=SHARING_VERSIONS),
    route("GET", "tunedModels", list_tuned_models, versions=SERVING_VERSIONS),
    route("GET", "tunedModels/{tuned}", get_tuned_model, versions=SERVING_VERSIONS),
    route("PATCH", "tunedModels/{tuned}", patch_tuned_model, versions=SHARING_VERSIONS),
    route("DELETE", "tunedModels/{tuned}", delete_tuned_model, versions=SHARING_VERSIONS),
    route("POST", "tunedModels/{tuned}:transferOwnership", transfer_ownership, versions=SHARING_VERSIONS),
    route("POST", "tunedModels/{tuned}:generateText", generate_text, versions=SHARING_VERSIONS, runs=GENERATE),
    route("POST", "tunedModels/{tuned}:generateContent", generate_content, versions=GENERATE_CONTENT_VERSIONS,
          runs=GENERATE),
    route("POST", "tunedModels/{tuned}:streamGenerateContent", stream_generate_content,
          versions=GENERATE_CONTENT_VERSIONS, runs=GENERATE),
    route("GET", "tunedModels/{tuned}/operations", list_operations, versions=SHARING_VERSIONS),
    route("GET", "tunedModels/{tuned}/operations/{operation}", get_operation, versions=SHARING_VERSIONS),
]
