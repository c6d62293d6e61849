"""The deterministic generation engine: text, candidates, limits, JSON mode, function calls, thinking,
usage accounting, streaming, caches, overrides, tokenizer and embeddings."""
from __future__ import annotations

import base64
import copy
import json
import math
import random
import re
import timeit

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation import schema_checks, structured
from gemini_mockserver.generation.engine import (MediaInfo, batch_embed_contents, count_tokens, embed_content,
                                          generate_content, stream_chunks)
from gemini_mockserver.generation.text import compose
from gemini_mockserver.generation.tokens import count_text, split_text, truncate_text

FLASH = {"name": "models/gemini-2.5-flash", "baseModelId": "gemini-2.5-flash", "version": "2.5",
         "inputTokenLimit": 1_048_576, "outputTokenLimit": 65_536, "temperature": 1.0, "maxTemperature": 2.0,
         "topP": 0.95, "topK": 64, "thinking": True,
         "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
         "emulator": {"thinkingBudgetRange": [0, 24576], "cacheMinTokens": 1024, "supportsCaching": True}}
PRO = dict(FLASH, name="models/gemini-2.5-pro", baseModelId="gemini-2.5-pro",
           emulator={"thinkingAlwaysOn": True, "thinkingBudgetRange": [128, 32768]})
PLAIN = {"name": "models/gemini-2.0-flash", "inputTokenLimit": 1_048_576, "outputTokenLimit": 8192,
         "maxTemperature": 2.0, "thinking": False, "emulator": {}}
EMBED = {"name": "models/gemini-embedding-001", "inputTokenLimit": 2048, "outputTokenLimit": 1,
         "supportedGenerationMethods": ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
         "thinking": False, "emulator": {"embeddingDimensions": 3072}}


def ask(text: str, **extra) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def gen(request: dict, model: dict = PLAIN, seed: int = 7, **kwargs) -> dict:
    return generate_content(model, request, seed=seed, resolve_file=kwargs.pop("resolve_file", None), **kwargs)


def texts(response: dict, index: int = 0) -> str:
    parts = response["candidates"][index]["content"].get("parts", [])
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


def error_of(call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def fields(error: ApiError) -> list[str]:
    return [v["field"] for d in error.details for v in d.get("fieldViolations", [])]


def assert_400(call, field: str, text: str | None = None) -> ApiError:
    error = error_of(call)
    assert error.code == 400, error
    assert fields(error) == [field], (error.message, fields(error))
    if text:
        assert text in error.message
    return error


# ----------------------------------------------------------------------------------------------------
# Tokenizer


def test_tokenizer_examples():
    assert count_text("") == 0
    assert count_text("hello") == 1
    assert count_text("Hello, world!") == 4
    assert count_text("tokenization") == 3   # tokeni + zati + on
    assert count_text("12345") == 5          # one per digit
    assert count_text("a  b") == 3           # a run of spaces is a token
    assert count_text("日本語") == 3
    english = ("The Gemini API lets developers build applications that understand text, images, audio and video. "
               "It returns answers quickly and counts tokens for billing purposes.")
    assert 3.5 <= len(english) / count_text(english) <= 5.5


@given(st.text(max_size=300))
def test_split_text_round_trips_and_counts(text):
    pieces = split_text(text)
    assert "".join(pieces) == text
    if text.strip():
        assert len(pieces) == count_text(text)
    for n in (0, 1, 5):
        prefix = truncate_text(text, n)
        assert text.startswith(prefix)
        assert count_text(prefix) <= n
        assert "".join(split_text(text, n)) == "".join(pieces[:n])   # a limited split is the same prefix


def test_composed_text_knows_its_token_count():
    for seed in range(300):
        text, tokens = compose(random.Random(seed), 60, ["Paris", "weather"])
        assert tokens == count_text(text)
        assert "Paris" in text.split(".")[0]


# ----------------------------------------------------------------------------------------------------
# Determinism and basic shape


def test_same_request_same_answer_and_no_global_random_state():
    request = ask("Tell me about the lighthouse keepers of Brittany")
    state = random.getstate()
    first = gen(request)
    assert random.getstate() == state
    random.seed(12345)
    assert gen(copy.deepcopy(request)) == first


def test_answers_depend_on_prompt_seed_model_and_system_instruction():
    base = gen(ask("Explain photosynthesis"))
    assert texts(base) != texts(gen(ask("Explain volcanoes")))
    assert texts(base) != texts(gen(ask("Explain photosynthesis"), seed=8))
    assert texts(base) != texts(gen(ask("Explain photosynthesis"), model=dict(PLAIN, name="models/other")))
    with_system = ask("Explain photosynthesis", systemInstruction={"parts": [{"text": "Answer like a pirate"}]})
    assert texts(base) != texts(gen(with_system))


def test_response_shape():
    response = gen(ask("Describe the harbour at dawn"))
    assert set(response) == {"candidates", "usageMetadata", "modelVersion", "responseId"}
    assert response["modelVersion"] == "gemini-2.0-flash"
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,24}", response["responseId"])
    candidate = response["candidates"][0]
    assert candidate["content"]["role"] == "model"
    assert candidate["finishReason"] == "STOP"
    assert candidate["index"] == 0
    assert [r["category"] for r in candidate["safetyRatings"]] == [
        "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_DANGEROUS_CONTENT"]
    assert all(r["probability"] == "NEGLIGIBLE" for r in candidate["safetyRatings"])
    assert 20 <= response["usageMetadata"]["candidatesTokenCount"] <= 160
    json.dumps(response)  # plain JSON


def test_answer_echoes_the_prompt():
    text = texts(gen(ask("What do you know about Kilimanjaro glaciers?")))
    assert "Kilimanjaro" in text and "glaciers" in text


def test_safety_settings_categories_are_echoed_and_checked():
    request = ask("hi", safetySettings=[{"category": "HARM_CATEGORY_CIVIC_INTEGRITY", "threshold": "BLOCK_NONE"}])
    ratings = gen(request)["candidates"][0]["safetyRatings"]
    assert ratings[-1]["category"] == "HARM_CATEGORY_CIVIC_INTEGRITY"
    bad = ask("hi", safetySettings=[{"category": "HARM_CATEGORY_DEROGATORY", "threshold": "BLOCK_NONE"}])
    assert_400(lambda: gen(bad), "safetySettings[0].category")


