"""Callers' regular expressions (the journal's `?path=` filter, scripted rules, schema patterns), run with a
time budget.

Python's `re` backtracks without limit: `^(a|aa)+$` against forty `a`s and a `!` runs for minutes and holds
the event loop all along. These patterns are compiled with the `regex` package, whose matching takes a
timeout; a search that runs out of it is a 400 naming the field the pattern came from. The syntax is
Python's (`regex` in its default, `re`-compatible mode).
"""
from __future__ import annotations

import time
from typing import Iterable

import regex

from .errors import invalid_argument

# CPU seconds one search may take, and all the searches of one request together. The `regex` package checks
# its clock now and then, not on every step, so a search can overrun this by a few times; still bounded.
SEARCH_SECONDS = 0.05
REQUEST_SECONDS = 0.25


class Budget:
    """The CPU time left to the searches of one request (thread time: not moved by faked clocks)."""

    def __init__(self, seconds: float = REQUEST_SECONDS) -> None:
        self._deadline = time.thread_time() + seconds

    def left(self) -> float:
        return max(0.001, min(SEARCH_SECONDS, self._deadline - time.thread_time()))


def compile_pattern(pattern: str, field: str) -> regex.Pattern:
    """`pattern` compiled, or a 400 naming `field` when it is not a valid regular expression."""
    try:
        return regex.compile(pattern)
    except (regex.error, OverflowError, RecursionError, ValueError) as error:
        raise invalid_argument(f"{field} is not a valid regular expression: {error}.", field) from None


def try_compile(pattern: str) -> regex.Pattern | None:
    """`pattern` compiled, or None when it is not a valid regular expression."""
    try:
        return regex.compile(pattern)
    except (regex.error, OverflowError, RecursionError, ValueError):
        return None


def search(compiled: regex.Pattern, text: str, field: str, budget: Budget | None = None) -> bool:
    """Whether `compiled` matches somewhere in `text`; a 400 naming `field` when it takes too long."""
    try:
        return compiled.search(text, timeout=(budget or Budget()).left()) is not None
    except TimeoutError:
        raise invalid_argument(
            f"The regular expression of {field} ({compiled.pattern[:200]!r}) takes too long to match "
            "(it backtracks without bound); simplify it.", field) from None


def search_all(compiled: regex.Pattern, texts: Iterable[str], field: str) -> list[bool]:
    """`search` over many texts under one shared budget."""
    budget = Budget()
    return [search(compiled, text, field, budget) for text in texts]
