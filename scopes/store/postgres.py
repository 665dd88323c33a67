"""The shared client store: PostgreSQL through psycopg 3, for several replicas behind a balancer.

psycopg is imported when a store is opened, so the SQLite default works without the `postgres`
extra. Nothing may hang a token request (DESIGN.md, "Token service contract": 503 within a few
seconds, then recover by itself): connecting gives up after `connect_timeout` seconds, a statement
after `statement_timeout`, a wait for a free connection after a few seconds. A connection that
failed is closed with every idle one (the server is likely gone or restarted) and the next call
connects afresh. A call that fails on a connection reused from the pool is tried once more on a
new one, so a server restart costs no request at all; every operation is one statement that is
safe to repeat.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

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

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]


def __dir__() -> list[str]:
    return __all__


T = TypeVar("T")


# The same tables as the SQLite store, in PostgreSQL's types. Names are prefixed, so the tables
# can live in a database (or schema, through search_path) shared with other applications.
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scopes_schema_version (version integer NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS scopes_clients (
        client_id    text PRIMARY KEY,
        secret_hash  text NOT NULL,
        scope        text NOT NULL,
        role         text,
        audiences    text[] NOT NULL,
        any_user     boolean NOT NULL,
        lifetime     bigint NOT NULL CHECK (lifetime > 0),
        max_lifetime bigint NOT NULL CHECK (max_lifetime >= lifetime),
        created_at   timestamptz NOT NULL,
        revoked_at   timestamptz
    )""",
)

# Replicas starting together would race on CREATE TABLE (a unique violation in pg_type); one
# transaction-scoped advisory lock makes them take turns. The key is "scopes" in ASCII.
_SCHEMA_LOCK = 0x73636F706573


