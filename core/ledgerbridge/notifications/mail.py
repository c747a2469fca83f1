"""Email through SMTP (`LEDGERBRIDGE_SMTP_URL`, `LEDGERBRIDGE_MAIL_FROM`), and the run that sends notices.

`smtp://user:password@host:587` uses STARTTLS when the server offers it; `smtps://host:465` is TLS
from the first byte. Notices are rows first: a mail server that is down only delays the email
(the run retries), and the admin UI shows the notice meanwhile.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

import aiosmtplib
from piccolo.columns import Column

from ledgerbridge.db import write_transaction
from ledgerbridge.errors import RateLimited
from ledgerbridge.jobs import RunContext
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Notice, User, utcnow

log = logging.getLogger(__name__)

MAIL_RETRY_SECONDS = 300.0
MAIL_ATTEMPTS = 6


class MailDeferred(RateLimited):
    """The mail server could not take the notices now; the run is queued again."""


async def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text email with the configured SMTP server."""
    settings = get_settings()
    url = urlparse(settings.smtp_url)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message, hostname=url.hostname or "localhost", port=url.port or (465 if tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=tls, start_tls=None if not tls else False, timeout=30,
    )


async def run_send_notices(ctx: RunContext) -> None:
    """Email a workspace's due notices, each once; failures are kept on the notice and retried."""
    due = await Notice.objects().where(
        (Notice.workspace == ctx.run.workspace) & (Notice.email_due == True) & Notice.emailed_at.is_null()  # noqa: E712
    ).order_by(Notice.id)
    failed = 0
    for notice in due:
        values: dict[Column | str, Any]
        user = await User.objects().where(User.id == notice.user).first()
        if user is None or not user.is_active:
            values = {Notice.email_due: False}
        else:
            try:
                await send_mail(user.email, notice.subject, notice.body)
                values = {Notice.emailed_at: utcnow(), Notice.email_error: ""}
            except (aiosmtplib.SMTPException, OSError) as exc:
                failed += 1
                log.warning("could not email notice %s: %s", notice.id, exc)
                values = {Notice.email_error: str(exc)[:500]}
        async with write_transaction():
            await Notice.update(values).where(Notice.id == notice.id)
        await ctx.ensure_lease()
    if failed and ctx.run.claims < MAIL_ATTEMPTS:  # every try counts, waits included
        raise MailDeferred(f"The mail server refused {failed} notices; trying again.", retry_after=MAIL_RETRY_SECONDS)
