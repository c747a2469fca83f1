"""SQLite connections kept open per event loop, and one writing transaction at a time per loop.

Why: Piccolo's SQLite engine opens a connection (a thread of its own and a PRAGMA) for every query
outside a transaction and for every transaction, and closes it after; inside a transaction it runs
the PRAGMA again before each query, and each statement takes three trips to the connection's thread
(execute, fetch, close the cursor) where one does. A bulk export makes thousands of short transactions (the rate
limiter's ledger, write-ahead records, each batch's answer), so that set-up was a large part of
what a batch cost.

And SQLite lets one writer in at a time: a second `BEGIN IMMEDIATE` from the same process waits in
SQLite's busy handler, which sleeps in steps of up to 100 ms and wakes on its own schedule, not when
the lock frees. Several tasks of one loop writing at once (an export's lanes: one records an answer
while the next takes its rate-limiter slot) lost tens of milliseconds each time. Here a loop's writing
transactions take turns in the order they asked (an `asyncio.Lock`), so the next one starts as soon
as the last commits. Writers of other processes or loops still meet SQLite's busy handler, as before.

Like `db.LoopLocalPostgresEngine`, nothing changes until `ensure_pool()` runs on a loop: without it,
a query gets a connection of its own, which is always correct, only slower.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

#: Idle connections kept per loop: enough for a run's lanes and the reads beside them.
KEEP_IDLE = 8


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _stop_unanswered(connections: list[aiosqlite.Connection]) -> None:
    """Close these connections and end their threads, answering no loop. `stop()` asks the current
    thread's loop for a future to answer; called from a thread that has none, it asks for no answer,
    so no loop's life matters (one that closed before the answer came is what the warning was)."""
    def stop_all() -> None:
        for connection in connections:
            connection.stop()

    helper = threading.Thread(target=stop_all, name="ledgerbridge-sqlite-stop", daemon=True)
    helper.start()
    helper.join()


class LoopLocalSQLiteEngine(SQLiteEngine):
    """`SQLiteEngine` with idle connections and a writers' turn per event loop (see the module)."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        self._idle: dict[asyncio.AbstractEventLoop, list[aiosqlite.Connection]] = {}
        self._writers: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._busy_timeout = float(kwargs.get("timeout", 5.0))
        super().__init__(path=path, **kwargs)

    async def ensure_pool(self) -> None:
        loop = asyncio.get_running_loop()
        self.forget_closed_loops()
        self._idle.setdefault(loop, [])
        self._writers.setdefault(loop, asyncio.Lock())

    def forget_closed_loops(self) -> None:
        """Stop the kept connections of loops that ended without `close_pool()` (a server thread's, a
        test's). Run when a loop opens or closes its pool and when `db.use_engine` replaces this engine:
        a connection left for the garbage collector is stopped by its own `__del__`, whose thread then
        answers to an ended loop and dies with "Event loop is closed"."""
        ended = [loop for loop in self._idle if loop.is_closed()]
        stopping: list[aiosqlite.Connection] = []
        for loop in ended:
            self._writers.pop(loop, None)
            stopping.extend(self._idle.pop(loop))
        if stopping:
            _stop_unanswered(stopping)

    async def close_pool(self) -> None:
        loop = asyncio.get_running_loop()
        self.forget_closed_loops()
        self._writers.pop(loop, None)
        for connection in self._idle.pop(loop, []):
            await connection.close()

    def pooled(self) -> bool:
        loop = _running_loop()
        return loop is not None and loop in self._idle

    async def get_connection(self) -> aiosqlite.Connection:
        idle = self._idle.get(_running_loop())  # type: ignore[arg-type]
        if idle is None:
            return await super().get_connection()
        if idle:
            return idle.pop()
        return await self._open_kept()

    async def _open_kept(self) -> aiosqlite.Connection:
        """A connection that may be kept: its thread is a daemon, so a process whose loop ended
        without `close_pool()` still exits (a kept connection idles between transactions, and
        SQLite's write-ahead log holds only committed ones, so nothing is lost by not closing it)."""
        pending = aiosqlite.connect(**self.connection_kwargs)
        thread = getattr(pending, "_thread", None)  # aiosqlite starts it when the connection is awaited
        if isinstance(thread, threading.Thread):
            thread.daemon = True
        connection = await pending
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def give_back(self, connection: aiosqlite.Connection) -> None:
        """Keep a connection for the next query, or close it (no pool, enough kept, or mid-transaction)."""
        idle = self._idle.get(_running_loop())  # type: ignore[arg-type]
        if idle is None or len(idle) >= KEEP_IDLE or connection.in_transaction:
            await connection.close()
            return
        idle.append(connection)

    async def writers_turn(self) -> asyncio.Lock | None:
        """This loop's turn to write, or None when there is no pool here or the wait outlasted SQLite's
        own busy timeout (then SQLite's handler decides, as without the turn: a transaction that waits
        for a writer it encloses still ends in "database is locked" rather than hanging)."""
        lock = self._writers.get(_running_loop())  # type: ignore[arg-type]
        if lock is None:
            return None
        try:
            await asyncio.wait_for(lock.acquire(), self._busy_timeout)
        except TimeoutError:
            return None
        return lock

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic", table: type[Table] | None = None) -> Any:
        if not self.pooled():
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self.get_connection()
        try:
            rows = await connection.execute_fetchall(query, args or [])
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        await self.give_back(connection)
        return rows

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: type[Table] | None = None) -> Any:
        # `get_connection` set the row factory and foreign keys once; the PRAGMA is a no-op inside a
        # transaction anyway. Needs RETURNING (SQLite 3.35+), as everything here does. One trip to the
        # connection's thread per statement, not three (execute, fetch, close the cursor).
        return await connection.execute_fetchall(query, args or [])


class PooledTransaction(SQLiteTransaction):
    """A transaction on a kept connection; an immediate one waits for its loop's writers' turn."""

    __slots__ = ("_turn",)

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: LoopLocalSQLiteEngine = self.engine  # type: ignore[assignment]
        self._turn = await engine.writers_turn() if self.transaction_type == TransactionType.immediate else None
        try:
            return await super().__aenter__()
        except BaseException:  # the BEGIN failed (busy past the timeout): Piccolo would keep its connection open
            connection = getattr(self, "connection", None)
            if connection is not None:
                await connection.close()
            self._end_turn()
            raise

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        engine: LoopLocalSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self.connection.close()  # its state is unknown: never given back
            raise
        else:
            await engine.give_back(self.connection)
        finally:
            engine.current_transaction.reset(self.context)
            self._end_turn()
        return exception is None

    def _end_turn(self) -> None:
        turn, self._turn = getattr(self, "_turn", None), None
        if turn is not None:
            turn.release()
