"""The recorded schemas and the proto3-JSON request normaliser (mockserver/schema.py)."""
from __future__ import annotations

import copy
import datetime
import enum
import inspect
import io
import json
import re
import types as pytypes
import typing
import warnings

import pytest

from gemini_mockserver import schema
from gemini_mockserver.errors import ApiError
from gemini_mockserver.schema import normalize, validate_response

from support.paths import ROOT



def _error(version, message, payload, path=""):
    with pytest.raises(ApiError) as info:
        normalize(version, message, payload, path)
    err = info.value
    assert err.code == 400 and err.status == "INVALID_ARGUMENT"
    return err


def _violation_field(err):
    (detail,) = err.details
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    (violation,) = detail["fieldViolations"]
    assert violation["description"] == err.message
    return violation.get("field")


GC = "GenerateContentRequest"


# ---------------------------------------------------------------------------------------------------
# casing

def test_snake_case_keys_become_json_names_at_every_depth():
    body = {
        "contents": [{"role": "user", "parts": [
            {"text": "hi"},
            {"inline_data": {"mime_type": "image/png", "data": "aGVsbG8="}},
            {"file_data": {"file_uri": "files/abc", "mime_type": "audio/mp3"}},
        ]}],
        "system_instruction": {"parts": [{"text": "be nice"}]},
        "generation_config": {"max_output_tokens": 10, "thinking_config": {"thinking_budget": 0,
                                                                           "include_thoughts": True},
                              "speech_config": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}},
        "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "tool_config": {"function_calling_config": {"mode": "AUTO", "allowed_function_names": ["f"]}},
        "cached_content": "cachedContents/abc",
    }
    out = normalize("v1beta", GC, body)
    assert out == {
        "contents": [{"role": "user", "parts": [
            {"text": "hi"},
            {"inlineData": {"mimeType": "image/png", "data": "aGVsbG8="}},
            {"fileData": {"fileUri": "files/abc", "mimeType": "audio/mp3"}},
        ]}],
        "systemInstruction": {"parts": [{"text": "be nice"}]},
        "generationConfig": {"maxOutputTokens": 10, "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True},
                             "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["f"]}},
        "cachedContent": "cachedContents/abc",
    }


def test_result_is_a_new_dict_and_the_input_is_untouched():
    body = {"contents": [{"parts": [{"text": "hi"}]}], "generation_config": {"temperature": 1}}
    before = copy.deepcopy(body)
    out = normalize("v1beta", GC, body)
    assert body == before
    assert out is not body and out["contents"] is not body["contents"]
    assert out["generationConfig"] == {"temperature": 1.0}
    assert type(out["generationConfig"]["temperature"]) is float


def test_proto_names_renamed_by_proto_plus_are_accepted_under_their_real_names():
    # proto-plus calls Schema.type `type_` in Python; the wire name is `type`.
    out = normalize("v1beta", "Schema", {"type": "OBJECT", "format": "enum", "any_of": [{"type": "STRING"}]})
    assert out == {"type": "OBJECT", "format": "enum", "anyOf": [{"type": "STRING"}]}
    err = _error("v1beta", "Schema", {"type_": "OBJECT"})
    assert 'Unknown name "type_"' in err.message


def test_a_field_given_twice_in_both_spellings_is_rejected():
    err = _error("v1beta", GC, {"generationConfig": {"topK": 3, "top_k": 4}})
    assert "top_k" in err.message and "topK" in err.message and "twice" in err.message
    assert _violation_field(err) == "generation_config.top_k"


# ---------------------------------------------------------------------------------------------------
# unknown fields

def test_unknown_field_nested_uses_the_real_wording_and_snake_case_path():
    err = _error("v1beta", GC, {"generationConfig": {"foo": 1}})
    assert err.message == ('Invalid JSON payload received. Unknown name "foo" at \'generation_config\': '
                           'Cannot find field.')
    assert _violation_field(err) == "generation_config"


def test_unknown_field_at_top_level_has_no_location():
    err = _error("v1beta", GC, {"foo": 1})
    assert err.message == 'Invalid JSON payload received. Unknown name "foo": Cannot find field.'
    assert _violation_field(err) is None


def test_unknown_field_inside_lists_names_the_index():
    err = _error("v1beta", GC, {"contents": [{"parts": [{"text": "a"}]}, {"parts": [{"text": "b", "bogus": 1}]}]})
    assert err.message == ('Invalid JSON payload received. Unknown name "bogus" at \'contents[1].parts[0]\': '
                           'Cannot find field.')
    assert _violation_field(err) == "contents[1].parts[0]"


def test_path_argument_prefixes_locations():
    err = _error("v1beta", "GenerateContentBatch", {"input_config": {"nope": 1}}, path="batch")
    assert "at 'batch.input_config'" in err.message


# ---------------------------------------------------------------------------------------------------
# types

@pytest.mark.parametrize("config, message", [
    ({"temperature": "abc"}, "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"abc\""),
    ({"temperature": True}, "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), true"),
    ({"candidateCount": 1.5}, "Invalid value at 'generation_config.candidate_count' (TYPE_INT32), 1.5"),
    ({"candidateCount": "x1"}, "Invalid value at 'generation_config.candidate_count' (TYPE_INT32), \"x1\""),
    ({"responseMimeType": 5}, "Invalid value at 'generation_config.response_mime_type' (TYPE_STRING), 5"),
    ({"responseLogprobs": "true"}, "Invalid value at 'generation_config.response_logprobs' (TYPE_BOOL), \"true\""),
    ({"responseLogprobs": 1}, "Invalid value at 'generation_config.response_logprobs' (TYPE_BOOL), 1"),
    ({"stopSequences": ["a", 3]}, "Invalid value at 'generation_config.stop_sequences[1]' (TYPE_STRING), 3"),
])
def test_wrong_json_type_names_the_field(config, message):
    err = _error("v1beta", GC, {"generationConfig": config})
    assert err.message == message
    assert _violation_field(err) == re.search(r"'([^']+)'", message).group(1)


def test_message_field_given_a_scalar():
    err = _error("v1beta", GC, {"generationConfig": "hot"})
    assert err.message == ("Invalid value at 'generation_config' "
                           "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig), \"hot\"")


def test_list_for_a_singular_field_and_object_for_a_scalar_field():
    err = _error("v1beta", GC, {"generationConfig": {"temperature": [1]}})
    assert err.message == ('Invalid JSON payload received. Unknown name "temperature" at \'generation_config\': '
                           'Proto field is not repeating, cannot start list.')
    err = _error("v1beta", GC, {"generationConfig": {"temperature": {"v": 1}}})
    assert err.message == ('Invalid JSON payload received. Unknown name "temperature" at \'generation_config\': '
                           'Starting an object on a scalar field.')


def test_a_lone_value_for_a_repeated_field_is_one_element():
    # The REST docs send `"contents": {"parts": {"text": ...}}`; the real parser accepts it.
    out = normalize("v1beta", GC, {"contents": {"parts": {"text": "hi"}}})
    assert out == {"contents": [{"parts": [{"text": "hi"}]}]}


def test_root_must_be_an_object():
    err = _error("v1beta", GC, [1, 2])
    assert "Root element must be a message" in err.message


def test_numbers_are_canonicalised():
    out = normalize("v1beta", GC, {"generationConfig": {
        "temperature": "0.5", "topP": 1, "topK": "40", "candidateCount": 1.0, "seed": -3,
        "presencePenalty": "NaN", "frequencyPenalty": "-Infinity"}})
    cfg = out["generationConfig"]
    assert cfg["temperature"] == 0.5 and cfg["topP"] == 1.0 and type(cfg["topP"]) is float
    assert cfg["topK"] == 40 and cfg["candidateCount"] == 1 and type(cfg["candidateCount"]) is int
    assert cfg["seed"] == -3
    assert cfg["presencePenalty"] != cfg["presencePenalty"]  # NaN
    assert cfg["frequencyPenalty"] == float("-inf")


def test_int32_range():
    assert normalize("v1beta", GC, {"generationConfig": {"maxOutputTokens": 2**31 - 1}})
    err = _error("v1beta", GC, {"generationConfig": {"maxOutputTokens": 2**31}})
    assert err.message == "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), 2147483648"


def test_int64_accepts_digit_strings_and_numbers():
    for size in ("11", 11):
        out = normalize("v1beta", "CreateFileRequest", {"file": {"display_name": "a", "size_bytes": size}})
        assert out == {"file": {"displayName": "a", "sizeBytes": 11}}
    big = str(2**62)
    assert normalize("v1beta", "File", {"sizeBytes": big}) == {"sizeBytes": 2**62}
    err = _error("v1beta", "File", {"sizeBytes": "eleven"})
    assert err.message == "Invalid value at 'size_bytes' (TYPE_INT64), \"eleven\""
    _error("v1beta", "File", {"sizeBytes": str(2**63)})


def test_enums_accept_exact_names_and_numbers():
    ok = normalize("v1beta", GC, {"safetySettings": [{"category": 7, "threshold": "BLOCK_NONE"}]})
    assert ok == {"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}
    err = _error("v1beta", GC, {"safetySettings": [{"category": "HARM_CATEGORY_NOPE"}]})
    assert err.message == ("Invalid value at 'safety_settings[0].category' "
                           "(type.googleapis.com/google.ai.generativelanguage.v1beta.HarmCategory), "
                           "\"HARM_CATEGORY_NOPE\"")
    assert _violation_field(err) == "safety_settings[0].category"
    # a name in another case is the name (the real front end takes "Text", "object", "block_none")
    assert normalize("v1beta", GC, {"safetySettings": [{"category": "harm_category_harassment"}]}) == {
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT"}]}
    _error("v1beta", GC, {"safetySettings": [{"category": 999}]})
    _error("v1beta", GC, {"safetySettings": [{"category": True}]})


def test_repeated_enum_and_overlay_enum():
    out = normalize("v1beta", GC, {"generationConfig": {"response_modalities": ["TEXT", 2],
                                                         "thinking_config": {"thinking_level": "LOW"}}})
    assert out["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"],
                                       "thinkingConfig": {"thinkingLevel": "LOW"}}
    err = _error("v1beta", GC, {"generationConfig": {"thinkingConfig": {"thinkingLevel": "EXTREME"}}})
    assert "generation_config.thinking_config.thinking_level" in err.message


def test_bytes_timestamps_and_durations_are_checked_not_converted():
    part = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert normalize("v1beta", "Part", part) == part
    assert normalize("v1beta", "Part", {"thoughtSignature": "ab-_"}) == {"thoughtSignature": "ab-_"}
    err = _error("v1beta", "Part", {"inlineData": {"data": "not base64!"}})
    assert "(TYPE_BYTES)" in err.message and "'inline_data.data'" in err.message

    for ts in ("2025-01-01T00:05:00+00:00", "2025-01-01T00:05:00Z", "2025-01-01T00:05:00.123456789Z"):
        assert normalize("v1beta", "CachedContent", {"expireTime": ts}) == {"expireTime": ts}
    err = _error("v1beta", "CachedContent", {"expire_time": "tomorrow"})
    assert err.message == ("Invalid value at 'expire_time' (type.googleapis.com/google.protobuf.Timestamp), "
                           "\"tomorrow\"")
    assert normalize("v1beta", "CachedContent", {"ttl": "3.5s"}) == {"ttl": "3.5s"}
    err = _error("v1beta", "CachedContent", {"ttl": 300})
    assert "(type.googleapis.com/google.protobuf.Duration), 300" in err.message


# ---------------------------------------------------------------------------------------------------
# free-form values and maps

def test_free_form_values_are_copied_untouched():
    args = {"user_name": "x", "nested": {"snake_case": [1, {"deep_key": None}]}}
    response = {"result_value": {"mime_type": "kept"}}
    json_schema = {"type": "object", "properties": {"first_name": {"type": "string"}}, "additionalProperties": False}
    body = {
        "contents": [{"role": "model", "parts": [{"function_call": {"name": "f", "args": args}}]},
                     {"role": "user", "parts": [{"function_response": {"name": "f", "response": response}}]}],
        "generation_config": {"response_json_schema": json_schema},
        "tools": [{"function_declarations": [{"name": "g", "parameters_json_schema": json_schema}]}],
    }
    out = normalize("v1beta", GC, body)
    assert out["contents"][0]["parts"][0]["functionCall"]["args"] is args
    assert out["contents"][1]["parts"][0]["functionResponse"]["response"] is response
    assert out["generationConfig"]["responseJsonSchema"] is json_schema
    assert out["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] is json_schema
    assert args == {"user_name": "x", "nested": {"snake_case": [1, {"deep_key": None}]}}


def test_struct_fields_must_still_be_objects():
    err = _error("v1beta", "FunctionCall", {"name": "f", "args": [1]})
    assert "cannot start list" in err.message
    err = _error("v1beta", "FunctionCall", {"name": "f", "args": "x"})
    assert "(type.googleapis.com/google.protobuf.Struct), \"x\"" in err.message


def test_batch_metadata_is_free_form():
    body = {"batch": {"display_name": "b", "input_config": {"requests": {"requests": [
        {"request": {"contents": [{"parts": [{"text": "hi"}]}], "generation_config": {"temperature": 0.1}},
         "metadata": {"key": "r1", "some_snake": {"x_y": 1}}}]}}}}
    out = normalize("v1beta", "BatchGenerateContentRequest", body)
    item = out["batch"]["inputConfig"]["requests"]["requests"][0]
    assert item["metadata"] == {"key": "r1", "some_snake": {"x_y": 1}}
    assert item["request"]["generationConfig"] == {"temperature": 0.1}
    assert out["batch"]["displayName"] == "b"


def test_map_keys_stay_verbatim_and_values_are_normalised():
    schema_in = {"type": "OBJECT", "properties": {
        "user_name": {"type": "STRING", "max_length": "20"},
        "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "min_items": 1},
        "nested_obj": {"type": "OBJECT", "properties": {"inner_key": {"type": "INTEGER"}},
                       "property_ordering": ["inner_key"]},
    }, "required": ["user_name"]}
    out = normalize("v1beta", "Schema", schema_in)
    assert list(out["properties"]) == ["user_name", "tags", "nested_obj"]
    assert out["properties"]["user_name"] == {"type": "STRING", "maxLength": 20}
    assert out["properties"]["tags"] == {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1}
    assert out["properties"]["nested_obj"] == {"type": "OBJECT", "properties": {"inner_key": {"type": "INTEGER"}},
                                               "propertyOrdering": ["inner_key"]}
    assert out["required"] == ["user_name"]


def test_map_value_errors_use_the_entry_index_like_the_real_api():
    params = {"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": ["STRING", "NULL"]}}}
    err = _error("v1beta", GC, {"tools": [{"functionDeclarations": [{"name": "f", "parameters": params}]}]})
    assert err.message == ('Invalid JSON payload received. Unknown name "type" at '
                           '\'tools[0].function_declarations[0].parameters.properties[1].value\': '
                           'Proto field is not repeating, cannot start list.')


def test_labels_map_from_the_sdk_overlay():
    out = normalize("v1beta", GC, {"contents": [], "labels": {"team_name": "a"}})
    assert out["labels"] == {"team_name": "a"}
    err = _error("v1beta", GC, {"labels": {"k": 1}})
    assert "'labels[0].value' (TYPE_STRING), 1" in err.message


# ---------------------------------------------------------------------------------------------------
# oneofs and nulls

def test_two_members_of_a_oneof_are_rejected_naming_both():
    err = _error("v1beta", GC, {"contents": [{"parts": [{"text": "a", "inline_data": {"data": "AA=="}}]}]})
    assert "'data'" in err.message and '"text"' in err.message and '"inline_data"' in err.message
    assert "contents[0].parts[0]" in err.message
    err = _error("v1beta", "CachedContent", {"ttl": "1s", "expireTime": "2025-01-01T00:00:00Z"})
    assert '"ttl"' in err.message and '"expireTime"' in err.message


def test_non_oneof_siblings_and_a_null_member_are_fine():
    part = {"text": "a", "thought": True, "thoughtSignature": "AA==", "inlineData": None}
    assert normalize("v1beta", "Part", part) == {"text": "a", "thought": True, "thoughtSignature": "AA=="}


def test_null_means_absent():
    body = {"contents": [{"parts": [{"text": "hi", "thought": None}], "role": None}],
            "generationConfig": None, "tools": None, "system_instruction": None, "cachedContent": None}
    assert normalize("v1beta", GC, body) == {"contents": [{"parts": [{"text": "hi"}]}]}


def test_null_inside_a_list_is_an_error():
    err = _error("v1beta", GC, {"contents": [None]})
    assert "'contents[0]'" in err.message


# ---------------------------------------------------------------------------------------------------
# versions and the catalogue

def test_v1_reads_requests_with_the_v1beta_schema():
    body = {"contents": [{"parts": [{"text": "hi"}]}], "systemInstruction": {"parts": [{"text": "s"}]},
            "tools": [{"googleSearch": {}}], "generationConfig": {"thinkingConfig": {"thinking_budget": 0},
                                                                 "responseSchema": {"type": "STRING"}}}
    assert normalize("v1", GC, body) == normalize("v1beta", GC, body)
    assert normalize("v1alpha", GC, body) == normalize("v1beta", GC, body)
    assert {"BatchGenerateContentRequest", "CachedContent", "File"} <= schema.known_messages("v1")


def test_v1_protos_are_a_subset_of_v1beta():
    """The premise of the v1 -> v1beta fallback: every v1 field exists in v1beta with the same type."""
    v1 = json.loads((ROOT / "schemas" / "v1.json").read_text())["$defs"]
    v1beta = json.loads((ROOT / "schemas" / "v1beta.json").read_text())["$defs"]
    for name, d in v1.items():
        assert name in v1beta, name
        for prop, s in d.get("properties", {}).items():
            assert prop in v1beta[name]["properties"], f"{name}.{prop}"
            mine = {k: v for k, v in s.items() if k not in ("x-proto-type", "readOnly", "x-required")}
            theirs = {k: v for k, v in v1beta[name]["properties"][prop].items()
                      if k not in ("x-proto-type", "readOnly", "x-required", "x-source")}
            assert mine == theirs, f"{name}.{prop}"


def test_v1beta3_is_its_own_surface():
    out = normalize("v1beta3", "GenerateTextRequest", {"prompt": {"text": "hi"}, "candidate_count": 2,
                                                       "safety_settings": [{"category": "HARM_CATEGORY_TOXICITY",
                                                                            "threshold": 1}]})
    assert out == {"prompt": {"text": "hi"}, "candidateCount": 2,
                   "safetySettings": [{"category": "HARM_CATEGORY_TOXICITY", "threshold": "BLOCK_LOW_AND_ABOVE"}]}
    assert GC not in schema.known_messages("v1beta3")


def test_unknown_version_or_message():
    with pytest.raises(ValueError):
        normalize("v2", GC, {})
    with pytest.raises(KeyError):
        normalize("v1beta", "NoSuchMessage", {})


def test_known_messages_include_proto_and_overlay_types():
    names = schema.known_messages("v1beta")
    assert {GC, "GenerateContentResponse", "CountTokensRequest", "BatchEmbedContentsRequest", "CachedContent",
            "CreateFileRequest", "File", "TunedModel", "Operation", "ListOperationsResponse", "Status",
            "GenerateContentBatch", "EmbedContentBatch", "BatchGenerateContentRequest",
            "AsyncBatchEmbedContentRequest", "GenerateContentBatchOperation"} <= names
    assert "HarmCategory" not in names and "HarmCategory" in schema.known_enums("v1beta")
    assert "BATCH_STATE_SUCCEEDED" in schema.enum_values("v1beta", "BatchState")


def test_v1alpha_is_v1beta_widened_by_its_own_protos():
    names = schema.known_messages("v1alpha")
    assert {"TuningMultiturnExample", "BatchGenerateContentRequest", "ThinkingConfig"} <= names
    out = normalize("v1alpha", "TuningExamples", {"multiturn_examples": [{"system_instruction": {"parts": [
        {"text": "s"}]}}]})
    assert out == {"multiturnExamples": [{"systemInstruction": {"parts": [{"text": "s"}]}}]}


def test_decode_bytes_handles_both_base64_alphabets():
    assert schema.decode_bytes("aGVsbG8=") == b"hello"
    assert schema.decode_bytes("aGVsbG8") == b"hello"
    assert schema.decode_bytes("-_8") == b"\xfb\xff"
    with pytest.raises(ValueError):
        schema.decode_bytes("a")


# ---------------------------------------------------------------------------------------------------
# the recorded files

def _schema_docs():
    return {v: json.loads((ROOT / "schemas" / f"{v}.json").read_text()) for v in schema.VERSIONS}


def test_recorded_files_carry_their_source():
    for version, doc in _schema_docs().items():
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        src = doc["x-source"]
        assert src["package"] == "google-ai-generativelanguage" and src["recordedBy"] == "schemas/record.py"
        assert re.fullmatch(r"\d+\.\d+\.\d+", src["version"])
        for name, d in doc["$defs"].items():
            if "properties" in d:
                assert d.get("additionalProperties") is False, name
                for prop, s in d["properties"].items():
                    assert "x-proto-name" in s, f"{version} {name}.{prop}"


def test_every_overlay_addition_says_where_it_comes_from():
    for path in sorted((ROOT / "schemas" / "overlay").glob("*.json")):
        overlay = json.loads(path.read_text())
        for name, d in overlay["$defs"].items():
            if "x-source" not in d:
                assert d.get("properties") and all("x-source" in p for p in d["properties"].values()), name


def test_recorded_files_are_up_to_date():
    pytest.importorskip("google.ai.generativelanguage_v1beta")
    import importlib.util

    spec = importlib.util.spec_from_file_location("record", ROOT / "schemas" / "record.py")
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    assert record.main(["--check"]) == 0


def test_every_json_schema_compiles():
    jsonschema = pytest.importorskip("jsonschema")
    for version in schema.VERSIONS:
        s = schema.json_schema(version, "GenerateContentResponse" if version != "v1beta3"
                               else "GenerateTextResponse")
        jsonschema.Draft202012Validator.check_schema(s)


# ---------------------------------------------------------------------------------------------------
# response validation

GOOD_RESPONSE = {
    "candidates": [{
        "content": {"role": "model", "parts": [{"text": "thinking", "thought": True}, {"text": "Hello"}]},
        "finishReason": "STOP", "index": 0,
        "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}],
    }],
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "thoughtsTokenCount": 1,
                      "totalTokenCount": 5,
                      "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abc123",
}


def test_validate_response_accepts_a_real_shaped_response():
    validate_response("v1beta", "GenerateContentResponse", GOOD_RESPONSE)
    validate_response("v1", "GenerateContentResponse", GOOD_RESPONSE)
    assert schema.response_errors("v1beta", "GenerateContentResponse", GOOD_RESPONSE) == []


def test_validate_response_lists_every_problem():
    bad = copy.deepcopy(GOOD_RESPONSE)
    bad["candidates"][0]["finish_reason"] = "STOP"                     # snake_case in a response
    bad["candidates"][0]["content"]["parts"][1]["inlineData"] = {"data": "AA==", "mimeType": "x/y"}  # oneof
    bad["usageMetadata"]["totalTokenCount"] = "5"                      # int32 as string
    bad["candidates"][0]["safetyRatings"][0]["probability"] = 1         # enum as number
    with pytest.raises(AssertionError) as info:
        validate_response("v1beta", "GenerateContentResponse", bad)
    text = str(info.value)
    assert "finish_reason" in text
    assert "candidates[0].content.parts[1]" in text
    assert "usageMetadata.totalTokenCount" in text
    assert "candidates[0].safetyRatings[0].probability" in text


def test_responses_want_int64_as_strings():
    validate_response("v1beta", "File", {"name": "files/abc", "sizeBytes": "11", "state": "ACTIVE",
                                         "createTime": "2025-01-01T00:00:00.000000Z"})
    with pytest.raises(AssertionError, match="sizeBytes"):
        validate_response("v1beta", "File", {"name": "files/abc", "sizeBytes": 11})


def test_batch_operation_shape_from_the_wire_notes():
    inlined = {"inlinedResponses": [
        {"response": GOOD_RESPONSE, "metadata": {"key": "r1"}},
        {"error": {"code": 400, "message": "bad"}, "metadata": {"key": "r2"}}]}
    op = {"name": "batches/b123",
          "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                       "name": "batches/b123", "model": "models/gemini-2.5-flash", "displayName": "my-batch",
                       "inputConfig": {"requests": {"requests": [
                           {"request": {"contents": [{"parts": [{"text": "hi"}]}]}, "metadata": {"key": "r1"}}]}},
                       "createTime": "2025-07-01T10:00:00.000000Z", "updateTime": "2025-07-01T10:00:00Z",
                       "endTime": "2025-07-01T10:00:00Z",
                       "batchStats": {"requestCount": "2", "successfulRequestCount": "1",
                                      "failedRequestCount": "1", "pendingRequestCount": "0"},
                       "state": "BATCH_STATE_SUCCEEDED", "output": {"inlinedResponses": inlined}},
          "done": True,
          "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
                       "inlinedResponses": inlined}}
    validate_response("v1beta", "GenerateContentBatchOperation", op)
    validate_response("v1beta", "Operation", op)
    broken = copy.deepcopy(op)
    broken["metadata"]["state"] = "JOB_STATE_SUCCEEDED"
    broken["metadata"]["batchStats"]["requestCount"] = 2
    with pytest.raises(AssertionError) as info:
        validate_response("v1beta", "GenerateContentBatchOperation", broken)
    assert "metadata.state" in str(info.value) and "metadata.batchStats.requestCount" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# what the google-genai SDK really sends, with every option set

