"""Pages by roles: nobody is shown a form or button whose POST the server would refuse them.

Every page of a well-stocked workspace is read as an owner, an accountant, a member and a viewer.
Each form's `action` (and each `formaction` and `hx-post`) is matched to the app's own POST route
and its declared permission (`opt=needs(...)`); so is each button-styled link whose path also takes
a POST (the confirm and form pages: "Void…", "Edit", "Remove…"). The role must be allowed that
permission by the same rule the server refuses with. A route the table does not know fails too.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from ledgerbridge import jobs
from ledgerbridge.domain.payments import services as payments
from ledgerbridge.domain.payments.schemas import PaymentIn
from ledgerbridge.domain.webhook_endpoints import services as endpoints
from ledgerbridge.domain.webhook_endpoints.schemas import EndpointIn
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.identity.permissions import PERMISSION_OPT, Permission, allows
from ledgerbridge.tables import (
    ExternalLink,
    Membership,
    Notice,
    OidcIdentity,
    RecordType,
    Role,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
    TimeEntry,
    utcnow,
)
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import HTML, submit_login


class Actions(HTMLParser):
    """(what, path) of every way a page offers to change something."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.found.append(("form", a.get("action", "")))
        if a.get("formaction"):
            self.found.append(("formaction", a["formaction"]))
        if a.get("hx-post"):
            self.found.append(("hx-post", a["hx-post"]))
        if tag == "a" and "button" in a.get("class", "").split() and a.get("href", "").startswith("/"):
            self.found.append(("link", a["href"]))


def actions_of(page: str) -> list[tuple[str, str]]:
    parser = Actions()
    parser.feed(page)
    return parser.found


def post_routes(app: Litestar) -> list[tuple[re.Pattern[str], bool, Permission]]:
    """Each POST route as (pattern, is literal, declared permission); literal paths win over parameters."""
    table = []
    for route in app.routes:
        for handler in route.route_handlers:
            if "POST" not in getattr(handler, "http_methods", set()):
                continue
            pattern = re.sub(r"\{\w+:int\}", r"\\d+", re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}"))
            pattern = re.sub(r"\{\w+:\w+\}", r"[^/]+", pattern)
            table.append((re.compile(f"^{pattern}$"), "{" not in route.path, Permission(handler.opt[PERMISSION_OPT])))
    return sorted(table, key=lambda row: not row[1])


def permission_for(table: list[tuple[re.Pattern[str], bool, Permission]], path: str) -> Permission | None:
    bare = path.split("?", 1)[0].split("#", 1)[0]
    return next((permission for pattern, _, permission in table if pattern.match(bare)), None)


async def stock(tenant: Tenant) -> dict[str, Any]:
    """A workspace with something on every page: connections, records, runs, issues, an endpoint, notices."""
    ws = tenant.workspace_id
    owner = Caller(via="session", workspace_id=ws, workspace_name="Acme Studio", role=Role.owner,
                   user_id=tenant.owner_id, email=tenant.owner_email)
    books = await make_connection(ws)
    second = await make_connection(ws, tenant="acme-2")  # read-only: offers switching the books
    customer = await seeding.customer(ws)
    await seeding.item(ws, "Design")
    await seeding.account(ws, books.id)
    draft = await seeding.invoice(ws, customer.id, "INV-1", status="draft")
    sent = await seeding.invoice(ws, customer.id, "INV-2", status="sent")
    await ExternalLink(workspace=ws, connection=books.id, record_type=RecordType.invoice, record_id=sent,
                       remote_id="r-2", state="synced", created_at=utcnow(), updated_at=utcnow()).save()
    await payments.create_payment(owner, data=PaymentIn(invoice_id=sent, amount=Decimal("10.00"),
                                                        paid_on=date.today()))
    await TimeEntry(workspace=ws, customer=customer.id, person="Ada", worked_on=date.today(), hours=Decimal("2"),
                    rate=Decimal("50"), created_at=utcnow(), updated_at=utcnow()).save()
    active = await jobs.enqueue(RunKind.export_invoice, workspace_id=ws, connection_id=books.id,
                                params={"invoice_id": sent}, trigger=f"user:{tenant.owner_id}")
    failed = await jobs.enqueue(RunKind.import_customers, workspace_id=ws, connection_id=books.id,
                                trigger=f"user:{tenant.owner_id}")
    await SyncRun.update({SyncRun.state: RunState.failed, SyncRun.error: "boom"}).where(SyncRun.id == failed.id)
    await SyncIssue(workspace=ws, connection=books.id, run=failed.id, record_type="invoice", record_id=sent,
                    code="tax_not_mapped", message="Not mapped", first_seen_at=utcnow(),
                    last_seen_at=utcnow()).save()
    endpoint = await endpoints.create_endpoint(owner, data=EndpointIn(url="https://app.example.com/hook"))
    await Notice(workspace=ws, user=None, kind="exports_failing", subject="Exports keep failing",
                 created_at=utcnow()).save()
    # The owner also signs in with an issuer: their account page offers to unlink it.
    await OidcIdentity(user=tenant.owner_id, issuer="https://id.example.com", subject="owner-1",
                       email=tenant.owner_email, issuer_name="Example ID", created_at=utcnow()).save()
    return {"books": books.id, "second": second.id, "customer": customer.id, "draft": draft, "sent": sent,
            "active": active.id, "failed": failed.id, "endpoint": endpoint.endpoint.id}


