"""The embedded client store: one SQLite file, shared safely by several processes and threads.

Safety with several server workers comes from SQLite itself, not from us: WAL lets readers run
beside the one writer; every write is one short `BEGIN IMMEDIATE` transaction, which takes the
write lock up front (so it waits on `busy_timeout` instead of failing half-way with "database is
locked"); reads are single statements in autocommit mode, so each sees the latest commit, and a
client created by the CLI in another process is found on the next `get`.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from scopes.store._pool import Pool
from scopes.store.base import (
    COLUMNS,
    SCHEMA_VERSION,
    Client,
    ClientExists,
    ClientStore,
    StoreError,
    StoreUnavailable,
    checked_secret_hash,
    could_be_client_id,
    revocation_time,
)

__all__ = ["SQLiteStore"]


def __dir__() -> list[str]:
    return __all__


T = TypeVar("T")


# Timestamps are ISO 8601 text with microseconds and a +00:00 offset: fixed width, so they sort
# as text in time order, and readable in the sqlite3 shell. Audiences are a JSON array.
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scopes_schema_version (version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS scopes_clients (
        client_id    TEXT PRIMARY KEY NOT NULL,
        secret_hash  TEXT NOT NULL,
        scope        TEXT NOT NULL,
        role         TEXT,
        audiences    TEXT NOT NULL,
        any_user     INTEGER NOT NULL CHECK (any_user IN (0, 1)),
        lifetime     INTEGER NOT NULL CHECK (lifetime > 0),
        max_lifetime INTEGER NOT NULL CHECK (max_lifetime >= lifetime),
        created_at   TEXT NOT NULL,
        revoked_at   TEXT
    )""",
)


