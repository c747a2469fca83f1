"""Writing an invoice in the browser: from scratch or corrected line by line, then voided; its payments.

Every save goes through the invoices and payments services the REST API uses (`create`, `update`,
`void`, `create_payment`, `delete_payment`), so a draft-only edit, a payment above the balance or a
provider's payment are refused here exactly as there. Lines are plain form rows (no JavaScript needed):
a few empty rows add lines, "remove" drops one, and a row left empty is ignored.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.api.errors import Invalid
from ledgerbridge.domain.invoices import services as invoices_services
from ledgerbridge.domain.invoices.schemas import InvoiceIn, InvoicePatch
from ledgerbridge.domain.payments import services as payments_services
from ledgerbridge.domain.payments.schemas import PaymentIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import Invoice, InvoiceLine, Payment, TaxRate
from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Template

from ledgerbridge_web.common import AnyRequest, checked, failed, fragment, page, person, see_other, workspace_of
from ledgerbridge_web.forms import FormState, decode, typed
from ledgerbridge_web.pickers import customer_picker, item_picker

HEADER = ["customer_id", "number", "issue_date", "due_date", "memo"]
LINE = ["item_id", "description", "quantity", "unit_price", "tax_rate_id"]
BLANK_ROWS = 3
MAX_ROWS = 500  # rows read from a posted form
_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


async def _rates(me: Caller) -> list[tuple[str, str]]:
    rates = await TaxRate.select(TaxRate.id, TaxRate.name, TaxRate.rate).where(
        (TaxRate.workspace == workspace_of(me)) & TaxRate.active.eq(True)
    ).order_by(TaxRate.name)
    return [(str(row["id"]), f"{row['name']} ({row['rate']:g}%)") for row in rates]


async def _choices(me: Caller, customer_id: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    """The pickers and the tax rates: a fixed number of queries, whatever the number of customers and items."""
    return {
        "customers": await customer_picker(me, [customer_id]),
        "items": await item_picker(me, [row["item_id"] for row in rows]),
        "rates": await _rates(me),
    }


def _blank_row() -> dict[str, str]:
    return {name: "" for name in [*LINE, "remove"]} | {"quantity": "1"}


def _amount(value: Decimal) -> str:
    """A stored amount as a person would type it: at least two places, no trailing zeros past them."""
    text = f"{value.normalize():f}"
    return text if "." in text and len(text.split(".")[1]) >= 2 else f"{value:.2f}"


def _rows(form: FormMultiDict) -> list[dict[str, str]]:
    """The posted line rows in order, each as typed; `remove` ticked drops the row."""
    rows = []
    count = int(str(form.get("line_count") or "0")) if str(form.get("line_count") or "0").isdigit() else 0
    for index in range(min(count, MAX_ROWS)):
        row = {name: str(form.get(f"line-{index}-{name}") or "").strip() for name in LINE}
        row["remove"] = "on" if checked(form, f"line-{index}-remove") else ""
        rows.append(row)
    return rows


def _lines(state: FormState, rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows with anything typed, as the API's line objects, and which form row each came from."""
    lines, origin = [], []
    for index, row in enumerate(rows):
        if row["remove"] or not any(row[name] for name in ("item_id", "description", "unit_price")):
            continue
        line: dict[str, Any] = {"quantity": row["quantity"] or "1"}
        if row["item_id"]:
            line["item_id"] = row["item_id"]
        for name in ("description", "unit_price"):
            if row[name] or not row["item_id"]:
                line[name] = row[name]
        if row["tax_rate_id"] == "none":
            line["tax_rate_id"] = None
        elif row["tax_rate_id"]:
            line["tax_rate_id"] = row["tax_rate_id"]
        lines.append(line)
        origin.append(index)
    return lines, origin


def _renumber(state: FormState, origin: list[int]) -> None:
    """Errors name lines by their place among the lines sent; the page names the form row the person sees."""
    for name in list(state.errors):
        match = _LINE_FIELD.match(name)
        if match and int(match.group(1)) < len(origin):
            message = state.errors.pop(name)
            state.errors[f"line-{origin[int(match.group(1))]}-{match.group(2)}"] = message


def _header(state: FormState) -> dict[str, Any]:
    values = state.values
    data: dict[str, Any] = {"customer_id": values["customer_id"] or "0", "memo": values["memo"]}
    for name in ("number", "issue_date"):
        if values[name]:
            data[name] = values[name]
    data["due_date"] = values["due_date"] or None
    return data


