"""Record the Gemini API request/response shapes as JSON Schema, one file per API version.

Source: the protobuf message descriptors shipped in the PyPI package `google-ai-generativelanguage`
(modules google.ai.generativelanguage_v1, _v1beta, _v1alpha, _v1beta3), plus the hand-written overlays
in schemas/overlay/<version>.json for documented shapes the protos lack.

    pip install -e '.[schemas]' && python schemas/record.py

Output: schemas/<version>.json, deterministic (sorted keys, indent=1), so a re-record shows as a clean diff.
See schemas/README.md for the format.
"""
from __future__ import annotations

import copy
import importlib
import importlib.metadata
import inspect
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OVERLAY_DIR = HERE / "overlay"
VERSIONS = ("v1", "v1beta", "v1alpha", "v1beta3")
PACKAGE = "google-ai-generativelanguage"

# Messages that every version's REST surface uses although no proto field refers to them
# (long-running operations, the error status, Empty bodies).
ALWAYS_INCLUDE = (
    "google.longrunning.Operation",
    "google.longrunning.ListOperationsResponse",
    "google.rpc.Status",
    "google.protobuf.Empty",
)

INT32 = {"type": "integer", "format": "int32", "minimum": -2**31, "maximum": 2**31 - 1}
UINT32 = {"type": "integer", "format": "uint32", "minimum": 0, "maximum": 2**32 - 1}
INT64 = {"type": ["string", "integer"], "format": "int64", "pattern": "^-?[0-9]+$",
         "minimum": -2**63, "maximum": 2**63 - 1}
UINT64 = {"type": ["string", "integer"], "format": "uint64", "pattern": "^[0-9]+$",
          "minimum": 0, "maximum": 2**64 - 1}
BASE64 = "^[A-Za-z0-9+/_-]*={0,2}$"
RFC3339 = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
           r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")
DURATION = r"^-?[0-9]+(\.[0-9]{1,9})?s$"

# FieldDescriptor.type number -> (proto type name, JSON Schema)
SCALARS = {
    1: ("TYPE_DOUBLE", {"type": "number", "format": "double"}),
    2: ("TYPE_FLOAT", {"type": "number", "format": "float"}),
    3: ("TYPE_INT64", INT64),
    4: ("TYPE_UINT64", UINT64),
    5: ("TYPE_INT32", INT32),
    6: ("TYPE_FIXED64", UINT64),
    7: ("TYPE_FIXED32", UINT32),
    8: ("TYPE_BOOL", {"type": "boolean"}),
    9: ("TYPE_STRING", {"type": "string"}),
    12: ("TYPE_BYTES", {"type": "string", "format": "byte", "contentEncoding": "base64", "pattern": BASE64}),
    13: ("TYPE_UINT32", UINT32),
    15: ("TYPE_SFIXED32", INT32),
    16: ("TYPE_SFIXED64", INT64),
    17: ("TYPE_SINT32", INT32),
    18: ("TYPE_SINT64", INT64),
}
TYPE_MESSAGE, TYPE_ENUM = 11, 14

# Well-known types are written inline with their proto3-JSON form, never as $defs.
WELL_KNOWN = {
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Any": {"type": "object", "properties": {"@type": {"type": "string"}},
                            "required": ["@type"]},
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time", "pattern": RFC3339},
    "google.protobuf.Duration": {"type": "string", "pattern": DURATION},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.DoubleValue": {"type": "number", "format": "double"},
    "google.protobuf.FloatValue": {"type": "number", "format": "float"},
    "google.protobuf.Int64Value": INT64,
    "google.protobuf.UInt64Value": UINT64,
    "google.protobuf.Int32Value": INT32,
    "google.protobuf.UInt32Value": UINT32,
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": SCALARS[12][1],
}

BEHAVIOURS = ("Required.", "Output only.")


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def snake(camel_name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel_name).lower()


def proto_field_name(field) -> str:
    """The .proto field name. proto-plus renames fields that shadow Python names (`type` -> `type_`)."""
    name = field.name
    if name.endswith("_") and camel(name[:-1]) == field.json_name:
        return name[:-1]
    return name


