"""The QBO write/read pipeline shared by the API, batch, and the accountant's view.

Whatever path a change takes, it goes through :class:`QboService`, so SyncToken increments,
``MetaData.LastUpdatedTime``, CDC visibility, payment/invoice balance links and webhook events are
identical for an API call and for a bookkeeper's edit. The pipeline for a write is:

1. validate the body against the XSD model (2010/2170);
2. for updates: find the record (610), check ``SyncToken`` (5010), merge sparse or replace fully;
3. run the entity's builder (business rules, computed fields);
4. stamp Id/SyncToken/MetaData, store, propagate side effects (payments <-> invoices);
5. notify listeners (webhooks) with a :class:`ChangeEvent`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerbridge_testing.sandbox.clock import SandboxClock

from ledgerbridge_quickbooks.sandbox import entities, errors
from ledgerbridge_quickbooks.sandbox import query as query_language
from ledgerbridge_quickbooks.sandbox.calc import ZERO, money, void_lines
from ledgerbridge_quickbooks.sandbox.entities import SPECS, BuildContext, EntitySpec
from ledgerbridge_quickbooks.sandbox.schema import SchemaModel
from ledgerbridge_quickbooks.sandbox.store import Company, Record, SandboxState, format_timestamp, snapshot

SYSTEM_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "status")

CHANGE_ALLOWED = {"Update": "updatable", "Delete": "deletable", "Void": "voidable"}  # EntitySpec flags


class UnknownCompany(LookupError):
    """The realm id is not one of this sandbox's companies."""


@dataclass(frozen=True)
class ChangeEvent:
    """One entity change, as webhooks report it."""

    realm_id: str
    entity: str
    entity_id: str
    operation: str  # Create | Update | Delete | Void | Merge
    last_updated: str
    deleted_id: str | None = None


Builder = Callable[[BuildContext, Record, Record | None], Record]

_BUILDERS: dict[str, Builder] = {
    "Customer": entities.build_customer,
    "Employee": entities.build_employee,
    "Item": entities.build_item,
    "Account": entities.build_account,
    "Invoice": entities.build_invoice,
    "TimeActivity": entities.build_time_activity,
    "CompanyInfo": entities.build_company_info,
    "Preferences": entities.build_preferences,
}


