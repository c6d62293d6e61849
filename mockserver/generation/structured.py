"""Deterministic JSON values that are valid against a schema, for JSON mode and function-call arguments.

Two dialects:

* `"openapi"`: the OpenAPI-3.0 subset of `responseSchema` / `FunctionDeclaration.parameters` (`type` in
  upper or lower case, `format`, `nullable`, `enum`, `properties`, `required`, `items`, `minItems`,
  `maxItems`, `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`, `anyOf`, `propertyOrdering`,
  `minProperties`, `maxProperties`). Objects list their keys in `propertyOrdering`, else alphabetically,
  as the real API does.
* `"jsonschema"`: JSON Schema (`responseJsonSchema` / `parametersJsonSchema`): `type` (or a list of types),
  `properties`, `required`, `additionalProperties`, `items`, `prefixItems`, `enum`, `const`, `anyOf`,
  `oneOf`, `allOf`, `$ref` into `$defs`/`definitions`, numeric ranges (inclusive and exclusive),
  `multipleOf`, lengths, `pattern`, `format`, `uniqueItems`, `dependentRequired`, min/maxProperties.
  Objects keep the schema's key order.

Required properties are always present; optional ones mostly (never below depth 4, which also bounds
recursive schemas). Free strings are short phrases, or words of the prompt passed as `hints` (preferred
for keys such as `location`, `city`, `query`, `name`, `topic`). `pattern` strings are generated from the
regular expression itself.

`check_openapi_schema` and `check_json_schema` (schema_checks.py) reject malformed schemas up front with the real
API's 400s; `pattern` strings come from pattern_strings.py.
"""
from __future__ import annotations

import json
import math
import random
import re
from typing import TYPE_CHECKING, Any, Iterator, Literal, overload
from urllib.parse import unquote

import regex

from .. import safe_regex
from ..errors import invalid_argument
from . import budget as cost
from .text import ADJECTIVES, NOUNS, pseudo_words

try:  # Python 3.11+
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # no stub for the private module
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

from .pattern_strings import PATTERN_SLACK, emit

if TYPE_CHECKING:
    from jsonschema.protocols import Validator


OPENAPI = "openapi"
JSON_SCHEMA = "jsonschema"

SOFT_DEPTH = 4    # below this depth: no optional properties, minimal arrays, prefer non-recursive branches
HARD_DEPTH = 32   # deeper values are refused (required properties that recurse forever)

OPENAPI_TYPES = ("STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL", "TYPE_UNSPECIFIED")
_HINT_KEYS = ("location", "city", "country", "place", "query", "search", "name", "topic", "subject", "title",
              "keyword", "term", "destination", "region", "address")


def value_for_schema(schema: Any, rng: random.Random, *, dialect: str = OPENAPI,
                     hints: list[str] | tuple[str, ...] = (), budget: int | None = None,
                     field: str | None = None, stop: int | None = None, tally: list[int] | None = None) -> Any:
    """A JSON value valid against `schema` (a dict, or a JSON Schema boolean), chosen by `rng`.

    `budget`: characters the answer may hold (see budget.py); past it only what the schema requires is
    added, and a value far over it is a 400 naming `field`. `stop`: characters past which the answer will be
    cut (maxOutputTokens): from there on nothing is made (nulls stand in), so the value is valid only up to
    that point. `tally`: a count of values shared by the candidates of one request (see OutputMeter)."""
    meter = cost.OutputMeter(budget if budget is not None else cost.DEFAULT_OUTPUT_TOKENS * cost.CHARS_PER_TOKEN,
                             field, stop=stop, tally=tally)
    return _Generator(schema, rng, dialect, list(hints), meter).value(schema, 0, "")


def check_cost(schema: Any, dialect: str, field: str, budget: int) -> None:
    """400 naming the keyword when the smallest value `schema` allows cannot fit in `budget` characters."""
    resolve = _Generator(schema, random.Random(0), dialect, [], cost.OutputMeter(budget, field)).resolve
    cost.check_schema_cost(schema, dialect, field, budget, resolve)