try:
    import pydantic
    from google import genai
    from google.genai import types as T
    try:
        import httpx
    except ImportError:  # google-genai also runs on the httpx2 fork
        import httpx2 as httpx
except ImportError:  # pragma: no cover - the SDK is a test extra
    genai = None

needs_sdk = pytest.mark.skipif(genai is None, reason="google-genai (and httpx) not installed")

# Config fields that never reach the wire (client-side behaviour).
CLIENT_SIDE = {"http_options", "should_return_http_response", "automatic_function_calling",
               "automatic_continuation"}
# Schema fields the SDK refuses for the Gemini API itself (t_schema raises / inlines $defs).
CLIENT_SIDE_BY_CLASS = {"Schema": {"additional_properties", "defs", "ref"}}
# Strings with a wire format the SDK leaves to the caller.
FORMATTED = {"start_offset": "1.5s", "end_offset": "2s", "ttl": "300s", "sse_read_timeout": "5s",
             "timeout": "30s", "response_modalities": ["TEXT", "IMAGE"], "task_type": "RETRIEVAL_DOCUMENT",
             "create_time": None, "update_time": None}
VERTEX_ONLY = re.compile(r"^(\w+) parameter is only supported in Gemini Enterprise")
_NOTHING = object()


def _sample(annotation, depth, seen):
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _sample(args[0], depth, seen)
    if origin in (typing.Union, pytypes.UnionType):
        def rank(a):
            if inspect.isclass(a) and issubclass(a, pydantic.BaseModel):
                return 0
            return 1 if typing.get_origin(a) in (list, dict) else 2
        for alt in sorted((a for a in args if a is not type(None)), key=rank):
            try:
                value = _sample(alt, depth, seen)
            except Exception:
                continue
            if value is not _NOTHING:
                return value
        return _NOTHING
    if origin is typing.Literal:
        return args[0]
    if origin is list:
        value = _sample(args[0], depth, seen) if args else _NOTHING
        return _NOTHING if value is _NOTHING else [value]
    if origin is dict:
        value = "v" if not args or args[1] is typing.Any else _sample(args[1], depth, seen)
        return _NOTHING if value is _NOTHING else {"some_key": value}
    if annotation is typing.Any:
        return {"type": "object"}
    if inspect.isclass(annotation):
        if issubclass(annotation, enum.Enum):
            members = [m for m in annotation if "UNSPECIFIED" not in str(m.value)] or list(annotation)
            return members[0]
        simple = {bool: True, int: 3, float: 2.0, str: "x", bytes: b"ab",
                  datetime.datetime: datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)}
        if annotation in simple:
            return simple[annotation]
        if issubclass(annotation, pydantic.BaseModel):
            if depth > 4 or annotation in seen:
                return _NOTHING
            return populated(annotation, depth + 1, seen + (annotation,))
    return _NOTHING


