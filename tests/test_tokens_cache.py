"""TokenVerifier: a repeated token is answered from the cache, and the cache never answers
differently from `verify_token` (expiry on every hit, failures never kept, keys withdrawn)."""

from __future__ import annotations

import pytest

from scopes.errors import TokenError
from scopes.tokens import KeyRing, PublicKeys, SigningKey, TokenVerifier, issue_token, verify_token

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
NOW = 1_800_000_000


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ring_clock() -> FakeClock:
    return FakeClock(0)


@pytest.fixture
def ring(tmp_path, ring_clock) -> KeyRing:
    return KeyRing.open(tmp_path / "keys", clock=ring_clock)


def mint(ring, *, lifetime=600, now=NOW, scope="read:brands", **extra) -> str:
    return issue_token(ring, issuer=ISSUER, subject="svc", audience=AUDIENCE, client_id="c", scope=scope,
                       lifetime=lifetime, now=now, extra_claims=extra or None)


def verifier(keys, clock, **changes) -> TokenVerifier:
    arguments = dict(audience=AUDIENCE, issuer=ISSUER, clock=clock)
    arguments.update(changes)
    return TokenVerifier(keys, **arguments)


def test_a_repeated_token_comes_from_the_cache(ring):
    check = verifier(ring, FakeClock(NOW + 1))
    token = mint(ring)
    first = check.verify(token)
    assert check.verify(token) is first
    assert check.verify("".join(token)) is first, "keyed by the token's text, not its object"
    assert len(check) == 1
    assert first == verify_token(token, ring, audience=AUDIENCE, issuer=ISSUER, now=NOW + 1)


def test_expiry_is_checked_on_every_hit(ring):
    clock = FakeClock(NOW + 1)
    check = verifier(ring, clock)
    token = mint(ring, lifetime=600)
    check.verify(token)
    clock.now = NOW + 600 + 29.9
    assert check.verify(token).expires_at == NOW + 600, "within the leeway"
    clock.now = NOW + 630
    with pytest.raises(TokenError) as caught:
        check.verify(token)
    assert caught.value.reason == "expired"
    assert len(check) == 0, "an expired token leaves the cache"
    with pytest.raises(TokenError):
        check.verify(token)


def test_failures_are_never_cached(ring, tmp_path):
    clock = FakeClock(NOW - 100)
    check = verifier(ring, clock)
    early = mint(ring, now=NOW)
    for _ in range(3):
        with pytest.raises(TokenError) as caught:
            check.verify(early)
        assert caught.value.reason == "not-yet-valid"
    assert len(check) == 0
    clock.now = NOW
    assert check.verify(early).subject == "svc", "valid now: a failure was not remembered either"
    other = KeyRing.open(tmp_path / "other").signing_key
    bad = mint(SigningKey(ring.signing_key.kid, other.alg, other.private_key, other.info))  # same kid, other key
    for _ in range(2):
        with pytest.raises(TokenError) as caught:
            check.verify(bad)
        assert caught.value.reason == "bad-signature"
    assert len(check) == 1


def test_the_cache_is_bounded(ring):
    check = verifier(ring, FakeClock(NOW + 1), cache_size=16)
    tokens = [mint(ring) for _ in range(100)]
    for token in tokens:
        check.verify(token)
        assert len(check) <= 16
    assert check.verify(tokens[-1]) is check.verify(tokens[-1]), "the newest are kept"


def test_long_tokens_are_not_cached(ring):
    check = verifier(ring, FakeClock(NOW + 1))
    long = mint(ring, padding="x" * 9000)
    assert 8 * 1024 < len(long) <= 16 * 1024
    assert check.verify(long).subject == "svc"
    assert len(check) == 0


def test_cache_size_zero_turns_the_cache_off(ring):
    check = verifier(ring, FakeClock(NOW + 1), cache_size=0)
    token = mint(ring)
    assert check.verify(token) == check.verify(token)
    assert len(check) == 0
    with pytest.raises(ValueError, match="cache_size"):
        verifier(ring, FakeClock(0), cache_size=-1)


def test_a_rotation_empties_the_cache_and_old_tokens_still_verify(ring, ring_clock, tmp_path):
    check = verifier(ring, FakeClock(NOW + 1))
    token = mint(ring)
    first = check.verify(token)
    KeyRing.open(tmp_path / "keys").rotate()
    ring_clock.now += 2  # the ring looks at its directory again
    again = check.verify(token)
    assert again == first and again is not first, "verified again after the key set changed"


def test_a_withdrawn_key_stops_verifying_cached_tokens(ring, tmp_path):
    check = verifier(ring, FakeClock(NOW + 1))
    old = ring.signing_key
    token = mint(ring)
    check.verify(token)
    ring.rotate()
    (tmp_path / "keys" / old.info.file).unlink()
    ring.reload()
    with pytest.raises(TokenError) as caught:
        check.verify(token)
    assert caught.value.reason == "unknown-kid"


def test_the_verifier_uses_its_settings(ring):
    clock = FakeClock(NOW + 1)
    token = mint(ring, scope="user_id:u1 read:brands:acme")
    assert verifier(ring, clock).verify(token).scope == "user_id:u1 read:brands:acme"
    with pytest.raises(TokenError) as caught:
        verifier(ring, clock, audience="https://elsewhere").verify(token)
    assert caught.value.reason == "wrong-audience"
    with pytest.raises(TokenError) as caught:
        verifier(ring, clock, issuer="https://elsewhere").verify(token)
    assert caught.value.reason == "wrong-issuer"
    with pytest.raises(TypeError):
        verifier(ring, clock, audience=5)
    keys = PublicKeys.from_jwks(ring.jwks())
    assert verifier(keys, clock).verify(token).subject == "svc"
    assert verifier(ring.jwks(), clock).verify(token).subject == "svc"


@pytest.mark.parametrize("value", [None, b"x.y.z", 3, "", "x" * 20_000])
def test_anything_else_is_a_token_error(ring, value):
    check = verifier(ring, FakeClock(NOW + 1))
    with pytest.raises(TokenError) as caught:
        check.verify(value)
    assert caught.value.reason == "malformed"
    assert len(check) == 0
