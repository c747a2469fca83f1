"""Mapping rules of Acme Books's JSON, checked on plain dicts (no server, no database)."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.provider import Address, CustomerData, ItemData

from ledgerbridge_acme import client, mapping


def test_a_customer_sent_comes_back_the_same_through_the_wire_format():
    sent = CustomerData(local_id=7, name="Acme Outfitters", company="Acme Outfitters Inc", given_name="Ada",
                        family_name="Mills", email="ada@acme.example", phone="+1 555 0100",
                        address=Address(line1="1 Main Street", city="Springfield", country="US"), currency="USD")
    wire = client.loads(client.dumps({**mapping.customer_body(sent), "id": "cus-1", "version": 3,
                                      "updated_at": "2026-11-02T10:00:00Z"}))
    back = mapping.remote_customer(wire)
    assert (back.remote_id, back.version, back.name, back.company, back.email) == (
        "cus-1", "3", "Acme Outfitters", "Acme Outfitters Inc", "ada@acme.example")
    assert back.address == sent.address and back.active
    assert back.updated_at is not None and back.updated_at.tzinfo is not None


def test_money_stays_decimal_from_the_wire_to_the_item():
    sent = ItemData(local_id=1, name="Design work", unit_price=Decimal("85.10"), income_account_id="acc-1",
                    taxable=True, tax_rate_id="tax-2")
    back = mapping.remote_item(client.loads(client.dumps({**mapping.item_body(sent), "id": "itm-1"})))
    assert back.unit_price == Decimal("85.10") and isinstance(back.unit_price, Decimal)
    assert (back.income_account_id, back.tax_rate_id, back.taxable) == ("acc-1", "tax-2", True)


def test_an_inactive_customer_comes_back_inactive_so_the_core_archives_it():
    assert not mapping.remote_customer({"id": "cus-1", "display_name": "Gone", "active": False}).active


def test_tax_rates_and_accounts_keep_their_codes():
    rate = mapping.remote_tax_rate(client.loads(b'{"id": "tax-1", "name": "Sales tax", "code": "STD", "rate": 8.25}'))
    assert rate.rate == Decimal("8.25") and rate.code == "STD"
    account = mapping.remote_account({"id": "acc-1", "name": "Sales", "code": "4000", "type": "income"})
    assert (account.code, account.account_type) == ("4000", "income")
