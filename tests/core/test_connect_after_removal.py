"""A person removed from a workspace cannot finish an OAuth consent they started while a member.

The consent runs for real against the Acme sandbox; only the removal happens between the consent
page and the callback, as it would when an owner removes someone mid-flow.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ledgerbridge import oauth
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.tables import Connection, Membership, Role, User, utcnow
from ledgerbridge_testing.world import ProviderWorld

from tests.conftest import Tenant


async def _member(tenant: Tenant) -> int:
    user = User(email="leaver@example.com", name="Leaver", password_hash="!", created_at=utcnow())
    await user.save()
    await Membership(user=user.id, workspace=tenant.workspace_id, role=Role.member).save()
    return user.id


async def _consent(acme: Any, tenant: Tenant, user_id: int) -> dict[str, str]:
    url = await oauth.begin_connect("acme", workspace_id=tenant.workspace_id, user_id=user_id, environment="sandbox")
    with httpx.Client(base_url=acme.url, timeout=10) as http:
        return ProviderWorld(key="acme", url=acme.url, http=http).consent(url)


async def test_a_removed_member_cannot_finish_a_consent(acme: Any, tenant: Tenant) -> None:
    user_id = await _member(tenant)
    callback = await _consent(acme, tenant, user_id)
    await Membership.delete().where((Membership.user == user_id) & (Membership.workspace == tenant.workspace_id))

    with pytest.raises(LedgerBridgeError) as refused:
        await oauth.complete_connect(callback, user_id=user_id)
    assert refused.value.code == "forbidden"
    assert "no longer a member" in refused.value.message and "add you again" in refused.value.fix
    assert await Connection.count().where(Connection.workspace == tenant.workspace_id) == 0


async def test_a_current_member_finishes_the_same_consent(acme: Any, tenant: Tenant) -> None:
    user_id = await _member(tenant)
    callback = await _consent(acme, tenant, user_id)
    outcome = await oauth.complete_connect(callback, user_id=user_id)
    assert outcome.connection.workspace == tenant.workspace_id
