"""The job database's connections: one writer under a lock, a reader per thread.

SQLite runs in WAL mode so readers never wait for the writer's commits. Writes go
through one connection under a lock (SQLite has one writer anyway) in explicit
``BEGIN IMMEDIATE`` transactions; reads use a connection per thread, so an API call
never waits for a worker's commit and its fsync. Opening the database applies the
migrations it lacks (:mod:`.migrations`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .migrations import migrate

__all__ = ["Clock", "Database"]

#: The time source: seconds since the epoch (tests pass a fake one).
Clock = Callable[[], float]

#: Seconds a connection waits for another one's lock before giving up.
_TIMEOUT = 30.0


class Database:
    """The connections to one job database; safe to share between threads.

    Several processes (``aebridge serve`` and ``aebridge watch``) may open the same
    database: SQLite's own locking serialises their writes.

    Args:
        path: the database file (created with its folder when missing).
        clock: the time source.

    Raises:
        NewerDatabaseError: a newer aebridge migrated the database.
    """

    def __init__(self, path: Path, *, clock: Clock = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        self._lock = threading.RLock()
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE so a
        # read-then-write never upgrades a shared lock and deadlocks another process.
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=_TIMEOUT
        )
        self._db.row_factory = sqlite3.Row
        self._enable_wal()
        # FULL, not WAL's usual NORMAL: a 202 promises the job exists, and NORMAL may
        # lose the last commits on a power cut (a killed process loses nothing).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(f"PRAGMA busy_timeout={int(_TIMEOUT * 1000)}")
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        with self._lock:
            try:
                migrate(self._db, path, clock=clock)
            except BaseException:
                self._db.close()
                raise

    def _enable_wal(self) -> None:
        # Switching a new database to WAL takes an exclusive lock, and SQLite answers
        # SQLITE_BUSY at once, without waiting in the busy handler, while another
        # process or thread opening it at the same moment holds a shared one: one in
        # about eight of four stores opened at once failed "database is locked".
        deadline = time.monotonic() + _TIMEOUT
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    self._db.close()
                    raise
                time.sleep(0.01)

    @property
    def schema_version(self) -> int:
        """The number of schema migrations the database carries."""
        return int(self.reader().execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            self._db.close()
            for reader in self._readers:
                reader.close()
            self._readers.clear()

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (autocommit: each statement sees the latest
        commit; :meth:`snapshot` holds one view over several)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self.path),
                isolation_level=None,
                check_same_thread=False,
                timeout=_TIMEOUT,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(_TIMEOUT * 1000)}")
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """This thread's read connection inside one read transaction: every query
        in the block sees the same state."""
        db = self.reader()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The write connection inside one ``BEGIN IMMEDIATE`` transaction, committed
        when the block ends and rolled back when it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