def _int(value: Any, default: int | None = None) -> int | None:
    """int64 fields may arrive as strings ("3")."""
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _Generator:
    def __init__(self, root: Any, rng: random.Random, dialect: str, hints: list[str], meter: cost.OutputMeter):
        self.root = root
        self.rng = rng
        self.dialect = dialect
        self.hints = hints
        self.meter = meter
        self._validator: Validator | None = None

    # -- schema plumbing ---------------------------------------------------------------------------

    def resolve(self, schema: Any) -> Any:
        """Follow `$ref` (merging sibling keywords) and fold `allOf` into one schema."""
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            seen += 1
            if seen > 64:
                raise invalid_argument("The schema's $ref chain does not end.", None)
            target = self._pointer(schema["$ref"])
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(target, siblings) if siblings else target
        if isinstance(schema, dict) and isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = _merge(merged, self.resolve(part))
            schema = self.resolve(merged) if "$ref" in merged or "allOf" in merged else merged
        return schema

    def _pointer(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise invalid_argument(f"Unsupported $ref {ref!r}: only references inside the schema (\"#/...\") "
                                   "are supported.", None)
        node = self.root
        path = ref[1:]
        if path in ("", "/"):
            return node
        for raw in path.lstrip("/").split("/"):
            key = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise invalid_argument(f"The schema's $ref {ref!r} does not resolve.", None)
        return node

    def _type(self, schema: dict[str, Any], depth: int) -> str:
        """The one type to produce: string/number/integer/boolean/array/object/null (lower case)."""
        rng = self.rng
        if self.dialect == OPENAPI:
            named = str(schema.get("type") or "").lower()
            if named in ("", "type_unspecified"):
                named = _infer_type(schema)
            if schema.get("nullable") is True and named != "null":
                if rng.random() < (0.6 if depth >= SOFT_DEPTH else 0.1):
                    return "null"
            return named
        declared = schema.get("type")
        if isinstance(declared, list):
            options = [t for t in declared if isinstance(t, str)]
            non_null = [t for t in options if t != "null"]
            if not non_null:
                return "null" if options else _infer_type(schema)
            if "null" in options and rng.random() < (0.6 if depth >= SOFT_DEPTH else 0.1):
                return "null"
            return non_null[0] if len(non_null) == 1 else rng.choice(non_null)
        if isinstance(declared, str):
            return declared
        return _infer_type(schema)

    # -- values ------------------------------------------------------------------------------------

    def value(self, schema: Any, depth: int, key: str) -> Any:
        if self.meter.cut:   # past what the client will see: make nothing more
            return None
        self.meter.value()
        if depth > HARD_DEPTH:   # required properties that recurse without end
            self.meter.refuse(f"a value nested more than {HARD_DEPTH} levels deep")
        made = self._make(schema, depth, key)
        if type(made) is str:
            self.meter.text(made)
        return made

    def _make(self, schema: Any, depth: int, key: str) -> Any:
        if schema is True or schema is None or schema == {}:
            return self.free_string(key, {}) if depth < HARD_DEPTH else None
        if schema is False or not isinstance(schema, dict):
            return None
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return self.value(schema, depth, key)
        if "const" in schema and self.dialect == JSON_SCHEMA:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self.enum_value(schema, enum)
        for combinator in ("anyOf", "oneOf"):
            branches = schema.get(combinator)
            if isinstance(branches, list) and branches:
                return self.branch_value(schema, combinator, branches, depth, key)
        kind = self._type(schema, depth)
        if kind == "object":
            return self.object_value(schema, depth)
        if kind == "array":
            return self.array_value(schema, depth, key)
        if kind == "integer":
            return self.number_value(schema, integer=True)
        if kind == "number":
            return self.number_value(schema, integer=False)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string_value(schema, key)

    def enum_value(self, schema: dict[str, Any], enum: list[Any]) -> Any:
        choice = self.rng.choice(enum)
        declared = str(schema.get("type") or "").lower() if self.dialect == OPENAPI else None
        if declared in ("integer", "number") and isinstance(choice, str):
            number = _num(choice)
            if number is not None:
                return int(number) if declared == "integer" and number.is_integer() else number
        if self.dialect == OPENAPI and schema.get("nullable") is True and self.rng.random() < 0.05:
            return None
        return choice

    def branch_value(self, schema: dict[str, Any], combinator: str, branches: list[Any], depth: int, key: str) -> Any:
        base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        order = list(range(len(branches)))
        self.rng.shuffle(order)
        if depth >= SOFT_DEPTH:  # prefer the branch that ends the recursion
            order.sort(key=lambda i: _complexity(self.resolve(branches[i])))
        if self.dialect == OPENAPI and schema.get("nullable") is True and self.rng.random() < 0.1:
            return None
        attempts = order if combinator == "oneOf" else order[:1]
        value = None
        for i in attempts:
            branch = self.resolve(branches[i])
            candidate = _merge(base, branch) if base and isinstance(branch, dict) else branch
            value = self.value(candidate, depth, key)
            if combinator == "anyOf" or self.meter.cut or self._exactly_one(branches, value):
                return value
        return value

    def _exactly_one(self, branches: list[Any], value: Any) -> bool:
        """oneOf: the value must match exactly one branch (checked with the jsonschema library)."""
        if self._validator is None:
            root = self.root if isinstance(self.root, dict) else {}
            self._validator = _bounded_validator(root, self.meter.field)
        matches = 0
        for branch in branches:
            if self._validator.evolve(schema=branch).is_valid(value):
                matches += 1
        return matches == 1

    def object_value(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        rng = self.rng
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            properties = {}
        required = [name for name in (schema.get("required") or []) if isinstance(name, str)]
        required_set = set(required)
        if self.dialect == OPENAPI:
            ordering = [name for name in (schema.get("propertyOrdering") or []) if name in properties]
            names = ordering + sorted(name for name in properties if name not in ordering)
        else:
            names = list(properties)
        chosen = []
        for name in names:
            if properties[name] is False:
                continue
            if name in required_set or (depth < SOFT_DEPTH and not self.meter.lean and rng.random() < 0.8):
                chosen.append(name)
        dependent = schema.get("dependentRequired")
        if isinstance(dependent, dict):
            pending = list(chosen)
            while pending:
                for extra in dependent.get(pending.pop(), ()) or ():
                    if extra in properties and extra not in chosen:
                        chosen.append(extra)
                        pending.append(extra)
            chosen.sort(key=names.index)
        minimum = _int(schema.get("minProperties"), 0) or 0
        maximum = _int(schema.get("maxProperties"))
        for name in names:
            if len(chosen) >= minimum:
                break
            if name not in chosen and properties[name] is not False:
                chosen.append(name)
        chosen.sort(key=names.index)
        if maximum is not None and len(chosen) > maximum:
            optional = [n for n in chosen if n not in required_set]
            while len(chosen) > maximum and optional:
                chosen.remove(optional.pop())
        result = {}
        for name in chosen:
            if self.meter.cut:
                break
            if self.meter.lean and name not in required_set:   # over budget: only what is required
                continue
            result[name] = self.value(properties[name], depth + 1, name)
        # Required names without a property schema, then extra keys when more properties are needed.
        additional = schema.get("additionalProperties", True if self.dialect == JSON_SCHEMA else False)
        if self.dialect == OPENAPI and not properties and "additionalProperties" not in schema:
            additional = {}   # an OBJECT without properties is a free-form object (the API takes it)
        for name in required:
            if name not in result and not self.meter.cut:
                result[name] = self.value(additional if isinstance(additional, dict) else True, depth + 1, name)
        wanted = minimum
        if not properties and isinstance(additional, dict) and depth < SOFT_DEPTH and not self.meter.lean:
            wanted = max(wanted, rng.randint(1, 2))
        if maximum is not None:
            wanted = min(wanted, maximum)
        extra_index = 1
        while len(result) < wanted and additional is not False and not self.meter.cut:
            name = f"{rng.choice(NOUNS)}_{extra_index}"
            extra_index += 1
            if name in result or name in properties:
                continue
            result[name] = self.value(additional if isinstance(additional, dict) else True, depth + 1, name)
        return result

    def array_value(self, schema: dict[str, Any], depth: int, key: str) -> list[Any]:
        rng = self.rng
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(items, list):  # draft-07 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        prefix = prefix if isinstance(prefix, list) else []
        if items is None:
            items = True if self.dialect == JSON_SCHEMA else {"type": "STRING"}
        minimum = max(0, _int(schema.get("minItems"), 0) or 0)
        maximum = _int(schema.get("maxItems"))
        if items is False:
            maximum = len(prefix) if maximum is None else min(maximum, len(prefix))
        if depth >= SOFT_DEPTH or self.meter.lean:
            length = minimum
        else:
            length = max(minimum, min(rng.randint(1, 3), maximum if maximum is not None else 3))
        if maximum is not None:
            length = min(length, max(maximum, minimum))
        unique = schema.get("uniqueItems") is True
        result: list[Any] = []
        seen: set[str] = set()
        attempts = 0
        while len(result) < length and attempts < length * 8 + 8 and not self.meter.cut:
            attempts += 1
            index = len(result)
            item_schema = prefix[index] if index < len(prefix) else items
            value = self.value(item_schema, depth + 1, key)
            if unique:
                marker = json.dumps(value, sort_keys=True)
                if marker in seen:
                    continue
                seen.add(marker)
            result.append(value)
        return result

    def number_value(self, schema: dict[str, Any], *, integer: bool) -> int | float:
        rng = self.rng
        low = _num(schema.get("minimum"))
        high = _num(schema.get("maximum"))
        low_open = high_open = False
        exclusive_min = schema.get("exclusiveMinimum")
        exclusive_max = schema.get("exclusiveMaximum")
        if exclusive_min is True:
            low_open = True
        elif (bound := _num(exclusive_min)) is not None and (low is None or bound >= low):
            low, low_open = bound, True
        if exclusive_max is True:
            high_open = True
        elif (bound := _num(exclusive_max)) is not None and (high is None or bound <= high):
            high, high_open = bound, True
        if low is None:
            low = 0.0 if high is None else high - 100.0
        if high is None:
            high = low + 100.0
        multiple = _num(schema.get("multipleOf"))
        if integer:
            lo = math.floor(low) + 1 if low_open and float(low).is_integer() else math.ceil(low)
            hi = math.ceil(high) - 1 if high_open and float(high).is_integer() else math.floor(high)
            if lo > hi:
                return int(lo)
            if multiple and multiple > 0 and float(multiple).is_integer():
                step = int(multiple)
                first = -(-lo // step) * step
                if first <= hi:
                    return first + step * rng.randint(0, (hi - first) // step)
            return rng.randint(lo, hi)
        if multiple and multiple > 0:
            # value / multiple must come out integral in floating point (that is how validators check it),
            # which not every k * multiple does (0.3 / 0.1 == 2.9999999999999996): try k's until one does.
            first, last = math.ceil(low / multiple), math.floor(high / multiple)
            if first <= last:
                ks = list(range(first, min(last, first + 999) + 1))
                rng.shuffle(ks)
                for k in ks:
                    value = float(k * multiple)
                    rounded = round(value, 12)
                    for candidate in (rounded, value):
                        quotient = candidate / multiple
                        if int(quotient) == quotient and _inside(candidate, low, high, low_open, high_open):
                            return candidate
            return low
        value = round(rng.uniform(low, high), 2)
        if _inside(value, low, high, low_open, high_open):
            return value
        middle = (low + high) / 2
        return middle if _inside(middle, low, high, low_open, high_open) else low

    # -- strings -----------------------------------------------------------------------------------

    def string_value(self, schema: dict[str, Any], key: str) -> str:
        min_length = max(0, _int(schema.get("minLength"), 0) or 0)
        max_length = _int(schema.get("maxLength"))
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and pattern:
            generated = self.pattern_string(pattern, min_length, max_length)
            if generated is not None:
                return generated
        fmt = schema.get("format")
        text = self.format_string(fmt) if isinstance(fmt, str) else None
        if text is None:
            text = self.free_string(key, schema)
        return _fit_length(text, min_length, max_length, self.rng)

    def free_string(self, key: str, schema: dict[str, Any]) -> str:
        rng = self.rng
        lowered = key.lower()
        hint_key = any(word in lowered for word in _HINT_KEYS)
        if self.hints and (hint_key or rng.random() < 0.3):
            return self.hints[rng.randrange(len(self.hints))]
        if "email" in lowered:
            return self.format_string("email")
        if lowered.endswith(("url", "uri", "link")):
            return self.format_string("uri")
        if lowered in ("date", "day") or lowered.endswith("_date"):
            return self.format_string("date")
        if "name" in lowered:
            return f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS).title()}"
        if lowered == "id" or lowered.endswith(("_id", "Id")):
            return f"{rng.choice(NOUNS)}-{rng.randint(100, 999)}"
        return pseudo_words(rng, rng.randint(1, 4))

    @overload
    def format_string(self, fmt: Literal["email", "uri", "date"]) -> str: ...
    @overload
    def format_string(self, fmt: str) -> str | None: ...

    def format_string(self, fmt: str) -> str | None:
        rng = self.rng
        fmt = fmt.lower()
        if fmt == "date-time":
            return (f"{rng.randint(2020, 2026):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")
        if fmt == "date":
            return f"{rng.randint(2020, 2026):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if fmt == "time":
            return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
        if fmt in ("email", "idn-email"):
            return f"{rng.choice(ADJECTIVES)}.{rng.choice(NOUNS)}@example.com"
        if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
            return f"https://example.com/{rng.choice(NOUNS)}/{rng.randint(1, 999)}"
        if fmt in ("hostname", "idn-hostname"):
            return f"{rng.choice(NOUNS)}.example.com"
        if fmt == "ipv4":
            return f"192.0.2.{rng.randint(1, 254)}"
        if fmt == "ipv6":
            return f"2001:db8::{rng.randint(1, 0xfffe):x}"
        if fmt == "uuid":
            bits = rng.getrandbits(128)
            raw = f"{bits:032x}"
            return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-{'89ab'[bits & 3]}{raw[17:20]}-{raw[20:32]}"
        if fmt == "duration":
            return f"PT{rng.randint(1, 59)}M"
        if fmt == "json-pointer":
            return f"/{rng.choice(NOUNS)}/{rng.randint(0, 9)}"
        if fmt == "regex":
            return "^[a-z]+$"
        return None

    def pattern_string(self, pattern: str, min_length: int, max_length: int | None) -> str | None:
        """A string containing a match of `pattern` (JSON Schema patterns are unanchored)."""
        python_pattern = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)
        try:
            re.compile(python_pattern)
            parsed = _sre_parse.parse(python_pattern)
            compiled = regex.compile(python_pattern)   # matched with a time budget
        except (re.error, regex.error, RecursionError, OverflowError, ValueError):
            return None
        room = 8 * max(min_length, cost.pattern_min_length(python_pattern)) + PATTERN_SLACK
        best = None
        for _ in range(12):
            out: list[str] = []
            groups: dict[int, str] = {}
            try:
                emit(parsed, self.rng, out, groups, [room])
            except (RecursionError, ValueError):
                return None
            text = "".join(out)
            if not safe_regex.search(compiled, text, f"{self.meter.field or 'schema'} pattern"):
                continue
            best = best if best is not None else text
            if len(text) >= min_length and (max_length is None or len(text) <= max_length):
                return text
        return best


def _bounded_validator(root: dict[str, Any], field: str | None) -> Validator:
    """A jsonschema validator for `root` whose `pattern` keyword matches with a time budget."""
    from jsonschema.exceptions import ValidationError
    from jsonschema.validators import extend, validator_for

    def pattern(validator: Validator, expected: Any, instance: Any,
                schema: dict[str, Any]) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and isinstance(expected, str):
            try:
                compiled = regex.compile(expected)
            except (regex.error, RecursionError, OverflowError, ValueError):
                return
            if not safe_regex.search(compiled, instance, f"{field or 'schema'} pattern"):
                yield ValidationError(f"{instance!r} does not match {expected!r}")

    return extend(validator_for(root), {"pattern": pattern})(root)


def _inside(value: float, low: float, high: float, low_open: bool, high_open: bool) -> bool:
    if value < low or (low_open and value == low):
        return False
    if value > high or (high_open and value == high):
        return False
    return True


def _fit_length(text: str, min_length: int, max_length: int | None, rng: random.Random) -> str:
    if len(text) < min_length:   # words appended one space apart (joined once: linear in the length)
        pieces = [text.lstrip()] if text.strip() else []
        length = len(pieces[0]) if pieces else 0
        while length < min_length:
            words = pseudo_words(rng, 3)
            length += len(words) + (1 if pieces else 0)
            pieces.append(words)
        text = " ".join(pieces).strip()
    if max_length is not None and len(text) > max_length:
        text = text[:max_length].rstrip() if max_length else ""
        if len(text) < min_length:
            text = (text + "x" * min_length)[:max(min_length, len(text))]
    return text


def _infer_type(schema: dict[str, Any]) -> str:
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return "string"


def _complexity(schema: Any) -> int:
    """Branch preference at depth: null, then scalars, then arrays, then objects and references."""
    if not isinstance(schema, dict):
        return 1
    kind = schema.get("type")
    if isinstance(kind, list):
        return 0 if "null" in kind else 1
    kind = str(kind or "").lower()
    if kind == "null":
        return 0
    if "$ref" in schema or kind == "object" or "properties" in schema:
        return 3
    if kind == "array":
        return 2
    return 1


_TIGHTEN_MAX = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_TIGHTEN_MIN = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")


def _merge(base: Any, extra: Any) -> Any:
    """The conjunction of two schemas, good enough to generate from (used for allOf and $ref siblings)."""
    if not isinstance(base, dict) or not isinstance(extra, dict):
        return extra if isinstance(extra, dict) else base
    merged = dict(base)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties" and isinstance(value, dict) and isinstance(merged[key], dict):
            properties = dict(merged[key])
            for name, sub in value.items():
                properties[name] = _merge(properties[name], sub) if name in properties else sub
            merged[key] = properties
        elif key == "required" and isinstance(value, list):
            merged[key] = list(dict.fromkeys(list(merged[key] or []) + value))
        elif key in _TIGHTEN_MAX and _num(value) is not None and _num(merged[key]) is not None:
            merged[key] = min(merged[key], value, key=float)
        elif key in _TIGHTEN_MIN and _num(value) is not None and _num(merged[key]) is not None:
            merged[key] = max(merged[key], value, key=float)
        elif key == "enum" and isinstance(value, list) and isinstance(merged[key], list):
            common = [v for v in merged[key] if v in value]
            merged[key] = common or value
        elif key == "type" and isinstance(value, list) and isinstance(merged[key], list):
            common = [t for t in merged[key] if t in value]
            merged[key] = common or value
        elif key == "type" and isinstance(merged[key], list) and value in merged[key]:
            merged[key] = value
        elif key == "type" and isinstance(value, list) and merged[key] in value:
            pass
        elif key == "items" and isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