# ----------------------------------------------------------------------------------------------------
# Request validation


def test_contents_validation():
    assert_400(lambda: gen({"contents": []}), "contents", "contents is not specified")
    assert_400(lambda: gen({}), "contents", "contents is not specified")
    system = {"contents": [{"role": "system", "parts": [{"text": "x"}]}]}
    assert_400(lambda: gen(system), "contents[0].role")
    turns = {"contents": [{"role": "user", "parts": [{"text": "a"}]}, {"role": "bot", "parts": [{"text": "b"}]}]}
    assert_400(lambda: gen(turns), "contents[1].role")
    assert_400(lambda: gen({"contents": [{"role": "user", "parts": []}]}), "contents[0].parts")
    assert_400(lambda: gen({"contents": [{"role": "user", "parts": [{}]}]}), "contents[0].parts[0]")
    # A missing role is fine (REST examples omit it).
    assert gen({"contents": [{"parts": [{"text": "hello there"}]}]})["candidates"]


def test_inline_data_validation():
    bad_base64 = {"contents": [{"parts": [{"text": "see"}, {"inlineData": {"mimeType": "image/png", "data": "@@@"}}]}]}
    assert_400(lambda: gen(bad_base64), "contents[0].parts[1].inlineData.data", "Base64 decoding failed")
    unsupported = {"contents": [{"parts": [{"inlineData": {"mimeType": "application/octet-stream",
                                                           "data": base64.b64encode(b"xyz").decode()}}]}]}
    assert_400(lambda: gen(unsupported), "contents[0].parts[0].inlineData.mimeType", "Unsupported MIME type")
    no_mime = {"contents": [{"parts": [{"inlineData": {"data": "eHl6"}}]}]}
    assert_400(lambda: gen(no_mime), "contents[0].parts[0].inlineData.mimeType")


def test_media_token_rates():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50).decode()
    url_safe = base64.urlsafe_b64encode(b"\xfb\xff" * 10).decode().rstrip("=")
    pdf = base64.b64encode(b"%PDF-1.4\n1 0 obj << /Type /Page >>\n2 0 obj << /Type /Page >>\n"
                           b"3 0 obj << /Type /Pages /Count 2 >>").decode()
    note = base64.b64encode("hello there friend".encode()).decode()
    request = {"contents": [{"parts": [
        {"inlineData": {"mimeType": "image/png", "data": png}},
        {"inlineData": {"mimeType": "image/jpeg", "data": url_safe}},
        {"inlineData": {"mimeType": "application/pdf", "data": pdf}},
        {"inlineData": {"mimeType": "text/plain", "data": note}},
        {"fileData": {"mimeType": "video/mp4", "fileUri": "files/clip"}},
    ]}]}
    resolve = lambda uri: MediaInfo("video/mp4", "VIDEO", 263 * 10)  # noqa: E731
    counted = count_tokens(PLAIN, request, resolve_file=resolve)
    details = {d["modality"]: d["tokenCount"] for d in counted["promptTokensDetails"]}
    assert details == {"IMAGE": 516, "DOCUMENT": 516, "TEXT": 3, "VIDEO": 2630}
    assert counted["totalTokens"] == sum(details.values())
    usage = gen(request, resolve_file=resolve)["usageMetadata"]
    assert usage["promptTokenCount"] == counted["totalTokens"]
    assert usage["promptTokensDetails"] == counted["promptTokensDetails"]


def test_describe_media_from_paths_matches_bytes(tmp_path):
    import struct
    from gemini_mockserver.generation.media import describe_media
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n\n  Indented line 42.\n" * 30000)
    (tmp_path / "a.txt").write_text(text)
    assert describe_media(tmp_path / "a.txt", "text/plain").tokens == count_text(text) == \
        describe_media(text.encode(), "text/plain").tokens
    pdf = b"%PDF-1.7\n" + b"".join(b"%d 0 obj << /Type /Page /Parent 1 0 R >> endobj\n" % i for i in range(7))
    (tmp_path / "a.pdf").write_bytes(pdf)
    assert describe_media(tmp_path / "a.pdf", "application/pdf").tokens == 7 * 258
    mvhd = struct.pack(">I4sB3xIIII", 108, b"mvhd", 0, 0, 0, 1000, 12_500) + b"\x00" * 80
    mp4 = struct.pack(">I4s", 16, b"ftyp") + b"isom\x00\x00\x00\x01" + struct.pack(">I4s", 12, b"mdat") + b"abcd" + \
        struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    (tmp_path / "a.mp4").write_bytes(mp4)
    assert describe_media(tmp_path / "a.mp4", "video/mp4").tokens == math.ceil(12.5 * 263)
    assert describe_media(mp4, "video/mp4").tokens == math.ceil(12.5 * 263)
    assert describe_media(b"not a video", "video/webm").tokens == 258


def test_file_resolution_errors_propagate():
    def missing(uri):
        raise ApiError(403, "PERMISSION_DENIED", f"You do not have permission to access the File {uri}")
    request = {"contents": [{"parts": [{"fileData": {"fileUri": "files/nope", "mimeType": "text/plain"}}]}]}
    assert error_of(lambda: gen(request, resolve_file=missing)).code == 403


