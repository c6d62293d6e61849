"""Built-in tools in generateContent: which ones a request turns on, the documented 400s, and the hook that
adds their results to each candidate (grounding.py builds search, maps and URL results; tools_code.py the
code execution parts).

The tools run offline and deterministically: what a search finds, what a URL fetch yields and what code
prints are pure functions of the request digest, unless a scripted rule says (`"tools"` in a rule, checked
by `check_script`):

    {"googleSearch": {"queries": ["..."], "sources": [{"uri", "title", "snippet"?}]},
     "urlContext": {"https://a.example/": {"status": "URL_RETRIEVAL_STATUS_ERROR", "content"?: "..."}},
     "codeExecution": {"code": "print(1)", "output": "1\\n", "outcome"?: "OUTCOME_OK"},
     "googleMaps": {"places": [{"title", "uri"?, "placeId"?, "snippet"?}]}}

Which models take which tool is catalog data: `emulator.builtInTools` (absent: googleSearch, urlContext and
codeExecution). `emulator.jsonWithTools` (Gemini 3) allows built-in tools with JSON output and with
function declarations; the latter also needs `toolConfig.includeServerSideToolInvocations`
(https://ai.google.dev/gemini-api/docs/tool-combination).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ApiError, invalid_argument
from . import file_search, grounding, tools_code
from .tokens import count_text

# Every built-in tool field of the v1beta Tool message, with the name its errors use.
BUILT_IN_TOOLS = {
    "googleSearch": "Search Grounding",
    "googleSearchRetrieval": "google_search_retrieval",
    "urlContext": "URL context",
    "codeExecution": "Code execution",
    "googleMaps": "Grounding with Google Maps",
    "fileSearch": "File Search",
    "computerUse": "Computer Use",
}
DEFAULT_BUILT_IN = ("googleSearch", "urlContext", "codeExecution")
SCRIPT_KINDS = ("googleSearch", "urlContext", "codeExecution", "googleMaps")


@dataclass
class ToolPlan:
    """The built-in tools a valid request turns on."""
    search: bool = False
    retrieval: dict[str, Any] | None = None   # googleSearchRetrieval (Gemini 1.5): its dynamicRetrievalConfig
    urls: bool = False
    code: bool = False
    maps: bool = False
    widget: bool = False
    circulate: bool = False              # return toolCall / toolResponse parts (grounding.py)
    names: list[str] = field(default_factory=list)
    file_search: list[tuple[dict[str, Any], str]] = field(default_factory=list)   # each fileSearch tool and its field

    def __bool__(self) -> bool:
        return bool(self.search or self.retrieval is not None or self.urls or self.code or self.maps
                    or self.file_search)


def _supported(model: dict[str, Any]) -> tuple[str, ...]:
    listed = (model.get("emulator") or {}).get("builtInTools")
    tools = tuple(listed) if listed is not None else DEFAULT_BUILT_IN
    # The legacy retrieval tool is the Gemini 1.5 one; 2.0 and later refuse it
    # (https://ai.google.dev/gemini-api/docs/google-search#google-search-retrieval).
    base = str(model.get("baseModelId") or model.get("name") or "").removeprefix("models/")
    if base.startswith("gemini-1.") and "googleSearch" in tools:
        tools += ("googleSearchRetrieval",)
    return tools


def _unsupported(name: str, where: str) -> ApiError:
    if name == "googleSearchRetrieval":
        return invalid_argument("google_search_retrieval is not supported. Please use google_search tool instead.",
                                where)
    if name == "googleSearch":
        return invalid_argument("Search Grounding is not supported.", where)
    return invalid_argument(f"{BUILT_IN_TOOLS[name]} ({where}) is not supported by this model.", where)


def plan_tools(model: dict[str, Any], tools: Any, tool_config: Any, *, functions: bool, json_output: bool,
               field: str = "tools") -> ToolPlan:
    """Check the built-in tools of a request against the model; raise the documented 400s."""
    plan = ToolPlan()
    supported = _supported(model)
    for i, tool in enumerate(tools if isinstance(tools, list) else ()):
        if not isinstance(tool, dict):
            continue
        for name in BUILT_IN_TOOLS:
            if tool.get(name) is None:
                continue
            where = f"{field}[{i}].{name}"
            if name not in supported:
                raise _unsupported(name, where)
            plan.names.append(name)
            value = tool[name] if isinstance(tool[name], dict) else {}
            if name == "googleSearch":
                plan.search = True
            elif name == "googleSearchRetrieval":
                plan.retrieval = grounding.check_dynamic_retrieval(value.get("dynamicRetrievalConfig"),
                                                                   f"{where}.dynamicRetrievalConfig")
            elif name == "urlContext":
                plan.urls = True
            elif name == "codeExecution":
                plan.code = True
            elif name == "googleMaps":
                plan.maps = True
                plan.widget = plan.widget or bool(value.get("enableWidget"))
            elif name == "fileSearch":
                plan.file_search.append((value, where))
    if not plan.names:
        return plan
    config = tool_config if isinstance(tool_config, dict) else {}
    combined = bool((model.get("emulator") or {}).get("jsonWithTools"))
    if functions:
        if not combined:
            raise invalid_argument("Tool use with function calling is unsupported by the model.", field)
        if not config.get("includeServerSideToolInvocations"):
            raise invalid_argument("Please enable tool_config.include_server_side_tool_invocations to use Built-in "
                                   "tools with Function calling.", "toolConfig.includeServerSideToolInvocations")
    # The flag asks for tool context circulation, with or without function declarations (tool-combination
    # page); models without tool combination do not circulate.
    plan.circulate = combined and bool(config.get("includeServerSideToolInvocations"))
    if json_output and not combined:
        raise invalid_argument("Tool use with a response mime type: 'application/json' is unsupported",
                               "generationConfig.responseMimeType")
    if plan.maps:
        grounding.check_lat_lng((config.get("retrievalConfig") or {}).get("latLng"),
                                "toolConfig.retrievalConfig.latLng")
    return plan


# ----------------------------------------------------------------------------------------------------
# Scripted results (a rule's "tools" field)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"{where} must be a JSON object.", where)
    return value


def _text(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise invalid_argument(f"{where} must be a{' non-empty' if required else ''} string.", where)
    return value


def _only(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise invalid_argument(f"Unknown field '{where}.{key}': expected one of {', '.join(allowed)}.",
                                   f"{where}.{key}")


def _sources(value: Any, where: str, fields: tuple[str, ...], required: tuple[str, ...]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid_argument(f"{where} must be a list of objects.", where)
    out = []
    for k, item in enumerate(value):
        item = _object(item, f"{where}[{k}]")
        _only(item, fields, f"{where}[{k}]")
        for key in fields:
            _text(item.get(key), f"{where}[{k}].{key}", required=key in required)
        out.append({key: item[key] for key in fields if item.get(key) is not None})
    return out


def check_script(value: Any, where: str = "tools") -> dict[str, Any]:
    """A rule's scripted tool results, checked and copied (see the module doc)."""
    script = _object(value, where)
    _only(script, SCRIPT_KINDS, where)
    out: dict[str, Any] = {}
    if script.get("googleSearch") is not None:
        search = _object(script["googleSearch"], f"{where}.googleSearch")
        _only(search, ("queries", "sources"), f"{where}.googleSearch")
        entry: dict[str, Any] = {}
        if search.get("queries") is not None:
            queries = search["queries"]
            if not isinstance(queries, list) or not all(isinstance(q, str) and q for q in queries):
                raise invalid_argument(f"{where}.googleSearch.queries must be a list of non-empty strings.",
                                       f"{where}.googleSearch.queries")
            entry["queries"] = list(queries)
        if search.get("sources") is not None:
            entry["sources"] = _sources(search["sources"], f"{where}.googleSearch.sources",
                                        ("uri", "title", "snippet"), ("uri",))
        out["googleSearch"] = entry
    if script.get("urlContext") is not None:
        urls = _object(script["urlContext"], f"{where}.urlContext")
        out["urlContext"] = {url: grounding.check_url_script(spec, f"{where}.urlContext[{url}]")
                             for url, spec in urls.items()}
    if script.get("codeExecution") is not None:
        out["codeExecution"] = tools_code.check_script(script["codeExecution"], f"{where}.codeExecution")
    if script.get("googleMaps") is not None:
        maps = _object(script["googleMaps"], f"{where}.googleMaps")
        _only(maps, ("places",), f"{where}.googleMaps")
        out["googleMaps"] = {"places": _sources(maps.get("places") or [], f"{where}.googleMaps.places",
                                                ("title", "uri", "placeId", "snippet"), ("title",))}
    return out


