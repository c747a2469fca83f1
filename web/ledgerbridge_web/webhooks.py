"""Webhook endpoints in the admin UI: add one (its secret shown once), read the delivery log, send a
test event, resend, rotate the secret, enable or disable, delete after confirming; and each
person's email notification choices. Every action calls the same services as the REST API.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.webhook_endpoints import services
from ledgerbridge.domain.webhook_endpoints.schemas import EndpointIn, EndpointUpdate
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.events.catalogue import CATALOGUE, EventType
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.notifications import inbox
from ledgerbridge.notifications.preferences import choose_emails, opted_out
from ledgerbridge.notifications.rules import KIND_LABELS
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Notice
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import AnyRequest, failed, page, person, see_other, workspace_of

LIST = "/webhooks"
EVENT_TYPES = [str(spec.type) for spec in CATALOGUE.values() if spec.type != EventType.webhook_test]


async def _list(request: AnyRequest, me: Caller, **shown: Any) -> Response[Any]:
    endpoints = await services.list_endpoints(me)
    assert me.user_id is not None
    return page(request, "webhooks.html", endpoints=endpoints.items, event_types=EVENT_TYPES,
                kinds=KIND_LABELS, opted_out=await opted_out(me.user_id), mail_on=bool(get_settings().smtp_url),
                **({"new_secret": None} | shown))


def _shown_once(request: AnyRequest) -> dict[str, Any]:
    """A new signing secret or a test's outcome, from the session's flash (post/redirect/get): once, never again."""
    flash = getattr(request.state, "flash", None)
    secret = dict(flash.secret) if flash is not None else {}
    if secret.get("kind") == "webhook_secret":
        flash.secret = {}  # type: ignore[union-attr]
        return {"new_secret": secret["value"]}
    if secret.get("kind") == "webhook_test":
        flash.secret = {}  # type: ignore[union-attr]
        return {"test": {"ok": secret.get("ok") == "1", "status_code": secret.get("status_code", ""),
                         "error": secret.get("error", ""), "latency_ms": secret.get("latency_ms", ""),
                         "response_excerpt": secret.get("response_excerpt", "")}}
    return {}


async def _detail(request: AnyRequest, me: Caller, endpoint_id: int) -> Response[Any]:
    endpoint = await services.get_endpoint(me, endpoint_id=endpoint_id)
    log = await services.delivery_log(me, endpoint_id=endpoint_id, limit=50, offset=0)
    return page(request, "webhook.html", endpoint=endpoint, deliveries=log.items, total=log.total,
                **({"new_secret": None, "test": None} | _shown_once(request)))


@get(LIST)
async def webhooks_page(request: AnyRequest) -> Response[Any]:
    return await _list(request, person(request))


@post(LIST, opt=needs(Permission.webhooks_manage))
async def create_endpoint(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    types = [str(value) for value in form.getall("event_types", []) if value]
    try:
        created = await services.create_endpoint(me, data=EndpointIn(
            url=str(form.get("url") or "").strip(), description=str(form.get("description") or "")[:200],
            event_types=types))
    except LedgerBridgeError as exc:
        return failed(LIST, exc)
    # Shown once, on the next page only: a reload shows nothing and creates no second endpoint.
    return see_other(f"{LIST}/{created.endpoint.id}", secret={"kind": "webhook_secret", "label": "Signing secret",
                                                              "value": created.secret})


@get(LIST + "/{endpoint_id:int}")
async def endpoint_page(request: AnyRequest, endpoint_id: FromPath[int]) -> Response[Any]:
    return await _detail(request, person(request), endpoint_id)


@post(LIST + "/{endpoint_id:int}/test", opt=needs(Permission.webhooks_manage))
async def send_test(request: AnyRequest, endpoint_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    result = await services.send_test(me, endpoint_id=endpoint_id)
    outcome = {"kind": "webhook_test", "label": "Test event", "value": "", "ok": "1" if result.ok else "",
               "status_code": str(result.status_code or ""), "error": str(result.error or ""),
               "latency_ms": str(result.latency_ms), "response_excerpt": str(result.response_excerpt or "")}
    return see_other(f"{LIST}/{endpoint_id}", secret=outcome)


@post(LIST + "/{endpoint_id:int}/rotate", opt=needs(Permission.webhooks_manage))
async def rotate_secret(request: AnyRequest, endpoint_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    rotated = await services.rotate_secret(me, endpoint_id=endpoint_id)
    return see_other(f"{LIST}/{endpoint_id}", secret={"kind": "webhook_secret", "label": "Signing secret",
                                                      "value": rotated.secret})


@post(LIST + "/{endpoint_id:int}/enabled", opt=needs(Permission.webhooks_manage))
async def set_enabled(request: AnyRequest, endpoint_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    form = await request.form()
    enable = form.get("enabled") == "true"
    await services.update_endpoint(me, endpoint_id=endpoint_id, data=EndpointUpdate(enabled=enable))
    return see_other(f"{LIST}/{endpoint_id}", notice="Enabled: undelivered events are on their way."
                     if enable else "Disabled: events are kept until you enable it again.")


@post(LIST + "/{endpoint_id:int}/deliveries/{delivery_id:int}/resend", opt=needs(Permission.webhooks_manage))
async def resend(request: AnyRequest, endpoint_id: FromPath[int], delivery_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        await services.resend(me, endpoint_id=endpoint_id, delivery_id=delivery_id)
    except LedgerBridgeError as exc:
        return failed(f"{LIST}/{endpoint_id}", exc)
    return see_other(f"{LIST}/{endpoint_id}", notice="Queued to be sent again, with the same webhook-id.")


@get(LIST + "/{endpoint_id:int}/delete", opt=needs(Permission.webhooks_manage))
async def confirm_delete(request: AnyRequest, endpoint_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    endpoint = await services.get_endpoint(me, endpoint_id=endpoint_id)
    return page(request, "confirm_delete_webhook.html", endpoint=endpoint)


@post(LIST + "/{endpoint_id:int}/delete", opt=needs(Permission.webhooks_manage))
async def delete_endpoint(request: AnyRequest, endpoint_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    gone = await services.delete_endpoint(me, endpoint_id=endpoint_id)
    return see_other(LIST, notice=f"{gone.url} removed; it gets no more events.")


@post("/notifications", opt=needs(Permission.own_account))
async def save_preferences(request: AnyRequest) -> Response[Any]:
    """Which kinds of notice reach this person by email (the dashboard shows them all)."""
    me = person(request)
    form = await request.form()
    await choose_emails(me, {str(value) for value in form.getall("email", [])})
    return see_other(LIST, notice="Email choices saved.")


@post("/notices/{notice_id:int}/dismiss", opt=needs(Permission.own_account))
async def dismiss_notice(request: AnyRequest, notice_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    await inbox.dismiss_notice(me, notice_id=notice_id)
    return see_other("/", notice="Notice dismissed.")


async def open_notices(me: Caller) -> list[Notice]:
    """What the dashboard shows: this person's notices not yet dismissed, newest first."""
    return await Notice.objects().where(
        (Notice.workspace == workspace_of(me)) & Notice.dismissed_at.is_null()
        & ((Notice.user == me.user_id) | Notice.user.is_null())
    ).order_by(Notice.id, ascending=False).limit(20)


HANDLERS = [webhooks_page, create_endpoint, endpoint_page, send_test, rotate_secret, set_enabled, resend,
            confirm_delete, delete_endpoint, save_preferences, dismiss_notice]
