"""Token verification benchmarks: cold (signature checked) per algorithm, cached, and a cached
verify plus a warm decision against the warm decision alone (target: within 3x).

    python benchmarks/bench_tokens.py --fast -o /tmp/tokens.json
    python benchmarks/report.py /tmp/tokens.json --baseline "authorize: warm, per decision"
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pyperf

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scopes  # noqa: E402
from courier_floor import MIX  # noqa: E402
from scopes.tokens import KeyRing, PublicKeys, TokenVerifier, issue_token, verify_token  # noqa: E402

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


def mint(ring: KeyRing, scope: str) -> str:
    return issue_token(ring, issuer=ISSUER, subject="svc", audience=AUDIENCE, client_id="client-1",
                       scope=scope, lifetime=3600)


def time_requests(handle, requests):
    def run(loops: int) -> float:
        clock = pyperf.perf_counter
        start = clock()
        for _ in range(loops):
            for args in requests:
                handle(*args)
        return clock() - start

    return run


def main() -> None:
    runner = pyperf.Runner()
    policy = scopes.Policy.courier()
    directory = Path(tempfile.mkdtemp(prefix="bench-keys-"))

    # -- cold: every call checks the signature and the claims, and the scope text's syntax -----
    for alg in ("EdDSA", "ES256", "RS256"):
        ring = KeyRing.open(directory / alg, algorithm=alg)
        keys = PublicKeys.from_jwks(ring.jwks())
        token = mint(ring, "user_id:pigeon read:preferences")
        verify_token(token, keys, audience=AUDIENCE, issuer=ISSUER)
        runner.bench_func(
            f"verify: cold, {alg} (signature checked)",
            lambda t=token, k=keys: verify_token(t, k, audience=AUDIENCE, issuer=ISSUER),
        )

    # -- cached: the Courier mix, one token per scope string, each verified once beforehand -----
    ring = KeyRing.open(directory / "EdDSA")
    verifier = TokenVerifier(ring, audience=AUDIENCE, issuer=ISSUER)
    tokens = {scope: mint(ring, scope) for scope, _, _ in MIX}
    bearer = [(tokens[scope], method, path) for scope, method, path in MIX]
    # the decision alone, on scope sets parsed beforehand; a request hands on the token's text
    warm = [(policy.parse(verifier.verify(token).scope), method, path) for token, method, path in bearer]
    for (token, method, path), (scope_set, _, _) in zip(bearer, warm):
        assert verifier.verify(token).scope == next(s for s, t in tokens.items() if t == token)
        assert policy.authorize(scope_set, method, path).allowed == policy.authorize(
            verifier.verify(token).scope, method, path
        ).allowed
    n = len(MIX)

    def cached_verify(token, method, path):
        verifier.verify(token)

    def verify_and_decide(token, method, path):
        policy.authorize(verifier.verify(token).scope, method, path)

    runner.bench_time_func("verify: cached, per token", time_requests(cached_verify, bearer), inner_loops=n)
    runner.bench_time_func("authorize: warm, per decision", time_requests(policy.authorize, warm), inner_loops=n)
    runner.bench_time_func(
        "authorize: cached verify + warm decision, per request",
        time_requests(verify_and_decide, bearer),
        inner_loops=n,
    )


if __name__ == "__main__":
    main()
