"""Request normalisation and response validation against the recorded schemas in schemas/.

The real front end parses request bodies as proto3 JSON. `normalize()` does the same checks with the
same error wording, and hands back a fresh dict keyed by camelCase json names only, so handlers and
backends never see snake_case:

    body = normalize("v1beta", "GenerateContentRequest", raw_json)

Per message the recorded JSON Schema is compiled once into a flat table
{accepted key (json name and proto name): field entry}; the walk is a plain recursive loop, no
jsonschema on the request path. What comes back:

* keys: json names (`generationConfig`, never `generation_config`); `null` fields are dropped;
* strings, bools: as given; ints (int32 and int64 alike, from a number or a digit string): `int`;
  floats: `float`; enums: the value name (an integer, or the name in another case, is mapped to the
  name); bytes: the base64 string
  as given (checked, not decoded); Timestamp / Duration / FieldMask: the string as given (checked);
* free-form values (google.protobuf.Struct / Value / ListValue / Any: `functionCall.args`,
  `functionResponse.response`, `responseJsonSchema`, batch `metadata`, ...): the very same object,
  untouched; map fields: the keys verbatim, the values normalised (Schema.properties values are Schemas).

`json_schema()` / `validate_response()` are for tests: they check a response against the canonical
proto3-JSON output form (camelCase keys only, enums as names, int64 as strings, at most one member
of each oneof).

Versions: "v1beta" and "v1beta3" use their own record. "v1" and "v1alpha" requests are read with
the v1beta record, widened by whatever their own record adds: the SDKs default to /v1 but send
v1beta-shaped bodies, and the v1 / v1alpha protos in the package lag behind the service (see
schemas/README.md).
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ApiError, invalid_argument
from .paths import SCHEMAS

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

SCHEMA_DIR = Path(os.environ.get("GEMINI_MOCK_SCHEMA_DIR", SCHEMAS))

# Which recorded files make up the schema a version is validated with, widest first.
LAYERS = {
    "v1beta": ("v1beta",),
    "v1": ("v1beta", "v1"),
    "v1alpha": ("v1beta", "v1alpha"),
    "v1beta3": ("v1beta3",),
}
VERSIONS = tuple(LAYERS)

# field kinds
(K_STRING, K_MESSAGE, K_BOOL, K_INT32, K_UINT32, K_INT64, K_UINT64, K_FLOAT, K_DOUBLE, K_BYTES, K_ENUM,
 K_STRUCT, K_VALUE, K_LIST, K_ANY, K_TIMESTAMP, K_DURATION, K_FIELDMASK) = range(18)
# field labels
SINGULAR, REPEATED, MAP = 0, 1, 2

_SCALAR_KINDS = {
    "TYPE_STRING": K_STRING, "TYPE_BOOL": K_BOOL, "TYPE_BYTES": K_BYTES,
    "TYPE_INT32": K_INT32, "TYPE_SINT32": K_INT32, "TYPE_SFIXED32": K_INT32,
    "TYPE_UINT32": K_UINT32, "TYPE_FIXED32": K_UINT32,
    "TYPE_INT64": K_INT64, "TYPE_SINT64": K_INT64, "TYPE_SFIXED64": K_INT64,
    "TYPE_UINT64": K_UINT64, "TYPE_FIXED64": K_UINT64,
    "TYPE_FLOAT": K_FLOAT, "TYPE_DOUBLE": K_DOUBLE,
    "google.protobuf.Struct": K_STRUCT, "google.protobuf.Value": K_VALUE,
    "google.protobuf.ListValue": K_LIST, "google.protobuf.Any": K_ANY,
    "google.protobuf.Timestamp": K_TIMESTAMP, "google.protobuf.Duration": K_DURATION,
    "google.protobuf.FieldMask": K_FIELDMASK,
    "google.protobuf.StringValue": K_STRING, "google.protobuf.BoolValue": K_BOOL,
    "google.protobuf.BytesValue": K_BYTES, "google.protobuf.Int32Value": K_INT32,
    "google.protobuf.UInt32Value": K_UINT32, "google.protobuf.Int64Value": K_INT64,
    "google.protobuf.UInt64Value": K_UINT64, "google.protobuf.FloatValue": K_FLOAT,
    "google.protobuf.DoubleValue": K_DOUBLE,
}
_INT_RANGES = {
    K_INT32: (-2**31, 2**31 - 1), K_UINT32: (0, 2**32 - 1),
    K_INT64: (-2**63, 2**63 - 1), K_UINT64: (0, 2**64 - 1),
}
_FLOAT_MAX = 3.4028234663852886e38
_INT_STRING = re.compile(r"-?[0-9]+\Z")
_FLOAT_STRING = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z")
_DURATION = re.compile(r"-?[0-9]+(\.[0-9]{1,9})?s\Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}\Z")


class _Enum:
    __slots__ = ("names", "by_upper", "by_number", "type_url")

    def __init__(self, numbers: dict[str, int], full_name: str):
        self.names = frozenset(numbers)
        # The real front end takes enum names in any case ("Text", "object", "block_none": the cookbook's
        # `response_modalities=["Text", "Image"]` and lower-case OpenAPI schema types reach it verbatim).
        self.by_upper = {name.upper(): name for name in numbers}
        self.by_number: dict[int, str] = {}
        for name, number in numbers.items():
            if number is not None:   # overlay values whose wire number is unknown
                self.by_number.setdefault(number, name)
        self.type_url = f"type.googleapis.com/{full_name}"


# A field of a compiled message: (json name, kind, sub, proto name, label, oneof, type URL). `sub` is the
# field's _Message for K_MESSAGE, its _Enum for K_ENUM, else None; it is typed Any because the walk reads it
# by `kind`, and narrowing it there would cost a check per field on every request.
_Field = tuple[str, int, Any, str, int, str | None, str]


class _Message:
    __slots__ = ("name", "table", "type_url", "oneofs")

    def __init__(self, name: str, full_name: str):
        self.name = name
        self.table: dict[str, _Field] = {}
        self.type_url = f"type.googleapis.com/{full_name}"
        self.oneofs = False


class _Compiled:
    """One version's effective $defs and the compiled tables."""

    def __init__(self, version: str, defs: dict[str, dict[str, Any]], sources: list[dict[str, Any]]):
        self.version = version
        self.defs = defs
        self.sources = sources
        self.messages: dict[str, _Message] = {}
        self.enums: dict[str, _Enum] = {}
        for name, d in defs.items():
            if "x-enum-numbers" in d:
                self.enums[name] = _Enum(d["x-enum-numbers"], d.get("x-proto-enum", name))
            elif d.get("type") == "object" and "properties" in d:
                self.messages[name] = _Message(name, d.get("x-proto-message", name))
        for name, msg in self.messages.items():
            self._fill(msg, defs[name])
        self._response_defs: dict[str, Any] | None = None
        self._validators: dict[str, Any] = {}

    def _element(self, schema: dict[str, Any], ptype: str | None) -> tuple[int, _Message | _Enum | None, str]:
        ref = schema.get("$ref")
        if ref is not None:
            target = ref.rsplit("/", 1)[-1]
            if target in self.enums:
                e = self.enums[target]
                return K_ENUM, e, e.type_url
            m = self.messages[target]
            return K_MESSAGE, m, m.type_url
        ptype = schema.get("x-proto-type", ptype)
        assert ptype is not None   # every field that is no $ref records its proto type
        kind = _SCALAR_KINDS[ptype]
        return kind, None, (ptype if ptype.startswith("TYPE_") else f"type.googleapis.com/{ptype}")

    def _fill(self, msg: _Message, d: dict[str, Any]) -> None:
        oneof_of: dict[str, str] = {}
        for oneof, members in d.get("x-oneof", {}).items():
            for member in members:
                oneof_of[member] = oneof
        msg.oneofs = bool(oneof_of)
        for json_name, prop in d["properties"].items():
            ptype = prop.get("x-proto-type")
            if "x-map-key" in prop:
                label = MAP
                kind, sub, type_url = self._element(prop["additionalProperties"], ptype)
            elif prop.get("type") == "array" and "items" in prop:
                label = REPEATED
                kind, sub, type_url = self._element(prop["items"], ptype)
            else:
                label = SINGULAR
                kind, sub, type_url = self._element(prop, ptype)
            pname = prop.get("x-proto-name", json_name)
            entry = (json_name, kind, sub, pname, label, oneof_of.get(json_name), type_url)
            msg.table[json_name] = entry
            if pname != json_name:
                msg.table[pname] = entry


