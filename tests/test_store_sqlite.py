"""Tests for scopes.store.sqlite: WAL, the file, and several worker processes on one database."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import traceback
from datetime import timedelta
from pathlib import Path

import pytest

from scopes.store import Client, SQLiteStore, StoreError, StoreUnavailable, open_store
from tests.test_store import T0, make_client

PROCESSES = 8
PER_PROCESS = 25


def _worker(path: str, n: int, start: multiprocessing.synchronize.Barrier, out: object) -> None:
    """One server worker: open the (maybe new) database with the others, then write and read."""
    try:
        start.wait(timeout=30)
        with open_store(path) as store:
            for i in range(PER_PROCESS):
                client = make_client(f"cl_p{n}_{i:02}", created_at=T0 + timedelta(seconds=i))
                store.create(client)
                # Read our own write, and whatever the others have written so far.
                assert store.get(client.client_id) == client
                assert store.get(f"cl_p{(n + 1) % PROCESSES}_00") in (
                    None,
                    make_client(f"cl_p{(n + 1) % PROCESSES}_00", created_at=T0),
                )
                if i % 5 == 0:
                    store.list()
        out.put((n, None))  # type: ignore[attr-defined]
    except BaseException:
        out.put((n, traceback.format_exc()))  # type: ignore[attr-defined]


def test_eight_processes_write_and_read_at_once(tmp_path: Path) -> None:
    """Eight worker processes open one new database together and each create and read 25
    clients: none lost, no 'database is locked', every one readable from a ninth store."""
    (tmp_path / "workers").mkdir()
    path = str(tmp_path / "workers" / "clients.db")
    context = multiprocessing.get_context("spawn")  # as server workers start: nothing inherited
    start = context.Barrier(PROCESSES)
    out = context.Queue()
    workers = [
        context.Process(target=_worker, args=(path, n, start, out)) for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    results = dict(out.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert {n: error for n, error in results.items() if error} == {}
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    with open_store(path) as store:
        ids = {client.client_id for client in store.list()}
    assert ids == {f"cl_p{n}_{i:02}" for n in range(PROCESSES) for i in range(PER_PROCESS)}


def _in_another_process(path: Path, statement: str) -> None:
    """Run `statement` on `cli`, a store opened on `path` by another Python process (the CLI)."""
    script = textwrap.dedent(
        f"""
        from scopes.store import open_store
        from tests.test_store import make_client
        with open_store({str(path)!r}) as cli:
            {statement}
        """
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", script], check=True, cwd=root, timeout=60)


def test_client_created_by_another_process_is_seen_at_once(tmp_path: Path) -> None:
    """The CLI writes in its own process; the running server's next call must see it."""
    path = tmp_path / "clients.db"
    with open_store(str(path)) as server:
        assert server.get("cl_from_cli") is None  # its pooled connection is open and warm
        _in_another_process(path, 'cli.create(make_client("cl_from_cli"))')
        assert server.get("cl_from_cli") == make_client("cl_from_cli")
        _in_another_process(path, 'cli.revoke("cl_from_cli")')
        client = server.get("cl_from_cli")
        assert client is not None and client.revoked


def test_database_is_wal_and_private(tmp_path: Path) -> None:
    path = tmp_path / "clients.db"
    with open_store(str(path)):
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "clients.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    with open_store(str(path)) as store:
        store.create(make_client())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_long_held_write_lock_is_unavailable_not_a_hang(tmp_path: Path) -> None:
    """Another process holding the write lock past busy_timeout: StoreUnavailable, then fine."""
    path = tmp_path / "clients.db"
    store = SQLiteStore(path, timeout=0.3)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        store.create(make_client("cl_blocked"))
    assert 0.2 < time.monotonic() - started < 3
    assert str(raised.value) == f"client store {str(path)!r}: database is locked"
    assert store.get("cl_blocked") is None  # reads go on beside a writer (WAL)
    blocker.execute("ROLLBACK")
    blocker.close()
    store.create(make_client("cl_blocked"))
    assert store.get("cl_blocked") == make_client("cl_blocked")
    store.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the clients you are looking for\n" * 100)
    with pytest.raises(StoreError) as raised:
        open_store(str(path))
    assert str(raised.value) == f"client store {str(path)!r}: file is not a database"
    assert not isinstance(raised.value, StoreUnavailable)


@pytest.mark.parametrize("where", ["missing/clients.db", "file/clients.db"])
def test_a_store_in_a_directory_that_does_not_exist_is_an_error_not_a_mkdir(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "file").write_text("")
    path = tmp_path / where
    with pytest.raises(StoreError) as raised:
        open_store(str(path))
    assert str(raised.value) == (
        f"the directory of the client store {str(path)!r} does not exist; create it first, "
        "or give another path"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_store_opened_only_to_read_is_never_created(tmp_path: Path) -> None:
    path = tmp_path / "clients.db"
    with pytest.raises(StoreError) as raised:
        open_store(str(path), create=False)
    assert "no client store at" in str(raised.value)
    assert list(tmp_path.iterdir()) == []
    open_store(str(path)).close()
    with open_store(str(path), create=False) as store:
        assert store.list() == []


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clients.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE scopes_schema_version SET version = 2")
    conn.close()
    with pytest.raises(StoreError) as raised:
        open_store(str(path))
    assert str(raised.value) == (
        f"the client store {str(path)!r} has schema version 2, newer than this version of scopes"
        " understands (1); upgrade scopes"
    )


def test_fork_does_not_share_connections(tmp_path: Path) -> None:
    """A store opened before a fork: the child opens its own connections, the parent's still
    work afterwards."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    path = tmp_path / "clients.db"
    with open_store(str(path)) as store:
        store.create(make_client("cl_parent"))
        context = multiprocessing.get_context("fork")
        child = context.Process(target=_create_in_child, args=(store,))
        child.start()
        child.join(timeout=30)
        assert child.exitcode == 0
        assert store.get("cl_child") == make_client("cl_child")
        assert [c.client_id for c in store.list()] == ["cl_child", "cl_parent"]


def _create_in_child(store: SQLiteStore) -> None:
    store.create(make_client("cl_child"))
    assert store.get("cl_parent") is not None
    store.close()


def test_store_repr_names_the_file(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "c.db")) as store:
        assert repr(store) == f"SQLiteStore({str(tmp_path / 'c.db')!r})"
        assert isinstance(store, SQLiteStore)
        assert isinstance(store.list(), list)
        assert all(isinstance(c, Client) for c in store.list())
