"""`row_objects` builds Piccolo table objects by filling their `__dict__`, past Piccolo's constructor.

That leans on how Piccolo keeps an object's values, which a Piccolo release may change: these tests
compare the objects with what Piccolo itself makes, and use them the way the export does (read,
`save()` as an update, `save()` as an insert), so such a change fails here and not in a run.
"""

from __future__ import annotations

from ledgerbridge.row_objects import loaded, unsaved
from ledgerbridge.tables import Customer, utcnow


def _values(row: Customer) -> dict[str, object]:
    return {column._meta.name: getattr(row, column._meta.name) for column in Customer._meta.columns}


async def test_loaded_objects_are_what_objects_gives_and_save_as_updates(workspace):
    for name in ("Ada", "Grace"):
        await Customer(workspace=workspace, name=name, email=f"{name}@example.com", created_at=utcnow(),
                       updated_at=utcnow()).save()
    where = Customer.workspace == workspace
    ours = loaded(Customer, await Customer.select().where(where).order_by(Customer.id))
    piccolos = await Customer.objects().where(where).order_by(Customer.id)
    assert [_values(row) for row in ours] == [_values(row) for row in piccolos]
    assert all(row._exists_in_db for row in ours)

    ours[0].name = "Ada Lovelace"
    await ours[0].save()
    assert await Customer.count().where(where) == 2
    assert (await Customer.select(Customer.name).where(Customer.id == ours[0].id).first())["name"] == "Ada Lovelace"


async def test_unsaved_objects_take_the_defaults_piccolo_gives_and_save_as_inserts(workspace):
    given = {"workspace": workspace, "name": "Ada", "email": "ada@example.com", "created_at": utcnow(),
             "updated_at": utcnow()}
    ours, = unsaved(Customer, [given])
    piccolos = Customer(**given)
    assert {k: v for k, v in _values(ours).items() if k != "id"} == {
        k: v for k, v in _values(piccolos).items() if k != "id"}
    assert not ours._exists_in_db

    await ours.save()
    assert ours.id is not None
    assert await Customer.count().where(Customer.workspace == workspace) == 1


async def test_fetched_objects_are_what_objects_gives_on_both_engines(any_database):
    """`fetched` reads raw SQL: every column under its Python name (`RateWindow.calls` is stored as
    `count`), with the same Python types Piccolo's own select gives (dates, JSON text, nulls, enums)."""
    from ledgerbridge.db import write_transaction
    from ledgerbridge.row_objects import fetched
    from ledgerbridge.tables import Connection, ExternalLink, LinkState, RateWindow, Workspace

    ws = Workspace(name="W", slug="w")
    await ws.save()
    conn = Connection(workspace=ws.id, provider="acme", created_at=utcnow(), updated_at=utcnow())
    await conn.save()
    await ExternalLink(workspace=ws.id, connection=conn.id, record_type="customer", record_id=7, remote_id="C-7",
                       state=LinkState.synced, remote_data={"total": "1.10"}, created_at=utcnow(),
                       updated_at=utcnow()).save()
    await ExternalLink(workspace=ws.id, connection=conn.id, record_type="customer", record_id=8, remote_id=None,
                       created_at=utcnow(), updated_at=utcnow()).save()
    await RateWindow(key="acme:t:c:1", window_start=5, calls=3).save()

    def values(row, table) -> dict[str, object]:
        return {column._meta.name: getattr(row, column._meta.name) for column in table._meta.columns}

    async with write_transaction():
        links = await fetched(ExternalLink, '"connection" = ? AND record_type = ? ORDER BY record_id', conn.id,
                              "customer")
        windows = await fetched(RateWindow, '"key" = ?', "acme:t:c:1")
    piccolos = await ExternalLink.objects().where(ExternalLink.connection == conn.id).order_by(ExternalLink.record_id)
    assert [values(row, ExternalLink) for row in links] == [values(row, ExternalLink) for row in piccolos]
    assert [row.calls for row in windows] == [3]
    links[1].remote_id = "C-8"
    await links[1].save()
    assert (await ExternalLink.select(ExternalLink.remote_id).where(ExternalLink.record_id == 8).first()
            )["remote_id"] == "C-8"
