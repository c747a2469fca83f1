"""A newcomer's first hour with each provider that offers a sandbox, clicked through in Debian's Chromium.

Nothing is seeded but the person's account: the connection is made on the provider sandbox's own
consent page, the customers, items (and accounts, where the provider has them) come from its first
import, the invoice is billed from time entries, exported, paid by the "accountant" on the sandbox's
own page, and the payment comes back through "Sync now". The app is a real server whose jobs run
in-process; the sandbox is the one `ledgerbridge serve` starts for a provider without credentials.

The journey runs once per provider plugin that offers a sandbox (`demo_sandbox`), found in the plugin
registry, so a provider that lands later is covered by itself. Its steps follow what the pages show
(a picker when the consent covered several companies, a mapping link only where items map to income
accounts, an export choice only where the provider has drafts), never the provider's name.
Every page is saved under test-output/screenshots/<test>[<provider>]/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import OWNER_PASSWORD, Tenant, make_tenant, open_database

pytestmark = pytest.mark.browser
RUN_TIMEOUT = 30_000  # ms a sync run may take before the test gives up on it


def _sandbox_providers() -> list[str]:
    """Every installed provider whose plugin can run a local sandbox: the journey needs no real account."""
    from ledgerbridge.plugins import get_registry, reset_registry

    reset_registry()
    try:
        registry = get_registry()
        return sorted(key for key in registry.providers if registry.implements(key, "demo_sandbox"))
    finally:
        reset_registry()


SANDBOX_PROVIDERS = _sandbox_providers()


@dataclass
class Journey:
    base: str  # our server
    sandbox: str  # the provider's sandbox
    provider: str  # its key
    name: str  # its display name, as our pages show it
    tenant: Tenant


def _free_port() -> int:
    from ledgerbridge.asgi_thread import bind

    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


async def _newcomer(url: str, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    await open_database(url, monkeypatch)
    return await make_tenant("newcomer@example.com", "Northwind Design")


@pytest.fixture(params=SANDBOX_PROVIDERS or [pytest.param("", marks=pytest.mark.skip("no plugin offers a sandbox"))])
def journey(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Journey]:
    """The provider's sandbox and our server, wired as `ledgerbridge serve` wires them, before the app exists."""
    from ledgerbridge import demo
    from ledgerbridge.app import create_app
    from ledgerbridge.asgi_thread import ThreadServer
    from ledgerbridge.plugins import get_registry, reset_registry
    from ledgerbridge.settings import get_settings

    provider: str = request.param
    reset_registry()
    port = _free_port()  # our URL must be known first: the OAuth redirect and webhooks come back to it
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", "")
    monkeypatch.setenv("LEDGERBRIDGE_BASE_URL", base)
    tenant = asyncio.run(_newcomer(f"sqlite:///{tmp_path / 'journey.sqlite3'}", monkeypatch))
    sandbox = demo.serve_sandbox(provider, bind_host="127.0.0.1", public_host="127.0.0.1", port=0, base_url=base)
    try:
        for name, value in sandbox.env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        server = ThreadServer(create_app(get_settings(), background=True), "127.0.0.1", port)
        server.start()
        try:
            yield Journey(base=base, sandbox=sandbox.url, provider=provider,
                          name=get_registry().providers[provider].name, tenant=tenant)
        finally:
            server.stop()
    finally:
        sandbox.server.stop()
        get_settings.cache_clear()
        reset_registry()


def _wait_for_runs_to_finish(page: Any, scope: str = "") -> None:
    """The htmx progress panel stops polling (loses hx-get) once every run in it has finished."""
    page.wait_for_selector(f"{scope} .progress-panel:not([hx-get])".strip(), timeout=RUN_TIMEOUT)


