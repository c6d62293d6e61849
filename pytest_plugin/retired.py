"""Calls to models the real Gemini API has shut down, as pytest warnings naming the replacement.

The emulator keeps serving a retired model by default (config `models.retired=serve`); every such call
reaches `RetiredCalls`, and after each test the plugin warns once per retired model the test called:

    RetiredModelWarning: models/gemini-2.0-flash was shut down by the real Gemini API on 2026-06-01; use
    models/gemini-3.5-flash instead (...)

`-W error::gemini_mockserver.pytest_plugin.retired.RetiredModelWarning` turns them into failures; the
ini option `gemini_mock_retired_models = refuse` (or `--gemini-mock-retired-models=refuse`) makes the
session's emulator answer those models as the real service does now (404).
"""
from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from gemini_mockserver.resources.lifecycle import RetiredUse

    from .server import LiveServer

RETIRED_MODES = ("serve", "refuse")


class RetiredModelWarning(UserWarning):
    """A test called a model the real Gemini API no longer serves."""


class RetiredCalls:
    """Collects the retired-model calls a server made; `warn()` turns them into warnings, once per model."""

    def __init__(self) -> None:
        self._messages: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, use: RetiredUse) -> None:   # a lifecycle listener (gemini_mockserver.resources.lifecycle)
        with self._lock:
            self._messages.setdefault(use.model, use.message())

    def attach(self, server: LiveServer) -> None:
        store = getattr(server, "store", None)
        lifecycle = store.models.lifecycle if store is not None else None
        if lifecycle is not None and self not in lifecycle.listeners:
            lifecycle.listeners.append(self)

    def warn(self, item: pytest.Item | None = None) -> None:
        """Warn once per retired model called since the last time, at the test's own location."""
        with self._lock:
            messages, self._messages = list(self._messages.values()), {}
        path, line = (str(item.path), (item.location[1] or 0) + 1) if item is not None else (__file__, 1)
        for message in messages:
            warnings.warn_explicit(RetiredModelWarning(message), RetiredModelWarning, path, line)
