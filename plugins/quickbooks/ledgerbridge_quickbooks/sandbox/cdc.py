"""Change data capture: ``GET /cdc?entities=...&changedSince=...`` (FACTS.md QBO 4).

Pollers depend on four details reproduced here: the look-back is at most 30 days (older is an error,
so the client must fall back to a full sync), at most 1,000 objects come back, deleted objects appear
with ``status: "Deleted"`` and only ``Id``/``status``/``domain``/``MetaData`` (the UNCONFIRMED field set,
read strictly), and TaxCode, TaxRate and TimeActivity are not available at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledgerbridge_quickbooks.sandbox import errors
from ledgerbridge_quickbooks.sandbox.entities import SPECS
from ledgerbridge_quickbooks.sandbox.service import QboService
from ledgerbridge_quickbooks.sandbox.store import Record, parse_timestamp


def change_data_capture(
    service: QboService,
    realm_id: str,
    entities_param: str | None,
    changed_since: str | None,
    *,
    max_lookback_days: int = 30,
    max_objects: int = 1000,
) -> dict[str, Any]:
    """Return the ``CDCResponse`` list body (without ``time``)."""
    if not entities_param:
        raise errors.required_missing("entities")
    if not changed_since:
        raise errors.required_missing("changedSince")
    names = []
    for raw in entities_param.split(","):
        wanted = raw.strip()
        if not wanted:
            continue
        spec = next((s for s in SPECS.values() if s.name.lower() == wanted.lower()), None)
        if spec is None:
            raise errors.invalid_query(f'CDC: unsupported entity "{wanted}"')
        if not spec.cdc:
            raise errors.invalid_query(f"CDC is not available for {spec.name}")
        if spec.name not in names:
            names.append(spec.name)
    company = service.company(realm_id)
    try:
        since = parse_timestamp(changed_since, company.tz)
    except ValueError as exc:
        raise errors.invalid_query(f'CDC: changedSince "{changed_since}" is not an ISO-8601 date or datetime') from exc
    now = service.clock.now()
    if since < now - timedelta(days=max_lookback_days):
        raise errors.business_rule(
            f"changedSince must be within the last {max_lookback_days} days; use a full query instead.",
            "changedSince",
        )
    budget = max_objects
    responses: list[dict[str, Any]] = []
    with company.locked():
        for name in names:
            changed: list[tuple[Any, Record]] = []
            for record in company.records.get(name, {}).values():
                stamp = parse_timestamp(record["MetaData"]["LastUpdatedTime"], company.tz)
                if stamp >= since:
                    changed.append((stamp, service.render(company, name, record)))
            for tomb in company.tombstones.get(name, {}).values():
                stamp = parse_timestamp(tomb.deleted_at, company.tz)
                if stamp >= since:
                    changed.append(
                        (
                            stamp,
                            {
                                "domain": "QBO",
                                "status": "Deleted",
                                "Id": tomb.entity_id,
                                "MetaData": {"LastUpdatedTime": tomb.deleted_at},
                            },
                        )
                    )
            changed.sort(key=lambda pair: (pair[0], int(pair[1]["Id"]) if pair[1]["Id"].isdigit() else 0))
            rows = [row for _, row in changed][: max(budget, 0)]
            budget -= len(rows)
            if rows:
                responses.append({name: rows, "startPosition": 1, "maxResults": len(rows)})
            else:
                responses.append({})
    return {"CDCResponse": [{"QueryResponse": responses}]}
