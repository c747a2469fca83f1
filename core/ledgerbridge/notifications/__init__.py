"""Telling people: notices in the admin UI, and the same notices by email when SMTP is set.

* `rules`: which events owe which people a notice (written in the event's own transaction).
* `preferences`: each person's opt-outs, per kind of notice.
* `mail`: sending through SMTP (aiosmtplib), and the `send_notices` run that emails what is due.
"""