def populated(cls, depth=0, seen=(), **given):
    """An instance of an SDK type with every field set (recursively, to a sane depth)."""
    values = {k: v for k, v in FORMATTED.items() if k in cls.model_fields and v is not None}
    skip = CLIENT_SIDE | CLIENT_SIDE_BY_CLASS.get(cls.__name__, set()) | set(FORMATTED) | set(given)
    for name, field in cls.model_fields.items():
        if name not in skip:
            value = _sample(field.annotation, depth, seen)
            if value is not _NOTHING:
                values[name] = value
    values.update({k: v for k, v in given.items() if v is not None})
    return cls(**values)


def _clear(obj, name):
    """Unset every attribute `name` in a tree of SDK objects; how many were set."""
    count = 0
    if isinstance(obj, pydantic.BaseModel):
        for key in type(obj).model_fields:
            value = getattr(obj, key)
            if key == name and value is not None:
                setattr(obj, key, None)
                count += 1
            else:
                count += _clear(value, name)
    elif isinstance(obj, (list, tuple)):
        count += sum(_clear(x, name) for x in obj)
    elif isinstance(obj, dict):
        count += sum(_clear(x, name) for x in obj.values())
    return count


def every_kind_of_part():
    """One Part per member of the `data` oneof, each also carrying every non-oneof Part field."""
    full = populated(T.Part)
    one_of = ["text", "inline_data", "file_data", "function_call", "function_response", "executable_code",
              "code_execution_result"]
    return [full.model_copy(update={other: None for other in one_of if other != keep}) for keep in one_of]