# ----------------------------------------------------------------------------------------------------
# Running the tools and adding their results


@dataclass
class ToolRun:
    """What the tools found for one request (the same for every candidate)."""
    plan: ToolPlan
    search: grounding.Search | None = None
    urls: list[dict[str, Any]] | None = None
    places: list[dict[str, Any]] | None = None
    code: dict[str, Any] | None = None
    maps_queries: list[str] = field(default_factory=list)
    tool_use_tokens: int = 0
    retrieved: list[file_search.Retrieved] | None = None   # what fileSearch found (None: no fileSearch tool)
    keep_text: bool = False                                 # a scripted answer: grounded, not rewritten


# (fileSearch tool, its field, query) -> the chunks found in the caller's stores
Retrieve = Callable[[dict[str, Any], str, str], list[file_search.Retrieved]]


def run_tools(plan: ToolPlan, digest: bytes, prompt: str, hints: list[str], script: dict[str, Any] | None,
              retrieve: Retrieve | None = None) -> ToolRun:
    """Run the request's built-in tools once: deterministic from the digest, or as a rule scripted them.
    `retrieve(tool, field, query)`: the File Search retrieval of the caller's stores (inference.py)."""
    script = script or {}
    rng = random.Random(int.from_bytes(digest[16:24], "little"))
    run = ToolRun(plan)
    if plan.file_search:
        if retrieve is None:
            raise invalid_argument("File Search is not available on this path.", plan.file_search[0][1])
        run.retrieved = []
        for tool, where in plan.file_search:
            run.retrieved.extend(retrieve(tool, where, prompt))
        run.retrieved.sort(key=lambda item: -item.score)
        run.tool_use_tokens += file_search.tool_tokens(run.retrieved)
    if plan.search or plan.retrieval is not None:
        run.search = grounding.search(plan.retrieval, rng, prompt, hints, script.get("googleSearch"))
        run.tool_use_tokens += run.search.tokens
    if plan.maps:
        run.places = grounding.places(rng, hints, script.get("googleMaps"))
        run.maps_queries = grounding.search_queries(prompt, hints)[:1]
        run.tool_use_tokens += sum(count_text(p.get("snippet") or p["title"]) for p in run.places)
    if plan.urls:
        run.urls, tokens = grounding.fetch_urls(prompt, script.get("urlContext"))
        run.tool_use_tokens += tokens
    if plan.code:
        run.code = tools_code.program(rng, prompt, hints, script.get("codeExecution"))
    return run


