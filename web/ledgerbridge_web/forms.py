"""Turning a posted HTML form into the REST API's own request types, and failures into field messages.

A form is decoded into the same msgspec Struct the API decodes JSON into, then handed to the same
service, so the rules cannot drift apart. What goes wrong comes back keyed by field name, so the page
is shown again (status 400) with the message next to the field and everything the person typed kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from ledgerbridge.api.errors import Invalid
from ledgerbridge.errors import LedgerBridgeError
from litestar.datastructures import FormMultiDict

T = TypeVar("T")

_AT = re.compile(r"\s*-\s*at `\$\.?([^`]*)`$")
_TYPE_WORDS = {
    "int": "a whole number", "decimal": "a number", "date": "a date (YYYY-MM-DD)", "str": "text", "bool": "yes or no",
}


@dataclass
class FormState:
    """What the person typed and what is wrong with it, field by field (`""` for the form as a whole)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    fix: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str, fix: str = "") -> None:
        self.errors.setdefault(name, message)
        self.fix = self.fix or fix

    def refuse(self, exc: LedgerBridgeError) -> None:
        """Put a service's refusal next to the field it names, else on the form as a whole."""
        if isinstance(exc, Invalid):
            self.error(exc.field, exc.detail, exc.fix)
        else:
            self.error("", exc.message, exc.fix)


def typed(form: FormMultiDict, names: list[str]) -> dict[str, str]:
    """The posted text of each field, trimmed, so a form shown again holds what was typed."""
    return {name: str(form.get(name) or "").strip() for name in names}


def _plain(message: str) -> str:
    """msgspec's wording, for a person: "Expected `decimal`, got `str`" becomes "must be a number"."""
    match = re.match(r"Expected `([a-z]+)`", message)
    if match and match.group(1) in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[match.group(1)]}"
    if message.startswith("Invalid decimal"):
        return "must be a number"
    if message.startswith("Invalid RFC3339 encoded date"):
        return "must be a real date (YYYY-MM-DD)"
    if "length >= 1" in message:
        return "is required"
    length = re.search(r"length <= (\d+)", message)
    if length:
        return f"must be at most {length.group(1)} characters"
    if ">= 1" in message:
        return "must be chosen"
    if "must match pattern" in message:
        return "is not in the expected form"
    return message[0].lower() + message[1:] if message else "is not valid"


def decode(state: FormState, data: dict[str, Any], into: type[T]) -> T | None:
    """The API's Struct from form text (lax: "12.50" is a Decimal), or None with the field's error recorded."""
    try:
        return msgspec.convert(data, into, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _AT.search(text)
        name = match.group(1) if match else ""
        message = _AT.sub("", text)
        if message.startswith("Object missing required field"):
            missing = re.search(r"`([^`]+)`", message)
            name, message = (missing.group(1) if missing else name), "is required"
        state.error(name, _plain(message), "Correct the field marked, then save again.")
        return None


def present(values: dict[str, str], *names: str) -> dict[str, str]:
    """Only the fields that were filled in: an empty optional field takes the API's default."""
    return {name: values[name] for name in names if values.get(name, "") != ""}