class QboService:
    """Entity operations on the sandbox state (thread-safe through each company's lock)."""

    def __init__(self, state: SandboxState, clock: SandboxClock, schema: SchemaModel) -> None:
        self.state = state
        self.clock = clock
        self.schema = schema
        self.listeners: list[Callable[[ChangeEvent], None]] = []

    # -- helpers ---------------------------------------------------------------------------------------

    def company(self, realm_id: str) -> Company:
        """The company or :class:`UnknownCompany`."""
        company = self.state.company(realm_id)
        if company is None:
            raise UnknownCompany(realm_id)
        return company

    def context(self, company: Company) -> BuildContext:
        """Timestamp everything in one operation identically."""
        moment = self.clock.now()
        return BuildContext(company, format_timestamp(moment, company.tz), moment.astimezone(company.tz).date())

    def spec(self, entity: str) -> EntitySpec:
        """Spec by entity name (KeyError for unknown names is a programming error here)."""
        return SPECS[entity]

    def _emit(self, event: ChangeEvent) -> None:
        for listener in list(self.listeners):
            listener(event)

    def _validate(self, entity: str, body: Any) -> Record:
        if not isinstance(body, dict):
            raise errors.invalid_property(entity, "request body")
        return self.schema.validate(entity, body)

    @staticmethod
    def _check_id(entity: str, entity_id: Any) -> str:
        text = str(entity_id) if entity_id is not None else ""
        if entity != "TaxCode" and not text.isdigit():
            raise errors.invalid_id(entity_id)
        return text

    def _existing(self, company: Company, entity: str, entity_id: Any) -> Record:
        text = self._check_id(entity, entity_id)
        record = company.get(entity, text)
        if record is None:
            raise errors.object_not_found(entity, text, deleted=company.is_deleted(entity, text))
        return record

    @staticmethod
    def _check_sync_token(entity: str, record: Record, supplied: Any) -> None:
        if supplied is None or supplied == "":
            raise errors.required_missing("SyncToken")
        if str(supplied) != record["SyncToken"]:
            raise errors.stale_object(entity, record["Id"], supplied, record["SyncToken"])

    @staticmethod
    def _stamp(record: Record, entity_id: str, sync_token: int, created: str, updated: str) -> Record:
        body = {k: v for k, v in record.items() if k not in SYSTEM_FIELDS}
        body["domain"] = "QBO"
        body["sparse"] = False
        body["Id"] = entity_id
        body["SyncToken"] = str(sync_token)
        body["MetaData"] = {"CreateTime": created, "LastUpdatedTime": updated}
        return body

    @staticmethod
    def _touch(record: Record, now: str) -> None:
        record["SyncToken"] = str(int(record["SyncToken"]) + 1)
        record.setdefault("MetaData", {})["LastUpdatedTime"] = now

    # -- reads -----------------------------------------------------------------------------------------

    def read(self, realm_id: str, entity: str, entity_id: str) -> Record:
        """GET /{entity}/{id}."""
        company = self.company(realm_id)
        with company.locked():
            if entity == "CompanyInfo" and entity_id == realm_id:
                entity_id = "1"
            return self.render(company, entity, self._existing(company, entity, entity_id))

    def render(self, company: Company, entity: str, record: Record) -> Record:
        """Copy a stored record for output, adding fields QBO computes on read."""
        out = snapshot(record)
        if entity == "Customer":
            balance = self.customer_balance(company, record["Id"])
            out["Balance"] = balance
            out["BalanceWithJobs"] = balance
        return out

    def customer_balance(self, company: Company, customer_id: str) -> Decimal:
        """Open invoices minus unapplied payments (credits) of one customer."""
        total = ZERO
        for invoice in company.records.get("Invoice", {}).values():
            if invoice["CustomerRef"]["value"] == customer_id:
                total += Decimal(invoice.get("Balance", 0))
        for payment in company.records.get("Payment", {}).values():
            if payment["CustomerRef"]["value"] == customer_id:
                total -= Decimal(payment.get("UnappliedAmt", 0))
        return money(total)

    def query(self, realm_id: str, text: str) -> Record:
        """Run a query; returns the ``QueryResponse`` object (empty ``{}`` when nothing matches)."""
        parsed = query_language.parse(text)
        spec = query_language.resolve_entity(parsed.entity)
        company = self.company(realm_id)
        with company.locked():
            result = query_language.execute(
                parsed, company.visible(spec.name), company.tz, schema_fields=self.schema.element_names(spec.name)
            )
            if parsed.count:
                return {"totalCount": result.total}
            if not result.rows:
                return {}
            rows = [self.render(company, spec.name, r) for r in result.rows]
        if parsed.fields:
            rows = [query_language.project(r, parsed.fields) for r in rows]
        return {spec.name: rows, "startPosition": parsed.start_position, "maxResults": len(rows)}

    # -- writes ----------------------------------------------------------------------------------------

    def save(self, realm_id: str, entity: str, body: Any) -> Record:
        """POST /{entity}: an update when the body carries an Id, otherwise a create."""
        if isinstance(body, dict) and body.get("Id") not in (None, ""):
            return self.update(realm_id, entity, body)
        return self.create(realm_id, entity, body)

    def create(self, realm_id: str, entity: str, body: Any) -> Record:
        """Create a new object."""
        spec = self.spec(entity)
        if not spec.creatable:
            raise errors.unsupported_operation(f"Create for {entity}")
        data = self._validate(entity, body)
        company = self.company(realm_id)
        with company.locked():
            ctx = self.context(company)
            data = {k: v for k, v in data.items() if k not in SYSTEM_FIELDS and v is not None}
            if entity == "Payment":
                built = entities.build_payment(ctx, data, None, {})
            else:
                built = _BUILDERS[entity](ctx, data, None)
            entity_id = company.allocate_id()
            record = self._stamp(built, entity_id, 0, ctx.now, ctx.now)
            if entity == "Invoice":
                record["Balance"] = record["TotalAmt"]
            company.put(entity, record)
            if company.hidden_ids is not None:
                company.hidden_ids.add((entity, entity_id))
            if entity == "Payment":
                self._relink_invoices(company, ctx, self._linked_invoice_ids(record))
            event = ChangeEvent(realm_id, entity, entity_id, "Create", ctx.now)
            result = self.render(company, entity, record)
        self._emit(event)
        return result

    @contextmanager
    def _changing(self, realm_id: str, entity: str, body: Any,
                  operation: str) -> Iterator[tuple[Company, BuildContext, Record, Record]]:
        """Lock the company and load the record a change names, refusing a stale SyncToken (QBO's
        optimistic concurrency); what update, delete and void all start with."""
        if not getattr(self.spec(entity), CHANGE_ALLOWED[operation]):
            raise errors.unsupported_operation(f"{operation} for {entity}")
        data = self._validate(entity, body)
        company = self.company(realm_id)
        with company.locked():
            ctx = self.context(company)
            if data.get("Id") in (None, ""):
                raise errors.required_missing("Id")
            existing = self._existing(company, entity, data["Id"])
            self._check_sync_token(entity, existing, data.get("SyncToken"))
            yield company, ctx, data, existing

    def update(self, realm_id: str, entity: str, body: Any, *, void: bool = False) -> Record:
        """Full or sparse update (``"sparse": true``); ``void`` voids a payment (include=void)."""
        with self._changing(realm_id, entity, body, "Update") as (company, ctx, data, existing):
            if void:
                return self._void_locked(company, ctx, entity, existing)
            if (entity, existing["Id"]) in company.voided:
                raise errors.business_rule("A voided transaction cannot be changed.", "Id")
            fields = {k: v for k, v in data.items() if k not in SYSTEM_FIELDS}
            if data.get("sparse") is True:
                merged = {k: v for k, v in existing.items() if k not in SYSTEM_FIELDS}
                merged.update(fields)
            else:
                merged = fields
            merged = {k: v for k, v in merged.items() if v is not None}
            if entity == "Payment":
                previous = self._applied_by_payment(existing)
                built = entities.build_payment(ctx, merged, existing, previous)
            else:
                built = _BUILDERS[entity](ctx, merged, existing)
            record = self._stamp(
                built, existing["Id"], int(existing["SyncToken"]) + 1, existing["MetaData"]["CreateTime"], ctx.now
            )
            if entity == "Invoice":
                self._set_invoice_balance(company, record)
            affected = self._linked_invoice_ids(existing) | self._linked_invoice_ids(record)
            company.put(entity, record)
            if entity == "Payment":
                self._relink_invoices(company, ctx, affected)
            event = ChangeEvent(realm_id, entity, record["Id"], "Update", ctx.now)
            result = self.render(company, entity, record)
        self._emit(event)
        return result

    def delete(self, realm_id: str, entity: str, body: Any) -> Record:
        """``operation=delete``: the object disappears from reads/queries and shows in CDC as Deleted."""
        with self._changing(realm_id, entity, body, "Delete") as (company, ctx, _data, existing):
            entity_id = existing["Id"]
            if entity == "Invoice":
                self._unapply_payments_for(company, ctx, entity_id)
            company.remove(entity, entity_id, ctx.now)
            company.voided.discard((entity, entity_id))
            if entity == "Payment":
                self._relink_invoices(company, ctx, self._linked_invoice_ids(existing))
            event = ChangeEvent(realm_id, entity, entity_id, "Delete", ctx.now)
        self._emit(event)
        return {"domain": "QBO", "status": "Deleted", "Id": entity_id}

    def void(self, realm_id: str, entity: str, body: Any) -> Record:
        """``operation=void`` on an invoice (payments use update with include=void)."""
        with self._changing(realm_id, entity, body, "Void") as (company, ctx, _data, existing):
            return self._void_locked(company, ctx, entity, existing)

    def _void_locked(self, company: Company, ctx: BuildContext, entity: str, existing: Record) -> Record:
        if (entity, existing["Id"]) in company.voided:
            raise errors.business_rule("The transaction is already voided.", "Id")
        record = snapshot(existing)
        if entity == "Invoice":
            self._unapply_payments_for(company, ctx, record["Id"])
            record["Line"] = void_lines(record.get("Line", []))
            detail = dict(record.get("TxnTaxDetail") or {})
            detail["TotalTax"] = ZERO
            if "TaxLine" in detail:
                detail["TaxLine"] = void_lines(detail["TaxLine"])
            record["TxnTaxDetail"] = detail
            record["TotalAmt"] = ZERO
            record["Balance"] = ZERO
            record["LinkedTxn"] = [x for x in record.get("LinkedTxn", []) if x.get("TxnType") != "Payment"]
        elif entity == "Payment":
            affected = self._linked_invoice_ids(record)
            record["Line"] = void_lines(record.get("Line", []))
            record["TotalAmt"] = ZERO
            record["UnappliedAmt"] = ZERO
        else:
            raise errors.unsupported_operation(f"Void for {entity}")
        record["PrivateNote"] = "Voided"
        self._touch(record, ctx.now)
        company.put(entity, record)
        company.voided.add((entity, record["Id"]))
        if entity == "Payment":
            self._relink_invoices(company, ctx, affected)
        event = ChangeEvent(company.realm_id, entity, record["Id"], "Void", ctx.now)
        result = self.render(company, entity, record)
        self._emit(event)
        return result

    def send(self, realm_id: str, entity: str, entity_id: str, send_to: str | None) -> Record:
        """``POST /invoice/{id}/send``: marks the invoice as emailed (EmailStatus=EmailSent)."""
        if entity != "Invoice":
            raise errors.unsupported_operation(f"Send for {entity}")
        company = self.company(realm_id)
        with company.locked():
            ctx = self.context(company)
            record = snapshot(self._existing(company, entity, entity_id))
            address = send_to or (record.get("BillEmail") or {}).get("Address")
            if not address:
                raise errors.required_missing("BillEmail")
            record["EmailStatus"] = "EmailSent"
            record["BillEmail"] = {"Address": address}
            record["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": ctx.now}
            self._touch(record, ctx.now)
            company.put(entity, record)
            event = ChangeEvent(realm_id, entity, record["Id"], "Update", ctx.now)
            result = self.render(company, entity, record)
        self._emit(event)
        return result

    def merge_customers(self, realm_id: str, from_id: str, into_id: str) -> Record:
        """Bookkeeper merge: transactions move to the survivor, the merged customer is deleted.

        Reported as a webhook ``Merge`` with ``deletedId`` and in CDC as a Deleted customer.
        """
        company = self.company(realm_id)
        with company.locked():
            ctx = self.context(company)
            source = self._existing(company, "Customer", from_id)
            target = self._existing(company, "Customer", into_id)
            if source["Id"] == target["Id"]:
                raise errors.business_rule("A customer cannot be merged into itself.")
            new_ref = {"value": target["Id"], "name": target["DisplayName"]}
            for entity in ("Invoice", "Payment", "TimeActivity"):
                for record in company.records.get(entity, {}).values():
                    if (record.get("CustomerRef") or {}).get("value") == source["Id"]:
                        record["CustomerRef"] = dict(new_ref)
                        self._touch(record, ctx.now)
            survivor = snapshot(target)
            self._touch(survivor, ctx.now)
            company.put("Customer", survivor)
            company.remove("Customer", source["Id"], ctx.now)
            event = ChangeEvent(realm_id, "Customer", target["Id"], "Merge", ctx.now, deleted_id=source["Id"])
            result = self.render(company, "Customer", survivor)
        self._emit(event)
        return result

    # -- payment <-> invoice links ---------------------------------------------------------------------

    @staticmethod
    def _linked_invoice_ids(payment_or_other: Record) -> set[str]:
        ids = set()
        for line in payment_or_other.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == "Invoice":
                    ids.add(str(link.get("TxnId")))
        return ids

    @staticmethod
    def _applied_by_payment(payment: Record) -> dict[str, Decimal]:
        applied: dict[str, Decimal] = {}
        for line in payment.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == "Invoice":
                    key = str(link.get("TxnId"))
                    applied[key] = applied.get(key, ZERO) + Decimal(line.get("Amount", 0))
        return applied

    def _applications(self, company: Company, invoice_id: str) -> list[tuple[str, Decimal]]:
        result = []
        for payment in company.records.get("Payment", {}).values():
            amount = self._applied_by_payment(payment).get(invoice_id, ZERO)
            if amount > 0:
                result.append((payment["Id"], amount))
        return result

    def _set_invoice_balance(self, company: Company, invoice: Record) -> None:
        applications = self._applications(company, invoice["Id"])
        applied = sum((amount for _, amount in applications), ZERO)
        balance = money(Decimal(invoice["TotalAmt"]) - applied)
        if balance < 0:
            raise errors.business_rule(
                f"The invoice total ({invoice['TotalAmt']}) cannot be less than the payments applied ({applied}).",
                "TotalAmt",
            )
        invoice["Balance"] = balance
        others = [x for x in invoice.get("LinkedTxn", []) if x.get("TxnType") != "Payment"]
        invoice["LinkedTxn"] = others + [{"TxnId": pid, "TxnType": "Payment"} for pid, _ in applications]

    def _relink_invoices(self, company: Company, ctx: BuildContext, invoice_ids: set[str]) -> None:
        """Recompute Balance/LinkedTxn of invoices touched by a payment change; bump the changed ones."""
        for invoice_id in sorted(invoice_ids):
            invoice = company.get("Invoice", invoice_id, include_hidden=True)
            if invoice is None:
                continue
            before = (invoice.get("Balance"), list(invoice.get("LinkedTxn", [])))
            updated = snapshot(invoice)
            self._set_invoice_balance(company, updated)
            if (updated.get("Balance"), updated.get("LinkedTxn")) != before:
                self._touch(updated, ctx.now)
                company.put("Invoice", updated)

    def _unapply_payments_for(self, company: Company, ctx: BuildContext, invoice_id: str) -> None:
        """Before an invoice is voided/deleted, its payments become unapplied credit."""
        for payment in list(company.records.get("Payment", {}).values()):
            lines = payment.get("Line") or []
            kept = [ln for ln in lines if not any(str(x.get("TxnId")) == invoice_id for x in ln.get("LinkedTxn") or [])]
            if len(kept) == len(lines):
                continue
            updated = snapshot(payment)
            updated["Line"] = kept
            applied = sum((Decimal(ln.get("Amount", 0)) for ln in kept), ZERO)
            updated["UnappliedAmt"] = money(Decimal(updated["TotalAmt"]) - applied)
            self._touch(updated, ctx.now)
            company.put("Payment", updated)
