"""scopes in front of an API with a real nginx: examples/nginx/scopes.conf, run as written."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.gateways import RecordingAPI, replay_attacks, wait_for_port
from tests.servers import free_port, scopes_server
from tests.test_gateway import authz as _authz_fixture  # noqa: F401
from tests.test_gateway import issuer, tokens  # noqa: F401  (fixtures)
from tests.test_service import AUDIENCE

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nginx" / "scopes.conf"


@pytest.fixture(scope="module")
def stack(issuer, tmp_path_factory):  # noqa: F811
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_bin).exists():
        pytest.fail("nginx not found: install Debian's nginx package (.ci/run does)")
    tmp = tmp_path_factory.mktemp("nginx")
    with RecordingAPI().running() as api, scopes_server(tmp, name="authz", extra=[
        "--authz-only", "--jwks", f"{issuer.url}/.well-known/jwks.json",
        "--audience", AUDIENCE, "--issuer", issuer.url,
    ]) as authz:
        port = free_port()
        site = EXAMPLE.read_text()
        for default, actual in (("127.0.0.1:9000", f"127.0.0.1:{api.port}"),
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
            wait_for_port(port, process, tmp / "error.log", "nginx")
            yield f"http://127.0.0.1:{port}", port, api
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_allowed_requests_reach_the_api_with_who_the_token_is_for(stack, tokens):  # noqa: F811
    url, _, api = stack
    before = len(api.seen)
    answer = httpx.get(f"{url}/users/pigeon/preferences?page=2",
                       headers={"Authorization": f"Bearer {tokens['user']}"})
    assert answer.status_code == 200 and answer.json() == {"upstream": True}
    (seen,) = api.seen[before:]
    assert seen["target"] == "/users/pigeon/preferences?page=2"
    assert seen["headers"]["x-scopes-subject"] == tokens["client_id"]
    assert seen["headers"]["x-scopes-client-id"] == tokens["client_id"]
    assert seen["headers"]["x-scopes-user-ids"] == "pigeon"


def test_denied_requests_get_401_and_403_with_challenges(stack, tokens):  # noqa: F811
    url, _, api = stack
    before = len(api.seen)
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
    assert len(api.seen) == before


def test_attack_paths_never_reach_the_api_for_what_the_token_may_not_access(stack, tokens):  # noqa: F811
    """Raw bytes on a socket (HTTP clients normalize paths): whatever nginx lets through to the
    API, the token may access exactly as the API received it."""
    _, port, api = stack
    statuses = replay_attacks(port, api, tokens["bearer"],
                              "user_id:pigeon read:brands:acme read:preferences read:messages")
    assert statuses["/brands/acme/..%2Fother"] in (400, 403)
    assert statuses["/brands/%61cme"] == 403  # an encoded unreserved letter: refused
