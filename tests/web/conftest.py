"""Fixtures for the admin UI's handler tests: a browser-like client signed in as the tenant's owner."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant

HTML = {"accept": "text/html,application/xhtml+xml"}
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def hidden_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def submit_login(client: AsyncTestClient[Any], email: str, password: str, next_path: str = "/") -> Any:
    page = await client.get("/login", headers=HTML)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "next": next_path, "_csrf_token": hidden_token(page.text)},
        headers=HTML,
        follow_redirects=False,
    )


def sign_in_browser(page: Any, base: str, email: str, password: str = OWNER_PASSWORD) -> None:
    """Sign in through the real sign-in page in Chromium (the browser tests' first step)."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit].primary")


class UI:
    """A signed-in person's browser without JavaScript: pages, and forms posted with their token."""

    def __init__(self, client: AsyncTestClient[Any]):
        self.client = client
        self.token = ""

    async def get(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path, headers=HTML)
        assert response.status_code == status, (path, response.status_code, response.text[:2000])
        if 'name="_csrf_token"' in response.text:
            self.token = hidden_token(response.text)
        return response.text

    async def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        if not self.token:
            await self.get("/")
        response = await self.client.post(
            path, data={**(data or {}), "_csrf_token": self.token}, headers=HTML, follow_redirects=False
        )
        assert response.status_code in (200, 303), (path, response.status_code, response.text[:2000])
        return response

    async def follow(self, response: Any) -> str:
        """The page a post/redirect/get lands on: where the action's message (flash) is shown, once."""
        assert response.status_code == 303, (response.status_code, response.text[:2000])
        location = response.headers["location"]
        assert "notice=" not in location and "error=" not in location, f"messages never ride in the URL: {location}"
        return await self.get(location)


@pytest.fixture
async def ui(client: AsyncTestClient[Any], tenant: Tenant, acme: Any) -> AsyncIterator[UI]:
    response = await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 303
    yield UI(client)


@pytest.fixture
def chromium_page(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Debian's Chromium; `page.shot(name)` saves a full-page screenshot under test-output/screenshots/<test>/."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        folder = SHOTS / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        page.shot = lambda name: page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
        page.shots_folder = folder  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            browser.close()


@contextmanager
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: Callable[[str, pytest.MonkeyPatch],
            Awaitable[dict[str, Any]]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The whole app on a real port, over an SQLite file `seed` filled first, jobs run in-process: what a
    browser test drives. Yields the server's URL and what `seed` returned."""
    from ledgerbridge.app import create_app
    from ledgerbridge.asgi_thread import ThreadServer
    from ledgerbridge.settings import get_settings

    monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", "")
    seeded = asyncio.run(seed(f"sqlite:///{tmp_path / 'ui.sqlite3'}", monkeypatch))
    get_settings.cache_clear()
    running = ThreadServer(create_app(get_settings(), background=True))
    running.start()
    try:
        yield running.url, seeded
    finally:
        running.stop()
