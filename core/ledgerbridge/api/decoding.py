"""Reading request bodies so money never passes through a float.

Litestar decodes a JSON body to plain Python first and converts it to the handler's Struct after,
so a JSON number would be a float by the time it reached a `Decimal` field (12345678.123456789
would arrive rounded). The API's request class decodes JSON numbers straight to `Decimal` instead;
the Struct conversion then takes them as they are. Integers stay integers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException
from litestar.types import Empty

from ledgerbridge.api.errors import Invalid

_decoder = msgspec.json.Decoder(float_hook=Decimal)


class DecimalJSONRequest(Request[Any, Any, Any]):
    """A request whose JSON numbers with a fraction or exponent decode to `Decimal`."""

    async def json(self) -> Any:
        if self._json is Empty:
            body = await self.body()
            try:
                self._json = _decoder.decode(body or b"null")
            except msgspec.DecodeError as exc:
                raise ClientException(f"The request body is not valid JSON: {exc}") from exc
        return self._json


def check_amount(value: Decimal, field: str, *, places: int, min_value: Decimal | None = None) -> Decimal:
    """Refuse amounts the database would have to round or cannot hold, naming the field.

    Rounding silently would change what the host app sent; refusing lets it decide.
    """
    if not value.is_finite():
        raise Invalid(field, "must be a finite number")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise Invalid(field, f"has more than {places} decimal places")
    if abs(value) >= Decimal(10) ** 14:
        raise Invalid(field, "is too large")
    if min_value is not None and value < min_value:
        raise Invalid(field, f"must be at least {min_value}")
    return value
