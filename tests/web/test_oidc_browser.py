""""Sign in with Intuit" in Debian's Chromium, against the QuickBooks sandbox's OpenID provider.

The sandbox and our server are wired as `ledgerbridge serve` wires them in demo mode (the sandbox's
discovery document becomes Intuit's), the person has an account made by an owner, and everything
else happens in the browser: the button, the sandbox's consent page (where the tester says which
Intuit account signs in), the dashboard, and the audit page showing the sign-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ledgerbridge_testing.servers import free_port

from tests.conftest import Tenant, make_tenant, open_database
from tests.web.test_journey import check_page

pytestmark = pytest.mark.browser


async def _owner(url: str, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    await open_database(url, monkeypatch)
    return await make_tenant("dana@example.com", "Northwind Design")


@pytest.fixture
def demo_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Tenant]]:
    from ledgerbridge import demo
    from ledgerbridge.app import create_app
    from ledgerbridge.asgi_thread import ThreadServer
    from ledgerbridge.settings import get_settings

    for name in ("CLIENT_ID", "CLIENT_SECRET", "DISCOVERY_URL"):
        monkeypatch.delenv(f"LEDGERBRIDGE_OIDC_INTUIT_{name}", raising=False)
    port = free_port()  # our URL must be known first: the sign-in comes back to it
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", "")
    monkeypatch.setenv("LEDGERBRIDGE_BASE_URL", base)
    tenant = asyncio.run(_owner(f"sqlite:///{tmp_path / 'oidc.sqlite3'}", monkeypatch))
    sandbox = demo.serve_sandbox("quickbooks", bind_host="127.0.0.1", public_host="127.0.0.1", port=0, base_url=base)
    try:
        for name, value in sandbox.env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        server = ThreadServer(create_app(get_settings(), background=True), "127.0.0.1", port)
        server.start()
        try:
            yield base, sandbox.url, tenant
        finally:
            server.stop()
    finally:
        sandbox.server.stop()
        get_settings.cache_clear()


def test_sign_in_with_intuit_lands_on_the_dashboard_and_is_audited(
    demo_server: tuple[str, str, Tenant], chromium_page: Any
) -> None:
    base, sandbox, tenant = demo_server
    page = chromium_page
    page.goto(f"{base}/")
    assert "/login" in page.url
    check_page(page, "01-sign-in")
    page.click("a:text-is('Sign in with Intuit')")

    page.wait_for_url(f"{sandbox}/connect/oauth2**")
    page.fill("#email", tenant.owner_email)
    page.check("input[name=email_verified][value=true]")
    page.shot("02-intuit-consent")
    page.click("button[value=approve]")

    page.wait_for_url(f"{base}/")
    assert page.locator(".notice.error").count() == 0, page.locator("main").inner_text()
    assert page.locator("text=Signed in with Intuit.").count() == 1
    assert page.locator(f"text={tenant.owner_email}").count() >= 1
    check_page(page, "03-dashboard")

    page.goto(f"{base}/audit?action=account.sign_in")
    row = page.locator("#audit-entries tbody tr").first
    assert "account.sign_in" in row.inner_text() and tenant.owner_email in row.inner_text()
    assert "signed_in_with Intuit" in " ".join(row.inner_text().split())
    check_page(page, "04-audit")


def test_an_unknown_intuit_account_is_told_why_in_the_browser(
    demo_server: tuple[str, str, Tenant], chromium_page: Any
) -> None:
    base, sandbox, _ = demo_server
    page = chromium_page
    page.goto(f"{base}/login")
    page.click("a:text-is('Sign in with Intuit')")
    page.wait_for_url(f"{sandbox}/connect/oauth2**")
    page.fill("#email", "someone.else@example.com")
    page.click("button[value=approve]")
    page.wait_for_url(f"{base}/login/oidc/intuit/callback**")
    assert page.locator(".notice.error >> text=No LedgerBridge account uses someone.else@example.com").count() == 1
    check_page(page, "refused")
    page.goto(f"{base}/")
    assert "/login" in page.url  # not signed in
