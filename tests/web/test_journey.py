"""A newcomer's first hour with each provider that offers a sandbox, clicked through in Debian's Chromium.

Nothing is seeded but the person's account, and everything happens in the browser: the connection
is made on the provider sandbox's own consent page, items (and accounts, where the provider has
them) come from its first import, a new customer and its time are entered in our forms, the invoice
is billed from that time, exported, paid by the "accountant" on the sandbox's own page (in a second
tab), and "Check for payments" on the invoice, still open, turns it Paid without a reload. The app
is a real server whose jobs run in-process; the sandbox is the one `ledgerbridge serve` starts.

On every one of our pages the journey passes, axe-core (shipped by axe-playwright-python, no CDN)
finds no critical or serious violation, and at a 390 px wide viewport the page does not scroll
sideways (`scrollWidth <= 390`); each is saved as a screenshot at both widths.

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

import pytest

from tests.conftest import OWNER_PASSWORD, Tenant, make_tenant, open_database

pytestmark = pytest.mark.browser
RUN_TIMEOUT = 30_000  # ms a sync run may take before the test gives up on it
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SEVERE = ("critical", "serious")


def check_page(page: Any, name: str) -> None:
    """Accessible (axe-core: no critical or serious violation) and no sideways scroll at 390 px; shots of both."""
    from axe_playwright_python.sync_playwright import Axe

    page.shot(name)
    results = Axe().run(page)
    severe = [(v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
              for v in results.response["violations"] if v["impact"] in SEVERE]
    assert not severe, f"{name}: {severe}"
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        page.shot(f"{name}-390")
        assert width <= PHONE["width"], f"{name} is {width} px wide at 390 px"
    finally:
        page.set_viewport_size(DESKTOP)


def pick(page: Any, name: str, typed: str, wanted: str) -> None:
    """Choose in a picker as a person would: type (or just arrow down to open the list), arrow to the
    first option holding `wanted`, press Enter."""
    combobox = page.get_by_role("combobox", name=name, exact=True)
    listbox = page.locator(f"#{combobox.get_attribute('aria-controls')}")
    if typed:
        combobox.fill(typed)
    else:
        combobox.focus()
        combobox.press("ArrowDown")
    page.locator(f"#{combobox.get_attribute('aria-controls')}:not([aria-busy])").wait_for(state="attached")
    listbox.locator("li[data-value]", has_text=wanted).first.wait_for()
    page.wait_for_function("el => el.getAttribute('aria-expanded') === 'true'", arg=combobox.element_handle())
    labels = listbox.locator("li[data-value]").all_inner_texts()
    for _ in range(next(n for n, label in enumerate(labels) if wanted in label) + 1):
        combobox.press("ArrowDown")
    combobox.press("Enter")
    assert combobox.get_attribute("aria-expanded") == "false"


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
    check_page(page, "01-sign-in")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")
    check_page(page, "02-dashboard")

    # Integrations -> add the provider -> the sandbox's consent page -> first company -> approve.
    page.click("nav.mainnav >> text=Integrations")
    card = page.locator(f"[data-provider={journey.provider}]")
    environment = card.locator("select[name=environment]")
    if environment.count() and environment.locator("option[value=sandbox]").count():
        environment.select_option("sandbox")
    check_page(page, "03-integrations")
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
    check_page(page, "06-first-import-done")
    hint_offers_mapping = page.locator("#first-import .hint:has-text('income accounts')").count() == 1
    company = page.locator(".tile .hint").first.inner_text().split(" · ")[0]

    # Customers -> the import review loads by htmx; after the first import everything is already linked.
    page.click("nav.mainnav >> text=Customers")
    page.click(f"a:has-text('Review {journey.name}')")
    page.wait_for_selector("#review-form")
    assert page.locator("tr[data-action=unchanged]").count() >= 1
    assert page.locator("tr[data-action=create]").count() == 0
    check_page(page, "06b-customer-review")

    # Items -> mapping, where the provider has income accounts: every unmapped item gets one, then save.
    page.click("nav.mainnav >> text=Items")
    check_page(page, "07-items")
    mapping = page.locator("a:has-text('Map items to income accounts')")
    assert mapping.count() == int(hint_offers_mapping), "the first import's hint offers the mapping Items has"
    if mapping.count():
        mapping.click()
        page.locator("#bulk-account").select_option(index=1)
        page.click("button:has-text('Assign to all unmapped')")
        page.wait_for_selector("text=unmapped item")
        page.click("form[action='/items/mapping'] button[type=submit]")
        page.wait_for_selector("text=Saved")
        check_page(page, "08-items-mapped")
        mapped = [select.input_value() for select in page.locator("select[id^=account-]").all()]
        assert mapped and "" not in mapped

    # A new customer, in our form (the export creates it in the provider).
    customer_name = f"Harbour Studio {journey.provider}"
    page.click("nav.mainnav >> text=Customers")
    page.click("a:text-is('New customer')")
    page.click("button[type=submit].primary")  # empty: refused, naming the field
    assert page.locator("#e-name").inner_text() == "Name is required"
    check_page(page, "09a-customer-refused")
    page.fill("#f-name", customer_name)
    page.fill("#f-email", "accounts@harbour.example")
    page.click("button[type=submit].primary")
    page.wait_for_selector(f"h1:has-text('{customer_name}')")
    assert page.locator(".notice.ok", has_text=f"Customer {customer_name} created.").count() == 1
    check_page(page, "09b-customer-created")

    # Its time, entered in the time form, billed into one draft invoice.
    for days, hours, what in ((3, "2.5", "Logo sketches"), (2, "4", "Brand guide"), (1, "1.5", "Review call")):
        page.goto(f"{base}/time-entries/new")
        pick(page, "Customer", customer_name, customer_name)
        page.fill("#f-person", "Ada")
        page.fill("#f-worked_on", str(date.today() - timedelta(days=days)))
        page.fill("#f-hours", hours)
        page.fill("#f-rate", "120")
        pick(page, "Item", "", "")  # the first item by name, as the drop-down's first choice was
        page.fill("#f-description", what)
        if days == 3:
            check_page(page, "09c-time-form")
        page.click("button[type=submit].primary")
        page.wait_for_url(f"{base}/time-entries")
    heading = page.get_by_role("heading", name=customer_name, exact=True)
    section = page.locator("form[action='/time-entries/invoice']", has=heading)
    for box in section.locator("input[name=ids]").all():
        box.check()
    check_page(page, "09-time-entries")
    section.get_by_role("button", name="Create invoice from selected").click()
    page.wait_for_url(f"{base}/invoices/*")
    assert page.locator("h1 .status-draft").count() == 1
    check_page(page, "10-invoice-draft")
    page.reload()  # reloading the result page shows it again and creates nothing
    assert page.locator(".notice.ok").count() == 0
    invoice_url = page.url.split("?")[0]

    # Where the integration can export drafts, export approved ones: only those can be paid.
    page.goto(f"{base}/integrations")
    page.click("text=Settings and sync")
    approved = page.locator("input[name=export_as][value=approved]")
    if approved.count():
        approved.check()
        page.click("form[action$='/settings'] button[type=submit]")
        page.wait_for_selector("text=Settings saved.")
        check_page(page, "10b-export-approved")
    page.goto(invoice_url)

    # Finalize, mark as sent, export and watch the export's progress.
    page.click("button:text-is('Finalize')")
    page.wait_for_selector("h1 .status-finalized")
    page.click("button:text-is('Mark as sent')")
    page.wait_for_selector("h1 .status-sent")
    check_page(page, "11-invoice-sent")
    page.click("button:text-is('Export')")
    page.wait_for_url(f"{invoice_url}*")
    page.shot("12-export-progress")  # its progress, while it runs (a quick export may be done already)
    # The invoice page follows the export by itself: it stops polling once nothing runs, showing the result.
    page.wait_for_selector("#invoice-live[data-live=off] h1 .sync-synced", timeout=RUN_TIMEOUT)
    number_there = page.locator("dt:text-is('Number there') + dd").inner_text()
    total = page.locator("tfoot tr:has(th:text-is('Total')) td strong").inner_text().split()[0]
    check_page(page, "13-invoice-exported")

    # The accountant records the full payment on the sandbox's own page, in another tab: ours stays open.
    page.evaluate("window.journeyMarker = 'not reloaded'")
    accountant = page.context.new_page()
    accountant.goto(f"{journey.sandbox}/accountant/")
    accountant.get_by_role("link", name=company, exact=True).click()
    payment = accountant.locator("form[action$='/do/record_payment']")
    value = payment.locator("select[name=invoice_id] option", has_text=number_there).first.get_attribute("value")
    payment.locator("select[name=invoice_id]").select_option(value)
    payment.locator("input[name=amount]").fill(total)
    accountant.screenshot(path=str(page.shots_folder / "14-accountant-payment.png"), full_page=True)
    payment.locator("button[type=submit]").click()
    accountant.wait_for_selector(".msg:not(.err)")
    accountant.close()

    # Back on the invoice, never reloaded: "Check for payments" reads it back and Paid appears by itself.
    page.bring_to_front()
    page.click("button:text-is('Check for payments')")
    page.wait_for_selector("#invoice-live[data-live=off] h1 .badge.paid", timeout=RUN_TIMEOUT)
    assert page.evaluate("window.journeyMarker") == "not reloaded"
    assert page.locator("h1 .badge.paid").inner_text() == "Paid"
    assert page.locator("tfoot tr:has(th:text-is('Balance')) td").inner_text() == "0.00"
    assert page.locator("dt:text-is('Status there') + dd").inner_text().startswith("paid")
    check_page(page, "18-invoice-paid")

    # The audit page shows who did what on the way: the export, the send and the sync now.
    page.click("nav.mainnav >> text=Audit")
    trail = page.locator("#audit-entries")
    for action in ("invoice.export", "invoice.send", "connection.sync"):
        assert trail.locator(f"code:text-is('{action}')").count() >= 1, action
    assert journey.tenant.owner_email in trail.inner_text()
    check_page(page, "19-audit")

    # The rest of the journey's pages and the settings pages pass the same checks.
    others = (("/sync-history", "20-sync-history"), ("/invoices", "21-invoices"), ("/customers", "22-customers"),
              ("/issues", "23-issues"), ("/workspace/settings", "24-members"), ("/webhooks", "25-webhooks"))
    for path, name in others:
        page.goto(f"{base}{path}")
        check_page(page, name)
    page.goto(f"{base}/sync-history?error=Your+account+is+locked")  # a crafted link shows nothing
    assert page.locator(".notice.error").count() == 0 and "locked" not in page.locator("main").inner_text()
