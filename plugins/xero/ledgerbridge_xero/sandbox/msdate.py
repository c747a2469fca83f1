"""Xero's date formats.

Xero answers with Microsoft JSON dates (``/Date(1552521600000+0000)/``) and ISO strings beside some of
them, and accepts plain ``YYYY-MM-DD`` on input (FACTS Xero 2). Timestamps are kept at millisecond
precision because that is all a client can send back in ``If-Modified-Since``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def truncate_ms(moment: datetime) -> datetime:
    """Drop sub-millisecond digits so stored and echoed timestamps compare exactly."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def ms_datetime(moment: datetime) -> str:
    """``/Date(ms+0000)/`` for a timestamp."""
    return f"/Date({int(moment.astimezone(UTC).timestamp() * 1000)}+0000)/"


def ms_date(day: date) -> str:
    """``/Date(ms+0000)/`` for a calendar date (midnight UTC, as Xero does)."""
    return ms_datetime(datetime.combine(day, time(), UTC))


def iso_date(day: date) -> str:
    """The ``DateString`` companion field: ``2026-03-02T00:00:00``."""
    return f"{day.isoformat()}T00:00:00"


def parse_date(value: object) -> date:
    """A request date: ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS`` or an MS date; ValueError otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a date")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    return date.fromisoformat(text[:10])


def parse_modified_since(value: str) -> datetime:
    """``If-Modified-Since``: ISO 8601 (spec example) or an HTTP date; naive values are UTC."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"unreadable If-Modified-Since: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """Midnight UTC of a day, for comparisons with timestamps."""
    return datetime.combine(day, time(), UTC)


ONE_DAY = timedelta(days=1)
