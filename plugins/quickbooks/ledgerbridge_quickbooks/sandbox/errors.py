"""QBO faults: the typed errors the sandbox raises and the exact bodies it sends.

Integrations branch on QBO's numeric ``code`` (5010 stale, 6240 duplicate name, 3001 throttled...) and
on the HTTP status, so every refusal in the sandbox is a :class:`QboFault` with both, rendered in QBO's
envelope ``{"Fault":{"Error":[{Message, Detail, code, element}], "type": ...}, "time": ...}``
(FACTS QBO 7). The expired-token 401 has its own lowercase body and a ``WWW-Authenticate`` header,
reproduced field for field from the recorded response.
"""

from __future__ import annotations

from typing import Any


class QboFault(Exception):
    """A QBO error response; raise it anywhere in request handling."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        *,
        element: str = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type
        self.headers = headers or {}

    def fault_body(self) -> dict[str, Any]:
        """The ``Fault`` object (without ``time``), also used per item inside batch responses."""
        return {
            "Error": [{"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}],
            "type": self.fault_type,
        }


# -- constructors for the faults the sandbox emits ---------------------------------------------------------


def invalid_property(name: str, owner: str) -> QboFault:
    """2010: unknown JSON property or a value that cannot be read as its declared type."""
    return QboFault(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{name} specified is unsupported or invalid (in {owner})",
        element=name,
    )


def invalid_enumeration(name: str, value: Any) -> QboFault:
    """2170: a value outside an XSD enumeration."""
    return QboFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", element=name)


def required_missing(name: str) -> QboFault:
    """2020: a required field is absent."""
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        element=name,
    )


def invalid_id(value: Any) -> QboFault:
    """2030: an Id that is not a QBO id (non-numeric)."""
    return QboFault("2030", "Invalid ID", f"Id should be a valid number. Supplied value:{value}", element="Id")


def string_too_long(name: str, value: str, maximum: int) -> QboFault:
    """2050: string longer than QBO accepts (DocNumber > 21 characters...)."""
    return QboFault(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} "
        f"supplied length:{len(value)}",
        element=name,
    )


def invalid_reference(kind: str, ref: Any) -> QboFault:
    """2500: a *Ref pointing at something that does not exist."""
    return QboFault(
        "2500", "Invalid Reference Id", f"Invalid Reference Id : {kind} element id {ref} not found", element=kind
    )


def object_not_found(entity: str, entity_id: Any, deleted: bool = False) -> QboFault:
    """610: read/update of a missing (or deleted) object."""
    detail = (
        "Object Not Found : Another user has deleted this transaction."
        if deleted
        else f"Object Not Found : Something you're trying to use does not exist: {entity} Id {entity_id}"
    )
    return QboFault("610", "Object Not Found", detail, element="")


def made_inactive(kind: str, ref: Any) -> QboFault:
    """610 variant: referencing a deactivated name-list record."""
    return QboFault(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
        f"accounts, customers, items, vendors or employees. ({kind} {ref})",
        element=kind,
    )


def stale_object(entity: str, entity_id: str, supplied: Any, current: str) -> QboFault:
    """5010: optimistic-concurrency conflict on SyncToken."""
    return QboFault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on {entity} {entity_id} at the same time; "
        f"the other change was saved first. SyncToken {supplied} is not current ({current}).",
        element="SyncToken",
    )


def duplicate_name(kind: str, name: str, existing_id: str) -> QboFault:
    """6240: DisplayName/Name already used."""
    return QboFault(
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another {kind} is already using this name ({name}, Id={existing_id}). "
        "Please use a different name.",
    )


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QboFault:
    """6140: DocNumber reuse while the duplicate-number warning is on."""
    return QboFault(
        "6140",
        "Duplicate Document Number Error",
        f"Duplicate Document Number Error : You must specify a different number. This number has already been "
        f"used. DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}",
    )


def business_rule(detail: str, element: str = "") -> QboFault:
    """6000: a generic business validation error."""
    return QboFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element=element,
    )


def unsupported_operation(detail: str) -> QboFault:
    """500: the operation does not exist for this entity (e.g. creating a TaxCode via /taxcode)."""
    return QboFault("500", "Unsupported Operation", f"Operation {detail} is not supported.")


def invalid_query(detail: str) -> QboFault:
    """4001: query syntax or unknown entity/property."""
    return QboFault("4001", "Invalid query", detail)


def throttled() -> QboFault:
    """3001 / HTTP 429 (FACTS QBO 6 body)."""
    return QboFault(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.  Try again later",
        status=429,
        fault_type="SERVICE",
    )


def authorization_failure(detail: str) -> QboFault:
    """120 / HTTP 403: a valid token that may not touch this company or lacks the accounting scope."""
    return QboFault(
        "120",
        "message=AuthorizationFailure; errorCode=000120; statusCode=403",
        detail,
        status=403,
        fault_type="AuthorizationFault",
    )


def internal_error(detail: str = "An internal error occurred.", status: int = 500) -> QboFault:
    """10000 / 5xx: what injected gateway errors look like."""
    return QboFault(
        "10000",
        "An application error has occurred while processing your request",
        detail,
        status=status,
        fault_type="SystemFault",
    )


def unauthorized_body(detail: str, epoch_ms: int) -> dict[str, Any]:
    """The recorded lowercase 401 body (FACTS QBO 7), with ``time`` in epoch milliseconds."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": epoch_ms,
        "status": None,
        "cdcresponse": [],
    }


WWW_AUTHENTICATE_INVALID_TOKEN = 'Bearer realm="Intuit", error="invalid_token"'
