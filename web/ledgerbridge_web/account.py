"""The signed-in person's own account: changing their password.

The page calls the same service as `POST /auth/password` (`ledgerbridge.identity.services`), so the
throttle, the length rule and the ending of other sessions are the same in both. It is also where a
person whose password someone else chose lands (every other page redirects here) until they choose
their own; then they go on to the dashboard.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.passwords import MIN_PASSWORD_LENGTH, client_address
from ledgerbridge.identity.permissions import Permission, needs, open_before_password_change
from ledgerbridge.identity.services import change_own_password
from litestar import Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ledgerbridge_web.common import AnyRequest, page, person, see_other

TEMPLATE = "account_password.html"


@get("/account/password", opt=open_before_password_change())
async def password_page(request: AnyRequest) -> Response[Any]:
    person(request)
    return page(request, TEMPLATE, error=None, done=request.query_params.get("done") == "1",
                min_length=MIN_PASSWORD_LENGTH)


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
        return page(request, TEMPLATE, status=status, error=exc, done=False, min_length=MIN_PASSWORD_LENGTH)
    if me.must_change_password:
        return see_other("/", notice="Your password is changed. Welcome to LedgerBridge.")
    return Redirect("/account/password?done=1", status_code=HTTP_303_SEE_OTHER)


HANDLERS = [password_page, password_submit]
