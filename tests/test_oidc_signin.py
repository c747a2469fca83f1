"""Signing in with an OpenID Connect issuer (`ledgerbridge.identity.oidc`), over real HTTP to the
QuickBooks sandbox's OpenID provider, wired as `serve` wires it ("Sign in with Intuit").

The app runs in-process (a browser-like test client); the sandbox runs on its own port, and every
discovery, JWKS, token and userinfo request goes to it over the network. The consent page is posted
as a person fills it: the Intuit account's email, whether Intuit verified it, and optionally its id.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from ledgerbridge_quickbooks.sandbox.oauth_routes import user_id_for
from ledgerbridge_testing.consent import approve_consent
from litestar.testing import AsyncTestClient

from tests.conftest import Tenant

HTML = {"accept": "text/html,application/xhtml+xml"}
ISSUER_ENV = ("OIDC_INTUIT_CLIENT_ID", "OIDC_INTUIT_CLIENT_SECRET", "OIDC_INTUIT_DISCOVERY_URL", "OIDC_ISSUER",
              "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_NAME", "OIDC_SCOPES")
CONSENT_TEXT = "Sign in to the app as this Intuit account"


class Intuit:
    """The QuickBooks sandbox as `serve` starts it, and its Python controls."""

    def __init__(self, running: Any) -> None:
        self.running = running
        self.url: str = running.url
        self.sandbox: Any = running.server.server.config.app.sandbox

    @property
    def issuer(self) -> str:
        return f"{self.url}/op/v1"


@pytest.fixture
def intuit(monkeypatch: pytest.MonkeyPatch, database: str) -> Iterator[Intuit]:
    from ledgerbridge import demo
    from ledgerbridge.settings import get_settings

    for name in ISSUER_ENV:
        monkeypatch.delenv(f"LEDGERBRIDGE_{name}", raising=False)
    running = demo.serve_sandbox("quickbooks", bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=get_settings().base_url)
    try:
        for name, value in running.env.items():
            monkeypatch.setenv(name, value)
        yield Intuit(running)
    finally:
        running.server.stop()


async def start(client: AsyncTestClient, key: str = "intuit", **query: str) -> str:
    """Press the button: the issuer's authorization URL the browser is sent to."""
    answer = await client.get(f"/login/oidc/{key}" + (f"?{urlencode(query)}" if query else ""), headers=HTML,
                              follow_redirects=False)
    assert answer.status_code == 303, answer.text[:2000]
    return answer.headers["location"]


async def consent(authorize_url: str, *, email: str, verified: bool = True, sub: str = "",
                  **choice: str) -> dict[str, str]:
    """Approve on the sandbox's consent page as the person with `email`; the callback's parameters."""
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    state = dict(parse_qsl(urlsplit(authorize_url).query))["state"]
    return await approve_consent(
        authorize_url, f"{base}/connect/oauth2",
        {"email": email, "email_verified": "true" if verified else "false", "sub": sub, **choice},
        CONSENT_TEXT, state=state)


async def callback(client: AsyncTestClient, params: dict[str, str], key: str = "intuit") -> httpx.Response:
    return await client.get(f"/login/oidc/{key}/callback?{urlencode(params)}", headers=HTML, follow_redirects=False)


async def sign_in(client: AsyncTestClient, *, email: str, verified: bool = True, sub: str = "", key: str = "intuit",
                  **query: str) -> httpx.Response:
    return await callback(client, await consent(await start(client, key, **query), email=email, verified=verified,
                                                sub=sub), key)


async def me(client: AsyncTestClient) -> dict[str, Any]:
    answer = await client.get("/auth/me")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def identities() -> list[dict[str, Any]]:
    from ledgerbridge.tables import OidcIdentity

    return await OidcIdentity.select().order_by(OidcIdentity.id)


def refused(answer: httpx.Response, status: int, text: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text[:3000])
    assert text in html.unescape(answer.text), answer.text[:3000]
    assert "lb_session=" not in " ".join(answer.headers.get_list("set-cookie")).replace("lb_session=\"\"", "")


# --------------------------------------------------------------------------- who gets in


