"""Seeded data for the UI tests and the bench: customers, items, accounts, invoices, runs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.domain.invoices.services import create_invoice
from ledgerbridge.invoicing import line_amounts
from ledgerbridge.tables import Account, Customer, Invoice, Item, utcnow


async def customer(workspace_id: int, name: str = "Globex", **values: Any) -> Customer:
    row = Customer(workspace=workspace_id, name=name, created_at=utcnow(), updated_at=utcnow(), **values)
    await row.save()
    return row


async def item(workspace_id: int, name: str = "Consulting", price: str = "100", **values: Any) -> Item:
    row = Item(workspace=workspace_id, name=name, unit_price=Decimal(price), created_at=utcnow(),
               updated_at=utcnow(), **values)
    await row.save()
    return row


async def account(workspace_id: int, connection_id: int, name: str = "Sales", code: str = "4000") -> Account:
    row = Account(workspace=workspace_id, connection=connection_id, name=name, code=code, account_type="Income",
                  updated_at=utcnow())
    await row.save()
    return row


async def invoice(workspace_id: int, customer_id: int, number: str, *, status: str = "finalized",
                  amount: str = "150.00", issued: date | None = None) -> int:
    amounts = line_amounts(Decimal("1"), Decimal(amount), None)
    line = {"position": 0, "item": None, "description": "Consulting", "quantity": Decimal("1"),
            "unit_price": Decimal(amount), "tax_rate": None, "line_total": amounts.line_total,
            "tax_amount": amounts.tax_amount}
    header = {"number": number, "customer": customer_id, "issue_date": issued or date.today() - timedelta(days=1)}
    invoice_id = await create_invoice(workspace_id, header, [line])
    if status != "draft":
        await Invoice.update({Invoice.status: status}).where(Invoice.id == invoice_id)
    return invoice_id
