"""The admin UI's sign-in page, dashboard and switcher, as a browser without JavaScript uses them."""

from __future__ import annotations

import re

from ledgerbridge.identity import memberships, middleware, sessions
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant, make_connection
from tests.web.conftest import HTML, hidden_token, submit_login


async def test_the_sign_in_page(client: AsyncTestClient) -> None:
    response = await client.get("/login", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<form method="post" action="/login">' in page
    token = hidden_token(page)
    assert f'hx-headers=\'{{"x-csrftoken": "{token}"}}\'' in page  # htmx requests carry it too
    assert '<script src="/static/htmx.min.js"' in page
    assert middleware.CSRF_COOKIE in client.cookies


async def test_signing_in_lands_on_the_dashboard(client: AsyncTestClient, tenant: Tenant) -> None:
    response = await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert sessions.SESSION_COOKIE in client.cookies
    dashboard = await client.get("/", headers=HTML)
    assert dashboard.status_code == 200
    page = dashboard.text
    assert "Acme Studio" in page and tenant.owner_email in page
    assert "No integration is connected yet" in page
    assert "Nothing has been synced yet" in page
    for label in ("Dashboard", "Integrations", "Customers", "Items", "Invoices", "Sync history", "Issues"):
        assert f">{label}</a>" in page


async def test_the_dashboard_lists_connections_and_runs(client: AsyncTestClient, tenant: Tenant) -> None:
    from ledgerbridge import jobs
    from ledgerbridge.tables import RunKind

    connection = await make_connection(tenant.workspace_id, "quickbooks")
    await jobs.enqueue(
        RunKind.import_customers, workspace_id=tenant.workspace_id, connection_id=connection.id, trigger="user:1"
    )
    await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    page = (await client.get("/", headers=HTML)).text
    assert "Quickbooks Books" in page
    assert "import customers" in page and "queued" in page
    fragment = await client.get("/dashboard/runs", headers={**HTML, "HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "import customers" in fragment.text


async def test_a_wrong_password_shows_the_form_again(client: AsyncTestClient, tenant: Tenant) -> None:
    response = await submit_login(client, tenant.owner_email, "nope")
    assert response.status_code == 401
    assert "The email or password is not right." in response.text
    assert f'value="{tenant.owner_email}"' in response.text
    assert sessions.SESSION_COOKIE not in client.cookies


async def test_throttling_is_explained_on_the_page(client: AsyncTestClient, tenant: Tenant) -> None:
    for _ in range(5):
        await submit_login(client, tenant.owner_email, "nope")
    response = await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text


async def test_a_form_without_its_token_is_refused_politely(client: AsyncTestClient, tenant: Tenant) -> None:
    await client.get("/login", headers=HTML)
    response = await client.post(
        "/login", data={"email": tenant.owner_email, "password": OWNER_PASSWORD}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "valid CSRF token" in response.text and "Traceback" not in response.text
    assert sessions.SESSION_COOKIE not in client.cookies


async def test_pages_send_strangers_to_sign_in_and_back(client: AsyncTestClient, tenant: Tenant) -> None:
    response = await client.get("/invoices", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Finvoices"
    signed_in = await submit_login(client, tenant.owner_email, OWNER_PASSWORD, next_path="/invoices")
    assert signed_in.headers["location"] == "/invoices"
    page = await client.get("/invoices", headers=HTML)
    assert page.status_code == 200 and "<h1>Invoices</h1>" in page.text


async def test_next_never_leaves_the_site(client: AsyncTestClient, tenant: Tenant) -> None:
    response = await submit_login(client, tenant.owner_email, OWNER_PASSWORD, next_path="//evil.example/")
    assert response.headers["location"] == "/"


async def test_sign_out(client: AsyncTestClient, tenant: Tenant) -> None:
    await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    page = (await client.get("/", headers=HTML)).text
    response = await client.post(
        "/logout", data={"_csrf_token": hidden_token(page)}, headers=HTML, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert (await client.get("/", headers=HTML, follow_redirects=False)).status_code == 303


async def test_the_workspace_switcher(client: AsyncTestClient, tenant: Tenant) -> None:
    _, second = await memberships.create_admin(tenant.owner_email, "", "Second Client")
    await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    page = (await client.get("/", headers=HTML)).text
    assert 'name="workspace_id"' in page and "Second Client" in page
    response = await client.post(
        "/workspace",
        data={"workspace_id": str(second.id), "next": "/", "_csrf_token": hidden_token(page)},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = (await client.get("/", headers=HTML)).text
    assert re.search(rf'<option value="{second.id}" selected>Second Client</option>', page)


async def test_static_assets(client: AsyncTestClient) -> None:
    htmx = await client.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx 2.0." in htmx.text[:200] and 'version:"2.0.' in htmx.text
    css = await client.get("/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


async def test_unknown_pages_get_a_friendly_404(client: AsyncTestClient) -> None:
    response = await client.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Nothing is found at /no-such-page." in response.text


async def test_member_of_no_workspace_sees_why(app: Litestar, tenant: Tenant) -> None:
    from ledgerbridge.tables import Membership

    await Membership.delete().where(Membership.user == tenant.owner_id)
    async with AsyncTestClient(app=app) as browser:
        await submit_login(browser, tenant.owner_email, OWNER_PASSWORD)
        page = await browser.get("/", headers=HTML)
        assert page.status_code == 200
        assert "not a member of any workspace" in page.text
