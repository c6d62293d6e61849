"""API keys and the identities behind them.

Every key is a project with an identity (an e-mail that permission grants name, and groups) and a billing
tier. By default any non-empty key is accepted and gets a project and e-mail derived from it; with a keys
file only the listed keys are valid, and an unknown key is refused as the real API refuses it.

A derived project id is a 128-bit BLAKE2b digest of the key (32 hex digits): the same key maps to the same
project on every server, and two keys collide with odds of about n^2 / 2^129 (none in practice; the
40-bit ids of earlier versions collided after about a million keys).

No raw key is kept at rest: state exports and snapshots hold `Identity.stored()`, which names the key by
its SHA-256 digest (`key_digest`). A plain digest, not a keyed HMAC: the derived project id is already an
unkeyed digest of the key (it has to be, to stay the same on every server without shared state), so a
secret-keyed hash beside it would hide nothing more from someone holding the export, while a plain digest
lets any server (with the same keys file) recognise a listed key after an import, with no secret to carry.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ApiError

TIERS = ("free", "tier1", "tier2", "tier3")


@dataclass(frozen=True)
class Identity:
    key: str
    project: str
    email: str
    groups: tuple[str, ...] = field(default_factory=tuple)
    tier: str = "free"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "project": self.project, "email": self.email,
                "groups": list(self.groups), "tier": self.tier}

    def stored(self) -> dict[str, Any]:
        """The form kept at rest (exports, snapshots): the key as its digest, never the key itself."""
        return {"keyHash": key_digest(self.key) if self.key else None, "project": self.project,
                "email": self.email, "groups": list(self.groups), "tier": self.tier}


def key_digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def derived_identity(key: str) -> Identity:
    digest = hashlib.blake2b(key.encode(), digest_size=16, person=b"gemini-mock-key").hexdigest()
    return Identity(key=key, project=f"project-{digest}", email=f"user-{digest}@example.com")


def load_keys_file(path: str | Path) -> dict[str, Identity]:
    """Keys from a JSON or YAML file: {"keys": [{"key", "project", "email", "groups", "tier"}, ...]}
    or a mapping {"KEY": {"project", ...}}."""
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    entries = data.get("keys", data) if isinstance(data, dict) else data
    if isinstance(entries, dict):
        entries = [{"key": key, **(value or {})} for key, value in entries.items()]
    identities = {}
    if not isinstance(entries, list):
        raise ValueError("keys file: expected a list of keys or a mapping of key to identity")
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("key"):
            raise ValueError(f"keys file: every entry is an object with a \"key\"; got {entry!r:.60}")
        key = str(entry["key"])
        default = derived_identity(key)
        tier = entry.get("tier", "free")
        if tier not in TIERS:
            raise ValueError(f"keys file: tier {tier!r} of key {key!r} is not one of {', '.join(TIERS)}")
        identities[key] = Identity(
            key=key,
            project=str(entry.get("project", default.project)),
            email=str(entry.get("email", default.email)),
            groups=tuple(entry.get("groups", ())),
            tier=tier,
        )
    return identities


class KeyRing:
    def __init__(self, listed: dict[str, Identity] | None = None) -> None:
        self.listed = listed  # None: accept any key
        self._derived: dict[str, Identity] = {}
        self.tiers: dict[str, str] = {}   # project -> tier set while the server runs (tiers.py)

    def _current(self, identity: Identity) -> Identity:
        """`identity` with its project's tier as set at run time, if it was."""
        tier = self.tiers.get(identity.project)
        return identity if tier is None or tier == identity.tier else replace(identity, tier=tier)

    def identify(self, key: str | None) -> Identity:
        key = (key or "").strip()
        if not key:
            raise ApiError(403, "PERMISSION_DENIED",
                           "Method doesn't allow unregistered callers (callers without established identity)."
                           " Please use API Key or other form of API consumer identity to call this API.")
        if self.listed is not None:
            identity = self.listed.get(key)
            if identity is None:
                raise ApiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
                    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                     "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
                ])
            return self._current(identity)
        identity = self._derived.get(key)
        if identity is None:
            identity = self._derived[key] = derived_identity(key)
        return self._current(identity)

    def restore(self, data: dict[str, Any]) -> Identity:
        """The identity of a `stored()` form (or of an older document's form that held the key itself).
        A listed key is recognised by its digest and gets its key back; a derived identity keeps its
        project, e-mail and tier with the key left empty (the key is known again when a client sends it)."""
        restored = Identity(key="", project=str(data["project"]), email=str(data.get("email") or ""),
                            groups=tuple(data.get("groups") or ()), tier=str(data.get("tier") or "free"))
        if data.get("key"):
            return replace(restored, key=str(data["key"]))
        wanted = data.get("keyHash")
        for identity in [*(self.listed or {}).values(), *self._derived.values()]:
            if wanted and key_digest(identity.key) == wanted:
                return replace(restored, key=identity.key)
        return restored

    def by_email(self, email: str) -> Identity | None:
        for identity in [*(self.listed or {}).values(), *self._derived.values()]:
            if identity.email == email:
                return identity
        return None
