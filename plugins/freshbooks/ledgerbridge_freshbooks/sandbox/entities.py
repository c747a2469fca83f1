"""FreshBooks record shapes: parsing request bodies and rendering responses.

Records are stored with Decimals and datetimes; this module turns them into FreshBooks JSON (money as
``{"amount": "41.94", "code": "USD"}`` with a string amount, accounting timestamps in zone-less
US/Eastern) with the key sets of the official SDK fixtures. Invoice totals and the four status fields
are derived here from lines, payments and the send state, so they can never disagree with each other.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ledgerbridge_freshbooks.sandbox.errors import invalid, required
from ledgerbridge_freshbooks.sandbox.store import Business, Record, eastern, eastern_date

CENT = Decimal("0.01")

#: FBJAVA models/Payment.java enum.
PAYMENT_TYPES = (
    "2Checkout", "Ach", "AMEX", "Bank Transfer", "Cash", "Check", "Credit", "Credit Card", "Debit", "Diners",
    "Discover", "Eurocard", "JCB", "MasterCard", "Nova", "Other", "PayPal", "Visa",
)


def money(amount: Decimal, code: str) -> dict[str, str]:
    """FreshBooks money: a string amount with two decimals, and the currency."""
    return {"amount": str(amount.quantize(CENT, rounding=ROUND_HALF_UP)), "code": code}


def decimal_of(value: Any, obj: str, field: str) -> Decimal:
    """A Decimal from a JSON string or number; anything else is a 422 on that field."""
    if isinstance(value, bool) or value is None:
        raise invalid(obj, field, f"{field} must be a decimal number.", value)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise invalid(obj, field, f"{field} must be a decimal number.", value) from exc
    if not result.is_finite():
        raise invalid(obj, field, f"{field} must be a decimal number.", value)
    return result


def money_amount(value: Any, obj: str, field: str) -> Decimal:
    """The amount of a ``{amount, code}`` object (a bare number is refused, as FreshBooks expects objects)."""
    if not isinstance(value, dict) or "amount" not in value:
        raise invalid(obj, field, f"{field} must be an object with amount and code.", value)
    return decimal_of(value["amount"], obj, f"{field}.amount")


def date_of(value: Any, obj: str, field: str) -> date:
    """A ``YYYY-MM-DD`` date."""
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise invalid(obj, field, f"{field} must be a date in YYYY-MM-DD format.", value) from exc


def int_of(value: Any, obj: str, field: str) -> int:
    """An integer field (ids, vis_state, day counts)."""
    if isinstance(value, bool):
        raise invalid(obj, field, f"{field} must be an integer.", value)
    try:
        return int(str(value))
    except ValueError as exc:
        raise invalid(obj, field, f"{field} must be an integer.", value) from exc


def text_of(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    return "" if value is None else str(value)


# -- clients ---------------------------------------------------------------------------------------------

CLIENT_TEXT_FIELDS = ("fname", "lname", "organization", "email", "p_street", "p_street2", "p_city", "p_province",
                      "p_code", "p_country", "bus_phone", "mob_phone", "fax", "note", "currency_code", "language",
                      "vat_name", "vat_number", "s_street", "s_street2", "s_city", "s_province", "s_code",
                      "s_country")


def apply_client_fields(record: Record, data: dict[str, Any], creating: bool) -> None:
    """Copy writable client fields; a new client needs a name or an email."""
    for key in CLIENT_TEXT_FIELDS:
        if key in data:
            record[key] = text_of(data, key)
    if creating and not any(record.get(k) for k in ("organization", "fname", "lname", "email")):
        raise required("client", "organization")


def render_client(business: Business, record: Record) -> Record:
    """A client with the SDK fixture's key set."""
    return {
        "accounting_systemid": business.account_id,
        "allow_email_include_pdf": False,
        "allow_late_fees": True,
        "allow_late_notifications": True,
        "bus_phone": record.get("bus_phone", ""),
        "company_industry": None,
        "company_size": None,
        "currency_code": record.get("currency_code") or business.preset.currency_code,
        "direct_link_token": None,
        "email": record.get("email", ""),
        "fax": record.get("fax", ""),
        "fname": record.get("fname", ""),
        "has_retainer": None,
        "home_phone": None,
        "id": record["id"],
        "language": record.get("language") or "en",
        "last_activity": None,
        "last_login": None,
        "level": 0,
        "lname": record.get("lname", ""),
        "mob_phone": record.get("mob_phone", ""),
        "note": record.get("note") or None,
        "notified": False,
        "num_logins": 0,
        "organization": record.get("organization", ""),
        "p_city": record.get("p_city", ""),
        "p_code": record.get("p_code", ""),
        "p_country": record.get("p_country", ""),
        "p_province": record.get("p_province", ""),
        "p_street": record.get("p_street", ""),
        "p_street2": record.get("p_street2", ""),
        "pref_email": True,
        "pref_gmail": False,
        "retainer_id": None,
        "role": "client",
        "s_city": record.get("s_city", ""),
        "s_code": record.get("s_code", ""),
        "s_country": record.get("s_country", ""),
        "s_province": record.get("s_province", ""),
        "s_street": record.get("s_street", ""),
        "s_street2": record.get("s_street2", ""),
        "signup_date": eastern(record["created"]),
        "statement_token": None,
        "subdomain": None,
        "updated": eastern(record["updated"]),
        "userid": record["id"],
        "username": record["username"],
        "uuid": record["uuid"],
        "vat_name": record.get("vat_name") or None,
        "vat_number": record.get("vat_number") or None,
        "vis_state": record["vis_state"],
    }


