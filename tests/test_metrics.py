"""GET /metrics: what each counter counts, in process and from real `scopes serve` processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scopes import Policy
from scopes.gateway.check import Gatekeeper, deny
from scopes.gateway.forward import ForwardAuth
from scopes.metrics import Metrics
from scopes.tokens.cache import TokenVerifier
from scopes.tokens.issue import issue_token
from scopes.tokens.keys import KeyRing
from tests.pg import PostgresServer
from tests.policies import courier_text
from tests.servers import free_port, scopes_server
from tests.test_gateway import _wait_for, issuer, tokens  # noqa: F401  (fixtures)
from tests.test_service import AUDIENCE, access_token, create_client, mint, post_token

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(url: str) -> Samples:
    answer = httpx.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


# -- the counters, in process ------------------------------------------------------------------

class _Answer:
    def __init__(self, error: str, status_code: int) -> None:
        self.error, self.status_code = error, status_code


def _decided(metrics: Metrics, status: int, code: str | None) -> None:
    """A verdict as the gatekeeper makes one: a decision of `code`, or none (`code` None)."""
    policy = Policy.courier()
    if code is None:
        metrics.decided(deny(status, "why"), 0.0002)
        return
    decision = {"allowed": policy.authorize("read:brands", "GET", "/brands"),
                "insufficient-scope": policy.authorize("read:brands", "PUT", "/brands"),
                "no-route": policy.authorize("read:brands", "GET", "/nowhere"),
                "bad-path": policy.authorize("read:brands", "GET", "/brands/%2e%2e")}[code]
    assert decision.code == code

    class Verdict:  # the two fields the metrics read
        pass

    verdict = Verdict()
    verdict.status, verdict.decision = status, decision  # type: ignore[attr-defined]
    metrics.decided(verdict, 0.0002)  # type: ignore[arg-type]


@pytest.mark.parametrize(("call", "name", "labels", "expected"), [
    pytest.param(lambda m: _decided(m, 200, "allowed"), "scopes_decisions_total",
                 {"outcome": "allow", "code": "allowed"}, 1, id="allow"),
    pytest.param(lambda m: _decided(m, 403, "insufficient-scope"), "scopes_decisions_total",
                 {"outcome": "deny", "code": "insufficient-scope"}, 1, id="deny-by-scope"),
    pytest.param(lambda m: _decided(m, 403, "no-route"), "scopes_decisions_total",
                 {"outcome": "deny", "code": "no-route"}, 1, id="deny-no-route"),
    pytest.param(lambda m: _decided(m, 403, "bad-path"), "scopes_decisions_total",
                 {"outcome": "deny", "code": "bad-path"}, 1, id="deny-bad-path"),
    pytest.param(lambda m: _decided(m, 401, None), "scopes_decisions_total",
                 {"outcome": "deny", "code": "unauthenticated"}, 1, id="no-or-bad-token"),
    pytest.param(lambda m: _decided(m, 400, None), "scopes_decisions_total",
                 {"outcome": "deny", "code": "bad-request"}, 1, id="misconfigured-gateway"),
    pytest.param(lambda m: _decided(m, 503, None), "scopes_decisions_total",
                 {"outcome": "deny", "code": "unavailable"}, 1, id="outage"),
    pytest.param(lambda m: _decided(m, 403, None), "scopes_decisions_total",
                 {"outcome": "deny", "code": "error"}, 1, id="undecided-other"),
    pytest.param(lambda m: [_decided(m, 200, "allowed") for _ in range(3)],
                 "scopes_decision_seconds_count", {}, 3, id="latency-count"),
    pytest.param(lambda m: _decided(m, 200, "allowed"), "scopes_decision_seconds_bucket",
                 {"le": "0.00025"}, 1, id="latency-bucket"),
    pytest.param(lambda m: _decided(m, 200, "allowed"), "scopes_decision_seconds_bucket",
                 {"le": "0.0001"}, 0, id="latency-bucket-below"),
    pytest.param(lambda m: (m.verified("valid"), m.verified("valid")),
                 "scopes_token_verifications_total", {"result": "valid"}, 2, id="verified"),
    pytest.param(lambda m: m.verified("expired"), "scopes_token_verifications_total",
                 {"result": "expired"}, 1, id="verification-failed"),
    pytest.param(lambda m: (m.jwks_fetch(True), m.jwks_fetch(False)),
                 "scopes_jwks_fetches_total", {}, 2, id="jwks-fetches"),
    pytest.param(lambda m: (m.jwks_fetch(True), m.jwks_fetch(False)),
                 "scopes_jwks_fetch_failures_total", {}, 1, id="jwks-failures"),
    pytest.param(lambda m: (m.policy_reload(True), m.policy_reload(False)),
                 "scopes_policy_reloads_total", {}, 2, id="reloads"),
    pytest.param(lambda m: (m.policy_reload(True), m.policy_reload(False)),
                 "scopes_policy_reload_failures_total", {}, 1, id="reload-failures"),
    pytest.param(lambda m: (m.decision_log_dropped(), m.decision_log_dropped(4)),
                 "scopes_decision_log_dropped_lines_total", {}, 5, id="dropped-log-lines"),
    pytest.param(lambda m: m.token_issued("/oauth/token"), "scopes_tokens_issued_total",
                 {"endpoint": "/oauth/token"}, 1, id="issued"),
    pytest.param(lambda m: m.error_answered(_Answer("invalid_client", 401)),
                 "scopes_client_authentication_failures_total", {}, 1, id="client-auth"),
    pytest.param(lambda m: m.error_answered(_Answer("invalid_request", 400)),
                 "scopes_client_authentication_failures_total", {}, 0, id="other-error"),
    pytest.param(lambda m: m.error_answered(_Answer("rate_limited", 429)),
                 "scopes_rate_limited_answers_total", {}, 1, id="rate-limited"),
    pytest.param(lambda m: m.error_answered(_Answer("temporarily_unavailable", 503)),
                 "scopes_unavailable_answers_total", {}, 1, id="unavailable"),
])
def test_each_call_counts_where_design_says(call, name, labels, expected):
    metrics = Metrics(service=True)
    call(metrics)
    assert value(samples(metrics.exposition()[0].decode()), name, **labels) == expected


def test_every_series_is_there_from_the_start_at_zero():
    """A dashboard shows 0, not nothing, before the first request."""
    found = samples(Metrics(service=True).exposition()[0].decode())
    for name, labels in [
        ("scopes_decisions_total", {"outcome": "allow", "code": "allowed"}),
        ("scopes_decision_seconds_count", {}),
        ("scopes_token_verifications_total", {"result": "valid"}),
        ("scopes_jwks_fetches_total", {}), ("scopes_jwks_fetch_failures_total", {}),
        ("scopes_policy_reloads_total", {}), ("scopes_policy_reload_failures_total", {}),
        ("scopes_decision_log_dropped_lines_total", {}),
        ("scopes_tokens_issued_total", {"endpoint": "/oauth/token"}),
        ("scopes_tokens_issued_total", {"endpoint": "/auth/issue-token"}),
        ("scopes_client_authentication_failures_total", {}),
        ("scopes_rate_limited_answers_total", {}), ("scopes_unavailable_answers_total", {}),
    ]:
        assert (name, tuple(sorted(labels.items()))) in found, name
        assert value(found, name, **labels) == 0


def test_forward_auth_alone_has_no_token_service_series():
    found = samples(Metrics(service=False).exposition()[0].decode())
    assert not [name for name, _ in found if name.startswith(("scopes_tokens_issued",
                                                               "scopes_rate_limited"))]


@pytest.mark.parametrize("accept", [
    pytest.param(None, id="none"),
    pytest.param("text/plain", id="text"),
    pytest.param("application/openmetrics-text; version=nonsense", id="bad-version"),
    pytest.param("application/openmetrics-text; version=1.0.0; escaping=\x00", id="bad-escaping"),
    pytest.param(",;;,=,", id="garbage"),
    pytest.param("\xff\xfe", id="latin-1"),
])
def test_any_accept_header_gets_an_exposition(accept):
    body, content_type = Metrics().exposition(accept)
    assert content_type.startswith(("text/plain", "application/openmetrics-text"))
    assert b"scopes_decisions_total" in body


def test_openmetrics_is_served_when_asked_for():
    body, content_type = Metrics().exposition("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    assert body.endswith(b"# EOF\n")


def test_two_applications_in_one_process_count_apart(tmp_path):
    """Each application has its own registry, never the global one."""
    verifier = TokenVerifier(KeyRing.open(tmp_path / "keys"), audience=AUDIENCE, issuer=None)
    apps = [ForwardAuth(Gatekeeper(Policy.courier(), verifier, metrics=metrics), metrics=metrics)
            for metrics in (Metrics(), Metrics())]

    async def drive() -> tuple[str, str]:
        transports = [httpx.ASGITransport(app=app) for app in apps]
        async with httpx.AsyncClient(transport=transports[0], base_url="http://a") as a, \
                httpx.AsyncClient(transport=transports[1], base_url="http://b") as b:
            for _ in range(3):
                await a.get("/authz/nginx", headers={"X-Original-Method": "GET",
                                                     "X-Original-URI": "/brands"})
            await b.get("/authz/nginx")
            return (await a.get("/metrics")).text, (await b.get("/metrics")).text

    one, two = (samples(text) for text in asyncio.run(drive()))
    assert value(one, "scopes_decisions_total", outcome="deny", code="unauthenticated") == 3
    assert value(one, "scopes_decisions_total", outcome="deny", code="bad-request") == 0
    assert value(two, "scopes_decisions_total", outcome="deny", code="unauthenticated") == 0
    assert value(two, "scopes_decisions_total", outcome="deny", code="bad-request") == 1
    from prometheus_client import REGISTRY
    assert REGISTRY.get_sample_value("scopes_decisions_total",
                                     {"outcome": "deny", "code": "unauthenticated"}) is None


def test_the_core_and_the_middleware_never_import_prometheus_client():
    """prometheus_client is in the server extra: `import scopes`, the ASGI middleware and the
    gateway's check run without it."""
    code = ("import sys, scopes, scopes.asgi, scopes.gateway.check, scopes.gateway.forward, "
            "scopes.tokens, scopes.policy.reloader; "
            "assert 'prometheus_client' not in sys.modules, 'imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr


# -- end to end: real servers ------------------------------------------------------------------

def _nginx(url: str, method: str | None, uri: str | None, token: str | None = None):
    headers = {}
    if method:
        headers["X-Original-Method"] = method
    if uri:
        headers["X-Original-URI"] = uri
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(f"{url}/authz/nginx", headers=headers, timeout=10)


def test_authz_only_counts_decisions_verifications_jwks_and_reloads(issuer, tokens,  # noqa: F811
                                                                    tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(courier_text(), encoding="utf-8")
    with scopes_server(tmp_path, name="authz", extra=[
        "--authz-only", "--jwks", f"{issuer.url}/.well-known/jwks.json", "--audience", AUDIENCE,
        "--issuer", issuer.url, "--policy", str(policy),
        "--decision-log", str(tmp_path / "decisions.jsonl"),
    ]) as authz:
        before = scrape(authz.url)
        token = tokens["bearer"]
        statuses = [
            _nginx(authz.url, "GET", "/brands/acme?secret=1", token).status_code,
            _nginx(authz.url, "GET", "/brands/acme", token).status_code,
            _nginx(authz.url, "GET", "/brands/other", token).status_code,
            _nginx(authz.url, "GET", "/nowhere", token).status_code,
            _nginx(authz.url, "GET", "/brands/acme/..%2Fother", token).status_code,
            _nginx(authz.url, "GET", "/brands/acme").status_code,
            _nginx(authz.url, "GET", "/brands/acme", "not-a-token").status_code,
            _nginx(authz.url, None, "/brands/acme", token).status_code,
        ]
        assert statuses == [200, 200, 403, 403, 403, 401, 401, 400]
        after = scrape(authz.url)
        for labels, count in [({"outcome": "allow", "code": "allowed"}, 2),
                              ({"outcome": "deny", "code": "insufficient-scope"}, 1),
                              ({"outcome": "deny", "code": "no-route"}, 1),
                              ({"outcome": "deny", "code": "bad-path"}, 1),
                              ({"outcome": "deny", "code": "unauthenticated"}, 2),
                              ({"outcome": "deny", "code": "bad-request"}, 1)]:
            assert delta(before, after, "scopes_decisions_total", **labels) == count, labels
        assert delta(before, after, "scopes_decision_seconds_count") == 8
        assert delta(before, after, "scopes_decision_seconds_bucket", le="+Inf") == 8
        assert delta(before, after, "scopes_token_verifications_total", result="valid") == 5
        assert delta(before, after, "scopes_token_verifications_total", result="malformed") == 1
        assert value(after, "scopes_jwks_fetches_total") >= 1
        assert value(after, "scopes_jwks_fetch_failures_total") == 0
        assert value(after, "process_resident_memory_bytes") > 0
        assert not [name for name, _ in after if name.startswith("scopes_tokens_issued")]
        text = httpx.get(f"{authz.url}/metrics").text
        assert token not in text and "secret" not in text and "/brands" not in text

        # A broken edit is a failed reload; SIGHUP with a good one, a reload.
        original = policy.read_text(encoding="utf-8")
        policy.write_text(original + '\n[[endpoints]]\nmethods = ["get"]\n', encoding="utf-8")
        os.kill(authz.process.pid, signal.SIGHUP)
        assert _wait_for(lambda: value(scrape(authz.url),
                                       "scopes_policy_reload_failures_total") >= 1)
        policy.write_text(original, encoding="utf-8")
        os.kill(authz.process.pid, signal.SIGHUP)
        assert _wait_for(lambda: _good_reloads(scrape(authz.url)) >= 1)
        assert "Traceback" not in authz.output()


def _good_reloads(found: Samples) -> float:
    return (value(found, "scopes_policy_reloads_total")
            - value(found, "scopes_policy_reload_failures_total"))


def test_a_jwks_that_cannot_be_fetched_is_counted_and_never_allows(tmp_path):
    """The key server is down (nothing listens on its port): every fetch fails and is counted;
    the token is not verified, so nothing is allowed."""
    ring = KeyRing.open(tmp_path / "keys")
    token = issue_token(ring, issuer="https://auth.example", subject="svc", audience=AUDIENCE,
                        client_id="svc", scope="read:brands", lifetime=600)
    dead = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    with scopes_server(tmp_path, name="authz", extra=[
        "--authz-only", "--jwks", dead, "--audience", AUDIENCE,
        "--decision-log", str(tmp_path / "decisions.jsonl"),
    ], healthy=False) as authz:  # no keys yet: /healthz says 503 from the start
        answer = _nginx(authz.url, "GET", "/brands", token)
        assert answer.status_code == 503
        found = scrape(authz.url)
        assert value(found, "scopes_jwks_fetches_total") >= 1
        assert value(found, "scopes_jwks_fetch_failures_total") == value(
            found, "scopes_jwks_fetches_total")
        assert value(found, "scopes_token_verifications_total", result="keys-unavailable") == 1
        assert value(found, "scopes_decisions_total", outcome="allow", code="allowed") == 0
        assert value(found, "scopes_decisions_total", outcome="deny", code="unavailable") == 1


def test_the_token_service_counts_issued_tokens_failures_and_rate_limits(tmp_path):
    with scopes_server(tmp_path, extra=["--rate-limit", "6/min"]) as server:
        client = create_client(server, "--scope", "user_id:pigeon read:preferences",
                               "--audience", AUDIENCE)
        before = scrape(server.url)
        bearer = access_token(server, client)
        assert mint(server, bearer, {"scope": "user_id:pigeon read:preferences"}).status_code == 200
        wrong = post_token(server, json={"grant_type": "client_credentials",
                                         "client_id": client["client_id"],
                                         "client_secret": "wrong"})
        assert wrong.status_code == 401
        assert mint(server, "not-a-token", {"scope": "read:preferences"}).status_code == 401
        # forward-auth on the full server is counted too, verified with its own keys
        assert _nginx(server.url, "GET", "/users/pigeon/preferences", bearer).status_code == 200
        statuses = [post_token(server, json={"grant_type": "client_credentials",
                                             "client_id": client["client_id"],
                                             "client_secret": client["client_secret"]}
                               ).status_code for _ in range(6)]
        assert 429 in statuses
        after = scrape(server.url)
        issued = statuses.count(200)
        assert delta(before, after, "scopes_tokens_issued_total",
                     endpoint="/oauth/token") == 1 + issued
        assert delta(before, after, "scopes_tokens_issued_total",
                     endpoint="/auth/issue-token") == 1
        assert delta(before, after, "scopes_client_authentication_failures_total") == 1
        assert delta(before, after, "scopes_rate_limited_answers_total") == statuses.count(429)
        assert delta(before, after, "scopes_token_verifications_total", result="valid") == 2
        assert delta(before, after, "scopes_token_verifications_total", result="malformed") == 1
        assert delta(before, after, "scopes_decisions_total", outcome="allow",
                     code="allowed") == 1
        assert value(after, "scopes_unavailable_answers_total") == 0
        text = httpx.get(f"{server.url}/metrics").text
        assert client["client_secret"] not in text and bearer not in text


def test_the_token_service_counts_503_while_the_registry_is_down(tmp_path):
    with PostgresServer() as pg, scopes_server(tmp_path, db=pg.create_database(),
                                               extra=["--rate-limit", "0"]) as server:
        client = create_client(server, "--scope", "read:brands")
        assert access_token(server, client)
        pg.stop()
        answer = post_token(server, json={"grant_type": "client_credentials",
                                          "client_id": client["client_id"],
                                          "client_secret": client["client_secret"]})
        assert answer.status_code == 503
        assert value(scrape(server.url), "scopes_unavailable_answers_total") == 1


def test_metrics_never_raise_on_what_a_client_sends(tmp_path):
    """Raw bytes on a socket: an Accept header that is not UTF-8, a query string, a POST."""
    with scopes_server(tmp_path, name="authz", extra=[
        "--authz-only", "--jwks", str(_jwks_file(tmp_path)), "--audience", AUDIENCE,
    ]) as authz:
        for request in (
            (b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: \xff\xfe;version=\xff\r\n"
             b"Connection: close\r\n\r\n"),
            b"GET /metrics?name[]=%ff&x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             b"Connection: close\r\n\r\nabc"),
        ):
            with socket.create_connection(("127.0.0.1", authz.port), timeout=10) as sock:
                sock.sendall(request)
                reply = b""
                while chunk := sock.recv(65536):
                    reply += chunk
            assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]
            assert b"scopes_decisions_total" in reply
        assert "Traceback" not in authz.output()


def _jwks_file(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(KeyRing.open(tmp_path / "keys").jwks()), encoding="utf-8")
    return path