def test_generation_config_ranges():
    cases = [
        ({"candidateCount": 0}, "generationConfig.candidateCount"),
        ({"candidateCount": 9}, "generationConfig.candidateCount"),
        ({"maxOutputTokens": 0}, "generationConfig.maxOutputTokens"),
        ({"maxOutputTokens": 8193}, "generationConfig.maxOutputTokens"),
        ({"temperature": 2.5}, "generationConfig.temperature"),
        ({"temperature": -0.1}, "generationConfig.temperature"),
        ({"topP": 1.5}, "generationConfig.topP"),
        ({"topK": 0}, "generationConfig.topK"),
        ({"stopSequences": ["a", "b", "c", "d", "e", "f"]}, "generationConfig.stopSequences"),
        ({"responseMimeType": "text/html"}, "generationConfig.responseMimeType"),
        ({"responseSchema": {"type": "STRING"}}, "generationConfig.responseSchema"),
        ({"responseMimeType": "application/json", "responseSchema": {"type": "STRING"},
          "responseJsonSchema": {"type": "string"}}, "generationConfig.responseJsonSchema"),
        ({"responseMimeType": "application/json", "responseSchema": {"type": "ARRAY"}},
         "generationConfig.responseSchema.items"),
        ({"responseMimeType": "application/json", "responseSchema": {"type": "WHATEVER"}},
         "generationConfig.responseSchema.type"),
        ({"responseMimeType": "application/json",
          "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["b"]}},
         "generationConfig.responseSchema.required[0]"),
        ({"responseMimeType": "application/json", "responseJsonSchema": {"type": "nonsense"}},
         "generationConfig.responseJsonSchema"),
        ({"responseMimeType": "application/json", "responseJsonSchema": {"$ref": "#/$defs/Missing"}},
         "generationConfig.responseJsonSchema"),
        ({"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING"}}, "generationConfig.responseSchema"),
        ({"responseModalities": ["IMAGE"]}, "generationConfig.responseModalities"),
    ]
    for config, field in cases:
        assert_400(lambda: gen(ask("hi", generationConfig=config)), field)
    # In range is fine, including the model's max temperature.
    gen(ask("hi", generationConfig={"temperature": 2.0, "topP": 0, "topK": 1, "maxOutputTokens": 8192,
                                    "candidateCount": 8, "seed": 3}))


# ----------------------------------------------------------------------------------------------------
# Candidates, max tokens, stop sequences


def test_candidate_count():
    response = gen(ask("Write a haiku about rain", generationConfig={"candidateCount": 4}))
    candidates = response["candidates"]
    assert [c["index"] for c in candidates] == [0, 1, 2, 3]
    assert len({texts(response, i) for i in range(4)}) == 4
    assert response["usageMetadata"]["candidatesTokenCount"] == sum(count_text(texts(response, i)) for i in range(4))


@pytest.mark.parametrize("limit", [1, 5, 17])
def test_max_output_tokens_truncates(limit):
    response = gen(ask("Tell me a long story about dragons", generationConfig={"maxOutputTokens": limit}))
    text = texts(response)
    assert count_text(text) == limit
    assert response["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert response["usageMetadata"]["candidatesTokenCount"] == limit
    unlimited = texts(gen(ask("Tell me a long story about dragons")))
    assert unlimited.startswith(text)


def test_large_max_output_tokens_is_a_natural_stop():
    response = gen(ask("Tell me a story", generationConfig={"maxOutputTokens": 2000}))
    assert response["candidates"][0]["finishReason"] == "STOP"


def test_stop_sequences_cut_before_the_first_occurrence():
    full = texts(gen(ask("Describe a market")))
    response = gen(ask("Describe a market", generationConfig={"stopSequences": [".", "zzz"]}))
    text = texts(response)
    assert text and text == full[:full.index(".")]
    assert response["candidates"][0]["finishReason"] == "STOP"
    assert response["usageMetadata"]["candidatesTokenCount"] == count_text(text)
    word = full.split()[5]
    cut = texts(gen(ask("Describe a market", generationConfig={"stopSequences": [word]})))
    assert cut == full[:full.index(word)]


def test_candidates_and_thought_display_do_not_change_the_answer():
    one = gen(ask("Name a river"), model=FLASH)
    three = gen(ask("Name a river", generationConfig={"candidateCount": 3}), model=FLASH)
    assert three["candidates"][0] == one["candidates"][0]
    shown = gen(ask("Name a river", generationConfig={"thinkingConfig": {"includeThoughts": True}}), model=FLASH)
    assert texts(shown) == texts(one)
    assert shown["usageMetadata"] == one["usageMetadata"]


# ----------------------------------------------------------------------------------------------------
# JSON mode


RECIPE = {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {
    "recipeName": {"type": "STRING"}, "ingredients": {"type": "ARRAY", "items": {"type": "STRING"}},
    "rating": {"type": "INTEGER", "minimum": 1, "maximum": 5}, "vegan": {"type": "BOOLEAN", "nullable": True}},
    "required": ["recipeName", "ingredients"], "propertyOrdering": ["recipeName", "ingredients", "rating"]}}


def openapi_to_jsonschema(schema: dict) -> dict:
    """The checker for the OpenAPI subset: the same constraints written as JSON Schema."""
    out: dict = {}
    kind = str(schema.get("type", "")).lower()
    if kind and kind != "type_unspecified":
        out["type"] = [kind, "null"] if schema.get("nullable") else kind
    if "enum" in schema:
        out["enum"] = list(schema["enum"]) + ([None] if schema.get("nullable") else [])
    if "properties" in schema:
        out["properties"] = {k: openapi_to_jsonschema(v) for k, v in schema["properties"].items()}
        out["additionalProperties"] = False
    for key in ("required", "minimum", "maximum", "pattern"):
        if key in schema:
            out[key] = schema[key]
    for key in ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"):
        if key in schema:
            out[key] = int(schema[key])
    if "items" in schema:
        out["items"] = openapi_to_jsonschema(schema["items"])
    if "anyOf" in schema:
        out["anyOf"] = [openapi_to_jsonschema(s) for s in schema["anyOf"]]
        if schema.get("nullable"):
            out["anyOf"].append({"type": "null"})
    if schema.get("format") in ("date-time", "date", "email", "uuid"):
        out["format"] = schema["format"]
    return out


def validate(value, schema: dict) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(value)


