"""The call in progress (`Call`, in the `CALL` context variable): what an API call is (its method family,
model, identity), described once from the router's Match and read by the rate limits, the usage ledger,
the rules and the journal. Which calls run a model, and against which family of quotas, their routes
declare (`route(..., runs=GENERATE)`); the rules are described in quotas.py.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .auth import Identity
from .errors import ApiError
from .routing import EMBED, GENERATE, model_name

if TYPE_CHECKING:
    from .http import Context
    from .store import Store
    from .usage import UsageEntry

__all__ = ["CALL", "EMBED", "GENERATE", "Call", "bare_model", "current_call", "describe_call", "longest_prefix"]


def bare_model(name: str | None) -> str:
    """`models/x` -> `x` (other names as they are)."""
    name = name or ""
    return name[len("models/"):] if name.startswith("models/") else name


def longest_prefix(table: dict[str, Any], name: str) -> str | None:
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
    latency_ms: float = 0.0           # added by scripted rules, slept before the answer goes out
    chunk_latency_ms: float = 0.0     # from a latency fault, slept before each SSE event
    cut_after: int | None = None      # from a streamCut fault: events sent before the error event
    cut_error: ApiError | None = None
    fault: str | None = None          # id of the fault that acted on the call
    rule: str | None = None           # id of the scripted rule that answered it
    pace: dict[str, Any] | None = None          # that rule's stream pace (pacing.py)
    counted: bool = False             # counted against the quota and in the ledger
    limited: bool = False             # recorded in a rate-limit window
    admitted_at: float | None = None  # when it entered its window (to take it out if refused later)
    pending: list[UsageEntry] = field(default_factory=list)   # usage entries, charged if the call succeeds
    service_tier: str | None = None   # the tier that served a call naming one (service_tiers.py)
    service_tier_asked: str | None = None
    priority_admitted_at: float | None = None   # when a priority call entered its priority window

    @property
    def project(self) -> str | None:
        return self.identity.project if self.identity is not None else None

    @property
    def accountable(self) -> bool:
        return self.family is not None and self.identity is not None and self.limit_model is not None


CALL: ContextVar[Call | None] = ContextVar("gemini_mock_call", default=None)


def current_call() -> Call | None:
    return CALL.get()


async def _body_fields(ctx: Context) -> dict[str, Any]:
    """The JSON body of a call that names its model in the body (read once: the handler gets the same
    parse), or {} when it is unreadable, too large or not JSON (the handler answers for that)."""
    try:
        data = await ctx.data()
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def _limit_model(store: Store, call: Call) -> str | None:
    """The base model id whose limits and prices apply, or None when the model is unknown (the handler
    will answer 404) or a tuned model the caller may not use."""
    name = call.model or ""
    if name.startswith("tunedModels/"):
        if call.identity is None:
            return None
        try:
            name = store.tuned_models.usable(call.identity, name).base_model
        except ApiError:
            return None
    found = store.models.find(name)
    if found is None:
        return None
    return str(found.get("baseModelId") or bare_model(found["name"]))


async def describe_call(ctx: Context) -> Call:
    """The Call for a request the router matched (`ctx.match`), the caller identified when its key is good."""
    request, match = ctx.request, ctx.match
    route = match.route
    call = Call(request.method, request.scope["path"], match.resource, method=route.api_method, family=route.runs)
    try:
        call.identity = ctx.identity
    except ApiError:
        pass   # routes that authorise themselves answer for a missing or bad key
    if route.model_in_body:
        body = await _body_fields(ctx)
        name = body.get("model")
        if isinstance(name, str) and name.strip():
            call.model = model_name(name, tuned=name.startswith("tunedModels/"))
        call.stream = body.get("stream") is True and call.method != "embeddings"
    else:
        call.model = match.model
        call.stream = call.method == "streamGenerateContent" and ctx.query("alt") == "sse"
    if call.family is not None and call.identity is not None and call.model:
        call.limit_model = _limit_model(ctx.store, call)
    return call
