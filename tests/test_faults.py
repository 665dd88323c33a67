"""Faults and abuse, end to end against real `scopes serve` processes (DESIGN.md, "Gateway
contract" and "Logs, limits and the registry"): repeated headers, key outages, a full disk, a
forged X-Forwarded-For, the registry deleted, replaced or corrupted under a running server."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import jwt
import pytest

from scopes.tokens.issue import issue_token
from scopes.tokens.keys import KeyRing
from tests.keyserver import KeyServer
from tests.servers import free_port, run_cli, scopes_server, wait_until_ready
from tests.test_service import AUDIENCE, access_token, create_client, mint, post_token

ISSUER = "https://auth.example"


def _token(ring: KeyRing, scope: str) -> str:
    return issue_token(ring, issuer=ISSUER, subject="svc", audience=AUDIENCE, client_id="svc",
                       scope=scope, lifetime=3600)


def _until(predicate, seconds: float = 10.0):
    """Poll until `predicate()` returns something true (returned), or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {predicate}")
        time.sleep(0.05)  # polling for a condition, bounded by the deadline


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def ring(tmp_path_factory) -> KeyRing:
    return KeyRing.open(tmp_path_factory.mktemp("faults") / "keys")


@pytest.fixture(scope="module")
def jwks_file(ring, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(ring.jwks()))
    return path


def _authz(tmp: Path, jwks: str, *extra: str, name: str = "authz", healthy: bool = True):
    return scopes_server(tmp, name=name, healthy=healthy, extra=[
        "--authz-only", "--jwks", jwks, "--audience", AUDIENCE, "--issuer", ISSUER, *extra])


# -- nothing is guessed from a repeated header ----------------------------------------------------

@pytest.fixture(scope="module")
def authz(jwks_file, tmp_path_factory):
    with _authz(tmp_path_factory.mktemp("authz"), str(jwks_file)) as server:
        yield server