def test_json_mode_with_response_schema():
    config = {"responseMimeType": "application/json", "responseSchema": RECIPE}
    response = gen(ask("List a few cookie recipes", generationConfig=config))
    value = json.loads(texts(response))
    validate(value, openapi_to_jsonschema(RECIPE))
    for item in value:  # propertyOrdering, then the rest alphabetically
        keys = list(item)
        expected = [k for k in ["recipeName", "ingredients", "rating", "vegan"] if k in item]
        assert keys == expected
    assert response["usageMetadata"]["candidatesTokenCount"] == count_text(texts(response))


def test_json_mode_with_json_schema_refs_and_formats():
    schema = {
        "$defs": {"Person": {"type": "object", "properties": {
            "name": {"type": "string", "minLength": 2}, "email": {"type": "string", "format": "email"},
            "born": {"type": "string", "format": "date"}, "tags": {"type": "array", "items": {"type": "string"},
                                                                   "minItems": 2, "maxItems": 4, "uniqueItems": True},
            "manager": {"anyOf": [{"$ref": "#/$defs/Person"}, {"type": "null"}]}},
            "required": ["name", "email", "born", "tags"], "additionalProperties": False}},
        "type": "object",
        "properties": {"people": {"type": "array", "items": {"$ref": "#/$defs/Person"}, "minItems": 1},
                       "updated": {"type": "string", "format": "date-time"},
                       "kind": {"const": "directory"}, "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2}$"},
                       "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}},
        "required": ["people", "updated", "kind", "code", "score"]}
    for seed in range(30):
        response = gen(ask("Make a directory", generationConfig={"responseMimeType": "application/json",
                                                                  "responseJsonSchema": schema}), seed=seed)
        value = json.loads(texts(response))
        validate(value, schema)
        assert list(value)[:2] == ["people", "updated"]  # JSON Schema keeps the schema's key order


def test_other_response_mime_types():
    xml = texts(gen(ask("Describe a forest", generationConfig={"responseMimeType": "application/xml"})))
    assert xml.startswith("<response>") and xml.endswith("</response>")
    yaml = texts(gen(ask("Describe a forest", generationConfig={"responseMimeType": "application/yaml"})))
    assert yaml.startswith("text: ")
    assert json.loads(yaml[len("text: "):])


def test_enum_mode_and_schemaless_json():
    enum = {"type": "STRING", "enum": ["Percussion", "String", "Woodwind", "Brass", "Keyboard"]}
    response = gen(ask("What kind of instrument is an oboe?",
                       generationConfig={"responseMimeType": "text/x.enum", "responseSchema": enum}))
    assert texts(response) in enum["enum"]
    free = json.loads(texts(gen(ask("Give me JSON", generationConfig={"responseMimeType": "application/json"}))))
    assert isinstance(free, dict) and free


def test_json_mode_truncated_by_max_tokens():
    config = {"responseMimeType": "application/json", "responseSchema": RECIPE, "maxOutputTokens": 3}
    response = gen(ask("List recipes", generationConfig=config))
    assert response["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert count_text(texts(response)) == 3


# Hypothesis strategies for both dialects -------------------------------------------------------------

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@st.composite
def _bounds(draw, integer: bool):
    low = draw(st.one_of(st.none(), st.integers(-1000, 1000)))
    high = draw(st.one_of(st.none(), st.integers(-1000, 1000)))
    if low is not None and high is not None and low > high:
        low, high = high, low
    if not integer and low is not None and high is not None and low == high:
        high = low + 1
    out = {}
    if low is not None:
        out["minimum"] = low if integer else low / 4
    if high is not None:
        out["maximum"] = high if integer else high / 4
    return out


@st.composite
def _lengths(draw, low_key: str, high_key: str, cap: int = 6):
    low = draw(st.one_of(st.none(), st.integers(0, cap)))
    high = draw(st.one_of(st.none(), st.integers(0, cap)))
    if low is not None and high is not None and low > high:
        low, high = high, low
    out = {}
    if low is not None:
        out[low_key] = low
    if high is not None:
        out[high_key] = high
    return out


PATTERNS = ["^[A-Z]{3}-\\d{4}$", "^[a-z]+@example\\.com$", "^(red|green|blue)$", "^\\+?[1-9]\\d{1,10}$", "[0-9a-f]{8}"]


def openapi_leaf():
    # a format and length bounds together could be unsatisfiable: a string schema has one or the other
    string = st.builds(lambda lengths, fmt, nullable: {"type": "STRING", **(fmt or lengths), **nullable},
                       _lengths("minLength", "maxLength", 20),
                       st.sampled_from([{}, {"format": "date-time"}]),
                       st.sampled_from([{}, {"nullable": True}]))
    enum = st.lists(_names, min_size=1, max_size=5, unique=True).map(
        lambda values: {"type": "STRING", "format": "enum", "enum": values})
    pattern = st.sampled_from(PATTERNS).map(lambda p: {"type": "STRING", "pattern": p})
    integer = _bounds(True).map(lambda b: {"type": "INTEGER", "format": "int64", **b})
    number = _bounds(False).map(lambda b: {"type": "NUMBER", **b})
    boolean = st.sampled_from([{"type": "BOOLEAN"}, {"type": "boolean", "nullable": True}])
    return st.one_of(string, enum, pattern, integer, number, boolean)


def openapi_tree(children):
    obj = st.dictionaries(_names, children, min_size=1, max_size=4).flatmap(lambda props: st.builds(
        lambda required, ordered: {"type": "OBJECT", "properties": props, "required": required,
                                   **({"propertyOrdering": ordered} if ordered else {})},
        st.lists(st.sampled_from(sorted(props)), unique=True),
        st.one_of(st.just([]), st.permutations(sorted(props)))))
    array = st.builds(lambda items, lengths: {"type": "ARRAY", "items": items,
                                              **{k: str(v) for k, v in lengths.items()}},
                      children, _lengths("minItems", "maxItems", 4))
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda options: {"anyOf": options})
    return st.one_of(obj, array, any_of)


OPENAPI_SCHEMAS = st.recursive(openapi_leaf(), openapi_tree, max_leaves=12)


