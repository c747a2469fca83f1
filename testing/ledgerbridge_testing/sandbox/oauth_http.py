"""The HTTP edges of a sandbox's OAuth endpoints: reading client credentials, answering, redirecting.

:mod:`ledgerbridge_testing.sandbox.oauth` keeps codes and tokens; every provider's routes then read the same
RFC 6749 request shapes and write the same answers around it. Client credentials come as HTTP Basic or,
for ``client_secret_post``, in the form; token answers are JSON that must not be cached; consent
decisions go back as query parameters added to the app's redirect URI, which may carry a query of its
own.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request, Response

from ledgerbridge_testing.sandbox import jsoncodec

#: Token answers must never be cached (RFC 6749 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[bytes]:
    """A JSON answer with exact Decimal money."""
    return Response(
        jsoncodec.dumps(value), status_code=status, media_type="application/json", headers=dict(headers or {})
    )


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to whatever query it already has (redirect URIs may carry one)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def client_credentials(request: Request[Any, Any, Any], form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """HTTP Basic first (the documented method), then ``client_secret_post``; a garbled Basic header is no client."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")
