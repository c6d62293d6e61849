"""One nested configuration: defaults here, overridden by the CLI, `/_mock/config` and the pytest marker.

PATCH merges deeply. A key that is not in DEFAULTS, or a value of another type, is refused, so a typo in a
test's config fails loudly instead of being ignored.
"""
from __future__ import annotations

import copy
from typing import Any

from .errors import invalid_argument

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "limits": {
        "requestBytes": 20 * 1024 * 1024,   # bodies over this are refused before parsing
        "journalEntries": 10_000,            # the request journal keeps this many, newest last
        "journalBytes": 64 * 1024 ** 2,      # ... and this many bytes of bodies in all (oldest dropped first)
        "journalEntryBytes": 64 * 1024,      # ... and this much of each body (media left out first)
        "headerSeconds": 10.0,               # a connection's request headers must be complete by then
        "bodyIdleSeconds": 30.0,             # a request body may pause this long between pieces (then 408)
    },
    "files": {
        "processingSeconds": 0.0,            # PROCESSING -> ACTIVE after this long
        "ttlSeconds": 48 * 3600,             # uploaded files expire 48 h after creation
        "maxFileBytes": 2 * 1024 ** 3,
        "maxProjectBytes": 20 * 1024 ** 3,
        "downloadUploaded": False,           # the real API only lets generated files be downloaded
        "abandonedUploadSeconds": 7 * 24 * 3600,
    },
    "batch": {
        "pendingSeconds": 5.0,
        "runningSeconds": 10.0,
        "expirySeconds": 48 * 3600,
    },
    "cache": {
        "defaultTtlSeconds": 3600.0,
        "implicitWindowSeconds": 300.0,
    },
    "fileSearch": {
        "processingSeconds": 0.0,            # a File Search document is STATE_PENDING this long after it is added
    },
    "tunedModel": {
        "trainingSeconds": 60.0,
    },
    "interactions": {
        "backgroundSeconds": 5.0,            # a background interaction is in_progress this long
        "deepResearchSeconds": 120.0,        # a Deep Research agent run takes this long
    },
    "webhooks": {
        "maxAttempts": 5,                    # a delivery is tried this often before the webhook is disabled
        "retrySeconds": 1.0,                 # the first retry's delay on the clock; it doubles each time
    },
    "rateLimits": {
        "enabled": True,                     # false: no rate limit anywhere
        "derivedKeys": False,                # limit the keys the server derives itself too (keys-file keys always are)
        "overrides": {},                     # {tier: {model or "*": {"rpm", "tpm", "rpd"}}}; null = no limit
    },
    "logs": {
        "ttlSeconds": 55 * 24 * 3600.0,      # a log expires 55 days after the call it records
        "maxPerProject": 1000,               # logs a project may keep in datasets
    },
    "stream": {                              # the pace of streamed answers (pacing.py); 0: as fast as possible
        "tokensPerSecond": 0.0,
        "firstTokenSeconds": 0.0,
        "models": {},                        # {model: {"tokensPerSecond", "firstTokenSeconds"}}
    },
    "music": {
        "speed": 1.0,                        # seconds of audio a playing Live music session sends per real second
    },
    "models": {
        "retired": "serve",                  # serve | refuse: what a model the real service shut down does
        "catalog": "",                       # a catalog file (`catalog record`); empty: the shipped one
    },
}

# Keys that take one of a few words.
CHOICES = {"models.retired": ("serve", "refuse")}
# Numbers with bounds (inclusive).
RANGES = {"music.speed": (0.01, 1000.0)}


# Maps whose keys are the caller's to choose (merged without the key and type checks).
OPEN_MAPS = {"rateLimits.overrides", "stream.models"}


def deep_merge(base: dict[str, Any], patch: dict[str, Any], *, strict: bool = True,
               path: str = "") -> dict[str, Any]:
    """A new dict: `base` with `patch` merged in. With strict, unknown keys and type changes are 400s."""
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        where = f"{path}.{key}" if path else key
        if strict and key not in merged:
            raise invalid_argument(f"Unknown config key '{where}'.", where)
        current = merged.get(key)
        if isinstance(current, dict):
            if not isinstance(value, dict):
                raise invalid_argument(f"Config key '{where}' takes an object.", where)
            merged[key] = deep_merge(current, value, strict=strict and where not in OPEN_MAPS, path=where)
            continue
        if strict and current is not None and not _same_kind(current, value):
            raise invalid_argument(
                f"Config key '{where}' takes a {type(current).__name__}, not {value!r}.", where)
        if strict and where in CHOICES and value not in CHOICES[where]:
            raise invalid_argument(f"Config key '{where}' takes one of {', '.join(CHOICES[where])}, not {value!r}.",
                                   where)
        if strict and where in RANGES and not RANGES[where][0] <= value <= RANGES[where][1]:
            low, high = RANGES[where]
            raise invalid_argument(f"Config key '{where}' takes a number from {low:g} to {high:g}, not {value!r}.",
                                   where)
        merged[key] = float(value) if isinstance(current, float) else value
    return merged


def _same_kind(current: Any, value: Any) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(current))


class Config:
    """The live configuration. Read with `config["batch"]["pendingSeconds"]`."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self._initial = copy.deepcopy(overrides or {})
        self._data = deep_merge(DEFAULTS, self._initial)
        self._patched = False   # a reset with nothing patched since has nothing to do (the plugin resets per test)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)

    def patch(self, changes: dict[str, Any]) -> dict[str, Any]:
        self._data = deep_merge(self._data, changes)
        self._patched = True
        return self.as_dict()

    def reset(self) -> None:
        """Back to the defaults plus what the server was started with."""
        if self._patched:
            self._data = deep_merge(DEFAULTS, self._initial)
            self._patched = False
