"""The SQLite engine's kept connections and writers' turn (`ledgerbridge.sqlite_engine`).

Each engine here is given a `sqlite3.Connection` subclass that counts the connections opened and
traces every statement they run, so the tests see what reaches SQLite, in order.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ledgerbridge.db import SQLITE_BUSY_TIMEOUT_SECONDS
from ledgerbridge.sqlite_engine import KEEP_IDLE, LoopLocalSQLiteEngine
from piccolo.engine.sqlite import TransactionType


class Seen:
    def __init__(self) -> None:
        self.opened = 0
        self.statements: list[tuple[int, str]] = []  # (connection number, statement)

    def factory(self) -> type[sqlite3.Connection]:
        seen = self

        class Traced(sqlite3.Connection):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                seen.opened += 1
                number = seen.opened
                self.set_trace_callback(lambda statement: seen.statements.append((number, statement.strip())))

        return Traced


def _engine(tmp_path: Path, seen: Seen) -> LoopLocalSQLiteEngine:
    path = tmp_path / "engine.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    return LoopLocalSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS, factory=seen.factory())


async def _work(engine: LoopLocalSQLiteEngine, rounds: int) -> None:
    for n in range(rounds):
        await engine._run_in_new_connection("INSERT INTO note (body) VALUES (?)", [f"q{n}"])
        async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
            await engine._run_in_existing_connection(tx.connection, "INSERT INTO note (body) VALUES (?)", [f"t{n}"])
        async with engine.transaction() as tx:
            await engine._run_in_existing_connection(tx.connection, "SELECT count(*) FROM note")


async def test_a_loop_with_a_pool_keeps_its_connection(tmp_path):
    pooled, plain = Seen(), Seen()
    engine = _engine(tmp_path, pooled)
    await engine.ensure_pool()
    await _work(engine, 10)
    await engine.close_pool()
    assert pooled.opened == 1  # thirty queries and transactions, one after another, on one connection

    (tmp_path / "plain").mkdir()
    unpooled = _engine(tmp_path / "plain", plain)
    await _work(unpooled, 10)
    assert plain.opened == 30  # without `ensure_pool`: a connection each, as Piccolo's engine does
    rows = await unpooled._run_in_new_connection("SELECT count(*) AS n FROM note")
    assert rows[0]["n"] == 20


async def test_queries_in_a_transaction_run_without_a_pragma_each(tmp_path):
    seen = Seen()
    engine = _engine(tmp_path, seen)
    await engine.ensure_pool()
    async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
        for n in range(5):
            await engine._run_in_existing_connection(tx.connection, "INSERT INTO note (body) VALUES (?)", [str(n)])
    await engine.close_pool()
    ran = [statement for _, statement in seen.statements]
    assert ran.count("PRAGMA foreign_keys = 1") == 1  # once, when the connection was opened
    assert ran[-2:] == ["INSERT INTO note (body) VALUES ('4')", "COMMIT"]


async def test_writers_of_one_loop_take_turns_instead_of_meeting_the_lock(tmp_path):
    """The second writer's BEGIN reaches SQLite only after the first one's COMMIT: it never waits
    inside SQLite's busy handler, which sleeps in steps and wakes on its own schedule."""
    seen = Seen()
    engine = _engine(tmp_path, seen)
    await engine.ensure_pool()
    inside = asyncio.Event()

    async def first() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
            await engine._run_in_existing_connection(tx.connection, "INSERT INTO note (body) VALUES ('first')")
            inside.set()
            await asyncio.sleep(0.2)  # the second writer asks meanwhile

    async def second() -> None:
        await inside.wait()
        async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
            await engine._run_in_existing_connection(tx.connection, "INSERT INTO note (body) VALUES ('second')")

    await asyncio.gather(first(), second())
    await engine.close_pool()
    ran = [statement for _, statement in seen.statements if statement.startswith(("BEGIN", "COMMIT", "INSERT"))]
    assert ran == ["BEGIN IMMEDIATE", "INSERT INTO note (body) VALUES ('first')", "COMMIT",
                   "BEGIN IMMEDIATE", "INSERT INTO note (body) VALUES ('second')", "COMMIT"]