def _record_time(journey: Journey) -> tuple[str, int]:
    """Time entries arrive from the host app through the API (the UI has no form for them)."""
    with httpx.Client(base_url=f"{journey.base}/api/v1", headers=journey.tenant.headers, timeout=10) as api:
        customers = api.get("/customers", params={"limit": 100}).raise_for_status().json()["items"]
        customer = next(c for c in customers if c["active"] and c["source"] == journey.provider)
        items = api.get("/items", params={"limit": 100}).raise_for_status().json()["items"]
        item = next(i for i in items if i["active"] and i["kind"] == "service")
        for days, hours, what in ((3, "2.5", "Logo sketches"), (2, "4", "Brand guide"), (1, "1.5", "Review call")):
            api.post("/time-entries", json={
                "customer_id": customer["id"], "person": "Ada", "worked_on": str(date.today() - timedelta(days=days)),
                "hours": hours, "rate": "120", "item_id": item["id"], "description": what,
            }).raise_for_status()
    return customer["name"], customer["id"]


def _consent(page: Any) -> None:
    """On the sandbox's consent page: take the first company (or user) offered, then approve.

    Whatever the sandbox calls its inputs: the first checkbox or radio button is ticked (the others left
    as they are), a select gets its first real option, and the form's first submit button approves.
    """
    form = page.locator("form", has=page.locator("button[type=submit]")).first
    choices = form.locator("input[type=checkbox], input[type=radio]")
    if choices.count():
        choices.first.check()
    for select in form.locator("select").all():
        values = [value for value in select.locator("option").evaluate_all("os => os.map(o => o.value)") if value]
        if values:
            select.select_option(values[0])
    form.locator("button[type=submit]").first.click()


