"""Status polls read Xero's changes from the newest change already seen: one request when idle, and a
change made in the very instant of that watermark is still read (issue 18 item 3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledgerbridge.provider import PaymentData
from ledgerbridge_xero import plugin
from test_xero_plugin_export import a_customer, invoice_data, mapped
from xero_plugin_harness import Connected

pytest_plugins = ("xero_plugin_harness",)


async def _poll(xero: Connected, cursor: str | None) -> tuple[list[str], str, int]:
    """Every page of one poll: the numbers read, the change cursor, and the requests it took."""
    before = len(xero.requests_to("Invoices"))
    page = await plugin.poll_invoices(session=xero.session, cursor=cursor, remote_ids=None)
    numbers = [r.number for r in page.records]
    while page.next_cursor:
        page = await plugin.poll_invoices(session=xero.session, cursor=page.next_cursor, remote_ids=None)
        numbers += [r.number for r in page.records]
    assert page.cursor is not None
    return numbers, page.cursor, len(xero.requests_to("Invoices")) - before


async def test_a_change_in_the_watermarks_own_instant_is_read_and_an_idle_poll_is_one_request(xero_connect):
    xero: Connected = mapped(await xero_connect())  # the sandbox's clock stands still unless advanced
    customer = await a_customer(xero)
    await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "W-1"), link=None,
                                idempotency_key="w1")
    numbers, cursor, _ = await _poll(xero, None)
    assert "W-1" in numbers
    # Same millisecond as the newest invoice the last poll saw: the watermark's own instant.
    second = await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "W-2"), link=None,
                                         idempotency_key="w2")
    numbers, cursor, requests = await _poll(xero, cursor)
    assert (numbers, requests) == (["W-2"], 1), "only the new invoice, W-1 is not read again"
    numbers, cursor, requests = await _poll(xero, cursor)
    assert (numbers, requests) == ([], 1), "an idle poll: one request, nothing read again"
    # Still the same instant: an invoice already read in it changes again.
    await plugin.export_payment(session=xero.session, payment=PaymentData(
        local_id=1, invoice_id=second.remote_id, customer_id=customer, paid_on=date(2026, 3, 5),
        amount=Decimal("20")), link=None, idempotency_key="wp")
    numbers, cursor, requests = await _poll(xero, cursor)
    assert (numbers, requests) == (["W-2"], 1)
    xero.sandbox.advance(0.001)
    await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "W-3"), link=None,
                                idempotency_key="w3")
    numbers, cursor, requests = await _poll(xero, cursor)
    assert (numbers, requests) == (["W-3"], 1)


async def test_a_long_read_pages_from_its_newest_change_even_when_a_page_shares_one_instant(xero_connect):
    """120 invoices written in one instant: more than a page shares the watermark, so the read moves
    on by page there (an idle poll at such a watermark would take a request per 100 of them)."""
    xero: Connected = mapped(await xero_connect())
    customer = await a_customer(xero)
    batch = [(invoice_data(customer, f"M-{n:03d}", local_id=n), None, f"m{n}") for n in range(120)]
    for start in range(0, len(batch), 50):
        await plugin.export_invoices_batch(session=xero.session, invoices=batch[start:start + 50])
    numbers, cursor, requests = await _poll(xero, None)
    assert sorted(n for n in numbers if n.startswith("M-")) == [f"M-{n:03d}" for n in range(120)]
    assert len(numbers) == len(set(numbers)), "no invoice read twice"
    xero.sandbox.advance(1)
    await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "M-LAST"), link=None,
                                idempotency_key="m-last")
    numbers, cursor, _ = await _poll(xero, cursor)
    assert numbers == ["M-LAST"], "the invoices of the crowded instant are not read again"
    numbers, cursor, requests = await _poll(xero, cursor)
    assert (numbers, requests) == ([], 1)
