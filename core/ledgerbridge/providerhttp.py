"""What a provider's HTTP failures mean when no provider-specific body explains them.

Every provider plugin talks to its API over httpx and must turn a request that got no usable answer
into a `ledgerbridge.errors` type the core can act on. That judgement is the same for every provider:
a request that never left is harmless to retry, a write that left but got no answer (or an unreadable
one) may have landed and must be checked before it is sent again, and a missing or garbled
``Retry-After`` means "wait a while". Keeping it in one place keeps the three plugins' retry behaviour
identical; each plugin still reads its own provider's error bodies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import msgspec

from ledgerbridge.errors import ProviderError, ProviderUnavailable, UncertainWrite

#: Waiting this long is safe when a provider throttles without saying for how long.
DEFAULT_RETRY_AFTER = 60.0

#: Failures that happen before any byte of the request reached the provider.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_JSON = msgspec.json.Decoder(float_hook=Decimal)


def read_json(data: bytes | str) -> Any:
    """A provider's JSON answer with exact decimals (amounts never pass through float).

    msgspec's decoder reads a page of a thousand records several times faster than `json.loads`
    with `parse_float=Decimal`, which calls back into Python for every number. Whatever it refuses
    is handed to `json.loads`, so the two accept the same documents and a bad one still raises
    `ValueError`.
    """
    try:
        return _JSON.decode(data)
    except msgspec.DecodeError:
        return json.loads(data, parse_float=Decimal)


def possessive(name: str) -> str:
    """``QuickBooks'``, ``Xero's``: the messages below speak of the provider's own answer."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def transport_error(provider: str, exc: httpx.HTTPError, *, write: bool) -> ProviderError:
    """A request that got no answer: harmless before sending, uncertain once a write may have landed."""
    if isinstance(exc, NOT_SENT):
        return ProviderUnavailable(f"{provider} could not be reached.")
    if write:
        return UncertainWrite(f"{provider} did not answer after we sent the change, so it may or may not be saved.")
    return ProviderUnavailable(f"{provider} did not answer in time.")


def unreadable_answer(provider: str, *, write: bool) -> ProviderError:
    """A 200 whose body is not JSON: for a write we cannot tell what was saved, so it is uncertain."""
    if write:
        return UncertainWrite(f"{possessive(provider)} answer to a change could not be read.")
    return ProviderUnavailable(f"{provider} answered with something that is not JSON.")


def retry_after_seconds(value: str | None, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Seconds to wait from a ``Retry-After`` header (at least one); ``default`` when absent or not a number."""
    try:
        return max(1.0, float(value)) if value else default
    except ValueError:
        return default