class Wire:
    """A google-genai client whose HTTP goes to an in-memory transport that records each request."""

    def __init__(self, api_version="v1beta"):
        self.sent = []
        self.client = genai.Client(api_key="test-key", http_options=T.HttpOptions(
            base_url="http://mock.invalid", api_version=api_version,
            httpx_client=httpx.Client(transport=httpx.MockTransport(self._handle))))

    def _handle(self, request):
        body = request.content
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body
        self.sent.append((request.method, request.url.path, parsed))
        path = request.url.path
        if request.headers.get("x-goog-upload-command") == "start":
            return httpx.Response(200, headers={"x-goog-upload-url": "http://mock.invalid/upload/session"})
        if path.endswith("/upload/session"):
            return httpx.Response(200, headers={"x-goog-upload-status": "final"}, json={"file": {"name": "files/a"}})
        if path.endswith(":batchGenerateContent") or path.endswith(":asyncBatchEmbedContent"):
            return httpx.Response(200, json={"name": "batches/b1", "metadata": {}})
        if path.endswith("/tunedModels"):
            return httpx.Response(200, json={"name": "tunedModels/t/operations/o",
                                             "metadata": {"tunedModel": "tunedModels/t"}})
        return httpx.Response(200, json={})

    def send(self, call, *configs):
        """Run `call`; when the SDK refuses a Vertex-only option, unset it in `configs` and retry.

        Returns the JSON bodies sent and the options dropped."""
        dropped = []
        for _ in range(100):
            self.sent.clear()
            try:
                call()
            except ValueError as exc:
                m = VERTEX_ONLY.match(str(exc))
                if not m or not sum(_clear(c, m.group(1)) for c in configs):
                    raise
                dropped.append(m.group(1))
                continue
            return [body for _, _, body in self.sent], dropped
        raise AssertionError("the SDK kept refusing options")