# -- items and taxes -------------------------------------------------------------------------------------


def apply_item_fields(record: Record, data: dict[str, Any], creating: bool, currency: str) -> None:
    """Copy writable item fields; ``name`` is required."""
    for key in ("name", "description", "sku"):
        if key in data:
            record[key] = text_of(data, key)
    if "qty" in data:
        record["qty"] = decimal_of(data["qty"], "item", "qty")
    if "inventory" in data:
        record["inventory"] = None if data["inventory"] is None else decimal_of(data["inventory"], "item", "inventory")
    if "unit_cost" in data:
        record["unit_cost"] = money_amount(data["unit_cost"], "item", "unit_cost")
        record["currency"] = str(data["unit_cost"].get("code") or currency)
    for key in ("tax1", "tax2"):
        if key in data:
            record[key] = int_of(data[key] or 0, "item", key)
    if creating and not record.get("name"):
        raise required("item", "name")


def render_item(business: Business, record: Record) -> Record:
    return {
        "accounting_systemid": business.account_id,
        "description": record.get("description", ""),
        "id": record["id"],
        "inventory": None if record.get("inventory") is None else str(record["inventory"]),
        "itemid": record["id"],
        "name": record["name"],
        "qty": str(record.get("qty", Decimal(0))),
        "sku": record.get("sku") or None,
        "tax1": record.get("tax1", 0),
        "tax2": record.get("tax2", 0),
        "unit_cost": money(record.get("unit_cost", Decimal(0)),
                           record.get("currency") or business.preset.currency_code),
        "updated": eastern(record["updated"]),
        "vis_state": record["vis_state"],
    }


def apply_tax_fields(record: Record, data: dict[str, Any], creating: bool) -> None:
    """Copy writable tax fields; ``name`` is required, ``amount`` is a percentage."""
    if "name" in data:
        record["name"] = text_of(data, "name")
    if "number" in data:
        record["number"] = text_of(data, "number") or None
    if "amount" in data:
        record["amount"] = decimal_of(data["amount"], "tax", "amount")
    if "compound" in data:
        record["compound"] = bool(data["compound"])
    if creating and not record.get("name"):
        raise required("tax", "name")


def render_tax(business: Business, record: Record) -> Record:
    return {
        "accounting_systemid": business.account_id,
        "amount": str(record.get("amount", Decimal(0))),
        "compound": record.get("compound", False),
        "id": record["id"],
        "name": record["name"],
        "number": record.get("number"),
        "taxid": record["id"],
        "updated": eastern(record["updated"]),
    }


# -- invoices --------------------------------------------------------------------------------------------

INVOICE_TEXT_FIELDS = ("notes", "terms", "po_number", "address", "street", "street2", "city", "province", "code",
                       "country", "discount_description", "language")


