"""The subset of QBO's query language that integrations use (FACTS.md QBO 4).

Grammar (keywords case-insensitive)::

    SELECT * [, field]* | COUNT(*) | field [, field]* FROM Entity
      [WHERE cond [AND cond]*]
      [ORDERBY field [ASC|DESC] [, field [ASC|DESC]]*]
      [STARTPOSITION n] [MAXRESULTS n]
    cond := field (= | < | > | <= | >=) value | field IN (value, ...) | field LIKE 'pattern'

There is no OR, no JOIN, no GROUP BY; LIKE only knows ``%``; string literals use single quotes with
``\\'`` escapes. Only documented filterable properties are accepted (``Metadata``/``MetaData`` both
work). MAXRESULTS is capped at 1000 and defaults to 100; STARTPOSITION is 1-based. Inactive name-list
records are left out unless the query filters on ``Active``. Anything else is error 4001.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerbridge_quickbooks.sandbox.entities import SPECS, EntitySpec
from ledgerbridge_quickbooks.sandbox.errors import invalid_query
from ledgerbridge_quickbooks.sandbox.store import Record, parse_timestamp

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_CAP = 1000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One lexical token; ``kind`` is string/op/punct/number/word."""

    kind: str
    text: str


@dataclass(frozen=True)
class Condition:
    """``field op value`` (for IN, ``value`` is a tuple)."""

    field: str
    op: str
    value: Any


