"""`scopes minimal` and `scopes can`, called through main() on real files; `--from-log` on a log
written by the gateway's own DecisionLog."""

from __future__ import annotations

import io
import json
import time

import pytest

from scopes import Policy
from scopes.cli import main
from scopes.gateway.check import DecisionLog, Gatekeeper
from scopes.tokens import KeyRing, TokenVerifier, issue_token

COURIER = Policy.courier()

MINIMAL = [
    pytest.param(["GET /brands/acme", "GET /users/pigeon/preferences", "POST /client/q messages"], 0,
                 "user_id:pigeon read:brands:acme read:messages read:preferences\n", id="courier"),
    pytest.param(["GET /brands/a", "GET /brands/b"], 0, "read:brands\n", id="fewest-first"),
    pytest.param(["POST /client/q messages", "--user", "pigeon"], 0, "user_id:pigeon read:messages\n",
                 id="user"),
    pytest.param(["GET /brands/a", "GET /nope", "GET /brands/%2e%2e"], 1,
                 "cannot allow GET /nope: no rule in the policy matches this path\n"
                 "cannot allow GET /brands/%2e%2e: path rejected (encoded-dot-segment): segment 2 "
                 "'%2e%2e' decodes to the dot segment '..'; send the canonical path\n", id="impossible"),
]


@pytest.mark.parametrize(("args", "code", "out"), MINIMAL)
def test_minimal(args, code, out, capsys):
    assert main(["minimal", *args]) == code
    assert capsys.readouterr().out == out


