"""Business or individual: the kind an imported customer is suggested to be.

A guess from the name and email, which the import review shows and a person can change; kept apart
so both the page import and the review use the same rule.
"""

from __future__ import annotations

from ledgerbridge.tables import CustomerKind

FREE_MAIL = ("gmail.", "googlemail.", "yahoo.", "hotmail.", "outlook.", "live.", "icloud.", "me.com", "aol.",
             "proton", "gmx.", "web.de", "mail.ru", "yandex.")
BUSINESS_WORDS = ("inc", "llc", "ltd", "limited", "gmbh", "corp", "co", "company", "plc", "sa", "sarl", "bv", "pty",
                  "group", "studio", "agency", "associates", "partners", "services", "&")


def suggest_kind(name: str, company: str = "", email: str = "") -> str:
    """Business or individual, suggested from the name and email; the import review lets a person change it."""
    words = {w.strip(".,()").lower() for w in name.split()}
    if company or words & set(BUSINESS_WORDS):
        return CustomerKind.business
    domain = email.rpartition("@")[2].lower()
    if domain and not domain.startswith(FREE_MAIL):
        return CustomerKind.business
    return CustomerKind.individual
