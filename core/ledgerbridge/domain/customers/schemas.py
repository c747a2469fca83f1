"""The customers API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    Currency,
    ExternalRef,
    LinkOut,
    Name,
    Text120,
    Text254,
    Text255,
)
from ledgerbridge.tables import CustomerKind


class CustomerIn(Struct):
    name: Name
    company: Text255 = ""
    given_name: Annotated[str, Meta(max_length=100)] = ""
    family_name: Annotated[str, Meta(max_length=100)] = ""
    email: Text254 = ""
    phone: Annotated[str, Meta(max_length=60)] = ""
    address_line1: Text255 = ""
    address_line2: Text255 = ""
    city: Text120 = ""
    region: Text120 = ""
    postal_code: Annotated[str, Meta(max_length=30)] = ""
    country: Annotated[str, Meta(max_length=60)] = ""
    tax_number: Annotated[str, Meta(max_length=60)] = ""
    currency: Currency = "USD"
    notes: Annotated[str, Meta(max_length=10000)] = ""
    kind: CustomerKind = CustomerKind.business
    active: bool = True
    external_ref: ExternalRef | None = None


class CustomerPatch(Struct):
    name: Name | UnsetType = UNSET
    company: Text255 | UnsetType = UNSET
    given_name: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    family_name: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    email: Text254 | UnsetType = UNSET
    phone: Annotated[str, Meta(max_length=60)] | UnsetType = UNSET
    address_line1: Text255 | UnsetType = UNSET
    address_line2: Text255 | UnsetType = UNSET
    city: Text120 | UnsetType = UNSET
    region: Text120 | UnsetType = UNSET
    postal_code: Annotated[str, Meta(max_length=30)] | UnsetType = UNSET
    country: Annotated[str, Meta(max_length=60)] | UnsetType = UNSET
    tax_number: Annotated[str, Meta(max_length=60)] | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    notes: Annotated[str, Meta(max_length=10000)] | UnsetType = UNSET
    kind: CustomerKind | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class CustomerOut(Struct):
    id: int
    name: str
    company: str
    given_name: str
    family_name: str
    email: str
    phone: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    tax_number: str
    currency: str
    notes: str
    kind: str
    active: bool
    source: str
    external_ref: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    links: list[LinkOut]


CustomerPage = Annotated[Page[CustomerOut], KwargDefinition(schema_component_key="CustomerPage")]


class CustomerChoice(Struct):
    """A customer as a form's picker offers it: enough to tell two namesakes apart, nothing more."""

    id: int
    name: str
    email: str
