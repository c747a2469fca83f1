"""A real HTTP receiver for webhook tests: it verifies every request with `standardwebhooks`, as a
host app would, and can be told to fail (500s), hang past the sender's timeout, or go away.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    payload: dict[str, Any]
    verified_with: int  # index of the secret that verified it


@dataclass
class Receiver:
    port: int = 0
    secrets: list[str] = field(default_factory=list)
    mode: str = "ok"  # ok | error | slow
    slow_seconds: float = 2.0
    received: list[Received] = field(default_factory=list)
    refused_signatures: int = 0
    requests: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k: v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests += 1
                    mode = receiver.mode
                if mode == "error":
                    self._answer(500, b"receiver broken")
                    return
                verified = None
                for index, secret in enumerate(receiver.secrets):
                    try:
                        payload = Webhook(secret).verify(body, headers)
                    except WebhookVerificationError:
                        continue
                    verified = index
                    break
                if verified is None:
                    with receiver._lock:
                        receiver.refused_signatures += 1
                    self._answer(401, b"bad signature")
                    return
                with receiver._lock:
                    receiver.received.append(Received(headers["webhook-id"], payload, verified))
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                self._answer(204, b"")

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender gave up waiting

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go away: connections are refused until `start` again (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def unique(self) -> list[Received]:
        """What a receiver that deduplicates on webhook-id keeps, in arrival order."""
        seen: dict[str, Received] = {}
        for item in self.received:
            if item.webhook_id in seen:
                assert json.dumps(seen[item.webhook_id].payload, sort_keys=True) == json.dumps(
                    item.payload, sort_keys=True), "one webhook-id carried two different payloads"
                continue
            seen[item.webhook_id] = item
        return list(seen.values())

    def types(self) -> list[str]:
        return [item.payload["type"] for item in self.unique()]
