"""What the real-gateway end-to-end tests share (nginx, Caddy): a recording upstream API, raw
requests on a socket, and the path-attack corpus as they replay it."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from scopes import Policy
from tests.attack_paths import ATTACK_PATHS, CASE_VARIANTS
from tests.servers import Server, scopes_server
from tests.test_service import AUDIENCE

__all__ = ["EXTRA_ATTACKS", "RecordingAPI", "api_and_authz", "attack_targets",
           "check_allowed_reaches_the_api", "check_denied_get_the_challenges", "raw_request",
           "replay_attacks", "wait_for_port"]

EXTRA_ATTACKS = [
    "/brands/acme/..%2Fother", "/brands/acme/%2e%2e/other", "/brands/acme/../other",
    "/brands/./other", "/brands//other", "/brands/other;acme", "/brands/acme%00/x",
    "/brands/%61cme", "/BRANDS/acme", "/Brands/acme", "/brands/ACME", "/brands/Acme",
    "/brands/acme#x", "/brands\\other", "/brands/%2561cme",
    "//brands/other", "/brands/other?x=/brands/acme", "http://api.example/brands/other",
    "/users/pigeon/../bluebird/preferences", "/users/pigeon%2F..%2Fbluebird/preferences",
]


class RecordingAPI:
    """The upstream API: answers 200 `{"upstream": true}` and records every request that
    reaches it (method, target as received, headers with lower-case names) in `seen`."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                seen.append({"method": self.command, "target": self.path,
                             "headers": {k.lower(): v for k, v in self.headers.items()}})
                body = b'{"upstream": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, *args) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_port

    @contextmanager
    def running(self) -> Iterator[RecordingAPI]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def api_and_authz(tmp: Path, issuer: Server) -> Iterator[tuple[RecordingAPI, Server]]:
    """What a gateway stands in front of: the recording API, and `scopes serve --authz-only`
    trusting the issuer's published keys."""
    with RecordingAPI().running() as api, scopes_server(tmp, name="authz", extra=[
        "--authz-only", "--jwks", f"{issuer.url}/.well-known/jwks.json",
        "--audience", AUDIENCE, "--issuer", issuer.url,
    ]) as authz:
        yield api, authz


def wait_for_port(port: int, process: subprocess.Popen, log: Path, name: str) -> None:
    """Until something accepts on 127.0.0.1:`port`; fail with the log if `process` exits."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # readiness polling
    raise RuntimeError(f"{name} did not start:\n{log.read_text()}")


def raw_request(port: int, target: bytes, token: str | None, method: bytes = b"GET",
                headers: bytes = b"") -> bytes:
    """One request written as raw bytes (HTTP clients normalize paths), the whole reply read."""
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n" if token else b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(method + b" " + target + b" HTTP/1.1\r\nHost: api.example\r\n" + auth
                     + headers + b"Connection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def attack_targets() -> list[str]:
    """The corpus and the case variants, less what no gateway can even read as a request line
    (too long, or broken by CR/LF): that is no attack on the API."""
    targets = [raw for raw, _ in ATTACK_PATHS if isinstance(raw, str)]
    return [raw for raw in targets + EXTRA_ATTACKS + CASE_VARIANTS
            if len(raw) <= 8000 and "\r" not in raw and "\n" not in raw]


def replay_attacks(port: int, api: RecordingAPI, token: str, scope: str) -> dict[str, int]:
    """Send every attack target through the gateway on `port` with `token` (whose scopes are
    `scope`); whatever reached the API, the token may access exactly as the API received it.
    Returns each target's status (0 when the gateway gave no HTTP answer)."""
    policy = Policy.courier()
    scopes = policy.parse(scope)
    before = len(api.seen)
    statuses = {}
    for raw in attack_targets():
        reply = raw_request(port, raw.encode("utf-8", "surrogatepass"), token)
        statuses[raw] = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    for request in api.seen[before:]:
        decision = policy.authorize(scopes, request["method"], request["target"])
        assert decision.allowed, (request["target"], decision.reason)
    assert len(statuses) > 100
    return statuses


def check_allowed_reaches_the_api(url: str, api: RecordingAPI, tokens: dict[str, str]) -> dict:
    """An allowed request through the gateway at `url` reaches the API as sent, with who the
    token is for in X-Scopes-*; returns what the API received."""
    before = len(api.seen)
    answer = httpx.get(f"{url}/users/pigeon/preferences?page=2",
                       headers={"Authorization": f"Bearer {tokens['user']}"})
    assert answer.status_code == 200 and answer.json() == {"upstream": True}
    (seen,) = api.seen[before:]
    assert seen["target"] == "/users/pigeon/preferences?page=2"
    assert seen["headers"]["x-scopes-subject"] == tokens["client_id"]
    assert seen["headers"]["x-scopes-client-id"] == tokens["client_id"]
    assert seen["headers"]["x-scopes-user-ids"] == "pigeon"
    return seen


def check_denied_get_the_challenges(url: str, api: RecordingAPI, tokens: dict[str, str]
                                    ) -> dict[str, httpx.Response]:
    """No token, a bad one, one without the scope, and a GraphQL call (decided by a body the
    gateway does not send): 401 and 403 with RFC 6750's challenges, and the API sees none of
    them. Returns the answers by kind."""
    before = len(api.seen)
    none = httpx.get(f"{url}/brands/acme")
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == 'Bearer realm="scopes"'
    bad = httpx.get(f"{url}/brands/acme", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith(
        'Bearer realm="scopes", error="invalid_token", error_description="')
    other = httpx.get(f"{url}/brands/other", headers={"Authorization": f"Bearer {tokens['bearer']}"})
    assert other.status_code == 403
    assert other.headers["www-authenticate"] == (
        'Bearer realm="scopes", error="insufficient_scope", scope="read:brands:other"')
    graphql = httpx.post(f"{url}/client/q", json={"query": "{ messages { id } }"},
                         headers={"Authorization": f"Bearer {tokens['user']}"})
    assert graphql.status_code == 403
    assert len(api.seen) == before
    return {"none": none, "bad": bad, "other": other, "graphql": graphql}
