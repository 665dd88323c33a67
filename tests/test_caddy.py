"""scopes in front of an API with a real Caddy: examples/caddy/Caddyfile, run as written.

The file is not edited: its ports come from the environment placeholders it declares
(`{$SCOPES_PORT}`, `{$SCOPES_AUTHZ}`, `{$SCOPES_API}`, `{$SCOPES_CADDY_ADMIN}`), which Caddy
itself substitutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.gateways import (
    api_and_authz,
    check_allowed_reaches_the_api,
    check_denied_get_the_challenges,
    raw_request,
    replay_attacks,
    wait_for_port,
)
from tests.servers import free_port
from tests.test_gateway import issuer, tokens  # noqa: F401  (fixtures)
from tests.test_service import AUDIENCE, access_token, create_client

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "caddy" / "Caddyfile"
TOKEN_SCOPE = "user_id:pigeon read:brands:acme read:preferences read:messages"


def caddy_binary() -> str:
    found = shutil.which("caddy") or "/usr/bin/caddy"
    if not Path(found).exists():
        pytest.fail("caddy not found: install Debian's caddy package (.ci/run does)")
    return found


@pytest.fixture(scope="module")
def stack(issuer, tmp_path_factory):  # noqa: F811
    caddy = caddy_binary()
    tmp = tmp_path_factory.mktemp("caddy")
    with api_and_authz(tmp, issuer) as (api, authz):
        port = free_port()
        env = {**os.environ, "HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data"),
               "XDG_CONFIG_HOME": str(tmp / "config"),
               "SCOPES_PORT": str(port), "SCOPES_AUTHZ": f"127.0.0.1:{authz.port}",
               "SCOPES_API": f"127.0.0.1:{api.port}", "SCOPES_CADDY_ADMIN": "off"}
        log = tmp / "caddy.log"
        with open(log, "w", encoding="utf-8") as out:
            process = subprocess.Popen(
                [caddy, "run", "--config", str(EXAMPLE), "--adapter", "caddyfile"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp)
        try:
            wait_for_port(port, process, log, "caddy")
            yield f"http://127.0.0.1:{port}", port, api
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_example_is_valid_caddyfile_with_the_documented_defaults(tmp_path):
    """Without the environment, the file means what its comment says: 8080, 8081, 9000."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCOPES_")}
    done = subprocess.run([caddy_binary(), "adapt", "--config", str(EXAMPLE),
                           "--adapter", "caddyfile"], capture_output=True, text=True,
                          env={**env, "HOME": str(tmp_path)}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert '"listen":["127.0.0.1:8080"]' in done.stdout
    assert '"dial":"127.0.0.1:8081"' in done.stdout
    assert '"dial":"127.0.0.1:9000"' in done.stdout
    assert '"uri":"/authz/traefik"' in done.stdout
    assert '"admin":{"listen":"localhost:2019"}' in done.stdout


def test_allowed_requests_reach_the_api_with_who_the_token_is_for(stack, tokens):  # noqa: F811
    url, _, api = stack
    seen = check_allowed_reaches_the_api(url, api, tokens)
    assert seen["method"] == "GET"
    assert seen["headers"]["authorization"] == f"Bearer {tokens['user']}"


def test_the_method_is_decided_as_sent(stack, tokens):  # noqa: F811
    """Caddy asks with GET; X-Forwarded-Method carries the original method."""
    url, _, api = stack
    before = len(api.seen)
    auth = {"Authorization": f"Bearer {tokens['bearer']}"}
    assert httpx.get(f"{url}/brands/acme", headers=auth).status_code == 200
    assert httpx.delete(f"{url}/brands/acme", headers=auth).status_code == 403
    assert httpx.put(f"{url}/brands/acme", headers=auth, content=b"{}").status_code == 403
    assert [seen["method"] for seen in api.seen[before:]] == ["GET"]


def test_denied_requests_get_401_and_403_with_challenges(stack, tokens):  # noqa: F811
    """Caddy hands back scopes' answer as it came: status, challenge and body. forward_auth
    sends no body scopes reads, so a GraphQL call cannot be decided (403)."""
    url, _, api = stack
    answers = check_denied_get_the_challenges(url, api, tokens)
    assert answers["none"].json()["allowed"] is False
    assert answers["other"].json() == {"allowed": False, "reason": (
        "denied: GET /brands/other needs read:brands or read:brands:other; the token has "
        "user_id:pigeon read:brands:acme read:messages read:preferences")}


def test_what_the_client_says_about_itself_never_reaches_the_api(stack, tokens, issuer):  # noqa: F811
    """X-Scopes-* from the client are dropped before the check, so a token without user ids
    cannot pass `X-Scopes-User-Ids: bluebird` to the API; forged X-Forwarded-Method and
    X-Forwarded-Uri are replaced by what Caddy received."""
    _, port, api = stack
    client = create_client(issuer, "--scope", "read:brands", "--audience", AUDIENCE)
    plain = access_token(issuer, client)
    before = len(api.seen)
    forged = (b"X-Scopes-User-Ids: bluebird\r\nX-Scopes-Subject: admin\r\n"
              b"X-Scopes-Client-Id: admin\r\nX-Forwarded-Method: GET\r\n"
              b"X-Forwarded-Uri: /brands\r\n")
    reply = raw_request(port, b"/brands/acme", plain, headers=forged)
    assert reply.startswith(b"HTTP/1.1 200 ")
    (seen,) = api.seen[before:]
    assert seen["headers"].get("x-scopes-user-ids", "") == ""
    assert seen["headers"]["x-scopes-subject"] == client["client_id"]
    assert seen["headers"]["x-scopes-client-id"] == client["client_id"]
    # the forged method and target do not turn a denied request into an allowed one
    denied = raw_request(port, b"/brands/other", tokens["bearer"], method=b"DELETE",
                         headers=forged)
    assert denied.startswith(b"HTTP/1.1 403 ")
    assert len(api.seen) == before + 1


def test_attack_paths_never_reach_the_api_for_what_the_token_may_not_access(stack, tokens):  # noqa: F811
    """Raw bytes on a socket (HTTP clients normalize paths): whatever Caddy lets through to the
    API, the token may access exactly as the API received it."""
    _, port, api = stack
    statuses = replay_attacks(port, api, tokens["bearer"], TOKEN_SCOPE)
    assert statuses["/brands/acme/..%2Fother"] in (400, 403)
    assert statuses["/brands/%61cme"] == 403  # an encoded unreserved letter: refused
