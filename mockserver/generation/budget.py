"""What a schema-driven answer may cost, checked before any value is generated.

A schema can ask for more than any answer could hold (`"minItems": 1000000000`, `"minLength": 1e9`,
arrays of arrays whose minimum lengths multiply, a `pattern` such as `a{1000000000}`). The real model
stops at its output limit; an emulator that tried to build such a value would never answer. So before
generating, `check_schema_cost` works out a lower bound of the size of the smallest JSON value the schema
allows and refuses, with a 400 naming the keyword (`...properties[x].minItems`), any schema whose
smallest value cannot fit in the model's output limit.

The bound is in characters of compact JSON; the budget allows `CHARS_PER_TOKEN` characters per output
token of the model (generous: the emulator's tokenizer makes about 4-6 characters of a token), so no
schema whose answer the model could produce is refused. Values the generator adds by choice (optional
properties, a few array items) are bounded while generating (`OutputMeter`): past the budget it only adds
what the schema requires, and `MAX_VALUES` caps the number of values one answer may hold.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import ApiError, invalid_argument

try:  # Python 3.11+
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # no stub for the private module
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

CHARS_PER_TOKEN = 8
DEFAULT_OUTPUT_TOKENS = 65536
MAX_VALUES = 50_000           # JSON values (each string, number, array, object) in one generated answer
MAX_SCHEMA_NODES = 50_000     # schema nodes the cost check visits (a larger schema is refused)

OPENAPI = "openapi"


def output_budget(model: dict[str, Any]) -> int:
    """Characters of JSON an answer of `model` may hold."""
    tokens = model.get("outputTokenLimit") or DEFAULT_OUTPUT_TOKENS
    try:
        tokens = int(tokens)
    except (TypeError, ValueError):
        tokens = DEFAULT_OUTPUT_TOKENS
    return max(tokens, 1) * CHARS_PER_TOKEN


def _int(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 0
    try:
        return max(0, int(value))
    except (TypeError, ValueError, OverflowError):
        return 0


def too_costly(field: str, what: str, budget: int) -> ApiError:
    return invalid_argument(
        f"* GenerateContentRequest.{field}: {what} cannot fit in the model's output "
        f"(at most {budget // CHARS_PER_TOKEN} tokens); lower it.\n", field)


MAX_SCHEMA_OBJECTS = 5_000    # objects in all the schemas of one request (the real API refuses big schemas too)


def count_schema_objects(schema: Any, field: str, seen: int = 0) -> int:
    """`seen` plus the objects in `schema`; a 400 naming `field` past MAX_SCHEMA_OBJECTS (checked before the
    schema is validated, which costs tens of microseconds an object)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            seen += 1
            if seen > MAX_SCHEMA_OBJECTS:
                raise invalid_argument(f"* GenerateContentRequest.{field}: the request's schemas hold more than "
                                       f"{MAX_SCHEMA_OBJECTS} objects; simplify them.\n", field)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def pattern_min_length(pattern: str) -> int:
    """The least number of characters a match of `pattern` has (0 when Python cannot parse it)."""
    try:
        return int(_sre_parse.parse(pattern).getwidth()[0])
    except Exception:   # not a Python regex: the generator falls back to a free string
        return 0


