"""How a record's form is described to the shared template (record_form.html): one entry per field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.response import Template

from ledgerbridge_web.common import AnyRequest, page
from ledgerbridge_web.forms import FormState
from ledgerbridge_web.pickers import Picker


@dataclass(frozen=True)
class Spec:
    """A field: `kind` is an input type ("text", "number", "date"...), "textarea", "select", "checkbox", or
    "picker" (a customer or item field searched as one types: `picker` says where, see pickers.py)."""

    kind: str
    name: str
    label: str
    required: bool = False
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()
    blank: str = ""
    attrs: str = ""
    picker: Picker | None = None


@dataclass(frozen=True)
class Back:
    path: str
    label: str


def record_form(request: AnyRequest, *, title: str, action: str, fields: list[Spec], state: FormState,
                submit: str, back: Back | None = None, **context: Any) -> Template:
    """The form, answered with 400 when it carries errors so scripts and tests see the refusal."""
    return page(request, "record_form.html", status=200 if state.ok else 400, title=title, action=action,
                fields=fields, state=state, submit=submit, back=back, **context)
