"""The call in progress (`Call`, in the `CALL` context variable): what an API call is (its method family,
model, identity), described at the HTTP edge and read by the rate limits, the usage ledger and the rules.
Which methods count is `INFERENCE_METHODS` / `OPENAI_METHODS`; the rules are described in quotas.py.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from .auth import Identity
from .errors import ApiError
from .http import parse_json
from .routing import split_path

GENERATE, EMBED = "generate", "embed"
# API methods that run a model, and the family of quotas each counts against.
INFERENCE_METHODS = {
    "generateContent": GENERATE, "streamGenerateContent": GENERATE,
    "generateText": GENERATE, "generateMessage": GENERATE, "generateAnswer": GENERATE,
    "embedContent": EMBED, "batchEmbedContents": EMBED, "embedText": EMBED, "batchEmbedText": EMBED,
}
# The OpenAI-compatible layer's model-running paths: (method name, family).
OPENAI_METHODS = {"openai/chat/completions": ("chat.completions", GENERATE),
                  "openai/embeddings": ("embeddings", EMBED)}


def bare_model(name: str | None) -> str:
    """`models/x` -> `x` (other names as they are)."""
    name = name or ""
    return name[len("models/"):] if name.startswith("models/") else name


def longest_prefix(table: dict, name: str) -> str | None:
    """The key of `table` that is `name` or its longest prefix ending at a `-` (gemini-2.0-flash-001 ->
    gemini-2.0-flash), or None."""
    best = None
    for key in table:
        if (name == key or name.startswith(key + "-")) and (best is None or len(key) > len(best)):
            best = key
    return best


# -- the call in progress -----------------------------------------------------------------------------


@dataclass(eq=False)
class Call:
    """One API call as the dispatcher sees it: who makes it, which method and model, and what rules,
    faults and generation added on the way. The dispatcher makes one per request and puts it in `CALL`."""
    http_method: str
    path: str
    resource: str = ""                # the path after the version: models/x:generateContent
    identity: Identity | None = None
    method: str | None = None         # API method: generateContent, countTokens, chat.completions, ...
    family: str | None = None         # GENERATE or EMBED when the call runs a model, else None
    model: str | None = None          # models/x or tunedModels/x, as called
    limit_model: str | None = None    # the model whose limits apply (a tuned model's base model)
    stream: bool = False              # an SSE stream
    openai: bool = False              # under the OpenAI-compatible layer (its own error shape)
    latency_ms: float = 0.0           # added by scripted rules, slept before the answer goes out
    chunk_latency_ms: float = 0.0     # from a latency fault, slept before each SSE event
    cut_after: int | None = None      # from a streamCut fault: events sent before the error event
    cut_error: ApiError | None = None
    fault: str | None = None          # id of the fault that acted on the call
    rule: str | None = None           # id of the scripted rule that answered it
    pace: dict | None = None          # that rule's stream pace (pacing.py)
    counted: bool = False             # counted against the quota and in the ledger
    limited: bool = False             # recorded in a rate-limit window
    admitted_at: float | None = None  # when it entered its window (to take it out if refused later)
    pending: list = field(default_factory=list)   # usage entries, charged if the call succeeds

    @property
    def project(self) -> str | None:
        return self.identity.project if self.identity is not None else None

    @property
    def accountable(self) -> bool:
        return self.family is not None and self.identity is not None and self.limit_model is not None


CALL: ContextVar[Call | None] = ContextVar("gemini_mock_call", default=None)


def current_call() -> Call | None:
    return CALL.get()


def _model_name(name: str, tuned: bool) -> str:
    name = name.strip()
    if name.startswith(("models/", "tunedModels/")):
        return name
    return f"tunedModels/{name}" if tuned else f"models/{name}"


async def _peek_json(ctx) -> dict:
    """The JSON body of an OpenAI-compatible call (kept for the handler to read again), or {}."""
    request = ctx.request
    limit = ctx.store.config["limits"]["requestBytes"]
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return {}   # the handler refuses it
    try:
        body = await request.body()
        data = parse_json(body) if len(body) <= limit else {}
    except Exception:   # unreadable or not JSON: the handler answers for it
        return {}
    return data if isinstance(data, dict) else {}


def _limit_model(store, call: Call) -> str | None:
    """The base model id whose limits and prices apply, or None when the model is unknown (the handler
    will answer 404) or a tuned model the caller may not use."""
    name = call.model or ""
    if name.startswith("tunedModels/"):
        tuned = store.backends.get("tuned_models")
        if tuned is None or call.identity is None:
            return None
        try:
            name = tuned.usable(call.identity, name).base_model
        except (ApiError, AttributeError):
            return None
    found = store.models.find(name) if "models" in store.backends else None
    if found is None:
        return None
    return found.get("baseModelId") or bare_model(found["name"])


async def describe_call(ctx) -> Call:
    """The Call for a request the router matched (the caller is identified when its key is good)."""
    request = ctx.request
    path = request.scope["path"]
    _, _, resource = split_path(path)
    call = Call(request.method, path, resource)
    try:
        call.identity = ctx.identity
    except ApiError:
        pass   # routes that authorise themselves answer for a missing or bad key
    name = ctx.params.get("model") or ctx.params.get("tuned")
    tuned = resource.startswith("tunedModels/")
    call.openai = resource.startswith("openai/")
    if request.method == "POST" and resource in OPENAI_METHODS:
        call.method, call.family = OPENAI_METHODS[resource]
        body = await _peek_json(ctx)
        name = body.get("model") if isinstance(body.get("model"), str) else None
        call.stream = call.method == "chat.completions" and body.get("stream") is True
        tuned = bool(name and name.startswith("tunedModels/"))
    elif request.method == "POST" and resource == "interactions":   # a model interaction (agents: no model)
        body = await _peek_json(ctx)
        name = body.get("model") if isinstance(body.get("model"), str) else None
        call.method, call.family = "interactions.create", GENERATE
        call.stream = body.get("stream") is True
    else:
        last = resource.rsplit("/", 1)[-1]
        if ":" in last:
            call.method = last.rsplit(":", 1)[1]
            if request.method == "POST":
                call.family = INFERENCE_METHODS.get(call.method)
            call.stream = call.method == "streamGenerateContent" and ctx.query("alt") == "sse"
    if isinstance(name, str) and name.strip():
        call.model = _model_name(name, tuned)
    if call.family is not None and call.identity is not None and call.model:
        call.limit_model = _limit_model(ctx.store, call)
    return call