# ---------------------------------------------------------------------------------------------------
# Loading

_lock = threading.Lock()
_raw: dict[str, dict[str, Any]] = {}
_compiled: dict[str, _Compiled] = {}


def _load_file(name: str) -> dict[str, Any]:
    doc = _raw.get(name)
    if doc is None:
        path = SCHEMA_DIR / f"{name}.json"
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        _raw[name] = doc
    return doc


def _merge_layer(defs: dict[str, dict[str, Any]], layer: dict[str, dict[str, Any]]) -> None:
    """Widen defs with a narrower layer: new defs are added, new properties / enum values appended."""
    for name, d in layer.items():
        have = defs.get(name)
        if have is None:
            defs[name] = d
        elif "properties" in d and "properties" in have:
            extra = {k: v for k, v in d["properties"].items() if k not in have["properties"]}
            if extra:
                defs[name] = {**have, "properties": {**have["properties"], **extra}}
        elif "x-enum-numbers" in d and "x-enum-numbers" in have:
            extra = {k: v for k, v in d["x-enum-numbers"].items() if k not in have["x-enum-numbers"]}
            if extra:
                numbers = {**have["x-enum-numbers"], **extra}
                defs[name] = {**have, "x-enum-numbers": numbers,
                              "enum": list(numbers) + sorted({n for n in numbers.values() if n is not None})}


