"""Ways to sign in, in Debian's Chromium: someone joins with Intuit (against the QuickBooks sandbox's OpenID
provider, as `serve` wires it in demo mode), finds they have no password and cannot unlink their only way
in, sets a password, then unlinks Intuit after the confirm page. axe-core and the 390 px check run on each
new page."""

# ruff: noqa: F811

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.web.test_journey import check_page
from tests.web.test_oidc_browser import demo_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


async def _invitation(tenant: Tenant) -> str:
    from ledgerbridge.domain.invitations import services as invitations
    from ledgerbridge.domain.invitations.schemas import InvitationIn
    from ledgerbridge.identity.callers import session_caller
    from ledgerbridge.identity.sessions import open_session
    from ledgerbridge.tables import Role

    owner = await session_caller(await open_session(tenant.owner_id))
    assert owner is not None
    return (await invitations.create_invitation(owner, data=InvitationIn(role=Role.member, note="Ada"))).token


def test_someone_who_joined_with_intuit_sets_a_password_then_unlinks_intuit(
    demo_server: tuple[str, str, Tenant], chromium_page: Any
) -> None:
    base, sandbox, tenant = demo_server
    # Made beside the browser's own event loop (Playwright's sync API runs one in this thread).
    with ThreadPoolExecutor(1) as aside:
        token = aside.submit(asyncio.run, _invitation(tenant)).result()
    page = chromium_page
    page.goto(f"{base}/invitations/accept?token={token}")
    page.click("a:text-is('Join with Intuit')")
    page.wait_for_url(f"{sandbox}/connect/oauth2**")
    page.fill("#email", "ada@example.com")
    page.check("input[name=email_verified][value=true]")
    page.click("button[value=approve]")
    page.wait_for_url(f"{base}/")

    # From the header: the password page says there is none yet and leads to Ways to sign in.
    page.click("a.who")
    page.wait_for_selector("#no-password")
    check_page(page, "00-password-page-without-a-password")
    page.click("#no-password a:text-is('Set a password under Ways to sign in')")
    page.wait_for_selector("h1:text-is('Ways to sign in')")
    assert page.locator("#linked-accounts td:text-is('Intuit')").count() == 1
    assert page.locator("a:has-text('Unlink')").count() == 0
    assert page.locator("#last-way").count() == 1
    check_page(page, "01-only-intuit")

    page.fill("#new_password", "ada's own password")
    page.fill("#confirm_password", "ada's own password")
    page.click("button:text-is('Set password')")
    page.wait_for_selector("text=Your password is set")
    assert page.locator("#no-password").count() == 0
    check_page(page, "02-password-set")

    page.click("a:has-text('Unlink')")
    page.wait_for_selector("h1:text-is('Unlink your Intuit account?')")
    check_page(page, "03-confirm-unlink")
    page.click("button:text-is('Unlink Intuit')")
    page.wait_for_selector("text=Your Intuit account is unlinked")
    assert page.locator("#linked-accounts td:text-is('Intuit')").count() == 0
    check_page(page, "04-unlinked")