def test_minimal_json(capsys):
    assert main(["minimal", "--json", "GET /brands/a", "GET /nope"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "scope": None,
        "proven_minimal": True,
        "calls": ["GET /brands/a", "GET /nope"],
        "impossible": [{"call": "GET /nope", "reason": "no rule in the policy matches this path"}],
    }


def test_minimal_with_a_policy_file(tmp_path, capsys):
    policy = tmp_path / "p.toml"
    policy.write_text(
        '[scopes."read:things"]\nqualifier = "id"\n'
        '[[endpoints]]\nmethods = ["GET"]\npath = "/things/{id}"\nany_of = ["read:things:{id}"]\n'
    )
    assert main(["minimal", "--policy", str(policy), "GET /things/t1"]) == 0
    assert capsys.readouterr().out == "read:things:t1\n"


def test_minimal_of_public_calls_is_the_empty_string(tmp_path, capsys):
    policy = tmp_path / "p.toml"
    policy.write_text('[[endpoints]]\nmethods = ["GET"]\npath = "/health"\npublic = true\n')
    assert main(["minimal", "--policy", str(policy), "GET /health"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "\n"
    assert "no scope is needed" in captured.err


USAGE = [
    pytest.param(["minimal"], "give one or more CALLs", id="nothing"),
    pytest.param(["minimal", "GET"], "a call is 'METHOD /path'", id="bad-call"),
    pytest.param(["minimal", "GET /a", "--from-log", "x.log"], "not both", id="calls-and-log"),
    pytest.param(["minimal", "GET /a", "--client", "c"], "--client and --scope go with --from-log", id="client"),
    pytest.param(["minimal", "--from-log", "x.log", "--scope", "read:brands"], "give --client ID too",
                 id="scope-without-client"),
    pytest.param(["minimal", "--from-log", "/does/not/exist.log"], "cannot read decision log", id="no-log"),
    pytest.param(["minimal", "POST /client/q messages", "--user", "a b"], "is not one scope token", id="user"),
    pytest.param(["minimal", "GET /a", "--policy", "/does/not/exist.toml"], "cannot load policy", id="policy"),
    pytest.param(["can"], "Missing option '--scope'", id="can-without-scope"),
    pytest.param(["can", "--scope", "read::x"], "--scope is not a scope string:\nempty segment after ':'",
                 id="can-malformed"),
]


@pytest.mark.parametrize(("args", "message"), USAGE)
def test_usage_errors_exit_2_without_traceback(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_can(capsys):
    assert main(["can", "--scope", "user_id:alice read:preferences read:brands:abc write:brand"]) == 0
    assert capsys.readouterr().out == (
        "GET /brands/abc                          read:brands:abc\n"
        "GET /users/alice/preferences             read:preferences user_id:alice\n"
        "GET /users/alice/preferences/{topic_id}  read:preferences user_id:alice\n"
        "grants nothing: write:brand: unknown scope 'write:brand'; did you mean 'write:brands'?\n"
    )


def test_can_nothing(capsys):
    assert main(["can", "--scope", "read:messages"]) == 0
    assert capsys.readouterr().out == (
        "no route of this policy: the token can call nothing\n"
        "grants nothing: read:messages: grants only beside a user_id:<id>, and the token has none\n"
    )


def test_can_json(capsys):
    assert main(["can", "--json", "--scope", "user_id:u read:messages zz"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "scope": "user_id:u read:messages zz",
        "capabilities": [{
            "method": "POST", "path": "/client/q", "rule": "POST /client/q", "operation": "query",
            "field": "messages", "params": {}, "access": "scopes",
            "granted_by": ["read:messages", "user_id:u"],
        }],
        "grants_nothing": [{"scope": "zz", "why": "unknown scope 'zz'"}],
    }


# -- --from-log: a log written by the gateway's DecisionLog ---------------------------------------


AUDIENCE = "https://api.example"
ISSUER = "https://auth.example"


def _log(tmp_path, requests, extra=""):
    """Decide each (token, method, target, body) through the real Gatekeeper and DecisionLog, with
    tokens signed by a real key ring; a token is written `client|subject|scope string`."""
    ring = KeyRing.open(tmp_path / "keys")
    verifier = TokenVerifier(ring, audience=AUDIENCE, issuer=ISSUER)
    stream = io.StringIO()
    gate = Gatekeeper(COURIER, verifier, DecisionLog(stream))
    for token, method, target, body in requests:
        bearer = None
        if token:
            client_id, subject, scope = token.split("|")
            bearer = "Bearer " + issue_token(ring, issuer=ISSUER, subject=subject, audience=AUDIENCE,
                                             client_id=client_id, scope=scope, lifetime=300)
        assert gate.check(bearer, method, target, body).status in (200, 401, 403)
    path = tmp_path / "decisions.jsonl"
    path.write_text(stream.getvalue() + extra)
    return path


WEB = "web|svc|user_id:pigeon read:preferences read:brands write:brands read:messages"
ADMIN = "admin|ops|write:brands"
QUERY = '{"query": "{ messages { id } }"}'
REQUESTS = [
    (WEB, "GET", "/users/pigeon/preferences", None),
    (WEB, "GET", "/users/pigeon/preferences", None),
    (WEB, "GET", "/brands/acme?page=2", None),
    (WEB, "POST", "/client/q", QUERY),
    (WEB, "PATCH", "/brands", None),
    (WEB, "GET", "/users/bluebird/preferences", None),
    (ADMIN, "PUT", "/brands/acme", None),
    (None, "GET", "/brands", None),
]


def test_from_log_proposes_per_client(tmp_path, capsys):
    path = _log(tmp_path, REQUESTS, extra="not json\n{\"decision\": 1}\n\n")
    assert main(["minimal", "--from-log", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        "client admin: 1 decisions, 1 distinct calls allowed\n"
        "  least privilege: write:brands:acme\n"
        "  beyond that: write:brands (seen in the log's reasons: write:brands)\n"
        "client web: 6 decisions, 3 distinct calls allowed\n"
        "  least privilege: user_id:pigeon read:brands:acme read:messages read:preferences\n"
        "  beyond that: read:brands write:brands (seen in the log's reasons: user_id:pigeon "
        "read:brands read:messages read:preferences write:brands)\n"
        "  denied, not included: GET /users/bluebird/preferences (x1), PATCH /brands (x1)\n"
        "  kept: POST /client/q (GraphQL fields are not logged: as granted, read:messages)\n"
    )
    assert captured.err == (
        "read 11 lines: 8 decisions (1 without a client id), 2 malformed (line 9, 10)\n"
    )


def test_from_log_for_one_client_with_its_token(tmp_path, capsys):
    path = _log(tmp_path, REQUESTS)
    args = ["minimal", "--from-log", str(path), "--client", "web", "--json",
            "--scope", "user_id:pigeon read:preferences read:brands inbox:read:messages read:messages"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert [c["client_id"] for c in result["clients"]] == ["web"]
    [web] = result["clients"]
    assert web["scope"] == "user_id:pigeon read:brands:acme read:messages read:preferences"
    assert (web["current_from"], web["beyond"]) == ("given", "inbox:read:messages read:brands")
    assert web["denied"] == [{"call": "GET /users/bluebird/preferences", "count": 1},
                             {"call": "PATCH /brands", "count": 1}]
    assert (result["lines"], result["decisions"], result["malformed"]) == (8, 8, 0)


def test_from_log_a_client_not_in_the_log(tmp_path, capsys):
    path = _log(tmp_path, REQUESTS)
    assert main(["minimal", "--from-log", str(path), "--client", "nobody"]) == 1
    assert "no decision of client 'nobody'" in capsys.readouterr().err


def test_from_log_a_call_the_policy_no_longer_allows(tmp_path, capsys):
    line = json.dumps({"time": time.time(), "decision": "allow", "status": 200, "method": "GET",
                       "path": "/old", "rule": "GET /old", "reason": "allowed: GET /old matches GET /old; "
                       "granted by read:brands", "subject": "s", "client_id": "c", "latency_us": 1.0})
    path = tmp_path / "old.jsonl"
    path.write_text(line + "\n")
    assert main(["minimal", "--from-log", str(path)]) == 1
    assert "  cannot allow GET /old: no rule in the policy matches this path\n" in capsys.readouterr().out


def test_from_log_survives_any_bytes(tmp_path, capsys):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(b"\xff\xfe\x00\n[1, 2]\n{\"decision\": \"allow\"}\nnull\n" + b"[" * 100_000 + b"\n")
    assert main(["minimal", "--from-log", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "read 5 lines: 0 decisions (0 without a client id), 5 malformed (line 1, 2, 3, 4, 5)\n"
