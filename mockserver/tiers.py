"""A project's billing tier, changed while the server runs (`store.tiers`): enabling billing (free ->
tier1) or a tier promotion (tier1 -> tier2 -> tier3) takes effect at once, with no restart and no other
keys file. Every key of the project answers with the new tier from its next call: rate limits, the usage
ledger's charges and logging follow it.

    GET   /_mock/projects/{project}/tier          {"project", "tier"}
    PATCH /_mock/projects/{project}/tier          {"tier": "free" | "tier1" | "tier2" | "tier3"}
    PATCH /_mock/tier                             {"key": "...", "tier": ...}   (the key's project)

The tiers the keys file gives are the starting point; a reset (or a restored state without the change)
goes back to them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from .auth import TIERS
from .control_http import ControlContext, route_table
from .errors import invalid_argument, not_found
from .http import json_response

if TYPE_CHECKING:
    from .store import Store


class Tiers:
    """The tiers set at run time, kept on the key ring (auth.KeyRing.tiers) where identities are made."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def reset(self) -> None:
        self.store.keys.tiers.clear()

    def of(self, project: str) -> str:
        """The project's tier now: set at run time, else the highest its listed keys carry, else free."""
        keys = self.store.keys
        if project in keys.tiers:
            return keys.tiers[project]
        listed = keys.listed
        if listed is None:
            return "free"
        found = [identity.tier for identity in listed.values() if identity.project == project]
        if not found:
            raise not_found(f"Project {project} is not known: no API key in the keys file belongs to it.")
        return max(found, key=TIERS.index)

    def set(self, project: str, tier: object) -> dict[str, Any]:
        if tier not in TIERS:
            raise invalid_argument(f"tier must be one of {', '.join(TIERS)}, not {tier!r}.", "tier")
        self.of(project)   # an unknown project is a 404
        self.store.keys.tiers[project] = str(tier)
        return {"project": project, "tier": tier}

    # -- state export and import (persistence.py) ------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        return {"tiers": dict(self.store.keys.tiers)}

    def import_state(self, data: dict[str, Any]) -> None:
        tiers = {str(p): t for p, t in (data.get("tiers") or {}).items() if t in TIERS}
        self.store.keys.tiers.clear()
        self.store.keys.tiers.update(tiers)


def register(store: Store) -> None:
    store.register("tiers", Tiers(store))


async def _tier_body(ctx: ControlContext) -> dict[str, Any]:
    body = await ctx.json()
    unknown = [k for k in body if k not in ("tier", "key")]
    if unknown:
        raise invalid_argument(f"Unknown field '{unknown[0]}': give tier (and key on /tier).", unknown[0])
    if "tier" not in body:
        raise invalid_argument(f"Give tier: one of {', '.join(TIERS)}.", "tier")
    return body


async def project_tier(ctx: ControlContext) -> Response:
    tiers = ctx.store.tiers
    project = ctx.params["project"]
    if ctx.method == "PATCH":
        body = await _tier_body(ctx)
        if "key" in body:
            raise invalid_argument("Unknown field 'key': the path names the project.", "key")
        return json_response(tiers.set(project, body["tier"]))
    return json_response({"project": project, "tier": tiers.of(project)})


async def key_tier(ctx: ControlContext) -> Response:
    tiers = ctx.store.tiers
    body = await _tier_body(ctx)
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise invalid_argument("Give key: the API key whose project changes tier.", "key")
    return json_response(tiers.set(ctx.store.keys.identify(key).project, body["tier"]))


def control_routes(store: Store) -> list[Route]:
    return route_table(store, [("/projects/{project}/tier", project_tier, ["GET", "PATCH"]),
                               ("/tier", key_tier, ["PATCH"])])
