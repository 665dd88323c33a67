"""scopes in front of an API with a real nginx: examples/nginx/scopes.conf, run as written."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from scopes import Policy
from tests.attack_paths import ATTACK_PATHS, CASE_VARIANTS
from tests.servers import free_port, scopes_server
from tests.test_gateway import authz as _authz_fixture  # noqa: F401
from tests.test_gateway import issuer, tokens  # noqa: F401  (fixtures)
from tests.test_service import AUDIENCE

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nginx" / "scopes.conf"


class Recorder(BaseHTTPRequestHandler):
    """The upstream API: answers 200 and records every request that reaches it."""

    seen: list[dict] = []

    def _answer(self) -> None:
        Recorder.seen.append({"method": self.command, "target": self.path,
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


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # readiness polling
    raise RuntimeError("nginx did not start")


@pytest.fixture(scope="module")
def stack(issuer, tmp_path_factory):  # noqa: F811
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_bin).exists():
        pytest.fail("nginx not found: install Debian's nginx package (.ci/run does)")
    tmp = tmp_path_factory.mktemp("nginx")
    api = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    with scopes_server(tmp, name="authz", extra=[
        "--authz-only", "--jwks", f"{issuer.url}/.well-known/jwks.json",
        "--audience", AUDIENCE, "--issuer", issuer.url,
    ]) as authz:
        port = free_port()
        site = EXAMPLE.read_text()
        for default, actual in (("127.0.0.1:9000", f"127.0.0.1:{api.server_port}"),
                                ("127.0.0.1:8081", f"127.0.0.1:{authz.port}"),
                                ("127.0.0.1:8080", f"127.0.0.1:{port}")):
            assert default in site
            site = site.replace(default, actual)
        (tmp / "site.conf").write_text(site)
        (tmp / "nginx.conf").write_text(f"""
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
""")
        process = subprocess.Popen([nginx_bin, "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, process, tmp / "error.log")
            yield f"http://127.0.0.1:{port}", port
        finally:
            process.terminate()
            process.wait(timeout=10)
            api.shutdown()
            api.server_close()


def test_allowed_requests_reach_the_api_with_who_the_token_is_for(stack, tokens):  # noqa: F811
    url, _ = stack
    before = len(Recorder.seen)
    answer = httpx.get(f"{url}/users/pigeon/preferences?page=2",
                       headers={"Authorization": f"Bearer {tokens['user']}"})
    assert answer.status_code == 200 and answer.json() == {"upstream": True}
    (seen,) = Recorder.seen[before:]
    assert seen["target"] == "/users/pigeon/preferences?page=2"
    assert seen["headers"]["x-scopes-subject"] == tokens["client_id"]
    assert seen["headers"]["x-scopes-client-id"] == tokens["client_id"]
    assert seen["headers"]["x-scopes-user-ids"] == "pigeon"


def test_denied_requests_get_401_and_403_with_challenges(stack, tokens):  # noqa: F811
    url, _ = stack
    before = len(Recorder.seen)
    none = httpx.get(f"{url}/brands/acme")
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == 'Bearer realm="scopes"'
    bad = httpx.get(f"{url}/brands/acme", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    other = httpx.get(f"{url}/brands/other", headers={"Authorization": f"Bearer {tokens['bearer']}"})
    assert other.status_code == 403
    assert other.headers["www-authenticate"] == (
        'Bearer realm="scopes", error="insufficient_scope", scope="read:brands:other"')
    graphql = httpx.post(f"{url}/client/q", json={"query": "{ messages { id } }"},
                         headers={"Authorization": f"Bearer {tokens['user']}"})
    assert graphql.status_code == 403  # nginx sends no body to auth_request: scopes cannot decide
    assert len(Recorder.seen) == before


def _raw_request(port: int, target: bytes, token: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: api.example\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\nConnection: close\r\n\r\n")
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


EXTRA_ATTACKS = [
    "/brands/acme/..%2Fother", "/brands/acme/%2e%2e/other", "/brands/acme/../other",
    "/brands/./other", "/brands//other", "/brands/other;acme", "/brands/acme%00/x",
    "/brands/%61cme", "/BRANDS/acme", "/Brands/acme", "/brands/ACME", "/brands/Acme", "/brands/acme#x", "/brands\\other", "/brands/%2561cme",
    "//brands/other", "/brands/other?x=/brands/acme", "http://api.example/brands/other",
    "/users/pigeon/../bluebird/preferences", "/users/pigeon%2F..%2Fbluebird/preferences",
]


def test_attack_paths_never_reach_the_api_for_what_the_token_may_not_access(stack, tokens):  # noqa: F811
    """Raw bytes on a socket (HTTP clients normalize paths): whatever nginx lets through to the
    API, the token may access exactly as the API received it."""
    _, port = stack
    token = tokens["bearer"]
    policy = Policy.courier()
    scopes = policy.parse("user_id:pigeon read:brands:acme read:preferences read:messages")
    targets = [raw for raw, _ in ATTACK_PATHS if isinstance(raw, str)] + EXTRA_ATTACKS + CASE_VARIANTS
    before = len(Recorder.seen)
    statuses = {}
    for raw in targets:
        if len(raw) > 8000 or "\r" in raw or "\n" in raw:
            continue  # a request line nginx cannot even read is no attack on the API
        reply = _raw_request(port, raw.encode("utf-8", "surrogatepass"), token)
        statuses[raw] = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    reached = Recorder.seen[before:]
    for request in reached:
        decision = policy.authorize(scopes, request["method"], request["target"])
        assert decision.allowed, (request["target"], decision.reason)
    assert len(statuses) > 100
    assert statuses["/brands/acme/..%2Fother"] in (400, 403)
    assert statuses["/brands/%61cme"] == 403  # an encoded unreserved letter: refused