async def test_a_failed_transaction_rolls_back_and_its_connection_serves_again(tmp_path):
    seen = Seen()
    engine = _engine(tmp_path, seen)
    await engine.ensure_pool()
    with pytest.raises(RuntimeError):
        async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
            await engine._run_in_existing_connection(tx.connection, "INSERT INTO note (body) VALUES ('gone')")
            raise RuntimeError("the change failed")
    async with engine.transaction(transaction_type=TransactionType.immediate) as tx:  # the turn was given back
        await engine._run_in_existing_connection(tx.connection, "INSERT INTO note (body) VALUES ('kept')")
    rows = await engine._run_in_new_connection("SELECT body FROM note")
    await engine.close_pool()
    assert [row["body"] for row in rows] == ["kept"]
    assert seen.opened == 1


async def test_a_statement_that_fails_outside_a_transaction_closes_its_connection(tmp_path):
    seen = Seen()
    engine = _engine(tmp_path, seen)
    await engine.ensure_pool()
    await engine._run_in_new_connection("SELECT 1")
    with pytest.raises(sqlite3.OperationalError):
        await engine._run_in_new_connection("SELECT * FROM no_such_table")
    await engine._run_in_new_connection("SELECT 1")
    await engine.close_pool()
    assert seen.opened == 2  # the failed one's connection was not kept


async def test_connections_used_at_once_are_kept_up_to_a_bound(tmp_path):
    seen = Seen()
    engine = _engine(tmp_path, seen)
    await engine.ensure_pool()

    async def read() -> None:
        async with engine.transaction() as tx:
            await engine._run_in_existing_connection(tx.connection, "SELECT count(*) FROM note")
            await asyncio.sleep(0.05)  # all of them open at once

    await asyncio.gather(*(read() for _ in range(KEEP_IDLE + 4)))
    assert seen.opened == KEEP_IDLE + 4
    await asyncio.gather(*(read() for _ in range(KEEP_IDLE + 4)))
    assert seen.opened == KEEP_IDLE + 8  # the kept ones serve again; four more had to be opened
    await engine.close_pool()


def test_a_process_whose_loop_ends_with_connections_kept_still_exits(tmp_path):
    """A worker whose loop stops without `close_pool()` must not hang at exit on a kept connection."""
    script = f"""
import asyncio
from ledgerbridge.sqlite_engine import LoopLocalSQLiteEngine

ENGINE = LoopLocalSQLiteEngine(path={str(tmp_path / 'exit.sqlite3')!r}, timeout=5)  # held, as the tables hold theirs

async def main():
    await ENGINE.ensure_pool()
    await ENGINE._run_in_new_connection("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    await ENGINE._run_in_new_connection("INSERT INTO t DEFAULT VALUES")

asyncio.run(main())
print("done")
"""
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0 and finished.stdout.strip() == "done", finished.stderr
    with sqlite3.connect(tmp_path / "exit.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (1,)


async def test_connections_of_a_loop_that_ended_without_closing_are_stopped_quietly(tmp_path, monkeypatch):
    """A server thread's loop can end without `close_pool()`. Its kept connections are stopped the
    next time a loop opens or closes its pool (or `db.use_engine` replaces the engine), answering no
    loop, so their threads end and none of them later answers to an ended loop from the garbage
    collector ("Event loop is closed" in a worker thread)."""
    import threading

    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    engine = _engine(tmp_path, Seen())

    def serve() -> None:
        async def run() -> None:
            await engine.ensure_pool()
            await _work(engine, 2)
        asyncio.run(run())  # the loop ends with its connections still kept

    server = threading.Thread(target=serve)
    server.start()
    server.join()
    (ended,) = engine._idle
    threads = [connection._thread for connection in engine._idle[ended]]
    assert ended.is_closed() and threads and all(thread.is_alive() for thread in threads)

    await engine.ensure_pool()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in threads)
    assert ended not in engine._idle and ended not in engine._writers
    await engine.close_pool()
    await asyncio.sleep(0.05)  # were an answer sent to the ended loop, its thread would fail by now
    assert failures == []