def _full_generate_config(**given):
    return populated(T.GenerateContentConfig, system_instruction="be brief",
                     response_json_schema={"type": "object", "properties": {"a_b": {"type": "string"}}},
                     tools=[populated(T.Tool), T.Tool(function_declarations=[populated(T.FunctionDeclaration)])],
                     **given)


@needs_sdk
@pytest.mark.parametrize("api_version", ["v1beta", "v1"])
def test_sdk_generate_content_with_every_option_is_accepted(api_version):
    wire = Wire(api_version)
    config = _full_generate_config()
    contents = [T.Content(role="user", parts=every_kind_of_part())]
    (body,), dropped = wire.send(lambda: wire.client.models.generate_content(
        model="gemini-2.5-flash", contents=contents, config=config), config, contents)
    out = normalize(api_version, GC, body)
    assert "generation_config" not in json.dumps(out)
    cfg = out["generationConfig"]
    assert {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
            "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
            "mediaResolution", "speechConfig", "thinkingConfig", "imageConfig",
            "audioTranscriptionConfig"} <= set(cfg)
    assert cfg["thinkingConfig"].keys() == {"includeThoughts", "thinkingBudget", "thinkingLevel"}
    assert {"systemInstruction", "safetySettings", "tools", "toolConfig", "cachedContent", "labels",
            "serviceTier", "store", "continuationToken"} <= set(out)
    assert len(out["contents"][0]["parts"]) == 7
    # free-form members come through exactly as the SDK sent them
    assert cfg["responseJsonSchema"] == {"type": "object", "properties": {"a_b": {"type": "string"}}}
    # a Vertex-only option is refused by the SDK itself, so it never reaches us
    assert "routing_config" in dropped