def json_leaf():
    string = st.builds(lambda lengths, fmt: {"type": "string", **(fmt or lengths)},
                       _lengths("minLength", "maxLength", 20),
                       st.sampled_from([{}, {"format": "date-time"}, {"format": "date"}, {"format": "email"},
                                        {"format": "uuid"}, {"format": "ipv4"}, {"format": "uri"}]))
    enum = st.lists(st.one_of(_names, st.integers(-5, 5)), min_size=1, max_size=5, unique=True).map(
        lambda values: {"enum": values})
    const = st.one_of(_names, st.integers(), st.booleans()).map(lambda value: {"const": value})
    pattern = st.sampled_from(PATTERNS).map(lambda p: {"type": "string", "pattern": p})
    integer = st.builds(lambda b, m: {"type": "integer", **b, **(
        m if b.get("maximum", 1000) - b.get("minimum", -1000) >= 10 else {})}, _bounds(True),
        st.sampled_from([{}, {"multipleOf": 5}]))
    number = st.builds(lambda b, exclusive, step: {"type": "number", **(
        {("exclusiveMinimum" if k == "minimum" else "exclusiveMaximum"): v for k, v in b.items()} if exclusive else b),
        **({"multipleOf": step} if step and b.get("maximum", 250) - b.get("minimum", -250) >= 1 else {})},
        _bounds(False), st.booleans(), st.sampled_from([None, 0.1, 0.25, 0.01, 3]))
    nullable = st.sampled_from([{"type": ["string", "null"]}, {"type": ["integer", "null"]}, {"type": "null"},
                                {"type": "boolean"}, {}])
    return st.one_of(string, enum, const, pattern, integer, number, nullable)


def json_tree(children):
    obj = st.dictionaries(_names, children, min_size=0, max_size=4).flatmap(lambda props: st.builds(
        lambda required, closed: {"type": "object", "properties": props, "required": required,
                                  **({"additionalProperties": False} if closed else {})},
        st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]), st.booleans()))
    array = st.builds(lambda items, lengths: {"type": "array", "items": items, **lengths},
                      children, _lengths("minItems", "maxItems", 4))
    tuple_array = st.lists(children, min_size=1, max_size=3).map(
        lambda prefix: {"type": "array", "prefixItems": prefix, "items": False})
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda options: {"anyOf": options})
    one_of = st.just({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]})
    all_of = st.tuples(_names, children).map(lambda t: {"allOf": [
        {"type": "object", "properties": {t[0]: t[1]}}, {"required": [t[0]]}]})
    dictionary = children.map(lambda values: {"type": "object", "additionalProperties": values, "minProperties": 1})
    return st.one_of(obj, array, tuple_array, any_of, one_of, all_of, dictionary)


JSON_SCHEMAS = st.recursive(json_leaf(), json_tree, max_leaves=12).map(
    lambda schema: {"$defs": {"Item": schema}, "type": "object",
                    "properties": {"item": {"$ref": "#/$defs/Item"}, "also": schema}, "required": ["item"]})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=OPENAPI_SCHEMAS, seed=st.integers(0, 2**32))
def test_values_are_valid_against_openapi_schemas(schema, seed):
    schema_checks.check_openapi_schema(schema, "generationConfig.responseSchema")
    value = structured.value_for_schema(schema, random.Random(seed), dialect="openapi", hints=["Lisbon"])
    validate(value, openapi_to_jsonschema(schema))
    again = structured.value_for_schema(schema, random.Random(seed), dialect="openapi", hints=["Lisbon"])
    assert again == value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=JSON_SCHEMAS, seed=st.integers(0, 2**32))
def test_values_are_valid_against_json_schemas(schema, seed):
    schema_checks.check_json_schema(schema, "generationConfig.responseJsonSchema")
    value = structured.value_for_schema(schema, random.Random(seed), dialect="jsonschema", hints=["Lisbon"])
    validate(value, schema)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=OPENAPI_SCHEMAS.filter(lambda s: s.get("type") == "OBJECT"), seed=st.integers(0, 1000))
def test_json_mode_end_to_end_with_generated_schemas(schema, seed):
    config = {"responseMimeType": "application/json", "responseSchema": schema}
    value = json.loads(texts(gen(ask("Fill this in", generationConfig=config), seed=seed)))
    validate(value, openapi_to_jsonschema(schema))


