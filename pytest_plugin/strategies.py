"""Hypothesis strategies for valid Gemini API request bodies, for property tests of your own code.

    from hypothesis import given
    from gemini_mockserver.pytest_plugin import strategies as gst

    @given(request=gst.generate_content_requests())
    def test_my_client_survives_anything(gemini_server, request): ...

Every value drawn is a dict[str, Any] in the wire form (camelCase) that the recorded schema of its message
accepts (`contract.assert_request_valid` holds for it). They are valid in form, not always in sense:
a drawn request may still be one the API refuses (a 4xx), as the real API would.

* `texts()`, `parts()`, `contents()`, `system_instructions()`
* `generation_configs()`, `safety_settings()`, `function_declarations()`, `tools()`, `tool_configs()`
* `generate_content_requests()` (a GenerateContentRequest body), `count_tokens_requests()`,
  `embed_content_requests()`
* `file_metadata()` (the `file` of an upload's metadata), `file_uploads()` ((metadata, bytes) pairs)
* `batch_requests()` (a BatchGenerateContentRequest body with inline requests), `batch_jsonl()` (the
  JSONL text of a file-input batch)
* `model_names()` (catalog models that offer generateContent)
"""
from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any, Literal, Sequence

from hypothesis import strategies as st

from gemini_mockserver.schema import enum_values

ROLES = ("user", "model")
TEXT_MIME_TYPES = ("text/plain", "text/csv", "text/markdown", "application/json")
GENERATE_MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-2.0-flash")
_NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,20}", fullmatch=True)
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


@lru_cache(maxsize=None)
def _enum(name: str, *, skip_unspecified: bool = True) -> st.SearchStrategy[str]:
    values = [v for v in enum_values("v1beta", name) if not (skip_unspecified and v.endswith("UNSPECIFIED"))]
    return st.sampled_from(values)


@lru_cache(maxsize=None)
def texts(min_size: int = 0, max_size: int = 200) -> st.SearchStrategy[str]:
    """Unicode text (any plane, no lone surrogates, which UTF-8 cannot carry)."""
    return st.text(st.characters(blacklist_categories=_SURROGATES), min_size=min_size, max_size=max_size)


@lru_cache(maxsize=None)
def model_names() -> st.SearchStrategy[str]:
    return st.sampled_from(GENERATE_MODELS)


@st.composite
def _inline_data(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.binary(max_size=64))
    mime = draw(st.sampled_from(TEXT_MIME_TYPES))
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


@lru_cache(maxsize=None)
def _json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | texts(max_size=20) \
        | st.floats(allow_nan=False, allow_infinity=False, width=32)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(_KEY, inner, max_size=3), max_leaves=max_leaves)


