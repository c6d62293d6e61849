"""Which declared functions the fake model calls, and with which arguments.

Choosing (`choose_calls`): mode NONE calls nothing; AUTO and VALIDATED call nothing once the latest user turn
answers a call (a function response). A function's words are its name's parts, its description's words and
its top-level parameter names and enum values (common words left out); it scores the number of its words the
prompt holds, one more for each word of its name, and 1000 when the prompt writes its name. The best score
wins (ties: the one whose name shows first in the prompt, then the first declared). When the prompt asks for
several actions ("turn on the lights and play some jazz": clauses split at commas, `and`, `then`, `also`
and sentence ends) and its clauses point at different functions, or at one function with different
values, each such clause makes a call: parallel calls, in the prompt's order, as the function calling
guide's "parallel function calling" describes (ai.google.dev/gemini-api/docs/function-calling). Otherwise
one call to the best function; ANY with no match makes a seeded choice among the allowed functions.
`allowedFunctionNames` (ANY, VALIDATED) limits every choice.

Arguments (`call_args`): a value valid against the parameter schema (structured.py), then the top-level
parameters the prompt (the call's clause) clearly fills are set from it: an enum value the text names; a
number the text holds (next to the parameter's name first, then in order; inside the schema's range, whole
for an integer); a quoted string, or a capitalised name ("Mountain View") for a parameter that names a
place, person or title; a boolean that the text switches off ("off", "stop"), on ("on", "start") or names.
"""
from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any

from . import structured
from .text import STOPWORDS
from .validation import Plan

# Words of function names and descriptions too common to say which function a prompt wants.
_GENERIC_WORDS = frozenset("""get set list fetch find create update delete remove return returns given value values
data information info function tool call calls specified provided using based item items object""".split())
_WORD_RE = re.compile(r"[a-z0-9]+")
_SPLIT_NAME_RE = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_CLAUSE_RE = re.compile(r"[,;]|[.?!](?:\s|$)|\b(?:and|then|also)\b", re.IGNORECASE)
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)(%?)")
_QUOTED_RE = re.compile(r"\"([^\"]{1,200})\"|“([^”]{1,200})”|(?<!\w)'([^']{1,200})'(?!\w)")
_NAME_RE = re.compile(r"[A-Z][a-z]+(?:['’][a-z]+)?(?:\s+[A-Z][a-z]+)*")
# Parameters a capitalised name in the prompt fills (a place, a person, a title).
_NAME_KEYS = ("location", "city", "country", "place", "destination", "region", "address", "state", "name", "title",
              "movie", "film", "book", "song", "artist", "author", "person", "company", "team", "theater", "venue")
_OFF_WORDS = frozenset("off stop disable deactivate pause mute".split())
_ON_WORDS = frozenset("on start enable activate resume".split())


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _keep(word: str) -> bool:
    return len(word) >= 3 and word not in _GENERIC_WORDS and word not in STOPWORDS and not word.isdigit()


def _parameters(decl: dict[str, Any]) -> dict[str, Any]:
    schema = decl.get("parametersJsonSchema", decl.get("parameters"))
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


@lru_cache(maxsize=1024)
def _words_of(name: str, description: str, extra: tuple[str, ...] = ()) -> tuple[frozenset[str], frozenset[str]]:
    """(all the words that point at a function, the words of its name)."""
    named = {w.lower() for w in _SPLIT_NAME_RE.findall(name)}
    words = set(named) | set(_WORD_RE.findall(description.lower()))
    for item in extra:
        words.update(w.lower() for w in _SPLIT_NAME_RE.findall(item))
    return (frozenset(_stem(w) for w in words if _keep(w)), frozenset(_stem(w) for w in named if _keep(w)))


