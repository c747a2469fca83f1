"""The OpenAPI document: served, complete, and describing money as strings."""

from __future__ import annotations

from litestar.testing import AsyncTestClient


async def test_openapi_lists_the_api(client: AsyncTestClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    for path in (
        "/api/v1/customers",
        "/api/v1/customers/by-ref/{ref}",
        "/api/v1/items",
        "/api/v1/invoices",
        "/api/v1/invoices/{invoice_id}/export",
        "/api/v1/invoices/{invoice_id}/revert-to-draft",
        "/api/v1/invoices/export",
        "/api/v1/invoices/from-time-entries",
        "/api/v1/payments",
        "/api/v1/time-entries",
        "/api/v1/connections/{connection_id}/sync",
        "/api/v1/sync-runs/{run_id}/retry",
        "/api/v1/issues/groups",
        "/api/v1/accounts",
        "/api/v1/tax-rates",
        "/api/v1/workspace/members",
        "/api/v1/workspace/api-keys",
        "/auth/login",
    ):
        assert path in paths, path
    assert "/login" not in paths  # UI pages are not API
    assert set(spec["components"]["securitySchemes"]) == {"apiKey", "bearer", "session"}
    invoice = spec["components"]["schemas"]["InvoiceOut"]["properties"]
    assert invoice["total"]["type"] == "string"
    assert "404" in paths["/api/v1/invoices/{invoice_id}"]["get"]["responses"]
    assert "offset" in [p["name"] for p in paths["/api/v1/invoices"]["get"]["parameters"]]


async def test_unknown_paths_are_json_404s_for_api_clients(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_create_or_update_by_ref_documents_its_201(client: AsyncTestClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for kind in ("customers", "items", "invoices", "time-entries"):
        responses = paths[f"/api/v1/{kind}/by-ref/{{ref}}"]["put"]["responses"]
        assert {"200", "201"} <= set(responses), (kind, sorted(responses))


async def test_every_api_operation_documents_its_refusals(client: AsyncTestClient) -> None:
    """Every route checks a permission, so 403 is possible everywhere, besides 400 and 401."""
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    refusals = {"400", "401", "403"}
    undocumented = [
        (method.upper(), path, sorted(refusals - set(operation["responses"])))
        for path, item in paths.items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete") and not refusals <= set(operation["responses"])
    ]
    assert undocumented == []


async def test_money_is_documented_as_decimal_strings_with_their_pattern(client: AsyncTestClient) -> None:
    from ledgerbridge.api.schemas import MONEY_OUT_PATTERN, MONEY_PATTERN

    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    requests = {
        ("LineIn", "unit_price"), ("LineIn", "quantity"), ("PaymentIn", "amount"),
        ("ItemIn", "unit_price"), ("TimeEntryIn", "hours"), ("TaxRateIn", "rate"),
    }
    for name, field in requests:
        money = schemas[name]["properties"][field]
        assert money["type"] == ["string", "number"], (name, field, money)
        assert (money["format"], money["pattern"]) == ("decimal", MONEY_PATTERN), (name, field)
    for name, field in {("InvoiceOut", "total"), ("LineOut", "line_total"), ("PaymentOut", "amount")}:
        money = schemas[name]["properties"][field]
        assert (money["type"], money["format"], money["pattern"]) == ("string", "decimal", MONEY_OUT_PATTERN)
