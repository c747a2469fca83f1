"""Fidelity: the sandbox's JSON has the shapes of FreshBooks' SDK fixtures and the community OpenAPI.

Shapes are compared recursively: every key a fixture has must be present with a value of the same JSON
type (``null`` on either side matches anything; lists compare their first elements). The community
OpenAPI (third-party, partial) is loaded leniently: every property may be null, and where FACTS.md
(official sources) disagrees with it the FACTS reading wins through the documented overrides below.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from fb_harness import ACCOUNT, FbHarness, loads
from ledgerbridge_freshbooks.sandbox import SandboxConfig

from tests.contracts.returned_fields import assert_returns


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float) or type(value).__name__ == "Decimal":
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "null")


#: Where an SDK fixture's test data contradicts FACTS.md: money amounts are strings (FACTS FreshBooks 2),
#: while some fixture money (client test_amount, outstanding_balance) carries bare numbers.
MONEY_AMOUNT_PATHS = ("amount.amount",)
#: Fixture keys that are SDK test scaffolding, not FreshBooks fields.
FIXTURE_ONLY = {"test_amount", "outstanding_balance", "grand_total_balance"}
#: Objects keyed by account id: their values are compared, not their keys.
ID_MAPS = {"permissions", "subscription_statuses"}


def shape_mismatches(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Differences in keys and value types between a fixture and a response."""
    if expected is None or actual is None:
        return []
    if json_type(expected) != json_type(actual):
        if path.endswith(MONEY_AMOUNT_PATHS) and json_type(actual) == "string":
            return []
        return [f"{path}: expected {json_type(expected)}, got {json_type(actual)}"]
    problems: list[str] = []
    if isinstance(expected, dict) and path.rsplit(".", 1)[-1] in ID_MAPS:
        if expected and actual:
            problems.extend(shape_mismatches(next(iter(expected.values())), next(iter(actual.values())), path + ".*"))
    elif isinstance(expected, dict):
        for key, value in expected.items():
            if key in FIXTURE_ONLY:
                continue
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
                continue
            problems.extend(shape_mismatches(value, actual[key], f"{path}.{key}"))
    elif isinstance(expected, list) and expected and actual:
        problems.extend(shape_mismatches(expected[0], actual[0], f"{path}[0]"))
    return problems


def test_shape_checker_can_fail() -> None:
    assert shape_mismatches({"a": {"b": 1}}, {"a": {"b": "1"}}) == ["$.a.b: expected integer, got string"]
    assert shape_mismatches({"a": 1, "c": []}, {"c": []}) == ["$.a: missing"]


def fixture(specs: Path, name: str) -> Any:
    return loads((specs / "freshbooks" / "sdk-fixtures" / name).read_text())


def rich_business(fb: FbHarness) -> dict[str, int]:
    """An invoice with lines, tax and a payment, so every shape has content."""
    invoice = fb.invoice("200.00", "FID-1")
    fb.update(f"invoices/invoices/{invoice['id']}", "invoice", {"action_mark_as_sent": True})
    payment = fb.pay(invoice["id"], "50.00")
    return {"invoice": invoice["id"], "payment": payment["id"]}


def assert_shape(expected: Any, response: Any) -> None:
    problems = shape_mismatches(expected, response)
    assert not problems, "\n".join(problems)


def test_identity_and_token_match_sdk_fixtures(fb: FbHarness, provider_specs: Path) -> None:
    me = fb.ok(fb.http.get("/auth/api/v1/users/me"))
    assert_shape(fixture(provider_specs, "auth_me_response.json"), me)
    response = fb.http.post("/auth/oauth/token", data={
        "grant_type": "refresh_token", "client_id": "ledgerbridge-demo-client",
        "client_secret": "ledgerbridge-demo-secret", "refresh_token": fb.tokens.refresh_token})
    expected = fixture(provider_specs, "auth_token_response.json")
    expected.pop("id_token")  # only with OpenID scopes, which LedgerBridge does not request
    assert_shape(expected, fb.ok(response))
    anonymous = httpx_get(fb, "/auth/api/v1/users/me", token=None)
    assert anonymous.status_code == 401
    assert_shape(fixture(provider_specs, "auth_me_response__no_auth.json"), anonymous.json())


