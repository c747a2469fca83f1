"""What a caller may do, decided here and only here.

Services call `require(caller, Permission.X)` before they act, for people and API keys alike; the
`permitted` route guard repeats the same call at the door from the permission each route declares
in its `opt`, so a refusal arrives before a request body is even read. Pages call `allows` only to
decide which forms to show.

A person's permissions come from their role in the current workspace; an API key's from the scopes
chosen when it was made. No scope grants managing members or API keys: a leaked key must not be
able to mint more keys or let anyone in.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.tables import Role

PERMISSION_OPT = "permission"  # the key of a route handler's `opt` that names what it needs
FIRST_PASSWORD_OPT = "open_before_password_change"  # routes a person with a forced password change may use


class Permission(StrEnum):
    """Every action the server guards. Routes declare one; services require it."""

    read = "read"  # see the workspace's records, runs, issues, connections and settings
    records_write = "records:write"  # create, edit, delete records in LedgerBridge; resolve issues
    exports_run = "exports:run"  # send records to the books: exports, sync now, retries, cancels
    books_write = "books:write"  # change what the books hold: reverts, voids, payments
    connections_manage = "connections:manage"  # connect, disconnect, connection settings and mapping
    webhooks_manage = "webhooks:manage"  # the host app's webhook endpoints
    members_manage = "members:manage"  # invitations, roles, removals
    api_keys_manage = "api_keys:manage"  # create and revoke API keys
    audit_read = "audit:read"  # the audit trail
    own_account = "own_account"  # a signed-in person's own preferences, notices and workspace choice
    public = "public"  # no sign-in: signing in itself, signed provider webhooks


class Scope(StrEnum):
    """What an API key may be allowed, chosen when it is made."""

    read = "read"
    records_write = "records:write"
    exports_write = "exports:write"
    books_write = "books:write"
    connections_manage = "connections:manage"
    webhooks_manage = "webhooks:manage"
    audit_read = "audit:read"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset({P.read, P.own_account}),
    Role.member: frozenset({P.read, P.own_account, P.records_write}),
    Role.accountant: frozenset(
        {P.read, P.own_account, P.records_write, P.exports_run, P.books_write, P.connections_manage,
         P.webhooks_manage, P.audit_read}
    ),
    Role.owner: frozenset(set(Permission) - {P.public}),
}

SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.read: frozenset({P.read}),
    Scope.records_write: frozenset({P.records_write}),
    Scope.exports_write: frozenset({P.exports_run}),
    Scope.books_write: frozenset({P.books_write}),
    Scope.connections_manage: frozenset({P.connections_manage}),
    Scope.webhooks_manage: frozenset({P.webhooks_manage}),
    Scope.audit_read: frozenset({P.audit_read}),
}

DEFAULT_KEY_SCOPES: tuple[Scope, ...] = (Scope.read, Scope.records_write, Scope.exports_write)
"""A new key's scopes when none are named: a host app pushing records and exporting them."""

LEGACY_KEY_SCOPES: tuple[Scope, ...] = (
    Scope.read, Scope.records_write, Scope.exports_write, Scope.books_write, Scope.webhooks_manage
)
"""What keys made before scopes existed keep (migration 0009): all they could do, minus managing
connections."""

ROLE_NAMES: dict[Role, str] = {
    Role.owner: "owners", Role.accountant: "accountants", Role.member: "members", Role.viewer: "viewers"
}

ROLE_LABELS: dict[Role, str] = {
    Role.owner: "Everything, including members, roles and API keys",
    Role.accountant: "Exports, reverts, voids, payments, connections and their settings, webhooks, the audit trail",
    Role.member: "Creates and edits records; cannot touch the books",
    Role.viewer: "Read-only",
}


def scopes_of(values: Iterable[Any]) -> frozenset[Scope]:
    """The known scopes among stored values (an unknown value grants nothing)."""
    known = {scope.value for scope in Scope}
    return frozenset(Scope(value) for value in values if value in known)


def permissions_of(caller: Caller) -> frozenset[Permission]:
    """A key's scopes or a person's role in the current workspace, as permissions."""
    if caller.api_key_id is not None:
        granted: set[Permission] = set()
        for scope in scopes_of(caller.scopes):  # a scope this version does not know grants nothing
            granted |= SCOPE_PERMISSIONS[scope]
        return frozenset(granted)
    if caller.role is None:
        return frozenset()
    return ROLE_PERMISSIONS.get(caller.role, frozenset())


def allows(caller: Caller, permission: Permission) -> bool:
    """Whether the caller may do it; pages ask this to decide which forms to show."""
    if permission is Permission.public:
        return True
    if permission is Permission.own_account:
        return caller.user_id is not None
    return permission in permissions_of(caller)


def require(caller: Caller, permission: Permission) -> None:
    """THE check: refuse the caller unless their role or key's scopes allow `permission`."""
    if allows(caller, permission):
        return
    roles = [role for role in Role if permission in ROLE_PERMISSIONS[role]]
    who = " and ".join(ROLE_NAMES[role] for role in roles)
    if caller.api_key_id is not None:
        scope = next((s for s, granted in SCOPE_PERMISSIONS.items() if permission in granted), None)
        if scope is None:
            raise Forbidden(
                f"Only {who} of this workspace, signed in as people, can do this ({permission.value}); "
                "no API key can.",
                fix="Sign in to LedgerBridge to do it.",
            )
        raise Forbidden(
            f"The API key {caller.api_key_prefix} lacks the `{scope.value}` scope this needs ({permission.value}).",
            fix=f"Create a key with the `{scope.value}` scope under API keys, and use it for this.",
        )
    mine = caller.role.value if caller.role else "no role"
    raise Forbidden(
        f"Only {who} of this workspace can do this ({permission.value}); your role is {mine}.",
        fix=f"Ask an owner of the workspace to do it, or to give you the role it needs ({', '.join(roles)}).",
    )


def needs(permission: Permission) -> dict[str, Any]:
    """A route handler's `opt` declaring what it needs: `@post(..., opt=needs(Permission.X))`."""
    return {PERMISSION_OPT: permission}


def open_before_password_change(opt: dict[str, Any] | None = None) -> dict[str, Any]:
    """A route's `opt` (e.g. `needs(...)`) marked usable while the person must still choose their own
    password: changing it, signing in and out, and saying who is signed in. Every other route refuses
    them (`guards.permitted`) until they have."""
    return {**(opt or {}), FIRST_PASSWORD_OPT: True}


def may_manage_workspace(caller: Caller) -> bool:
    """Owners manage members and API keys; pages ask this to decide which forms to show."""
    return allows(caller, Permission.members_manage)


def require_person(caller: Caller, *, why: str | None = None, fix: str | None = None) -> None:
    """Refuse API keys: the action needs someone in a browser (consent, switching workspace)."""
    if caller.user_id is None:
        raise Forbidden(why or "This action needs a signed-in person, not an API key.", fix=fix or "Sign in to do it.")


def require_owner(caller: Caller) -> None:
    """Managing members and keys, spelled as the owners' permission it is."""
    require(caller, Permission.members_manage)
