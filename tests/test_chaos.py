"""A chaos run: 1,000 forward-auth requests through a real server while the key server
disappears, hangs and returns, the keys rotate, the policy reloads, and the decision log fails
on a full disk. Every answer is right or a 503: never a wrong allow, never a 500."""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest

from scopes.gateway.check import DecisionLog, Gatekeeper
from scopes.gateway.forward import ForwardAuth
from scopes.gateway.keys import for_the_loop
from scopes.policy.reloader import PolicyReloader
from scopes.tokens.cache import TokenVerifier
from scopes.tokens.issue import issue_token
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.keys import KeyRing
from tests.keyserver import KeyServer
from tests.policies import courier_text
from tests.servers import uvicorn_serving

AUDIENCE, ISSUER = "https://api.example", "https://auth.example"
REQUESTS = 1000

# (token, method, target) -> the statuses that are right whatever the chaos: a 503 only when
# there are no keys at all yet; 200 for read:labels only while the policy that knows it is in
# force (the reload races the request, so either policy's answer is right).
CASES = {
    "brands": ("read:brands", "GET", "/brands/acme", {200}),
    "labels": ("read:labels", "GET", "/labels", {200, 403}),
    "lists": ("read:lists", "GET", "/brands/acme", {403}),
    "other-user": ("user_id:u2 read:preferences", "GET", "/users/u1/preferences", {403}),
    "no-token": (None, "GET", "/brands/acme", {401}),
    "rotated": ("read:brands", "GET", "/brands/acme", {200, 401}),  # until its key is fetched
    "forged": ("read:brands", "GET", "/brands/acme", {401}),
}
WEIGHTS = {"brands": 30, "labels": 20, "lists": 15, "other-user": 10, "no-token": 10,
           "rotated": 10, "forged": 5}


def _write(path: Path, text: str) -> None:
    staged = path.with_suffix(".next")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)  # a reload reads the old policy or the new one, never half


def test_chaos_every_answer_is_right_or_an_outage(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    rng = random.Random(20261203)
    ring = KeyRing.open(tmp_path / "keys")
    rotated_ring = KeyRing.open(tmp_path / "rotated")
    forger = KeyRing.open(tmp_path / "forger")
    published = {"rotated": False}

    def jwks() -> dict:
        keys = list(ring.jwks()["keys"])
        if published["rotated"]:
            keys += rotated_ring.jwks()["keys"]
        return {"keys": keys}

    policy = tmp_path / "policy.toml"
    _write(policy, courier_text())
    decisions = DecisionLog.open("/dev/full")
    with KeyServer(jwks) as key_server:
        keys = PublicKeys.from_url(key_server.url, cache_seconds=0.2, retry_seconds=0.05,
                                   min_refresh_seconds=0.05, timeout=0.3)
        verifier = TokenVerifier(for_the_loop(keys), audience=AUDIENCE, issuer=ISSUER)
        gatekeeper = Gatekeeper(PolicyReloader(str(policy), check_interval=0), verifier,
                                decisions)
        tokens = {}
        for name, (scope, *_rest) in CASES.items():
            signer = {"rotated": rotated_ring, "forged": forger}.get(name, ring)
            tokens[name] = scope and issue_token(
                signer, issuer=ISSUER, subject="svc", audience=AUDIENCE, client_id="svc",
                scope=scope, lifetime=3600)
        seen: Counter[tuple[str, int]] = Counter()
        wrong: list[tuple[int, str, int, str]] = []
        with uvicorn_serving(ForwardAuth(gatekeeper)) as port, httpx.Client(timeout=10) as http:
            for n in range(REQUESTS):
                if n % 40 == 0:
                    key_server.mode = rng.choice(["serve", "serve", "refuse", "hang"])
                if n % 75 == 0:
                    # a policy that knows read:labels, one that does not, or a broken edit
                    _write(policy, rng.choice([courier_text(), courier_text(labels=True),
                                               "[[routes]\nbroken"]))
                if n == REQUESTS // 3:
                    published["rotated"] = True  # a rotation: the new kid is published
                name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
                scope, method, target, right = CASES[name]
                headers = {"X-Original-Method": method, "X-Original-URI": target}
                if tokens[name]:
                    headers["Authorization"] = f"Bearer {tokens[name]}"
                answer = http.get(f"http://127.0.0.1:{port}/authz/nginx", headers=headers)
                seen[(name, answer.status_code)] += 1
                if answer.status_code not in right | {503}:
                    wrong.append((n, name, answer.status_code, answer.text))
                if answer.status_code == 503:
                    assert answer.headers["retry-after"]
                    assert answer.json() == {"allowed": False,
                                             "reason": "signing keys unavailable"}
    decisions.close()
    assert wrong == [], wrong[:5]
    assert not any(status == 500 for _, status in seen)
    # The run exercised what it claims: allows, denies, reloads both ways, a rotation seen.
    assert seen[("brands", 200)] > 100 and seen[("lists", 403)] > 50
    assert seen[("labels", 200)] > 0 and seen[("labels", 403)] > 0
    assert seen[("rotated", 200)] > 0
    assert key_server.requests > 10
    assert decisions.dropped == REQUESTS  # every line lost to the full disk, and counted