@needs_sdk
def test_sdk_generate_content_stream_body_is_the_same_request():
    wire = Wire()
    config = _full_generate_config()
    contents = [T.Content(role="user", parts=every_kind_of_part())]

    def call():
        for _ in wire.client.models.generate_content_stream(model="gemini-2.5-flash", contents=contents,
                                                            config=config):
            pass
    (body,), _ = wire.send(call, config, contents)
    assert normalize("v1beta", GC, body)


@needs_sdk
def test_sdk_count_tokens():
    wire = Wire()
    contents = [T.Content(role="user", parts=every_kind_of_part())]
    (body,), _ = wire.send(lambda: wire.client.models.count_tokens(model="gemini-2.5-flash", contents=contents),
                           contents)
    assert normalize("v1beta", "CountTokensRequest", body)["contents"]


@needs_sdk
def test_sdk_embed_content():
    wire = Wire()
    config = populated(T.EmbedContentConfig)
    (body,), dropped = wire.send(lambda: wire.client.models.embed_content(
        model="gemini-embedding-001", contents=["a", "b"], config=config), config)
    out = normalize("v1beta", "BatchEmbedContentsRequest", body)
    assert [r["taskType"] for r in out["requests"]] == ["RETRIEVAL_DOCUMENT"] * 2
    assert out["requests"][0]["model"] == "models/gemini-embedding-001"


