"""What every page shares: who is asking, the page frame, flash messages, paging and forms.

Pages need a signed-in person with a workspace. A stranger is answered by the core's error
handling, which sends a browser to the sign-in page and back. Actions answer with a redirect
(post/redirect/get); what the next page should say rides in the server-side session (flash.py),
never in the URL, so nobody can put words on our pages with a crafted link and a reload shows nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import pass_context
from jinja2.runtime import Context
from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.paging import count_at_most
from ledgerbridge.connect import local_path
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller, caller_of
from ledgerbridge.identity.errors import Forbidden, NotSignedIn
from ledgerbridge.identity.permissions import Permission, allows
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import Capabilities, ProviderInfo
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection
from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from piccolo.columns.combination import Combinable
from piccolo.table import Table

from ledgerbridge_web.flash import Flash, queue
from ledgerbridge_web.option_lists import choosing, option_list, options_for

PAGE_SIZE = 50


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str


NAV = (
    NavEntry("Dashboard", "/"),
    NavEntry("Integrations", "/integrations"),
    NavEntry("Customers", "/customers"),
    NavEntry("Items", "/items"),
    NavEntry("Time", "/time-entries"),
    NavEntry("Invoices", "/invoices"),
    NavEntry("Sync history", "/sync-history"),
    NavEntry("Issues", "/issues"),
    NavEntry("Members", "/workspace/settings"),
    NavEntry("Webhooks", "/webhooks"),
    NavEntry("Audit", "/audit"),
)

AnyRequest = Request[Any, Any, Any]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only paths on this server: a crafted link must not bounce a person to another site."""
    return local_path(target, default)


def person(request: AnyRequest) -> Caller:
    """The signed-in person and their workspace, or the error that sends them to sign in."""
    me = caller_of(request)
    if me is None or me.user_id is None:
        raise NotSignedIn()
    if me.workspace_id is None:
        raise Forbidden(
            "You are not a member of any workspace.",
            fix="Ask an owner to add you to a workspace, or create one with `ledgerbridge createadmin`.",
        )
    return me


def workspace_of(me: Caller) -> int:
    assert me.workspace_id is not None
    return me.workspace_id


def page(request: AnyRequest, template: str, status: int = 200, **context: Any) -> Template:
    me = caller_of(request)
    section = "/" + request.url.path.strip("/").split("/")[0] if request.url.path != "/" else "/"
    flash = getattr(request.state, "flash", None) or Flash()
    return Template(
        template,
        context={
            "me": me,
            "nav": NAV,
            "current_path": request.url.path,
            "current_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "section": section,
            "flash": flash,
            **template_helpers(),
            **context,
        },
        status_code=status,
    )


def fragment(template: str, **context: Any) -> Template:
    """A piece of a page for htmx to swap in."""
    return Template(template, context={**template_helpers(), **context})


def see_other(path: str, *, notice: str | None = None, error: str | None = None, fix: str | None = None,
              secret: dict[str, str] | None = None, **params: Any) -> Redirect:
    """Post/redirect/get: messages (and a one-time secret) go to the session's flash, only ids to the URL."""
    if notice or error or secret:
        queue(Flash(notice=notice or "", error=error or "", fix=fix or "", secret=secret or {}))
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    if query:
        path = f"{path}{'&' if '?' in path else '?'}{query}"
    return Redirect(path, status_code=HTTP_303_SEE_OTHER)


def failed(path: str, exc: LedgerBridgeError) -> Redirect:
    """Back to the page the action came from, with the reason and how to fix it.

    A `Forbidden` is raised again instead: a refused role is answered 403 with the service's words
    by the core's error handling, never turned into a flash message on a page the person may not
    use. So a handler writes one clause, `except LedgerBridgeError as exc: return failed(path, exc)`.
    """
    if isinstance(exc, Forbidden):
        raise exc
    return see_other(path, error=exc.message, fix=exc.fix)


async def workspace_connection(workspace_id: int, connection_id: int, *,
                               fix: str = "Open Integrations and pick one from the list.") -> Connection:
    """The workspace's connection, or a not-found refusal: a page never reaches another workspace's."""
    row = await Connection.objects().where(
        (Connection.id == connection_id) & (Connection.workspace == workspace_id)
    ).first()
    if row is None:
        raise LedgerBridgeError(f"There is no integration {connection_id} in this workspace.", code="not_found",
                                fix=fix)
    return row


def ids_from(form: FormMultiDict, name: str = "ids") -> list[int]:
    return [int(value) for value in form.getall(name, []) if str(value).isdigit()]


