"""Status polls read FreshBooks' changes from the newest `updated` already seen, deletions included, in
one request when nothing changed; a change in that same second is still read (issue 18 item 3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fb_plugin_harness import Connected
from ledgerbridge.provider import LinkRef, PaymentData
from ledgerbridge_freshbooks import plugin
from test_fb_plugin_export import a_customer, invoice_data

pytest_plugins = ("fb_plugin_harness",)


async def _poll(fb: Connected, cursor: str | None) -> tuple[list[tuple[str, str]], str, list[str]]:
    """Every page of one poll: (number, status) read, the change cursor, and the lists it asked for."""
    before = len(fb.sent)
    page = await plugin.poll_invoices(session=fb.session, cursor=cursor, remote_ids=None)
    records = list(page.records)
    while page.next_cursor:
        page = await plugin.poll_invoices(session=fb.session, cursor=page.next_cursor, remote_ids=None)
        records += page.records
    assert page.cursor is not None
    return [(r.number, r.status) for r in records], page.cursor, [r.url.path.rsplit("/", 1)[-1]
                                                                  for r in fb.sent[before:]]


async def test_a_change_in_the_watermarks_own_second_is_read_and_an_idle_poll_is_one_request(fb_connect):
    fb: Connected = await fb_connect()  # the sandbox's clock stands still unless advanced
    customer = await a_customer(fb)
    first = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, "W-1"), link=None,
                                        idempotency_key="w1")
    read, cursor, _ = await _poll(fb, None)
    assert ("W-1", "open") in read
    # The same second as the newest invoice the last poll saw.
    second = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, "W-2"), link=None,
                                         idempotency_key="w2")
    read, cursor, asked = await _poll(fb, cursor)
    assert (read, asked) == ([("W-2", "open")], ["invoices"]), "only the new invoice, W-1 is not read again"
    read, cursor, asked = await _poll(fb, cursor)
    assert (read, asked) == ([], ["invoices"]), "an idle poll: one request, nothing read again"
    # Still the same second: an invoice already read in it changes again.
    await plugin.export_payment(session=fb.session, payment=PaymentData(
        local_id=1, invoice_id=first.remote_id, customer_id=customer, paid_on=date(2026, 3, 3),
        amount=Decimal("20.00")), link=None, idempotency_key="p1")
    read, cursor, asked = await _poll(fb, cursor)
    assert (read, asked) == ([("W-1", "partially_paid")], ["invoices", "payments"])

    await fb.advance(1)
    await plugin.export_payment(session=fb.session, payment=PaymentData(
        local_id=2, invoice_id=first.remote_id, customer_id=customer, paid_on=date(2026, 3, 3),
        amount=Decimal("100.00")), link=None, idempotency_key="p2")
    await plugin.delete_invoice(session=fb.session, link=LinkRef(second.remote_id), idempotency_key="d2")
    read, cursor, asked = await _poll(fb, cursor)
    assert sorted(read) == [("W-1", "paid"), ("W-2", "deleted")]
    assert asked == ["invoices", "payments"], "payments are read only for changed invoices that have some"
    read, cursor, asked = await _poll(fb, cursor)
    assert (read, asked) == ([], ["invoices"])
