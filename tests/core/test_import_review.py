"""The import review: it predicts what the importer does, writes nothing, and "Import selected"
imports only what was chosen, with the kind a person picked."""

from __future__ import annotations

from ledgerbridge.sync.importing import suggest_kind
from ledgerbridge.sync.review import review_customers
from ledgerbridge.tables import Customer, ExternalLink, RunKind, RunState, SyncIssue, utcnow

from tests.core.test_sync import no_broker, run  # noqa: F401  (no_broker is an autouse fixture)


async def _local(connection, name: str, email: str = "") -> Customer:
    customer = Customer(workspace=connection.workspace, name=name, email=email, created_at=utcnow(),
                        updated_at=utcnow())
    await customer.save()
    return customer


async def test_the_review_predicts_link_create_and_ambiguity_and_writes_nothing(connection, acme):
    ada = await _local(connection, "Ada Lovelace", "ada@example.com")
    await _local(connection, "Twin Co")
    await _local(connection, "Twin Co")
    acme.seed("customer", {"name": "Ada L.", "email": "ADA@example.com"})
    acme.seed("customer", {"name": "Twin Co"})
    acme.seed("customer", {"name": "Grace Hopper", "email": "grace@gmail.com"})
    acme.seed("customer", {"name": "Initech LLC", "email": "billing@initech.example"})
    review = await review_customers(connection.id)
    by_name = {c.remote.name: c for c in review.candidates}
    assert by_name["Ada L."].action == "link" and by_name["Ada L."].local_ids == (ada.id,)
    assert by_name["Twin Co"].action == "ambiguous" and len(by_name["Twin Co"].local_ids) == 2
    assert by_name["Grace Hopper"].action == "create" and by_name["Grace Hopper"].suggested_kind == "individual"
    assert by_name["Initech LLC"].suggested_kind == "business"
    assert not review.truncated
    assert await ExternalLink.count() == 0 and await Customer.count() == 3  # nothing written


async def test_the_import_does_what_the_review_said_and_raises_the_ambiguity(connection, acme):
    await _local(connection, "Twin Co")
    await _local(connection, "Twin Co")
    acme.seed("customer", {"name": "Twin Co"})
    result = await run(RunKind.import_customers, connection)
    assert result.state == RunState.done and result.failed == 1
    issue = await SyncIssue.objects().where(SyncIssue.code == "ambiguous_match").first()
    assert "matches 2 customers" in issue.message and issue.fix
    assert await Customer.count() == 2  # no third Twin Co


async def test_import_selected_takes_only_the_chosen_with_the_chosen_kind(connection, acme):
    grace = acme.seed("customer", {"name": "Grace Hopper", "email": "grace@gmail.com"})
    acme.seed("customer", {"name": "Alan Turing"})
    result = await run(RunKind.import_customers, connection, remote_ids=[grace], kinds={grace: "business"})
    assert result.state == RunState.done, result.error
    rows = await Customer.select(Customer.name, Customer.kind)
    assert rows == [{"name": "Grace Hopper", "kind": "business"}]
    # The partial import did not move the change cursor: a later import still sees Alan.
    await run(RunKind.import_customers, connection)
    assert {r["name"] for r in await Customer.select(Customer.name)} == {"Grace Hopper", "Alan Turing"}


def test_kind_suggestions_read_names_and_email_domains() -> None:
    assert suggest_kind("Jane Doe", email="jane@gmail.com") == "individual"
    assert suggest_kind("Jane Doe", email="jane@acme-industries.example") == "business"
    assert suggest_kind("Smith & Sons") == "business"
    assert suggest_kind("Jane Doe", company="Doe Consulting") == "business"
