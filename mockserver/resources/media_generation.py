"""Imagen `models/{m}:predict` and Veo `models/{m}:predictLongRunning`, with the video operations.

As the REST reference and guides show (ai.google.dev/api/models#method:-models.predict and
#method:-models.predictlongrunning, ai.google.dev/gemini-api/docs/imagen and /video, read 2026-12):

* Imagen: `{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", "imageSize",
  "personGeneration"}}` -> `{"predictions": [{"bytesBase64Encoded", "mimeType": "image/png"}]}`.
* Veo: `{"instances": [{"prompt", "image"?}], "parameters": {"aspectRatio", "durationSeconds",
  "resolution", "negativePrompt", "personGeneration", "numberOfVideos"}}` -> an Operation
  `models/{m}/operations/{id}`; GET it to poll. When done, `response.generateVideoResponse.
  generatedSamples[].video.uri` is a generated file's `:download?alt=media` address.

The newest SDKs (google-genai 3.6.1 models.generate_images / generate_videos, @google/genai 3.6.1) refuse
these two methods on the Gemini API client-side; REST callers use them, and google-genai's
`operations.get` and `files.download` read the operation and its video.

An operation is done once the model's generation time (`emulator.veo.generationSeconds`, the documented
minimum latency) has passed on the emulator's clock; the video file is made when a read first sees it done.
"""
from __future__ import annotations

import builtins
import hashlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Collection

from starlette.responses import Response

from ..auth import Identity
from ..errors import ApiError, invalid_argument, missing_resource
from ..generation import images, video
from ..generation.counting import canonical_json
from ..http import Context, json_response
from ..persistence import build, fields_of
from ..routing import route
from ..timeline import OPERATION_DONE, Timeline, operation_timeline
from ..wire import page_size, paginate
from .files import base_url, bytes_response

if TYPE_CHECKING:
    from ..store import Store

IMAGEN_SIZES_1K = {"1:1": (1024, 1024), "3:4": (896, 1280), "4:3": (1280, 896), "9:16": (768, 1408),
                   "16:9": (1408, 768)}
PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")
RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"


@dataclass
class VideoOperation:
    name: str
    model: str
    digest: bytes
    seconds: int
    width: int
    height: int
    videos: int
    done_time: float
    files: list[str] = field(default_factory=list)   # generated file ids, once done

    def timeline(self) -> Timeline:
        """Running until `done_time`, done from then on (the Operation's `done`; the states are the emulator's
        names, an Operation has no state field)."""
        return operation_timeline(self.done_time)

    def done(self, now: float) -> bool:
        return self.timeline().state_at(now) == OPERATION_DONE


def _facts(model: dict[str, Any], key: str) -> dict[str, Any]:
    return (model.get("emulator") or {}).get(key) or {}


