"""Typed errors that carry what the user is told.

Every failure a user can meet ends as a `SyncIssue` on the record it concerns. To make that
mechanical, each error carries a stable reason `code` (what the UI groups by and tests assert on),
a human `message` and a `fix`. Provider plugins raise these (or subclasses) instead of leaking HTTP
exceptions; the core decides from the class whether to retry, back off, or stop and ask a human.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """The default wording for a reason code, and the HTTP status it answers with when it ends a
    request (400 unless the reason says otherwise); a raise site may say more."""

    message: str
    fix: str
    status: int = 400


REASONS: dict[str, Reason] = {
    "token_expired": Reason(
        "The connection's authorisation has expired.",
        "Reconnect the integration from Integrations; nothing waiting to sync is lost.",
    ),
    "token_revoked": Reason(
        "The provider no longer accepts this connection (access was revoked or the app disconnected).",
        "Reconnect the integration from Integrations; nothing waiting to sync is lost.",
    ),
    "wrong_account": Reason(
        "You signed in to a different company than the one this connection belongs to.",
        "Reconnect and choose the same company, or add a new integration for the other one.",
    ),
    "environment_mismatch": Reason(
        "The credentials belong to a different environment (sandbox vs production) than the connection.",
        "Check the connection's environment and the client id and secret configured for it.",
    ),
    "rate_limited": Reason(
        "The provider asked us to slow down.",
        "Nothing to do: LedgerBridge waits and continues by itself.",
    ),
    "daily_limit": Reason(
        "The provider's daily call allowance for this company is used up.",
        "LedgerBridge continues when the allowance resets; export fewer records at once to avoid it.",
        status=429,
    ),
    "provider_unavailable": Reason(
        "The provider did not answer or reported an error on its side.",
        "Nothing to do: LedgerBridge retries with back-off. If it persists, check the provider's status page.",
    ),
    "uncertain_write": Reason(
        "We sent this record but got no answer, so we cannot yet tell whether the provider saved it.",
        "LedgerBridge checks the provider before retrying, so it will not be created twice.",
    ),
    "item_not_mapped": Reason(
        "An item on this record has no income account.",
        "Open Items and income accounts, choose an account for the item, then export again.",
    ),
    "tax_not_mapped": Reason(
        "A line's tax rate has no counterpart in the connected books.",
        "Open Tax rates → Map to the books, pick the books' tax rate for it (or apply the suggestions), "
        "then export again.",
    ),
    "tax_code_required": Reason(
        "This company needs a tax code on every invoice line, and a line has none.",
        "Give every line a tax rate (an exempt or zero rate where no tax applies), then export again.",
    ),
    "customer_gone_with_open_invoices": Reason(
        "The customer was deleted or merged in the provider, but has open invoices here.",
        "Link the customer to the surviving record in the provider, or void or settle its open invoices "
        "here, then resolve this issue.",
    ),
    "time_not_supported": Reason(
        "This provider keeps no time records, so time entries cannot be synced to it.",
        "Bill the time on an invoice here and export the invoice instead.",
    ),
    "duplicate_number": Reason(
        "The provider already has an invoice with this number.",
        "Renumber the invoice here, or change the connection's invoice-number policy, then export again.",
        status=409,
    ),
    "duplicate_name": Reason(
        "The provider already has a different record with this name.",
        "Rename one of them, or link this record to the existing one.",
        status=409,
    ),
    "ambiguous_match": Reason(
        "Several records here could be this one from the provider, so none was linked.",
        "Merge or rename the duplicates here, or link the right one from the customer's page, then import again.",
    ),
    "stale_object": Reason(
        "The record was changed in the provider since we last read it.",
        "Re-sync the record to read the provider's version, then export again.",
    ),
    "validation_failed": Reason(
        "The provider rejected the record's data.",
        "Correct the field named in the message, then export again.",
    ),
    "remote_not_found": Reason(
        "The record no longer exists in the provider.",
        "Re-export it to create it again, or archive it here.",
    ),
    "not_supported": Reason(
        "This provider does not support this action.",
        "Nothing to fix here; the action is unavailable for this provider.",
    ),
    "plan_limit": Reason(
        "The provider's plan for this company does not include this feature.",
        "Upgrade the plan in the provider, or turn the feature off for this connection.",
    ),
    "not_connected": Reason(
        "The integration is not connected.",
        "Connect it from Integrations.",
        status=409,
    ),
    "not_the_books": Reason(
        "This connection is read-only: the workspace keeps its books in another connection.",
        "Export to the books connection, or make this one the books from Integrations (\"switch the books\").",
        status=409,
    ),
    "invoice_has_payments": Reason(
        "The provider holds payments against this invoice, so its copy there cannot be voided or deleted.",
        "Remove or unapply the payments in the provider first (LedgerBridge reads the change back), "
        "then revert again; or record a credit note there instead of editing.",
        status=409,
    ),
    "overpayment": Reason(
        "The payment is more than the invoice's balance due.",
        "Record at most the balance due; record the rest as a credit in the books.",
        status=409,
    ),
    # Codes of the REST API and the admin UI (the record is ours, not the provider's).
    "not_found": Reason(
        "There is no such record in this workspace.", "Check the id, or pick it from its list.", status=404
    ),
    "conflict": Reason("The record changed or exists already.", "Reload it and try again.", status=409),
    "invoice_is_draft": Reason(
        "The invoice is a draft; drafts are never exported.", "Finalize or send the invoice, then export it.",
        status=409,
    ),
    "invoice_locked": Reason(
        "The invoice was exported, so it is locked here.",
        "Use 'revert to draft' to edit it; its copy in the provider is voided or deleted first.",
        status=409,
    ),
    "invoice_is_void": Reason("The invoice is void.", "Create a new invoice instead.", status=409),
    "invalid_transition": Reason(
        "The invoice cannot move to that status from its current one.", "See the invoice's available actions.",
        status=409,
    ),
    "not_signed_in": Reason(
        "You are not signed in.", "Sign in, or send an API key in the X-API-Key header.", status=401
    ),
    "bad_credentials": Reason("The email or password is wrong.", "Check them and try again.", status=401),
    "forbidden": Reason("Your role does not allow this.", "Ask an owner of the workspace.", status=403),
    "sign_in_refused": Reason(
        "Signing in with that account did not go through.",
        "Read the reason on the sign-in page; sign in with your password, or ask an owner for an invitation.",
    ),
    "recent_sign_in_required": Reason(
        "This needs a recent sign-in.", "Sign out, sign in again, then do it within 10 minutes.", status=403,
    ),
    "password_change_required": Reason(
        "Choose your own password before anything else.", "Change it at /account/password or POST /auth/password.",
        status=403,
    ),
    "invitation_unusable": Reason(
        "This invitation link cannot be used.", "Ask an owner of the workspace for a new invitation link.",
        status=410,
    ),
    "csrf_failed": Reason(
        "The form expired or came from another site.", "Reload the page and submit the form again.",
        status=403,
    ),
    "login_throttled": Reason(
        "Too many failed sign-ins for this email.", "Wait a few minutes, then try again.",
        status=429,
    ),
    "method_not_allowed": Reason(
        "This path does not accept that method.",
        "Check the API reference at /schema for the methods this path accepts.",
        status=405,
    ),
    "internal_error": Reason(
        "LedgerBridge hit an unexpected error.",
        "Retry the run; if it fails again, report it with the run id from Sync history.",
        status=500,
    ),
    # Operations: raised by the `ledgerbridge` command, never in answer to a request.
    "migration_failed": Reason(
        "The database migration failed.",
        "Restore the backup taken before the upgrade, or run the previous version.",
        status=500,
    ),
    "schema_not_ready": Reason(
        "The database schema is not up to date yet.",
        "Start `ledgerbridge serve` or run `ledgerbridge migrate`, then start this process again.",
        status=503,
    ),
    "backup_failed": Reason("The backup or restore could not be done.", "Follow the message's advice."),
}


class LedgerBridgeError(Exception):
    """Base class: an error with a stable code, a message for humans and how to fix it."""

    code: str = "internal_error"

    def __init__(self, message: str | None = None, *, fix: str | None = None, code: str | None = None):
        if code is not None:
            self.code = code
        reason = REASONS.get(self.code, REASONS["internal_error"])
        self.message = message or reason.message
        self.fix = fix or reason.fix
        super().__init__(self.message)


class ProviderError(LedgerBridgeError):
    """The provider refused or failed a call. `retryable` tells the job runner what to do."""

    code = "validation_failed"
    retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        fix: str | None = None,
        code: str | None = None,
        status: int | None = None,
        provider_code: str | None = None,
    ):
        super().__init__(message, fix=fix, code=code)
        self.status = status
        self.provider_code = provider_code


class AuthorizationError(ProviderError):
    """The provider no longer accepts our tokens; the connection needs a human to reconnect."""

    code = "token_expired"


class AccessTokenExpired(ProviderError):
    """A 401 on an API call: refreshing the access token once is the cure."""

    code = "token_expired"
    retryable = True


class RateLimited(ProviderError):
    code = "rate_limited"
    retryable = True

    def __init__(self, message: str | None = None, *, retry_after: float = 60.0, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"
    retryable = True


class UncertainWrite(ProviderError):
    """A write was sent and no answer came back: it may have been applied."""

    code = "uncertain_write"
    retryable = True


class NotSupported(LedgerBridgeError):
    code = "not_supported"


class WebhookRejected(LedgerBridgeError):
    """A webhook's signature did not verify; the sender gets a 401 and nothing is processed."""

    code = "validation_failed"
