"""The checks of a request's response schemas (OpenAPI `responseSchema`, `responseJsonSchema`) that answer
malformed ones with the real API's 400s before anything is generated.
"""
from __future__ import annotations

import json
import random
from typing import Any, Iterator

from ..errors import ApiError, invalid_argument
from . import budget as cost

from .structured import JSON_SCHEMA, OPENAPI_TYPES, _Generator, _int

# -- checking the schemas of a request --------------------------------------------------------------


def _proto_path(field: str) -> str:
    """`generationConfig.responseSchema.properties[a]` -> `generation_config.response_schema.properties[a]`."""
    out = []
    depth = 0
    for char in field:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if depth == 0 and char.isupper():
            out.append("_" + char.lower())
        else:
            out.append(char)
    return "".join(out)


def _schema_error(field: str, problem: str) -> ApiError:
    return invalid_argument(f"* GenerateContentRequest.{_proto_path(field)}: {problem}\n", field)


def check_openapi_schema(schema: Any, field: str, *, depth: int = 0) -> None:
    """The real API's checks on a `Schema` (responseSchema, function parameters); 400 naming the field."""
    if not isinstance(schema, dict):
        raise invalid_argument(f"Invalid value at '{_proto_path(field)}': expected a Schema object.", field)
    if depth > 64:
        raise _schema_error(field, "schema is nested too deeply.")
    declared = schema.get("type")
    if declared is not None and (not isinstance(declared, str) or declared.upper() not in OPENAPI_TYPES):
        raise invalid_argument(
            f"Invalid value at '{_proto_path(field)}.type' (type.googleapis.com/google.ai.generativelanguage."
            f"v1beta.Type), {json.dumps(declared)}", f"{field}.type")
    kind = (declared or "").upper()
    properties = schema.get("properties")
    any_of = schema.get("anyOf")
    if kind == "ARRAY" and "items" not in schema and not any_of:
        raise _schema_error(f"{field}.items", "missing field.")
    if properties is not None and not isinstance(properties, dict):
        raise invalid_argument(f"Invalid value at '{_proto_path(field)}.properties': expected a map.",
                               f"{field}.properties")
    for i, name in enumerate(schema.get("required") or []):
        if not isinstance(properties, dict) or name not in properties:
            raise _schema_error(f"{field}.required[{i}]", "property is not defined")
    for i, name in enumerate(schema.get("propertyOrdering") or []):
        if not isinstance(properties, dict) or name not in properties:
            raise _schema_error(f"{field}.propertyOrdering[{i}]", "property is not defined")
    enum = schema.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        raise _schema_error(f"{field}.enum", "should be a non-empty list")
    for name, sub in (properties or {}).items():
        check_openapi_schema(sub, f"{field}.properties[{name}]", depth=depth + 1)
    if "items" in schema:
        check_openapi_schema(schema["items"], f"{field}.items", depth=depth + 1)
    for i, sub in enumerate(any_of or []):
        check_openapi_schema(sub, f"{field}.anyOf[{i}]", depth=depth + 1)
    low, high = _int(schema.get("minItems")), _int(schema.get("maxItems"))
    if low is not None and high is not None and low > high:
        raise _schema_error(f"{field}.minItems", "must not be greater than maxItems")


_CHECKED_JSON_SCHEMAS: dict[str, None] = {}


def check_json_schema(schema: Any, field: str) -> None:
    """A JSON Schema (responseJsonSchema, parametersJsonSchema) must be a valid schema; 400 otherwise."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise invalid_argument(f"Invalid value at '{_proto_path(field)}': expected a JSON Schema object.", field)
    marker = json.dumps(schema, sort_keys=True, default=str)
    if marker in _CHECKED_JSON_SCHEMAS:
        return
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        raise invalid_argument(f"Invalid JSON schema at '{field}': {error.message}", field) from None
    # Every local $ref must resolve (remote references are not fetched by the real API either).
    generator = _Generator(schema, random.Random(0), JSON_SCHEMA, [], cost.OutputMeter(0, field))
    for ref in _refs(schema):
        try:
            generator._pointer(ref)
        except Exception as error:  # ApiError from _pointer
            message = getattr(error, "message", str(error))
            raise invalid_argument(message, field) from None
    if len(_CHECKED_JSON_SCHEMAS) > 512:
        _CHECKED_JSON_SCHEMAS.clear()
    _CHECKED_JSON_SCHEMAS[marker] = None


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key not in ("enum", "const", "default", "examples", "example"):
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
