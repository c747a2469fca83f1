"""Workspace members and API keys: owners manage them, members and API keys cannot."""

from __future__ import annotations

from typing import Any

import pytest
from ledgerbridge.api.errors import Conflict, Invalid
from ledgerbridge.domain.api_keys import services as api_keys_services
from ledgerbridge.domain.api_keys.schemas import ApiKeyIn
from ledgerbridge.domain.connections import services as connections_services
from ledgerbridge.domain.connections.schemas import AuthorizeIn
from ledgerbridge.domain.invitations import services as invitations_services
from ledgerbridge.domain.invitations.schemas import InvitationIn, JoinIn
from ledgerbridge.domain.invitations.services import InvitationUnusable
from ledgerbridge.domain.members import services as members_services
from ledgerbridge.domain.members.schemas import MemberPatch
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.identity.permissions import Scope
from ledgerbridge.tables import AuditEntry, Membership, Role
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, csrf_token, sign_in


async def signed_in_owner(app: Litestar, tenant: Tenant) -> tuple[AsyncTestClient, dict[str, str]]:
    client = AsyncTestClient(app=app)
    await client.__aenter__()
    response = await sign_in(client, tenant.owner_email, tenant.password)
    assert response.status_code == 200, response.text
    return client, {"x-csrftoken": await csrf_token(client)}


async def invite(client: AsyncTestClient, csrf: dict[str, str], role: str = "member") -> str:
    """An invitation link's token, made by the signed-in owner."""
    response = await client.post("/api/v1/workspace/invitations", json={"role": role, "note": "for a test"},
                                 headers=csrf)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["accept_url"].endswith(f"/invitations/accept?token={body['token']}")
    return body["token"]


async def add_member(client: AsyncTestClient, csrf: dict[str, str], email: str = "member@example.com",
                     password: str = "member password", role: str = "member") -> Any:
    """Someone new joins: the owner invites, the invitee creates their account with the link."""
    token = await invite(client, csrf, role)
    return await invitations_services.join(JoinIn(token=token, email=email, password=password))


async def test_owner_adds_a_member_who_cannot_manage_keys(app: Litestar, tenant: Tenant) -> None:
    owner, csrf = await signed_in_owner(app, tenant)
    try:
        joined = await add_member(owner, csrf)
        assert joined.role == "member" and joined.workspace_id == tenant.workspace_id
        members = (await owner.get("/api/v1/workspace/members")).json()["items"]
        assert sorted((m["email"], m["role"]) for m in members) == [
            ("member@example.com", "member"),
            ("owner@example.com", "owner"),
        ]
    finally:
        await owner.__aexit__(None, None, None)

    async with AsyncTestClient(app=app) as member:
        assert (await sign_in(member, "member@example.com", "member password")).status_code == 200
        member_csrf = {"x-csrftoken": await csrf_token(member)}
        listed = await member.get("/api/v1/workspace/api-keys")
        assert listed.status_code == 403
        assert listed.json()["code"] == "forbidden"
        created = await member.post("/api/v1/workspace/api-keys", json={"name": "sneaky"}, headers=member_csrf)
        assert created.status_code == 403
        promoted = await member.patch(
            f"/api/v1/workspace/members/{tenant.owner_id}", json={"role": "member"}, headers=member_csrf
        )
        assert promoted.status_code == 403
        # Members still work with the workspace's records.
        assert (await member.get("/api/v1/customers")).status_code == 200


async def test_api_keys_cannot_manage_keys_or_members(api: AsyncTestClient) -> None:
    assert (await api.get("/api/v1/workspace/api-keys")).status_code == 403
    assert (await api.post("/api/v1/workspace/api-keys", json={"name": "more"})).status_code == 403
    assert (await api.post("/api/v1/workspace/invitations", json={"role": "owner"})).status_code == 403
    assert (await api.get("/api/v1/workspace/invitations")).status_code == 403
    assert (await api.get("/api/v1/workspace/members")).status_code == 200


async def test_owner_creates_lists_and_revokes_keys(app: Litestar, tenant: Tenant) -> None:
    owner, csrf = await signed_in_owner(app, tenant)
    try:
        created = await owner.post("/api/v1/workspace/api-keys", json={"name": "billing app"}, headers=csrf)
        assert created.status_code == 201, created.text
        body = created.json()
        key, prefix = body["key"], body["api_key"]["prefix"]
        assert key.startswith(prefix + "_") and prefix.startswith("lb_")
        listed = await owner.get("/api/v1/workspace/api-keys")
        assert key not in listed.text  # shown once, never again
        assert "billing app" in [k["name"] for k in listed.json()["items"]]

        async with AsyncTestClient(app=app) as script:
            script.headers["Authorization"] = f"Bearer {key}"
            assert (await script.get("/api/v1/customers")).status_code == 200
            revoked = await owner.delete(f"/api/v1/workspace/api-keys/{body['api_key']['id']}", headers=csrf)
            assert revoked.status_code == 200 and revoked.json()["revoked_at"]
            refused = await script.get("/api/v1/customers")
            assert refused.status_code == 401
            assert "revoked" in refused.json()["message"]
    finally:
        await owner.__aexit__(None, None, None)


async def test_the_last_owner_stays(app: Litestar, tenant: Tenant) -> None:
    owner, csrf = await signed_in_owner(app, tenant)
    me = f"/api/v1/workspace/members/{tenant.owner_id}"
    try:
        demote = await owner.patch(
            f"/api/v1/workspace/members/{tenant.owner_id}", json={"role": "member"}, headers=csrf
        )
        assert demote.status_code == 409 and "last owner" in demote.json()["message"]
        leave = await owner.delete(me, headers=csrf)
        assert leave.status_code == 409
        second = await add_member(owner, csrf, email="co-owner@example.com", role="owner")
        assert second.role == "owner"
        demote = await owner.patch(
            f"/api/v1/workspace/members/{tenant.owner_id}", json={"role": "member"}, headers=csrf
        )
        assert demote.status_code == 200 and demote.json()["role"] == "member"
    finally:
        await owner.__aexit__(None, None, None)


