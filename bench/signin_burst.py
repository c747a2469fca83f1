"""What a burst of wrong sign-ins costs everyone else (issue 14: 60 parallel sign-ins once raised an API
call's latency from 31 ms to 12 s).

    uv run python bench/signin_burst.py [--burst 60] [--rounds 3]

Starts `ledgerbridge serve` (sandboxes off, production's argon2 cost) on a throwaway SQLite database
with one owner and one API key, times an API call alone, then fires `--burst` parallel sign-ins with
wrong passwords (one account targeted, the rest spread over unknown emails) while the same API call
is timed again (from the first password sent), and prints one JSON object last: the API's median and
p95 milliseconds alone and during the burst, how the sign-ins were answered (401 wrong, 429
throttled, 503 busy), and whether the owner can still sign in afterwards.

Each round's timed calls during the burst use a key never used before, so the first of them records
the key's `last_used_at` (a write) while the sign-ins write their throttle counts: on SQLite that write
waits for the one write lock (`first_use_during_burst_ms`: that call, each round). The sign-ins'
clients share one connection pool: building an httpx client loads the CA bundle (about 50 ms of this
process's CPU), and 60 of them at the burst's start stalled this bench's own timer for seconds, which
earlier figures counted as the server's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "the owner's real password"


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


async def _timed_calls(client: Any, key: str, until: asyncio.Event | None, count: int,
                       after: asyncio.Event | None = None) -> list[float]:
    """Sequential API calls: `count` of them, or until `until` is set; from when `after` is set."""
    if after is not None:
        await after.wait()
    samples: list[float] = []
    while (until is None and len(samples) < count) or (until is not None and not until.is_set()):
        started = time.perf_counter()
        answer = await client.get("/api/v1/customers", headers={"X-API-Key": key})
        samples.append(time.perf_counter() - started)
        answer.raise_for_status()
    return samples


async def _sign_in(client: Any, email: str, password: str, transport: Any,
                   posting: asyncio.Event | None = None) -> int:
    """One person's sign-in, with a cookie jar of its own (the CSRF cookie) on the shared `transport`;
    `posting` is set as the first password is sent (the throttle's writes start then)."""
    import httpx

    # Not closed: closing a client closes its transport, which the other sign-ins are still using.
    own = httpx.AsyncClient(base_url=str(client.base_url), timeout=120, transport=transport)
    token = (await own.get("/auth/csrf")).json()
    if posting is not None:
        posting.set()
    answer = await own.post("/auth/login", json={"email": email, "password": password},
                            headers={token["header"]: token["csrf_token"]})
    return answer.status_code


async def main(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    import httpx
    import pytest
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.identity.permissions import LEGACY_KEY_SCOPES
    from ledgerbridge_testing.databases import open_database, sqlite_url
    from ledgerbridge_testing.servers import free_port
    from ledgerbridge_testing.workers import process_env, start_process, stop_process, wait_for

    url = sqlite_url(folder)
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("LEDGERBRIDGE_PASSWORD_HASHING", "standard")
    await open_database(url, monkeypatch)
    user, workspace = await create_admin("owner@example.com", PASSWORD, "Burst Co")
    key = (await create_api_key(workspace.id, "host app", user.id, scopes=list(LEGACY_KEY_SCOPES))).key
    port = free_port()
    env = process_env(url, "", folder / "data", LEDGERBRIDGE_SANDBOXES="off", LEDGERBRIDGE_HOST="127.0.0.1",
                      LEDGERBRIDGE_PORT=str(port), LEDGERBRIDGE_PASSWORD_HASHING="standard",
                      LEDGERBRIDGE_LOG_LEVEL="WARNING")
    server = start_process("serve", env, folder / "serve.log")
    try:
        # A new connection per call: a kept-alive one can be closed by the server's idle timer just
        # as the (busy) bench reuses it, which would read as a failure of the server.
        no_keepalive = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120,
                                     limits=no_keepalive) as client, \
                httpx.AsyncHTTPTransport(limits=no_keepalive) as sign_ins:
            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(up, "the server", attempts=1200)
            await _timed_calls(client, key, None, 10)  # warm up
            alone: list[float] = []
            during: list[float] = []
            first_use: list[float] = []  # each round's first call with its fresh key: the one that writes
            answers: Counter[int] = Counter()
            for _ in range(args.rounds):
                alone += await _timed_calls(client, key, None, 30)
                fresh = (await create_api_key(workspace.id, "first used in the burst", user.id,
                                              scopes=list(LEGACY_KEY_SCOPES))).key
                done, posting = asyncio.Event(), asyncio.Event()
                timer = asyncio.create_task(_timed_calls(client, fresh, done, 0, posting))
                emails = ["owner@example.com" if n % 2 == 0 else f"nobody{n}@example.com" for n in range(args.burst)]
                started = time.perf_counter()
                codes = await asyncio.gather(*(_sign_in(client, email, f"wrong guess {n}", sign_ins, posting)
                                               for n, email in enumerate(emails)))
                burst_s = time.perf_counter() - started
                done.set()
                timed = await timer
                first_use.append(timed[0])
                during += timed
                answers.update(codes)
            owner_after = await _sign_in(client, "owner@example.com", PASSWORD, sign_ins)
    except Exception:
        sys.stderr.write((folder / "serve.log").read_text()[-4000:])
        raise
    finally:
        stop_process(server)
        monkeypatch.undo()
    return {
        "burst": args.burst,
        "rounds": args.rounds,
        "api_alone": _ms(alone),
        "api_during_burst": _ms(during),
        "first_use_during_burst_ms": [round(seconds * 1000, 1) for seconds in first_use],
        "latency_ratio_p95": round(_ms(during)["p95_ms"] / max(_ms(alone)["p95_ms"], 0.1), 2),
        "last_burst_seconds": round(burst_s, 2),
        "sign_in_answers": {str(code): count for code, count in sorted(answers.items())},
        "owner_signs_in_after": owner_after,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=60, help="parallel wrong sign-ins per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="lb-signin-burst-") as folder:
        os.chmod(folder, 0o700)
        print(json.dumps(asyncio.run(main(args, Path(folder)))))


if __name__ == "__main__":
    cli()