@pytest.mark.parametrize(("route", "name", "values"), [
    ("/authz/nginx", "X-Original-Method", ("GET", "DELETE")),
    ("/authz/nginx", "X-Original-URI", ("/brands/acme", "/brands/other")),
    ("/authz/nginx", "Authorization", None),
    ("/authz/traefik", "X-Forwarded-Method", ("GET", "DELETE")),
    ("/authz/traefik", "X-Forwarded-Uri", ("/brands/acme", "/brands/other")),
    ("/authz/envoy/brands/acme", "Authorization", None),
])
def test_a_repeated_header_is_a_400_never_the_first_one_wins(ring, authz, route, name, values):
    token = _token(ring, "read:brands")
    if values is None:
        values = (f"Bearer {token}", f"Bearer {_token(ring, 'read:brands:other')}")
    method_header, uri_header = (("X-Original-Method", "X-Original-URI")
                                 if "nginx" in route else
                                 ("X-Forwarded-Method", "X-Forwarded-Uri"))
    base = [("Authorization", f"Bearer {token}")]
    if "envoy" not in route:
        base += [(method_header, "GET"), (uri_header, "/brands/acme")]
    once = httpx.get(authz.url + route, headers=base)
    assert once.status_code == 200, once.text
    headers = [pair for pair in base if pair[0] != name] + [(name, v) for v in values]
    answer = httpx.get(authz.url + route, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == {"allowed": False, "reason": (
        f"denied: the request has more than one {name.lower()} header; nothing is guessed "
        "from a repeated header")}
    _no_traceback(authz.output())


def test_the_token_service_takes_no_repeated_authorization_either(tmp_path):
    with scopes_server(tmp_path, extra=["--rate-limit", "0"]) as server:
        client = create_client(server, "--scope", "user_id:pigeon read:preferences",
                               "--audience", AUDIENCE)
        bearer = access_token(server, client)
        twice = httpx.post(f"{server.url}/auth/issue-token", json={"scope": "read:preferences "
                                                                   "user_id:pigeon"},
                           headers=[("Authorization", f"Bearer {bearer}")] * 2)
        assert twice.status_code == 400
        assert twice.json()["error"] == "invalid_request"
        assert "more than one authorization header" in twice.json()["error_description"]


# -- a key outage is an outage -----------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["hang", "trickle", "refuse"])
def test_with_no_usable_keys_checks_are_503_and_healthz_never_waits(ring, tmp_path, fault):
    """A key server that hangs or trickles bytes stalls nobody: /healthz answers at once and
    says 503, a token check waits at most the fetch deadline and answers 503 with Retry-After,
    and no client sees the key server's URL or an exception."""
    with KeyServer(ring.jwks) as keys:
        keys.mode = fault
        with _authz(tmp_path, keys.url, healthy=False) as authz:
            health = httpx.get(f"{authz.url}/healthz", timeout=2)  # a stall would time out
            assert health.status_code == 503
            assert health.json() == {"status": "unavailable", "reason": "signing keys unavailable"}
            assert health.headers["retry-after"] == "5"
            started = time.monotonic()
            answer = httpx.get(f"{authz.url}/authz/nginx", timeout=15, headers={
                "X-Original-Method": "GET", "X-Original-URI": "/brands/acme",
                "Authorization": f"Bearer {_token(ring, 'read:brands')}"})
            assert time.monotonic() - started < 12  # the 5 s deadline, not the trickle's minutes
            assert answer.status_code == 503
            assert answer.json() == {"allowed": False, "reason": "signing keys unavailable"}
            assert answer.headers["retry-after"] == "5"
            assert "127.0.0.1" not in answer.text and "Error" not in answer.text
            assert httpx.get(f"{authz.url}/healthz", timeout=2).status_code == 503
            _no_traceback(authz.output())


def test_keys_that_arrive_end_the_outage(ring, tmp_path):
    with KeyServer(ring.jwks) as keys, _authz(tmp_path, keys.url) as authz:
        answer = httpx.get(f"{authz.url}/authz/nginx", headers={
            "X-Original-Method": "GET", "X-Original-URI": "/brands/acme",
            "Authorization": f"Bearer {_token(ring, 'read:brands')}"})
        assert answer.status_code == 200, answer.text
        keys.mode = "hang"  # fetched keys stay in use while the key server is gone
        assert httpx.get(f"{authz.url}/healthz", timeout=2).status_code == 200


@pytest.mark.parametrize(("extra", "message"), [
    ([], "--authz-only needs --audience A"),
    (["--audience", AUDIENCE, "--any-audience"], "give --audience A or --any-audience, not both"),
])
def test_forward_auth_needs_an_audience_or_says_it_takes_any(jwks_file, extra, message):
    done = run_cli(["serve", "--authz-only", "--jwks", str(jwks_file), *extra], check=False)
    assert done.returncode == 2
    assert message in done.stderr
    _no_traceback(done.stderr)


def test_any_audience_is_explicit_and_no_issuer_is_warned_about(ring, jwks_file, tmp_path):
    port = free_port()
    log = tmp_path / "any.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "scopes", "serve", "--authz-only",
                                    "--jwks", str(jwks_file), "--any-audience", "--port",
                                    str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", process, log)
        other = issue_token(ring, issuer="https://elsewhere", subject="svc",
                            audience="https://another-api", client_id="svc",
                            scope="read:brands", lifetime=60)
        answer = httpx.get(f"http://127.0.0.1:{port}/authz/nginx", headers={
            "X-Original-Method": "GET", "X-Original-URI": "/brands/acme",
            "Authorization": f"Bearer {other}"})
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    assert "warning: no --issuer" in log.read_text()


# -- logs never decide, never leak ---------------------------------------------------------------------

def test_a_decision_log_on_a_full_disk_changes_no_answer(ring, jwks_file, tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with _authz(tmp_path, str(jwks_file), "--decision-log", "/dev/full") as authz:
        allowed, denied = _token(ring, "read:brands"), _token(ring, "read:lists")
        for _ in range(30):
            for token, status in ((allowed, 200), (denied, 403), (None, 401)):
                headers = {"X-Original-Method": "GET", "X-Original-URI": "/brands/acme"}
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                assert httpx.get(f"{authz.url}/authz/nginx", headers=headers).status_code == status
        assert httpx.get(f"{authz.url}/healthz").status_code == 200
        metrics = httpx.get(f"{authz.url}/metrics").text
        assert "scopes_decision_log_dropped_lines_total 90.0" in metrics  # counted, every one
        output = authz.output()
    _no_traceback(output)
    reports = [line for line in output.splitlines() if "cannot write the decision log" in line]
    assert reports == ["scopes: cannot write the decision log /dev/full (No space left on "
                       "device); 1 line(s) dropped so far"]


def test_no_log_line_carries_a_query_string(ring, jwks_file, tmp_path):
    secret = "s3cr3t-in-the-query"
    log = tmp_path / "decisions.jsonl"
    with _authz(tmp_path, str(jwks_file), "--decision-log", str(log)) as authz:
        token = _token(ring, "read:brands")
        for uri in (f"/brands/acme?access_token={secret}", f"/nope?token={secret}",
                    f"/brands/%2e%2e?x={secret}"):
            httpx.get(f"{authz.url}/authz/nginx", headers={
                "X-Original-Method": "GET", "X-Original-URI": uri,
                "Authorization": f"Bearer {token}"})
        httpx.get(f"{authz.url}/authz/envoy/brands/acme?client_secret={secret}",
                  headers={"Authorization": f"Bearer {token}"})
        assert len(log.read_text().splitlines()) == 4
        assert secret not in log.read_text() and secret not in authz.output()
    with scopes_server(tmp_path, name="service") as service:
        post_token(service, params={"client_secret": secret},
                   data={"grant_type": "client_credentials"})
        httpx.get(f"{service.url}/healthz?token={secret}")
        assert secret not in service.output()
        assert '"path": "/oauth/token"' in service.output()


# -- rate limits that hold -----------------------------------------------------------------------------

def _unauthenticated(server, forwarded_for: str) -> int:
    return post_token(server, headers={"X-Forwarded-For": forwarded_for},
                      data={"grant_type": "client_credentials"}).status_code


def test_a_client_behind_a_local_proxy_cannot_pick_its_address(tmp_path):
    """Requests without credentials count, and every one of them comes from 127.0.0.1,
    whatever X-Forwarded-For says, unless 127.0.0.1 is a proxy named by --forwarded-allow-ips."""
    with scopes_server(tmp_path, name="plain", extra=["--rate-limit", "3/min"]) as server:
        statuses = [_unauthenticated(server, f"198.51.100.{n}") for n in range(5)]
        assert statuses == [400, 400, 400, 429, 429]
        limited = post_token(server, json={"grant_type": "client_credentials",
                                           "client_id": "cl_x", "client_secret": "y"})
        assert limited.status_code == 429
    with scopes_server(tmp_path, name="proxied", extra=[
            "--rate-limit", "3/min", "--forwarded-allow-ips", "127.0.0.1"]) as server:
        assert [_unauthenticated(server, f"198.51.100.{n}") for n in range(5)] == [400] * 5
        assert [_unauthenticated(server, "203.0.113.9") for _ in range(4)] == [400] * 3 + [429]


def test_failed_authentication_counts_against_the_address(tmp_path):
    with scopes_server(tmp_path, extra=["--rate-limit", "3/min"]) as server:
        wrong = [post_token(server, json={"grant_type": "client_credentials",
                                          "client_id": f"cl_{n}", "client_secret": "y"})
                 for n in range(3)]
        assert [w.status_code for w in wrong] == [401] * 3
        assert mint(server, "not-a-token", {"scope": "read:brands"}).status_code == 429


# -- the registry under a running server ----------------------------------------------------------

def _status(server) -> int:
    return httpx.get(f"{server.url}/healthz", timeout=10).status_code


def test_a_registry_deleted_replaced_or_corrupted_is_an_outage_until_usable(tmp_path):
    with scopes_server(tmp_path, extra=["--rate-limit", "0"]) as server:
        client = create_client(server, "--scope", "read:brands", "--audience", AUDIENCE)
        good = tmp_path / "backup.db"
        db = Path(server.db)
        with closing(sqlite3.connect(db)) as live, closing(sqlite3.connect(good)) as backup:
            live.backup(backup)  # the registry as it is, WAL included

        def token_status() -> int:
            return post_token(server, json={
                "grant_type": "client_credentials", "client_id": client["client_id"],
                "client_secret": client["client_secret"]}).status_code

        assert token_status() == 200
        for leftover in db.parent.glob(db.name + "-*"):
            leftover.unlink()  # the WAL of the file that is about to go
        db.unlink()
        _until(lambda: _status(server) == 503)
        answer = post_token(server, json={"grant_type": "client_credentials",
                                          "client_id": client["client_id"],
                                          "client_secret": client["client_secret"]})
        assert answer.status_code == 503 and "retry-after" in answer.headers
        assert answer.json()["error"] == "temporarily_unavailable"
        shutil.copy(good, tmp_path / "incoming.db")
        os.replace(tmp_path / "incoming.db", db)  # a replaced file: another inode, reopened
        _until(lambda: _status(server) == 200)
        assert token_status() == 200
        db.write_bytes(b"this is not a database " * 400)  # corrupted in place
        _until(lambda: token_status() == 503)
        assert _status(server) == 503
        shutil.copy(good, db)  # usable again, in the same file
        _until(lambda: token_status() == 200)
        output = server.output()
    _no_traceback(output)
    assert '"status": 500' not in output


def test_read_only_commands_create_nothing(tmp_path):
    db, keys = tmp_path / "none.db", tmp_path / "no-keys"
    for command in (["clients", "list"], ["clients", "show", "cl_x"], ["clients", "revoke", "cl_x"],
                    ["keys", "list"]):
        done = run_cli([*command, "--db", str(db), "--keys", str(keys)], check=False)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "cannot open the " in done.stderr
        _no_traceback(done.stderr)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["clients", "create", "--scope", "read:brands"],
    ["clients", "list"],
    ["serve", "--port", "0"],
])
def test_a_db_in_a_missing_directory_is_a_usage_error(tmp_path, command):
    done = run_cli([*command, "--db", str(tmp_path / "typo" / "scopes.db"),
                    "--keys", str(tmp_path / "keys")], check=False)
    assert done.returncode == 2
    assert "does not exist; create it first" in done.stderr
    _no_traceback(done.stderr)
    assert not (tmp_path / "typo").exists()


