"""Serving a sandbox over real HTTP for the length of a test.

Tests must talk to sandboxes over real sockets. The thread that runs uvicorn is the core's
(:mod:`ledgerbridge.asgi_thread`, which `serve`'s demo mode uses too); what is here is for tests:
a block that serves an app and stops it, and :class:`AppSwitch`, which lets a test session reuse
one such server for a fresh sandbox per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ledgerbridge.asgi_thread import ThreadServer


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run an ASGI app on a local port for the duration of the block; yield its base URL."""
    server = ThreadServer(app, host, port)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def answer_lifespan(receive: Any, send: Any) -> None:
    """Answer an ASGI server's lifespan messages for an app that has nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class AppSwitch:
    """One server for a whole test session, dispatching to whichever sandbox app is installed now.

    Starting and stopping uvicorn costs a few hundred milliseconds; swapping the app behind a live
    server keeps a suite fast while every test still gets a fresh sandbox and real HTTP. The switch
    answers the server's lifespan itself, so an installed app's own lifespan (a webhook pump) does not
    run: a test that needs it asks for a ``dedicated`` server.
    """

    def __init__(self) -> None:
        self.app: Any = None
        self.base_url: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if self.app is None:
            raise RuntimeError("no sandbox app installed")
        await self.app(scope, receive, send)

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve the switch for the block (a session fixture); yield its base URL."""
        with serve(self) as base_url:
            self.base_url = base_url
            try:
                yield base_url
            finally:
                self.base_url = None

    @contextmanager
    def serving(self, app: Any, dedicated: bool = False) -> Iterator[str]:
        """Put ``app`` behind the running switch for the block, or on a server of its own when ``dedicated``
        or when the switch is not running; yield the base URL to reach it."""
        if dedicated or self.base_url is None:
            with serve(app) as base_url:
                yield base_url
            return
        self.app = app
        try:
            yield self.base_url
        finally:
            self.app = None
