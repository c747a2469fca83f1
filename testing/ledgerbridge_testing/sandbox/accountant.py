"""The "accountant's view": what a bookkeeper does inside the provider's own UI.

Integrations break when someone edits data on the provider side: an invoice amount changed, a number
retyped, a payment recorded by hand, a customer renamed. Each sandbox therefore offers a small HTML page
per company (for demos and manual testing) plus a JSON API (for tests) to perform those edits. This
module is the provider-agnostic part: page layout, forms, routing and error handling. A sandbox supplies
an :class:`AccountantView` with its companies, tables and actions; every action must call the same code
path as the provider API so that versions, timestamps, change feeds and webhooks behave identically.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from ledgerbridge_testing.sandbox import jsoncodec


class ActionFailed(Exception):
    """A bookkeeping action was refused; ``message`` is shown to the user or returned as JSON."""

    def __init__(self, message: str, status: int = 400, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail


def parse_amount(text: str, label: str) -> Decimal:
    """A bookkeeper's typed amount as an exact Decimal; anything else is refused with the field's label."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ActionFailed(f"{label} must be a number") from exc
    if not value.is_finite():
        raise ActionFailed(f"{label} must be a number")
    return value


@dataclass(frozen=True)
class ActionField:
    """One input of an action form."""

    name: str
    label: str
    kind: str = "text"  # text | number | select | date
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for selects
    required: bool = True


@dataclass(frozen=True)
class AccountantAction:
    """A named edit, e.g. "void invoice", run with string parameters from a form or JSON."""

    name: str
    label: str
    fields: tuple[ActionField, ...]
    run: Callable[[str, Mapping[str, str]], Any]
    description: str = ""


@dataclass(frozen=True)
class Table:
    """A read-only listing on the company page; ``links`` maps a row index to a URL for its first cell."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    links: Mapping[int, str] = field(default_factory=dict)


class AccountantView(Protocol):
    """What a provider sandbox supplies to get an accountant's view."""

    title: str

    def companies(self) -> list[tuple[str, str]]:
        """(company id, display name) pairs."""
        ...

    def tables(self, company: str) -> list[Table]:
        """Listings for the company page."""
        ...

    def actions(self, company: str) -> list[AccountantAction]:
        """Edits offered for the company (select options may depend on its data)."""
        ...