def parse_lines(data: Any, next_line_id: int, currency: str) -> list[Record]:
    """Invoice lines from a request; ``qty`` defaults to 1, ``unit_cost`` to zero."""
    if not isinstance(data, list):
        raise invalid("invoice", "lines", "lines must be a list.", data)
    lines = []
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise invalid("invoice", f"lines[{index}]", "Each line must be an object.", raw)
        line_type = int_of(raw.get("type", 0) or 0, "invoice", f"lines[{index}].type")
        if line_type not in (0, 1):
            raise invalid("invoice", f"lines[{index}].type", "Line type must be 0 or 1.", line_type)
        unit = raw.get("unit_cost") or {"amount": "0", "code": currency}
        line: Record = {
            "lineid": int_of(raw["lineid"], "invoice", f"lines[{index}].lineid") if raw.get("lineid")
            else next_line_id + index,
            "name": text_of(raw, "name"),
            "description": text_of(raw, "description"),
            "qty": decimal_of(raw.get("qty", 1), "invoice", f"lines[{index}].qty"),
            "unit_cost": money_amount(unit, "invoice", f"lines[{index}].unit_cost"),
            "type": line_type,
            "expenseid": raw.get("expenseid") if line_type == 1 else None,
        }
        for n in ("1", "2"):
            name = raw.get("taxName" + n)
            line["taxName" + n] = str(name) if name else None
            amount = raw.get("taxAmount" + n)
            line["taxAmount" + n] = (
                decimal_of(amount, "invoice", f"lines[{index}].taxAmount{n}") if amount not in (None, "") else None
            )
        lines.append(line)
    return lines


def line_amount(line: Record) -> Decimal:
    return (line["qty"] * line["unit_cost"]).quantize(CENT, rounding=ROUND_HALF_UP)


