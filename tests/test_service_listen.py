"""`scopes serve` says where it listens only once it does: the real port of --port 0, answering
at once (no polling); a port in use is a message and exit 2."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn")

LISTENING = re.compile(r"^scopes: listening on (http://127\.0\.0\.1:(\d+))$")


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "scopes", "serve", "--host", "127.0.0.1", "--port", "0",
         "--db", str(tmp_path / "s.db"), "--keys", str(tmp_path / "keys"), "--rate-limit", "0",
         *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )


def _announced(process: subprocess.Popen, timeout: float = 60) -> tuple[str, list[str]]:
    """The URL the server announces, and the lines before it; fails if it exits first."""
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr] + [lines.put("")],
                              daemon=True)
    reader.start()
    process.reader = reader  # type: ignore[attr-defined]  # joined by _stop
    before: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            raise AssertionError(f"serve exited with {process.wait()}:\n" + "".join(before))
        match = LISTENING.match(line.rstrip("\n"))
        if match:
            return match.group(1), before
        before.append(line)
    raise AssertionError("no 'listening on' line in time:\n" + "".join(before))


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader = getattr(process, "reader", None)
    if reader is not None:
        reader.join(timeout=15)  # it reaches the end of the pipe once the server is gone
    process.stderr.close()


@pytest.mark.parametrize("workers", [pytest.param("1", id="one-worker"), pytest.param("2", id="two-workers")])
def test_the_announced_address_answers_at_once_with_the_real_port(tmp_path, workers):
    process = _serve(tmp_path, "--workers", workers)
    try:
        url, before = _announced(process)  # stderr keeps being read, so the server never blocks
        assert not url.endswith(":0")
        # No retry loop: the announcement is the readiness signal.
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
        metadata = httpx.get(f"{url}/.well-known/oauth-authorization-server", timeout=30).json()
        assert metadata["issuer"] == url  # the issuer has the real port, not :0
        assert before[0] == f"scopes: serving {url} (keys: {tmp_path / 'keys'}, 1 key(s); registry: {tmp_path / 's.db'})\n"
    finally:
        _stop(process)


def test_a_port_in_use_is_a_usage_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "scopes", "serve", "--port", str(port), "--db",
             str(tmp_path / "s.db"), "--keys", str(tmp_path / "keys")],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ},
        )
    assert done.returncode == 2
    assert f"Error: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening on" not in done.stderr
