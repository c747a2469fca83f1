"""The customer and item pickers in Debian's Chromium, used as a bookkeeper would: type part of a name,
arrow down, press Enter, save; the form posts the chosen ids. Archived records are never offered,
Escape closes the list, the chosen name shows again on the edit form, and axe-core and the 390 px check
pass with the list open. The server side (queries, the option routes) is test_pickers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_tenant, open_database
from tests.web import seeding
from tests.web.conftest import serving, sign_in_browser
from tests.web.test_journey import PHONE, check_page

pytestmark = pytest.mark.browser


async def _seed(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    await open_database(url, monkeypatch)
    tenant = await make_tenant("owner@example.com", "Acme Studio")
    ws = tenant.workspace_id
    for n in range(30):  # more than the short list a form holds without JavaScript
        await seeding.customer(ws, f"Client {n:02d}", email=f"client{n}@example.com")
        await seeding.item(ws, f"Service {n:02d}", "10")
    harbour = await seeding.customer(ws, "Harbour Studio", email="accounts@harbour.example")
    old = await seeding.customer(ws, "Harbour Old Works", email="old@harbour.example", active=False)
    design = await seeding.item(ws, "Design", "120")
    retired = await seeding.item(ws, "Design retired", "80", active=False)
    return {"tenant": tenant, "harbour": harbour.id, "old": old.id, "design": design.id, "retired": retired.id}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, acme: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    with serving(tmp_path, monkeypatch, _seed) as running:
        yield running


def _options(page: Any, combobox: Any) -> list[str]:
    listbox = page.locator(f"#{combobox.get_attribute('aria-controls')}:not([aria-busy])")
    listbox.locator("li").first.wait_for()
    return [text.strip() for text in listbox.locator("li[data-value]").all_inner_texts()]


def _pick(page: Any, combobox: Any, typed: str, wanted: str) -> None:
    """Type, wait for the matches, arrow down to `wanted` and press Enter, as a person would."""
    combobox.fill(typed)
    listbox = page.locator(f"#{combobox.get_attribute('aria-controls')}")
    page.locator(f"#{combobox.get_attribute('aria-controls')}:not([aria-busy])").wait_for(state="attached")
    listbox.locator("li[data-value]", has_text=wanted).wait_for()
    page.wait_for_function("el => el.getAttribute('aria-expanded') === 'true'", arg=combobox.element_handle())
    labels = [text.split("\n")[0] for text in listbox.locator("li[data-value]").all_inner_texts()]
    position = next(n for n, label in enumerate(labels) if label.startswith(wanted))
    for _ in range(position + 1):
        combobox.press("ArrowDown")
    assert combobox.get_attribute("aria-activedescendant") == listbox.locator("li[data-value]").nth(
        position).get_attribute("id")
    combobox.press("Enter")
    assert combobox.get_attribute("aria-expanded") == "false"


def test_a_bookkeeper_picks_a_customer_and_items_by_typing(server: tuple[str, dict[str, Any]],
                                                          chromium_page: Any) -> None:
    base, seeded = server
    page = chromium_page
    sign_in_browser(page, base, seeded["tenant"].owner_email)
    page.wait_for_url(f"{base}/")

    # Time: the customer by part of its email, the item by name; the ids are what the form posts.
    page.goto(f"{base}/time-entries/new")
    customer = page.get_by_role("combobox", name="Customer")
    assert page.locator("select[name=customer_id]").count() == 0, "the drop-down became a picker"
    customer.fill("harbour")
    assert _options(page, customer) == ["Harbour Studio accounts@harbour.example"], "archived not offered"
    check_page(page, "time-form-picker-open")
    customer.press("Escape")
    assert customer.get_attribute("aria-expanded") == "false" and page.locator("#f-customer_id-options").is_hidden()
    _pick(page, customer, "accounts@harb", "Harbour Studio")
    assert customer.input_value() == "Harbour Studio"
    assert page.locator("input[type=hidden][name=customer_id]").input_value() == str(seeded["harbour"])
    _pick(page, page.get_by_role("combobox", name="Item"), "desi", "Design")
    page.fill("#f-person", "Ada")
    page.fill("#f-hours", "2")
    page.fill("#f-rate", "120")
    page.fill("#f-description", "Logo sketches")
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.click("button[type=submit].primary")
    posted = sent.value.post_data or ""
    assert f"customer_id={seeded['harbour']}" in posted and f"item_id={seeded['design']}" in posted
    assert str(seeded["retired"]) not in posted.split("item_id=")[1].split("&")[0]
    page.wait_for_url(f"{base}/time-entries")
    assert page.get_by_role("heading", name="Harbour Studio", exact=True).count() == 1

    # An invoice at phone width: the customer, then a line's item, picked with the keyboard.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/invoices/new")
    customer = page.get_by_role("combobox", name="Customer")
    _pick(page, customer, "Harbour", "Harbour Studio")
    line = page.get_by_role("combobox", name="Line 1 item")
    line.fill("desig")
    assert _options(page, line) == ["Design (120.00)"], "an archived item is not offered"
    _pick(page, line, "design", "Design")
    assert line.input_value() == "Design (120.00)"
    # A line row added by htmx gets a picker of its own, and its item is posted under its own number.
    page.get_by_role("button", name="Add a line").click()
    added = page.get_by_role("combobox", name="Line 4 item")
    added.wait_for()
    assert page.locator("input[name=line_count]").input_value() == "4"
    _pick(page, added, "service 03", "Service 03")
    page.fill("#line-3-quantity", "2")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the invoice form is {width} px wide at 390 px"
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.click("button[type=submit].primary")
    posted = sent.value.post_data or ""
    assert f"customer_id={seeded['harbour']}" in posted and f"line-0-item_id={seeded['design']}" in posted
    assert "line_count=4" in posted and "line-3-item_id=" in posted
    page.wait_for_url(f"{base}/invoices/*")
    assert page.locator(".notice.ok", has_text="created").count() == 1
    assert page.locator("text=Harbour Studio").count() >= 1 and page.locator("text=Design").count() >= 1
    assert page.locator("text=Service 03").count() >= 1, "the added row's line was saved"

    # Its edit form shows both chosen names; emptying a line's item and leaving chooses nothing.
    page.goto(page.url.split("?")[0] + "/edit")
    assert page.get_by_role("combobox", name="Customer").input_value() == "Harbour Studio"
    line = page.get_by_role("combobox", name="Line 1 item")
    assert line.input_value() == "Design (120.00)"
    line.fill("somethi")
    line.press("Tab")
    assert line.input_value() == "Design (120.00)", "text not chosen gives way to the choice"
    check_page(page, "invoice-edit-pickers")


def test_without_javascript_the_field_is_a_short_drop_down(server: tuple[str, dict[str, Any]],
                                                           chromium_page: Any) -> None:
    base, seeded = server
    context = chromium_page.context.browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_browser(page, base, seeded["tenant"].owner_email)
        page.wait_for_url(f"{base}/")
        # From the customer's page ("New invoice"): chosen, though past the first 20 by name.
        page.goto(f"{base}/invoices/new?customer_id={seeded['harbour']}")
        customer = page.locator("select#f-customer_id")
        assert customer.locator("option:checked").inner_text() == "Harbour Studio"
        assert customer.locator("option").count() <= 22
        assert page.locator("text=Without JavaScript this lists the chosen customer and the first 20").count() == 1
        page.locator("select#line-0-item_id").select_option(label="Service 00 (10.00)")
        page.click("button[type=submit].primary")
        page.wait_for_url(f"{base}/invoices/*")
        assert page.locator(".notice.ok", has_text="created").count() == 1
        assert page.locator("text=Harbour Studio").count() >= 1
    finally:
        context.close()