class _Cost:
    """A lower bound of the size of the smallest value, per schema node; raises once it is over budget."""

    def __init__(self, root: Any, dialect: str, budget: int, resolve: Callable[[Any], Any]) -> None:
        self.root = root
        self.dialect = dialect
        self.budget = budget
        self.resolve = resolve          # follows $ref and folds allOf (the generator's own resolution)
        self.visited = 0
        self.active: set[int] = set()   # $ref targets being measured (a recursion counts 0: a lower bound)
        self.memo: dict[int, int] = {}

    def size(self, schema: Any, field: str) -> int:
        self.visited += 1
        if self.visited > MAX_SCHEMA_NODES:
            raise invalid_argument(f"* GenerateContentRequest.{field}: the schema is too large "
                                   f"(more than {MAX_SCHEMA_NODES} nodes).\n", field)
        if not isinstance(schema, dict) or not schema:
            return 1
        if "$ref" in schema:
            key = id(schema)
            if key in self.active:
                return 0
            if key in self.memo:
                return self.memo[key]
            self.active.add(key)
            try:
                cost = self.size(self.resolve(schema), field)
            finally:
                self.active.discard(key)
            self.memo[key] = cost
            return cost
        if "allOf" in schema:
            return self.size(self.resolve(schema), field)
        if "const" in schema and self.dialect != OPENAPI:
            return 1
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return 1
        for combinator in ("anyOf", "oneOf"):
            branches = schema.get(combinator)
            if isinstance(branches, list) and branches:   # any branch may be chosen: each must fit
                return min([self.size(branch, f"{field}.{combinator}[{i}]") for i, branch in enumerate(branches)])
        kinds = self._kinds(schema)
        if "null" in kinds or "boolean" in kinds or "number" in kinds or "integer" in kinds:
            return 1
        if kinds == {"object"}:
            return self._object(schema, field)
        if kinds == {"array"}:
            return self._array(schema, field)
        if kinds and kinds <= {"object", "array", "string"}:
            smallest: int = min(getattr(self, f"_{kind}")(schema, field) for kind in sorted(kinds))
            return smallest
        return self._string(schema, field)

    def _kinds(self, schema: dict[str, Any]) -> set[str]:
        declared = schema.get("type")
        if isinstance(declared, list):
            kinds = {str(t).lower() for t in declared}
        elif declared:
            kinds = {str(declared).lower()}
        else:
            kinds = set()
        kinds.discard("type_unspecified")
        if self.dialect == OPENAPI and schema.get("nullable") is True:
            kinds.add("null")
        if not kinds:
            if "properties" in schema or "required" in schema or "additionalProperties" in schema:
                kinds = {"object"}
            elif "items" in schema or "prefixItems" in schema:
                kinds = {"array"}
        return kinds

    def _object(self, schema: dict[str, Any], field: str) -> int:
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            properties = {}
        required = [name for name in (schema.get("required") or []) if isinstance(name, str)]
        total = 2
        for name in dict.fromkeys(required):
            sub = properties.get(name, True)
            total += len(name) + 4 + self.size(sub, f"{field}.properties[{name}]")
            self._check(total, f"{field}.required", "the required properties")
        for name, sub in properties.items():   # an optional property may be generated too: it must fit alone
            if name not in required:
                self.size(sub, f"{field}.properties[{name}]")
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            self.size(additional, f"{field}.additionalProperties")
        extra = _int(schema.get("minProperties")) - len(set(required))
        if extra > 0:
            total += extra * 6
            self._check(total, f"{field}.minProperties", f"minProperties {schema.get('minProperties')}")
        return total

    def _array(self, schema: dict[str, Any], field: str) -> int:
        minimum = _int(schema.get("minItems"))
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(items, list):
            prefix, items = items, schema.get("additionalItems", True)
        prefix = prefix if isinstance(prefix, list) else []
        if minimum == 0:   # a few items may be generated all the same: each must fit
            for i, sub in enumerate(prefix):
                self.size(sub, f"{field}.prefixItems[{i}]")
            self.size(items if items is not None else True, f"{field}.items")
            return 2
        self._check(minimum * 2, f"{field}.minItems", f"minItems {schema.get('minItems')}")
        total = 2
        for i, sub in enumerate(prefix[:minimum]):
            total += 1 + self.size(sub, f"{field}.prefixItems[{i}]")
            self._check(total, f"{field}.minItems", f"minItems {schema.get('minItems')}")
        rest = minimum - min(minimum, len(prefix))
        if rest:
            each = 1 + self.size(items if items is not None else True, f"{field}.items")
            total += rest * each
            self._check(total, f"{field}.minItems", f"minItems {schema.get('minItems')}")
        return total

    def _string(self, schema: dict[str, Any], field: str) -> int:
        length = _int(schema.get("minLength"))
        self._check(length, f"{field}.minLength", f"minLength {schema.get('minLength')}")
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and pattern:
            width = pattern_min_length(pattern)
            self._check(width, f"{field}.pattern", "a match of the pattern")
            length = max(length, width)
        return 2 + length

    def _check(self, size: int, field: str, what: str) -> None:
        if size > self.budget:
            raise too_costly(field, what, self.budget)


def check_schema_cost(schema: Any, dialect: str, field: str, budget: int, resolve: Callable[[Any], Any]) -> None:
    """400 naming the keyword when the smallest value `schema` allows is over `budget` characters."""
    if isinstance(schema, dict):
        _Cost(schema, dialect, budget, resolve).size(schema, field)


class OutputMeter:
    """Counts the values a generator makes; `lean` once the answer has used its budget of characters.

    `stop`: characters past which the answer is cut anyway (by its maxOutputTokens): once `cut`, the generator
    makes nothing more, since no client would see it. `tally`: values made by all the answers of a request,
    shared by its candidates, so candidateCount cannot multiply the work past MAX_VALUES."""

    def __init__(self, budget: int, field: str | None, *, stop: int | None = None,
                 tally: list[int] | None = None) -> None:
        self.budget = budget
        self.field = field
        self.stop = stop
        self.tally = tally if tally is not None else [0]
        self.values = 0
        self.chars = 0

    @property
    def lean(self) -> bool:
        return self.chars > self.budget

    @property
    def cut(self) -> bool:
        return self.stop is not None and self.chars > self.stop

    def value(self) -> None:
        self.values += 1
        self.tally[0] += 1
        self.chars += 2
        if self.tally[0] > MAX_VALUES:
            self.refuse(f"an answer of more than {MAX_VALUES} values (all its candidates together)")

    def text(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > 4 * self.budget:
            self.refuse("the answer this schema asks for")

    def refuse(self, what: str) -> None:
        field = self.field or "generationConfig.responseSchema"
        raise too_costly(field, what, self.budget)
