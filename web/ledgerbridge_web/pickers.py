"""Search-as-you-type pickers for a form's customer and item fields, and the routes that answer them.

Why: at 100,000 invoices a workspace holds thousands of active customers and items. Putting every one
into a drop-down made the invoice and time forms read and render 6,500 rows (p95 160-170 ms on
PostgreSQL), on every line row. A picker renders only what the form holds; the person types and the
option route answers at most `CHOICES_LIMIT` matches from the customers and items services.

Without JavaScript the field stays a plain `<select>` of the same name holding the chosen record and the
first `SHORT_LIST` active ones by name (every one, in a small workspace), with a hint when more exist.
`static/picker.js` turns each `<select data-picker>` into a combobox (a text field, a listbox fed by
htmx from the option route, and a hidden field of the select's name), so the posted form and the
services that read it are the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledgerbridge.domain.customers import services as customers_services
from ledgerbridge.domain.customers.schemas import CustomerChoice
from ledgerbridge.domain.items import services as items_services
from ledgerbridge.domain.items.schemas import ItemChoice
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, needs
from litestar import get
from litestar.response import Template
from markupsafe import Markup

from ledgerbridge_web.common import AnyRequest, fragment, person
from ledgerbridge_web.option_lists import option_list

#: Records listed in the field when JavaScript is off (besides the chosen ones).
SHORT_LIST = 20
CUSTOMER_OPTIONS = "/customers/options"
ITEM_OPTIONS = "/items/options"
_LISTBOX_ID = re.compile(r"^[A-Za-z][\w-]{0,79}$")


@dataclass(frozen=True)
class Picker:
    """One picker's markup for a form: its option route and the `<option>`s rendered without JavaScript.

    `options` holds the short list and every record the form has chosen, so each field marks its own
    with `option_lists.choosing`; `complete` says the short list is every active record.
    """

    source: str
    options: Markup
    complete: bool
    noun: str
    short: int = SHORT_LIST


def _ids(values: Iterable[str]) -> list[int]:
    return [int(value) for value in values if str(value).isdigit()]


def item_label(choice: ItemChoice) -> str:
    """How an item reads in the field and the list: its name and the price a line takes from it."""
    return f"{choice.name} ({choice.unit_price:.2f})"


def _merged(short: list[Any], chosen: list[Any]) -> list[Any]:
    """The short list, then the chosen records it lacks, each once."""
    seen = {choice.id for choice in short}
    return short + sorted((choice for choice in chosen if choice.id not in seen), key=lambda c: (c.name, c.id))


async def _picker(me: Caller, chosen: Iterable[str], services: Any, label: Any, source: str, noun: str) -> Picker:
    """Two small queries, whatever the number of records: the first `SHORT_LIST` by name (one more, to
    tell whether that is all of them) and the records the form holds."""
    short = await services.choices(me, limit=SHORT_LIST + 1)
    held = await services.chosen(me, _ids(chosen))
    merged = _merged(short[:SHORT_LIST], held)
    return Picker(source, option_list((str(c.id), label(c)) for c in merged), len(short) <= SHORT_LIST, noun)


async def customer_picker(me: Caller, chosen: Iterable[str]) -> Picker:
    """The customer field's picker."""
    return await _picker(me, chosen, customers_services, lambda c: c.name, CUSTOMER_OPTIONS, "customer")


async def item_picker(me: Caller, chosen: Iterable[str]) -> Picker:
    """The item fields' picker, shared by every line row."""
    return await _picker(me, chosen, items_services, item_label, ITEM_OPTIONS, "item")


def _listbox(request: AnyRequest) -> str:
    """The listbox the answer fills, whose id prefixes each option's (aria-activedescendant needs unique ids)."""
    wanted = str(request.query_params.get("list") or "")
    return wanted if _LISTBOX_ID.match(wanted) else "picker"


def _query(request: AnyRequest) -> str:
    return str(request.query_params.get("q") or "")[:200]


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    detail: str


def _answer(request: AnyRequest, options: list[Option], noun: str) -> Template:
    return fragment("_picker_options.html", options=options, listbox=_listbox(request), q=_query(request).strip(),
                    noun=noun)


@get(CUSTOMER_OPTIONS, opt=needs(Permission.records_write))
async def customer_options(request: AnyRequest) -> Template:
    """Active customers whose name, company or email holds what was typed, as listbox options.

    Behind the same permission as the forms it serves; the customers service says which match.
    """
    found: list[CustomerChoice] = await customers_services.choices(person(request), q=_query(request))
    return _answer(request, [Option(str(c.id), c.name, c.email) for c in found], "customer")


@get(ITEM_OPTIONS, opt=needs(Permission.records_write))
async def item_options(request: AnyRequest) -> Template:
    """Active items whose name or description holds what was typed, as listbox options."""
    found: list[ItemChoice] = await items_services.choices(person(request), q=_query(request))
    return _answer(request, [Option(str(c.id), item_label(c), "") for c in found], "item")


HANDLERS = [customer_options, item_options]