# ---------------------------------------------------------------------------------------------------
# Field behaviour (REQUIRED / OUTPUT_ONLY): proto-plus does not keep the google.api.field_behavior
# option, but its generated docstrings start each field's description with "Required." or
# "Output only." (that is how the option is rendered), so read it from there.

_ATTR_LINE = re.compile(r"^(\s+)(\w+) \(.*\):\s*$")


def docstring_behaviour(cls) -> dict[str, set[str]]:
    doc = inspect.getdoc(cls) or ""
    lines = doc.splitlines()
    out: dict[str, set[str]] = {}
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Attributes:")
    except StopIteration:
        return out
    i = start + 1
    while i < len(lines):
        m = _ATTR_LINE.match(lines[i])
        if m:
            name = m.group(2)
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            first = lines[j].strip() if j < len(lines) else ""
            tags = set()
            # "Immutable. Identifier. ..." and "Optional. ..." can precede the tag.
            words = first
            while True:
                for tag in BEHAVIOURS:
                    if words.startswith(tag):
                        tags.add(tag)
                stripped = re.sub(r"^(Immutable|Identifier|Optional|Input only)\.\s*", "", words)
                if stripped == words:
                    break
                words = stripped
            if tags:
                out[name.rstrip("_")] = tags
            i = j
        else:
            i += 1
    return out


def proto_plus_classes(module) -> dict[str, type]:
    """descriptor full name -> proto-plus class, for every message class (nested ones too)."""
    import proto

    found: dict[str, type] = {}

    def visit(cls):
        try:
            full = cls.pb().DESCRIPTOR.full_name
        except Exception:  # pragma: no cover - not a concrete message
            return
        if full in found:
            return
        found[full] = cls
        for attr in vars(cls).values():
            if inspect.isclass(attr) and issubclass(attr, proto.Message):
                visit(attr)

    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, proto.Message):
            visit(obj)
    return found


# ---------------------------------------------------------------------------------------------------
# Descriptor walk

