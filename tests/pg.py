"""A real PostgreSQL server for tests: initdb and pg_ctl in a temporary directory on a free port.

Use the `postgres_server` fixture (one server per test session, shared by every module that asks
for it) and `postgres_url` (a new empty database on it, per test), or `PostgresServer` directly
for a server of a test's own, for example to stop and start it:

    with PostgresServer() as server:
        url = server.create_database()
        ...
        server.stop()
        server.start()

The server binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/<N>/bin`), or
the directory in `SCOPES_PG_BIN`, or `PATH`. Without them the tests fail, not skip: CI installs the
package. initdb refuses to run as root, so as root every server command runs as the `postgres`
user (`runuser -u postgres --`, else `su postgres -c`) on a directory handed to that user. The
server trusts every connection, listens on 127.0.0.1 only, keeps its socket in its own directory
and trades durability for speed (fsync off): it is for tests only.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

__all__ = ["PostgresServer", "find_bindir", "postgres_server", "postgres_url"]

INSTALL_HINT = (
    "install the `postgresql` package (apt-get install postgresql; .ci/run installs it when"
    " missing), or point SCOPES_PG_BIN at the directory holding initdb and pg_ctl"
)


def find_bindir() -> Path | None:
    """The directory with initdb and pg_ctl: $SCOPES_PG_BIN, Debian's newest, or PATH."""
    candidates: list[Path] = []
    if os.environ.get("SCOPES_PG_BIN"):
        candidates.append(Path(os.environ["SCOPES_PG_BIN"]))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version_key(p.parent.name), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throwaway PostgreSQL cluster; `start()` makes it on first use, `cleanup()` removes it."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            pytest.fail(
                f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_HINT}",
                pytrace=False,
            )
        self.bindir = found
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.user = "postgres"
        self._as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="scopes-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "server.log"
        self._initialized = False
        self._running = False
        if self._as_root:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                pytest.fail(
                    f"running as root, but there is no `postgres` user: {INSTALL_HINT}",
                    pytrace=False,
                )
            # tempfile made the directory 0700 and root's; the server runs as postgres.
            os.chown(self.root, account.pw_uid, account.pw_gid)
        atexit.register(self.cleanup)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def start(self) -> None:
        if self._running:
            return
        if not self._initialized:
            self._initdb()
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "30",
            "start",
            what="start the server",
        )
        self._running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `fast` ends every session at once (clients see their connection go)."""
        if not self._running:
            return
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-m",
            mode,
            "-w",
            "-t",
            "30",
            "stop",
            what="stop the server",
        )
        self._running = False

    def cleanup(self) -> None:
        """Stop the server and delete its files; safe to call twice (atexit calls it too)."""
        try:
            self.stop()
        except BaseException:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.cleanup)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database on the running server; returns its URL."""
        import psycopg
        from psycopg import sql

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            what="initialize a cluster",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        # Appending keeps the file's owner (postgres) and overrides initdb's values.
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/pg.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._initialized = True

    def _run(self, program: str, *args: str, what: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            if shutil.which("runuser"):
                command = ["runuser", "-u", "postgres", "--", *command]
            else:
                command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        # Output to a file, not a pipe: pg_ctl's server must not hold our pipe open.
        with tempfile.TemporaryFile() as out:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                timeout=60,
            )
            out.seek(0)
            output = out.read().decode(errors="replace")
        if done.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            pytest.fail(
                f"could not {what} (exit {done.returncode}): {shlex.join(command)}\n"
                f"{output[-2000:]}\n{log}",
                pytrace=False,
            )


_shared: PostgresServer | None = None
_users = 0


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started on first use and stopped after the last test.

    Modules that import this fixture (and tests/conftest.py, if it does) share one server.
    """
    global _shared, _users
    if _shared is None:
        server = PostgresServer()
        server.start()
        _shared = server
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.cleanup()
            _shared = None


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres_server.create_database()
