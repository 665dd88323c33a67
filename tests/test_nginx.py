"""scopes in front of an API with a real nginx: examples/nginx/scopes.conf, run as written."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.gateways import (
    api_and_authz,
    check_allowed_reaches_the_api,
    check_denied_get_the_challenges,
    replay_attacks,
    wait_for_port,
)
from tests.servers import free_port
from tests.test_gateway import authz as _authz_fixture  # noqa: F401
from tests.test_gateway import issuer, tokens  # noqa: F401  (fixtures)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nginx" / "scopes.conf"


@pytest.fixture(scope="module")
def stack(issuer, tmp_path_factory):  # noqa: F811
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_bin).exists():
        pytest.fail("nginx not found: install Debian's nginx package (.ci/run does)")
    tmp = tmp_path_factory.mktemp("nginx")
    with api_and_authz(tmp, issuer) as (api, authz):
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
    check_allowed_reaches_the_api(url, api, tokens)


def test_denied_requests_get_401_and_403_with_challenges(stack, tokens):  # noqa: F811
    """nginx sends no body to auth_request: scopes cannot decide a GraphQL call (403)."""
    url, _, api = stack
    check_denied_get_the_challenges(url, api, tokens)


def test_attack_paths_never_reach_the_api_for_what_the_token_may_not_access(stack, tokens):  # noqa: F811
    """Raw bytes on a socket (HTTP clients normalize paths): whatever nginx lets through to the
    API, the token may access exactly as the API received it."""
    _, port, api = stack
    statuses = replay_attacks(port, api, tokens["bearer"],
                              "user_id:pigeon read:brands:acme read:preferences read:messages")
    assert statuses["/brands/acme/..%2Fother"] in (400, 403)
    assert statuses["/brands/%61cme"] == 403  # an encoded unreserved letter: refused
