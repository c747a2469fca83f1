"""The signed-in person's own account: their password, and the accounts elsewhere they sign in with.

The password page calls the same service as `POST /auth/password` (`ledgerbridge.identity.services`), so
the throttle, the length rule and the ending of other sessions are the same in both. It is also where a
person whose password someone else chose lands (every other page redirects here) until they choose
their own; then they go on to the dashboard.

"Ways to sign in" lists the linked OpenID Connect accounts and unlinks one after a confirm page, and
lets someone who joined through an issuer set a first password; the rules (never the last way in, a
first password only while there is none) are `ledgerbridge.identity.linked_accounts`'.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity import linked_accounts
from ledgerbridge.identity.passwords import MIN_PASSWORD_LENGTH, client_address
from ledgerbridge.identity.permissions import Permission, needs, open_before_password_change
from ledgerbridge.identity.services import change_own_password
from litestar import Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ledgerbridge_web.common import AnyRequest, failed, page, person, see_other

TEMPLATE = "account_password.html"
SIGN_IN = "/account/sign-in"


@get("/account/password", opt=open_before_password_change())
async def password_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    methods = await linked_accounts.sign_in_methods(me)
    return page(request, TEMPLATE, error=None, done=request.query_params.get("done") == "1",
                min_length=MIN_PASSWORD_LENGTH, has_password=methods.has_password)


@post("/account/password", status_code=HTTP_303_SEE_OTHER,
      opt=open_before_password_change(needs(Permission.own_account)))
async def password_submit(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    new = str(form.get("new_password", ""))
    try:
        if new != str(form.get("confirm_password", "")):
            raise LedgerBridgeError("The two new passwords differ.", fix="Type the same new password twice.",
                                    code="validation_failed")
        await change_own_password(me, str(form.get("current_password", "")), new, client=client_address(request))
    except LedgerBridgeError as exc:
        status = 429 if exc.code == "login_throttled" else 400
        return page(request, TEMPLATE, status=status, error=exc, done=False, min_length=MIN_PASSWORD_LENGTH,
                    has_password=True)
    if me.must_change_password:
        return see_other("/", notice="Your password is changed. Welcome to LedgerBridge.")
    return Redirect("/account/password?done=1", status_code=HTTP_303_SEE_OTHER)


@get(SIGN_IN)
async def sign_in_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    methods = await linked_accounts.sign_in_methods(me)
    return page(request, "account_sign_in.html", methods=methods, min_length=MIN_PASSWORD_LENGTH,
                recent=linked_accounts.signed_in_recently(me))


@post(f"{SIGN_IN}/password", opt=needs(Permission.own_account))
async def set_first_password(request: AnyRequest) -> Response[Any]:
    """A first password for someone who joined through an issuer: none to prove, so none is asked."""
    me = person(request)
    form = await request.form()
    new = str(form.get("new_password", ""))
    try:
        if new != str(form.get("confirm_password", "")):
            raise LedgerBridgeError("The two passwords differ.", fix="Type the same password twice.",
                                    code="validation_failed")
        await linked_accounts.set_first_password(me, new)
    except LedgerBridgeError as exc:
        return failed(SIGN_IN, exc)
    return see_other(SIGN_IN, notice="Your password is set: you can sign in with your email and it too.")


@get(f"{SIGN_IN}/{{identity_id:int}}/unlink", opt=needs(Permission.own_account))
async def confirm_unlink(request: AnyRequest, identity_id: FromPath[int]) -> Response[Any]:
    """The confirmation as its own page; the last way to sign in is refused here already, with the fix."""
    me = person(request)
    try:
        account = await linked_accounts.linked_account(me, identity_id)
        if not (await linked_accounts.sign_in_methods(me)).can_unlink:
            raise linked_accounts.last_way(account)
    except LedgerBridgeError as exc:
        if exc.code == "not_found":
            raise
        return failed(SIGN_IN, exc)
    return page(request, "confirm_unlink.html", account=account)


@post(f"{SIGN_IN}/{{identity_id:int}}/unlink", opt=needs(Permission.own_account))
async def unlink(request: AnyRequest, identity_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        account = await linked_accounts.unlink(me, identity_id)
    except LedgerBridgeError as exc:
        if exc.code == "not_found":
            raise
        return failed(SIGN_IN, exc)
    return see_other(SIGN_IN, notice=f"Your {account.issuer_name} account is unlinked: it no longer signs you in.")


HANDLERS = [password_page, password_submit, sign_in_page, set_first_password, confirm_unlink, unlink]
