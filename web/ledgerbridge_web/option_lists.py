"""Drop-down options rendered once, then marked chosen field by field.

Why: at 100,000 invoices a workspace has thousands of active customers and items, and the invoice
form offers every item on each of its line rows. Looping over them in Jinja, an `if` per option and
per row, was most of the form's render time (the new and edit forms at 130-360 ms). The options are
the same markup on every row but for the one selected, so they are joined once in Python and each
field marks its own with one string search. Those forms now list only a short list and the chosen
records (pickers.py), which still share one markup across the line rows this way.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape


def option_list(choices: Iterable[tuple[object, object]]) -> Markup:
    """`<option>` elements for (value, label) pairs, escaped, none selected."""
    return Markup("".join(f'<option value="{escape(str(value))}">{escape(str(text))}</option>'
                          for value, text in choices))


def choosing(options: Markup, chosen: object) -> Markup:
    """`options` with the option whose value is `chosen` selected; unchanged when none has it."""
    if chosen is None or str(chosen) == "":
        return options
    value = escape(str(chosen))
    return Markup(str(options).replace(f'<option value="{value}">', f'<option value="{value}" selected>', 1))


def options_for(choices: Iterable[tuple[object, object]], chosen: object) -> Markup:
    """Both at once, for a drop-down shown once on its page."""
    return choosing(option_list(choices), chosen)