def _get(version: str) -> _Compiled:
    c = _compiled.get(version)
    if c is not None:
        return c
    if version not in LAYERS:
        raise ValueError(f"unknown API version {version!r}; expected one of {', '.join(VERSIONS)}")
    with _lock:
        c = _compiled.get(version)
        if c is None:
            defs: dict[str, dict[str, Any]] = {}
            sources: list[dict[str, Any]] = []
            for layer in LAYERS[version]:
                doc = _load_file(layer)
                sources.append(doc.get("x-source", {}))
                _merge_layer(defs, doc["$defs"])
            c = _Compiled(version, defs, sources)
            _compiled[version] = c
    return c


def known_messages(version: str) -> set[str]:
    """Names of the messages (not enums) a version knows, as normalize()/json_schema() accept them."""
    return set(_get(version).messages)


def known_enums(version: str) -> set[str]:
    return set(_get(version).enums)


def enum_values(version: str, name: str) -> list[str]:
    """The value names of a recorded enum (e.g. enum_values("v1beta", "HarmCategory"))."""
    return sorted(_get(version).enums[name].names)


# ---------------------------------------------------------------------------------------------------
# Errors, in the real API's words

def _render(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _error(message: str, field: str) -> ApiError:
    if field:
        return invalid_argument(message, field=field)
    err = invalid_argument(message)
    err.details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"description": message}]}]
    return err


def _unknown(key: str, path: str, why: str = "Cannot find field.") -> ApiError:
    where = f" at '{path}'" if path else ""
    return _error(f'Invalid JSON payload received. Unknown name "{key}"{where}: {why}', path)


def _bad_value(path: str, type_url: str, value: Any) -> ApiError:
    return _error(f"Invalid value at '{path}' ({type_url}), {_render(value)}", path)


# ---------------------------------------------------------------------------------------------------
# The walk

def normalize(version: str, message: str, payload: Any, path: str = "") -> dict[str, Any]:
    """Validate `payload` as proto3 JSON for `message` and return a new camelCase-keyed dict.

    `path` is the snake_case location of `payload` inside the whole request (e.g. "batch" when the
    caller normalises only the `batch` member); it prefixes the paths in error messages.
    Raises ApiError (400 INVALID_ARGUMENT) naming the offending field.
    """
    c = _get(version)
    msg = c.messages.get(message)
    if msg is None:
        raise KeyError(f"no message {message!r} in the {version} schema")
    if type(payload) is not dict:
        if path:
            raise _bad_value(path, msg.type_url, payload)
        raise _error('Invalid JSON payload received. Unknown name "": Root element must be a message.', "")
    return _message(msg, payload, path)