@needs_sdk
@pytest.mark.parametrize("expiry", ["ttl", "expire_time"])
def test_sdk_caches_create_and_update(expiry):
    wire = Wire()
    other = "expire_time" if expiry == "ttl" else "ttl"
    config = populated(T.CreateCachedContentConfig, system_instruction="sys",
                       contents=[T.Content(role="user", parts=every_kind_of_part())],
                       tools=[populated(T.Tool)])
    setattr(config, other, None)
    (body,), _ = wire.send(lambda: wire.client.caches.create(model="gemini-2.5-flash", config=config), config)
    out = normalize("v1beta", "CachedContent", body)
    assert {"model", "displayName", "contents", "systemInstruction", "tools", "toolConfig"} <= set(out)
    assert ("ttl" if expiry == "ttl" else "expireTime") in out

    update = populated(T.UpdateCachedContentConfig)
    setattr(update, other, None)
    (body,), _ = wire.send(lambda: wire.client.caches.update(name="cachedContents/abc", config=update), update)
    assert normalize("v1beta", "CachedContent", body)


@needs_sdk
def test_sdk_files_upload_start_body():
    wire = Wire()
    config = populated(T.UploadFileConfig, mime_type="text/plain", name="files/abc")
    bodies, _ = wire.send(lambda: wire.client.files.upload(file=io.BytesIO(b"hello world"), config=config), config)
    start = bodies[0]
    assert start["file"]["size_bytes"] == 11   # snake_case and an integer, as WIRE.md 4.1 says
    out = normalize("v1beta", "CreateFileRequest", start)
    assert out == {"file": {"name": "files/abc", "displayName": "x", "mimeType": "text/plain", "sizeBytes": 11}}