class SQLiteStore(ClientStore):
    """Clients in the SQLite file at `path`, created (mode 0600) if missing and `create`.

    The file's directory must exist: a mistyped `--db` is an error, not a new tree of
    directories. With `create=False` (commands that only read) a missing file is an error and
    nothing is written. `timeout` is how long a write waits for another process's write
    (`busy_timeout`) before giving up with `StoreUnavailable`.

    The file is watched while the store is open, at most once per `check_seconds`: deleted, it
    is an outage (`StoreUnavailable`) until a file is back; replaced (another inode), it is
    reopened; corrupted, every call is `StoreUnavailable` until it is usable again.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0, max_idle: int = 8,
                 create: bool = True, check_seconds: float = 1.0):
        text = os.fspath(path)
        if text in ("", ":memory:") or text.startswith("file:"):
            # Each pooled connection would get its own empty in-memory database.
            raise StoreError(f"the client store needs a file path, not {text!r}")
        self.path = Path(text).expanduser()
        self._timeout = timeout
        self._max_idle = max_idle
        self._check_seconds = check_seconds
        if not self.path.parent.is_dir():
            raise StoreError(f"the directory of the client store {str(self.path)!r} does not "
                             "exist; create it first, or give another path")
        if not create and not self.path.is_file():
            raise StoreError(f"no client store at {str(self.path)!r}; create a client first "
                             "(scopes clients create), or give the path of an existing one")
        try:
            # The file holds secret hashes: readable by its owner only. SQLite gives its -wal and
            # -shm files the same mode.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(
                f"cannot create the client store {str(self.path)!r}: {exc.strerror}"
            ) from None
        self._watch = threading.Lock()
        self._checked = time.monotonic()
        self._identity = _identity(self.path)
        self._ready = False
        self._pool: Pool[sqlite3.Connection] = self._new_pool()
        try:
            self._run(self._setup)
        except BaseException:
            self._pool.close()
            raise
        self._ready = True

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def create(self, client: Client) -> None:
        if not isinstance(client, Client):
            raise TypeError(f"create() takes a Client, not {type(client).__name__}")

        def insert(conn: sqlite3.Connection) -> None:
            try:
                _write(
                    conn,
                    f"INSERT INTO scopes_clients ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    _row(client),
                )
            except sqlite3.IntegrityError:
                raise ClientExists(client.client_id) from None

        self._run(insert)

    def get(self, client_id: str) -> Client | None:
        if not could_be_client_id(client_id):
            return None
        return self._run(lambda conn: _get(conn, client_id))

    def list(self) -> list[Client]:
        def select(conn: sqlite3.Connection) -> list[Client]:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM scopes_clients ORDER BY created_at, client_id"
            ).fetchall()
            return [_client(row) for row in rows]

        return self._run(select)

    def revoke(self, client_id: str, at: datetime | None = None) -> Client | None:
        if not could_be_client_id(client_id):
            revocation_time(at)  # still refuse a bad `at`
            return None
        when = _timestamp(revocation_time(at))
        sql = "UPDATE scopes_clients SET revoked_at = COALESCE(revoked_at, ?) WHERE client_id = ?"
        return self._run(lambda conn: _write(conn, sql, (when, client_id), client_id))

    def set_secret_hash(self, client_id: str, secret_hash: str) -> Client | None:
        secret_hash = checked_secret_hash(secret_hash)
        if not could_be_client_id(client_id):
            return None
        sql = "UPDATE scopes_clients SET secret_hash = ? WHERE client_id = ?"
        return self._run(lambda conn: _write(conn, sql, (secret_hash, client_id), client_id))

    def close(self) -> None:
        self._pool.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: no implicit transactions; we BEGIN and COMMIT ourselves.
            # check_same_thread=False: the pool lends a connection to one thread at a time.
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"cannot open the client store {str(self.path)!r}: {exc}"
            ) from None
        conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        return conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        self._use_wal(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT max(version) FROM scopes_schema_version").fetchone()
            if row[0] is None:
                conn.execute(
                    "INSERT INTO scopes_schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif row[0] > SCHEMA_VERSION:
                raise StoreError(
                    f"the client store {str(self.path)!r} has schema version {row[0]}, newer than"
                    f" this version of scopes understands ({SCHEMA_VERSION}); upgrade scopes"
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        # WAL is a property of the file, kept across connections; asking again is a no-op. The
        # switch itself takes an exclusive lock without calling the busy handler, so workers
        # opening a new database together see "database is locked" at once: wait here instead.
        deadline = time.monotonic() + self._timeout
        pause = 0.005
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.1)

    def _new_pool(self) -> Pool[sqlite3.Connection]:
        return Pool(self._connect, sqlite3.Connection.close, max_idle=self._max_idle)

    def _watch_file(self) -> None:
        """Notice, at most once per check_seconds, that the file is gone or another one."""
        now = time.monotonic()
        if now - self._checked < self._check_seconds or not self._ready:
            return
        with self._watch:
            if now - self._checked < self._check_seconds:
                return
            self._checked = now
            identity = _identity(self.path)
            if identity == self._identity:
                return
            # Gone, replaced or written over: the open connections read the old file (or cache
            # its pages). Close them first (their WAL goes back into the old file), then open
            # the file that is there now, if there is one; our own writes show here too, and
            # cost a reopen at most once per check_seconds.
            old, self._pool = self._pool, self._new_pool()
            old.close()
            self._identity = identity
        if identity is None:
            raise StoreUnavailable(f"the client store {str(self.path)!r} is gone")

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        self._watch_file()
        if self._identity is None:
            raise StoreUnavailable(f"the client store {str(self.path)!r} is gone")
        conn, _ = self._pool.acquire()
        try:
            result = operation(conn)
        except sqlite3.OperationalError as exc:
            # "database is locked" past busy_timeout, a vanished directory, a full disk: try later.
            self._pool.discard(conn)
            raise StoreUnavailable(f"client store {str(self.path)!r}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            # Corrupted under a running server: an outage until the file is usable again. At
            # open time, it is no client store at all.
            self._pool.discard(conn, idle_too=True)
            kind = StoreUnavailable if self._ready else StoreError
            raise kind(f"client store {str(self.path)!r}: {exc}") from None
        except BaseException:
            if conn.in_transaction:
                self._pool.discard(conn)
            else:
                self._pool.release(conn)
            raise
        self._pool.release(conn)
        return result


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """Which file is at `path` now, and which content (device, inode, size, mtime); None when
    there is none. A change of content behind SQLite's back (a file written over in place)
    shows too: connections with a warm page cache would not read it again."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _write(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any], client_id: str | None = None
) -> Client | None:
    """Run one write in its own immediate transaction; then read back `client_id` if given."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(sql, params)
        client = None if client_id is None else _get(conn, client_id)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return client


def _get(conn: sqlite3.Connection, client_id: str) -> Client | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM scopes_clients WHERE client_id = ?", (client_id,)
    ).fetchone()
    return None if row is None else _client(row)


def _row(client: Client) -> tuple[Any, ...]:
    return (
        client.client_id,
        client.secret_hash,
        client.scope,
        client.role,
        json.dumps(list(client.audiences), ensure_ascii=False),
        int(client.any_user),
        client.lifetime,
        client.max_lifetime,
        _timestamp(client.created_at),
        None if client.revoked_at is None else _timestamp(client.revoked_at),
    )


def _client(row: Sequence[Any]) -> Client:
    (
        client_id,
        secret_hash,
        scope,
        role,
        audiences,
        any_user,
        lifetime,
        max_lifetime,
        created,
        revoked,
    ) = row
    return Client(
        client_id=client_id,
        secret_hash=secret_hash,
        scope=scope,
        audiences=tuple(json.loads(audiences)),
        any_user=bool(any_user),
        lifetime=lifetime,
        max_lifetime=max_lifetime,
        created_at=datetime.fromisoformat(created),
        revoked_at=None if revoked is None else datetime.fromisoformat(revoked),
        role=role,
    )


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")