def _message(msg: _Message, obj: dict[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    table = msg.table
    seen_oneof: dict[str, str] | None = None
    for key, value in obj.items():
        entry = table.get(key)
        if entry is None:
            raise _unknown(key, path)
        if value is None:
            continue
        json_name, kind, sub, pname, label, oneof, type_url = entry
        if json_name in out:
            raise _error(f"Invalid JSON payload received. Field \"{pname}\""
                         f"{' at ' + repr(path) if path else ''} is set twice "
                         f"(as \"{json_name}\" and \"{pname}\").", _join(path, pname))
        if oneof is not None:
            if seen_oneof is None:
                seen_oneof = {oneof: key}
            elif oneof in seen_oneof:
                other = seen_oneof[oneof]
                raise _error(f"Invalid JSON payload received. Oneof field '{oneof}' is already set by "
                             f"\"{other}\". Cannot set \"{key}\""
                             f"{' at ' + repr(path) if path else ''}.", _join(path, pname))
            else:
                seen_oneof[oneof] = key
        if label == SINGULAR:
            tv = type(value)
            if kind == K_STRING and tv is str:
                out[json_name] = value
            elif kind == K_MESSAGE and tv is dict:
                out[json_name] = _message(sub, value, f"{path}.{pname}" if path else pname)
            elif tv is list:
                raise _unknown(pname, path, "Proto field is not repeating, cannot start list.")
            else:
                out[json_name] = _value(kind, sub, type_url, value, path, pname)
        elif label == REPEATED:
            fpath = f"{path}.{pname}" if path else pname
            if type(value) is not list:
                value = [value]   # the real parser takes a lone value for a repeated field
            if kind == K_MESSAGE:
                items = []
                for i, item in enumerate(value):
                    if type(item) is dict:
                        items.append(_message(sub, item, f"{fpath}[{i}]"))
                    else:
                        raise _bad_value(f"{fpath}[{i}]", type_url, item)
                out[json_name] = items
            elif kind == K_STRING:
                for i, item in enumerate(value):
                    if type(item) is not str:
                        raise _bad_value(f"{fpath}[{i}]", type_url, item)
                out[json_name] = list(value)
            else:
                out[json_name] = [_element(kind, sub, type_url, item, f"{fpath}[{i}]")
                                  for i, item in enumerate(value)]
        else:  # MAP
            fpath = f"{path}.{pname}" if path else pname
            if type(value) is not dict:
                raise _bad_value(fpath, type_url, value)
            result = {}
            for i, (k, v) in enumerate(value.items()):
                vpath = f"{fpath}[{i}].value"
                if v is None:
                    raise _bad_value(vpath, type_url, v)
                result[k] = _element(kind, sub, type_url, v, vpath)
            out[json_name] = result
    return out


def _value(kind: int, sub: Any, type_url: str, value: Any, path: str, pname: str) -> Any:
    """A singular non-string field (strings and messages are handled inline by _message)."""
    if type(value) is dict and kind not in (K_MESSAGE, K_STRUCT, K_VALUE, K_ANY):
        raise _unknown(pname, path, "Starting an object on a scalar field.")
    return _element(kind, sub, type_url, value, _join(path, pname))


def _element(kind: int, sub: Any, type_url: str, value: Any, path: str) -> Any:
    tv = type(value)
    if kind == K_STRING:
        if tv is str:
            return value
    elif kind == K_MESSAGE:
        if tv is dict:
            return _message(sub, value, path)
    elif kind == K_ENUM:
        if tv is str:
            if value in sub.names:
                return value
            name = sub.by_upper.get(value.upper())
            if name is not None:
                return name
        elif tv is int:
            name = sub.by_number.get(value)
            if name is not None:
                return name
    elif kind == K_BOOL:
        if tv is bool:
            return value
    elif kind in _INT_RANGES:
        number = None
        if tv is int:
            number = value
        elif tv is float and value.is_integer():
            number = int(value)
        elif tv is str and len(value) <= 24 and _INT_STRING.match(value):   # no int64 has more digits
            number = int(value)
        if number is not None:
            lo, hi = _INT_RANGES[kind]
            if lo <= number <= hi:
                return number
    elif kind == K_FLOAT or kind == K_DOUBLE:
        number = None
        if tv is float:
            number = value
        elif tv is int:
            if -1e308 < value < 1e308:   # a bigger integer is out of any float's range (float() would raise)
                number = float(value)
        elif tv is str:
            if value in _SPECIAL_FLOATS:
                number = _SPECIAL_FLOATS[value]
            elif len(value) <= 400 and _FLOAT_STRING.match(value):
                number = float(value)
                if not math.isfinite(number):   # "1e999": out of range, not a spelling of Infinity
                    number = None
        if number is not None and (kind == K_DOUBLE or not math.isfinite(number) or abs(number) <= _FLOAT_MAX):
            return number
    elif kind == K_BYTES:
        if tv is str and _BASE64.match(value) and len(value.rstrip("=")) % 4 != 1:
            return value
    elif kind == K_STRUCT or kind == K_ANY:
        if tv is dict and (kind == K_STRUCT or type(value.get("@type")) is str):
            return value
    elif kind == K_VALUE:
        return value
    elif kind == K_LIST:
        if tv is list:
            return value
    elif kind == K_TIMESTAMP:
        if tv is str and _TIMESTAMP.match(value):
            return value
    elif kind == K_DURATION:
        if tv is str and _DURATION.match(value):
            return value
    elif kind == K_FIELDMASK:
        if tv is str:
            return value
    raise _bad_value(path, type_url, value)


def decode_bytes(value: str) -> bytes:
    """Decode a proto3-JSON bytes value (standard or URL-safe base64, padding optional)."""
    padded = value + "=" * (-len(value) % 4)
    try:
        if "-" in value or "_" in value:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {value[:40]!r}") from exc


# ---------------------------------------------------------------------------------------------------
# Response validation (tests)

_OUTPUT_DROP = ("x-enum-numbers", "x-proto-enum", "x-proto-message", "x-overlay-source", "x-source",
                "x-oneof", "x-packed-any")


def _output_schema(schema: Any) -> Any:
    """Canonical proto3-JSON output form: int64 as strings, enums as names."""
    if isinstance(schema, dict):
        out = {k: _output_schema(v) for k, v in schema.items() if k not in _OUTPUT_DROP}
        if schema.get("format") in ("int64", "uint64") and schema.get("type") == ["string", "integer"]:
            out["type"] = "string"
            out.pop("minimum", None)
            out.pop("maximum", None)
        return out
    if isinstance(schema, list):
        return [_output_schema(v) for v in schema]
    return schema


def _response_defs(c: _Compiled) -> dict[str, Any]:
    if c._response_defs is None:
        defs: dict[str, Any] = {}
        for name, d in c.defs.items():
            if "x-enum-numbers" in d:
                defs[name] = {"type": "string", "enum": list(d["x-enum-numbers"])}
                continue
            out = _output_schema(d)
            oneofs = d.get("x-oneof", {})
            dependent: dict[str, Any] = {}
            for members in oneofs.values():
                if len(members) < 2:
                    continue
                for m in members:
                    dependent[m] = {"properties": {o: False for o in members if o != m}}
            if dependent:
                out["dependentSchemas"] = dependent
            defs[name] = out
        c._response_defs = defs
    return c._response_defs


def json_schema(version: str, name: str) -> dict[str, Any]:
    """A self-contained JSON Schema (draft 2020-12) for message `name` in its output form."""
    c = _get(version)
    if name not in c.messages:
        raise KeyError(f"no message {name!r} in the {version} schema")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": _response_defs(c), "$ref": f"#/$defs/{name}"}


def _validator(version: str, name: str) -> Validator:
    c = _get(version)
    v = c._validators.get(name)
    if v is None:
        from jsonschema import Draft202012Validator
        v = Draft202012Validator(json_schema(version, name))
        c._validators[name] = v
    return v


def response_errors(version: str, name: str, payload: Any) -> list[str]:
    """Readable problems of `payload` as a `name` response; empty when it conforms."""
    errors = sorted(_validator(version, name).iter_errors(payload),
                    key=lambda e: [str(p) for p in e.absolute_path])
    lines = []
    for e in errors:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path).lstrip(".")
        lines.append(f"{where or '<root>'}: {e.message}")
    return lines


def validate_response(version: str, name: str, payload: Any) -> None:
    """Raise AssertionError listing every way `payload` deviates from the `name` schema."""
    lines = response_errors(version, name, payload)
    if lines:
        shown = lines[:25]
        more = f"\n  ... and {len(lines) - 25} more" if len(lines) > 25 else ""
        raise AssertionError(f"{version} {name} response does not match the recorded schema:\n  "
                             + "\n  ".join(shown) + more)
