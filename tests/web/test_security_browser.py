"""The content policy in a real browser: no page breaks under it, and `/schema` needs nothing off-machine.

Every request to a host other than the test server is aborted and recorded, and every report of the
content policy refusing something (Chromium logs them to the console) fails the test.
"""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import sign_in_browser
from tests.web.test_browser import server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def _guard(page: Any, base: str) -> tuple[list[str], list[str]]:
    """Abort every request that leaves the server; collect those and the policy's refusals."""
    local = urlsplit(base).netloc
    offsite: list[str] = []
    refused: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == local:
            route.continue_()
        else:
            offsite.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: refused.append(str(error)))
    return offsite, refused


def test_the_api_reference_loads_everything_from_this_server(
    server: tuple[str, dict[str, Any]], chromium_page: Any
) -> None:
    base, _ = server
    page = chromium_page
    offsite, refused = _guard(page, base)
    response = page.goto(f"{base}/schema")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info h1.title >> text=LedgerBridge API", timeout=60_000)  # a slow first schema
    page.wait_for_selector("[data-path='/api/v1/customers']")
    page.shot("schema")
    assert offsite == [] and refused == []


def test_pages_work_under_the_content_policy(server: tuple[str, dict[str, Any]], chromium_page: Any) -> None:
    base, seeded = server
    page = chromium_page
    offsite, refused = _guard(page, base)
    sign_in_browser(page, base, seeded["tenant"].owner_email)
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/invoices")
    page.check("input[aria-label='Select all on this page']")  # the select-all script, not an onclick
    assert page.locator("#bulk input[name=ids]:checked").count() == 3
    page.uncheck("input[aria-label='Select all on this page']")
    assert page.locator("#bulk input[name=ids]:checked").count() == 0
    for path in ("/", "/integrations", "/sync-history", "/items", "/customers", "/issues", "/workspace/settings"):
        response = page.goto(f"{base}{path}")
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store", path
        assert "script-src 'self'" in headers["content-security-policy"], path
    assert offsite == [] and refused == []