def int_or_none(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def checked(form: FormMultiDict, name: str) -> bool:
    return str(form.get(name, "")) in ("on", "true", "1", "yes")


#: Lists count their rows up to this many (or to the end of the page asked for, if further): past it
#: they say "more than 1,000". Counting every row of a 100,000-invoice workspace cost more than the page.
COUNT_CAP = 1_000


@dataclass(frozen=True)
class Paging:
    """Numbered pages for every list: a capped count is one query, the page another.

    `total` counts at most `count_limit(page, size)` rows plus one, so a list knows whether another
    page follows without counting the whole table; `capped` says the real total is larger. A list
    that pages by keyset (the invoices) passes `next_url` and `first_url` instead of page numbers.
    """

    page: int
    total: int
    size: int = PAGE_SIZE
    next_url: str = ""
    first_url: str = ""

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def limit(self) -> int:
        return count_limit(self.page, self.size)

    @property
    def capped(self) -> bool:
        return self.total > self.limit

    @property
    def keyset(self) -> bool:
        return bool(self.next_url or self.first_url)

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, self.limit) // self.size))

    @property
    def has_next(self) -> bool:
        return self.page * self.size < self.total

    @property
    def summary(self) -> str:
        return f"more than {self.limit:,} in all" if self.capped else f"{self.total:,} in all"

    def link(self, request: AnyRequest, number: int) -> str:
        skip = ("page", "after")
        params = {key: value for key, value in request.query_params.items() if key not in skip}
        params["page"] = str(number)
        return f"{request.url.path}?{urlencode(params)}"


def count_limit(page: int, size: int = PAGE_SIZE) -> int:
    """How far a list counts for page `page`: the cap, or the end of that page when it lies beyond."""
    return max(COUNT_CAP, page * size)


async def capped_count(table: type[Table], where: Combinable, page: int = 1, size: int = PAGE_SIZE) -> int:
    """The rows matching `where`, counted up to `count_limit(page, size)` plus one (see `Paging`)."""
    return await count_at_most(table, where, count_limit(page, size) + 1)


def page_number(request: AnyRequest) -> int:
    raw = request.query_params.get("page", "1")
    if not str(raw).isdigit():
        return 1
    if len(raw) > 9:  # beyond any real list, and a database overflow if multiplied into an offset
        raise Invalid("page", "is too large")
    return max(1, int(raw))


# --------------------------------------------------------------------------- providers


def providers() -> list[ProviderInfo]:
    """Every installed provider plugin, by name: the UI never names one itself."""
    return sorted(get_registry().providers.values(), key=lambda info: info.name.lower())


def provider_name(key: str) -> str:
    return get_registry().name_of(key)


def tenant_noun(key: str) -> str:
    """What the provider calls a connected company (organisation, business...), for the picker's wording."""
    info = get_registry().providers.get(key)
    return info.tenant_noun if info else "company"


def capabilities(key: str) -> Capabilities:
    info = get_registry().providers.get(key)
    return info.capabilities if info else Capabilities()


def initials(name: str) -> str:
    """The provider icon's letters: drawn in CSS, so no plugin has to ship an image."""
    words = [word for word in name.replace("-", " ").split() if word]
    letters = "".join(word[0] for word in words[:2]) or "?"
    return letters.upper()


def hue(key: str) -> int:
    """A stable colour per provider key, so its icon looks the same on every page."""
    return sum(ord(char) * (index + 7) for index, char in enumerate(key)) % 360


def sandbox_address(key: str) -> str:
    """Where a provider is pointed instead of its real service (a local demo sandbox), or "" for the real one.

    A connection made there holds demo data whatever environment it names, so pages say "sandbox at <address>"
    rather than "production".
    """
    return get_settings().provider(key).base_url


@pass_context
def can(context: Context, permission: str) -> bool:
    """Whether the person the page is for may do it: `{% if can("exports:run") %}` around each button.

    The server refuses regardless (`permissions.require` in the services); this only keeps a role
    from being shown forms it would be refused, by the same rule (`allows`) the refusal uses.
    """
    me = context.get("me")
    return isinstance(me, Caller) and allows(me, Permission(permission))


def label(value: str) -> str:
    return str(value).replace("_", " ")


def template_helpers() -> dict[str, Any]:
    return {"provider_name": provider_name, "tenant_noun": tenant_noun, "initials": initials, "hue": hue,
            "label": label, "sandbox_address": sandbox_address, "can": can, "option_list": option_list,
            "choosing": choosing, "options_for": options_for}

