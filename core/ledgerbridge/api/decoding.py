"""Reading request bodies so money never passes through a float, and hostile input ends as a 400.

Litestar decodes a JSON body to plain Python first and converts it to the handler's Struct after,
so a JSON number would be a float by the time it reached a `Decimal` field (12345678.123456789
would arrive rounded). The API's request class decodes JSON numbers straight to `Decimal` instead;
the Struct conversion then takes them as they are. Integers stay integers.

Between decoding and conversion the body is checked once for what the database or Python would
otherwise fail on with a 500: integers beyond 64 bits (ids, offsets), NUL characters (PostgreSQL
refuses them in text), money written with `_` separators (Python's `Decimal` reads "1_000", a
person did not mean it), bodies that are not UTF-8 and JSON nested beyond any real request. Path
and query integers get the same range check before the handler runs (`refuse_out_of_range`).
"""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException
from functools import cache
from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.types import Empty

from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.schemas import MoneyIn

_decoder = msgspec.json.Decoder(float_hook=Decimal)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 32
# A money string as people write it: digits, one optional point, optional exponent; no separators.
MONEY_TEXT = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def _int_out_of_range(value: int) -> bool:
    return not -INT64_MAX - 1 <= value <= INT64_MAX


@cache
def money_field_names() -> frozenset[str]:
    """Every request field typed `MoneyIn`, found from the API's Structs rather than listed by hand,
    so a new money field is checked without anyone remembering to add it. Cached at the first
    request, when every domain's Structs are imported."""
    names: set[str] = set()
    pending: list[type] = [msgspec.Struct]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is msgspec.Struct:
            continue
        for name, annotation in getattr(cls, "__annotations__", {}).items():
            text = annotation if isinstance(annotation, str) else repr(annotation)
            if "MoneyIn" in text or annotation is MoneyIn or MoneyIn in get_args(annotation):
                names.add(name)
    return frozenset(names)


def check_body(value: Any) -> None:
    """Refuse what no handler can store, naming the field by its path (`lines[0].item_id`)."""
    money = money_field_names()
    pending: list[tuple[str, Any, int]] = [("", value, 0)]
    while pending:
        where, item, depth = pending.pop()
        field = where or "body"
        if depth > MAX_DEPTH:
            raise Invalid("body", f"nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and _int_out_of_range(item):
            raise Invalid(field, "is too large (integers must fit in 64 bits)")
        if isinstance(item, str):
            if "\x00" in item:
                raise Invalid(field, "must not contain NUL characters")
            if where.rsplit(".", 1)[-1] in money and not MONEY_TEXT.match(item):
                raise Invalid(field, "must be a decimal number such as 1000.00, without separators")
        elif isinstance(item, Decimal) and where.rsplit(".", 1)[-1] in money:
            _check_exponent(item, field)
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise Invalid("body", "field names must not contain NUL characters")
                pending.append((f"{where}.{key}" if where else key, child, depth + 1))
        elif isinstance(item, list):
            pending.extend((f"{where}[{n}]", child, depth + 1) for n, child in enumerate(item))


def _check_exponent(value: Decimal, field: str) -> None:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and abs(exponent) > 100:
        raise Invalid(field, "is too large or has too many decimal places")


async def refuse_out_of_range(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: path and query integers beyond 64 bits are a 400 naming the
    parameter, not a database overflow."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and _int_out_of_range(value):
            raise Invalid(name, "is too large (integers must fit in 64 bits)")
    for name, value in request.query_params.multi_items():
        digits = value.strip().lstrip("+-")
        if digits.isdigit() and (len(digits) > 19 or _int_out_of_range(int(digits))):
            raise Invalid(name, "is too large (integers must fit in 64 bits)")
        if "\x00" in value:
            raise Invalid(name, "must not contain NUL characters")


class DecimalJSONRequest(Request[Any, Any, Any]):
    """A request whose JSON numbers with a fraction or exponent decode to `Decimal`."""

    async def json(self) -> Any:
        if self._json is Empty:
            body = await self.body()
            try:
                decoded = _decoder.decode(body or b"null")
            except UnicodeDecodeError:
                raise Invalid("body", "is not UTF-8 text") from None
            except RecursionError:
                raise Invalid("body", f"nests deeper than {MAX_DEPTH} levels") from None
            except msgspec.DecodeError as exc:
                raise Invalid("body", f"is not valid JSON: {exc}") from None
            check_body(decoded)
            self._json = decoded
        return self._json


def check_amount(value: Decimal, field: str, *, places: int, min_value: Decimal | None = None) -> Decimal:
    """Refuse amounts the database would have to round or cannot hold, naming the field.

    Rounding silently would change what the host app sent; refusing lets it decide.
    """
    if not value.is_finite():
        raise Invalid(field, "must be a finite number")
    _check_exponent(value, field)
    try:
        exponent = value.normalize().as_tuple().exponent
    except DecimalException:
        raise Invalid(field, "is too large") from None
    if isinstance(exponent, int) and -exponent > places:
        raise Invalid(field, f"has more than {places} decimal places")
    if abs(value) >= Decimal(10) ** 14:
        raise Invalid(field, "is too large")
    if min_value is not None and value < min_value:
        raise Invalid(field, f"must be at least {min_value}")
    return value
