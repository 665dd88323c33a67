"""PublicKeys.from_url against a real HTTP server on 127.0.0.1: when the JWKS is fetched, and
what happens when the server rotates, fails, or serves something unusable. The clock is a fake
one, so nothing sleeps."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scopes.errors import TokenError
from scopes.tokens import KeyRing, PublicKeys, TokenVerifier, issue_token, verify_token

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
NOW = 1_800_000_000


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class JwksServer:
    """Serves `body` (JSON of `document` unless set) with `status`, counting requests."""

    def __init__(self) -> None:
        self.document: object = {"keys": []}
        self.body: bytes | None = None
        self.status = 200
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner.requests += 1
                body = owner.body if owner.body is not None else json.dumps(owner.document).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"


@pytest.fixture
def server() -> Iterator[JwksServer]:
    jwks = JwksServer()
    thread = threading.Thread(target=jwks.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield jwks
    finally:
        jwks.server.shutdown()
        jwks.server.server_close()
        thread.join()


@pytest.fixture
def ring(tmp_path) -> KeyRing:
    return KeyRing.open(tmp_path / "keys")


def mint(ring) -> str:
    return issue_token(ring, issuer=ISSUER, subject="svc", audience=AUDIENCE, client_id="c",
                       scope="read:brands", lifetime=600, now=NOW)


def check(token, keys) -> str:
    return verify_token(token, keys, audience=AUDIENCE, issuer=ISSUER, now=NOW + 1).kid


def refused(token, keys) -> TokenError:
    with pytest.raises(TokenError) as caught:
        check(token, keys)
    return caught.value


def test_fetched_on_first_use_then_kept_for_the_cache_lifetime(server, ring):
    server.document = ring.jwks()
    clock = FakeClock()
    keys = PublicKeys.from_url(server.url, cache_seconds=300, clock=clock)
    assert server.requests == 0, "nothing is fetched before it is needed"
    token = mint(ring)
    assert check(token, keys) == ring.signing_key.kid
    assert server.requests == 1
    clock.now = 299
    assert check(token, keys) and check(token, keys)
    assert server.requests == 1
    clock.now = 300
    assert check(token, keys)
    assert server.requests == 2, "fetched again once the cache lifetime is over"
    assert keys.jwks() == ring.jwks()


def test_an_unknown_kid_fetches_again_at_most_once_a_minute(server, ring):
    server.document = ring.jwks()
    clock = FakeClock()
    keys = PublicKeys.from_url(server.url, clock=clock)
    assert check(mint(ring), keys)
    assert server.requests == 1
    ring.rotate()  # the issuer rotates; its JWKS now has the new key too
    server.document = ring.jwks()
    clock.now = 10
    assert check(mint(ring), keys) == ring.signing_key.kid, "the new kid made us fetch again"
    assert server.requests == 2
    stranger = mint(KeyRing.open(ring.path.parent / "stranger"))
    for moment in (20, 30, 69.9):
        clock.now = moment
        assert refused(stranger, keys).reason == "unknown-kid"
    assert server.requests == 2, "made-up kids within the minute cost no request"
    clock.now = 70
    assert refused(stranger, keys).reason == "unknown-kid"
    assert server.requests == 3
    clock.now = 75
    assert refused(stranger, keys).reason == "unknown-kid"
    assert server.requests == 3


def test_an_unknown_kid_right_after_a_fetch_does_not_fetch_twice(server, ring, tmp_path):
    server.document = ring.jwks()
    keys = PublicKeys.from_url(server.url, clock=FakeClock())
    stranger = mint(KeyRing.open(tmp_path / "stranger"))
    assert refused(stranger, keys).reason == "unknown-kid"
    assert server.requests == 1


def test_a_failed_fetch_keeps_the_keys_and_is_retried_later(server, ring):
    server.document = ring.jwks()
    clock = FakeClock()
    keys = PublicKeys.from_url(server.url, cache_seconds=300, retry_seconds=10, clock=clock)
    token = mint(ring)
    assert check(token, keys)
    server.status = 500
    clock.now = 300
    assert check(token, keys), "stale keys beat no keys"
    assert server.requests == 2
    assert keys.last_error == "the server answered HTTP 500"
    clock.now = 305
    assert check(token, keys)
    assert server.requests == 2, "not retried within retry_seconds"
    server.status = 200
    clock.now = 310
    assert check(token, keys)
    assert server.requests == 3 and keys.last_error is None
    clock.now = 400
    assert check(token, keys)
    assert server.requests == 3, "a good fetch starts a new cache lifetime"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>", id="not-json"),
        pytest.param(b'{"keys": []}', id="no-keys"),
        pytest.param(b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}', id="only-hmac"),
        pytest.param(b'{"keys": [' + b" " * (1024 * 1024) + b"]}", id="over-1MiB"),
    ],
)
def test_an_unusable_document_does_not_replace_good_keys(server, ring, body):
    server.document = ring.jwks()
    clock = FakeClock()
    keys = PublicKeys.from_url(server.url, clock=clock)
    token = mint(ring)
    assert check(token, keys)
    server.body = body
    assert keys.refresh() is False
    assert server.requests == 2 and keys.last_error
    assert check(token, keys)


def test_no_keys_at_all_is_keys_unavailable(server, ring):
    server.status = 503
    clock = FakeClock()
    keys = PublicKeys.from_url(server.url, retry_seconds=10, clock=clock)
    error = refused(mint(ring), keys)
    assert error.reason == "keys-unavailable"
    assert str(error) == (f"no keys to verify with: the JWKS at '{server.url}' could not be fetched (the server answered HTTP 503)")
    server.status = 200
    server.document = ring.jwks()
    clock.now = 5
    assert refused(mint(ring), keys).reason == "keys-unavailable", "retried after retry_seconds only"
    clock.now = 10
    assert check(mint(ring), keys)


def test_an_unreachable_server_is_keys_unavailable(ring):
    keys = PublicKeys.from_url("http://127.0.0.1:9/jwks.json", timeout=2, clock=FakeClock())
    error = refused(mint(ring), keys)
    assert error.reason == "keys-unavailable"
    assert "(cannot connect: Connection refused)" in str(error) and "URLError" not in str(error)


def test_only_http_and_https_urls(server):
    for url in ("file:///etc/passwd", "ftp://example.com/jwks", "/jwks.json", "127.0.0.1/jwks"):
        with pytest.raises(ValueError, match="a JWKS URL must start with https:// or http://"):
            PublicKeys.from_url(url)
    assert PublicKeys.load(server.url).url == server.url
    assert PublicKeys.load("HTTPS://auth.example/jwks").url == "HTTPS://auth.example/jwks"


def test_a_verifier_drops_cached_tokens_of_a_withdrawn_key(server, ring, tmp_path):
    server.document = ring.jwks()
    clock = FakeClock()
    verifier = TokenVerifier(PublicKeys.from_url(server.url, clock=clock), audience=AUDIENCE, issuer=ISSUER,
                             clock=lambda: NOW + 1)
    token = mint(ring)
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    replacement = KeyRing.open(tmp_path / "replacement")
    server.document = replacement.jwks()  # the issuer withdrew the key
    clock.now = 300
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason == "unknown-kid"
    assert verifier.verify(mint(replacement)).kid == replacement.signing_key.kid


def test_an_injected_fetch(ring):
    calls = []

    def fetch(url: str, timeout: float) -> bytes:
        calls.append((url, timeout))
        return json.dumps(ring.jwks()).encode()

    keys = PublicKeys.from_url("https://auth.example/jwks", fetch=fetch, timeout=1.5, clock=FakeClock())
    assert check(mint(ring), keys)
    assert calls == [("https://auth.example/jwks", 1.5)]
