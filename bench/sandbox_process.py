"""A provider sandbox in its own process, for `bench/sync.py`.

Why a process: a real provider runs on other machines. Served from a thread of the benchmark's own
process, the sandbox held every seeded record in the memory the benchmark reports as ours (50,000
customers' worth), and it took the interpreter lock from our import while answering, so its time
and ours could not be told apart. Here it has its own interpreter and memory, as a provider would.

    python bench/sandbox_process.py PROVIDER BASE_URL

prints one JSON line (`url`, `env`: the settings that point the provider at it), then serves until
its standard input closes. Besides the sandbox's own routes it answers `GET /_bench/door` (requests
and 429 answers counted at its door, `busy`: the seconds during which a request was inside it, and
`cpu`: this process's CPU seconds, which a loaded machine does not stretch),
`POST /_bench/busy_of {"requests": [path?query...]}` (the part of `busy` spent on those requests,
each moment counted to the oldest request inside then), `GET /_bench/timeline` (each request's
arrival and answer on the wall clock) and `POST /_bench/seed {"tenant", "customers"}` (customers
created through the sandbox's Python API: seeding is not what the benchmark measures).
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from typing import Any


class DoorCounter:
    """ASGI wrapper counting the provider API requests the sandbox receives and its 429 answers; it
    also serves the benchmark's two routes."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.throttled = 0
        # Seconds with at least one provider API request inside the sandbox (arrived, not yet
        # answered): the provider's own time, without the network's or the client's.
        self.busy = 0.0
        self._inside = 0
        self._since = 0.0
        # The same seconds shared out by request (path and query): each moment goes to the oldest
        # request inside, as a provider answering one company's reads in turn spends it. The benchmark
        # leaves out what requests whose answers the import dropped took.
        self.busy_by_request: dict[str, float] = {}
        self._waiting: list[list[Any]] = []  # [request, arrival] in order of arrival
        self._mark = 0.0
        # (arrived, answered) on the wall clock for each provider API request: when the export's
        # requests reached the provider, so the bench can say how long its first window took to leave.
        self.timeline: list[tuple[float, float]] = []
        self.sandbox = getattr(app, "sandbox", None)
        self.provider = ""

    async def _answer(self, send: Any, body: Any) -> None:
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/door":
            await self._answer(send, {"requests": self.requests, "throttled": self.throttled, "busy": self.busy,
                                      "cpu": time.process_time()})
            return
        if scope["type"] == "http" and scope["path"] == "/_bench/busy_of":
            asked = json.loads(await _body(receive))
            await self._answer(send, {"busy": sum(self.busy_by_request.get(str(r), 0.0) for r in asked["requests"])})
            return
        if scope["type"] == "http" and scope["path"] == "/_bench/timeline":
            await self._answer(send, {"timeline": self.timeline})
            return
        if scope["type"] == "http" and scope["path"] == "/_bench/seed":
            asked = json.loads(await _body(receive))
            seeder = SEEDERS.get(self.provider)  # a provider without one imports its demo data only
            if seeder is not None:
                seeder(self, str(asked["tenant"]), int(asked["customers"]))
            await self._answer(send, {"seeded": asked["customers"] if seeder else 0})
            return
        if scope["type"] != "http" or scope["path"].startswith(("/_sandbox", "/accountant")):
            await self.app(scope, receive, send)
            return
        self.requests += 1

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                self.throttled += 1
            await send(message)

        query = scope.get("query_string") or b""
        entry: list[Any] = [(scope.get("raw_path") or scope["path"].encode()).decode("ascii")
                            + (f"?{query.decode('ascii')}" if query else "")]
        if not self._inside:
            self._since = time.perf_counter()
        self._share_out()
        self._waiting.append(entry)
        self._inside += 1
        arrived = time.time()
        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.timeline.append((arrived, time.time()))
            self._inside -= 1
            self._share_out()
            self._waiting.remove(entry)
            if not self._inside:
                self.busy += time.perf_counter() - self._since

    def _share_out(self) -> None:
        """The seconds since the last arrival or answer go to the oldest request inside."""
        now = time.perf_counter()
        if self._waiting:
            key = self._waiting[0][0]
            self.busy_by_request[key] = self.busy_by_request.get(key, 0.0) + now - self._mark
        self._mark = now


async def _body(receive: Any) -> bytes:
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw


def seed_quickbooks(door: DoorCounter, tenant: str, customers: int) -> None:
    """One customer through the sandbox's create, then copies of its stored record with their own
    ids, names and emails: the create checks a name against every customer, which made 50,000
    take most of an hour."""
    service = door.sandbox.service
    first = service.create(tenant, "Customer", {"DisplayName": "Bench Customer 000000",
                                                "PrimaryEmailAddr": {"Address": "bench0@example.com"}})
    company = service.company(tenant)
    with company.locked():
        template = company.get("Customer", str(first["Id"]))
        for n in range(1, customers):
            record = copy.deepcopy(template)
            name = f"Bench Customer {n:06d}"
            record.update(Id=company.allocate_id(), DisplayName=name, FullyQualifiedName=name, PrintOnCheckName=name,
                          PrimaryEmailAddr={"Address": f"bench{n}@example.com"})
            company.put("Customer", record)


def seed_xero(door: DoorCounter, tenant: str, customers: int) -> None:
    service = door.sandbox.service
    org = service.organisation(tenant)
    for start in range(0, customers, 500):
        batch = [{"Name": f"Bench Customer {n:06d}", "EmailAddress": f"bench{n}@example.com"}
                 for n in range(start, min(customers, start + 500))]
        service.save_contacts(org, batch, "create")


def seed_freshbooks(door: DoorCounter, tenant: str, customers: int) -> None:
    service = door.sandbox.service
    for n in range(customers):
        service.create(tenant, "clients", {"organization": f"Bench Customer {n:06d}",
                                           "email": f"bench{n}@example.com"}, None)


SEEDERS: dict[str, Callable[[DoorCounter, str, int], None]] = {
    "quickbooks": seed_quickbooks, "xero": seed_xero, "freshbooks": seed_freshbooks,
}


def main() -> None:
    from ledgerbridge import demo

    provider, base_url = sys.argv[1], sys.argv[2]
    doors: list[DoorCounter] = []

    def wrap(app: Any) -> DoorCounter:
        doors.append(DoorCounter(app))
        doors[0].provider = provider
        return doors[0]

    sandbox = demo.serve_sandbox(provider, bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=base_url, wrap=wrap)
    print(json.dumps({"url": sandbox.url, "env": sandbox.env}), flush=True)
    sys.stdin.read()  # until the benchmark closes it (or ends)
    sandbox.server.stop()


if __name__ == "__main__":
    main()
