"""The payments API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import Meta, Struct

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    Id,
    MoneyIn,
    Text120,
)
from ledgerbridge.domain.invoices.schemas import PaymentOut


class PaymentIn(Struct):
    invoice_id: Id
    amount: MoneyIn
    paid_on: date | None = None
    method: Annotated[str, Meta(max_length=40)] = ""
    reference: Text120 = ""


PaymentPage = Annotated[Page[PaymentOut], KwargDefinition(schema_component_key="PaymentPage")]