@lru_cache(maxsize=None)
def parts(media: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """A Part: text (most often), small inline data, or a function call / response."""
    text = st.builds(lambda t: {"text": t}, texts(max_size=200))
    options = [text, text, text]
    if media:
        options.append(_inline_data())
    options.append(st.builds(lambda n, a: {"functionCall": {"name": n, "args": a}},
                             _NAME, st.dictionaries(_KEY, _json_values(), max_size=3)))
    options.append(st.builds(lambda n, r: {"functionResponse": {"name": n, "response": r}},
                             _NAME, st.dictionaries(_KEY, _json_values(), max_size=3)))
    return st.one_of(*options)


@st.composite
def contents(draw: st.DrawFn, role: str | None = None, max_parts: int = 3, media: bool = True) -> dict[str, Any]:
    """A Content: a role and one to `max_parts` parts."""
    chosen = role or draw(st.sampled_from(ROLES))
    return {"role": chosen, "parts": draw(st.lists(parts(media=media), min_size=1, max_size=max_parts))}


@st.composite
def conversations(draw: st.DrawFn, max_turns: int = 4, media: bool = True) -> list[dict[str, Any]]:
    """Alternating turns that start and end with the user (a prompt the model can answer)."""
    turns = draw(st.integers(0, max(0, max_turns - 1) // 2))
    out = []
    for _ in range(turns):
        out.append(draw(contents(role="user", media=media)))
        out.append(draw(contents(role="model", media=False)))
    out.append(draw(contents(role="user", media=media)))
    return out


@lru_cache(maxsize=None)
def system_instructions() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda t: {"parts": [{"text": t}]}, texts(min_size=1, max_size=120))


@st.composite
def _schemas(draw: st.DrawFn, depth: int = 2) -> dict[str, Any]:
    kind = draw(st.sampled_from(["STRING", "INTEGER", "NUMBER", "BOOLEAN", "ARRAY", "OBJECT"] if depth
                                else ["STRING", "INTEGER", "NUMBER", "BOOLEAN"]))
    schema: dict[str, Any] = {"type": kind}
    if kind == "STRING" and draw(st.booleans()):
        schema["enum"] = draw(st.lists(texts(min_size=1, max_size=10), min_size=1, max_size=4, unique=True))
    elif kind == "ARRAY":
        schema["items"] = draw(_schemas(depth - 1))
    elif kind == "OBJECT":
        props = draw(st.dictionaries(_KEY, _schemas(depth - 1), min_size=1, max_size=4))
        schema["properties"] = props
        if draw(st.booleans()):
            schema["required"] = sorted(draw(st.sets(st.sampled_from(sorted(props)), max_size=len(props))))
    return schema


@lru_cache(maxsize=None)
def response_schemas() -> st.SearchStrategy[dict[str, Any]]:
    """A responseSchema (the OpenAPI subset the API takes)."""
    return _schemas()


@st.composite
def generation_configs(draw: st.DrawFn, structured: bool = True) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if draw(st.booleans()):
        config["temperature"] = draw(st.floats(0, 2, width=32))
    if draw(st.booleans()):
        config["topP"] = draw(st.floats(0, 1, width=32))
    if draw(st.booleans()):
        config["topK"] = draw(st.integers(1, 100))
    if draw(st.booleans()):
        config["maxOutputTokens"] = draw(st.integers(1, 2048))
    if draw(st.booleans()):
        config["candidateCount"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        config["stopSequences"] = draw(st.lists(texts(min_size=1, max_size=8), max_size=5))
    if draw(st.booleans()):
        config["seed"] = draw(st.integers(-2**31, 2**31 - 1))
    if structured and draw(st.booleans()):
        config["responseMimeType"] = "application/json"
        if draw(st.booleans()):
            config["responseSchema"] = draw(response_schemas())
    elif draw(st.booleans()):
        config["responseMimeType"] = "text/plain"
    if draw(st.booleans()):
        config["thinkingConfig"] = {"thinkingBudget": draw(st.integers(-1, 4096)),
                                    "includeThoughts": draw(st.booleans())}
    return config


@lru_cache(maxsize=None)
def safety_settings() -> st.SearchStrategy[list[dict[str, Any]]]:
    setting = st.builds(lambda c, t: {"category": c, "threshold": t},
                        st.sampled_from(["HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
                                         "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT"]),
                        _enum("HarmBlockThreshold"))
    return st.lists(setting, max_size=4, unique_by=lambda s: s["category"])


@st.composite
def function_declarations(draw: st.DrawFn) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": draw(_NAME), "description": draw(texts(max_size=60))}
    if draw(st.booleans()):
        declaration["parameters"] = {"type": "OBJECT",   # the API wants at least one property
                                     "properties": draw(st.dictionaries(_KEY, _schemas(1), min_size=1, max_size=4))}
    return declaration


@st.composite
def tools(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One or two tools of function declarations (names unique across them, as the API wants)."""
    declarations = draw(st.lists(function_declarations(), min_size=1, max_size=4, unique_by=lambda d: d["name"]))
    cut = draw(st.integers(1, len(declarations)))
    groups = [declarations[:cut], declarations[cut:]]
    return [{"functionDeclarations": group} for group in groups if group]


@lru_cache(maxsize=None)
def tool_configs() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda m: {"functionCallingConfig": {"mode": m}}, st.sampled_from(["AUTO", "ANY", "NONE"]))


@st.composite
def generate_content_requests(draw: st.DrawFn, *, max_turns: int = 4, media: bool = True, with_tools: bool = True,
                              with_config: bool = True, with_system: bool = True) -> dict[str, Any]:
    """A GenerateContentRequest body (without `model`, which is in the path)."""
    request: dict[str, Any] = {"contents": draw(conversations(max_turns=max_turns, media=media))}
    if with_system and draw(st.booleans()):
        request["systemInstruction"] = draw(system_instructions())
    use_tools = with_tools and draw(st.booleans())
    if with_config and draw(st.booleans()):   # JSON output and function calling do not go together
        request["generationConfig"] = draw(generation_configs(structured=not use_tools))
    if draw(st.booleans()):
        request["safetySettings"] = draw(safety_settings())
    if use_tools:
        request["tools"] = draw(tools())
        if draw(st.booleans()):
            request["toolConfig"] = draw(tool_configs())
    return request


@lru_cache(maxsize=None)
def count_tokens_requests() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda c: {"contents": c}, conversations(max_turns=3))


@st.composite
def embed_content_requests(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"content": {"parts": draw(st.lists(st.builds(lambda t: {"text": t}, texts(min_size=1)),
                                                        min_size=1, max_size=3))}}
    if draw(st.booleans()):
        request["taskType"] = draw(_enum("TaskType"))
    if draw(st.booleans()):
        request["outputDimensionality"] = draw(st.integers(1, 768))
    return request


@st.composite
def file_metadata(draw: st.DrawFn, mime_types: Sequence[str] = TEXT_MIME_TYPES) -> dict[str, Any]:
    """The `file` of an upload's metadata: displayName and mimeType, each maybe absent."""
    meta: dict[str, Any] = {}
    if draw(st.booleans()):
        meta["displayName"] = draw(texts(min_size=1, max_size=60))
    if draw(st.booleans()):
        meta["mimeType"] = draw(st.sampled_from(mime_types))
    return meta


def file_uploads(max_size: int = 4096) -> st.SearchStrategy[tuple[dict[str, Any], bytes]]:
    """(metadata with a text mimeType, the bytes) pairs for uploads."""
    return st.tuples(file_metadata().map(lambda m: {**m, "mimeType": m.get("mimeType", "text/plain")}),
                     texts(max_size=max_size).map(lambda t: t.encode("utf-8")))


@st.composite
def batch_requests(draw: st.DrawFn, max_requests: int = 5) -> dict[str, Any]:
    """A BatchGenerateContentRequest body with inline requests (keys in `metadata.key`)."""
    count = draw(st.integers(1, max_requests))
    items = [{"request": draw(generate_content_requests(max_turns=2, with_tools=False)),
              "metadata": {"key": f"request-{i + 1}"}} for i in range(count)]
    batch: dict[str, Any] = {"inputConfig": {"requests": {"requests": items}}}
    if draw(st.booleans()):
        batch["displayName"] = draw(texts(min_size=1, max_size=40))
    return {"batch": batch}


@st.composite
def batch_jsonl(draw: st.DrawFn, max_requests: int = 5) -> str:
    """The JSONL input of a file batch: one `{"key", "request"}` line per request."""
    count = draw(st.integers(1, max_requests))
    lines = [json.dumps({"key": f"request-{i + 1}",
                         "request": draw(generate_content_requests(max_turns=2, with_tools=False))})
             for i in range(count)]
    return "\n".join(lines) + "\n"