@needs_sdk
def test_sdk_batches_create_inline_and_from_file():
    wire = Wire()
    inlined = populated(T.InlinedRequest, model="gemini-2.5-flash",
                        contents=[T.Content(role="user", parts=every_kind_of_part())],
                        config=_full_generate_config())
    config = populated(T.CreateBatchJobConfig, dest=None)
    (body,), _ = wire.send(lambda: wire.client.batches.create(model="gemini-2.5-flash", src=[inlined],
                                                              config=config), config, inlined)
    out = normalize("v1beta", "BatchGenerateContentRequest", body)
    request = out["batch"]["inputConfig"]["requests"]["requests"][0]
    assert request["metadata"] == {"some_key": "x"}
    assert request["request"]["model"] == "models/gemini-2.5-flash"
    assert out["batch"]["webhookConfig"]["userMetadata"] == {"some_key": "v"}

    (body,), _ = wire.send(lambda: wire.client.batches.create(model="gemini-2.5-flash", src="files/in1",
                                                              config=config), config)
    assert normalize("v1beta", "BatchGenerateContentRequest", body)["batch"]["inputConfig"] == {
        "fileName": "files/in1"}


@needs_sdk
def test_sdk_batches_create_embeddings_inline_and_from_file():
    wire = Wire()
    config = populated(T.CreateEmbeddingsBatchJobConfig)
    embed = populated(T.EmbedContentConfig)
    src = {"inlined_requests": {"contents": ["a", "b"], "config": embed}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (body,), _ = wire.send(lambda: wire.client.batches.create_embeddings(
            model="gemini-embedding-001", src=src, config=config), config, embed)
    out = normalize("v1beta", "AsyncBatchEmbedContentRequest", body)
    assert len(out["batch"]["inputConfig"]["requests"]["requests"]) == 2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (body,), _ = wire.send(lambda: wire.client.batches.create_embeddings(
            model="gemini-embedding-001", src={"file_name": "files/embin"}, config=config), config)
    assert body["batch"]["inputConfig"] == {"file_name": "files/embin"}   # the SDK's snake_case slip
    out = normalize("v1beta", "AsyncBatchEmbedContentRequest", body)
    assert out["batch"]["inputConfig"] == {"fileName": "files/embin"}


@needs_sdk
def test_sdk_tunings_tune_and_models_update():
    wire = Wire()
    config = populated(T.CreateTuningJobConfig)
    dataset = populated(T.TuningDataset, gcs_uri=None, vertex_dataset_resource=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (body,), _ = wire.send(lambda: wire.client.tunings.tune(
            base_model="models/gemini-1.5-flash-001-tuning", training_dataset=dataset, config=config),
            config, dataset)
    out = normalize("v1beta", "TunedModel", body)
    assert out["tuningTask"]["hyperparameters"]["epochCount"] == 3

    update = populated(T.UpdateModelConfig)
    (body,), _ = wire.send(lambda: wire.client.models.update(model="tunedModels/x", config=update), update)
    assert normalize("v1beta", "TunedModel", body) == {"displayName": "x", "description": "x",
                                                       "defaultCheckpointId": "x"}
