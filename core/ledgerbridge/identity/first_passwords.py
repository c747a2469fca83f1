"""Passwords chosen by someone else: an owner's reset, `createadmin --reset-password`, `serve`'s first owner.

Whoever chose such a password knows it, so it is good for one thing only: signing in to choose
one's own. `impose_password` stores it with `must_change_password` set and ends every session of
the person (whoever held the old password is signed out); `guards.permitted` then refuses that
person's session everywhere but the password change, and `services.change_own_password` clears
the flag. The one-time password itself is made here, long enough to survive being read aloud.
"""

from __future__ import annotations

import secrets

from ledgerbridge.tables import User

ONE_TIME_PASSWORD_BYTES = 12  # 16 URL-safe characters: well over the length rule, easy to pass on


def one_time_password() -> str:
    """A fresh random password to hand to someone, who must change it at first sign-in."""
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


async def impose_password(user_id: int, password_hash: str) -> None:
    """Store a password someone else chose; call inside the write transaction of the change."""
    # Lazy, deliberately: `sessions` imports `memberships`, which calls this module.
    from ledgerbridge.identity.sessions import close_sessions_of

    await User.update(
        {User.password_hash: password_hash, User.must_change_password: True, User.is_active: True}
    ).where(User.id == user_id)
    await close_sessions_of(user_id)