def test_newcomer_connects_bills_time_and_sees_it_paid(journey: Journey, chromium_page: Any) -> None:
    base, page = journey.base, chromium_page

    # Sign in.
    page.goto(f"{base}/")
    page.fill("#email", journey.tenant.owner_email)
    page.fill("#password", OWNER_PASSWORD)
    page.shot("01-sign-in")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")
    page.shot("02-dashboard")

    # Integrations -> add the provider -> the sandbox's consent page -> first company -> approve.
    page.click("nav.mainnav >> text=Integrations")
    card = page.locator(f"[data-provider={journey.provider}]")
    environment = card.locator("select[name=environment]")
    if environment.count() and environment.locator("option[value=sandbox]").count():
        environment.select_option("sandbox")
    page.shot("03-integrations")
    card.locator("button[type=submit]").click()
    page.wait_for_url(f"{journey.sandbox}/**")
    page.shot("04-consent")
    _consent(page)
    page.wait_for_url(f"{base}/integrations?connection=*")

    # A consent that covered several companies comes back to a picker: take the first.
    if "choose_tenant" in page.url:
        picker = page.locator("#choose-tenant")
        page.shot("04b-company-picker")
        # Until a company is chosen the connection is waiting for that choice, not for a reconnect.
        waiting = page.locator("article.tile", has=page.locator("a:text-is('Choose a company')"))
        assert waiting.count() == 1 and waiting.locator("text=Reconnect").count() == 0, waiting.all_inner_texts()
        picker.locator("input[name=tenant_id]").first.check()
        picker.locator("button[type=submit]").click()
        page.wait_for_url(lambda url: "connection=" in url and "choose_tenant" not in url)
    assert page.locator(".notice.error").count() == 0, page.locator("main").inner_text()
    assert page.locator("text=Connected. The first import is on its way").count() == 1
    page.shot("05-connected")

    # Watch the first import until it is done.
    _wait_for_runs_to_finish(page, "#first-import")
    assert page.locator("#first-import .run-failed").count() == 0, page.locator("#first-import").inner_text()
    assert page.locator("#first-import .run-done").count() >= 1
    page.shot("06-first-import-done")
    hint_offers_mapping = page.locator("#first-import .hint:has-text('income accounts')").count() == 1
    company = page.locator(".tile .hint").first.inner_text().split(" · ")[0]

    # Customers -> the import review loads by htmx; after the first import everything is already linked.
    page.click("nav.mainnav >> text=Customers")
    page.click(f"a:has-text('Review {journey.name}')")
    page.wait_for_selector("#review-form")
    assert page.locator("tr[data-action=unchanged]").count() >= 1
    assert page.locator("tr[data-action=create]").count() == 0
    page.shot("06b-customer-review")

    # Items -> mapping, where the provider has income accounts: every unmapped item gets one, then save.
    page.click("nav.mainnav >> text=Items")
    page.shot("07-items")
    mapping = page.locator("a:has-text('Map items to income accounts')")
    assert mapping.count() == int(hint_offers_mapping), "the first import's hint offers the mapping Items has"
    if mapping.count():
        mapping.click()
        page.locator("#bulk-account").select_option(index=1)
        page.click("button:has-text('Assign to all unmapped')")
        page.wait_for_selector("text=unmapped item")
        page.click("form[action='/items/mapping'] button[type=submit]")
        page.wait_for_selector("text=Saved")
        page.shot("08-items-mapped")
        mapped = [select.input_value() for select in page.locator("select[id^=account-]").all()]
        assert mapped and "" not in mapped

    # Time entries for an imported customer -> select -> one draft invoice.
    customer_name, _ = _record_time(journey)
    page.click("nav.mainnav >> text=Time")
    heading = page.get_by_role("heading", name=customer_name, exact=True)
    section = page.locator("form[action='/time-entries/invoice']", has=heading)
    for box in section.locator("input[name=ids]").all():
        box.check()
    page.shot("09-time-entries")
    section.get_by_role("button", name="Create invoice from selected").click()
    page.wait_for_url(f"{base}/invoices/*")
    assert page.locator("h1 .status-draft").count() == 1
    page.shot("10-invoice-draft")
    invoice_url = page.url.split("?")[0]

    # Where the integration can export drafts, export approved ones: only those can be paid.
    page.goto(f"{base}/integrations")
    page.click("text=Settings and sync")
    approved = page.locator("input[name=export_as][value=approved]")
    if approved.count():
        approved.check()
        page.click("form[action$='/settings'] button[type=submit]")
        page.wait_for_selector("text=Settings saved.")
        page.shot("10b-export-approved")
    page.goto(invoice_url)

    # Finalize, mark as sent, export and watch the export's progress.
    page.click("button:text-is('Finalize')")
    page.wait_for_selector("h1 .status-finalized")
    page.click("button:text-is('Mark as sent')")
    page.wait_for_selector("h1 .status-sent")
    page.shot("11-invoice-sent")
    page.click("button:text-is('Export')")
    page.wait_for_selector("progress")
    _wait_for_runs_to_finish(page)
    page.shot("12-export-progress")
    page.goto(invoice_url)
    assert page.locator("h1 .sync-synced").count() == 1, page.locator("main").inner_text()
    number_there = page.locator("dt:text-is('Number there') + dd").inner_text()
    total = page.locator("tfoot tr:has(th:text-is('Total')) td strong").inner_text().split()[0]
    page.shot("13-invoice-exported")

    # The accountant records the full payment on the sandbox's own page.
    page.goto(f"{journey.sandbox}/accountant/")
    page.get_by_role("link", name=company, exact=True).click()
    payment = page.locator("form[action$='/do/record_payment']")
    value = payment.locator("select[name=invoice_id] option", has_text=number_there).first.get_attribute("value")
    payment.locator("select[name=invoice_id]").select_option(value)
    payment.locator("input[name=amount]").fill(total)
    page.shot("14-accountant-payment")
    payment.locator("button[type=submit]").click()
    page.wait_for_selector(".msg:not(.err)")
    page.shot("15-accountant-paid")

    # Back here: "Sync now" for invoices brings the payment in, and the invoice says Paid.
    page.goto(f"{base}/integrations")
    page.click("text=Settings and sync")
    for box in page.locator("input[name=what]").all():
        box.set_checked(box.get_attribute("value") == "invoices")
    page.shot("16-sync-now")
    page.click("form[action$='/sync'] button[type=submit]")
    page.wait_for_url(f"{base}/sync-history/*")
    _wait_for_runs_to_finish(page)
    page.shot("17-sync-done")
    page.goto(invoice_url)
    assert page.locator("h1 .badge.paid").inner_text() == "Paid"
    assert page.locator("tfoot tr:has(th:text-is('Balance')) td").inner_text() == "0.00"
    assert page.locator("dt:text-is('Status there') + dd").inner_text().startswith("paid")
    page.shot("18-invoice-paid")
