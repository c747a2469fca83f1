"""`POST /api/v1/workspace/members/{user_id}/password`: an owner resets a member's password over the API, by
the same service and rules as the Members page; no API key may, whatever its scopes."""

from __future__ import annotations

import json
from typing import Any

from ledgerbridge.identity.permissions import Scope
from ledgerbridge.tables import AuditEntry, Membership, Role, User
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_tenant, sign_in
from tests.api.test_members_and_api_keys import add_member, signed_in_owner

MEMBER = "member@example.com"
MEMBER_PASSWORD = "member password"


async def test_an_owner_resets_a_member_once_and_the_member_must_choose_their_own(
    app: Litestar, tenant: Tenant
) -> None:
    owner, csrf = await signed_in_owner(app, tenant)
    member_browser: AsyncTestClient[Any] = AsyncTestClient(app=app)
    await member_browser.__aenter__()
    try:
        joined = await add_member(owner, csrf, MEMBER, MEMBER_PASSWORD)
        assert (await sign_in(member_browser, MEMBER, MEMBER_PASSWORD)).status_code == 200

        answer = await owner.post(f"/api/v1/workspace/members/{joined.user_id}/password", headers=csrf)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["user_id"], body["email"]) == (joined.user_id, MEMBER) and len(body["password"]) >= 12
        assert answer.headers["cache-control"] == "no-store"

        # The member's session ended; the old password is refused, the one-time one must be changed first.
        assert (await member_browser.get("/auth/me")).status_code == 401
        async with AsyncTestClient(app=app) as fresh:
            assert (await sign_in(fresh, MEMBER, MEMBER_PASSWORD)).status_code == 401
            assert (await sign_in(fresh, MEMBER, body["password"])).status_code == 200
            assert (await fresh.get("/auth/me")).json()["must_change_password"] is True
            refused = await fresh.get("/api/v1/customers")
            assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"

        [entry] = await AuditEntry.select().where(AuditEntry.action == "member.password_reset")
        assert (entry["actor"], entry["actor_user"], entry["target_id"]) == (
            tenant.owner_email, tenant.owner_id, str(joined.user_id))
        assert body["password"] not in json.dumps([entry["before"], entry["after"]])

        # A second call makes a new password (the first stops working): each answer shows its own once.
        second = await owner.post(f"/api/v1/workspace/members/{joined.user_id}/password", headers=csrf)
        assert second.status_code == 200 and second.json()["password"] != body["password"]

        # Never one's own account (that is POST /auth/password), never a stranger.
        own = await owner.post(f"/api/v1/workspace/members/{tenant.owner_id}/password", headers=csrf)
        assert own.status_code == 409 and own.json()["code"] == "conflict"
        assert (await owner.post("/api/v1/workspace/members/999999/password", headers=csrf)).status_code == 404
    finally:
        await member_browser.__aexit__(None, None, None)
        await owner.__aexit__(None, None, None)


async def test_no_api_key_resets_and_neither_does_an_owner_of_only_some_of_their_workspaces(
    app: Litestar, tenant: Tenant
) -> None:
    from ledgerbridge.identity.api_keys import create_api_key

    other = await make_tenant("elsewhere@example.com", "Another Co")
    await Membership(user=other.owner_id, workspace=tenant.workspace_id, role=Role.member).save()
    owner, csrf = await signed_in_owner(app, tenant)
    try:
        member = await add_member(owner, csrf, MEMBER, MEMBER_PASSWORD)
        every_scope = await create_api_key(tenant.workspace_id, "all scopes", tenant.owner_id,
                                           scopes=[scope.value for scope in Scope])
        async with AsyncTestClient(app=app) as script:
            refused = await script.post(f"/api/v1/workspace/members/{member.user_id}/password",
                                        headers={"X-API-Key": every_scope.key})
        assert refused.status_code == 403 and "no API key can" in refused.json()["message"]

        # Another workspace's owner who is a member here: a reset would open Another Co.
        across = await owner.post(f"/api/v1/workspace/members/{other.owner_id}/password", headers=csrf)
        assert across.status_code == 403 and "workspace you do not own" in across.json()["message"]
    finally:
        await owner.__aexit__(None, None, None)
    hashes = await User.select(User.password_hash, User.must_change_password).where(
        User.id.is_in([member.user_id, other.owner_id]))
    assert not any(row["must_change_password"] for row in hashes)
    assert await AuditEntry.count().where(AuditEntry.action == "member.password_reset") == 0


async def test_the_route_is_documented(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/api/v1/workspace/members/{user_id}/password"]["post"]
    assert {"200", "403", "404", "409"} <= set(operation["responses"])
    assert "API key" in operation["description"]