def httpx_get(fb: FbHarness, path: str, token: str | None) -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=fb.base_url, timeout=10, headers=headers) as client:
        return client.get(path)


def test_clients_match_sdk_fixtures(fb: FbHarness, fb_factory: Any, provider_specs: Path) -> None:
    created = fb.send("POST", "users/clients", {"client": {"email": "john.doe@abcorp.com", "organization": "ABCorp"}})
    assert_shape(fixture(provider_specs, "create_client_response.json"), fb.ok(created))
    client_id = fb.ok(created)["response"]["result"]["client"]["id"]
    assert_shape(fixture(provider_specs, "get_client_response.json"), fb.ok(fb.get(f"users/clients/{client_id}")))
    assert_shape(fixture(provider_specs, "list_clients_response.json"), fb.ok(fb.get("users/clients")))
    # the classic not-found body (the SDK fixture) is what error_format="classic" answers; the default
    # answers today's google.rpc form (the Java SDK's "new" fixture), checked in test_sandbox_fb_entities
    classic = fb_factory(config=SandboxConfig(error_format="classic"))
    missing = classic.get("users/clients/999999")
    assert missing.status_code == 404
    assert_shape(fixture(provider_specs, "get_client_response__not_found.json"), missing.json())


def test_ledger_accounts_match_sdk_fixtures(fb: FbHarness, provider_specs: Path) -> None:
    business_uuid = fb.sandbox.state.businesses[ACCOUNT].preset.business_uuid
    listing = fb.ok(fb.http.get(f"/accounting/businesses/{business_uuid}/ledger_accounts/accounts"))
    assert_shape(fixture(provider_specs, "list_ledger_accounts_response.json"), listing)
    one = listing["data"][0]["uuid"]
    single = fb.ok(fb.http.get(f"/accounting/businesses/{business_uuid}/ledger_accounts/accounts/{one}"))
    assert_shape(fixture(provider_specs, "get_ledger_account_response.json"), single)
    assert {row["type"] for row in listing["data"]} >= {"asset", "income"}


def test_callbacks_match_sdk_fixtures(fb: FbHarness, provider_specs: Path) -> None:
    base = f"/events/account/{ACCOUNT}/events/callbacks"
    created = fb.http.post(base, json={"callback": {"event": "invoice.create", "uri": "http://127.0.0.1:9/hook"}})
    assert_shape(fixture(provider_specs, "get_callback_response.json"), fb.ok(created))
    callback_id = fb.ok(created)["response"]["result"]["callback"]["callbackid"]
    assert_shape(fixture(provider_specs, "get_callback_response.json"), fb.ok(fb.http.get(f"{base}/{callback_id}")))
    assert_shape(fixture(provider_specs, "list_callbacks_response.json"), fb.ok(fb.http.get(base)))
    missing = fb.http.get(f"{base}/1")
    assert missing.status_code == 404
    assert missing.json() == fixture(provider_specs, "get_callback_response__not_found.json")
    bad = fb.http.post(base, json={"callback": {"event": "nonsense", "uri": "not a url"}})
    assert bad.status_code == 422
    assert bad.json() == fixture(provider_specs, "create_callback_response__validation_error.json")
    anonymous = httpx_get(fb, base, token="expired-or-unknown")
    assert anonymous.status_code == 401
    assert anonymous.json() == fixture(provider_specs, "get_callback_response__no_auth.json")


# -- community OpenAPI -------------------------------------------------------------------------------------

