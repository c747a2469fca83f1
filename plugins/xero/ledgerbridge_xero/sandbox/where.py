"""The part of Xero's ``where`` filter LedgerBridge uses, and ``order``.

Xero accepts a C#-like expression (FACTS Xero 4): ``Class=="REVENUE"``,
``Type=="ACCREC" AND Status=="AUTHORISED"``, ``Contact.ContactID==Guid("...")``, ``IsCustomer==true``.
This module parses comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) of a dotted field with a
string, ``Guid("...")``, ``DateTime(y,m,d)``, number, ``true``/``false`` or ``null``, joined by
``AND``/``OR`` (``&&``/``||``) with parentheses. Anything else is a ``QueryParseException``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge_xero.sandbox.errors import query_parse_error

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<call>(?:Guid|DateTime)\s*\([^)]*\))
      | (?P<op>==|!=|<=|>=|<|>|&&|\|\|)
      | (?P<paren>[()])
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise query_parse_error(f"Unable to parse the where clause near: {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind).strip()
        if kind == "word" and value.upper() in {"AND", "OR"}:
            kind, value = "op", {"AND": "&&", "OR": "||"}[value.upper()]
        out.append((kind, value))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal(kind: str, value: str) -> Any:
    if kind == "string":
        return value[1:-1].replace('\\"', '"')
    if kind == "number":
        return Decimal(value)
    if kind == "call":
        name, _, args = value.partition("(")
        args = args.rstrip(")").strip()
        if name.strip() == "Guid":
            return args.strip('"').lower()
        parts = [int(p) for p in re.split(r"\s*,\s*", args) if p]
        if len(parts) > 3:
            year, month, day, hour, minute, second = [*parts, 0, 0][:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        return date(*parts)
    if kind == "word":
        lowered = value.lower()
        if lowered in {"true", "false"}:
            return lowered == "true"
        if lowered == "null":
            return None
    raise query_parse_error(f"Expected a value, found {value!r}")


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str) and _looks_like_guid(expected):
        actual = actual.lower()
    if isinstance(actual, datetime) and isinstance(expected, date) and not isinstance(expected, datetime):
        actual = actual.date()
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        actual = Decimal(str(actual))
    if op == "==":
        return bool(actual == expected)
    if op == "!=":
        return bool(actual != expected)
    if actual is None or expected is None:
        return False
    try:
        return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected, ">=": actual >= expected}[op]
    except TypeError:
        return False


def _looks_like_guid(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F-]{36}", value))


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise query_parse_error("Unexpected end of the where clause")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.atom()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.atom()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def atom(self) -> Predicate:
        kind, value = self.take()
        if (kind, value) == ("paren", "("):
            inner = self.expression()
            if self.take() != ("paren", ")"):
                raise query_parse_error("Missing ) in the where clause")
            return inner
        if kind != "word":
            raise query_parse_error(f"Expected a field name, found {value!r}")
        path = value
        op_kind, op = self.take()
        if op_kind != "op" or op in {"&&", "||"}:
            raise query_parse_error(f"Expected a comparison after {path}")
        expected = _literal(*self.take())
        return lambda record: _compare(_field(record, path), op, expected)


def compile_where(text: str | None) -> Predicate:
    """A predicate over stored records (raises XeroApiError 400 for what it cannot read)."""
    if not text or not text.strip():
        return lambda record: True
    parser = _Parser(_tokens(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise query_parse_error(f"Unexpected {parser.peek()[1]!r} in the where clause")  # type: ignore[index]
    return predicate


def sort_records(records: list[dict[str, Any]], order: str | None, default: str) -> list[dict[str, Any]]:
    """Apply ``order=Field [ASC|DESC], ...`` (stable); ``default`` when absent."""
    spec = order if order and order.strip() else default
    result = list(records)
    for part in reversed([p.strip() for p in spec.split(",") if p.strip()]):
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in {"ASC", "DESC"}):
            raise query_parse_error(f"Unable to parse order: {part!r}")
        path, descending = words[0], len(words) == 2 and words[1].upper() == "DESC"

        def key(record: dict[str, Any], path: str = path) -> tuple[int, Any]:
            value = _field(record, path)
            if value is None:
                return (0, "")
            if isinstance(value, str):
                return (1, value.lower())
            return (1, value)

        try:
            result.sort(key=key, reverse=descending)
        except TypeError as exc:
            raise query_parse_error(f"Cannot order by {path}") from exc
    return result


__all__ = ["compile_where", "sort_records"]