def apply(run: ToolRun, candidate: dict[str, Any], digest: bytes) -> int:
    """Add the tools' results to one candidate; returns the answer tokens its new parts hold.

    A candidate that calls a function gets no grounding and no code run (the model has not answered from
    the sources yet), but with circulation it still shows the server-side calls it made first."""
    parts = (candidate.get("content") or {}).get("parts") or []
    calls = any("functionCall" in part for part in parts)
    added = 0
    if run.code is not None and not calls:
        added = tools_code.insert_parts(parts, run.code)
    if run.plan.circulate:
        token = grounding.widget_token(digest) if run.plan.widget and run.places else None
        context = grounding.circulation_parts(run.search, run.places, run.urls, token, run.maps_queries, digest)
        at = next((i for i, part in enumerate(parts) if not part.get("thought")), len(parts))
        parts[at:at] = context
    if parts:
        candidate["content"] = {"parts": parts, "role": "model"}
    if calls:
        return added
    index = next((i for i, part in enumerate(parts) if isinstance(part.get("text"), str) and not part.get("thought")),
                 None)
    if run.search is not None or run.places:
        metadata = grounding.metadata(run.search, run.places, parts, index, run.plan.widget, digest)
        if metadata:
            candidate["groundingMetadata"] = metadata
    if run.urls:
        candidate["urlContextMetadata"] = {"urlMetadata": run.urls}
    if run.retrieved is not None:
        grounded, delta = file_search.ground(parts, run.retrieved, rewrite=not run.keep_text)
        added += delta
        if grounded and "groundingMetadata" not in candidate:
            candidate["groundingMetadata"] = grounded
    return added


def add_usage(usage: dict[str, Any], tool_use_tokens: int) -> None:
    """toolUsePromptTokenCount: what the tools brought into the prompt (search results, fetched pages)."""
    if tool_use_tokens <= 0:
        return
    usage["toolUsePromptTokenCount"] = tool_use_tokens
    usage["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tool_use_tokens}]
    usage["totalTokenCount"] = usage.get("totalTokenCount", 0) + tool_use_tokens