#: FACTS.md (official sources) over the community description: tax ``amount`` and line ``qty`` are
#: decimal strings; invoice ``status`` 0 (disputed) exists; the TaxObjectResponse wrongly points at Project.
OVERRIDES = {
    ("Tax", "amount"): {"type": "string"},
    ("InvoiceLines", "qty"): {"type": "string"},
    ("Invoice", "status"): {"type": "integer", "enum": [0, 1, 2, 3, 4, 5, 6, 7, 8]},
}


def lenient(node: Any) -> Any:
    """Every typed node also accepts null (the community spec omits nullability everywhere)."""
    if isinstance(node, dict):
        node = {k: lenient(v) for k, v in node.items()}
        if "type" in node and isinstance(node["type"], str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        return node
    if isinstance(node, list):
        return [lenient(v) for v in node]
    return node


@pytest.fixture(scope="module")
def openapi(provider_specs: Path) -> dict[str, Any]:
    spec = yaml.safe_load((provider_specs / "freshbooks" / "openapi-community.yaml").read_text())
    schemas = copy.deepcopy(spec["components"]["schemas"])
    for (schema, prop), replacement in OVERRIDES.items():
        schemas[schema]["properties"][prop] = replacement
    schemas["TaxObjectResponse"]["properties"]["response"]["properties"]["result"]["properties"]["tax"] = {
        "$ref": "#/components/schemas/Tax"}
    return {"components": {"schemas": lenient(schemas)}}


def validate(openapi: dict[str, Any], schema_name: str, body: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", **openapi}
    # Decimal values never appear: money is serialised as strings. Round-trip through json for plain types.
    jsonschema.validate(json.loads(json.dumps(body)), schema)


def test_openapi_validator_can_fail(openapi: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(openapi, "InvoiceObjectResponse", {"response": {"result": {"invoice": {"customerid": "x"}}}})


@pytest.mark.parametrize(
    ("tail", "schema"),
    [
        ("users/clients", "ClientListResponse"),
        ("users/clients/{client}", "ClientObjectResponse"),
        ("invoices/invoices?include[]=lines", "InvoiceListResponse"),
        ("invoices/invoices/{invoice}?include[]=lines", "InvoiceObjectResponse"),
        ("taxes/taxes", "TaxListResponse"),
        ("taxes/taxes/{tax}", "TaxObjectResponse"),
        ("payments/payments", "PaymemtListResponse"),
        ("payments/payments/{payment}", "PaymemtObjectResponse"),
    ],
)
def test_reads_fit_the_community_openapi(fb: FbHarness, openapi: dict[str, Any], tail: str, schema: str) -> None:
    ids = rich_business(fb)
    ids["client"] = fb.client_id()
    ids["tax"] = fb.listing("taxes/taxes")["taxes"][0]["id"]
    validate(openapi, schema, fb.ok(fb.get(tail.format(**ids))))


def test_writes_fit_the_community_openapi(fb: FbHarness, openapi: dict[str, Any]) -> None:
    client = fb.send("POST", "users/clients", {"client": {"organization": "Schema Co", "email": "s@example.com"}})
    validate(openapi, "ClientObjectResponse", fb.ok(client))
    invoice = fb.send("POST", "invoices/invoices", {"invoice": {
        "customerid": fb.client_id(), "create_date": "2026-03-02", "invoice_number": "OA-1",
        "lines": [{"name": "x", "qty": "2", "unit_cost": {"amount": "10", "code": "USD"},
                   "taxName1": "Sales Tax", "taxAmount1": "8.25"}]}}, params={"include[]": "lines"})
    validate(openapi, "InvoiceObjectResponse", fb.ok(invoice))
    invoice_id = fb.ok(invoice)["response"]["result"]["invoice"]["id"]
    updated = fb.send("PUT", f"invoices/invoices/{invoice_id}", {"invoice": {"action_mark_as_sent": True}})
    validate(openapi, "InvoiceObjectResponse", fb.ok(updated))
    payment = fb.send("POST", "payments/payments", {"payment": {
        "invoiceid": invoice_id, "amount": {"amount": "5.00", "code": "USD"}, "date": "2026-03-02"}})
    validate(openapi, "PaymemtObjectResponse", fb.ok(payment))
    tax = fb.send("POST", "taxes/taxes", {"tax": {"name": "GST", "amount": "5"}})
    validate(openapi, "TaxObjectResponse", fb.ok(tax))


# -- fields FreshBooks returns by default -------------------------------------------------------------------

#: Community-spec properties that are typos of fields the sandbox does send (``ID`` for ``id``,
#: ``accounting _systemid`` for ``accounting_systemid``) or that FreshBooks sends only on request
#: (``lines`` and ``presentation`` need ``include[]=``; checked below with the include).
NOT_BY_DEFAULT = {"ID", "accounting _systemid", "lines", "presentation"}
#: What the community spec lacks but FreshBooks returns today (issue 15; FACTS FreshBooks 3): invoice
#: payment and version fields. Items have no community schema: FreshBooks' item reference lists these.
EXTRA_RETURNED = {
    "Invoice": ("net_paid_amount.amount", "return_uri", "version", "payment_details", "amount.code",
                "outstanding.amount", "paid.amount", "v3_status", "payment_status", "display_status"),
    "Item": ("id", "itemid", "accounting_systemid", "name", "description", "qty", "sku", "inventory",
             "unit_cost.amount", "unit_cost.code", "tax1", "tax2", "updated", "vis_state"),
}


def returned_paths(openapi: dict[str, Any], schema: str) -> tuple[str, ...]:
    """Every property the community spec gives ``schema`` (less NOT_BY_DEFAULT), plus EXTRA_RETURNED."""
    properties = openapi["components"]["schemas"].get(schema, {}).get("properties", {})
    return (*sorted(set(properties) - NOT_BY_DEFAULT), *EXTRA_RETURNED.get(schema, ()))


def test_every_endpoint_returns_what_freshbooks_returns_by_default(fb: FbHarness, openapi: dict[str, Any]) -> None:
    ids = rich_business(fb)
    invoice_paths = returned_paths(openapi, "Invoice")
    line_paths = tuple(f"lines[].{p}" for p in returned_paths(openapi, "InvoiceLines"))
    reads = {
        "Client": [*fb.listing("users/clients")["clients"], fb.ok(fb.get(f"users/clients/{fb.client_id()}"))
                   ["response"]["result"]["client"]],
        "Invoice": [*fb.listing("invoices/invoices")["invoices"],
                    fb.ok(fb.get(f"invoices/invoices/{ids['invoice']}"))["response"]["result"]["invoice"]],
        "Payment": [*fb.listing("payments/payments")["payments"],
                    fb.ok(fb.get(f"payments/payments/{ids['payment']}"))["response"]["result"]["payment"]],
        "Tax": fb.listing("taxes/taxes")["taxes"],
        "Item": fb.listing("items/items")["items"],
    }
    for schema, rows in reads.items():
        assert rows, schema
        for row in rows:
            assert_returns(row, returned_paths(openapi, schema), schema)
    with_lines = fb.ok(fb.get(f"invoices/invoices/{ids['invoice']}", params={"include[]": ["lines", "presentation"]}))
    invoice = with_lines["response"]["result"]["invoice"]
    assert_returns(invoice, (*invoice_paths, *line_paths, "presentation.invoiceid", "presentation.theme_layout"),
                   "Invoice with lines and presentation")
    listed = fb.listing("invoices/invoices", **{"include[]": "lines"})["invoices"]
    for row in listed:
        assert_returns(row, line_paths, "listed invoice lines")


def test_returned_paths_check_can_fail(fb: FbHarness, openapi: dict[str, Any]) -> None:
    invoice = fb.listing("invoices/invoices")["invoices"] or [fb.invoice("10.00", "CF-1")]
    row = dict(invoice[0])
    del row["net_paid_amount"]
    with pytest.raises(AssertionError, match="net_paid_amount"):
        assert_returns(row, returned_paths(openapi, "Invoice"), "Invoice")
