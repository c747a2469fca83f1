"""``POST /batch``: up to 30 operations in one call (FACTS.md QBO 5).

Semantics reproduced: items run in order but cannot see each other's results (an object created by item
1 is invisible to item 2's references, reads and queries, although name uniqueness still applies);
every item answers on its own - an entity, a ``QueryResponse`` or a ``Fault`` - and the HTTP status is
200 even when items fail. With a ``requestid`` the batch id may be at most 36 characters and each
``bId`` at most 10 (a longer one fails that item with 6000).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledgerbridge_quickbooks.sandbox import errors
from ledgerbridge_quickbooks.sandbox.config import SandboxConfig
from ledgerbridge_quickbooks.sandbox.entities import SPECS
from ledgerbridge_quickbooks.sandbox.errors import QboFault
from ledgerbridge_quickbooks.sandbox.service import QboService

_CONTROL_KEYS = {"bId", "operation", "optionsData"}


def run_batch(
    service: QboService,
    realm_id: str,
    body: Any,
    *,
    config: SandboxConfig,
    requestid: str | None,
    meter: Callable[[int], None],
) -> dict[str, Any]:
    """Execute a batch body and return ``{"BatchItemResponse": [...]}`` (without ``time``)."""
    if not isinstance(body, dict) or set(body) - {"BatchItemRequest"}:
        extra = sorted(set(body) - {"BatchItemRequest"}) if isinstance(body, dict) else ["body"]
        raise errors.invalid_property(extra[0] if extra else "BatchItemRequest", "IntuitBatchRequest")
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise errors.required_missing("BatchItemRequest")
    if len(items) > config.max_batch_items:
        raise errors.business_rule(
            f"The max number of batch items in a single request was exceeded: {len(items)} sent, "
            f"{config.max_batch_items} allowed."
        )
    if requestid is not None and len(requestid) > config.batch_requestid_max_length:
        raise errors.business_rule(
            f"You cannot enter more than {config.batch_requestid_max_length} characters in the requestid of a "
            f"batch request; you entered {len(requestid)}.",
            "requestid",
        )
    if config.meter_batch_items:
        meter(len(items))
    company = service.company(realm_id)
    responses: list[dict[str, Any]] = []
    with company.locked():
        company.hidden_ids = set()
        try:
            for item in items:
                responses.append(_run_item(service, realm_id, item, config, requestid))
        finally:
            company.hidden_ids = None
    return {"BatchItemResponse": responses}


def _run_item(
    service: QboService, realm_id: str, item: Any, config: SandboxConfig, requestid: str | None
) -> dict[str, Any]:
    bid = item.get("bId") if isinstance(item, dict) else None
    try:
        if not isinstance(item, dict):
            raise errors.invalid_property("BatchItemRequest", "IntuitBatchRequest")
        if requestid is not None and bid is not None and len(str(bid)) > config.batch_bid_max_length_with_requestid:
            raise errors.business_rule(
                f"You cannot enter more than {config.requestid_max_length} characters in the request_id field "
                f"(requestid + bId {bid!r}).",
                "bId",
            )
        payload_keys = [k for k in item if k not in _CONTROL_KEYS]
        if len(payload_keys) != 1:
            raise errors.invalid_property(",".join(payload_keys) or "IntuitObject", "BatchItemRequest")
        key = payload_keys[0]
        if key == "Query":
            return {"bId": bid, "QueryResponse": service.query(realm_id, str(item["Query"]))}
        if key not in SPECS:
            raise errors.invalid_property(key, "BatchItemRequest")
        operation = str(item.get("operation") or "create").lower()
        options = str(item.get("optionsData") or "").lower()
        payload = item[key]
        if operation == "create":
            return {"bId": bid, key: service.create(realm_id, key, payload)}
        if operation == "update" and options == "void":
            if key == "Payment":
                return {"bId": bid, key: service.update(realm_id, key, payload, void=True)}
            return {"bId": bid, key: service.void(realm_id, key, payload)}
        if operation == "update":
            return {"bId": bid, key: service.update(realm_id, key, payload)}
        if operation == "delete":
            return {"bId": bid, key: service.delete(realm_id, key, payload)}
        if operation == "void":
            return {"bId": bid, key: service.void(realm_id, key, payload)}
        raise errors.unsupported_operation(f"{operation} in batch")
    except QboFault as fault:
        return {"bId": bid, "Fault": fault.fault_body()}