def _form(request: AnyRequest, *, title: str, action: str, state: FormState, rows: list[dict[str, str]],
          choices: dict[str, Any], back: str, submit: str) -> Response[Any]:
    rows = rows + [_blank_row() for _ in range(BLANK_ROWS)]
    return page(request, "invoice_form.html", status=200 if state.ok else 400, title=title, action=action,
                state=state, rows=rows, back=back, submit=submit, **choices)


@get("/invoices/new", opt=needs(Permission.records_write))
async def new_invoice(request: AnyRequest) -> Response[Any]:
    me = person(request)
    chosen = str(request.query_params.get("customer_id") or "")
    state = FormState(values={"customer_id": chosen if chosen.isdigit() else "", "number": "",
                              "issue_date": date.today().isoformat(), "due_date": "", "memo": ""})
    return _form(request, title="New invoice", action="/invoices/new", state=state, rows=[],
                 choices=await _choices(me, state.values["customer_id"], []),
                 back="/invoices", submit="Create draft")


@post("/invoices/new", opt=needs(Permission.records_write))
async def create_invoice(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    state = FormState(values=typed(form, HEADER))
    rows = _rows(form)
    lines, origin = _lines(state, rows)
    data = decode(state, {**_header(state), "lines": lines}, InvoiceIn)
    if data is not None:
        try:
            created = await invoices_services.create(me, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other(f"/invoices/{created.id}", notice=f"Draft invoice {created.number} created.")
    _renumber(state, origin)
    return _form(request, title="New invoice", action="/invoices/new", state=state, rows=rows,
                 choices=await _choices(me, state.values["customer_id"], rows), back="/invoices",
                 submit="Create draft")


@get("/invoices/lines/new", opt=needs(Permission.records_write))
async def add_line(request: AnyRequest) -> Template:
    """"Add a line" on the invoice form: the next empty row (its item picker and tax rates), swapped in by htmx.

    `line_count` is the form's own row count, so the new row's fields are numbered as `_rows` reads them.
    """
    me = person(request)
    raw = str(request.query_params.get("line_count") or "0")
    index = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    if index >= MAX_ROWS:
        raise Invalid("line_count", f"is at its limit: an invoice form holds at most {MAX_ROWS} rows",
                      fix="Save this invoice, then add the remaining lines to another.")
    return fragment("_invoice_line_added.html", state=FormState(), row=_blank_row(), index=index,
                    items=await item_picker(me, []), rates=await _rates(me))


async def _invoice(workspace_id: int, invoice_id: int) -> Invoice:
    row = await Invoice.objects().where((Invoice.id == invoice_id) & (Invoice.workspace == workspace_id)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no invoice {invoice_id} in this workspace.", code="not_found",
                                fix="Open Invoices and pick one from the list.")
    return row


@get("/invoices/{invoice_id:int}/edit", opt=needs(Permission.records_write))
async def edit_invoice(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await _invoice(ws, invoice_id)
    state = FormState(values={"customer_id": str(row.customer), "number": row.number,
                              "issue_date": row.issue_date.isoformat(),
                              "due_date": row.due_date.isoformat() if row.due_date else "", "memo": row.memo})
    stored = await InvoiceLine.select().where(InvoiceLine.invoice == invoice_id).order_by(InvoiceLine.position)
    rows = [{"item_id": str(line["item"] or ""), "description": line["description"],
             "quantity": f"{line['quantity'].normalize():f}",
             "unit_price": _amount(line["unit_price"]), "tax_rate_id": str(line["tax_rate"] or "none"), "remove": ""}
            for line in stored]
    return _form(request, title=f"Edit invoice {row.number}", action=f"/invoices/{invoice_id}/edit", state=state,
                 rows=rows, choices=await _choices(me, state.values["customer_id"], rows),
                 back=f"/invoices/{invoice_id}", submit="Save draft")


@post("/invoices/{invoice_id:int}/edit", opt=needs(Permission.records_write))
async def save_invoice(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await _invoice(ws, invoice_id)
    form = await request.form()
    state = FormState(values=typed(form, HEADER))
    rows = _rows(form)
    lines, origin = _lines(state, rows)
    data = decode(state, {**_header(state), "lines": lines}, InvoicePatch)
    if data is not None:
        try:
            saved = await invoices_services.update(me, invoice_id=invoice_id, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other(f"/invoices/{invoice_id}", notice=f"Invoice {saved.number} saved.")
    _renumber(state, origin)
    return _form(request, title=f"Edit invoice {row.number}", action=f"/invoices/{invoice_id}/edit", state=state,
                 rows=rows, choices=await _choices(me, state.values["customer_id"], rows),
                 back=f"/invoices/{invoice_id}", submit="Save draft")


@get("/invoices/{invoice_id:int}/void", opt=needs(Permission.books_write))
async def confirm_void(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    row = await _invoice(workspace_of(person(request)), invoice_id)
    return page(request, "confirm.html", question=f"Void invoice {row.number}?",
                explanation="A void invoice stays on record with nothing to pay; copies in your accounting software "
                            "are voided too. This cannot be undone.",
                action=f"/invoices/{invoice_id}/void", verb="Void invoice", cancel=f"/invoices/{invoice_id}", hidden=[])


@post("/invoices/{invoice_id:int}/void", opt=needs(Permission.books_write))
async def void_invoice(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    back = f"/invoices/{invoice_id}"
    try:
        result = await invoices_services.void(me, invoice_id=invoice_id)
    except LedgerBridgeError as exc:
        return failed(back, exc)
    runs = ",".join(str(run.id) for run in result.runs)
    return see_other(back, notice=f"Invoice {result.invoice.number} voided.", runs=runs)


@post("/invoices/{invoice_id:int}/payments", opt=needs(Permission.books_write))
async def record_payment(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    """A payment received outside any provider; the connections that sync payments get it by themselves."""
    me = person(request)
    back = f"/invoices/{invoice_id}"
    form = await request.form()
    state = FormState(values=typed(form, ["amount", "paid_on", "method", "reference"]))
    values = {"invoice_id": invoice_id, "amount": state.values["amount"] or "",
              "method": state.values["method"], "reference": state.values["reference"]}
    if state.values["paid_on"]:
        values["paid_on"] = state.values["paid_on"]
    data = decode(state, values, PaymentIn)
    if data is not None:
        try:
            payment = await payments_services.create_payment(me, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other(back, notice=f"Payment of {payment.amount} recorded.")
    name, message = next(iter(state.errors.items()))
    return see_other(back, error=f"The payment was not recorded: {name + ' ' if name else ''}{message}",
                     fix=state.fix or "Correct it and record the payment again.")


@get("/payments/{payment_id:int}/void", opt=needs(Permission.books_write))
async def confirm_void_payment(request: AnyRequest, payment_id: FromPath[int]) -> Response[Any]:
    ws = workspace_of(person(request))
    row = await Payment.select(Payment.id, Payment.amount, Payment.paid_on, Payment.invoice,
                               Payment.invoice.number.as_alias("number")).where(
        (Payment.id == payment_id) & (Payment.workspace == ws)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no payment {payment_id} in this workspace.", code="not_found",
                                fix="Open the invoice and pick the payment from its list.")
    question = f"Void the payment of {row['amount']:.2f} on invoice {row['number']}?"
    return page(request, "confirm.html", question=question,
                explanation=f"The payment received on {row['paid_on'].isoformat()} stays on record as voided, the "
                            "invoice's balance goes up again, and its copy in your books is voided too where the "
                            "accounting software allows it (otherwise an issue says what to do there).",
                action=f"/payments/{payment_id}/void", verb="Void payment", cancel=f"/invoices/{row['invoice']}",
                hidden=[])


@post("/payments/{payment_id:int}/void", opt=needs(Permission.books_write))
async def void_payment(request: AnyRequest, payment_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await Payment.select(Payment.invoice).where((Payment.id == payment_id) & (Payment.workspace == ws)).first()
    back = f"/invoices/{row['invoice']}" if row else "/invoices"
    try:
        await payments_services.void_payment(me, payment_id=payment_id)
    except LedgerBridgeError as exc:
        return failed(back, exc)
    return see_other(back, notice="Payment voided.")


HANDLERS = [new_invoice, add_line, create_invoice, edit_invoice, save_invoice, confirm_void, void_invoice,
            record_payment, confirm_void_payment, void_payment]
