"""A person's ways to sign in: their password and the OpenID Connect accounts linked to them.

The account page lists the linked accounts (the issuer's name, when linked, when last used) and lets
the person unlink one. Nobody may remove their last way in: an account with no password and one link
would be locked out for good, since people join by invitation and only a server administrator could
let them back in. So unlinking that last link is refused, with the fix: set a password first.

Someone who joined through an issuer has no password (`passwords.NO_PASSWORD`). They may set one here
without a current password, since they have none to prove, but only while they have none: once set,
changing it goes through `services.change_own_password`, which proves the current one. Both actions
are the person's own (`Permission.own_account`), never an API key's, and both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

from ledgerbridge import audit
from ledgerbridge.api.errors import Conflict, NotFound
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity import clock
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.passwords import check_password_rules, has_password, hash_password, run_hashing
from ledgerbridge.identity.permissions import Permission, require, require_person
from ledgerbridge.tables import OidcIdentity, User

ONLY_A_PERSON = "Only a signed-in person manages their own ways to sign in, not an API key."


@dataclass(frozen=True)
class LinkedAccount:
    """One account at an issuer that signs this person in."""

    id: int
    issuer: str  # the issuer's URL, as its ID tokens name it
    issuer_name: str  # what the sign-in button calls it
    email: str  # as the issuer last gave it
    linked_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class SignInMethods:
    """Everything the account page shows about how this person signs in."""

    has_password: bool
    accounts: tuple[LinkedAccount, ...]

    @property
    def ways(self) -> int:
        return len(self.accounts) + (1 if self.has_password else 0)

    @property
    def can_unlink(self) -> bool:
        """Whether unlinking any one account would still leave a way in."""
        return self.ways > 1


def _name(row: OidcIdentity) -> str:
    """The button's name, or for a link made before names were kept (0020) the issuer's host."""
    return row.issuer_name or urlparse(row.issuer).hostname or row.issuer


def _account(row: OidcIdentity) -> LinkedAccount:
    return LinkedAccount(id=row.id, issuer=row.issuer, issuer_name=_name(row), email=row.email,
                         linked_at=row.created_at, last_used_at=row.last_used_at)


def _mine(caller: Caller) -> int:
    require_person(caller, why=ONLY_A_PERSON)
    require(caller, Permission.own_account)
    assert caller.user_id is not None
    return caller.user_id


async def _methods(user_id: int) -> SignInMethods:
    user = await User.select(User.password_hash).where(User.id == user_id).first()
    rows = await OidcIdentity.objects().where(OidcIdentity.user == user_id).order_by(
        OidcIdentity.created_at, OidcIdentity.id)
    return SignInMethods(has_password=user is not None and has_password(user["password_hash"]),
                         accounts=tuple(_account(row) for row in rows))


async def sign_in_methods(caller: Caller) -> SignInMethods:
    """The caller's password (whether they have one) and linked accounts, oldest link first."""
    return await _methods(_mine(caller))


async def linked_account(caller: Caller, identity_id: int) -> LinkedAccount:
    """One of the caller's linked accounts (for the confirm step); anyone else's is not found."""
    user_id = _mine(caller)
    row = await OidcIdentity.objects().where(
        (OidcIdentity.id == identity_id) & (OidcIdentity.user == user_id)).first()
    if row is None:
        raise NotFound("linked sign-in account", identity_id)
    return _account(row)


def last_way(account: LinkedAccount) -> Conflict:
    """The refusal to unlink someone's last way in, with its fix."""
    return Conflict(
        f"Your {account.issuer_name} account is your only way to sign in: unlinked, you could not sign in again.",
        fix="Set a password on this page first, then unlink it.",
    )


async def unlink(caller: Caller, identity_id: int) -> LinkedAccount:
    """Unlink one of the caller's accounts; refused when it is their last way to sign in.

    The count is taken in the write transaction, so two tabs unlinking the last two links at once
    cannot both succeed. A later sign-in with that issuer links again by verified email, as a first
    one does.
    """
    user_id = _mine(caller)
    async with write_transaction():
        account = await linked_account(caller, identity_id)
        if not (await _methods(user_id)).can_unlink:
            raise last_way(account)
        await OidcIdentity.delete().where((OidcIdentity.id == identity_id) & (OidcIdentity.user == user_id))
        await audit.record(caller, "account.sign_in_unlinked", target_type="user", target_id=user_id,
                           before={"issuer": account.issuer, "issuer_name": account.issuer_name,
                                   "email": account.email})
    return account


#: How fresh a sign-in setting a first password needs. With no current password to prove, a session
#: left open (or stolen) could otherwise give its account a password its owner does not know.
RECENT_SIGN_IN = timedelta(minutes=10)


def signed_in_recently(caller: Caller) -> bool:
    """Whether `caller` is a session opened within RECENT_SIGN_IN (the page offers the form then)."""
    return caller.signed_in_at is not None and clock.now() - caller.signed_in_at <= RECENT_SIGN_IN


async def set_first_password(caller: Caller, new: str) -> None:
    """Give an account that has no password its first one; no current password to prove.

    Refused once the account has one (in the transaction, so a second tab cannot overwrite it): from
    then on a change must prove the current password (`services.change_own_password`).
    """
    user_id = _mine(caller)
    if not signed_in_recently(caller):
        raise LedgerBridgeError(
            "Setting your first password needs a recent sign-in, and yours was more than "
            f"{RECENT_SIGN_IN.seconds // 60} minutes ago.",
            fix="Sign out, sign in again with your linked account, then set your password.",
            code="recent_sign_in_required",
        )
    check_password_rules(new, "new_password")
    new_hash = await run_hashing(hash_password, new)
    async with write_transaction():
        if (await _methods(user_id)).has_password:
            raise Conflict("You already have a password.",
                           fix="Change it on the password page, typing your current password.")
        await User.update({User.password_hash: new_hash, User.must_change_password: False}).where(
            User.id == user_id)
        await audit.record(caller, "account.password_set", target_type="user", target_id=user_id)