def _function_words(decl: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    extra: list[str] = []
    for key, schema in _parameters(decl).items():
        extra.append(str(key))
        if isinstance(schema, dict) and isinstance(schema.get("enum"), list):
            extra.extend(str(value) for value in schema["enum"])
    return _words_of(decl["name"], str(decl.get("description") or ""), tuple(extra))


def _best(options: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    lowered = text.lower()
    order = [_stem(w) for w in _WORD_RE.findall(lowered)]
    present = set(order)
    best, best_key = None, (0, 0)
    for decl in options:
        name = decl["name"].lower()
        words, named = _function_words(decl)
        if name in lowered or name.replace("_", " ") in lowered:
            score = 1000
        else:
            score = len(words & present) + len(named & present)
        first = min((order.index(w) for w in named & present), default=len(order))
        key = (score, -first)
        if score > 0 and key > best_key:
            best, best_key = decl, key
    return best


def clauses(text: str) -> list[str]:
    return [part.strip() for part in _CLAUSE_RE.split(text) if part and part.strip()]


def choose_calls(plan: Plan, prompt: str, answered: bool, rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    """The functions to call, each with the text its arguments come from (empty: answer in text)."""
    if plan.mode == "NONE" or not plan.declarations:
        return []
    if plan.mode in ("AUTO", "VALIDATED") and answered:
        return []
    options = [d for d in plan.declarations if plan.allowed is None or d["name"] in plan.allowed]
    if not options:
        return []
    best = _best(options, prompt)
    if best is not None:
        # per function, the clauses that point at it: one call per clause when they give the same parameters
        # different values ("weather in Paris and in London"), else one call from all its clauses
        by_name: dict[str, list[str]] = {}
        declared = {decl["name"]: decl for decl in options}
        for part in clauses(prompt):
            decl = _best(options, part)
            if decl is not None:
                by_name.setdefault(decl["name"], []).append(part)
        several: list[tuple[dict[str, Any], str]] = []
        for name, parts in by_name.items():
            given = [(part, prompt_values(declared[name], part)) for part in parts]
            given = [(part, values) for part, values in given if values]
            keys = {tuple(sorted(values)) for _, values in given}
            if len(given) > 1 and len(keys) == 1 and len({repr(sorted(v.items())) for _, v in given}) == len(given):
                several += [(declared[name], part) for part, _ in given]
            else:
                several.append((declared[name], ", ".join(parts)))
        return several if len(several) > 1 else [(best, prompt)]
    if plan.mode == "ANY":
        return [(options[rng.randrange(len(options))], prompt)]
    return []


# -- arguments -----------------------------------------------------------------------------------------

def call_args(plan: Plan, decl: dict[str, Any], rng: random.Random, hints: list[str], text: str) -> dict[str, Any]:
    limits: dict[str, Any] = {"budget": plan.output_chars or None,
                              "field": (plan.declaration_fields or {}).get(decl["name"]), "tally": plan.values_made}
    schema = decl.get("parametersJsonSchema")
    dialect = structured.JSON_SCHEMA
    if schema is None:
        schema, dialect = decl.get("parameters"), structured.OPENAPI
    if schema is None or (dialect == structured.OPENAPI and _no_parameters(schema)):
        return {}
    value = structured.value_for_schema(schema, rng, dialect=dialect, hints=hints, **limits)
    if not isinstance(value, dict):
        return {}
    given = prompt_values(decl, text)
    if not given:
        return value
    if any(key not in value for key in given) and (schema.get("maxProperties") is not None
                                                   or schema.get("dependentRequired")):
        given = {key: item for key, item in given.items() if key in value}
    merged = value | given
    properties = _parameters(decl)
    if dialect == structured.OPENAPI:
        ordering = [n for n in (schema.get("propertyOrdering") or []) if n in properties]
        names = ordering + sorted(n for n in properties if n not in ordering)
    else:
        names = list(properties)
    return {key: merged[key] for key in names if key in merged} | {
        key: item for key, item in merged.items() if key not in properties}


def _no_parameters(schema: dict[str, Any]) -> bool:
    """`parameters: {"type": "OBJECT"}` with no properties: a function that takes no arguments."""
    return (str(schema.get("type") or "").upper() == "OBJECT" and not schema.get("properties")
            and not schema.get("anyOf") and not schema.get("required"))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def prompt_values(decl: dict[str, Any], text: str) -> dict[str, Any]:
    """The top-level arguments `text` clearly gives, each valid against its parameter's schema."""
    lowered = text.lower()
    words = [_stem(w) for w in _WORD_RE.findall(lowered)]
    found: dict[str, Any] = {}
    numbers = [(m.start(), float(m.group(0).rstrip("%")), bool(m.group(1))) for m in _NUMBER_RE.finditer(text)]
    strings = [next(g for g in m.groups() if g) for m in _QUOTED_RE.finditer(text)]
    names = [m.group(0) for m in _NAME_RE.finditer(text) if not _sentence_word(text, m)]
    numeric: list[tuple[str, dict[str, Any]]] = []
    booleans = [key for key, s in _parameters(decl).items() if isinstance(s, dict) and _types(s) == {"boolean"}]
    for key, schema in _parameters(decl).items():
        if not isinstance(schema, dict):
            continue
        kinds = _types(schema)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            hit = _named_value(enum, lowered)
            if hit is not None:
                found[key] = hit
        elif kinds & {"number", "integer"}:
            numeric.append((key, schema))
        elif kinds == {"boolean"}:
            switch = _switch(key, words, only=len(booleans) == 1)
            if switch is not None:
                found[key] = switch
        elif "string" in kinds and not (schema.get("format") or schema.get("pattern")):
            pool = strings if strings else (names if any(k in key.lower() for k in _NAME_KEYS) else [])
            text_value = next((s for s in pool if _fits(s, schema)), None)
            if text_value is not None:
                found[key] = text_value
                (strings if strings else names).remove(text_value)
    found.update(_numbers(numeric, numbers, lowered))
    return found


def _sentence_word(text: str, match: re.Match[str]) -> bool:
    """A capitalised word that only starts a sentence (What, Turn, Please): not a name."""
    before = text[:match.start()].rstrip()
    first = match.group(0).split()[0].lower()
    first = re.split(r"['’]", first)[0]
    return (not before or before[-1] in ".?!:") and (first in STOPWORDS or " " not in match.group(0))


def _named_value(enum: list[Any], lowered: str) -> Any:
    """The enum value the text names first (whole words; `_` and `-` read as spaces)."""
    hits = []
    for value in enum:
        if not isinstance(value, str) or not value.strip():
            continue
        phrase = re.escape(re.sub(r"[_-]+", " ", value.lower()).strip()).replace(r"\ ", r"[\s_-]+")
        match = re.search(rf"(?<!\w){phrase}(?!\w)", lowered)
        if match:
            hits.append((match.start(), value))
    return min(hits)[1] if hits else None


def _switch(key: str, words: list[str], *, only: bool) -> bool | None:
    own = {_stem(w.lower()) for w in _SPLIT_NAME_RE.findall(key)}
    if _OFF_WORDS & set(words):
        return False
    for index, word in enumerate(words):
        if word in own:
            return not (index and words[index - 1] in ("not", "no", "without"))
    if only and _ON_WORDS & set(words):
        return True
    return None


def _fits(text: str, schema: dict[str, Any]) -> bool:
    low, high = schema.get("minLength"), schema.get("maxLength")
    return (not isinstance(low, int) or len(text) >= low) and (not isinstance(high, int) or len(text) <= high)


def _numbers(params: list[tuple[str, dict[str, Any]]], numbers: list[tuple[int, float, bool]],
             lowered: str) -> dict[str, Any]:
    """Numbers of the text for numeric parameters: the nearest to a parameter's name first (within a few
    words), then the rest in order."""
    pairs = []
    for key, schema in params:
        own = {_stem(w.lower()) for w in _SPLIT_NAME_RE.findall(key)}
        places = [m.start() for m in _WORD_RE.finditer(lowered) if _stem(m.group()) in own]
        for number in numbers:
            distance = min((abs(number[0] - place) for place in places), default=None)
            if distance is not None and distance <= 24 and _number_for(schema, number) is not None:
                pairs.append((distance, key, number))
    found: dict[str, Any] = {}
    used: list[tuple[int, float, bool]] = []
    schemas = dict(params)
    for _, key, number in sorted(pairs, key=lambda pair: pair[0]):
        if key not in found and number not in used:
            found[key] = _number_for(schemas[key], number)
            used.append(number)
    free = [number for number in numbers if number not in used]
    for key, schema in params:
        if key in found:
            continue
        for number in free:
            value = _number_for(schema, number)
            if value is not None:
                found[key] = value
                free.remove(number)
                break
    return found


def _number_for(schema: dict[str, Any], number: tuple[int, float, bool]) -> int | float | None:
    _, value, percent = number
    top = schema.get("maximum")
    if percent and isinstance(top, (int, float)) and top <= 1:
        value /= 100
    if not value.is_integer() and "number" not in _types(schema):
        return None
    result: int | float = int(value) if value.is_integer() else value
    bounds = {key: schema.get(key) for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")}
    low, high, low_open, high_open = (b if isinstance(b, (int, float)) and not isinstance(b, bool) else None
                                      for b in bounds.values())
    if ((low is not None and result < low) or (high is not None and result > high)
            or (low_open is not None and result <= low_open) or (high_open is not None and result >= high_open)):
        return None
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step and (result / step) % 1:
        return None
    return result
