"""Accounting behaviour: vis_state, invoice status fields, numbering, paging, filters, error formats."""

from __future__ import annotations

import asyncio

import httpx
from fb_harness import FbHarness
from ledgerbridge_freshbooks.sandbox import SandboxConfig


def statuses(invoice: dict) -> tuple:
    return (invoice["status"], invoice["v3_status"], invoice["payment_status"], invoice["display_status"])


def test_deleted_records_are_hidden_unless_asked_for(fb: FbHarness) -> None:
    kept, deleted, archived = (fb.invoice(number=n)["id"] for n in ("V-1", "V-2", "V-3"))
    fb.update(f"invoices/invoices/{deleted}", "invoice", {"vis_state": 1})
    fb.update(f"invoices/invoices/{archived}", "invoice", {"vis_state": 2})
    default = {i["id"] for i in fb.listing("invoices/invoices")["invoices"]}
    assert default == {kept, archived}
    only_deleted = fb.listing("invoices/invoices", **{"search[vis_state]": "1"})["invoices"]
    assert [i["id"] for i in only_deleted] == [deleted]
    assert fb.result(fb.get(f"invoices/invoices/{deleted}"))["invoice"]["vis_state"] == 1
    fb.update(f"invoices/invoices/{deleted}", "invoice", {"vis_state": 0})
    assert deleted in {i["id"] for i in fb.listing("invoices/invoices")["invoices"]}


def test_put_with_vis_state_ignores_other_fields(fb: FbHarness) -> None:
    invoice = fb.invoice(number="VS-1")
    after = fb.update(f"invoices/invoices/{invoice['id']}", "invoice", {"vis_state": 1, "notes": "ignored",
                                                                        "action_mark_as_sent": True})
    assert after["vis_state"] == 1 and after["notes"] == "" and after["v3_status"] == "draft"


def test_http_delete_of_invoice_is_soft_and_of_tax_is_real(fb: FbHarness) -> None:
    invoice = fb.invoice(number="D-1")
    assert fb.send("DELETE", f"invoices/invoices/{invoice['id']}").status_code == 200
    assert fb.result(fb.get(f"invoices/invoices/{invoice['id']}"))["invoice"]["vis_state"] == 1
    tax = fb.create("taxes/taxes", "tax", {"name": "Temp", "amount": "1"})
    assert fb.send("DELETE", f"taxes/taxes/{tax['id']}").status_code == 200
    assert fb.get(f"taxes/taxes/{tax['id']}").status_code == 404


def test_status_fields_stay_consistent_through_the_lifecycle(fb: FbHarness) -> None:
    invoice = fb.invoice("100.00", "L-1", due_offset_days=30)
    path = f"invoices/invoices/{invoice['id']}"
    assert statuses(invoice) == (1, "draft", "unpaid", "draft")
    sent = fb.update(path, "invoice", {"action_mark_as_sent": True})
    assert statuses(sent) == (2, "sent", "unpaid", "sent")
    link = fb.result(fb.get(f"{path}/share_link", params={"share_method": "share_link"}))["share_link"]["share_link"]
    token = link.split("#/link/")[1].split("?")[0]
    assert fb.http.get(f"/view/link/{token}").status_code == 200
    viewed = fb.result(fb.get(path))["invoice"]
    assert statuses(viewed) == (3, "viewed", "unpaid", "viewed")
    payment = fb.pay(invoice["id"], "40.00")
    partial = fb.result(fb.get(path))["invoice"]
    assert statuses(partial) == (3, "partial", "partial", "viewed")
    assert (partial["paid"]["amount"], partial["outstanding"]["amount"]) == ("40.00", "60.00")
    fb.pay(invoice["id"], "60.00", date="2026-03-05")
    paid = fb.result(fb.get(path))["invoice"]
    assert statuses(paid) == (4, "paid", "paid", "viewed") and paid["date_paid"] == "2026-03-05"
    fb.update(f"payments/payments/{payment['id']}", "payment", {"vis_state": 1})
    reopened = fb.result(fb.get(path))["invoice"]
    assert statuses(reopened) == (3, "partial", "partial", "viewed") and reopened["date_paid"] is None
    fb.advance(40 * 86400)
    fb.update(f"payments/payments/{payment['id']}", "payment", {"vis_state": 0})
    fb.update(path, "invoice", {"lines": [{"name": "More", "qty": "1", "unit_cost": {"amount": "150", "code": "USD"}}]})
    overdue = fb.result(fb.get(path))["invoice"]
    assert statuses(overdue) == (3, "partial", "partial", "viewed")
    assert overdue["outstanding"]["amount"] == "50.00"


def test_overdue_and_overpayment(fb: FbHarness) -> None:
    invoice = fb.invoice("10.00", "O-1")
    fb.update(f"invoices/invoices/{invoice['id']}", "invoice", {"action_mark_as_sent": True})
    fb.advance(2 * 86400)
    assert fb.result(fb.get(f"invoices/invoices/{invoice['id']}"))["invoice"]["v3_status"] == "overdue"
    too_much = fb.send("POST", "payments/payments", {"payment": {
        "invoiceid": invoice["id"], "amount": {"amount": "10.01", "code": "USD"}, "date": "2026-03-02"}})
    assert too_much.status_code == 422


