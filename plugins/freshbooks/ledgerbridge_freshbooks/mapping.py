"""Pure conversions between FreshBooks JSON and LedgerBridge values (FACTS.md FreshBooks 2 and 3).

No I/O here, so every rule is testable on its own: money is `{"amount": "41.94", "code": "CAD"}` with a
string amount, accounting timestamps are zone-less US/Eastern, `vis_state` 0/1/2 is active/deleted/
archived, and an invoice's state is read from `status`, `v3_status` and `payment_status` together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from ledgerbridge.provider import (
    Address,
    CustomerData,
    InvoiceData,
    InvoiceState,
    ItemData,
    PaymentData,
    RemoteCustomer,
    RemoteInvoice,
    RemoteItem,
    RemotePayment,
    RemoteTaxRate,
)

EASTERN = ZoneInfo("America/New_York")
TIMESTAMP = "%Y-%m-%d %H:%M:%S"
VIS_ACTIVE, VIS_DELETED, VIS_ARCHIVED = 0, 1, 2
WRITTEN_OFF = "Written off."
#: FreshBooks' payment types (FACTS FreshBooks 3, FBJAVA Payment.java) and the words we accept for them.
PAYMENT_TYPES = (
    "2Checkout", "Ach", "AMEX", "Bank Transfer", "Cash", "Check", "Credit", "Credit Card", "Debit", "Diners",
    "Discover", "Eurocard", "JCB", "MasterCard", "Nova", "Other", "PayPal", "Visa",
)
METHOD_ALIASES = {
    "cash": "Cash", "check": "Check", "cheque": "Check", "card": "Credit Card", "credit_card": "Credit Card",
    "credit card": "Credit Card", "bank": "Bank Transfer", "bank_transfer": "Bank Transfer",
    "transfer": "Bank Transfer", "wire": "Bank Transfer", "ach": "Ach", "paypal": "PayPal", "debit": "Debit",
    "visa": "Visa",
    "mastercard": "MasterCard", "amex": "AMEX",
}


# --------------------------------------------------------------------------- scalars


def amount_of(value: Any) -> Decimal:
    """A Decimal from FreshBooks money (`{amount, code}`) or a bare string/number; junk reads as zero."""
    if isinstance(value, dict):
        value = value.get("amount")
    if value in (None, ""):
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("0")


def money(amount: Decimal, currency: str | None = None) -> dict[str, str]:
    """Money as FreshBooks wants it: the amount as an exact string."""
    body = {"amount": format(amount, "f")}
    if currency:
        body["code"] = currency
    return body


def eastern_moment(text: Any) -> datetime | None:
    """An accounting timestamp (`2021-04-16 10:31:58`, US/Eastern, no zone) as an aware UTC datetime."""
    if not text:
        return None
    text = str(text)
    try:
        # The usual shape, parsed by `fromisoformat` (strptime cost ~20 us a record, read once a customer).
        if len(text) == 19 and text[10] == " " and text[4] == "-":
            moment = datetime.fromisoformat(text)
        else:
            moment = datetime.strptime(text[:19], TIMESTAMP)
    except ValueError:
        try:
            moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EASTERN)
    return moment.astimezone(UTC)


def eastern_text(moment: datetime) -> str:
    return moment.astimezone(EASTERN).strftime(TIMESTAMP)


def day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _str(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- records read


def remote_customer(row: dict[str, Any]) -> RemoteCustomer:
    vis = int(row.get("vis_state") or 0)
    given, family, organization = _str(row, "fname"), _str(row, "lname"), _str(row, "organization")
    name = organization or " ".join(p for p in (given, family) if p) or _str(row, "email")
    return RemoteCustomer(
        remote_id=str(row.get("id") or row.get("userid")), version=_str(row, "updated"),
        updated_at=eastern_moment(row.get("updated")), deleted=vis == VIS_DELETED, name=name, company=organization,
        given_name=given, family_name=family, email=_str(row, "email"),
        phone=_str(row, "bus_phone") or _str(row, "mob_phone"),
        address=Address(_str(row, "p_street"), _str(row, "p_street2"), _str(row, "p_city"), _str(row, "p_province"),
                        _str(row, "p_code"), _str(row, "p_country")),
        tax_number=_str(row, "vat_number"), currency=_str(row, "currency_code"), notes=_str(row, "note"),
        active=vis == VIS_ACTIVE,
    )


def remote_item(row: dict[str, Any]) -> RemoteItem:
    vis = int(row.get("vis_state") or 0)
    tax1 = row.get("tax1") or 0
    return RemoteItem(
        remote_id=str(row.get("id") or row.get("itemid")), version=_str(row, "updated"),
        updated_at=eastern_moment(row.get("updated")), deleted=vis == VIS_DELETED, name=_str(row, "name"),
        description=_str(row, "description"), unit_price=amount_of(row.get("unit_cost")), taxable=bool(tax1),
        tax_rate_id=str(tax1) if tax1 else None, active=vis == VIS_ACTIVE,
    )


def remote_tax_rate(row: dict[str, Any]) -> RemoteTaxRate:
    return RemoteTaxRate(
        remote_id=str(row.get("id") or row.get("taxid")), version=_str(row, "updated"),
        updated_at=eastern_moment(row.get("updated")), name=_str(row, "name"), code=_str(row, "number"),
        rate=amount_of(row.get("amount")),
    )


def remote_payment(row: dict[str, Any]) -> RemotePayment:
    return RemotePayment(
        remote_id=str(row.get("id") or row.get("logid")), version=_str(row, "updated"),
        updated_at=eastern_moment(row.get("updated")), deleted=int(row.get("vis_state") or 0) == VIS_DELETED,
        paid_on=day(row.get("date")), amount=amount_of(row.get("amount")), method=_str(row, "type"),
        reference=_str(row, "note"),
    )


def invoice_state(row: dict[str, Any]) -> InvoiceState:
    """Our state from FreshBooks' status fields.

    Deleted is `vis_state` 1. FreshBooks has no void: an invoice written off to zero with nothing paid
    reads as void (the bookkeeper's write-off, and what `void_invoice` does). Paid and partial come from
    `payment_status`/`v3_status` (a partly paid invoice keeps its send-state `status`, as the SDK fixture
    shows), with the documented `status` numbers 4, 5 and 8 as a fallback.
    """
    if int(row.get("vis_state") or 0) == VIS_DELETED:
        return "deleted"
    status = int(row.get("status") or 0)
    v3 = str(row.get("v3_status") or "").lower()
    payment = str(row.get("payment_status") or "").lower()
    total, paid = amount_of(row.get("amount")), amount_of(row.get("paid"))
    if total == 0 and paid == 0 and status != 1:
        return "void"
    if payment in ("paid", "auto-paid") or v3 in ("paid", "autopaid") or status in (4, 5):
        return "paid"
    if payment == "partial" or v3 == "partial" or status == 8:
        return "partially_paid"
    if status == 1 or v3 == "draft":
        return "draft"
    return "open"


def raw_status(row: dict[str, Any]) -> str:
    """FreshBooks' own words, shown beside ours: its status label (`v3_status`, e.g. "partial"), with
    the payment state where it says more, and what our status cannot show (deleted, written off)."""
    words = [str(row.get("v3_status") or row.get("display_status") or row.get("status") or "")]
    payment = str(row.get("payment_status") or "")
    if payment and payment not in words[0]:
        words.append(payment)
    if int(row.get("vis_state") or 0) == VIS_DELETED:
        words.append("deleted")
    if amount_of(row.get("amount")) == 0 and str(row.get("notes") or "").startswith(WRITTEN_OFF):
        words.append("written off")
    return ", ".join(word for word in words if word)


def deep_link(web: str, account_id: str, invoice_id: str) -> str:
    """The staff view, `my.freshbooks.com/#/invoice/{accountid}-{invoiceid}` (FACTS FreshBooks 9)."""
    return f"{web.rstrip('/')}/#/invoice/{account_id}-{invoice_id}"


def remote_invoice(row: dict[str, Any], web: str, account_id: str,
                   payments: tuple[RemotePayment, ...] = ()) -> RemoteInvoice:
    invoice_id = str(row.get("id") or row.get("invoiceid"))
    return RemoteInvoice(
        remote_id=invoice_id, version=_str(row, "updated"), updated_at=eastern_moment(row.get("updated")),
        deleted=int(row.get("vis_state") or 0) == VIS_DELETED, number=_str(row, "invoice_number"),
        status=invoice_state(row), raw_status=raw_status(row), issue_date=day(row.get("create_date")),
        due_date=day(row.get("due_date")), currency=_str(row, "currency_code"), total=amount_of(row.get("amount")),
        balance=amount_of(row.get("outstanding")), payments=payments,
        deep_link=deep_link(web, str(row.get("accountid") or account_id), invoice_id),
    )


def gone_invoice(remote_id: str, web: str, account_id: str) -> RemoteInvoice:
    """An invoice FreshBooks answers 404 for: gone for good."""
    return RemoteInvoice(remote_id=remote_id, deleted=True, status="deleted", raw_status="not found",
                         deep_link=deep_link(web, account_id, remote_id))


# --------------------------------------------------------------------------- records sent


def client_body(customer: CustomerData) -> dict[str, Any]:
    """A FreshBooks client: `organization` is the name FreshBooks shows, so it carries ours."""
    address = customer.address
    body: dict[str, Any] = {
        "organization": customer.company or customer.name, "fname": customer.given_name,
        "lname": customer.family_name, "email": customer.email, "bus_phone": customer.phone,
        "p_street": address.line1, "p_street2": address.line2, "p_city": address.city,
        "p_province": address.region, "p_code": address.postal_code, "p_country": address.country,
        "note": customer.notes, "vat_number": customer.tax_number,
    }
    if customer.currency:
        body["currency_code"] = customer.currency
    return body


def item_body(item: ItemData) -> dict[str, Any]:
    body: dict[str, Any] = {"name": item.name, "description": item.description, "unit_cost": money(item.unit_price)}
    body["tax1"] = int(item.tax_rate_id) if item.taxable and item.tax_rate_id and item.tax_rate_id.isdigit() else 0
    return body


def invoice_body(invoice: InvoiceData, taxes: dict[str, tuple[str, Decimal]]) -> dict[str, Any]:
    """An invoice with its lines; `taxes` maps a FreshBooks tax id to its name and percentage, because
    FreshBooks lines carry the tax by name and percent, not by id."""
    lines = []
    for line in invoice.lines:
        body: dict[str, Any] = {
            "type": 0, "name": line.item_name or line.description[:100], "description": line.description,
            "qty": format(line.quantity, "f"), "unit_cost": money(line.unit_price, invoice.currency),
        }
        tax = taxes.get(line.tax_rate_id or "")
        if tax is not None:
            body["taxName1"], body["taxAmount1"] = tax[0], format(tax[1], "f")
        lines.append(body)
    body = {
        "customerid": int(invoice.customer_id) if invoice.customer_id.isdigit() else invoice.customer_id,
        "create_date": invoice.issue_date.isoformat(), "currency_code": invoice.currency, "notes": invoice.memo,
        "due_offset_days": max((invoice.due_date - invoice.issue_date).days, 0) if invoice.due_date else 0,
        "lines": lines,
    }
    if invoice.send_number:
        body["invoice_number"] = invoice.number
    return body


def payment_type(method: str) -> str:
    if method in PAYMENT_TYPES:
        return method
    return METHOD_ALIASES.get(method.strip().lower(), "Other")


def payment_body(payment: PaymentData) -> dict[str, Any]:
    return {
        "invoiceid": int(payment.invoice_id) if payment.invoice_id.isdigit() else payment.invoice_id,
        "amount": money(payment.amount, payment.currency), "date": payment.paid_on.isoformat(),
        "type": payment_type(payment.method), "note": payment.reference,
    }


def written_off_lines(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The invoice's lines at zero: FreshBooks' nearest thing to a void (FACTS FreshBooks 3)."""
    currency = _str(row, "currency_code")
    lines = []
    for line in row.get("lines") or []:
        body = {key: line.get(key) for key in ("lineid", "name", "description", "qty", "type", "taxName1",
                                                "taxAmount1", "taxName2", "taxAmount2") if line.get(key) is not None}
        body["unit_cost"] = money(Decimal("0"), currency)
        lines.append(body)
    return lines
