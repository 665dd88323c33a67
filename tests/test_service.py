"""The token service end to end: a real `scopes serve` process, real HTTP, the CLI."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote_plus

import httpx
import pytest

from scopes import Policy
from scopes.errors import TokenError
from scopes.tokens.issue import issue_token
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.keys import KeyRing
from scopes.tokens.verify import verify_token
from tests.pg import postgres_server  # noqa: F401  (a fixture)
from tests.servers import run_cli, scopes_server

AUDIENCE = "https://api.example"
CLIENT_SCOPE = "user_id:pigeon read:preferences read:brands write:user-tokens"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """The same suite against each client registry: SQLite, and a real PostgreSQL server."""
    db = None
    if request.param == "postgresql":
        db = request.getfixturevalue("postgres_server").create_database()
    tmp = tmp_path_factory.mktemp(f"service-{request.param}")
    with scopes_server(tmp, db=db, extra=["--rate-limit", "0"]) as running:
        yield running


def create_client(server, *args: str) -> dict:
    done = server.cli("clients", "create", *args, "--json")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def client(server) -> dict:
    return create_client(server, "--scope", CLIENT_SCOPE, "--audience", AUDIENCE,
                         "--lifetime", "1h", "--max-lifetime", "2h")


def post_token(server, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/oauth/token", timeout=10, **kwargs)


def access_token(server, client, **extra) -> str:
    answer = post_token(server, json={"grant_type": "client_credentials",
                                      "client_id": client["client_id"],
                                      "client_secret": client["client_secret"], **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def mint(server, bearer: str, body: dict | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return httpx.post(f"{server.url}/auth/issue-token", json=body, headers=headers, timeout=10,
                      **kwargs)


def basic(client_id: str, secret: str) -> str:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


# -- the whole flow -----------------------------------------------------------------------------


def test_each_client_authentication_style_gets_a_token(server, client):
    by_json = post_token(server, json={"grant_type": "client_credentials",
                                       "client_id": client["client_id"],
                                       "client_secret": client["client_secret"]})
    by_form = post_token(server, data={"grant_type": "client_credentials",
                                       "client_id": client["client_id"],
                                       "client_secret": client["client_secret"]})
    by_basic = post_token(server, data={"grant_type": "client_credentials"},
                          headers={"Authorization": basic(client["client_id"],
                                                          client["client_secret"])})
    for answer in (by_json, by_form, by_basic):
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["scope"] == str(Policy.courier().parse(CLIENT_SCOPE))


def test_mint_verify_and_check(server, client, tmp_path):
    bearer = access_token(server, client)
    answer = mint(server, bearer, {"scope": "user_id:pigeon read:preferences",
                                   "expires_in": "2 days"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    token = answer.json()["token"]
    keys = PublicKeys.from_url(f"{server.url}/.well-known/jwks.json")
    verified = verify_token(token, keys, audience=AUDIENCE, issuer=server.url)
    assert verified.scope == "user_id:pigeon read:preferences"
    assert verified.client_id == client["client_id"]
    # "2 days" is shortened to the caller's remaining lifetime (one hour), not refused
    assert verified.expires_at - time.time() <= 3600 + 5
    allowed = run_cli(["check", "--token", token, "--jwks", f"{server.url}/.well-known/jwks.json",
                       "--audience", AUDIENCE, "--issuer", server.url, "GET",
                       "/users/pigeon/preferences"], check=False)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.startswith("allowed: GET /users/pigeon/preferences")
    denied = run_cli(["check", "--token", token, "--jwks", f"{server.url}/.well-known/jwks.json",
                      "GET", "/brands"], check=False)
    assert denied.returncode == 1
    assert denied.stdout.startswith("denied: GET /brands needs read:brands")


def test_discovery_documents(server):
    jwks = httpx.get(f"{server.url}/.well-known/jwks.json").json()
    assert jwks["keys"] and all(k["kty"] == "OKP" and k["alg"] == "EdDSA" for k in jwks["keys"])
    assert all("d" not in k for k in jwks["keys"])  # public parts only
    meta = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == server.url
    assert meta["token_endpoint"] == f"{server.url}/oauth/token"
    assert meta["jwks_uri"] == f"{server.url}/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert "read:brands" in meta["scopes_supported"]
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}


def test_tokens_have_the_rfc_9068_shape(server, client):
    token = access_token(server, client)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "at+jwt" and header["alg"] == "EdDSA" and header["kid"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=" * 4))
    assert {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} <= set(claims)


# -- every error of the contract ----------------------------------------------------------------


def test_oauth_token_errors(server, client, tmp_path):
    good = {"grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}
    revoked = create_client(server, "--scope", "read:brands")
    server.cli("clients", "revoke", revoked["client_id"])
    cases = [
        ({"json": {**good, "client_id": "cl_nobody"}}, 401, "invalid_client"),
        ({"json": {**good, "client_secret": "wrong"}}, 401, "invalid_client"),
        ({"json": {**good, "client_id": revoked["client_id"],
                   "client_secret": revoked["client_secret"]}}, 401, "invalid_client"),
        ({"json": {"grant_type": "client_credentials", "client_id": client["client_id"]}},
         400, "invalid_request"),
        ({"json": {k: v for k, v in good.items() if k != "grant_type"}}, 400, "invalid_request"),
        ({"json": {**good, "grant_type": "password"}}, 400, "unsupported_grant_type"),
        ({"json": good, "headers": {"Authorization": basic(client["client_id"],
                                                           client["client_secret"])}},
         400, "invalid_request"),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}},
         400, "invalid_request"),
        ({"content": b"<x/>", "headers": {"Content-Type": "application/xml"}},
         400, "invalid_request"),
        ({"json": {**good, "scope": "write:brands"}}, 400, "invalid_scope"),
        ({"json": {**good, "scope": "read::brands"}}, 400, "invalid_scope"),
        ({"json": {**good, "audience": "https://elsewhere"}}, 400, "invalid_target"),
        ({"json": {**good, "client_secret": 12}}, 400, "invalid_request"),
    ]
    for kwargs, status, error in cases:
        answer = post_token(server, **kwargs)
        assert answer.status_code == status, (kwargs, answer.text)
        body = answer.json()
        assert body["error"] == error and body["error_description"], (kwargs, body)
        assert client["client_secret"] not in answer.text
    wrong_basic = post_token(server, data={"grant_type": "client_credentials"},
                             headers={"Authorization": basic(client["client_id"], "nope")})
    assert wrong_basic.status_code == 401
    assert wrong_basic.headers["www-authenticate"].startswith("Basic")
    narrower = post_token(server, json={**good, "scope": "read:brands:acme"})
    assert narrower.status_code == 200 and narrower.json()["scope"] == "read:brands:acme"
    assert client["client_secret"] not in server.output()


def test_issue_token_errors(server, client, tmp_path):
    bearer = access_token(server, client)
    minted = mint(server, bearer, {"scope": "user_id:pigeon read:preferences"}).json()["token"]
    ring = KeyRing.open(server.keys, create=False)
    expired = issue_token(ring, issuer=server.url, subject="x", audience=AUDIENCE,
                          client_id=client["client_id"], scope="read:brands", lifetime=60,
                          now=time.time() - 7200)
    foreign = issue_token(KeyRing.open(tmp_path / "other-keys"), issuer=server.url, subject="x",
                          audience=AUDIENCE, client_id=client["client_id"], scope="read:brands",
                          lifetime=60)
    unauthenticated = [None, "garbage", expired, foreign, bearer[:-4] + "AAAA"]
    for token in unauthenticated:
        answer = mint(server, token, {"scope": "read:brands"})
        assert answer.status_code == 401, answer.text
        assert set(answer.json()) == {"message", "type"}
        challenge = answer.headers["www-authenticate"]
        if token is None:
            assert challenge == 'Bearer realm="scopes"'
        else:
            assert 'error="invalid_token"' in challenge
    bad_requests = [
        ({}, "missing 'scope'"),
        ({"scope": "read::x"}, "malformed scope"),
        ({"scope": "read:brand"}, "unknown scope 'read:brand'; did you mean 'read:brands'?"),
        ({"scope": "user_id read:brands"}, "'user_id' needs an id: write 'user_id:<id>'"),
        ({"scope": "read:user-tokens"}, "must be combined with a user_id:<id> scope"),
        ({"scope": "read:brands", "expires_in": "2 fortnights"}, "invalid expires_in"),
        ({"scope": "read:brands", "expires_in": "100"},
         "'100' means 100 milliseconds: did you mean \"100s\" or the number 100?"),
        ({"scope": "read:brands", "expires_in": 0.5}, "at least one second"),
        ({"scope": "read:brands", "expires_in": True}, "invalid expires_in"),
    ]
    for body, message in bad_requests:
        answer = mint(server, bearer, body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["type"] == "invalid_request_error"
        assert message in answer.json()["message"], (body, answer.json())
    forbidden = [
        (bearer, {"scope": "write:brands"}),
        (bearer, {"scope": "user_id:bluebird read:preferences"}),
        (minted, {"scope": "user_id:pigeon read:preferences"}),
    ]
    for token, body in forbidden:
        answer = mint(server, token, body)
        assert answer.status_code == 403, (body, answer.text)
        assert set(answer.json()) == {"message", "type"}
    assert bearer not in server.output() and minted not in server.output()


def test_any_user_clients_mint_for_any_user(server):
    anyone = create_client(server, "--scope", "read:preferences", "--any-user")
    bearer = access_token(server, anyone)
    answer = mint(server, bearer, {"scope": "user_id:bluebird read:preferences", "expires_in": 60})
    assert answer.status_code == 200, answer.text


def test_revoked_client_cannot_mint_with_its_old_token(server):
    doomed = create_client(server, "--scope", "read:brands")
    bearer = access_token(server, doomed)
    server.cli("clients", "revoke", doomed["client_id"])
    assert mint(server, bearer, {"scope": "read:brands"}).status_code == 401


def test_rotated_secret(server):
    rotating = create_client(server, "--scope", "read:brands")
    fresh = json.loads(server.cli("clients", "rotate-secret", rotating["client_id"], "--json").stdout)
    assert fresh["client_secret"] != rotating["client_secret"]
    old = post_token(server, json={"grant_type": "client_credentials",
                                   "client_id": rotating["client_id"],
                                   "client_secret": rotating["client_secret"]})
    assert old.status_code == 401
    assert access_token(server, fresh)


def test_rate_limits_answer_429_with_retry_after(tmp_path):
    with scopes_server(tmp_path, extra=["--rate-limit", "3/min"]) as limited:
        statuses = [post_token(limited, json={"grant_type": "client_credentials",
                                              "client_id": "cl_x", "client_secret": "y"})
                    for _ in range(5)]
        assert [s.status_code for s in statuses[:3]] == [401, 401, 401]
        assert statuses[3].status_code == 429
        assert int(statuses[3].headers["retry-after"]) >= 1
        assert statuses[3].json()["error"]


def test_unknown_routes_and_methods_answer_json(server):
    missing = httpx.get(f"{server.url}/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = httpx.get(f"{server.url}/oauth/token")
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_oversized_bodies_are_refused(server):
    answer = post_token(server, content=b"x" * 100_000,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413 and answer.json()["error"] == "invalid_request"


def test_verify_rejects_tokens_for_other_audiences(server, client):
    token = access_token(server, client)
    keys = PublicKeys.from_url(f"{server.url}/.well-known/jwks.json")
    with pytest.raises(TokenError) as caught:
        verify_token(token, keys, audience="https://other", issuer=server.url)
    assert caught.value.reason == "wrong-audience"


@pytest.mark.parametrize(("scope", "message"), [
    pytest.param("read:brand", "unknown scope 'read:brand'; did you mean 'read:brands'?",
                 id="did-you-mean"),
    pytest.param("user_id read:preferences",
                 "'user_id' needs an id: write 'user_id:<id>' with the id of the user",
                 id="principal-without-id"),
    pytest.param("read:messages:x",
                 "scope 'read:messages' takes no qualifier, so 'read:messages:x' is unknown; "
                 "write 'read:messages'", id="no-qualifier"),
])
def test_clients_create_names_an_unknown_scope_as_the_catalogue_does(tmp_path, capsys, scope,
                                                                     message):
    from scopes.cli import main

    code = main(["clients", "create", "--scope", scope, "--db", str(tmp_path / "c.db"),
                 "--keys", str(tmp_path / "keys")])
    assert code == 2
    assert capsys.readouterr().err == f"Error: {message}\n"
    assert Policy.courier().catalogue.unknown(scope.split()[0]).message == message
