"""The names scripts, tools and older callers import from `ledgerbridge.auth`.

The implementation lives in `ledgerbridge.identity`, one module per idea; this module only
re-exports its public names so `from ledgerbridge import auth; auth.create_admin(...)` keeps
working for the CLI, the benchmarks and the end-to-end tests. New code imports from
`ledgerbridge.identity.<module>` directly.
"""

from __future__ import annotations

from ledgerbridge.identity.api_keys import (
    API_KEY_HEADER,
    API_KEY_START,
    KeyIdentity,
    NewApiKey,
    api_key_from_headers,
    authenticate_api_key,
    create_api_key,
    revoke_api_key,
)
from ledgerbridge.identity.callers import AuthOutcome, Caller, CallerDep, caller_of, provide_caller, resolve_caller
from ledgerbridge.identity.errors import BadCredentials, CsrfRefused, Forbidden, LoginThrottled, NotSignedIn
from ledgerbridge.identity.guards import owner_only, person_only, signed_in
from ledgerbridge.identity.memberships import WorkspaceChoice, create_admin, create_workspace, workspaces_of
from ledgerbridge.identity.middleware import CSRF_COOKIE, CSRF_FORM_FIELD, CSRF_HEADER, csrf_token_of, middleware
from ledgerbridge.identity.passwords import authenticate, check_password_rules, hash_password, normalize_email
from ledgerbridge.identity.sessions import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    close_session,
    expired_session_cookie,
    load_session,
    open_session,
    session_cookie,
    switch_workspace,
)

__all__ = [
    "API_KEY_HEADER", "API_KEY_START", "CSRF_COOKIE", "CSRF_FORM_FIELD", "CSRF_HEADER", "SESSION_COOKIE",
    "SESSION_LIFETIME", "AuthOutcome", "BadCredentials", "Caller", "CallerDep", "CsrfRefused", "Forbidden",
    "KeyIdentity", "LoginThrottled", "NewApiKey", "NotSignedIn", "WorkspaceChoice", "api_key_from_headers",
    "authenticate", "authenticate_api_key", "caller_of", "check_password_rules", "close_session", "create_admin",
    "create_api_key", "create_workspace", "csrf_token_of", "expired_session_cookie", "hash_password",
    "load_session", "middleware", "normalize_email", "open_session", "owner_only", "person_only",
    "provide_caller", "resolve_caller", "revoke_api_key", "session_cookie", "signed_in", "switch_workspace",
    "workspaces_of",
]
