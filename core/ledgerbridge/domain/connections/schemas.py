"""The connections API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.api.schemas import (
    Id,
    SyncRunOut,
)
from ledgerbridge.tables import NumberPolicy, ReissueNumber, RevertAction

SyncWhat = Literal["customers", "items", "accounts", "tax_rates", "invoices"]


class ConnectionOut(Struct):
    id: int
    provider: str
    provider_name: str
    environment: str
    tenant_id: str
    tenant_name: str
    status: str
    status_reason: str
    reconnect_before: datetime | None
    auto_sync_customers: bool
    auto_export_on_send: bool
    export_as_draft: bool
    default_income_account_id: int | None
    number_policy: NumberPolicy
    revert_action: RevertAction
    is_books: Annotated[
        bool,
        Meta(description="True for the one connection that keeps the workspace's books; the others are read-only."),
    ]
    reissue_number: Annotated[
        ReissueNumber,
        Meta(description="The number of a new copy after a void kept the old number: `suffix` (-2, -3...) "
                         "or `provider` (the provider's next number)."),
    ]
    currency: Annotated[str, Meta(description="The company's home currency; empty when the provider did not say.")]
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime
    syncs_time: bool = False  # the provider keeps time records; false: POST /time-entries/sync is refused


class ConnectionList(Struct):
    items: list[ConnectionOut]


class ConnectionPatch(Struct):
    auto_sync_customers: bool | UnsetType = UNSET
    auto_export_on_send: bool | UnsetType = UNSET
    export_as_draft: bool | UnsetType = UNSET
    default_income_account_id: Id | UnsetType | None = UNSET
    number_policy: NumberPolicy | UnsetType = UNSET
    revert_action: RevertAction | UnsetType = UNSET
    reissue_number: ReissueNumber | UnsetType = UNSET


class AuthorizeIn(Struct):
    provider: Annotated[str, Meta(description="A provider key from GET /api/v1/providers, e.g. quickbooks.")]
    environment: str | None = None
    connection_id: Annotated[Id | None, Meta(description="Set to reconnect this connection.")] = None
    return_to: Annotated[
        str, Meta(description="A path on this server the person is sent back to after consent.")
    ] = "/integrations"


class AuthorizeOut(Struct):
    url: Annotated[str, Meta(description="Send the person's browser here; they come back signed in to us.")]


class SyncRequestIn(Struct):
    what: Annotated[
        list[SyncWhat],
        Meta(description="What to read from the provider; empty means everything (one import_all run)."),
    ] = []


class SyncRunList(Struct):
    runs: list[SyncRunOut]
