"""Real servers for end-to-end tests: `scopes serve` processes on free 127.0.0.1 ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(
    url: str, process: subprocess.Popen, log: Path, timeout: float = READY_TIMEOUT,
    healthy: bool = True,
) -> None:
    """Poll `url` until it answers 200 (with `healthy=False`, anything: a server that starts
    in an outage); fail with the server's output if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200 or not healthy:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # readiness polling, not a timing assumption
    process.kill()
    raise RuntimeError(f"server at {url} not ready within {timeout} s")


@contextmanager
def uvicorn_serving(app, **config) -> Iterator[int]:
    """`app` under a real uvicorn in a thread, on a free 127.0.0.1 port (yielded)."""
    import threading

    import uvicorn

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off", **config))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not server.started and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)  # readiness polling, not a timing assumption
            if not server.started:
                raise RuntimeError("uvicorn did not start")
            yield port
        finally:
            server.should_exit = True
            thread.join(10)


def run_cli(args: Sequence[str], env: dict[str, str] | None = None, check: bool = True):
    """Run the `scopes` command in a subprocess, as a user would."""
    done = subprocess.run(
        [sys.executable, "-m", "scopes", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"scopes {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


@dataclass
class Server:
    url: str
    port: int
    db: str
    keys: Path
    process: subprocess.Popen
    log: Path

    def cli(self, *args: str, check: bool = True):
        return run_cli([*args, "--db", self.db, "--keys", str(self.keys)], check=check)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def scopes_server(tmp: Path, *, db: str | None = None, keys: Path | None = None,
                  extra: Sequence[str] = (), name: str = "server",
                  healthy: bool = True) -> Iterator[Server]:
    """`scopes serve` on a free port with its own (or the given) database and key directory."""
    port = free_port()
    db = db or str(tmp / f"{name}.db")
    keys = keys or tmp / f"{name}-keys"
    log = tmp / f"{name}.log"
    url = f"http://127.0.0.1:{port}"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scopes", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--issuer", url, "--db", db, "--keys", str(keys), *extra],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    try:
        wait_until_ready(f"{url}/healthz", process, log, healthy=healthy)
        yield Server(url, port, db, keys, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