@dataclass
class Query:
    """A parsed query."""

    entity: str
    count: bool = False
    fields: tuple[str, ...] = ()
    star_extras: tuple[str, ...] = ()  # ``SELECT *, Sku``: named on top of all (python-quickbooks asks so for Item)
    where: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens or raise 4001 at the first character that fits nothing."""
    tokens: list[Token] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise invalid_query(f'QueryParserError: Encountered unexpected text "{text[pos : pos + 20]}"')
        kind = match.lastgroup or "word"
        tokens.append(Token(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise invalid_query("QueryParserError: Encountered end of query unexpectedly")
        self.pos += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() in words:
            self.pos += 1
            return token.text.upper()
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            found = self.peek().text if self.peek() else "end of query"
            raise invalid_query(f'QueryParserError: Encountered "{found}", expected {word}')

    def expect_punct(self, char: str) -> None:
        token = self.next()
        if token.kind != "punct" or token.text != char:
            raise invalid_query(f'QueryParserError: Encountered "{token.text}", expected "{char}"')

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or "." in token.text:
            raise invalid_query(f'QueryParserError: Encountered "{token.text}", expected an integer')
        return int(token.text)

    def literal(self) -> Any:
        token = self.next()
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "number":
            return Decimal(token.text)
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        raise invalid_query(f'QueryParserError: Encountered "{token.text}", expected a value')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(text: str) -> Query:
    """Parse a query string into a :class:`Query` (syntax only; fields are checked in :func:`execute`)."""
    if not text or not text.strip():
        raise invalid_query("QueryParserError: empty query")
    p = _Parser(tokenize(text))
    p.expect_keyword("SELECT")
    count = False
    fields: list[str] = []
    extras: list[str] = []
    token = p.next()
    if token.kind == "punct" and token.text == "*":
        while (nxt := p.peek()) is not None and nxt.kind == "punct" and nxt.text == ",":
            p.next()
            word = p.next()
            if word.kind != "word":
                raise invalid_query(f'QueryParserError: Encountered "{word.text}", expected a property')
            extras.append(word.text)
    elif token.kind == "word" and token.text.upper() == "COUNT":
        p.expect_punct("(")
        p.expect_punct("*")
        p.expect_punct(")")
        count = True
    elif token.kind == "word" and token.text.upper() != "FROM":
        fields.append(token.text)
        while (nxt := p.peek()) is not None and nxt.kind == "punct" and nxt.text == ",":
            p.next()
            word = p.next()
            if word.kind != "word":
                raise invalid_query(f'QueryParserError: Encountered "{word.text}", expected a property')
            fields.append(word.text)
    else:
        raise invalid_query(f'QueryParserError: Encountered "{token.text}", expected * or COUNT(*)')
    p.expect_keyword("FROM")
    entity_token = p.next()
    if entity_token.kind != "word":
        raise invalid_query(f'QueryParserError: Encountered "{entity_token.text}", expected an entity')
    query = Query(entity=entity_token.text, count=count, fields=tuple(fields), star_extras=tuple(extras))
    if p.keyword("WHERE"):
        query.where.append(_condition(p))
        while True:
            if p.keyword("AND"):
                query.where.append(_condition(p))
                continue
            if p.keyword("OR"):
                raise invalid_query("QueryParserError: OR is not supported; use IN or separate queries")
            break
    if p.keyword("ORDERBY", "ORDER"):
        if p.tokens[p.pos - 1].text.upper() == "ORDER":
            p.expect_keyword("BY")
        while True:
            name = p.next()
            if name.kind != "word":
                raise invalid_query(f'QueryParserError: Encountered "{name.text}", expected a property')
            descending = p.keyword("DESC", "ASC") == "DESC"
            query.order_by.append((name.text, descending))
            nxt = p.peek()
            if nxt is not None and nxt.kind == "punct" and nxt.text == ",":
                p.next()
                continue
            break
    seen: set[str] = set()
    while (clause := p.keyword("STARTPOSITION", "MAXRESULTS")) is not None:
        if clause in seen:
            raise invalid_query(f"QueryParserError: {clause} given twice")
        seen.add(clause)
        value = p.integer()
        if clause == "STARTPOSITION":
            query.start_position = max(value, 1)
        else:
            if value < 1:
                raise invalid_query("QueryValidationError: MAXRESULTS must be at least 1")
            query.max_results = min(value, MAX_RESULTS_CAP)
    leftover = p.peek()
    if leftover is not None:
        raise invalid_query(f'QueryParserError: Encountered "{leftover.text}" after the end of the query')
    return query


def _condition(p: _Parser) -> Condition:
    name = p.next()
    if name.kind != "word":
        raise invalid_query(f'QueryParserError: Encountered "{name.text}", expected a property')
    if p.keyword("IN"):
        p.expect_punct("(")
        values = [p.literal()]
        while (nxt := p.peek()) is not None and nxt.kind == "punct" and nxt.text == ",":
            p.next()
            values.append(p.literal())
        p.expect_punct(")")
        return Condition(name.text, "IN", tuple(values))
    if p.keyword("LIKE"):
        value = p.literal()
        if not isinstance(value, str):
            raise invalid_query("QueryValidationError: LIKE needs a quoted pattern")
        return Condition(name.text, "LIKE", value)
    op = p.next()
    if op.kind != "op" or op.text in ("!=", "<>"):
        raise invalid_query(f'QueryParserError: Encountered "{op.text}", expected an operator')
    return Condition(name.text, op.text, p.literal())


# -- evaluation ----------------------------------------------------------------------------------------------


def resolve_entity(name: str) -> EntitySpec:
    """Entity names in FROM are case-insensitive; unknown ones are 4001."""
    for spec in SPECS.values():
        if spec.name.lower() == name.lower():
            return spec
    raise invalid_query(f'QueryValidationError: Unsupported entity "{name}" in FROM')


def _canonical_field(spec: EntitySpec, name: str) -> tuple[str, str]:
    wanted = name.lower()
    for canonical, kind in spec.filters.items():
        if canonical.lower() == wanted:
            return canonical, kind
    raise invalid_query(f"QueryValidationError: property '{name}' is not queryable on {spec.name}")


def _raw_value(record: Record, path: str, kind: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, dict):
        if kind == "email":
            return value.get("Address")
        return value.get("value")
    return value


def _comparable(value: Any, kind: str, tz: tzinfo, *, from_query: bool) -> Any:
    """Map a record value or a query literal onto a comparable Python value for ``kind``."""
    if value is None:
        return None
    try:
        if kind in ("string", "email"):
            if from_query and not isinstance(value, str):
                raise invalid_query(f"QueryValidationError: expected a quoted string, got {value}")
            return str(value).casefold()
        if kind == "id":
            text = str(value)
            return (0, int(text), "") if text.isdigit() else (1, 0, text)
        if kind == "decimal":
            return Decimal(str(value))
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise invalid_query(f"QueryValidationError: expected true or false, got {value}")
        if kind == "date":
            return date.fromisoformat(str(value)[:10])
        if kind == "dateTime":
            return parse_timestamp(str(value), tz)
    except (ValueError, InvalidOperation) as exc:
        raise invalid_query(f"QueryValidationError: invalid value {value!r} for a {kind} property") from exc
    return value


def _like(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(chunk) for chunk in pattern.casefold().split("%")]
    return re.compile("^" + ".*".join(parts) + "$", re.DOTALL)


def _predicate(spec: EntitySpec, cond: Condition, tz: tzinfo) -> Callable[[Record], bool]:
    path, kind = _canonical_field(spec, cond.field)
    if cond.op == "LIKE":
        if kind not in ("string", "email"):
            raise invalid_query(f"QueryValidationError: LIKE is not supported on {cond.field}")
        regex = _like(cond.value)
        return lambda r: (v := _raw_value(r, path, kind)) is not None and bool(regex.match(str(v).casefold()))
    if cond.op == "IN":
        wanted = {_comparable(v, kind, tz, from_query=True) for v in cond.value}
        return lambda r: _comparable(_raw_value(r, path, kind), kind, tz, from_query=False) in wanted
    target = _comparable(cond.value, kind, tz, from_query=True)
    if kind == "boolean" and cond.op != "=":
        raise invalid_query(f"QueryValidationError: operator {cond.op} is not supported on {cond.field}")
    compare: Callable[[Any, Any], bool] = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }[cond.op]

    def check(record: Record) -> bool:
        value = _comparable(_raw_value(record, path, kind), kind, tz, from_query=False)
        if value is None:
            return False
        try:
            return compare(value, target)
        except TypeError:
            return False

    return check


def _sort_key(spec: EntitySpec, name: str, tz: tzinfo) -> Callable[[Record], Any]:
    path, kind = _canonical_field(spec, name)

    def key(record: Record) -> Any:
        value = _comparable(_raw_value(record, path, kind), kind, tz, from_query=False)
        return (value is None, value if value is not None else 0)

    return key


@dataclass
class QueryResult:
    """Rows selected by a query (already paged) and the total before paging."""

    spec: EntitySpec
    rows: list[Record]
    total: int
    query: Query


def execute(query: Query, rows: list[Record], tz: tzinfo, *, schema_fields: set[str]) -> QueryResult:
    """Filter, sort and page ``rows`` (all stored records of the entity)."""
    spec = resolve_entity(query.entity)
    predicates = [_predicate(spec, cond, tz) for cond in query.where]
    filters_active = any(_canonical_field(spec, c.field)[0] == "Active" for c in query.where)
    selected = [r for r in rows if all(p(r) for p in predicates)]
    if spec.name_list and not filters_active:
        selected = [r for r in selected if r.get("Active", True) is not False]
    selected.sort(key=_sort_key(spec, "Id", tz))
    for name, descending in reversed(query.order_by):
        selected.sort(key=_sort_key(spec, name, tz), reverse=descending)
    total = len(selected)
    if query.fields or query.star_extras:
        lowered = {f.lower(): f for f in schema_fields}
        for name in (*query.fields, *query.star_extras):
            if name.lower() not in lowered:
                raise invalid_query(f"QueryValidationError: property '{name}' is not valid for {spec.name}")
    start = query.start_position - 1
    page = selected[start : start + query.max_results]
    return QueryResult(spec, page, total, query)


def project(record: Record, fields: tuple[str, ...]) -> Record:
    """``SELECT a, b``: the named top-level properties only, flagged sparse as QBO does."""
    lowered = {k.lower(): k for k in record}
    out: Record = {}
    for name in fields:
        key = lowered.get(name.lower())
        if key is not None:
            out[key] = record[key]
    out["domain"] = record.get("domain", "QBO")
    out["sparse"] = True
    return out
