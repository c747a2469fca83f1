"""In Debian's Chromium: an owner resets a member's password, and the member chooses their own at first
sign-in; the member's pages offer no export, void or revert. axe-core and the 390 px check run on each
new page (the confirm step, the one-time password, the forced change, a member's invoice)."""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OWNER_PASSWORD
from tests.web.conftest import sign_in_browser
from tests.web.test_browser import server  # noqa: F401  (fixture)
from tests.web.test_journey import check_page

pytestmark = pytest.mark.browser


def test_a_reset_member_chooses_their_own_password_and_sees_only_what_a_member_may_do(
    server: tuple[str, dict[str, Any]], chromium_page: Any
) -> None:
    base, seeded = server
    owner = chromium_page
    sign_in_browser(owner, base, seeded["tenant"].owner_email, OWNER_PASSWORD)
    owner.wait_for_url(f"{base}/")

    # The owner invites a member, who joins in their own browser.
    owner.goto(f"{base}/workspace/settings")
    owner.select_option("#invite-role", "member")
    owner.click("button:text-is('Create invitation link')")
    link = owner.locator("#invitation-link").inner_text().strip()
    member_context = owner.context.browser.new_context(viewport={"width": 1280, "height": 800})
    member = member_context.new_page()
    member.shot = lambda name: member.screenshot(  # type: ignore[attr-defined]
        path=str(owner.shots_folder / f"{name}.png"), full_page=True)
    try:
        member.goto(base + "/" + link.split("/", 3)[3])  # the link names the configured base URL
        member.fill("#join-email", "ada@example.com")
        member.fill("#join-password", "ada's first password")
        member.click("button:text-is('Create my account and join')")
        member.wait_for_selector("text=Welcome to")

        # The owner resets it: a confirm step, then the one-time password shown once.
        owner.goto(f"{base}/workspace/settings")
        owner.click("a:has-text('Reset password of ada@example.com')")
        owner.wait_for_selector("h1:has-text('Reset the password of ada@example.com?')")
        check_page(owner, "reset-confirm")
        owner.click("button:text-is('Reset the password of ada@example.com')")
        owner.wait_for_selector("#one-time-secret")
        check_page(owner, "reset-shown-once")
        one_time = owner.locator("#secret-value").input_value()
        owner.reload()
        assert owner.locator("#one-time-secret").count() == 0  # a reload shows nothing and makes nothing

        # The member's session ended; signing in with the one-time password leads to the change form.
        member.goto(f"{base}/invoices")
        assert "/login" in member.url
        sign_in_browser(member, base, "ada@example.com", one_time)
        member.wait_for_url(f"{base}/account/password")
        assert member.locator("#must-change").count() == 1
        check_page(member, "forced-change")
        member.goto(f"{base}/invoices/{seeded['invoices'][0]}")
        member.wait_for_url(f"{base}/account/password")  # every other page leads back here
        member.fill("#current_password", one_time)
        member.fill("#new_password", "ada's very own")
        member.fill("#confirm_password", "ada's very own")
        member.click("button:text-is('Change password')")
        member.wait_for_url(f"{base}/")
        member.wait_for_selector("text=Your password is changed")

        # A member's invoice page offers no export, void, revert or payment.
        member.goto(f"{base}/invoices/{seeded['invoices'][0]}")
        member.wait_for_selector("#invoice-live h1")
        for name in ("Export", "Mark as sent", "Check for payments", "Record payment"):
            assert member.locator(f"button:text-is('{name}')").count() == 0, name
        for name in ("Void…", "Revert to draft…"):
            assert member.locator(f"a:text-is('{name}')").count() == 0, name
        check_page(member, "member-invoice")
    finally:
        member_context.close()