class PostgresStore(ClientStore):
    """Clients in the PostgreSQL database at `url` (a `postgresql://` URL or a libpq conninfo).

    Opening connects once and creates the tables if they are missing, so an unreachable server
    raises `StoreUnavailable` here already. `connect_timeout` applies unless the URL sets its own.
    At most `max_connections` are open at once per store; `max_idle` are kept between calls.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = 3,
        statement_timeout: float = 5.0,
        max_connections: int = 10,
        max_idle: int = 4,
    ) -> None:
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict, make_conninfo
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs psycopg 3: pip install 'scopes-policy[postgres]'"
            ) from None
        self._psycopg = psycopg
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or ["unreadable"])[0]
            for secret in (url, _url_password(url)):
                reason = _redact(reason, secret)
            raise StoreError(f"invalid PostgreSQL URL: {reason}") from None
        self._where = _describe(params)
        password = params.get("password")
        self._secrets = [url] + ([str(password)] if password else [])
        ms = max(1, int(statement_timeout * 1000))
        # Server-side limits: a statement (lock waits included) and a transaction left open end.
        extra = (
            f"-c statement_timeout={ms} -c idle_in_transaction_session_timeout={ms * 2}"
            " -c TimeZone=UTC"
        )
        params["options"] = f"{params.get('options') or ''} {extra}".strip()
        params.setdefault("connect_timeout", str(connect_timeout))
        params.setdefault("application_name", "scopes")
        # Notice a peer that vanished without closing the socket within about ten seconds.
        params.setdefault("keepalives", "1")
        params.setdefault("keepalives_idle", "5")
        params.setdefault("keepalives_interval", "2")
        params.setdefault("keepalives_count", "3")
        self._conninfo = make_conninfo("", **params)
        self._pool: Pool[psycopg.Connection[Any]] = Pool(
            self._connect,
            psycopg.Connection.close,
            max_idle=max_idle,
            max_open=max_connections,
            wait=connect_timeout + statement_timeout,
        )
        try:
            self._run(lambda conn, retried: self._setup(conn))
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r})"

    def create(self, client: Client) -> None:
        if not isinstance(client, Client):
            raise TypeError(f"create() takes a Client, not {type(client).__name__}")
        errors = self._psycopg.errors

        def insert(conn: psycopg.Connection[Any], retried: bool) -> None:
            try:
                conn.execute(
                    f"INSERT INTO scopes_clients ({COLUMNS})"
                    " VALUES (%s, %s, %s, %s, %s::text[], %s, %s, %s, %s, %s)",
                    _row(client),
                )
            except errors.UniqueViolation:
                # On a second try the first may have committed before the connection broke: the
                # row is then ours (its secret hash has a fresh random salt), not a clash.
                if retried and _get(conn, client.client_id) == client:
                    return
                raise ClientExists(client.client_id) from None

        self._run(insert)

    def get(self, client_id: str) -> Client | None:
        if not could_be_client_id(client_id):
            return None
        return self._run(lambda conn, retried: _get(conn, client_id))

    def list(self) -> list[Client]:
        def select(conn: psycopg.Connection[Any], retried: bool) -> list[Client]:
            # COLLATE "C": ties sort by code point, as in SQLite, whatever the database's locale.
            rows = conn.execute(
                f'SELECT {COLUMNS} FROM scopes_clients ORDER BY created_at, client_id COLLATE "C"'
            ).fetchall()
            return [_client(row) for row in rows]

        return self._run(select)

    def revoke(self, client_id: str, at: datetime | None = None) -> Client | None:
        if not could_be_client_id(client_id):
            revocation_time(at)  # still refuse a bad `at`
            return None
        when = revocation_time(at)
        sql = (
            "UPDATE scopes_clients SET revoked_at = COALESCE(revoked_at, %s)"
            f" WHERE client_id = %s RETURNING {COLUMNS}"
        )
        return self._run(lambda conn, retried: _one(conn, sql, (when, client_id)))

    def set_secret_hash(self, client_id: str, secret_hash: str) -> Client | None:
        secret_hash = checked_secret_hash(secret_hash)
        if not could_be_client_id(client_id):
            return None
        sql = (
            f"UPDATE scopes_clients SET secret_hash = %s WHERE client_id = %s RETURNING {COLUMNS}"
        )
        return self._run(lambda conn, retried: _one(conn, sql, (secret_hash, client_id)))

    def close(self) -> None:
        self._pool.close()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            # autocommit: every operation is a single statement, atomic on its own.
            return self._psycopg.connect(self._conninfo, autocommit=True)
        except self._psycopg.OperationalError as exc:
            raise StoreUnavailable(
                f"cannot reach the client store at {self._where}: {self._why(exc)}"
            ) from None

    def _setup(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            # Create only what is missing: an application role without CREATE rights (the
            # default on the public schema since PostgreSQL 15) can use tables made for it.
            row = conn.execute("SELECT to_regclass('scopes_schema_version')").fetchone()
            if row is None or row[0] is None:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO scopes_schema_version (version) VALUES (%s)", (SCHEMA_VERSION,)
                )
                return
            row = conn.execute("SELECT max(version) FROM scopes_schema_version").fetchone()
            version = None if row is None else row[0]
            if version is None:
                conn.execute(
                    "INSERT INTO scopes_schema_version (version) VALUES (%s)", (SCHEMA_VERSION,)
                )
            elif version > SCHEMA_VERSION:
                raise StoreError(
                    f"the client store at {self._where} has schema version {version}, newer than"
                    f" this version of scopes understands ({SCHEMA_VERSION}); upgrade scopes"
                )

    def _run(self, operation: Callable[[psycopg.Connection[Any], bool], T]) -> T:
        psycopg = self._psycopg
        retried = False
        while True:
            conn, reused = self._pool.acquire()
            try:
                result = operation(conn, retried)
            except psycopg.OperationalError as exc:
                lost = conn.broken or conn.closed
                self._pool.discard(conn, idle_too=lost)
                if lost and reused and not retried:
                    retried = True
                    continue
                raise StoreUnavailable(f"client store at {self._where}: {self._why(exc)}") from None
            except psycopg.Error as exc:
                self._pool.discard(conn)
                raise StoreError(f"client store at {self._where}: {self._why(exc)}") from None
            except BaseException:
                idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                self._pool.release(conn) if idle else self._pool.discard(conn)
                raise
            self._pool.release(conn)
            return result

    def _why(self, exc: BaseException) -> str:
        # libpq's first line says what happened; it never holds the password, but a conninfo
        # echoed back might, so scrub both anyway.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        for secret in self._secrets:
            first = _redact(first, secret)
        return first


def _one(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> Client | None:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else _client(row)


def _get(conn: psycopg.Connection[Any], client_id: str) -> Client | None:
    return _one(conn, f"SELECT {COLUMNS} FROM scopes_clients WHERE client_id = %s", (client_id,))


def _row(client: Client) -> tuple[Any, ...]:
    return (
        client.client_id,
        client.secret_hash,
        client.scope,
        client.role,
        list(client.audiences),
        client.any_user,
        client.lifetime,
        client.max_lifetime,
        client.created_at,
        client.revoked_at,
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
        audiences=tuple(audiences),
        any_user=any_user,
        lifetime=lifetime,
        max_lifetime=max_lifetime,
        created_at=created,
        revoked_at=revoked,
        role=role,
    )


def _describe(params: dict[str, Any]) -> str:
    """host:port/dbname, without user or password: what error messages may show."""
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or ""
    return f"{host}:{port}/{dbname}"


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text
