"""The page where people change their own password, and huge page numbers on lists."""

from __future__ import annotations

from typing import Any

from tests.conftest import OWNER_PASSWORD, Tenant
from tests.web.conftest import UI

NEW = "a much better passphrase"


async def _submit(ui: UI, data: dict[str, str]) -> Any:
    """The form's post, answered with the status as it is (the `UI` helper expects success)."""
    return await ui.client.post(
        "/account/password",
        data={**data, "_csrf_token": ui.token},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )


async def test_change_password_on_the_page(ui: UI, tenant: Tenant) -> None:
    page = await ui.get("/account/password")
    assert "Change your password" in page and 'autocomplete="current-password"' in page
    refused: Any = await _submit(ui, {"current_password": "wrong", "new_password": NEW, "confirm_password": NEW})
    assert refused.status_code == 400 and "current_password: is not right" in refused.text
    differ: Any = await _submit(
        ui, {"current_password": OWNER_PASSWORD, "new_password": NEW, "confirm_password": NEW + "!"}
    )
    assert differ.status_code == 400 and "The two new passwords differ." in differ.text
    done: Any = await ui.post(
        "/account/password", {"current_password": OWNER_PASSWORD, "new_password": NEW, "confirm_password": NEW}
    )
    assert done.status_code == 303 and done.headers["location"] == "/account/password?done=1"
    assert "Your password is changed." in await ui.get("/account/password?done=1")


async def test_a_huge_page_number_is_a_400_naming_it(ui: UI) -> None:
    page = await ui.get("/invoices?page=99999999999999999999", status=400)
    assert "page: is too large" in page
