"""Serving a sandbox over real HTTP from inside another program (tests, `serve`'s demo mode).

Tests must talk to sandboxes over real sockets, and the demo runs them beside the server, so
both need "start this ASGI app on a free local port and give me its URL". A background thread
keeps the sandbox independent of the caller's event loop (tests are often synchronous).
:class:`AppSwitch` lets a test session reuse one such server for a fresh sandbox per test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free one. IPPROTO_TCP lets asyncio set TCP_NODELAY."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class ThreadServer:
    """uvicorn running one ASGI app in a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, host=host, port=self.port, log_level="critical", lifespan="on",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run an ASGI app on a local port for the duration of the block; yield its base URL."""
    server = ThreadServer(app, host, port)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


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
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
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