class Recorder:
    def __init__(self, version: str):
        self.version = version
        self.module = importlib.import_module(f"google.ai.generativelanguage_{version}.types")
        self.classes = proto_plus_classes(self.module)
        self.messages: dict[str, object] = {}   # full name -> Descriptor
        self.enums: dict[str, object] = {}      # full name -> EnumDescriptor
        self.names: dict[str, str] = {}         # full name -> $defs key

    # -- collection --
    def collect(self):
        files = {}
        for cls in self.classes.values():
            fd = cls.pb().DESCRIPTOR.file
            files[fd.name] = fd
        for fname in sorted(files):
            fd = files[fname]
            for d in fd.message_types_by_name.values():
                self._add_message(d)
            for e in fd.enum_types_by_name.values():
                self._add_enum(e)
        from google.longrunning import operations_pb2  # noqa: F401  (registers the descriptors)
        from google.protobuf import descriptor_pool, empty_pb2  # noqa: F401
        from google.rpc import status_pb2  # noqa: F401

        pool = descriptor_pool.Default()
        for full in ALWAYS_INCLUDE:
            self._add_message(pool.FindMessageTypeByName(full))

    def _add_enum(self, e):
        self.enums.setdefault(e.full_name, e)

    def _add_message(self, d):
        if d.full_name in self.messages or d.full_name in WELL_KNOWN or d.GetOptions().map_entry:
            if d.GetOptions().map_entry:
                for f in d.fields:
                    self._follow(f)
            return
        self.messages[d.full_name] = d
        for n in d.nested_types:
            self._add_message(n)
        for e in d.enum_types:
            self._add_enum(e)
        for f in d.fields:
            self._follow(f)

    def _follow(self, f):
        if f.type == TYPE_MESSAGE:
            self._add_message(f.message_type)
        elif f.type == TYPE_ENUM:
            self._add_enum(f.enum_type)

    # -- naming --
    def relative(self, full: str) -> str:
        """`Candidate.FinishReason` for google.ai.generativelanguage.<v>.Candidate.FinishReason;
        other packages' types keep their full name."""
        prefix = f"google.ai.generativelanguage.{self.version}."
        return full[len(prefix):] if full.startswith(prefix) else full

    def descriptors(self) -> dict[str, object]:
        return {**self.messages, **self.enums}

    # -- schemas --
    def element_schema(self, f) -> dict:
        if f.type == TYPE_MESSAGE:
            full = f.message_type.full_name
            if full in WELL_KNOWN:
                s = copy.deepcopy(WELL_KNOWN[full])
                s["x-proto-type"] = full
                return s
            return {"$ref": f"#/$defs/{self.names[full]}"}
        if f.type == TYPE_ENUM:
            return {"$ref": f"#/$defs/{self.names[f.enum_type.full_name]}"}
        type_name, schema = SCALARS[f.type]
        s = copy.deepcopy(schema)
        s["x-proto-type"] = type_name
        return s

    def field_schema(self, f, behaviour: set[str]) -> dict:
        if f.type == TYPE_MESSAGE and f.message_type.GetOptions().map_entry:
            key_f, value_f = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
            schema = {"type": "object", "additionalProperties": self.element_schema(value_f),
                      "x-map-key": SCALARS[key_f.type][0]}
            if key_f.type not in (9,):
                schema["propertyNames"] = {"pattern": "^-?[0-9]+$" if key_f.type != 8 else "^(true|false)$"}
        elif f.is_repeated if hasattr(f, "is_repeated") else f.label == 3:
            schema = {"type": "array", "items": self.element_schema(f)}
        else:
            schema = self.element_schema(f)
        schema["x-proto-name"] = proto_field_name(f)
        if f.type == TYPE_MESSAGE and f.message_type.GetOptions().map_entry:
            value_f = f.message_type.fields_by_name["value"]
            if value_f.type == TYPE_MESSAGE:
                schema["x-proto-type"] = value_f.message_type.full_name
            elif value_f.type == TYPE_ENUM:
                schema["x-proto-type"] = value_f.enum_type.full_name
            else:
                schema["x-proto-type"] = SCALARS[value_f.type][0]
        elif f.type == TYPE_MESSAGE:
            schema["x-proto-type"] = f.message_type.full_name
        elif f.type == TYPE_ENUM:
            schema["x-proto-type"] = f.enum_type.full_name
        else:
            schema["x-proto-type"] = SCALARS[f.type][0]
        if "Required." in behaviour:
            schema["x-required"] = True
        if "Output only." in behaviour:
            schema["readOnly"] = True
        return schema

    def message_schema(self, d) -> dict:
        cls = self.classes.get(d.full_name)
        behaviour = docstring_behaviour(cls) if cls is not None else {}
        props = {}
        for f in d.fields:
            pname = proto_field_name(f)
            if camel(pname) != f.json_name:
                print(f"note: {d.full_name}.{pname} has json_name {f.json_name}", file=sys.stderr)
            props[f.json_name] = self.field_schema(f, behaviour.get(pname, set()))
        schema = {"type": "object", "properties": props, "additionalProperties": False,
                  "x-proto-message": d.full_name}
        oneofs = {}
        for o in d.oneofs:
            members = [f.json_name for f in o.fields]
            # proto3 `optional` makes a synthetic one-member oneof named "_<field>": not a real oneof.
            if len(o.fields) == 1 and o.name == "_" + o.fields[0].name:
                continue
            oneofs[o.name] = members
        if oneofs:
            schema["x-oneof"] = oneofs
        return schema

    def enum_schema(self, e) -> dict:
        numbers = {}
        for v in e.values:
            numbers.setdefault(v.name, v.number)
        return _enum_schema(numbers, e.full_name, {})

    def record(self) -> dict:
        """The $defs; call collect() first and give self.names (see assign_names)."""
        defs = {}
        for full, d in self.messages.items():
            defs[self.names[full]] = self.message_schema(d)
        for full, e in self.enums.items():
            defs[self.names[full]] = self.enum_schema(e)
        return defs


