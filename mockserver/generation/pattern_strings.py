"""Strings that match a regular expression (a schema's `pattern`), drawn from the parsed pattern with a seeded
random generator, bounded in length.
"""
from __future__ import annotations

import random
from typing import Any, Iterable


try:  # Python 3.11+
    from re import _constants as _sre_c  # type: ignore[attr-defined]  # no stub for the private module
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_c


# -- strings from regular expressions ---------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ALPHABET = _LETTERS + _LETTERS.upper() + "0123456789 -_.,:/@"
_CATEGORY_SAMPLES = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_NOT_DIGIT": _LETTERS,
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": _LETTERS + "0123456789",
    "CATEGORY_WORD": _LETTERS + "0123456789",
    "CATEGORY_NOT_WORD": "-.: ",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": _LETTERS,
}
_MAX_REPEAT_EXTRA = 3
# Pieces a pattern's string may have beyond its least length: nested optional repeats (`((a*)*)*`) would
# otherwise multiply; past this the pattern is given up for a free string.
PATTERN_SLACK = 4096


def _op(name: str) -> int | None:
    return getattr(_sre_c, name, None)


_LITERAL, _NOT_LITERAL, _ANY, _IN, _BRANCH = (_op("LITERAL"), _op("NOT_LITERAL"), _op("ANY"), _op("IN"),
                                              _op("BRANCH"))
_SUBPATTERN, _GROUPREF = _op("SUBPATTERN"), _op("GROUPREF")
_REPEATS = {op for op in (_op("MAX_REPEAT"), _op("MIN_REPEAT"), _op("POSSESSIVE_REPEAT")) if op is not None}
_ATOMIC, _GROUPREF_EXISTS, _CATEGORY = _op("ATOMIC_GROUP"), _op("GROUPREF_EXISTS"), _op("CATEGORY")
_NEGATE, _RANGE = _op("NEGATE"), _op("RANGE")
_MAXREPEAT = getattr(_sre_c, "MAXREPEAT", 65535)


def _category_match(char: str, name: str) -> bool:
    word = char.isalnum() or char == "_"
    return {
        "CATEGORY_DIGIT": char.isdigit(), "CATEGORY_NOT_DIGIT": not char.isdigit(),
        "CATEGORY_SPACE": char.isspace(), "CATEGORY_NOT_SPACE": not char.isspace(),
        "CATEGORY_WORD": word, "CATEGORY_NOT_WORD": not word,
        "CATEGORY_LINEBREAK": char == "\n", "CATEGORY_NOT_LINEBREAK": char != "\n",
    }.get(name, False)


def _in_set(char: str, items: list[tuple[int, Any]]) -> bool:
    code = ord(char)
    for op, arg in items:
        if op == _LITERAL and code == arg:
            return True
        if op == _RANGE and arg[0] <= code <= arg[1]:
            return True
        if op == _CATEGORY and _category_match(char, str(arg)):
            return True
    return False


def _pick_from_set(items: list[tuple[int, Any]], rng: random.Random) -> str:
    if items and items[0][0] == _NEGATE:
        allowed = [c for c in _ALPHABET if not _in_set(c, items[1:])]
        return rng.choice(allowed) if allowed else "~"
    op, arg = rng.choice(items)
    if op == _LITERAL:
        return chr(arg)
    if op == _RANGE:
        low, high = arg
        letters = [c for c in _ALPHABET if low <= ord(c) <= high]
        return rng.choice(letters) if letters else chr(rng.randint(low, high))
    if op == _CATEGORY:
        return rng.choice(_CATEGORY_SAMPLES.get(str(arg), _LETTERS))
    return rng.choice(_LETTERS)


def emit(parsed: Iterable[tuple[int, Any]], rng: random.Random, out: list[str], groups: dict[int, str],
         room: list[int]) -> None:
    """Append a string matching `parsed` to `out`; ValueError once more than `room[0]` steps were taken."""
    for op, arg in parsed:
        room[0] -= 1
        if room[0] < 0:
            raise ValueError("the pattern's string grows past its budget")
        if op == _LITERAL:
            out.append(chr(arg))
        elif op == _NOT_LITERAL:
            out.append(rng.choice([c for c in _LETTERS if ord(c) != arg]))
        elif op == _ANY:
            out.append(rng.choice(_LETTERS))
        elif op == _IN:
            out.append(_pick_from_set(list(arg), rng))
        elif op == _BRANCH:
            emit(rng.choice(arg[1]), rng, out, groups, room)
        elif op == _SUBPATTERN:
            group, sub = arg[0], arg[-1]
            start = len(out)
            emit(sub, rng, out, groups, room)
            if group is not None:
                groups[group] = "".join(out[start:])
        elif op in _REPEATS:
            low, high, sub = arg
            high = low + _MAX_REPEAT_EXTRA if high == _MAXREPEAT else min(high, low + _MAX_REPEAT_EXTRA)
            count = rng.randint(low, max(low, high))
            if all(sub_op == _LITERAL for sub_op, _ in sub):   # `a{100000}`: one string, the same steps
                room[0] -= count * len(sub)
                if room[0] < 0:
                    raise ValueError("the pattern's string grows past its budget")
                out.append("".join(chr(code) for _, code in sub) * count)
                continue
            for _ in range(count):
                emit(sub, rng, out, groups, room)
        elif op == _ATOMIC:
            emit(arg, rng, out, groups, room)
        elif op == _GROUPREF:
            out.append(groups.get(arg, ""))
        elif op == _GROUPREF_EXISTS:
            group, yes, no = arg
            chosen = yes if group in groups else no
            if chosen is not None:
                emit(chosen, rng, out, groups, room)
        elif op == _CATEGORY:
            out.append(rng.choice(_CATEGORY_SAMPLES.get(str(arg), _LETTERS)))
        # AT (anchors), ASSERT and ASSERT_NOT (lookarounds) emit nothing.
