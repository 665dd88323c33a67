"""`authenticated = true` (DESIGN.md, "Import"): any verified token passes, even one with no
scopes; no token, or one that does not verify, never does. `authorize` decides it, forward-auth
(a real `scopes serve`) and the middleware answer as it decides, and the linter reads it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scopes import Policy
from scopes.asgi import ScopesMiddleware
from scopes.cli import main
from scopes.tokens.issue import issue_token
from scopes.tokens.keys import KeyRing
from tests.servers import scopes_server

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
POLICY = """\
version = 1
name = "accounts"

[scopes.admin]
[scopes.spare]

[[endpoints]]
methods = ["GET"]
path = "/me"
authenticated = true

[[endpoints]]
methods = ["GET"]
path = "/users/{user}/profile"
authenticated = true
principal_param = "user"

[[endpoints]]
methods = ["GET"]
path = "/health"
public = true

[[endpoints]]
methods = ["DELETE"]
path = "/me"
any_of = ["admin"]
"""


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.from_toml(POLICY, file="policy.toml")


@pytest.mark.parametrize(("scope", "method", "path", "code", "reason", "missing"), [
    pytest.param("", "GET", "/me", "allowed",
                 "allowed: GET /me matches GET /me; granted by any valid token", None,
                 id="no scopes"),
    pytest.param("spare unknown:thing", "GET", "/me", "allowed",
                 "allowed: GET /me matches GET /me; granted by any valid token", None,
                 id="scopes that grant nothing"),
    pytest.param("admin", "GET", "/me?x=1", "allowed",
                 "allowed: GET /me matches GET /me; granted by any valid token", None,
                 id="a query string"),
    pytest.param("", "DELETE", "/me", "insufficient-scope",
                 "denied: DELETE /me needs admin; the token has no scopes", "admin",
                 id="another method of the path needs its scope"),
    pytest.param("", "PUT", "/me", "method-not-allowed", None, None, id="a method not listed"),
    pytest.param("", "GET", "/me/", "no-route", None, None, id="no trailing-slash folding"),
    pytest.param("bad\tscope", "GET", "/me", "malformed-scopes", None, None,
                 id="malformed scopes fail closed"),
    pytest.param("", "GET", "/users/alice/profile", "insufficient-scope",
                 "denied: GET /users/alice/profile needs user_id:alice; the token has no scopes",
                 "user_id:alice", id="a binding still binds"),
    pytest.param("user_id:bob", "GET", "/users/alice/profile", "insufficient-scope",
                 "denied: GET /users/alice/profile needs user_id:alice; the token has user_id:bob",
                 "user_id:alice", id="another user's token"),
    pytest.param("user_id:alice", "GET", "/users/alice/profile", "allowed",
                 "allowed: GET /users/alice/profile matches GET /users/{user}/profile; granted by "
                 "user_id:alice", None, id="the user's own token"),
])
def test_authorize(policy, scope, method, path, code, reason, missing):
    decision = policy.authorize(scope, method, path)
    assert (decision.allowed, decision.code) == (code == "allowed", code)
    if reason is not None:
        assert decision.reason == reason
    assert decision.missing == missing


def test_the_route_says_what_it_is(policy):
    me, profile, health, delete = policy.routes
    assert (me.authenticated, me.public) == (True, False)
    assert (profile.authenticated, profile.public) == (False, False)  # it needs a user id
    assert (health.authenticated, health.public) == (False, True)
    assert (delete.authenticated, delete.public) == (False, False)


# -- forward-auth, against a real server ---------------------------------------------------------

@pytest.fixture(scope="module")
def authz(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authenticated")
    (tmp / "policy.toml").write_text(POLICY, encoding="utf-8")
    with scopes_server(tmp, extra=["--rate-limit", "0", "--policy", str(tmp / "policy.toml")]) as server:
        server.ring = KeyRing.open(server.keys, create=False)
        yield server


def nginx(server, method: str, uri: str, token: str | None) -> httpx.Response:
    headers = {"X-Original-Method": method, "X-Original-URI": uri}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(f"{server.url}/authz/nginx", headers=headers)


def signed(ring: KeyRing, issuer: str, scope: str) -> str:
    return issue_token(ring, issuer=issuer, subject="svc", audience=AUDIENCE, client_id="cl_1",
                       scope=scope, lifetime=600)


def test_forward_auth_lets_any_verified_token_in_and_no_other(authz, tmp_path):
    empty = signed(authz.ring, authz.url, "")
    allowed = nginx(authz, "GET", "/me", empty)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["x-scopes-client-id"] == "cl_1"
    assert allowed.headers["x-scopes-user-ids"] == ""
    assert nginx(authz, "GET", "/me", signed(authz.ring, authz.url, "spare")).status_code == 200

    no_token = nginx(authz, "GET", "/me", None)
    assert (no_token.status_code, no_token.headers["www-authenticate"]) == (
        401, 'Bearer realm="scopes"')
    foreign = signed(KeyRing.open(tmp_path / "other-keys"), authz.url, "")
    refused = nginx(authz, "GET", "/me", foreign)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]

    needs_admin = nginx(authz, "DELETE", "/me", empty)
    assert (needs_admin.status_code, needs_admin.headers["www-authenticate"]) == (
        403, 'Bearer realm="scopes", error="insufficient_scope", scope="admin"')
    bound = nginx(authz, "GET", "/users/alice/profile", empty)
    assert bound.headers["www-authenticate"].endswith('scope="user_id:alice"')
    own = nginx(authz, "GET", "/users/alice/profile", signed(authz.ring, authz.url, "user_id:alice"))
    assert (own.status_code, own.headers["x-scopes-user-ids"]) == (200, "alice")


# -- the middleware ------------------------------------------------------------------------------

def test_the_middleware_lets_any_verified_token_in_and_no_other(policy, tmp_path):
    ring = KeyRing.open(tmp_path / "keys")

    async def me(request: Request) -> JSONResponse:
        context = request.state.scopes
        return JSONResponse({"client_id": context.client_id, "rule": context.decision.rule})

    app = Starlette(routes=[Route("/me", me, methods=["GET", "DELETE"])])
    app.add_middleware(ScopesMiddleware, policy=policy, jwks=ring.jwks(), audience=AUDIENCE,
                       issuer=ISSUER)

    def call(method: str, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.example") as client:
                return await client.request(method, "/me", headers=headers)

        return asyncio.run(go())

    answer = call("GET", signed(ring, ISSUER, ""))
    assert (answer.status_code, answer.json()) == (200, {"client_id": "cl_1", "rule": "GET /me"})
    assert call("GET", None).status_code == 401
    assert call("GET", signed(KeyRing.open(tmp_path / "other"), ISSUER, "")).status_code == 401
    assert call("GET", signed(ring, "https://elsewhere.example", "")).status_code == 401
    assert call("DELETE", signed(ring, ISSUER, "")).status_code == 403


# -- the linter ----------------------------------------------------------------------------------

def test_the_linter_reads_authenticated_routes(tmp_path, capsys):
    """No error for `authenticated = true`; a catalogue scope no requirement names is still
    unused (any token calls an authenticated route, so no scope grants it)."""
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    assert main(["lint", str(tmp_path / "policy.toml")]) == 0
    out, _ = capsys.readouterr()
    assert out == (f"{tmp_path / 'policy.toml'}:5:9: S401 scope 'spare' is in the catalogue, but "
                   "no endpoint requires it: a token with it can call nothing more\n")
    assert main(["lint", "--policy", str(tmp_path / "policy.toml"), "--scope", "spare"]) == 0
    out, _ = capsys.readouterr()
    assert out == ("<scope>:1:1: S300 'spare' grants no endpoint of policy 'accounts': no "
                   "requirement mentions it\n")