def assign_names(recorders: list[Recorder]) -> None:
    """Pick each type's $defs key, the same in every version's file.

    Short names, like the discovery document; when a short name is shared (across all versions), a
    nested type gets its parents' names prepended (LogprobsResult.Candidate -> LogprobsResultCandidate)
    while a lone top-level type keeps the short name; anything still clashing gets its dotted name.
    """
    chains: dict[str, list[str]] = {}
    for rec in recorders:
        for full, d in rec.descriptors().items():
            parts = []
            while d is not None:
                parts.append(d.name)
                d = d.containing_type
            chains[rec.relative(full)] = parts[::-1]
    by_short: dict[str, list[str]] = {}
    for rel in sorted(chains):
        by_short.setdefault(chains[rel][-1], []).append(rel)
    names: dict[str, str] = {}
    for short, rels in by_short.items():
        tops = [r for r in rels if len(chains[r]) == 1]
        for rel in rels:
            if len(rels) == 1 or (len(chains[rel]) == 1 and len(tops) == 1):
                names[rel] = short
            else:
                names[rel] = "".join(chains[rel])
    owners: dict[str, list[str]] = {}
    for rel in sorted(names):
        owners.setdefault(names[rel], []).append(rel)
    for name, rels in owners.items():
        if len(rels) > 1:
            for rel in rels:
                names[rel] = rel
    for rec in recorders:
        rec.names = {full: names[rec.relative(full)] for full in rec.descriptors()}


# ---------------------------------------------------------------------------------------------------
# Overlays

def load_overlay(version: str) -> dict:
    path = OVERLAY_DIR / f"{version}.json"
    if not path.exists():
        return {}
    overlay = json.loads(path.read_text())
    merged: dict = {}
    for inc in overlay.get("x-include", []):
        for name, d in load_overlay(inc).items():
            merged[name] = d
    for name, d in overlay.get("$defs", {}).items():
        if name in merged:
            base = copy.deepcopy(merged[name])
            base.setdefault("properties", {}).update(d.get("properties", {}))
            for k, v in d.items():
                if k != "properties":
                    base[k] = v
            merged[name] = base
        else:
            merged[name] = d
    return merged


SCALAR_BY_NAME = {name: schema for name, schema in SCALARS.values()}


def _complete_element(schema: dict, where: str) -> dict:
    """Fill an overlay element schema from its x-proto-type (so overlays can stay short)."""
    if "$ref" in schema:
        return schema
    ptype = schema.get("x-proto-type")
    canonical = SCALAR_BY_NAME.get(ptype) or WELL_KNOWN.get(ptype)
    if canonical is None:
        raise SystemExit(f"overlay {where}: give a $ref or a known x-proto-type (got {ptype!r})")
    return {**copy.deepcopy(canonical), **schema}


def _complete_property(name: str, prop: dict, where: str) -> dict:
    prop = copy.deepcopy(prop)
    prop.setdefault("x-proto-name", snake(name))
    here = f"{where}.{name}"
    if "x-map-key" in prop:
        prop["additionalProperties"] = _complete_element(prop["additionalProperties"], here)
        prop.setdefault("type", "object")
        inner = prop["additionalProperties"]
    elif prop.get("type") == "array":
        prop["items"] = _complete_element(prop["items"], here)
        inner = prop["items"]
    else:
        prop = _complete_element(prop, here)
        inner = prop
    if "x-proto-type" not in prop and "x-proto-type" in inner:
        prop["x-proto-type"] = inner["x-proto-type"]
    return prop


def _enum_schema(numbers: dict, full_name: str, extra: dict) -> dict:
    ints = sorted({n for n in numbers.values() if n is not None})
    return {**extra, "type": ["string", "integer"], "enum": list(numbers) + ints,
            "x-enum-numbers": numbers, "x-proto-enum": full_name}


