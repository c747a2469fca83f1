"""Fingerprints stored before the encoder walked dataclasses itself stay valid: an unchanged record
still reads as unchanged after an upgrade, so no import re-announces every customer."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from ledgerbridge.provider import Address, RemoteCustomer, RemoteItem, RemoteTaxRate
from ledgerbridge.sync.links import fingerprint


def plain(value: object) -> object:
    """How `fingerprint` turned a value into plain data before: dataclasses (nested too) as dicts."""
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if dataclasses.is_dataclass(value):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def the_former_fingerprint(value: object) -> str:
    return hashlib.sha256(json.dumps(plain(value), sort_keys=True, default=str).encode()).hexdigest()


def test_fingerprints_are_the_ones_stored_before():
    values = [
        RemoteCustomer(remote_id="1", version="3", updated_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
                       name="Ada Lovelace", email="ada@example.com", currency="GBP",
                       address=Address(line1="1 Main St", city="Springfield", country="US"), notes="é ✓"),
        RemoteCustomer(remote_id="2", deleted=True, active=False),
        RemoteItem(remote_id="7", name="Design", unit_price=Decimal("85.50"), income_account_id="4", taxable=True),
        RemoteTaxRate(remote_id="9", name="Standard", rate=Decimal("8.25")),
        {"lines": [RemoteItem(remote_id="8"), (1, 2.5, None)], "day": date(2026, 12, 5), "total": Decimal("1.10")},
    ]
    for value in values:
        assert fingerprint(value) == the_former_fingerprint(value)
    assert fingerprint(values[0]) != fingerprint(dataclasses.replace(values[0], phone="555"))


def test_a_field_added_later_leaves_the_fingerprints_of_records_sent_before_it_alone():
    """`PaymentData.applied_amount` came after payments were exported: a payment it does not concern
    still has the fingerprint stored when it was sent, so re-exporting it sends nothing."""
    from ledgerbridge.provider import PaymentData

    payment = PaymentData(local_id=4, invoice_id="130", customer_id="58", paid_on=date(2026, 11, 20),
                          amount=Decimal("40.00"), currency="USD", method="check", reference="CHK-200")
    before_the_field = {name: value for name, value in plain(payment).items() if name != "applied_amount"}
    assert fingerprint(payment) == the_former_fingerprint(before_the_field)
    overpaid = dataclasses.replace(payment, applied_amount=Decimal("25.00"))
    assert fingerprint(overpaid) == the_former_fingerprint(overpaid)  # set, it counts like any field
    assert fingerprint(overpaid) != fingerprint(payment)
