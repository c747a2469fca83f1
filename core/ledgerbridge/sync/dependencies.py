"""The customer and items an exported record refers to, created in the provider on the way.

An invoice, a payment and a time entry all name a customer (and maybe items) by the provider's
id, so those must exist there first. Once linked they are not sent again by this path: their own
edits travel in their own runs (a customer export, an item re-sync).
"""

from __future__ import annotations

from ledgerbridge.errors import ProviderError
from ledgerbridge.jobs import RunContext
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import Address, CustomerData, ItemData
from ledgerbridge.sync.links import get_link
from ledgerbridge.sync.outbound import ensure_exported
from ledgerbridge.sync.tax_mapping import books_tax
from ledgerbridge.tables import Connection, Customer, Item, RecordType


async def customer_data(customer_id: int) -> CustomerData:
    customer = await Customer.objects().where(Customer.id == customer_id).first()
    return CustomerData(
        local_id=customer.id, name=customer.name, company=customer.company, given_name=customer.given_name,
        family_name=customer.family_name, email=customer.email, phone=customer.phone,
        address=Address(customer.address_line1, customer.address_line2, customer.city, customer.region,
                        customer.postal_code, customer.country),
        tax_number=customer.tax_number, currency=customer.currency, notes=customer.notes, kind=customer.kind,
        active=customer.active,
    )


async def ensure_customer(ctx: RunContext, connection: Connection, customer_id: int) -> str:
    """The customer's id in the provider, creating (or re-sending a changed) customer first."""
    exported = await ensure_exported(
        ctx, connection, RecordType.customer, customer_id, hook="export_customer", argument="customer",
        build=lambda: customer_data(customer_id), resend_changed=False, warnings_on_link=True,
    )
    if exported.result is not None:
        ctx.count("created" if exported.result.created else "updated")
    return exported.remote_id


async def item_data(connection: Connection, item: Item) -> ItemData:
    """The item with its income account and tax rate as the provider knows them.

    Raises `item_not_mapped` where the provider needs an income account and none is linked.
    """
    caps = get_registry().provider(connection.provider).capabilities
    account_remote = None
    account_local = item.income_account or connection.default_income_account_id
    if account_local:
        account_link = await get_link(connection.id, RecordType.account, account_local)
        account_remote = account_link.remote_id if account_link else None
    if caps.income_accounts and not account_remote:
        raise ProviderError(
            f"The item “{item.name}” has no income account in this connection.",
            code="item_not_mapped",
        )
    tax = await books_tax(connection, item.tax_rate)
    tax_remote = tax.remote_id if tax else None
    return ItemData(
        local_id=item.id, name=item.name, description=item.description, kind=item.kind,
        unit_price=item.unit_price, income_account_id=account_remote, taxable=item.taxable,
        tax_rate_id=tax_remote, active=item.active,
    )


async def ensure_item(ctx: RunContext, connection: Connection, item: Item) -> str:
    """The item's id in the provider, creating (or re-sending a changed) item first."""
    exported = await ensure_exported(
        ctx, connection, RecordType.item, item.id, hook="export_item", argument="item",
        build=lambda: item_data(connection, item), resend_changed=False,
    )
    return exported.remote_id