def line_tax(line: Record) -> Decimal:
    total = Decimal(0)
    for n in ("1", "2"):
        percent = line.get("taxAmount" + n)
        if percent:
            total += (line_amount(line) * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return total


def invoice_totals(record: Record, paid: Decimal) -> dict[str, Decimal]:
    """Subtotal, discount, tax, total, paid and outstanding of an invoice."""
    subtotal = sum((line_amount(ln) for ln in record["lines"]), Decimal(0))
    discount = (subtotal * record.get("discount_value", Decimal(0)) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    tax = sum((line_tax(ln) for ln in record["lines"]), Decimal(0))
    total = subtotal - discount + tax
    return {"subtotal": subtotal, "discount": discount, "tax": tax, "total": total, "paid": paid,
            "outstanding": max(total - paid, Decimal(0))}


def invoice_status(send_state: str, total: Decimal, paid: Decimal, due: date, today: date) -> dict[str, Any]:
    """The four status fields, derived together so they always agree.

    ``send_state`` is ``draft``, ``sent`` or ``viewed``. A fully paid invoice is status 4 / ``paid``. A
    partly paid one keeps its send-state status number with ``v3_status`` ``partial``, as in the Java
    SDK's recorded invoice (status 2, v3 partial, payment partial, display sent). An unpaid sent or viewed
    invoice past its due date reads ``overdue`` in ``v3_status``.
    """
    send_number = {"draft": 1, "sent": 2, "viewed": 3}[send_state]
    if paid > 0 and paid >= total:
        return {"status": 4, "v3_status": "paid", "payment_status": "paid", "display_status": send_state}
    if paid > 0:
        return {"status": send_number, "v3_status": "partial", "payment_status": "partial",
                "display_status": send_state}
    v3 = send_state
    if send_state != "draft" and due < today:
        v3 = "overdue"
    return {"status": send_number, "v3_status": v3, "payment_status": "unpaid", "display_status": send_state}


def render_line(record: Record, line: Record, currency: str) -> Record:
    return {
        "amount": money(line_amount(line), currency),
        "description": line["description"],
        "expenseid": line.get("expenseid"),
        "invoiceid": record["id"],
        "lineid": line["lineid"],
        "name": line["name"],
        "qty": str(line["qty"]),
        "taxAmount1": None if line.get("taxAmount1") is None else str(line["taxAmount1"]),
        "taxAmount2": None if line.get("taxAmount2") is None else str(line["taxAmount2"]),
        "taxName1": line.get("taxName1"),
        "taxName2": line.get("taxName2"),
        "type": line["type"],
        "unit_cost": money(line["unit_cost"], currency),
        "updated": eastern(record["updated"]),
    }


def render_invoice(
    business: Business, record: Record, client: Record | None, paid: Decimal, date_paid: date | None,
    now: datetime, include_lines: bool,
) -> Record:
    """An invoice with amounts and status derived from its lines and active payments."""
    currency = record["currency_code"]
    totals = invoice_totals(record, paid)
    due = record["create_date"] + timedelta(days=record["due_offset_days"])
    status = invoice_status(record["send_state"], totals["total"], paid, due, eastern_date(now))
    client = client or {}
    body: Record = {
        "accountid": business.account_id,
        "accounting_systemid": business.account_id,
        "address": record.get("address", ""),
        "amount": money(totals["total"], currency),
        "auto_bill": False,
        "autobill_status": None,
        "city": record.get("city", ""),
        "code": record.get("code", ""),
        "country": record.get("country", ""),
        "create_date": record["create_date"].isoformat(),
        "created_at": eastern(record["created"]),
        "currency_code": currency,
        "current_organization": client.get("organization", ""),
        "customerid": record["customerid"],
        "date_paid": date_paid.isoformat() if date_paid and status["payment_status"] == "paid" else None,
        "deposit_amount": None,
        "deposit_percentage": None,
        "deposit_status": "none",
        "description": record["lines"][0]["description"] if record["lines"] else "",
        "discount_description": record.get("discount_description") or None,
        "discount_total": money(-totals["discount"], currency),
        "discount_value": str(record.get("discount_value", Decimal(0))),
        "dispute_status": None,
        "due_date": due.isoformat(),
        "due_offset_days": record["due_offset_days"],
        "estimateid": 0,
        "fname": client.get("fname", ""),
        "generation_date": None,
        "gmail": False,
        "id": record["id"],
        "invoice_number": record["invoice_number"],
        "invoiceid": record["id"],
        "language": record.get("language") or "en",
        "last_order_status": None,
        "lname": client.get("lname", ""),
        "net_paid_amount": money(totals["paid"], currency),
        "notes": record.get("notes", ""),
        "organization": client.get("organization", ""),
        "outstanding": money(totals["outstanding"], currency),
        "ownerid": 1,
        "paid": money(totals["paid"], currency),
        "parent": 0,
        "payment_details": record.get("payment_details", ""),
        "po_number": record.get("po_number") or None,
        "province": record.get("province", ""),
        "return_uri": None,
        "sentid": 1 if record["send_state"] != "draft" else 0,
        "show_attachments": True,
        "street": record.get("street", ""),
        "street2": record.get("street2", ""),
        "template": "clean-grouped",
        "terms": record.get("terms") or None,
        "updated": eastern(record["updated"]),
        "uuid": record["uuid"],
        "vat_name": client.get("vat_name") or None,
        "vat_number": client.get("vat_number") or None,
        "version": eastern(record["updated"]),
        "vis_state": record["vis_state"],
        **status,
    }
    if include_lines:
        body["lines"] = [render_line(record, ln, currency) for ln in record["lines"]]
    return body


# -- payments --------------------------------------------------------------------------------------------


def render_payment(business: Business, record: Record) -> Record:
    return {
        "accounting_systemid": business.account_id,
        "amount": money(record["amount"], record["currency"]),
        "bulk_paymentid": None,
        "clientid": record["clientid"],
        "creditid": None,
        "date": record["date"].isoformat(),
        "from_credit": False,
        "gateway": None,
        "id": record["id"],
        "invoiceid": record["invoiceid"],
        "logid": record["id"],
        "note": record.get("note", ""),
        "orderid": None,
        "overpaymentid": None,
        "send_client_notification": False,
        "transactionid": None,
        "type": record.get("type", "Other"),
        "updated": eastern(record["updated"]),
        "vis_state": record["vis_state"],
    }