# -- bodies --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with scopes_server(tmp_path_factory.mktemp("service"), extra=["--rate-limit", "0"]) as server:
        client = create_client(server, "--scope", "user_id:pigeon read:preferences",
                               "--audience", AUDIENCE, "--lifetime", "1h",
                               "--max-lifetime", "2h")
        server.client = client
        yield server


@pytest.mark.parametrize("body", [
    '{"grant_type": "client_credentials", "grant_type": "password"}',
    '{"grant_type": "client_credentials", "client_id": "a", "client_id": "b"}',
    '{"grant_type": "client_credentials", "scope": {"a": 1, "a": 2}}',
])
def test_a_json_body_with_a_repeated_member_is_a_400(service, body):
    answer = post_token(service, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "is repeated in the JSON body" in answer.json()["error_description"]


@pytest.mark.parametrize("expires_in", [1e300, "3000000 years", 10**40, "1e400"])
def test_expires_in_of_any_finite_size_is_shortened_to_the_maximum(service, expires_in):
    bearer = access_token(service, service.client)
    if expires_in == "1e400":  # a JSON number no float holds
        answer = httpx.post(f"{service.url}/auth/issue-token", content=(
            '{"scope": "user_id:pigeon read:preferences", "expires_in": 1e400}'), headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {bearer}"})
    else:
        answer = mint(service, bearer, {"scope": "user_id:pigeon read:preferences",
                                        "expires_in": expires_in})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"token", "expires_in"}
    # The access token lives an hour: what is left of it caps the minted one.
    assert 3500 < body["expires_in"] <= 3600


def test_issue_token_says_how_long_the_token_lives(service):
    bearer = access_token(service, service.client)
    answer = mint(service, bearer, {"scope": "user_id:pigeon read:preferences",
                                    "expires_in": "2 minutes"})
    assert answer.json()["expires_in"] == 120
    claims = jwt.decode(answer.json()["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