def test_invoice_numbers_increment_and_collide_under_concurrency(fb_factory) -> None:  # type: ignore[no-untyped-def]
    fb = fb_factory(config=SandboxConfig(auto_number_race_window=0.3))
    first = fb.invoice(number=None)
    second = fb.invoice(number=None)
    assert (first["invoice_number"], second["invoice_number"]) == ("INV-00001", "INV-00002")
    body = {"invoice": {"customerid": fb.client_id(), "create_date": "2026-03-02"}}

    async def create_two() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=fb.base_url, headers=dict(fb.http.headers), timeout=10) as client:
            url = fb.path("invoices/invoices")
            return list(await asyncio.gather(client.post(url, json=body), client.post(url, json=body)))

    responses = asyncio.run(create_two())
    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409).json()["response"]["errors"][0]
    assert conflict["field"] == "invoice_number"
    explicit = fb.send("POST", "invoices/invoices", {"invoice": {**body["invoice"], "invoice_number": "INV-00001"}})
    assert explicit.status_code == 409


def test_paging_caps_and_edges(fb: FbHarness) -> None:
    for n in range(105):
        fb.sandbox.service.create(fb.account, "items", {"name": f"Bulk {n}"}, None)
    total = 105 + 3
    capped = fb.listing("items/items", per_page="500")
    assert (capped["per_page"], len(capped["items"]), capped["total"], capped["pages"]) == (100, 100, total, 2)
    assert fb.listing("items/items", page="0", per_page="10")["page"] == 1
    last = fb.listing("items/items", page="2", per_page="100")
    assert len(last["items"]) == total - 100
    assert fb.listing("items/items", page="9", per_page="100")["items"] == []
    bad = fb.get("items/items", params={"page": "two"})
    assert bad.status_code == 400 and "errors" in bad.json()["response"]
    default = fb.listing("items/items")
    assert default["per_page"] == 15 and len(default["items"]) == 15


def test_search_filters(fb: FbHarness) -> None:
    one, two = fb.invoice(number="S-1"), fb.invoice(number="S-2")
    assert [i["id"] for i in fb.listing("invoices/invoices", **{"search[invoice_number]": "S-2"})["invoices"]] == [
        two["id"]]
    both = fb.result(fb.get("invoices/invoices", params=[("search[invoice_numbers][]", "S-1"),
                                                         ("search[invoice_numbers][]", "S-2")]))["invoices"]
    assert {i["id"] for i in both} == {one["id"], two["id"]}
    like = fb.listing("users/clients", **{"search[organization_like]": "bird"})["clients"]
    assert [c["organization"] for c in like] == ["Amy's Bird Sanctuary"]
    assert fb.get("invoices/invoices", params={"search[no_such_field]": "x"}).status_code == 400


def test_updated_filters_have_day_granularity_and_since_is_a_moment(fb: FbHarness) -> None:
    early = fb.invoice(number="U-1")  # 2026-03-02 10:00 Eastern
    fb.sandbox.advance(6 * 3600)
    late = fb.invoice(number="U-2")  # 16:00 the same day
    fb.advance(12 * 3600)
    next_day = fb.invoice(number="U-3")  # 04:00 on 2026-03-03
    assert next_day["updated"].startswith("2026-03-03 04:00")

    def ids(**params: str) -> set[int]:
        return {i["id"] for i in fb.listing("invoices/invoices", **params)["invoices"]}

    same_day = {"search[updated_min]": "2026-03-02", "search[updated_max]": "2026-03-02"}
    assert ids(**same_day) == {early["id"], late["id"]}
    assert ids(**{"search[updated_min]": "2026-03-02 15:00:00"}) == {early["id"], late["id"], next_day["id"]}
    assert ids(**{"search[updated_min]": "2026-03-03"}) == {next_day["id"]}
    assert ids(**{"search[updated_since]": "2026-03-02 15:00:00"}) == {late["id"], next_day["id"]}
    assert ids(**{"search[updated_since]": "2026-03-02T20:00:00Z"}) == {late["id"], next_day["id"]}
    assert ids(**{"search[updated_since]": "2026-03-02T21:00:01Z"}) == {next_day["id"]}


def test_every_error_format(fb_factory) -> None:  # type: ignore[no-untyped-def]
    classic = fb_factory(config=SandboxConfig(error_format="classic"))
    body = classic.get("users/clients/1").json()
    assert body["response"]["errors"][0]["errno"] == 1012
    current = fb_factory()  # today's API: a missing record in the google.rpc form, validation still classic
    body = current.get("users/clients/1").json()
    assert body["code"] == 5 and body["details"][0]["reason"] == "1012"
    assert body["details"][0]["metadata"]["object"] == "client"
    assert body["details"][0]["metadata"]["message"] == "Client not found."
    missing = current.send("POST", "invoices/invoices", {"invoice": {"create_date": "2026-03-02"}})
    assert missing.status_code == 422 and missing.json()["response"]["errors"][0]["field"] == "customerid"
    rpc = fb_factory(config=SandboxConfig(error_format="rpc"))
    body = rpc.get("users/clients/1").json()
    assert body["code"] == 5 and body["details"][0]["reason"] == "1012"
    assert body["details"][0]["metadata"]["object"] == "client"
    missing = rpc.send("POST", "invoices/invoices", {"invoice": {"create_date": "2026-03-02"}})
    assert missing.status_code == 422 and missing.json()["details"][0]["metadata"]["field"] == "customerid"