class BookkeeperEdits(Protocol):
    """The edits every sandbox's accountant's view offers; each takes (company id, form parameters)."""

    def edit_invoice_amount(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def edit_invoice_number(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def record_payment(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def void_invoice(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def delete_payment(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def delete_invoice(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def rename_customer(self, company: str, params: Mapping[str, str], /) -> Any: ...

    def deactivate_customer(self, company: str, params: Mapping[str, str], /) -> Any: ...


@dataclass(frozen=True)
class Wording:
    """How one provider's own UI labels the shared edits; the action and field names never change."""

    customer: str  # "Customer", "Contact", "Client"
    line_id: str  # the optional line field: what a line's id is called there
    record_payment: str
    reference: str
    void_invoice: str
    rename_customer: str
    new_name: str
    deactivate_customer: str
    void_description: str = ""


def bookkeeper_actions(
    edits: BookkeeperEdits,
    invoices: Sequence[tuple[str, str]],
    customers: Sequence[tuple[str, str]],
    wording: Wording,
    payments: Sequence[tuple[str, str]] = (),
) -> list[AccountantAction]:
    """The edits every sandbox offers, under the same names and fields.

    Tests and the end-to-end suite drive all three sandboxes through these names (``edit_invoice_amount``
    with ``invoice_id`` and ``amount``, ...), so they are built in one place; only the labels a person
    reads are the provider's. ``invoices``, ``customers`` and ``payments`` are the (id, label) options of
    the selects. ``delete_payment`` (``payment_id``) removes a payment as the provider's own UI does: it
    no longer applies to its invoice, which owes its amount again.
    """
    invoice = ActionField("invoice_id", "Invoice", "select", tuple(invoices))
    customer = ActionField("customer_id", wording.customer, "select", tuple(customers))
    return [
        AccountantAction(
            "edit_invoice_amount",
            "Change line amount",
            (
                invoice,
                ActionField("amount", "New amount", "number"),
                ActionField("line_id", wording.line_id, required=False),
            ),
            edits.edit_invoice_amount,
        ),
        AccountantAction(
            "edit_invoice_number",
            "Change invoice number",
            (invoice, ActionField("doc_number", "New number")),
            edits.edit_invoice_number,
        ),
        AccountantAction(
            "record_payment",
            wording.record_payment,
            (
                invoice,
                ActionField("amount", "Amount", "number"),
                ActionField("txn_date", "Date", "date", required=False),
                ActionField("reference", wording.reference, required=False),
            ),
            edits.record_payment,
        ),
        AccountantAction(
            "void_invoice", wording.void_invoice, (invoice,), edits.void_invoice, wording.void_description
        ),
        AccountantAction("delete_invoice", "Delete invoice", (invoice,), edits.delete_invoice),
        AccountantAction(
            "delete_payment",
            "Delete payment",
            (ActionField("payment_id", "Payment", "select", tuple(payments)),),
            edits.delete_payment,
        ),
        AccountantAction(
            "rename_customer",
            wording.rename_customer,
            (customer, ActionField("display_name", wording.new_name)),
            edits.rename_customer,
        ),
        AccountantAction("deactivate_customer", wording.deactivate_customer, (customer,), edits.deactivate_customer),
    ]


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2327;max-width:70rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccd;padding:.25rem .6rem;
text-align:left}th{background:#eef}form{display:inline-block;border:1px solid #ccd;padding:.6rem;
margin:.3rem;vertical-align:top}label{display:block;font-size:.85rem;margin:.2rem 0}
.msg{padding:.5rem;background:#efe;border:1px solid #9c9}.err{background:#fee;border-color:#c99}
"""


def render_page(title: str, body: str) -> str:
    """Wrap body HTML in a minimal standalone page (no external assets, works offline)."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def render_table(table: Table) -> str:
    """HTML for one :class:`Table`, all cell text escaped."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    rows = []
    for index, row in enumerate(table.rows):
        cells = []
        for col, cell in enumerate(row):
            text = html.escape(str(cell))
            if col == 0 and index in table.links:
                text = f"<a href='{html.escape(table.links[index])}'>{text}</a>"
            cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    body = "".join(rows) or f"<tr><td colspan='{len(table.columns)}'>(none)</td></tr>"
    return f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>"


def render_form(action: AccountantAction, post_url: str) -> str:
    """HTML form posting an action's fields to ``post_url``."""
    inputs = []
    for f in action.fields:
        label = html.escape(f.label)
        req = " required" if f.required else ""
        if f.kind == "select":
            opts = "".join(f"<option value='{html.escape(v)}'>{html.escape(lbl)}</option>" for v, lbl in f.options)
            control = f"<select name='{html.escape(f.name)}'{req}>{opts}</select>"
        else:
            kind = {"number": "text", "date": "date"}.get(f.kind, "text")
            mode = " inputmode='decimal'" if f.kind == "number" else ""
            control = f"<input type='{kind}' name='{html.escape(f.name)}'{mode}{req}>"
        inputs.append(f"<label>{label}<br>{control}</label>")
    desc = f"<div>{html.escape(action.description)}</div>" if action.description else ""
    return (
        f"<form method='post' action='{html.escape(post_url)}'><strong>{html.escape(action.label)}</strong>"
        f"{desc}{''.join(inputs)}<button type='submit'>{html.escape(action.label)}</button></form>"
    )


def build_accountant_router(view: AccountantView, path: str = "/accountant") -> Router:
    """Routes: HTML index and company pages, form posts, and the JSON API for tests."""

    def find_action(company: str, name: str) -> AccountantAction:
        if company not in dict(view.companies()):
            raise NotFoundException(f"unknown company {company}")
        for action in view.actions(company):
            if action.name == name:
                return action
        raise NotFoundException(f"unknown action {name}")

    @get("/")
    async def index() -> Response[str]:
        """List the companies with links to their pages."""
        items = "".join(
            f"<li><a href='{path}/{quote(cid)}'>{html.escape(name)}</a> ({html.escape(cid)})</li>"
            for cid, name in view.companies()
        )
        return Response(
            render_page(view.title, f"<h1>{html.escape(view.title)}</h1><ul>{items}</ul>"), media_type="text/html"
        )

    @get("/{company:str}")
    async def company_page(
        company: FromPath[str], msg: FromQuery[str | None] = None, err: FromQuery[str | None] = None
    ) -> Response[str]:
        """The bookkeeper's page: action forms and listings for one company."""
        names = dict(view.companies())
        if company not in names:
            raise NotFoundException(f"unknown company {company}")
        parts = [f"<h1>{html.escape(names[company])} <small>({html.escape(company)})</small></h1>"]
        if msg:
            parts.append(f"<p class='msg'>{html.escape(msg)}</p>")
        if err:
            parts.append(f"<p class='msg err'>{html.escape(err)}</p>")
        parts.append("<h2>Actions</h2>")
        for action in view.actions(company):
            parts.append(render_form(action, f"{path}/{quote(company)}/do/{quote(action.name)}"))
        parts.extend(render_table(t) for t in view.tables(company))
        return Response(render_page(f"{view.title}: {names[company]}", "".join(parts)), media_type="text/html")

    @post("/{company:str}/do/{action_name:str}", status_code=303)
    async def form_action(
        company: FromPath[str], action_name: FromPath[str], request: Request[Any, Any, Any]
    ) -> Redirect:
        """Run an action posted from the HTML page, then go back to it (post/redirect/get)."""
        action = find_action(company, action_name)
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        base = f"{path}/{quote(company)}"
        try:
            action.run(company, params)
        except ActionFailed as exc:
            return Redirect(f"{base}?err={quote(exc.message)}", status_code=303)
        return Redirect(f"{base}?msg={quote(action.label + ': done')}", status_code=303)

    @get("/{company:str}/api")
    async def api_state(company: FromPath[str]) -> Response[bytes]:
        """JSON listing of the page's tables and available actions."""
        if company not in dict(view.companies()):
            raise NotFoundException(f"unknown company {company}")
        payload = {
            "tables": [
                {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                for t in view.tables(company)
            ],
            "actions": [
                {"name": a.name, "label": a.label, "fields": [f.name for f in a.fields]} for a in view.actions(company)
            ],
        }
        return Response(jsoncodec.dumps(payload), media_type="application/json")

    @post("/{company:str}/api/{action_name:str}", status_code=200)
    async def api_action(
        company: FromPath[str], action_name: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        """Run an action with JSON parameters; errors come back as JSON with the provider's status."""
        action = find_action(company, action_name)
        raw = await request.body()
        try:
            data = jsoncodec.loads(raw) if raw.strip() else {}
        except jsoncodec.JSONBodyError as exc:
            return Response(
                jsoncodec.dumps({"error": f"invalid JSON: {exc}"}), status_code=400, media_type="application/json"
            )
        if not isinstance(data, dict):
            return Response(
                jsoncodec.dumps({"error": "expected a JSON object"}), status_code=400, media_type="application/json"
            )
        params = {k: ("" if v is None else str(v)) for k, v in data.items()}
        try:
            result = action.run(company, params)
        except ActionFailed as exc:
            return Response(
                jsoncodec.dumps({"error": exc.message, "detail": exc.detail}),
                status_code=exc.status,
                media_type="application/json",
            )
        return Response(jsoncodec.dumps({"ok": True, "result": result}), media_type="application/json")

    return Router(
        path=path, route_handlers=[index, company_page, form_action, api_state, api_action], include_in_schema=False
    )