async def test_joining_by_invitation_needs_a_good_password_and_uses_the_link_once(
    app: Litestar, tenant: Tenant
) -> None:
    owner, csrf = await signed_in_owner(app, tenant)
    try:
        token = await invite(owner, csrf)
        with pytest.raises(Invalid, match="8 characters"):
            await invitations_services.join(JoinIn(token=token, email="new@example.com", password="short"))
        joined = await invitations_services.join(JoinIn(token=token, email="new@example.com", password="long enough"))
        assert joined.role == "member"
        with pytest.raises(InvitationUnusable, match="already been used"):
            await invitations_services.join(JoinIn(token=token, email="other@example.com", password="long enough"))
        assert (await owner.get("/api/v1/workspace/invitations")).json()["items"] == []
    finally:
        await owner.__aexit__(None, None, None)


async def test_owners_cannot_add_or_find_other_accounts_without_their_consent(
    app: Litestar, tenant: Tenant, other_tenant: Tenant
) -> None:
    """No route adds an account by email any more; the other workspace's owner joins only by accepting."""
    owner, csrf = await signed_in_owner(app, tenant)
    try:
        gone = await owner.post("/api/v1/workspace/members", json={"email": other_tenant.owner_email}, headers=csrf)
        assert gone.status_code == 405
        token = await invite(owner, csrf, role="accountant")
        # Creating an account with the link cannot take over an existing one.
        with pytest.raises(Conflict, match="already has a LedgerBridge account"):
            await invitations_services.join(JoinIn(token=token, email=other_tenant.owner_email, password="whatever1"))
        members = (await owner.get("/api/v1/workspace/members")).json()["items"]
        assert other_tenant.owner_email not in [m["email"] for m in members]
        withdrawn = await invite(owner, csrf)
        pending = (await owner.get("/api/v1/workspace/invitations")).json()["items"]
        assert [i["role"] for i in pending] == ["accountant", "member"]
        assert (await owner.delete(f"/api/v1/workspace/invitations/{pending[1]['id']}", headers=csrf)
                ).status_code == 204
    finally:
        await owner.__aexit__(None, None, None)

    async with AsyncTestClient(app=app) as other:
        assert (await sign_in(other, other_tenant.owner_email, other_tenant.password)).status_code == 200
        other_csrf = {"x-csrftoken": await csrf_token(other)}
        refused = await other.post("/api/v1/invitations/accept", json={"token": withdrawn}, headers=other_csrf)
        assert refused.status_code == 410 and "withdrawn" in refused.json()["message"]
        accepted = await other.post("/api/v1/invitations/accept", json={"token": token}, headers=other_csrf)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == "accountant" and accepted.json()["workspace_id"] == tenant.workspace_id
        again = await other.post("/api/v1/invitations/accept", json={"token": token}, headers=other_csrf)
        assert again.status_code == 410
    roles = await Membership.select(Membership.role).where(
        (Membership.workspace == tenant.workspace_id) & (Membership.user == other_tenant.owner_id)
    )
    assert roles == [{"role": "accountant"}]
    joined = await AuditEntry.objects().where(AuditEntry.action == "member.join").first()
    assert joined is not None and joined.actor == other_tenant.owner_email and joined.workspace == tenant.workspace_id


async def test_the_services_refuse_by_role_whoever_calls_them() -> None:
    """Permissions live in the services: a page or script calling them directly meets the same refusal."""
    member = Caller(via="session", workspace_id=1, workspace_name="w", role=Role.member, user_id=7)
    key = Caller(via="api_key", workspace_id=1, workspace_name="w", role=None, api_key_id=3,
                 api_key_prefix="lb_00000000", scopes=frozenset(scope.value for scope in Scope))
    for caller in (member, key):
        with pytest.raises(Forbidden, match="Only owners"):
            await invitations_services.create_invitation(caller, data=InvitationIn(role=Role.owner))
        with pytest.raises(Forbidden):
            await members_services.change_role(caller, user_id=7, data=MemberPatch(role=Role.owner))
        with pytest.raises(Forbidden):
            await members_services.remove_member(caller, user_id=7)
        with pytest.raises(Forbidden):
            await api_keys_services.create_key(caller, data=ApiKeyIn(name="k"))
        with pytest.raises(Forbidden):
            await api_keys_services.list_keys(caller)
    with pytest.raises(Forbidden, match="consent"):
        await connections_services.authorize(key, data=AuthorizeIn(provider="acme"))


async def test_keys_made_before_scopes_keep_what_they_could_do_minus_managing_connections(tenant: Tenant) -> None:
    """Migration 0009 gives rows without scopes the legacy set, through the column's default."""
    from ledgerbridge.db import current_engine
    from ledgerbridge.identity.api_keys import authenticate_api_key
    from ledgerbridge.identity.digests import digest
    from ledgerbridge.identity.permissions import LEGACY_KEY_SCOPES

    old_key = "lb_0ld0ld00_an-old-key-from-before-scopes"
    await current_engine().run_ddl(
        "INSERT INTO api_key (workspace, name, prefix, key_hash, created_at) "
        f"VALUES ({tenant.workspace_id}, 'old app', 'lb_0ld0ld00', '{digest(old_key)}', current_timestamp)"
    )
    identity = await authenticate_api_key(old_key)
    assert identity.scopes == frozenset(scope.value for scope in LEGACY_KEY_SCOPES)
    assert "connections:manage" not in identity.scopes