def _single_instance(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    instances = request.get("instances")
    if not isinstance(instances, list) or not instances:
        raise invalid_argument("instances must hold one instance.", "instances")
    if len(instances) > 1:
        raise invalid_argument(f"Only one instance is supported, got {len(instances)}.", "instances")
    instance = instances[0]
    if not isinstance(instance, dict):
        raise invalid_argument("instances[0] must be an object.", "instances[0]")
    parameters = request.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid_argument("parameters must be an object.", "parameters")
    return instance, parameters


def _prompt(instance: dict[str, Any], *, required: bool) -> str:
    prompt = instance.get("prompt")
    if prompt is None and not required:
        return ""
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_argument("instances[0].prompt must be a non-empty string.", "instances[0].prompt")
    return prompt


def _count(parameters: dict[str, Any], keys: tuple[str, ...], default: int, maximum: int) -> int:
    key = next((k for k in keys if parameters.get(k) is not None), keys[0])
    value = parameters.get(key, default)
    try:
        number = int(value)
        if isinstance(value, bool) or number != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise invalid_argument(f"parameters.{key} must be an integer, got {value!r}.", f"parameters.{key}") from None
    if not 1 <= number <= maximum:
        raise invalid_argument(f"parameters.{key} must be between 1 and {maximum}, got {number}.",
                               f"parameters.{key}")
    return number


def _choice(parameters: dict[str, Any], key: str, allowed: Collection[object], default: object) -> Any:
    """The request's `parameters[key]` (or `default`), a 400 unless it is one of `allowed`."""
    value = parameters.get(key, default)
    if value not in allowed:
        raise invalid_argument(f"parameters.{key} {value!r} is not supported by this model. Supported values "
                               f"are: {', '.join(map(str, allowed))}.", f"parameters.{key}")
    return value


def _digest(seed: int, model: dict[str, Any], request: dict[str, Any]) -> bytes:
    text = f"{seed}\x00{model['name']}\x00{canonical_json(request)}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).digest()


def predict_images(seed: int, model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """An Imagen PredictResponse: `sampleCount` PNGs of the requested aspect ratio and size."""
    facts = _facts(model, "imagen")
    if not facts:
        raise invalid_argument(f"{model['name']} does not support predict.", "model")
    instance, parameters = _single_instance(request)
    _prompt(instance, required=True)
    count = _count(parameters, ("sampleCount", "numberOfImages"), int(facts.get("defaultSamples", 4)),
                   int(facts.get("maxSamples", 4)))
    ratio = _choice(parameters, "aspectRatio", facts.get("aspectRatios") or list(IMAGEN_SIZES_1K), "1:1")
    size_key = "sampleImageSize" if parameters.get("sampleImageSize") is not None else "imageSize"
    size = _choice(parameters, size_key, facts.get("imageSizes") or ["1K"], "1K")
    _choice(parameters, "personGeneration", PERSON_GENERATION, "allow_adult")
    width, height = IMAGEN_SIZES_1K[ratio]
    scale = 2 if size == "2K" else 1
    digest = _digest(seed, model, request)
    return {"predictions": [
        {"mimeType": "image/png", "bytesBase64Encoded": images.image_part(width * scale, height * scale,
                                                                            digest + bytes([i]))
         ["inlineData"]["data"]}
        for i in range(count)]}


class VideoOperations:
    """Veo's long-running operations of every project. Registered as `store.video_operations`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self._operations: dict[str, dict[str, VideoOperation]] = {}

    def reset(self) -> None:
        with self.lock:
            self._operations.clear()

    def start(self, identity: Identity, model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        facts = _facts(model, "veo")
        if not facts:
            raise invalid_argument(f"{model['name']} does not support predictLongRunning.", "model")
        instance, parameters = _single_instance(request)
        _prompt(instance, required=instance.get("image") is None)
        ratio = _choice(parameters, "aspectRatio", facts.get("aspectRatios") or ["16:9"], "16:9")
        resolution = _choice(parameters, "resolution", facts.get("resolutions") or ["720p"], "720p")
        seconds = parameters.get("durationSeconds", facts.get("defaultDuration", 8))
        if isinstance(seconds, str) and seconds.isdigit():
            seconds = int(seconds)
        seconds = _choice(parameters | {"durationSeconds": seconds}, "durationSeconds", facts["durations"], 8)
        if resolution != "720p" and seconds != 8:
            raise invalid_argument(f"Resolution {resolution} is only supported with an 8 second duration, got "
                                   f"{seconds}.", "parameters.durationSeconds")
        if parameters.get("personGeneration") is not None:
            _choice(parameters, "personGeneration", PERSON_GENERATION, None)
        videos = _count(parameters, ("numberOfVideos", "sampleCount"), 1, int(facts.get("maxVideos", 1)))
        width, height = video.DIMENSIONS[(resolution, ratio)]
        op_id = self.store.new_id(identity.project, "video-operation")
        operation = VideoOperation(name=f"{model['name']}/operations/{op_id}", model=model["name"],
                                   digest=_digest(self.store.seed, model, request), seconds=int(seconds),
                                   width=width, height=height, videos=videos,
                                   done_time=self.store.now() + float(facts.get("generationSeconds", 11)))
        with self.lock:
            self._operations.setdefault(identity.project, {})[op_id] = operation
        return {"name": operation.name}

    def get(self, identity: Identity, model_id: str, op_id: str, base: str) -> dict[str, Any]:
        with self.lock:
            operation = self._operations.get(identity.project, {}).get(op_id)
        if operation is None or operation.model != f"models/{model_id}":
            raise missing_resource("Operation", f"models/{model_id}/operations/{op_id}")
        if not operation.done(self.store.now()):
            return {"name": operation.name}
        with self.lock:
            if not operation.files:   # made once, when a read first finds the operation done
                for i in range(operation.videos):
                    data = video.mp4(operation.seconds, operation.width, operation.height,
                                     operation.digest + bytes([i]))
                    made = self.store.files.create_generated(identity, f"{op_id}-{i}.mp4", "video/mp4", data=data,
                                                             base_url=base)
                    operation.files.append(made["name"].split("/", 1)[1])
        samples = [{"video": {"uri": f"{base}/v1beta/files/{file_id}:download?alt=media"}}
                   for file_id in operation.files]
        return {"name": operation.name, "done": True,
                "response": {"@type": RESPONSE_TYPE, "generateVideoResponse": {"generatedSamples": samples}}}

    def list(self, identity: Identity, model_id: str, size: int, token: str | None, base: str) -> dict[str, Any]:
        """`models/{m}/operations`: the project's operations of that model, oldest first, each as GET shows
        it (ListOperationsResponse)."""
        with self.lock:
            ids = [op_id for op_id, op in self._operations.get(identity.project, {}).items()
                   if op.model == f"models/{model_id}"]
        page, following = paginate(ids, size, token)
        body: dict[str, Any] = {"operations": [self.get(identity, model_id, op_id, base) for op_id in page]}
        if following:
            body["nextPageToken"] = following
        return body

    def records(self) -> builtins.list[tuple[str, VideoOperation]]:
        """(project, operation) of every operation (for the dashboard)."""
        with self.lock:
            return [(project, op) for project, ops in self._operations.items() for op in ops.values()]

    def made_file(self, identity: Identity, file_id: str, op_id: str) -> VideoOperation | None:
        """The operation `op_id` if it made the generated file `file_id` (generated_files.py)."""
        with self.lock:
            operation = self._operations.get(identity.project, {}).get(op_id)
        return operation if operation is not None and file_id in operation.files else None

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {"operations": {project: {op_id: fields_of(op, digest=op.digest.hex(), files=list(op.files))
                                             for op_id, op in ops.items()}
                                   for project, ops in self._operations.items()}}

    def import_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._operations = {
                project: {op_id: build(VideoOperation, item, digest=bytes.fromhex(item["digest"]),
                                       files=list(item.get("files") or []))
                          for op_id, item in ops.items()}
                for project, ops in (data.get("operations") or {}).items()}


def register(store: Store) -> None:
    store.register("video_operations", VideoOperations(store))


# -- HTTP skin --------------------------------------------------------------------------------------

async def predict(ctx: Context) -> Response:
    request = await ctx.json("PredictRequest")
    model = ctx.store.models.get(ctx.params["model"], "predict", ctx.version)
    return json_response(await ctx.work(predict_images, ctx.store.seed, model, request))


async def predict_long_running(ctx: Context) -> Response:
    request = await ctx.json("PredictLongRunningRequest")
    model = ctx.store.models.get(ctx.params["model"], "predictLongRunning", ctx.version)
    return json_response(ctx.store.video_operations.start(ctx.identity, model, request))


async def get_operation(ctx: Context) -> Response:
    body = await ctx.work(ctx.store.video_operations.get, ctx.identity, ctx.params["model"],
                          ctx.params["operation"], base_url(ctx))
    return json_response(body)


async def list_operations(ctx: Context) -> Response:
    model = ctx.store.models.get(ctx.params["model"], version=ctx.version)   # the catalog's 404 if unknown
    size = page_size(ctx.query("pageSize"), 10, 100)
    body = await ctx.work(ctx.store.video_operations.list, ctx.identity, model["name"].split("/", 1)[1],
                          size, ctx.query("pageToken"), base_url(ctx))
    return json_response(body)


async def download_by_uri(ctx: Context) -> Response:
    """google-genai's `files.download(file=video)` takes the file id out of an `https://` uri only; for an
    emulator on plain http it puts the whole uri where the id goes (`files/http://host/v1beta/files/ID
    :download?alt=media:download?alt=media`). The id is the segment after the uri's last `files/`."""
    file_id = ctx.params["uri"].rsplit("files/", 1)[-1]
    if "/" in file_id or not file_id:
        raise ApiError(404, "NOT_FOUND", f"The requested URL {ctx.request.url.path} was not found on this server.")
    record = ctx.store.files.downloadable(ctx.identity, file_id)
    if not (ctx.query("alt") or "").startswith("media"):
        return json_response({})
    return bytes_response(record)

ROUTES = [
    route("POST", "models/{model}:predict", predict),
    route("POST", "models/{model}:predictLongRunning", predict_long_running),
    route("GET", "models/{model}/operations", list_operations),
    route("GET", "models/{model}/operations/{operation}", get_operation),
    route("GET", "files/{uri:path}:download", download_by_uri),
]