def apply_overlay(version: str, defs: dict) -> list[str]:
    """Merge schemas/overlay/<version>.json into defs; returns the names of defs it touched.

    An overlay def either extends a recorded def (new `properties`, `x-oneof` groups, or enum values
    under `x-enum-add`, whose wire numbers are unknown and recorded as null), or is a new def (a
    message with `properties`, an enum with `x-enum-numbers`, or `x-packed-any: <Message>` for a
    google.protobuf.Any carrying that message: its fields plus "@type"). Every addition carries an
    `x-source` (on the def or on each property) saying where the fact comes from.
    """
    package = f"google.ai.generativelanguage.{version}"
    touched = []
    packed_defs = []
    for name, od in load_overlay(version).items():
        od = copy.deepcopy(od)
        where = f"{version}:{name}"
        if "x-packed-any" in od:
            packed_defs.append((name, od.pop("x-packed-any"), od))
        elif name in defs:
            target = defs[name]
            def_source = od.pop("x-source", None)
            props = od.pop("properties", {})
            if def_source is None and not all("x-source" in p for p in props.values()):
                raise SystemExit(f"overlay {where}: every addition needs an x-source")
            for pname, prop in props.items():
                if pname in target.get("properties", {}) and not prop.pop("x-override", False):
                    raise SystemExit(f"overlay {where}.{pname} already exists in the protos; "
                                     f"set x-override to replace it")
                target["properties"][pname] = _complete_property(pname, prop, name)
            for oname, members in od.pop("x-oneof", {}).items():
                target.setdefault("x-oneof", {})[oname] = members
            added = od.pop("x-enum-add", [])
            if added:
                numbers = dict(target["x-enum-numbers"])
                for value in added:
                    numbers.setdefault(value, None)
                target.update(_enum_schema(numbers, target["x-proto-enum"], {}))
            if od:
                raise SystemExit(f"overlay {where}: cannot merge keys {sorted(od)} into a recorded def")
            if def_source is not None:
                target["x-overlay-source"] = def_source
        else:
            if "x-source" not in od:
                raise SystemExit(f"overlay {where}: a new def needs an x-source")
            if "x-enum-numbers" in od:
                defs[name] = _enum_schema(od.pop("x-enum-numbers"), f"{package}.{name}", od)
            elif "properties" in od:
                props = {p: _complete_property(p, sch, name) for p, sch in od.pop("properties").items()}
                defs[name] = {"type": "object", "additionalProperties": False,
                              "x-proto-message": f"{package}.{name}", **od, "properties": props}
            else:
                raise SystemExit(f"overlay {where}: a new def needs properties or x-enum-numbers")
        touched.append(name)
    for name, packed, od in packed_defs:
        if packed not in defs:
            raise SystemExit(f"overlay {version}:{name}: x-packed-any names unknown def {packed}")
        d = copy.deepcopy(defs[packed])
        d["properties"]["@type"] = {"type": "string", "x-proto-name": "@type", "x-proto-type": "TYPE_STRING"}
        d.update(od)
        d["x-packed-any"] = packed
        defs[name] = d
    return touched


def check_refs(version: str, defs: dict):
    text = json.dumps(defs)
    for ref in sorted(set(re.findall(r'"#/\$defs/([^"]+)"', text))):
        if ref not in defs:
            raise SystemExit(f"{version}: dangling $ref {ref}")


def render_all(package_version: str) -> dict[str, tuple[str, int, int]]:
    """version -> (JSON text of schemas/<version>.json, number of defs, number of overlay defs)."""
    recorders = [Recorder(v) for v in VERSIONS]
    for rec in recorders:
        rec.collect()
    assign_names(recorders)
    out = {}
    for rec in recorders:
        defs = rec.record()
        touched = apply_overlay(rec.version, defs)
        check_refs(rec.version, defs)
        doc = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "x-source": {"package": PACKAGE, "version": package_version, "recordedBy": "schemas/record.py",
                         "protoPackage": f"google.ai.generativelanguage.{rec.version}",
                         "overlay": f"schemas/overlay/{rec.version}.json" if touched else None},
            "$defs": defs,
        }
        text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        out[rec.version] = (text, len(defs), len(touched))
    return out


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write <version>.json into")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a recorded file differs from a fresh recording")
    args = parser.parse_args(argv)
    package_version = importlib.metadata.version(PACKAGE)
    stale = []
    for v, (text, n_defs, n_overlay) in render_all(package_version).items():
        out = args.out / f"{v}.json"
        if args.check:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                stale.append(str(out))
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"{out}: {n_defs} defs ({n_overlay} from the overlay)")
    if stale:
        print("out of date (run python schemas/record.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
