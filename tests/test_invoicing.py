"""The invoice rules in `ledgerbridge.invoicing`: money, life cycle, numbering, sync badge."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledgerbridge import invoicing
from ledgerbridge.invoicing import (
    InvoiceIsDraft,
    InvoiceIsVoid,
    InvoiceLocked,
    InvoiceRuleError,
    LineAmounts,
    SyncBadge,
    format_money,
    invoice_number_for_provider,
    invoice_totals,
    line_amounts,
    number_after,
    retract_action,
    sync_badge,
)

D = Decimal


# --------------------------------------------------------------------------- money


def test_point_one_plus_point_two_is_exactly_point_three() -> None:
    lines = [line_amounts(D("1"), D("0.1"), None), line_amounts(D("1"), D("0.2"), None)]
    totals = invoice_totals(lines)
    assert totals.subtotal == D("0.30")
    assert str(totals.total) == "0.30"


def test_line_total_rounds_half_up_to_cents() -> None:
    # 3 x 0.335 = 1.005: banker's rounding would give 1.00
    assert line_amounts(D("3"), D("0.335"), None).line_total == D("1.01")
    assert line_amounts(D("1"), D("0.125"), None).line_total == D("0.13")
    assert line_amounts(D("-1"), D("0.125"), None).line_total == D("-0.13")


def test_tax_is_computed_and_rounded_per_line() -> None:
    # Two lines of 0.05 at 10% tax: 0.005 each, rounded half up to 0.01 each -> 0.02.
    # Taxing the summed subtotal (0.10) would give 0.01; providers tax per line.
    lines = [line_amounts(D("1"), D("0.05"), D("10")), line_amounts(D("1"), D("0.05"), D("10"))]
    assert [line.tax_amount for line in lines] == [D("0.01"), D("0.01")]
    totals = invoice_totals(lines)
    assert (totals.subtotal, totals.tax_total, totals.total) == (D("0.10"), D("0.02"), D("0.12"))


def test_fractional_tax_rate() -> None:
    amounts = line_amounts(D("2.5"), D("19.99"), D("8.875"))
    assert amounts == LineAmounts(line_total=D("49.98"), tax_amount=D("4.44"))  # 49.975 -> 49.98; 4.4357 -> 4.44


def test_totals_of_no_lines_are_zero_cents() -> None:
    totals = invoice_totals([])
    assert str(totals.total) == "0.00"


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (D("12.5"), 2, "12.50"),
        (D("12.5000"), 2, "12.50"),
        (D("0.1234"), 2, "0.1234"),
        (D("100"), 2, "100.00"),
        (D("20"), 4, "20.0000"),
        (D("-3.1"), 2, "-3.10"),
    ],
)
def test_format_money_keeps_every_significant_digit(value: Decimal, places: int, shown: str) -> None:
    assert format_money(value, places) == shown


# --------------------------------------------------------------------------- numbering


def test_number_shortening_rule_for_a_limit_of_21() -> None:
    number = "PROJECT-2026-ACME-CONSULTING-000123"
    short = invoice_number_for_provider(number, 21)
    assert short == "PROJE...ULTING-000123"
    assert len(short) == 21


def test_numbers_within_the_limit_pass_unchanged() -> None:
    assert invoice_number_for_provider("INV-0001", 21) == "INV-0001"
    exactly = "X" * 21
    assert invoice_number_for_provider(exactly, 21) == exactly
    assert invoice_number_for_provider("A" * 40, None) == "A" * 40


def test_number_shortening_generalises_to_other_limits() -> None:
    number = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    short = invoice_number_for_provider(number, 30)
    assert short == "ABCDE..." + number[-22:]
    assert len(short) == 30
    assert invoice_number_for_provider(number, 9) == "ABCDE..." + "9"


def test_number_shortening_with_a_tiny_limit_keeps_the_tail() -> None:
    assert invoice_number_for_provider("INV-2026-000123", 6) == "000123"
    with pytest.raises(ValueError):
        invoice_number_for_provider("INV-12", 0)


def test_next_number_follows_the_highest_in_the_series() -> None:
    assert number_after([]) == "INV-0001"
    assert number_after(["INV-0001", "INV-0009", "INV-0002"]) == "INV-0010"
    assert number_after(["INV-9999"]) == "INV-10000"
    # numbers outside the series are ignored
    assert number_after(["2026-17", "INV-ABC", "INV-0003"]) == "INV-0004"


async def test_next_invoice_number_reads_the_workspace(database: str) -> None:
    from ledgerbridge.tables import Customer, Invoice, Workspace, utcnow

    first = Workspace(name="A", slug="a", created_at=utcnow())
    second = Workspace(name="B", slug="b", created_at=utcnow())
    await first.save()
    await second.save()
    customer = Customer(workspace=first.id, name="C", created_at=utcnow(), updated_at=utcnow())
    await customer.save()
    for number in ("INV-0001", "INV-0007"):
        await Invoice(
            workspace=first.id,
            customer=customer.id,
            number=number,
            issue_date=utcnow().date(),
            created_at=utcnow(),
            updated_at=utcnow(),
        ).save()
    assert await invoicing.next_invoice_number(first.id) == "INV-0008"
    assert await invoicing.next_invoice_number(second.id) == "INV-0001"


# --------------------------------------------------------------------------- life cycle


def test_status_transitions() -> None:
    assert invoicing.finalize("draft", "INV-1", line_count=1) == "finalized"
    assert invoicing.send("finalized", "INV-1", line_count=1) == "sent"
    assert invoicing.send("sent", "INV-1", line_count=1) == "sent"
    assert invoicing.send("draft", "INV-1", line_count=1) == "sent"
    assert invoicing.revert_to_draft("sent", "INV-1") == "draft"
    assert invoicing.revert_to_draft("finalized", "INV-1") == "draft"
    assert invoicing.void("sent", "INV-1") == "void"
    assert invoicing.void("draft", "INV-1") == "void"


def test_refused_transitions_say_why() -> None:
    with pytest.raises(InvoiceRuleError) as empty:
        invoicing.finalize("draft", "INV-1", line_count=0)
    assert "no lines" in empty.value.message
    with pytest.raises(InvoiceRuleError):
        invoicing.finalize("sent", "INV-1", line_count=1)
    with pytest.raises(InvoiceIsVoid):
        invoicing.revert_to_draft("void", "INV-1")
    with pytest.raises(InvoiceIsVoid):
        invoicing.void("void", "INV-1")
    with pytest.raises(InvoiceIsVoid):
        invoicing.send("void", "INV-1", line_count=1)


def test_drafts_are_not_exportable_and_void_neither() -> None:
    with pytest.raises(InvoiceIsDraft) as draft:
        invoicing.check_exportable("draft", "INV-7")
    assert draft.value.code == "invoice_is_draft"
    assert "INV-7" in draft.value.message
    with pytest.raises(InvoiceIsVoid):
        invoicing.check_exportable("void", "INV-7")
    invoicing.check_exportable("finalized", "INV-7")
    invoicing.check_exportable("sent", "INV-7")


def test_only_unlocked_drafts_are_editable() -> None:
    invoicing.check_editable("draft", False, "INV-1")
    with pytest.raises(InvoiceLocked) as locked:
        invoicing.check_editable("sent", True, "INV-1")
    assert "revert to draft" in locked.value.fix
    with pytest.raises(InvoiceLocked):
        invoicing.check_editable("finalized", False, "INV-1")
    with pytest.raises(InvoiceIsVoid):
        invoicing.check_editable("void", False, "INV-1")


# --------------------------------------------------------------------------- the provider's copy


@pytest.mark.parametrize(
    ("states", "locked", "issues", "badge"),
    [
        ([], False, 0, SyncBadge.not_exported),
        ([], True, 0, SyncBadge.pending),
        (["pending"], True, 0, SyncBadge.pending),
        (["synced"], True, 0, SyncBadge.synced),
        (["synced", "needs_sync"], True, 0, SyncBadge.needs_sync),
        (["synced", "warning"], True, 0, SyncBadge.warning),
        (["deleted_remote"], True, 0, SyncBadge.warning),
        (["synced", "error"], True, 0, SyncBadge.error),
        (["uncertain"], True, 0, SyncBadge.error),
        (["synced"], True, 1, SyncBadge.error),
        ([], False, 1, SyncBadge.error),
    ],
)
def test_sync_badge(states: list[str], locked: bool, issues: int, badge: SyncBadge) -> None:
    assert sync_badge(states, locked, issues) == badge


def test_retracting_a_provider_copy_follows_its_capabilities() -> None:
    assert retract_action(True, True, "open") == "void"
    assert retract_action(True, True, "draft") == "delete"
    assert retract_action(True, False, "draft") == "void"
    assert retract_action(False, True, "paid") == "delete"
    assert retract_action(False, False, "open") is None