async def test_a_verified_email_links_the_account_and_later_sign_ins_match_by_sub(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    from ledgerbridge.tables import AuditEntry

    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email="Owner@Example.com", next="/invoices")
        assert answer.status_code == 303, answer.text[:3000]
        assert answer.headers["location"] == "/invoices"
        who = await me(browser)
        assert (who["email"], who["workspace_id"], who["role"]) == (tenant.owner_email, tenant.workspace_id, "owner")
    [linked] = await identities()
    assert (linked["user"], linked["issuer"], linked["subject"]) == (
        tenant.owner_id, intuit.issuer, user_id_for("Owner@Example.com"))
    [entry] = await AuditEntry.select().where(AuditEntry.action == "account.sign_in")
    assert entry["actor"] == tenant.owner_email and entry["workspace"] == tenant.workspace_id
    after = json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]
    assert after == {"signed_in_with": "Intuit", "issuer": intuit.issuer, "linked": True}

    # The email changed at Intuit (and is not even verified there any more): the same Intuit user is still them.
    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email="renamed@elsewhere.example", verified=False,
                               sub=user_id_for("Owner@Example.com"))
        assert answer.status_code == 303, answer.text[:3000]
        assert (await me(browser))["email"] == tenant.owner_email
    [still] = await identities()
    assert still["email"] == "renamed@elsewhere.example" and still["id"] == linked["id"]


async def test_an_unverified_email_is_refused_with_the_reason(app: Any, tenant: Tenant, intuit: Intuit) -> None:
    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email=tenant.owner_email, verified=False)
        refused(answer, 403, "Intuit has not verified the email address owner@example.com")
        assert (await browser.get("/auth/me")).status_code == 401
    assert await identities() == []


async def test_an_unknown_email_is_refused_people_join_by_invitation(app: Any, tenant: Tenant, intuit: Intuit) -> None:
    from ledgerbridge.tables import User

    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email="stranger@example.com")
        refused(answer, 403, "No LedgerBridge account uses stranger@example.com")
        assert "People join by invitation" in answer.text
    assert not await User.exists().where(User.email == "stranger@example.com")


async def test_an_invitation_link_lets_a_new_person_join_with_intuit(app: Any, tenant: Tenant, intuit: Intuit) -> None:
    from ledgerbridge.domain.invitations import services as invitations
    from ledgerbridge.domain.invitations.schemas import InvitationIn
    from ledgerbridge.identity.callers import session_caller
    from ledgerbridge.identity.sessions import open_session
    from ledgerbridge.tables import Role

    owner = await session_caller(await open_session(tenant.owner_id))
    assert owner is not None
    made = await invitations.create_invitation(owner, data=InvitationIn(role=Role.accountant, note="Ada"))
    async with AsyncTestClient(app=app) as browser:
        page = await browser.get(f"/invitations/accept?token={made.token}", headers=HTML)
        assert "Join with Intuit" in page.text
        answer = await sign_in(browser, email="ada@example.com", invitation=made.token)
        assert answer.status_code == 303, answer.text[:3000]
        who = await me(browser)
        assert (who["email"], who["workspace_id"], who["role"]) == ("ada@example.com", tenant.workspace_id,
                                                                    "accountant")
    # The link is used up: the next person with it is refused like any unknown email.
    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email="eve@example.com", invitation=made.token)
        refused(answer, 400, "already been used")


# --------------------------------------------------------------------------- the protocol's checks


