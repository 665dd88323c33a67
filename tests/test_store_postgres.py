"""Tests for scopes.store.postgres: a server that goes away and comes back, timeouts, URLs."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

import tests.pg
from scopes.store import ClientStore, StoreError, StoreUnavailable, open_store
from scopes.store.postgres import PostgresStore
from tests.pg import PostgresServer, postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.test_store import FAKE_HASH, make_client

# DESIGN.md, "Token service contract": a store that cannot be reached answers within seconds.
PROMPT = 5.0


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server of this module's own, which its tests stop and start."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def own_url(own_server: PostgresServer) -> Iterator[str]:
    own_server.start()
    yield own_server.create_database()
    own_server.start()  # leave it running for the next test, whatever this one did


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except Exception as exc:
        return exc, time.monotonic() - started


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def _operations(store: ClientStore) -> dict[str, Callable[[], object]]:
    return {
        "get": lambda: store.get("cl_known"),
        "list": store.list,
        "create": lambda: store.create(make_client()),
        "revoke": lambda: store.revoke("cl_known"),
        "set_secret_hash": lambda: store.set_secret_hash("cl_known", FAKE_HASH),
    }


def test_stopped_server_is_unavailable_then_recovers(
    own_server: PostgresServer, own_url: str
) -> None:
    """Every call fails fast with StoreUnavailable while the server is down, and the same store
    works again, by itself, once it is back."""
    where = f"127.0.0.1:{own_server.port}/{own_url.rsplit('/', 1)[1]}"
    store = open_store(own_url)
    store.create(make_client("cl_known"))
    assert store.get("cl_known") is not None  # a warm pooled connection, about to go stale
    own_server.stop()

    for name, call in _operations(store).items():
        outcome, took = _timed(call)
        assert isinstance(outcome, StoreUnavailable), (name, outcome)
        assert took < PROMPT, (name, took)
        assert str(outcome).startswith(
            f"cannot reach the client store at {where}: connection failed:"
        )
        assert "Connection refused" in str(outcome)
    outcome, took = _timed(lambda: open_store(own_url))
    assert isinstance(outcome, StoreUnavailable) and took < PROMPT

    own_server.start()
    assert store.get("cl_known") == make_client("cl_known")
    store.create(make_client("cl_after"))
    assert [c.client_id for c in store.list()][-1] in ("cl_after", "cl_known")
    store.close()


def test_a_restart_costs_no_request(own_server: PostgresServer, own_url: str) -> None:
    """Pooled connections die with the server; the next call of each kind reconnects and
    succeeds, a create included (it is not mistaken for a duplicate of itself)."""
    store = open_store(own_url)
    # Several idle connections in the pool: eight threads at once each need their own.
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        store.list()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, call in _operations(store).items():
        own_server.stop()
        own_server.start()
        outcome, took = _timed(call)
        assert not isinstance(outcome, Exception), (name, outcome)
        assert took < PROMPT
    assert len(store.list()) == 1
    store.close()


def test_nothing_listening_is_unavailable_at_once() -> None:
    url = f"postgresql://scopes:hunter2@127.0.0.1:{_closed_port()}/clients"
    outcome, took = _timed(lambda: open_store(url))
    assert isinstance(outcome, StoreUnavailable)
    assert took < PROMPT
    assert "hunter2" not in str(outcome) and "hunter2" not in repr(outcome)
    assert outcome.__cause__ is None and outcome.__suppress_context__


def test_a_held_lock_times_out_instead_of_hanging(postgres_url: str) -> None:  # noqa: F811
    store = PostgresStore(postgres_url, statement_timeout=0.3)
    store.create(make_client("cl_locked"))
    with psycopg.connect(postgres_url) as holder:
        holder.execute("LOCK TABLE scopes_clients IN ACCESS EXCLUSIVE MODE")
        outcome, took = _timed(lambda: store.get("cl_locked"))
        assert isinstance(outcome, StoreUnavailable)
        assert 0.2 < took < PROMPT
        assert str(outcome).endswith(": canceling statement due to statement timeout")
        holder.rollback()
    assert store.get("cl_locked") == make_client("cl_locked")
    store.close()


def test_busy_connections_make_callers_wait_boundedly(postgres_url: str) -> None:  # noqa: F811
    store = PostgresStore(postgres_url, connect_timeout=1, statement_timeout=0.2, max_connections=2)
    held = [store._pool.acquire()[0] for _ in range(2)]
    outcome, took = _timed(lambda: store.get("cl_x"))
    assert isinstance(outcome, StoreUnavailable)
    assert str(outcome) == "all 2 database connections stayed busy for 1.2s"
    assert 1.0 < took < PROMPT
    for conn in held:
        store._pool.release(conn)
    assert store.get("cl_x") is None
    store.close()


def test_replicas_opening_a_new_database_together(postgres_url: str) -> None:  # noqa: F811
    """Eight stores create the tables at once: one does, the others wait and use them."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_and_create(n: int) -> None:
        try:
            barrier.wait()
            with open_store(postgres_url) as store:
                store.create(make_client(f"cl_replica_{n}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with open_store(postgres_url) as store:
        assert len(store.list()) == 8


def test_url_options_are_kept(postgres_url: str) -> None:  # noqa: F811
    """Our timeouts are added to the URL's own `options`, not put in their place."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE SCHEMA tenant")
    with open_store(postgres_url + "?options=-csearch_path%3Dtenant") as store:
        store.create(make_client("cl_tenant"))
    with psycopg.connect(postgres_url) as admin:
        row = admin.execute("SELECT count(*) FROM tenant.scopes_clients").fetchone()
        assert row == (1,)
        assert admin.execute("SELECT to_regclass('public.scopes_clients')").fetchone() == (None,)


def test_tables_made_by_an_admin_need_no_create_right(postgres_url: str) -> None:  # noqa: F811
    """An application role that may not create tables uses the ones made for it."""
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS scopes_app")
        admin.execute("CREATE ROLE scopes_app LOGIN")
        admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        admin.execute("GRANT SELECT, INSERT, UPDATE ON scopes_clients TO scopes_app")
        admin.execute("GRANT SELECT ON scopes_schema_version TO scopes_app")
    app_url = postgres_url.replace("postgresql://postgres@", "postgresql://scopes_app@")
    with open_store(app_url) as store:
        store.create(make_client("cl_app"))
        assert store.get("cl_app") == make_client("cl_app")


def test_a_newer_schema_is_refused(postgres_url: str) -> None:  # noqa: F811
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url) as admin:
        admin.execute("UPDATE scopes_schema_version SET version = 2")
    where = postgres_url.split("@", 1)[1].replace("/", "/", 1)
    with pytest.raises(StoreError) as raised:
        open_store(postgres_url)
    assert str(raised.value) == (
        f"the client store at {where} has schema version 2, newer than this version of scopes"
        " understands (1); upgrade scopes"
    )
    assert not isinstance(raised.value, StoreUnavailable)


def test_an_invalid_url_names_no_password() -> None:
    with pytest.raises(StoreError) as raised:
        open_store("postgresql://u:hunter2@127.0.0.1/db?nonsense=1")
    assert str(raised.value) == 'invalid PostgreSQL URL: invalid URI query parameter: "nonsense"'


def test_without_psycopg_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(StoreError) as raised:
        open_store("postgresql://127.0.0.1/db")
    assert str(raised.value) == (
        "a postgresql:// store needs psycopg 3: pip install 'scopes-policy[postgres]'"
    )


def test_sqlite_users_never_import_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys, scopes.store\n"
        f"with scopes.store.open_store({str(tmp_path / 'c.db')!r}) as s: s.list()\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_server_binaries_fail_with_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CI installs PostgreSQL; a machine without it must say so, not skip the tests quietly."""
    monkeypatch.setattr(tests.pg, "find_bindir", lambda: None)
    with pytest.raises(pytest.fail.Exception) as failed:
        PostgresServer()
    assert str(failed.value) == (
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the `postgresql` package"
        " (apt-get install postgresql; .ci/run installs it when missing), or point SCOPES_PG_BIN"
        " at the directory holding initdb and pg_ctl"
    )