PAGES = (
    "/", "/dashboard/runs", "/integrations", "/integrations/{books}", "/integrations/{second}", "/customers",
    "/customers/{customer}", "/customers/review/{books}/table", "/items", "/items/mapping", "/tax-rates/mapping",
    "/time-entries", "/invoices", "/invoices/{draft}", "/invoices/{sent}", "/invoices/{sent}/live",
    "/sync-history", "/sync-history?state=failed", "/sync-history/{active}", "/sync-history/{active}/live",
    "/sync-history/{failed}", "/issues", "/workspace/settings", "/webhooks", "/webhooks/{endpoint}", "/audit",
    "/workspaces", "/account/password", "/account/sign-in",
)


async def test_no_role_sees_a_button_it_would_be_refused(app: Litestar, tenant: Tenant, acme: Any) -> None:
    ids = await stock(tenant)
    table = post_routes(app)
    emails = {Role.owner: tenant.owner_email}
    for role in (Role.accountant, Role.member, Role.viewer):
        user, _ = await create_admin(f"{role.value}@example.com", OWNER_PASSWORD, "Acme Studio")
        await Membership.update({Membership.role: role}).where(
            (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id))
        emails[role] = user.email

    wrong: list[str] = []
    seen: dict[Role, set[Permission]] = {}
    links: dict[str, Permission] = {}  # the form and confirm pages the owner is offered, by what their POST needs
    for role, email in emails.items():
        caller = Caller(via="session", workspace_id=tenant.workspace_id, workspace_name="", role=role, user_id=1)
        seen[role] = set()
        async with AsyncTestClient(app=app) as browser:
            assert (await submit_login(browser, email, OWNER_PASSWORD)).status_code == 303
            for template in PAGES:
                path = template.format(**ids)
                response = await browser.get(path, headers=HTML)
                if response.status_code == 403:  # a page the role may not read (the audit trail) offers nothing
                    continue
                assert response.status_code == 200, (role, path, response.status_code, response.text[:500])
                for kind, target in actions_of(response.text):
                    permission = permission_for(table, target)
                    if permission is None:
                        if kind != "link":
                            wrong.append(f"{role.value} on {path}: {kind} {target} matches no POST route")
                        continue
                    seen[role].add(permission)
                    if kind == "link":
                        links[target.split("?", 1)[0]] = permission
                    if not allows(caller, permission):
                        wrong.append(f"{role.value} on {path}: {kind} {target} needs {permission.value}")
            # Typing the address of a form or confirm page the role may not use is refused as well.
            for target, permission in sorted(links.items()):
                if not allows(caller, permission):
                    response = await browser.get(target, headers=HTML)
                    if response.status_code != 403:
                        wrong.append(f"{role.value}: GET {target} answered {response.status_code}, not 403")
    assert wrong == [], "\n".join(wrong)
    assert len(links) >= 8, sorted(links)
    # The pages did offer things: everything an owner may do, and less and less down the roles.
    assert seen[Role.owner] >= {Permission.records_write, Permission.exports_run, Permission.books_write,
                                Permission.connections_manage, Permission.webhooks_manage,
                                Permission.members_manage, Permission.api_keys_manage, Permission.own_account}
    assert Permission.books_write in seen[Role.accountant] and Permission.members_manage not in seen[Role.accountant]
    assert Permission.records_write in seen[Role.member] and Permission.exports_run not in seen[Role.member]
    assert seen[Role.viewer] <= {Permission.own_account, Permission.public}