async def test_a_callback_with_another_state_or_without_the_browsers_flow_is_refused(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    async with AsyncTestClient(app=app) as browser:
        params = await consent(await start(browser), email=tenant.owner_email)
        refused(await callback(browser, {**params, "state": "forged-state"}), 400, "state differs")
    async with AsyncTestClient(app=app) as victim:  # a link someone else started: this browser has no flow
        refused(await callback(victim, params), 400, "has no sign-in with Intuit in progress")
    async with AsyncTestClient(app=app) as browser:  # the issuer said no
        params = await consent(await start(browser), email=tenant.owner_email)
        refused(await callback(browser, {"error": "access_denied", "state": params["state"]}), 400,
                "You declined on Intuit")
    assert await identities() == []


async def test_an_id_token_for_another_nonce_is_refused(app: Any, tenant: Tenant, intuit: Intuit) -> None:
    async with AsyncTestClient(app=app) as browser:
        authorize_url = await start(browser)
        params = await consent(authorize_url, email=tenant.owner_email, nonce="a-nonce-from-another-sign-in")
        refused(await callback(browser, params), 400, "its nonce differs")
    assert await identities() == []


def _tamper(token: str) -> str:
    """Sign in as someone else by editing the signed token's claims (the signature stays the old one)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = user_id_for("owner@example.com")
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{edited}.{signature}"


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _signed_elsewhere(token: str) -> str:
    """The same claims signed with a key the issuer does not publish."""
    from ledgerbridge_testing.sandbox.idtoken import IdTokenSigner

    return IdTokenSigner(key_size=1024).sign(_claims(token))


def _unsigned(token: str) -> str:
    """`alg: none`: no signature at all."""
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


@pytest.mark.parametrize(
    ("bend", "text"),
    [
        ({"tamper": _tamper}, "not signed by Intuit's published keys"),
        ({"tamper": _signed_elsewhere}, "not signed by Intuit's published keys"),
        ({"tamper": _unsigned}, "not signed by Intuit's published keys"),
        ({"exp": 1_000_000_000, "iat": 999_996_400, "auth_time": 999_996_400}, "has expired"),
        ({"aud": ["someone-elses-app"]}, "was issued to another app"),
        ({"iss": "https://issuer.example/op/v1"}, "not by Intuit"),
    ],
    ids=["tampered", "foreign-key", "alg-none", "expired", "wrong-audience", "wrong-issuer"],
)
async def test_an_id_token_that_fails_a_check_is_refused(
    app: Any, tenant: Tenant, intuit: Intuit, bend: dict[str, Any], text: str
) -> None:
    tamper = bend.pop("tamper", None)
    intuit.sandbox.id_token_overrides = bend
    intuit.sandbox.id_token_tamper = tamper
    async with AsyncTestClient(app=app) as browser:
        # A stranger's consent: only a token that got past the checks could sign them in as the owner.
        answer = await sign_in(browser, email="mallory@example.com")
        refused(answer, 400, text)
        assert (await browser.get("/auth/me")).status_code == 401
    assert await identities() == []


# --------------------------------------------------------------------------- configuration


async def test_buttons_show_only_for_configured_issuers_and_any_issuer_works(
    app: Any, tenant: Tenant, intuit: Intuit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbridge.identity.sessions import SESSION_COOKIE

    async with AsyncTestClient(app=app) as browser:
        assert "Sign in with Intuit" in (await browser.get("/login", headers=HTML)).text
        for name in ("OIDC_INTUIT_CLIENT_ID", "OIDC_INTUIT_CLIENT_SECRET", "OIDC_INTUIT_DISCOVERY_URL"):
            monkeypatch.delenv(f"LEDGERBRIDGE_{name}")
        assert "Sign in with" not in (await browser.get("/login", headers=HTML)).text
        refused(await browser.get("/login/oidc/intuit", headers=HTML), 404, "is not configured")

        # A standard issuer (here the sandbox again, found from its issuer URL the standard way).
        monkeypatch.setenv("LEDGERBRIDGE_OIDC_ISSUER", intuit.issuer)
        monkeypatch.setenv("LEDGERBRIDGE_OIDC_CLIENT_ID", intuit.running.env["LEDGERBRIDGE_QUICKBOOKS_CLIENT_ID"])
        monkeypatch.setenv("LEDGERBRIDGE_OIDC_CLIENT_SECRET",
                           intuit.running.env["LEDGERBRIDGE_QUICKBOOKS_CLIENT_SECRET"])
        monkeypatch.setenv("LEDGERBRIDGE_OIDC_NAME", "Northwind SSO")
        page = (await browser.get("/login", headers=HTML)).text
        assert "Sign in with Northwind SSO" in page and "Sign in with Intuit" not in page
        answer = await sign_in(browser, key="custom", email=tenant.owner_email)
        assert answer.status_code == 303, answer.text[:3000]
        assert SESSION_COOKIE in browser.cookies
        assert (await me(browser))["email"] == tenant.owner_email


def test_a_half_configured_issuer_stops_the_server_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerbridge.settings import SettingsError, load_settings

    for name in ISSUER_ENV:
        monkeypatch.delenv(f"LEDGERBRIDGE_{name}", raising=False)
    monkeypatch.setenv("LEDGERBRIDGE_OIDC_ISSUER", "https://login.example.com")
    with pytest.raises(SettingsError, match="LEDGERBRIDGE_OIDC_CLIENT_ID must be set too"):
        load_settings()
    monkeypatch.setenv("LEDGERBRIDGE_OIDC_CLIENT_ID", "lb")
    monkeypatch.setenv("LEDGERBRIDGE_OIDC_ISSUER", "http://login.example.com")
    with pytest.raises(SettingsError, match="must be an https:// URL"):
        load_settings()
    monkeypatch.setenv("LEDGERBRIDGE_OIDC_ISSUER", "https://login.example.com/")
    [custom] = load_settings().sign_in_issuers()
    assert (custom.name, custom.discovery_url, custom.scopes) == (
        "login.example.com", "https://login.example.com/.well-known/openid-configuration",
        ("openid", "email", "profile"))


async def test_an_existing_account_signing_in_from_an_invitation_accepts_it(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    from ledgerbridge.domain.invitations import services as invitations
    from ledgerbridge.domain.invitations.schemas import InvitationIn
    from ledgerbridge.identity.callers import session_caller
    from ledgerbridge.identity.sessions import open_session
    from ledgerbridge.tables import Role

    from tests.conftest import make_tenant

    other = await make_tenant("boss@other.example", "Other Agency")
    boss = await session_caller(await open_session(other.owner_id))
    assert boss is not None
    made = await invitations.create_invitation(boss, data=InvitationIn(role=Role.viewer, note="owner of Acme"))
    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email=tenant.owner_email, invitation=made.token)
        assert answer.status_code == 303, answer.text[:3000]
        who = await me(browser)
        assert (who["workspace_id"], who["role"]) == (other.workspace_id, "viewer")
        assert {w["id"] for w in who["workspaces"]} == {tenant.workspace_id, other.workspace_id}
    # The link is used up; signing in with it again still signs them in, and says why it was not used.
    async with AsyncTestClient(app=app) as browser:
        answer = await sign_in(browser, email=tenant.owner_email, invitation=made.token)
        assert answer.status_code == 303, answer.text[:3000]
        landed = await browser.get(answer.headers["location"], headers=HTML)
        assert "This invitation has already been used." in html.unescape(landed.text)


async def test_accounts_link_once_per_issuer_subject_on_both_databases(any_database: str) -> None:
    from ledgerbridge.identity.errors import SignInRefused
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.identity.oidc_accounts import IssuerAccount, account_for
    from ledgerbridge.settings import SignInIssuer
    from ledgerbridge.tables import OidcIdentity, User

    user, _ = await create_admin("kim@example.com", "correct horse battery", "Kim's")
    issuer = SignInIssuer(key="custom", name="Northwind SSO", discovery_url="", client_id="lb", client_secret="",
                          issuer="https://sso.example", scopes=("openid",))
    first = await account_for(issuer, IssuerAccount("https://sso.example", "s-1", "KIM@example.com", True))
    assert (first.user_id, first.linked_now) == (user.id, True)
    again = await account_for(issuer, IssuerAccount("https://sso.example", "s-1", "kim@new.example", False))
    assert (again.user_id, again.linked_now) == (user.id, False)
    with pytest.raises(SignInRefused) as other_issuer:  # the same subject at another issuer is someone else
        await account_for(issuer, IssuerAccount("https://other.example", "s-1", "kim@new.example", True))
    assert other_issuer.value.reason == "unknown_email"
    rows = await OidcIdentity.select(OidcIdentity.issuer, OidcIdentity.subject, OidcIdentity.email)
    assert rows == [{"issuer": "https://sso.example", "subject": "s-1", "email": "kim@new.example"}]
    await User.update({User.is_active: False}).where(User.id == user.id)
    with pytest.raises(SignInRefused) as deactivated:
        await account_for(issuer, IssuerAccount("https://sso.example", "s-1", "kim@new.example", True))
    assert deactivated.value.reason == "deactivated" and deactivated.value.status == 403


async def test_sign_ins_with_an_issuer_count_against_the_same_limits_as_passwords(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    from ledgerbridge.identity.throttling import CLIENT, Refusal, reserve

    async with AsyncTestClient(app=app) as browser:
        params = await consent(await start(browser), email=tenant.owner_email)
        # This address already used its attempts of the minute, on passwords of any accounts.
        for n in range(CLIENT.allowance):
            assert not isinstance(await reserve(f"guess{n}@example.com", "testclient"), Refusal)
        refused(await callback(browser, params), 429, "Too many sign-in attempts from your network")
    assert await identities() == []


async def test_password_sign_ins_are_recorded_the_same_way(app: Any, tenant: Tenant) -> None:
    from ledgerbridge.tables import AuditEntry

    from tests.api.conftest import sign_in as api_sign_in
    from tests.web.conftest import submit_login

    async with AsyncTestClient(app=app) as browser:
        assert (await submit_login(browser, tenant.owner_email, tenant.password)).status_code == 303
    async with AsyncTestClient(app=app) as script:
        answer = await api_sign_in(script, tenant.owner_email, tenant.password)
        assert answer.status_code == 200, answer.text
    rows = await AuditEntry.select().where(AuditEntry.action == "account.sign_in").order_by(AuditEntry.id)
    assert [(r["actor"], r["workspace"], r["target_id"]) for r in rows] == [
        (tenant.owner_email, tenant.workspace_id, str(tenant.owner_id))] * 2
    assert all(json.loads(r["after"]) == {"signed_in_with": "password"} for r in rows)
