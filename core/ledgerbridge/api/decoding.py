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

The request then gets exactly the types the published OpenAPI schema declares. Litestar converts
parameters and bodies leniently (`"1"` and `1` become `True`, `"0.5"` a timestamp, `"5"` an
integer), which the schema does not promise and a client cannot rely on; a body is converted
strictly first (`check_body_types`) and each query value must be written as its declared type is
(`check_query_types`), so anything else is a 400 naming the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, DecimalException
from enum import Enum
from functools import cache
from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.params import ParameterKwarg
from litestar.types import Empty
from litestar.typing import FieldDefinition

from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.schemas import MONEY_PATTERN, MoneyIn

_decoder = msgspec.json.Decoder(float_hook=Decimal)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 32
# A money string as people write it: digits, one optional point, optional exponent; no separators
# and no spaces, exactly as the OpenAPI schema's `pattern` says.
MONEY_TEXT = re.compile(MONEY_PATTERN)


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
    parameter, not a database overflow; query values must be written as their declared type."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and _int_out_of_range(value):
            raise Invalid(name, "is too large (integers must fit in 64 bits)")
    for name, value in request.query_params.multi_items():
        digits = value.strip().lstrip("+-")
        if digits.isdigit() and (len(digits) > 19 or _int_out_of_range(int(digits))):
            raise Invalid(name, "is too large (integers must fit in 64 bits)")
        if "\x00" in value:
            raise Invalid(name, "must not contain NUL characters")
        if "\x00" in name:
            raise Invalid("query", "parameter names must not contain NUL characters")
    check_query_types(request)


# How each query type must be written: what the OpenAPI schema's `boolean`, `integer`, `date` and
# `date-time` mean in a URL, and nothing looser.
_BOOLEAN_TEXT = ("true", "false")
_INTEGER_TEXT = re.compile(r"^-?\d+$")
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$")


def _declared_types(field: FieldDefinition) -> set[type]:
    """The types a parameter may hold, `Optional` and unions unwrapped."""
    return {arm for arm in (field.annotation, *get_args(field.annotation)) if isinstance(arm, type)}


def _query_type_problem(types: set[type], value: str) -> str | None:
    """Why `value` is not written as one of `types`, or None when it is (or the type is text)."""
    if str in types or any(issubclass(kind, Enum) for kind in types):
        return None
    if bool in types:
        return None if value in _BOOLEAN_TEXT else "must be true or false"
    if int in types:
        return None if _INTEGER_TEXT.match(value) else "must be a whole number"
    if datetime in types:
        return None if _DATETIME_TEXT.match(value) else "must be an ISO 8601 date-time such as 2026-12-05T09:30:00Z"
    if date in types:
        return None if _DATE_TEXT.match(value) else "must be a date such as 2026-12-05"
    return None


def check_query_types(request: Request[Any, Any, Any]) -> None:
    """Refuse a query value not written as the handler declares it (`?active=1`, `?until=0.5`)."""
    handler = request.scope.get("route_handler")
    if handler is None or not request.query_params:
        return
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if not isinstance(kwarg, ParameterKwarg) or kwarg.header or kwarg.cookie:
            continue
        key = kwarg.query or name
        types = _declared_types(field)
        for value in request.query_params.getall(key, []):
            if (problem := _query_type_problem(types, value)) is not None:
                raise Invalid(key, problem)


_STRICT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def check_body_types(value: Any, request: Request[Any, Any, Any]) -> None:
    """Convert the decoded body to the handler's declared type strictly, as the schema promises:
    `0` is not a boolean, `"5"` not an integer. Litestar converts it again, leniently, afterwards;
    after this check the two agree."""
    handler = request.scope.get("route_handler")
    field = handler.parsed_fn_signature.parameters.get("data") if handler is not None else None
    if field is None:
        return
    try:
        msgspec.convert(value, field.annotation, strict=True, str_keys=True)
    except msgspec.ValidationError as exc:
        found = _STRICT_PATH.match(str(exc))
        where = (found.group("path") or "").lstrip(".") if found else ""
        message = found.group("message") if found else str(exc)
        raise Invalid(where or "body", message.replace("Expected", "expected", 1)) from None


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
            check_body_types(decoded, self)
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
