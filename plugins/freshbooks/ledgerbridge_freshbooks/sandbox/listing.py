"""Paging and ``search[...]`` filters of FreshBooks list endpoints (FACTS.md "FreshBooks 4").

* ``page`` is 1-based, 0 counts as 1, a non-integer is an error, a page past the end is empty;
  ``per_page`` is silently capped (100 by default).
* ``search[f]=v`` equals, ``search[fs][]=v`` in, ``search[f_like]=x`` contains, ``search[f_min]`` /
  ``search[f_max]`` between. On ``updated`` the bounds are calendar days (``YYYY-MM-DD``, US/Eastern):
  ``updated_min=2026-03-02`` includes everything changed that day, whatever the time.
* ``search[updated_since]`` (what large integrators send) is a moment: zone-less values are read as
  US/Eastern like every accounting timestamp, ISO values with an offset are converted.
* Soft-deleted records (``vis_state`` 1) are hidden unless ``search[vis_state]`` asks for them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledgerbridge_freshbooks.sandbox.errors import FbError, invalid
from ledgerbridge_freshbooks.sandbox.store import EASTERN, eastern_date

SEARCH_KEY = re.compile(r"^search\[([A-Za-z0-9_]+)\](\[\])?$")


@dataclass(frozen=True)
class Page:
    """Which slice of a result to return."""

    page: int
    per_page: int


def parse_page(params: Mapping[str, str], default_per_page: int, max_per_page: int) -> Page:
    """``page``/``per_page`` with FreshBooks' forgiving rules and its one strict one."""
    values = {}
    for key, default in (("page", 1), ("per_page", default_per_page)):
        raw = params.get(key)
        if raw is None or raw == "":
            values[key] = default
            continue
        try:
            values[key] = int(raw)
        except ValueError as exc:
            raise FbError(400, 1001, f"Invalid value for {key}: must be an integer.", "", key, raw) from exc
    per_page = min(max(values["per_page"], 1), max_per_page)
    return Page(page=max(values["page"], 1), per_page=per_page)


def paginate(rows: Sequence[Any], page: Page) -> tuple[list[Any], dict[str, int]]:
    """The requested slice and the ``page``/``pages``/``per_page``/``total`` fields."""
    total = len(rows)
    start = (page.page - 1) * page.per_page
    meta = {"page": page.page, "pages": max(math.ceil(total / page.per_page), 1), "per_page": page.per_page,
            "total": total}
    return list(rows[start:start + page.per_page]), meta


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise invalid("search", field, f"{field} must be a date in YYYY-MM-DD format.", value) from exc


def _moment(value: str, field: str) -> datetime:
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid("search", field, f"{field} must be a date-time.", value) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=EASTERN)


def _text(value: Any) -> str:
    if isinstance(value, dict) and "amount" in value:
        return str(value["amount"])
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Filter:
    """One parsed search condition."""

    field: str
    op: str  # eq | in | like | min | max | since
    value: Any


def parse_filters(query: Sequence[tuple[str, str]], fields: set[str] | None) -> list[Filter]:
    """Parse ``search[...]`` parameters; unknown fields are a 400 (the stricter reading). ``fields`` None:
    the field set is unknown (an empty table), so every field is accepted."""
    known: Any = fields if fields is not None else _Everything()
    filters: list[Filter] = []
    grouped: dict[str, list[str]] = {}
    for key, value in query:
        match = SEARCH_KEY.match(key)
        if not match:
            continue
        name, is_list = match.group(1), bool(match.group(2))
        if is_list:
            grouped.setdefault(name, []).append(value)
            continue
        if name == "updated_since":
            filters.append(Filter("updated", "since", _moment(value, name)))
        elif name in ("updated_min", "updated_max"):
            filters.append(Filter("updated", name[-3:], _day(value, name)))
        elif name.endswith("_like") and name[:-5] in known:
            filters.append(Filter(name[:-5], "like", value.lower()))
        elif name in known:
            filters.append(Filter(name, "eq", value))
        elif name.endswith(("_min", "_max")) and name[:-4] in known:
            filters.append(Filter(name[:-4], name[-3:], value))
        else:
            raise FbError(400, 1001, f"Unknown search filter: {name}.", "search", name, value)
    for name, values in grouped.items():
        singular = name[:-1] if name.endswith("s") else name
        if singular not in known:
            raise FbError(400, 1001, f"Unknown search filter: {name}.", "search", name, ",".join(values))
        filters.append(Filter(singular, "in", set(values)))
    return filters


class _Everything:
    """A field set that contains every name."""

    def __contains__(self, name: object) -> bool:
        return True


def matches(rendered: Mapping[str, Any], updated: datetime, filters: Sequence[Filter]) -> bool:
    """Whether one record passes every filter."""
    for f in filters:
        if f.field == "updated":
            if f.op == "since" and updated < f.value:
                return False
            if f.op == "min" and eastern_date(updated) < f.value:
                return False
            if f.op == "max" and eastern_date(updated) > f.value:
                return False
            continue
        text = _text(rendered.get(f.field))
        if f.op == "eq" and text != f.value:
            return False
        if f.op == "in" and text not in f.value:
            return False
        if f.op == "like" and f.value not in text.lower():
            return False
        if f.op in ("min", "max"):
            try:
                left, right = float(text), float(f.value)
            except ValueError:
                left, right = text, f.value  # type: ignore[assignment]
            if (f.op == "min" and left < right) or (f.op == "max" and left > right):
                return False
    return True


def wants_deleted(filters: Sequence[Filter]) -> bool:
    """Deleted records appear only when a vis_state filter names them."""
    for f in filters:
        if f.field == "vis_state" and (f.value == "1" if f.op == "eq" else "1" in f.value if f.op == "in" else False):
            return True
    return False
