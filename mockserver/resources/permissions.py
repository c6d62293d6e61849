"""Who may do what to a shared resource (tuned models and corpora), and the `permissions` routes.

The rule lives here and nowhere else:

* a resource carries an `Acl`: its grants, each `USER` (an e-mail), `GROUP` (a group e-mail, matched
  against the groups of the caller's key) or `EVERYONE`, with a role `READER`, `WRITER` or `OWNER`;
* a caller's role is the highest role among the grants that match it (`effective_role`);
* READER may get, list and use (generate with) the resource and read its operations; WRITER may also
  patch it and manage its permissions; OWNER may also delete it and transfer its ownership;
* a caller whose role is too low gets the very answer a caller asking for an absent or deleted resource
  gets: 403 PERMISSION_DENIED with the same text (`require`), so nobody learns what exists; an absent or
  deleted permission gets that 403 too. That holds for
  a READER trying to patch as well: same status, same words.

Permission management (decided where the reference is silent):

* reading and managing the permissions of a resource needs WRITER; granting OWNER, and changing or
  deleting an OWNER grant, needs OWNER;
* the last OWNER grant can be neither demoted nor deleted (400 FAILED_PRECONDITION): ownership moves with
  `transferOwnership`;
* a second grant for the same grantee is a 409 ALREADY_EXISTS naming the existing permission;
* e-mail addresses are opaque principal names compared without regard to case (the emulator cannot know
  which accounts exist), so any non-empty address is accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence, TypeVar

from starlette.responses import Response

from ..auth import Identity
from ..errors import already_exists, failed_precondition, invalid_argument, missing_resource
from ..http import Context, json_response
from ..persistence import build, fields_of
from ..routing import route
from ..wire import page_size, paginate, parse_update_mask

if TYPE_CHECKING:
    from ..store import Store

READER, WRITER, OWNER = "READER", "WRITER", "OWNER"
ROLES = (READER, WRITER, OWNER)
RANK = {READER: 1, WRITER: 2, OWNER: 3}
USER, GROUP, EVERYONE = "USER", "GROUP", "EVERYONE"
GRANTEE_TYPES = (USER, GROUP, EVERYONE)

# Versions that serve tuned models and corpora and their permissions.
SHARING_VERSIONS = ("v1beta", "v1alpha", "v1beta3")


@dataclass
class Grant:
    id: str
    grantee_type: str
    email: str | None
    role: str

    def matches(self, identity: Identity) -> bool:
        if self.grantee_type == EVERYONE:
            return True
        wanted = (self.email or "").lower()
        if self.grantee_type == USER:
            return identity.email.lower() == wanted
        return any(group.lower() == wanted for group in identity.groups)

    def same_grantee(self, grantee_type: str, email: str | None) -> bool:
        return self.grantee_type == grantee_type and (self.email or "").lower() == (email or "").lower()


@dataclass
class Acl:
    """The grants of one resource, in the order they were made."""
    grants: dict[str, Grant] = field(default_factory=dict)

    def owners(self) -> list[Grant]:
        return [g for g in self.grants.values() if g.role == OWNER]

    def export_state(self) -> list[dict[str, Any]]:
        """The grants in order, JSON-able (persistence.py)."""
        return [fields_of(grant) for grant in self.grants.values()]

    @classmethod
    def from_state(cls, items: list[dict[str, Any]] | None) -> "Acl":
        return cls({item["id"]: build(Grant, item) for item in items or []})


class Shared(Protocol):
    """What a resource needs to be shared: a name and an Acl. `KIND` is the word in error messages."""
    KIND: str
    name: str
    acl: Acl


SharedT = TypeVar("SharedT", bound=Shared)


# -- the rule ------------------------------------------------------------------------------------------

def effective_role(resource: Shared, identity: Identity) -> str | None:
    """The highest role any grant of `resource` gives `identity`, or None."""
    best = None
    for grant in resource.acl.grants.values():
        if grant.matches(identity) and (best is None or RANK[grant.role] > RANK[best]):
            best = grant.role
    return best


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK[role] >= RANK[needed]


def can(resource: Shared | None, identity: Identity, needed: str = READER) -> bool:
    return resource is not None and allows(effective_role(resource, identity), needed)


def require(resource: SharedT | None, identity: Identity, needed: str, *, kind: str, name: str) -> SharedT:
    """`resource` if `identity` holds at least `needed` on it; otherwise the one 403 that an absent
    resource gets too."""
    if resource is None or not can(resource, identity, needed):
        raise missing_resource(kind, name)
    return resource


# -- the backend ---------------------------------------------------------------------------------------

# What a caller can do to keep an OWNER before the last one goes: tuned models have transferOwnership,
# corpora have no such method (grant another OWNER first).
_KEEP_AN_OWNER = {
    "tunedModels": "transfer the ownership (tunedModels.transferOwnership) or grant another OWNER",
    "corpora": "grant another OWNER first (corpora have no transferOwnership)",
}

# The collections whose resources carry permissions -> the resource kind, for messages
PARENTS = {"tunedModels": "TunedModel", "corpora": "Corpus"}


def render(parent: str, grant: Grant) -> dict[str, Any]:
    body = {"name": f"{parent}/permissions/{grant.id}", "granteeType": grant.grantee_type}
    if grant.email:
        body["emailAddress"] = grant.email
    body["role"] = grant.role
    return body


class Permissions:
    """Permission CRUD for every shared resource. The grants themselves live in each resource's Acl, so
    deleting or resetting the resource drops them; this backend keeps no state of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def reset(self) -> None:
        pass

    # -- parents -------------------------------------------------------------------------------------
    def parent(self, identity: Identity, parent: str, needed: str) -> Shared:
        collection = parent.split("/", 1)[0]
        resource: Shared | None
        if collection == "tunedModels":
            resource = self.store.tuned_models.lookup(parent)
        elif collection == "corpora":
            resource = self.store.corpora.lookup(parent)
        else:
            raise invalid_argument(f"Permissions are not supported on {parent}.", "parent")
        return require(resource, identity, needed, kind=PARENTS[collection], name=parent)

    @staticmethod
    def _split(name: str) -> tuple[str, str]:
        parent, _, pid = name.rpartition("/permissions/")
        return parent, pid

    def _grant(self, resource: Shared, name: str) -> Grant:
        parent, pid = self._split(name)
        grant = resource.acl.grants.get(pid)
        if grant is None:   # absent or deleted: the one answer every missing resource gets
            raise missing_resource("Permission", name)
        return grant

    # -- operations without checks (for backends and tests) ------------------------------------------
    def grant(self, resource: Shared, grantee_type: str, email: str | None, role: str,
              permission_id: str | None = None) -> Grant:
        """Add a grant to `resource` as is: the resource's creator, transfers and test set-up use it."""
        with self.store.lock:
            pid = permission_id
            while pid is None or pid in resource.acl.grants:
                if permission_id is not None:
                    raise already_exists(f"Permission {resource.name}/permissions/{pid} already exists.")
                pid = self.store.new_id(resource.name, "permission")
            grant = Grant(pid, grantee_type, email, role)
            resource.acl.grants[pid] = grant
            return grant

    # -- the API -------------------------------------------------------------------------------------
    def create(self, identity: Identity, parent: str, body: dict[str, Any]) -> dict[str, Any]:
        resource = self.parent(identity, parent, WRITER)
        grantee_type, email, role = _validated(body)
        if role == OWNER:
            self.parent(identity, parent, OWNER)
        with self.store.lock:
            for existing in resource.acl.grants.values():
                if existing.same_grantee(grantee_type, email):
                    raise already_exists(
                        f"The grantee already has a permission on {parent}: "
                        f"{parent}/permissions/{existing.id}. Update that permission instead.")
            grant = self.grant(resource, grantee_type, email, role)
            return render(parent, grant)

    def get(self, identity: Identity, name: str) -> dict[str, Any]:
        parent, _ = self._split(name)
        resource = self.parent(identity, parent, WRITER)
        return render(parent, self._grant(resource, name))

    def list(self, identity: Identity, parent: str, size: int, token: str | None) -> dict[str, Any]:
        resource = self.parent(identity, parent, WRITER)
        grants = [render(parent, g) for g in resource.acl.grants.values()]
        page, following = paginate(grants, size, token)
        body: dict[str, Any] = {"permissions": page}
        if following:
            body["nextPageToken"] = following
        return body

    def patch(self, identity: Identity, name: str, body: dict[str, Any],
              mask: Sequence[str] | None) -> dict[str, Any]:
        parent, _ = self._split(name)
        resource = self.parent(identity, parent, WRITER)
        grant = self._grant(resource, name)
        if not mask:
            raise invalid_argument("updateMask is required and must name the fields to update; "
                                   "only `role` can be updated.", "updateMask")
        for path in mask:
            if path != "role":
                raise invalid_argument(f"updateMask: field `{path}` cannot be updated; only `role` can.",
                                       "updateMask")
        role = body.get("role")
        if role not in ROLES:
            raise invalid_argument(f"role must be one of {', '.join(ROLES)}, not {role!r}.", "role")
        if grant.grantee_type == EVERYONE and role != READER:
            raise invalid_argument("A permission for EVERYONE can only have the role READER.", "role")
        if OWNER in (role, grant.role):
            self.parent(identity, parent, OWNER)
        with self.store.lock:
            if grant.role == OWNER and role != OWNER and len(resource.acl.owners()) == 1:
                raise failed_precondition(
                    f"{name} is the only OWNER of {parent}; {_KEEP_AN_OWNER[parent.split('/')[0]]} before "
                    f"changing it.")
            grant.role = role
            return render(parent, grant)

    def delete(self, identity: Identity, name: str) -> None:
        parent, _ = self._split(name)
        resource = self.parent(identity, parent, WRITER)
        grant = self._grant(resource, name)
        if grant.role == OWNER:
            self.parent(identity, parent, OWNER)
        with self.store.lock:
            if grant.role == OWNER and len(resource.acl.owners()) == 1:
                raise failed_precondition(
                    f"{name} is the only OWNER of {parent}; {_KEEP_AN_OWNER[parent.split('/')[0]]} before "
                    f"deleting it.")
            resource.acl.grants.pop(grant.id, None)

    def transfer(self, resource: Shared, email: str) -> None:
        """`email` becomes the OWNER (as a USER grant); every other OWNER grant becomes WRITER."""
        with self.store.lock:
            target = next((g for g in resource.acl.grants.values() if g.same_grantee(USER, email)), None)
            if target is None:
                target = self.grant(resource, USER, email, OWNER)
            target.role = OWNER
            for grant in resource.acl.grants.values():
                if grant is not target and grant.role == OWNER:
                    grant.role = WRITER


