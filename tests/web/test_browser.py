"""The admin UI in Debian's Chromium against a real server whose jobs run in-process.

Each test saves a full-page screenshot of every page it visits under test-output/screenshots/<test>/.
These go as far as the Acme test provider allows (its consent page is not a real site, so the
connection is seeded); the newcomer's whole journey against a real provider sandbox is test_journey.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OWNER_PASSWORD, make_connection, make_tenant, open_database
from tests.web import seeding
from tests.web.conftest import serving, sign_in_browser

pytestmark = pytest.mark.browser


async def _seed(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    await open_database(url, monkeypatch)
    tenant = await make_tenant("owner@example.com", "Acme Studio")
    connection = await make_connection(tenant.workspace_id)
    globex = await seeding.customer(tenant.workspace_id, "Globex", email="ap@globex.test")
    ids = [await seeding.invoice(tenant.workspace_id, globex.id, f"INV-{n}") for n in range(1, 4)]
    return {"tenant": tenant, "connection": connection, "invoices": ids}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, acme: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    with serving(tmp_path, monkeypatch, _seed) as running:
        yield running


def test_sign_in_export_and_watch_progress(server: tuple[str, dict[str, Any]], chromium_page: Any) -> None:
    base, seeded = server
    page = chromium_page
    page.goto(f"{base}/invoices")
    assert "/login" in page.url
    page.shot("login")
    page.fill("#email", seeded["tenant"].owner_email)
    page.fill("#password", OWNER_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/invoices")
    page.shot("invoices")
    assert page.locator(".badge.sync-not_exported").count() == 3
    page.check("input[aria-label='Select all on this page']")
    page.click("text=Export selected")
    page.wait_for_url("**/invoices?runs=*")
    page.locator("progress").first.wait_for()
    page.wait_for_selector(".progress-panel:not([hx-get]) >> text=3 / 3", timeout=30_000)  # htmx polled to the end
    page.shot("export-progress")
    page.goto(f"{base}/invoices?sync=synced")
    assert page.locator(".badge.sync-synced").count() == 3
    page.shot("invoices-exported")
    page.click("text=INV-1")
    page.wait_for_selector("text=In your accounting software")
    assert page.locator("text=Acme Books").count() >= 1
    page.shot("invoice")
    for path, name in (("/", "dashboard"), ("/integrations", "integrations"), ("/sync-history", "sync-history"),
                       ("/items", "items"), ("/customers", "customers"), ("/issues", "issues"),
                       ("/time-entries", "time-entries"), ("/workspace/settings", "members")):
        page.goto(f"{base}{path}")
        assert page.locator("h1").count() == 1
        page.shot(name)


def test_disconnect_is_confirmed_without_javascript(server: tuple[str, dict[str, Any]], chromium_page: Any) -> None:
    base, seeded = server
    page = chromium_page
    sign_in_browser(page, base, seeded["tenant"].owner_email)
    page.goto(f"{base}/integrations/{seeded['connection'].id}")
    page.shot("integration")
    page.click("text=Disconnect…")
    page.wait_for_selector("text=Your data in Acme Books stays there.")
    page.shot("confirm-disconnect")
    page.click("button.danger")
    page.wait_for_url("**/integrations")
    assert "notice=" not in page.url
    assert page.locator("text=disconnected").count() >= 1
    page.shot("disconnected")
