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