def _validated(body: dict[str, Any]) -> tuple[str, str | None, str]:
    grantee_type = body.get("granteeType")
    if grantee_type not in GRANTEE_TYPES:
        raise invalid_argument(
            f"granteeType is required and must be one of {', '.join(GRANTEE_TYPES)}"
            f"{'' if grantee_type is None else f', not {grantee_type!r}'}.", "granteeType")
    role = body.get("role")
    if role not in ROLES:
        raise invalid_argument(
            f"role is required and must be one of {', '.join(ROLES)}"
            f"{'' if role is None else f', not {role!r}'}.", "role")
    email = body.get("emailAddress")
    if grantee_type == EVERYONE:
        if email:
            raise invalid_argument("emailAddress must not be set for granteeType EVERYONE.", "emailAddress")
        if role != READER:
            raise invalid_argument("A permission for EVERYONE can only have the role READER.", "role")
        return grantee_type, None, role
    if not isinstance(email, str) or not email.strip():
        raise invalid_argument(f"emailAddress is required for granteeType {grantee_type}.", "emailAddress")
    return grantee_type, email.strip(), role


def register(store: Store) -> None:
    store.register("permissions", Permissions(store))


# -- handlers ------------------------------------------------------------------------------------------

def _parent(ctx: Context) -> str:
    if "tuned" in ctx.params:
        return f"tunedModels/{ctx.params['tuned']}"
    return f"corpora/{ctx.params['corpus']}"


