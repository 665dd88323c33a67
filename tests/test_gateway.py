"""Forward-auth as each gateway calls it, against real `scopes serve` processes."""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import pytest

from scopes.tokens.issue import issue_token
from scopes.tokens.keys import KeyRing
from tests.policies import courier_text
from tests.servers import scopes_server
from tests.test_service import AUDIENCE, access_token, create_client, mint

@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    with scopes_server(tmp_path_factory.mktemp("issuer"), extra=["--rate-limit", "0"]) as server:
        yield server


@pytest.fixture(scope="module")
def tokens(issuer) -> dict[str, str]:
    client = create_client(issuer, "--scope",
                           "user_id:pigeon read:brands:acme read:preferences read:messages",
                           "--audience", AUDIENCE)
    bearer = access_token(issuer, client)
    user = mint(issuer, bearer, {"scope": "user_id:pigeon read:preferences read:messages"})
    return {"bearer": bearer, "user": user.json()["token"], "client_id": client["client_id"]}


@pytest.fixture(scope="module")
def authz(issuer, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authz")
    policy = tmp / "policy.toml"
    policy.write_text(courier_text())
    log = tmp / "decisions.jsonl"
    with scopes_server(tmp, name="authz", extra=[
        "--authz-only", "--jwks", f"{issuer.url}/.well-known/jwks.json", "--audience", AUDIENCE,
        "--issuer", issuer.url, "--policy", str(policy), "--decision-log", str(log),
    ]) as server:
        server.policy = policy
        server.decisions = log
        yield server


def nginx(authz, method, uri, token=None):
    headers = {"X-Original-Method": method, "X-Original-URI": uri}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(f"{authz.url}/authz/nginx", headers=headers)


def test_allowed_requests_carry_who_the_token_is_for(authz, tokens):
    answer = nginx(authz, "GET", "/users/pigeon/preferences?x=1", tokens["user"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-scopes-subject"] == tokens["client_id"]
    assert answer.headers["x-scopes-client-id"] == tokens["client_id"]
    assert answer.headers["x-scopes-user-ids"] == "pigeon"


def test_denied_requests_get_the_rfc_6750_challenges(authz, tokens):
    no_token = nginx(authz, "GET", "/brands/acme")
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"] == 'Bearer realm="scopes"'
    assert no_token.json()["allowed"] is False
    bad = nginx(authz, "GET", "/brands/acme", "not-a-token")
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith(
        'Bearer realm="scopes", error="invalid_token", error_description="')
    forbidden = nginx(authz, "GET", "/brands/other", tokens["bearer"])
    assert forbidden.status_code == 403
    assert forbidden.headers["www-authenticate"] == (
        'Bearer realm="scopes", error="insufficient_scope", scope="read:brands:other"')
    assert forbidden.json() == {"allowed": False, "reason": (
        "denied: GET /brands/other needs read:brands or read:brands:other; the token has "
        "user_id:pigeon read:brands:acme read:messages read:preferences")}
    unknown = nginx(authz, "GET", "/nope", tokens["bearer"])
    assert unknown.status_code == 403
    assert "scope=" not in unknown.headers["www-authenticate"]
    attack = nginx(authz, "GET", "/brands/acme/..%2Fother", tokens["bearer"])
    assert attack.status_code == 403 and "scope=" not in attack.headers["www-authenticate"]


def test_a_misconfigured_gateway_is_a_400_never_an_allow(authz, tokens):
    headers = {"Authorization": f"Bearer {tokens['bearer']}"}
    assert httpx.get(f"{authz.url}/authz/nginx", headers=headers).status_code == 400
    assert httpx.get(f"{authz.url}/authz/nginx", headers={
        **headers, "X-Original-Method": "GET"}).status_code == 400
    assert httpx.get(f"{authz.url}/authz/traefik", headers={
        **headers, "X-Original-Method": "GET", "X-Original-URI": "/brands/acme"}).status_code == 400


def test_traefik_convention(authz, tokens):
    headers = {"Authorization": f"Bearer {tokens['bearer']}", "X-Forwarded-Method": "GET",
               "X-Forwarded-Uri": "/brands/acme", "X-Forwarded-Host": "api.example"}
    assert httpx.get(f"{authz.url}/authz/traefik", headers=headers).status_code == 200
    headers["X-Forwarded-Method"] = "DELETE"
    assert httpx.get(f"{authz.url}/authz/traefik", headers=headers).status_code == 403


def test_envoy_convention_takes_method_path_query_and_body(authz, tokens):
    auth = {"Authorization": f"Bearer {tokens['user']}"}
    assert httpx.get(f"{authz.url}/authz/envoy/users/pigeon/preferences?a=b",
                     headers=auth).status_code == 200
    assert httpx.put(f"{authz.url}/authz/envoy/users/pigeon/preferences/t1",
                     headers=auth).status_code == 403
    query = {"query": "{ messages { id } }"}
    assert httpx.post(f"{authz.url}/authz/envoy/client/q", json=query,
                      headers=auth).status_code == 200
    mutation = {"query": "mutation { deleteEverything }"}
    assert httpx.post(f"{authz.url}/authz/envoy/client/q", json=mutation,
                      headers=auth).status_code == 403
    large = httpx.post(f"{authz.url}/authz/envoy/client/q", content=b" " * (64 * 1024 + 1),
                       headers=auth)
    assert large.status_code == 403
    assert large.json() == {"allowed": False, "reason": "denied: the request body is too large"}


def test_body_routes_are_denied_where_the_gateway_sends_no_body(authz, tokens):
    answer = nginx(authz, "POST", "/client/q", tokens["user"])
    assert answer.status_code == 403
    assert "decided by its body, and no body was given" in answer.json()["reason"]


def test_raw_targets_are_canonicalized_like_authorize(authz, tokens):
    auth = {"Authorization": f"Bearer {tokens['bearer']}"}
    with httpx.Client() as http:
        for raw in ("/authz/envoy/brands/acme/%2e%2e/other", "/authz/envoy/brands/%61cme",
                    "/authz/envoy//brands/acme", "/authz/envoy/brands/acme"):
            request = http.build_request("GET", authz.url + "/", headers=auth)
            request.url = request.url.copy_with(raw_path=raw.encode())
            answer = http.send(request)
            expected = 200 if raw.endswith("/brands/acme") and "//" not in raw else 403
            assert answer.status_code == expected, (raw, answer.text)


def test_decision_log_has_one_line_per_decision_and_never_the_token(authz, tokens):
    before = authz.decisions.read_text().count("\n") if authz.decisions.exists() else 0
    nginx(authz, "GET", "/brands/acme", tokens["bearer"])
    nginx(authz, "GET", "/brands/zzz", tokens["bearer"])
    lines = authz.decisions.read_text().splitlines()[before:]
    assert len(lines) == 2
    allow, deny = (json.loads(line) for line in lines)
    assert allow["decision"] == "allow" and deny["decision"] == "deny"
    assert set(allow) >= {"time", "decision", "method", "path", "rule", "reason", "subject",
                          "client_id", "latency_us"}
    assert allow["rule"] == "GET /brands/{id}" and allow["client_id"] == tokens["client_id"]
    assert tokens["bearer"] not in authz.decisions.read_text()
    assert tokens["bearer"].split(".")[2] not in authz.output()


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)  # polling for the reload, bounded by the deadline
    return False


def test_hot_reload_good_and_broken_edits(authz, tokens):
    token = tokens["bearer"]
    assert nginx(authz, "GET", "/brands/acme", token).status_code == 200
    original = authz.policy.read_text()
    try:
        # a good edit: GET /brands/{id} now needs write:brands
        edited = original.replace('any_of = ["read:brands", "read:brands:{id}"]',
                                  'any_of = ["write:brands"]')
        assert edited != original
        authz.policy.write_text(edited)
        assert _wait_for(lambda: nginx(authz, "GET", "/brands/acme", token).status_code == 403)
        # a broken edit keeps the policy in force and says why
        authz.policy.write_text(edited + '\n[[endpoints]]\nmethods = ["get"]\n')
        assert _wait_for(lambda: nginx(authz, "GET", "/brands/acme", token) and (
            "policy-reload-failed" in authz.output()))
        assert nginx(authz, "GET", "/brands/acme", token).status_code == 403
        assert "endpoints[9]: missing required key 'path'" in authz.output()
        # SIGHUP reloads on demand
        authz.policy.write_text(original)
        os.kill(authz.process.pid, signal.SIGHUP)
        assert _wait_for(lambda: nginx(authz, "GET", "/brands/acme", token).status_code == 200)
    finally:
        authz.policy.write_text(original)


def test_a_reload_that_adds_a_scope_gives_it_meaning_on_the_next_request_everywhere(tmp_path):
    """Forward-auth and /auth/issue-token read a token's scope text with the policy in force at
    that request: after SIGHUP adds `read:labels` and a route needing it, a token that carries
    it (verified, and cached, before the reload) is allowed, and a client may mint it."""
    policy = tmp_path / "policy.toml"
    policy.write_text(courier_text(), encoding="utf-8")
    with scopes_server(tmp_path, extra=["--rate-limit", "0", "--policy", str(policy)]) as server:
        ring = KeyRing.open(server.keys, create=False)
        early = issue_token(ring, issuer=server.url, subject="svc", audience=AUDIENCE,
                            client_id="cl_early", scope="user_id:pigeon read:labels", lifetime=600)
        assert nginx(server, "GET", "/labels", early).status_code == 403  # no such route yet
        policy.write_text(courier_text(labels=True), encoding="utf-8")
        os.kill(server.process.pid, signal.SIGHUP)
        assert _wait_for(lambda: "policy-reloaded" in server.output())
        allowed = nginx(server, "GET", "/labels", early)
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["x-scopes-user-ids"] == "pigeon"
        client = create_client(server, "--scope", "user_id:pigeon read:labels read:brands",
                               "--audience", AUDIENCE, "--policy", str(policy))
        minted = mint(server, access_token(server, client), {"scope": "user_id:pigeon read:labels"})
        assert minted.status_code == 200, minted.text
        assert nginx(server, "GET", "/labels", minted.json()["token"]).status_code == 200


def test_full_server_serves_forward_auth_with_its_own_keys(issuer, tokens):
    headers = {"Authorization": f"Bearer {tokens['bearer']}", "X-Original-Method": "GET",
               "X-Original-URI": "/brands/acme"}
    assert httpx.get(f"{issuer.url}/authz/nginx", headers=headers).status_code == 200