def test_recursive_json_schema_terminates():
    schema = {"$defs": {"Node": {"type": "object", "properties": {
        "value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "required": ["value", "children"]}}, "$ref": "#/$defs/Node"}
    for seed in range(20):
        validate(structured.value_for_schema(schema, random.Random(seed), dialect="jsonschema"), schema)


# ----------------------------------------------------------------------------------------------------
# Function calling


WEATHER = {"name": "get_current_weather", "description": "Get the current weather in a given location",
           "parameters": {"type": "OBJECT", "properties": {
               "location": {"type": "STRING", "description": "The city and state, e.g. San Francisco, CA"},
               "unit": {"type": "STRING", "format": "enum", "enum": ["celsius", "fahrenheit"]}},
               "required": ["location"]}}
LIGHTS = {"name": "set_light_values", "description": "Sets the brightness and color temperature of a light.",
          "parametersJsonSchema": {"type": "object", "properties": {
              "brightness": {"type": "integer", "minimum": 0, "maximum": 100},
              "color_temp": {"type": "string", "enum": ["daylight", "cool", "warm"]}},
              "required": ["brightness", "color_temp"]}}
NOTHING = {"name": "ping", "description": "Checks the connection."}
TOOLS = [{"functionDeclarations": [WEATHER, LIGHTS, NOTHING]}]


def call_of(response: dict, index: int = 0) -> dict | None:
    for part in response["candidates"][index]["content"].get("parts", []):
        if "functionCall" in part:
            return part["functionCall"]
    return None


def check_args(call: dict) -> None:
    declaration = {d["name"]: d for d in TOOLS[0]["functionDeclarations"]}[call["name"]]
    if "parameters" in declaration:
        validate(call["args"], openapi_to_jsonschema(declaration["parameters"]))
    elif "parametersJsonSchema" in declaration:
        validate(call["args"], declaration["parametersJsonSchema"])
    else:
        assert call["args"] == {}


def test_auto_calls_the_function_the_prompt_mentions():
    response = gen(ask("What's the weather like in Boston today?", tools=TOOLS))
    call = call_of(response)
    assert call["name"] == "get_current_weather"
    check_args(call)
    assert call["args"]["location"] in ("Boston", "weather", "today")  # taken from the prompt
    assert response["candidates"][0]["finishReason"] == "STOP"
    assert response["usageMetadata"]["candidatesTokenCount"] == count_text(
        json.dumps(call, sort_keys=True, separators=(",", ":")))
    lights = call_of(gen(ask("Dim the light brightness to something warm", tools=TOOLS)))
    assert lights["name"] == "set_light_values"
    check_args(lights)


def test_auto_answers_in_text_when_nothing_matches_or_after_a_function_response():
    assert call_of(gen(ask("Tell me a joke about penguins", tools=TOOLS))) is None
    conversation = {"contents": [
        {"role": "user", "parts": [{"text": "What's the weather in Boston?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_current_weather", "args": {"location": "Boston"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_current_weather",
                                                         "response": {"forecast": "Drizzle", "temperature": 11}}}]}],
        "tools": TOOLS}
    response = gen(conversation)
    assert call_of(response) is None
    assert "Drizzle" in texts(response)


def test_mode_any_always_calls_and_honours_allowed_names():
    for seed in range(20):
        request = ask("Tell me a joke", tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "ANY"}})
        call = call_of(gen(request, seed=seed))
        assert call is not None
        check_args(call)
        only = ask("What's the weather?", tools=TOOLS, toolConfig={"functionCallingConfig": {
            "mode": "ANY", "allowedFunctionNames": ["set_light_values"]}})
        call = call_of(gen(only, seed=seed))
        assert call["name"] == "set_light_values"
        check_args(call)


def test_mode_none_answers_in_text():
    request = ask("What's the weather like in Boston?", tools=TOOLS,
                  toolConfig={"functionCallingConfig": {"mode": "NONE"}})
    assert call_of(gen(request)) is None and texts(gen(request))


def test_function_declaration_errors():
    undeclared = ask("hi", tools=TOOLS, toolConfig={"functionCallingConfig": {
        "mode": "ANY", "allowedFunctionNames": ["launch_rockets"]}})
    assert_400(lambda: gen(undeclared), "toolConfig.functionCallingConfig.allowedFunctionNames")
    auto_with_names = ask("hi", tools=TOOLS, toolConfig={"functionCallingConfig": {
        "mode": "AUTO", "allowedFunctionNames": ["ping"]}})
    assert_400(lambda: gen(auto_with_names), "toolConfig.functionCallingConfig.allowedFunctionNames")
    duplicate = ask("hi", tools=[{"functionDeclarations": [NOTHING, NOTHING]}])
    assert_400(lambda: gen(duplicate), "tools[0].functionDeclarations[1].name")
    bad_name = ask("hi", tools=[{"functionDeclarations": [{"name": "9 lives"}]}])
    assert_400(lambda: gen(bad_name), "tools[0].functionDeclarations[0].name")
    json_and_tools = ask("hi", tools=TOOLS, generationConfig={"responseMimeType": "application/json"})
    assert_400(lambda: gen(json_and_tools), "generationConfig.responseMimeType")


def test_function_calls_with_thinking_carry_a_signature():
    request = ask("What's the weather in Oslo?", tools=TOOLS,
                  generationConfig={"thinkingConfig": {"includeThoughts": True}})
    parts = gen(request, model=FLASH)["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True
    assert "functionCall" in parts[1] and base64.b64decode(parts[1]["thoughtSignature"])


# ----------------------------------------------------------------------------------------------------
# Thinking


def test_thinking_parts_and_accounting():
    request = ask("Plan a three-day trip to Kyoto", generationConfig={"thinkingConfig": {"includeThoughts": True}})
    response = gen(request, model=FLASH)
    parts = response["candidates"][0]["content"]["parts"]
    assert parts[0].get("thought") is True and parts[0]["text"]
    assert "thought" not in parts[1] and base64.b64decode(parts[1]["thoughtSignature"])
    usage = response["usageMetadata"]
    assert usage["thoughtsTokenCount"] > 0
    assert usage["candidatesTokenCount"] == count_text(texts(response))
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"] + \
        usage["thoughtsTokenCount"]


def test_thinking_without_included_thoughts_still_reports_them():
    response = gen(ask("Plan a trip"), model=FLASH)
    parts = response["candidates"][0]["content"]["parts"]
    assert not any(p.get("thought") for p in parts)
    assert response["usageMetadata"]["thoughtsTokenCount"] > 0


def test_thinking_budget():
    off = gen(ask("Plan a trip", generationConfig={"thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True}}),
              model=FLASH)
    assert "thoughtsTokenCount" not in off["usageMetadata"]
    assert not any(p.get("thought") or p.get("thoughtSignature") for p in off["candidates"][0]["content"]["parts"])
    for seed in range(10):
        capped = gen(ask("Plan a trip", generationConfig={"thinkingConfig": {"thinkingBudget": 30}}), model=FLASH,
                     seed=seed)
        assert 0 < capped["usageMetadata"]["thoughtsTokenCount"] <= 30
    dynamic = gen(ask("Plan a trip", generationConfig={"thinkingConfig": {"thinkingBudget": -1}}), model=FLASH)
    assert dynamic["usageMetadata"]["thoughtsTokenCount"] > 0
    gemini3 = dict(FLASH, emulator={"thinkingLevels": ["low", "high"], "thoughtSignatures": True})
    levels = gen(ask("Plan a trip", generationConfig={"thinkingConfig": {"thinkingLevel": "LOW"}}), model=gemini3)
    assert 40 <= levels["usageMetadata"]["thoughtsTokenCount"] <= 200


def test_thinking_errors():
    field = "generationConfig.thinkingConfig.thinkingBudget"
    assert_400(lambda: gen(ask("x", generationConfig={"thinkingConfig": {"thinkingBudget": 0}}), model=PRO), field,
               "Budget 0 is invalid. This model only works in thinking mode.")
    assert_400(lambda: gen(ask("x", generationConfig={"thinkingConfig": {"thinkingBudget": 64}}), model=PRO), field)
    assert_400(lambda: gen(ask("x", generationConfig={"thinkingConfig": {"thinkingBudget": 40000}}), model=FLASH),
               field)
    assert_400(lambda: gen(ask("x", generationConfig={"thinkingConfig": {"thinkingBudget": 10}}), model=PLAIN),
               "generationConfig.thinkingConfig", "Thinking is not supported by this model.")
    both = {"thinkingConfig": {"thinkingBudget": 100, "thinkingLevel": "HIGH"}}
    assert_400(lambda: gen(ask("x", generationConfig=both), model=FLASH), "generationConfig.thinkingConfig")
    gen(ask("x", generationConfig={"thinkingConfig": {"thinkingBudget": 128}}), model=PRO)


def test_thoughts_are_paid_from_max_output_tokens():
    response = gen(ask("Plan a trip", generationConfig={"maxOutputTokens": 10}), model=FLASH)
    usage = response["usageMetadata"]
    assert usage["thoughtsTokenCount"] == 10
    assert response["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert "parts" not in response["candidates"][0]["content"]
    assert usage.get("candidatesTokenCount", 0) == 0


# ----------------------------------------------------------------------------------------------------
# Usage, count_tokens, caches, overrides


def test_prompt_count_equals_count_tokens():
    contents = [{"role": "user", "parts": [{"text": "Hello there, how are you?"}]},
                {"role": "model", "parts": [{"text": "Fine, thanks. And you?"}]},
                {"role": "user", "parts": [{"text": "Great! Tell me about tokenization."}]}]
    plain = gen({"contents": contents})["usageMetadata"]
    assert plain["promptTokenCount"] == count_tokens(PLAIN, {"contents": contents}, resolve_file=None)["totalTokens"]
    full = {"contents": contents, "systemInstruction": {"parts": [{"text": "You are terse."}]}, "tools": TOOLS}
    usage = gen(full)["usageMetadata"]
    counted = count_tokens(PLAIN, {"generateContentRequest": full}, resolve_file=None)
    assert usage["promptTokenCount"] == counted["totalTokens"] > plain["promptTokenCount"]
    assert usage["promptTokensDetails"] == counted["promptTokensDetails"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_count_tokens_request_forms():
    assert count_tokens(PLAIN, {"contents": [{"parts": [{"text": "hello world"}]}]}, resolve_file=None) == {
        "totalTokens": 2, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 2}]}
    assert_400(lambda: count_tokens(PLAIN, {}, resolve_file=None), "contents")
    both = {"contents": [{"parts": [{"text": "a"}]}], "generateContentRequest": {"contents": [{"parts": [{"text": "a"}]}]}}
    assert_400(lambda: count_tokens(PLAIN, both, resolve_file=None), "generateContentRequest")


CACHE = {"contents": [{"role": "user", "parts": [{"text": "A long document about lighthouses. " * 40}]}],
         "systemInstruction": {"parts": [{"text": "You answer questions about the document."}]},
         "tools": None, "toolConfig": None}


def test_explicit_cache_is_a_prompt_prefix():
    request = ask("Who keeps the lighthouse?")
    with_cache = gen(request, cached=CACHE)
    without = gen(request)
    usage = with_cache["usageMetadata"]
    cached_tokens = count_tokens(PLAIN, {"contents": CACHE["contents"]}, resolve_file=None)["totalTokens"] + \
        count_text("You answer questions about the document.")
    assert usage["cachedContentTokenCount"] == cached_tokens
    assert usage["promptTokenCount"] == without["usageMetadata"]["promptTokenCount"] + cached_tokens
    assert usage["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": cached_tokens}]
    assert texts(with_cache) != texts(without)
    counted = count_tokens(PLAIN, {"contents": request["contents"]}, resolve_file=None, cached=CACHE)
    assert counted["totalTokens"] == usage["promptTokenCount"]
    assert counted["cachedContentTokenCount"] == cached_tokens
    conflicting = ask("x", systemInstruction={"parts": [{"text": "no"}]})
    assert_400(lambda: gen(conflicting, cached=CACHE), "cachedContent")


def test_implicit_cache_tokens_only_change_usage():
    request = ask("Summarise the report " * 50)
    plain = gen(request)
    implicit = gen(request, implicit_cached_tokens=64)
    assert implicit["usageMetadata"]["cachedContentTokenCount"] == 64
    assert implicit["usageMetadata"]["promptTokenCount"] == plain["usageMetadata"]["promptTokenCount"]
    assert implicit["candidates"] == plain["candidates"]


@pytest.mark.parametrize("override, expected", [
    ({"text": "Scripted answer."}, {"text": "Scripted answer."}),
    ({"functionCall": {"name": "ping", "args": {"n": 1}}}, {"functionCall": {"name": "ping", "args": {"n": 1}}}),
    ({"json": {"ok": True, "items": [1, 2]}}, {"text": '{"ok": true, "items": [1, 2]}'}),
])
def test_overrides_are_returned_verbatim(override, expected):
    response = gen(ask("anything", generationConfig={"candidateCount": 2}), model=FLASH, override=override)
    for candidate in response["candidates"]:
        assert candidate["content"]["parts"] == [expected]
        assert candidate["finishReason"] == "STOP"
    usage = response["usageMetadata"]
    one = count_text(expected["text"]) if "text" in expected else count_text(
        json.dumps(expected["functionCall"], sort_keys=True, separators=(",", ":")))
    assert usage["candidatesTokenCount"] == 2 * one
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


# ----------------------------------------------------------------------------------------------------
# Streaming


def test_stream_chunks_rebuild_the_answer():
    response = gen(ask("Describe a mountain village"), model=FLASH)
    chunks = stream_chunks(response)
    assert len(chunks) >= 3
    text = "".join(p.get("text", "") for c in chunks for cand in c["candidates"]
                   for p in cand["content"].get("parts", []))
    assert text == texts(response)
    assert all("finishReason" not in cand for c in chunks[:-1] for cand in c["candidates"])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "safetyRatings" in chunks[-1]["candidates"][0]
    assert chunks[-1]["usageMetadata"] == response["usageMetadata"]
    counts = [c["usageMetadata"].get("candidatesTokenCount", 0) for c in chunks]
    assert counts == sorted(counts) and counts[-1] == response["usageMetadata"]["candidatesTokenCount"]
    assert {c["usageMetadata"]["promptTokenCount"] for c in chunks} == {response["usageMetadata"]["promptTokenCount"]}
    assert {c["responseId"] for c in chunks} == {response["responseId"]}
    assert {c["modelVersion"] for c in chunks} == {"gemini-2.5-flash"}


def test_stream_thoughts_first_and_function_calls_whole():
    response = gen(ask("Weather in Rome?", tools=TOOLS, generationConfig={"thinkingConfig": {"includeThoughts": True}}),
                   model=FLASH)
    chunks = stream_chunks(response)
    assert chunks[0]["candidates"][0]["content"]["parts"][0]["thought"] is True
    calls = [p for c in chunks for cand in c["candidates"] for p in cand["content"].get("parts", [])
             if "functionCall" in p]
    assert len(calls) == 1 and calls[0]["functionCall"] == call_of(response)


def test_stream_of_an_override_and_of_an_empty_answer():
    scripted = gen(ask("x"), override={"functionCall": {"name": "ping", "args": {}}})
    chunks = stream_chunks(scripted)
    assert len(chunks) == 1 and chunks[0]["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"name": "ping", "args": {}}}]
    assert chunks[0]["usageMetadata"] == scripted["usageMetadata"]
    empty = gen(ask("Plan a trip", generationConfig={"maxOutputTokens": 5}), model=FLASH)
    last = stream_chunks(empty)[-1]
    assert last["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert last["usageMetadata"] == empty["usageMetadata"]


def test_stream_with_several_candidates():
    response = gen(ask("Name a colour", generationConfig={"candidateCount": 3}))
    chunks = stream_chunks(response)
    for index in range(3):
        joined = "".join(p.get("text", "") for c in chunks for cand in c["candidates"] if cand["index"] == index
                         for p in cand["content"].get("parts", []))
        assert joined == texts(response, index)
    assert sorted(c["index"] for c in chunks[-1]["candidates"]) == [0, 1, 2]


# ----------------------------------------------------------------------------------------------------
# Embeddings


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def embed(text: str, **extra) -> list[float]:
    return embed_content(EMBED, {"content": {"parts": [{"text": text}]}, **extra})["embedding"]["values"]


def test_embedding_dimensions_and_unit_length():
    values = embed("What is the meaning of life?")
    assert len(values) == 3072
    assert sum(v * v for v in values) == pytest.approx(1.0, abs=1e-9)
    assert embed("What is the meaning of life?") == values
    short = embed("What is the meaning of life?", outputDimensionality=768)
    assert short == values[:768]  # a prefix of the full vector, as with Matryoshka embeddings
    for bad in (0, -5, 3073, "many"):
        assert_400(lambda: embed("x", outputDimensionality=bad), "outputDimensionality")


def test_task_type_and_title():
    base = embed("The river floods every spring")
    query = embed("The river floods every spring", taskType="RETRIEVAL_QUERY")
    assert base != query and cosine(base, query) > 0.9
    assert_400(lambda: embed("x", taskType="NOT_A_TASK"), "taskType")
    assert_400(lambda: embed("x", taskType="RETRIEVAL_QUERY", title="T"), "title")
    titled = embed("The river floods every spring", taskType="RETRIEVAL_DOCUMENT", title="Rivers")
    assert titled != embed("The river floods every spring", taskType="RETRIEVAL_DOCUMENT")
    assert embed("The river floods every spring", title="Rivers") == titled  # a title implies a document


_word = st.sampled_from("apple river mountain engine violin planet garden lantern copper meadow falcon harbor "
                        "quartz saddle timber voyage willow zenith".split())


@settings(max_examples=40, deadline=None)
@given(shared=st.lists(_word, min_size=2, max_size=4, unique=True),
       a_only=st.lists(_word, min_size=1, max_size=3, unique=True),
       c_only=st.lists(_word, min_size=2, max_size=5, unique=True))
def test_texts_sharing_words_are_closer(shared, a_only, c_only):
    a = shared + [w for w in a_only if w not in shared]
    b = list(reversed(shared))
    c = [w for w in c_only if w not in a and w not in b] or ["unrelatedword"]
    va, vb, vc = embed(" ".join(a)), embed(" ".join(b)), embed(" ".join(c))
    assert cosine(va, vb) > cosine(va, vc)
    assert cosine(va, vb) > cosine(vb, vc)


def test_batch_embed_contents():
    requests = [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}} for t in ("a", "b")]
    out = batch_embed_contents(EMBED, {"requests": requests})
    assert [len(e["values"]) for e in out["embeddings"]] == [3072, 3072]
    assert out["embeddings"][0]["values"] == embed("a")
    mismatch = [requests[0], dict(requests[1], model="models/text-embedding-004")]
    assert_400(lambda: batch_embed_contents(EMBED, {"requests": mismatch}), "requests[1].model")
    assert_400(lambda: batch_embed_contents(EMBED, {"requests": [requests[0]] * 101}), "requests",
               "at most 100 requests")
    assert_400(lambda: batch_embed_contents(EMBED, {"requests": [dict(requests[0], outputDimensionality=0)]}),
               "requests[0].outputDimensionality")
    assert error_of(lambda: embed_content(PLAIN, {"content": {"parts": [{"text": "x"}]}})).code == 404


# ----------------------------------------------------------------------------------------------------
# Speed


def test_generate_content_is_fast():
    request = ask("What is the capital of France?")
    runs = 300
    seconds = min(timeit.repeat(lambda: gen(request), number=runs, repeat=3)) / runs
    assert seconds < 0.002  # typically ~60 microseconds; generous for slow machines
