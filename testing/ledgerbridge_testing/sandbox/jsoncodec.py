"""JSON with exact decimals.

Provider APIs send money as JSON numbers (``"TotalAmt": 100.10``). Parsing those as floats silently
changes amounts (0.1 + 0.2 != 0.3), so sandboxes parse every non-integer number as
:class:`decimal.Decimal` and write Decimals back as plain JSON numbers, never as strings or floats.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")


class JSONBodyError(ValueError):
    """The request body is not valid JSON (sandboxes map this to their provider's parse error)."""


def loads(data: bytes | str) -> Any:
    """Parse JSON; non-integer numbers become Decimal, NaN/Infinity are rejected."""

    def reject_constant(name: str) -> Any:
        raise JSONBodyError(f"{name} is not a valid JSON number")

    try:
        return json.loads(data, parse_float=Decimal, parse_constant=reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JSONBodyError(str(exc)) from exc


def dumps(value: Any) -> bytes:
    """Serialise to compact JSON bytes; Decimals are written as numbers with their exact digits."""
    return _ENCODER.encode(value)
