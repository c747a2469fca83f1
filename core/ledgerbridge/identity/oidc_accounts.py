"""Which LedgerBridge account an issuer's sign-in opens: by the linked identity, else by verified email.

People join by invitation, never by signing in somewhere: an issuer vouches only for who someone is
there. So the first sign-in with an issuer links to the existing account with that email, and only
when the issuer says it verified the email (otherwise anyone could type the owner's address into an
account at some issuer and walk in). The link, (issuer, subject), is kept in `oidc_identity`, and every
later sign-in is matched by it, even after the email at the issuer changed. An email with no account
here is refused, unless the sign-in started from an invitation link: then the account is created and
joins that workspace, as creating it with a password on the invitation page would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledgerbridge.api.errors import Conflict
from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.domain.invitations import services as invitations
from ledgerbridge.domain.invitations.schemas import JoinedOut
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import SignInRefused
from ledgerbridge.settings import SignInIssuer
from ledgerbridge.tables import OidcIdentity, User, utcnow


@dataclass(frozen=True)
class IssuerAccount:
    """Who the issuer says signed in, once the ID token (and userinfo) were checked."""

    issuer: str  # the ID token's `iss`
    subject: str  # its `sub`
    email: str  # "" when the issuer shared none
    email_verified: bool
    name: str = ""


@dataclass(frozen=True)
class Linked:
    """The account signing in, and what the sign-in did beside."""

    user_id: int
    email: str
    workspace_id: int | None  # where the session starts: a joined workspace, else the usual first one
    linked_now: bool  # this sign-in made the link (by verified email, or by joining)
    joined: JoinedOut | None = None
    invitation_problem: LedgerBridgeError | None = None  # an existing account's invitation that could not be used


def _deactivated(email: str) -> SignInRefused:
    return SignInRefused("deactivated", f"The LedgerBridge account {email} is deactivated.",
                         fix="Ask an owner of your workspace to reactivate it.", status=403)


def _person(user: User, *, ip: str, user_agent: str) -> Caller:
    return Caller(via="session", workspace_id=None, workspace_name="", role=None, user_id=user.id,
                  email=user.email, name=user.name, ip=ip, user_agent=user_agent)


async def _accept(user: User, invitation: str, *, ip: str, user_agent: str) -> tuple[JoinedOut | None,
                                                                                   LedgerBridgeError | None]:
    """An existing account signing in from an invitation link accepts it; a used, expired or already
    accepted link does not stop the sign-in, it is only reported."""
    try:
        return await invitations.accept(_person(user, ip=ip, user_agent=user_agent), token=invitation), None
    except (Conflict, invitations.InvitationUnusable) as exc:
        return None, exc


async def _link(user_id: int, who: IssuerAccount, issuer_name: str) -> None:
    await OidcIdentity(user=user_id, issuer=who.issuer, subject=who.subject, email=who.email,
                       issuer_name=issuer_name[:200], created_at=utcnow(), last_used_at=utcnow()).save()


async def account_for(issuer: SignInIssuer, who: IssuerAccount, *, invitation: str = "", ip: str = "",
                      user_agent: str = "") -> Linked:
    """The account `who` signs in to, linking it on first use; `SignInRefused` says why not."""
    try:
        return await _account_for(issuer, who, invitation=invitation, ip=ip, user_agent=user_agent)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # A second tab finished the same first sign-in a moment earlier and linked it: use that link.
        return await _account_for(issuer, who, invitation=invitation, ip=ip, user_agent=user_agent)


async def _account_for(issuer: SignInIssuer, who: IssuerAccount, *, invitation: str, ip: str,
                       user_agent: str) -> Linked:
    async with write_transaction():
        known = await OidcIdentity.objects().where(
            (OidcIdentity.issuer == who.issuer) & (OidcIdentity.subject == who.subject)).first()
        if known is not None:
            user = await User.objects().where(User.id == known.user).first()
            if user is None or not user.is_active:
                raise _deactivated(user.email if user else who.email)
            await OidcIdentity.update({OidcIdentity.last_used_at: utcnow(), OidcIdentity.email: who.email,
                                       OidcIdentity.issuer_name: issuer.name[:200]}).where(
                OidcIdentity.id == known.id)
            joined, problem = await _accept(user, invitation, ip=ip, user_agent=user_agent) if invitation else (
                None, None)
            return Linked(user.id, user.email, joined.workspace_id if joined else None, False, joined, problem)

        if not who.email:
            raise SignInRefused(
                "no_email", f"{issuer.name} did not share an email address, so no LedgerBridge account can be "
                "found for this sign-in.",
                fix=f"Sign in again and allow LedgerBridge to see your email on {issuer.name}'s page.", status=403)
        email = who.email.strip().lower()
        if not who.email_verified:
            raise SignInRefused(
                "email_unverified", f"{issuer.name} has not verified the email address {email}, so it cannot "
                "sign you in to the account that uses it.",
                fix=f"Verify the address in your {issuer.name} account, then sign in again; or sign in with "
                    "your password.", status=403)
        user = await User.objects().where(User.email == email).first()
        if user is not None:
            if not user.is_active:
                raise _deactivated(email)
            await _link(user.id, who, issuer.name)
            joined, problem = await _accept(user, invitation, ip=ip, user_agent=user_agent) if invitation else (
                None, None)
            return Linked(user.id, user.email, joined.workspace_id if joined else None, True, joined, problem)
        if not invitation:
            raise SignInRefused(
                "unknown_email", f"No LedgerBridge account uses {email}.",
                fix="People join by invitation: ask an owner of your workspace for an invitation link, open it, "
                    f"and choose \"Sign in with {issuer.name}\" there.", status=403)
        joined = await invitations.join_verified(invitation, email=email, name=who.name, ip=ip,
                                                 user_agent=user_agent)
        await _link(joined.user_id, replace(who, email=email), issuer.name)
        return Linked(joined.user_id, email, joined.workspace_id, True, joined)
