"""Getting through a sandbox's consent page the way a person does, without a browser.

Two ways are needed. A plugin's own tests know their consent form and post it directly
(:func:`approve_consent`). The conformance suite knows nothing of a provider, so it reads whatever
form the page shows, picks a company and presses the approving button (:class:`ConsentForm`).
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

APPROVE_WORDS = ("approve", "allow", "accept", "authorize", "authorise", "connect")


async def approve_consent(authorize_url: str, decision_url: str, choice: Mapping[str, Any], page_text: str,
                          state: str = "st-1") -> dict[str, str]:
    """Open the plugin's consent URL, submit the page's form with ``choice`` and ``decision=approve``,
    and return the parameters of the redirect back to the app (checking its ``state``)."""
    params = dict(parse_qsl(urlsplit(authorize_url).query))
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(authorize_url)
        assert page.status_code == 200 and page_text in page.text, page.text
        decision = await http.post(decision_url, data={**params, **choice, "decision": "approve"})
    assert decision.status_code == 302, decision.text
    callback = dict(parse_qsl(urlsplit(decision.headers["location"]).query))
    assert callback.get("state") == state and "code" in callback, callback
    return callback


class ConsentForm(HTMLParser):
    """The consent page's form, read the way a browser would submit it."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: list[tuple[str, str]] = []
        self.choices: dict[str, list[tuple[str, bool, str]]] = {}  # name -> (value, checked, type)
        self.buttons: list[tuple[str, str]] = []
        self.in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.in_form, self.action = True, values.get("action", "")
        elif not self.in_form:
            return
        elif tag == "input" and values.get("type") in ("radio", "checkbox"):
            self.choices.setdefault(values["name"], []).append(
                (values.get("value", "on"), "checked" in values, values["type"]))
        elif tag == "input" and values.get("type", "text") in ("hidden", "text", "email") and values.get("name"):
            self.fields.append((values["name"], values.get("value", "")))
        elif tag == "button" and values.get("name"):
            self.buttons.append((values["name"], values.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