def _name(ctx: Context) -> str:
    return f"{_parent(ctx)}/permissions/{ctx.params['permission']}"


async def create_permission(ctx: Context) -> Response:
    body = await ctx.json("Permission")
    return json_response(ctx.store.permissions.create(ctx.identity, _parent(ctx), body))


async def list_permissions(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), 10, 1000)
    return json_response(ctx.store.permissions.list(ctx.identity, _parent(ctx), size, ctx.query("pageToken")))


async def get_permission(ctx: Context) -> Response:
    return json_response(ctx.store.permissions.get(ctx.identity, _name(ctx)))


async def patch_permission(ctx: Context) -> Response:
    body = await ctx.json("Permission")
    mask = parse_update_mask(ctx.query("updateMask", ctx.query("update_mask")))   # either casing
    return json_response(ctx.store.permissions.patch(ctx.identity, _name(ctx), body, mask))


async def delete_permission(ctx: Context) -> Response:
    ctx.store.permissions.delete(ctx.identity, _name(ctx))
    return json_response({})


def _routes() -> list[Any]:
    table = []
    for parent in ("tunedModels/{tuned}", "corpora/{corpus}"):
        table += [
            route("POST", f"{parent}/permissions", create_permission, versions=SHARING_VERSIONS),
            route("GET", f"{parent}/permissions", list_permissions, versions=SHARING_VERSIONS),
            route("GET", f"{parent}/permissions/{{permission}}", get_permission, versions=SHARING_VERSIONS),
            route("PATCH", f"{parent}/permissions/{{permission}}", patch_permission, versions=SHARING_VERSIONS),
            route("DELETE", f"{parent}/permissions/{{permission}}", delete_permission, versions=SHARING_VERSIONS),
        ]
    return table


ROUTES = _routes()

