"""Laws of token verification, checked with Hypothesis.

The strategies are here rather than in tests/strategies.py because they need a key ring."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scopes
from scopes.errors import TokenError
from scopes.tokens import KeyRing, TokenVerifier, VerifiedToken, issue_token, verify_token
from tests import strategies

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
NOW = 1_800_000_000

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Claims near the valid ones: each one kept, dropped, or replaced by any JSON value.
def _near(value):
    return st.one_of(st.just(value), st.just(None), json_values)


near_claims = st.fixed_dictionaries(
    {
        "iss": _near(ISSUER),
        "sub": _near("svc"),
        "aud": st.one_of(_near(AUDIENCE), st.just([AUDIENCE, "x"])),
        "client_id": _near("c"),
        "scope": st.one_of(_near("read:brands"), strategies.scopeish_text),
        "scp": _near(["read:brands"]),
        "iat": st.one_of(_near(NOW), st.integers(NOW - 10**6, NOW + 10**6), st.floats(NOW - 100, NOW + 100)),
        "nbf": st.one_of(_near(NOW), st.integers(NOW - 100, NOW + 100)),
        "exp": st.one_of(_near(NOW + 600), st.integers(NOW - 100, NOW + 100), st.floats(-1e300, 1e300)),
        "jti": _near("j"),
    }
).map(lambda d: {k: v for k, v in d.items() if v is not None})

near_headers = st.fixed_dictionaries(
    {
        "typ": st.one_of(st.sampled_from(["at+jwt", "AT+JWT", "application/at+jwt", "JWT"]), json_values),
        "kid": st.one_of(st.just("KID"), json_values),
    },
    optional={"crit": json_values, "jku": st.text(max_size=10), "b64": st.booleans()},
)

# Text with the shape of a compact JWS, some with a real JSON header.
jws_shaped = st.one_of(
    st.lists(st.text(alphabet=B64URL, max_size=40), min_size=1, max_size=5).map(".".join),
    st.tuples(st.dictionaries(st.text(max_size=5), json_values, max_size=4), st.text(alphabet=B64URL, max_size=40))
    .map(lambda p: f"{b64(json.dumps(p[0]).encode())}.{p[1]}.{p[1][:20]}"),
    st.tuples(json_values, json_values).map(
        lambda p: f"{b64(json.dumps({'alg': 'EdDSA', 'typ': 'at+jwt', 'kid': p[0]}).encode())}."
        f"{b64(json.dumps(p[1]).encode())}.AAAA"
    ),
)


@pytest.fixture(scope="module")
def ring(tmp_path_factory) -> KeyRing:
    return KeyRing.open(tmp_path_factory.mktemp("keys") / "keys")


def outcome(call):
    try:
        return call()
    except TokenError as error:
        assert error.reason in TokenError.REASONS
        assert str(error).isascii() and '"' not in str(error) and "\\" not in str(error)
        return error.reason


@given(text=st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")), jws_shaped))
def test_arbitrary_text_is_only_ever_a_token_error(ring, text):
    """verify_token(any text) raises TokenError and nothing else; no text verifies."""
    assert isinstance(outcome(lambda: verify_token(text, ring, audience=AUDIENCE, issuer=ISSUER)), str)


@given(claims=near_claims, header=near_headers)
def test_signed_arbitrary_claims_verify_or_are_refused(ring, claims, header):
    """Even with a good signature, any claims and header either verify with every RFC 9068
    claim present and well typed, or are refused with a TokenError."""
    key = ring.signing_key
    header = {k: (key.kid if v == "KID" else v) for k, v in header.items()}
    payload = json.dumps(claims).encode()
    try:
        token = jwt.api_jws.encode(payload, key.private_key, algorithm=key.alg, headers=header)
    except Exception:  # noqa: BLE001 (PyJWT refuses some headers when signing; nothing to verify then)
        return
    result = outcome(
        lambda: verify_token(token, ring, audience=AUDIENCE, issuer=ISSUER, now=NOW, scope_claims=("scope", "scp"))
    )
    if isinstance(result, VerifiedToken):
        assert header["typ"].lower() in ("at+jwt", "application/at+jwt")
        assert "crit" not in header and "b64" not in header
        assert result.issuer == ISSUER and AUDIENCE in result.audiences
        assert result.expires_at + 30 > NOW and result.issued_at <= NOW + 30
        assert all(isinstance(getattr(result, n), str) for n in ("subject", "client_id", "jti"))


@given(scope=strategies.scope_string, lifetime=st.floats(0.001, 10**7))
def test_issue_then_verify_gives_back_the_scopes(ring, scope, lifetime):
    """verify(issue(scope)).scope means parse(scope), for every valid scope string and lifetime."""
    token = issue_token(ring, issuer=ISSUER, subject="s", audience=AUDIENCE, client_id="c", scope=scope,
                        lifetime=lifetime, now=NOW)
    verified = verify_token(token, ring, audience=AUDIENCE, issuer=ISSUER, now=NOW)
    assert scopes.parse(verified.scope) == scopes.parse(scope)
    assert verified.expires_at - verified.issued_at >= lifetime


@given(
    steps=st.lists(
        st.tuples(st.integers(0, 3), st.integers(-100, 800)),  # (which token, seconds after NOW)
        min_size=1,
        max_size=12,
    )
)
def test_the_cache_answers_as_verify_token_does(ring, steps):
    """For any sequence of tokens and times, TokenVerifier.verify gives the outcome that
    verify_token gives at that time, even when the clock goes back: the cache changes the
    cost, never the answer."""
    tokens = [
        issue_token(ring, issuer=ISSUER, subject="s", audience=AUDIENCE, client_id="c", scope="read:brands",
                    lifetime=lifetime, now=NOW + start)
        for lifetime, start in ((60, 0), (600, 0), (300, 200), (1, 500))
    ]
    clock = [NOW]
    verifier = TokenVerifier(ring, audience=AUDIENCE, issuer=ISSUER, clock=lambda: clock[0], cache_size=2)
    for which, offset in steps:
        clock[0] = NOW + offset
        cached = outcome(lambda: verifier.verify(tokens[which]))
        direct = outcome(lambda: verify_token(tokens[which], ring, audience=AUDIENCE, issuer=ISSUER, now=clock[0]))
        assert cached == direct
