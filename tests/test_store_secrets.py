"""Tests for scopes.store.secrets: ids, secrets, scrypt hashes, no timing oracle on client ids."""

from __future__ import annotations

import base64
import hmac
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scopes.store.secrets
from scopes.store.secrets import (
    DUMMY_HASH,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    hash_secret,
    needs_rehash,
    new_client_id,
    new_secret,
    verify_secret,
    verify_unknown,
)

HASH_FORMAT = re.compile(
    r"scrypt\$n=(?P<n>\d+),r=(?P<r>\d+),p=(?P<p>\d+)"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def test_exports() -> None:
    assert scopes.store.secrets.__all__ == [
        "DUMMY_HASH",
        "SCRYPT_N",
        "SCRYPT_P",
        "SCRYPT_R",
        "hash_secret",
        "needs_rehash",
        "new_client_id",
        "new_secret",
        "verify_secret",
        "verify_unknown",
    ]
    assert dir(scopes.store.secrets) == scopes.store.secrets.__all__


def test_client_ids_are_prefixed_base62_and_unique() -> None:
    ids = {new_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"cl_[0-9A-Za-z]{22}", client_id) for client_id in ids)


def test_secrets_are_32_random_bytes_url_safe_and_unique() -> None:
    secrets = {new_secret() for _ in range(2000)}
    assert len(secrets) == 2000
    for secret in secrets:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
        assert len(base64.urlsafe_b64decode(secret + "=")) == 32


def test_hash_is_self_describing_with_the_documented_parameters() -> None:
    match = HASH_FORMAT.fullmatch(hash_secret(new_secret()))
    assert match is not None
    assert (int(match["n"]), int(match["r"]), int(match["p"])) == (2**14, 8, 1)
    assert (SCRYPT_N, SCRYPT_R, SCRYPT_P) == (2**14, 8, 1)
    assert len(_b64(match["salt"])) == 16
    assert len(_b64(match["hash"])) == 32


def test_each_hash_has_its_own_salt() -> None:
    secret = new_secret()
    first, second = hash_secret(secret), hash_secret(secret)
    assert first != second
    assert verify_secret(secret, first) and verify_secret(secret, second)


def test_verify_right_and_wrong() -> None:
    secret = new_secret()
    encoded = hash_secret(secret)
    assert verify_secret(secret, encoded) is True
    assert verify_secret(secret.encode(), encoded) is True
    assert verify_secret(new_secret(), encoded) is False
    assert verify_secret(secret[:-1], encoded) is False
    assert verify_secret(secret + "x", encoded) is False
    assert verify_secret("", encoded) is False


@settings(max_examples=10)  # each example costs two scrypt runs
@given(st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=80))
def test_any_secret_verifies_against_its_own_hash(secret: str) -> None:
    """Law: verify_secret(s, hash_secret(s)) for every non-empty string without NUL, lone
    surrogates too; and s with a NUL appended does not (PBKDF2 pads short keys with NULs)."""
    encoded = hash_secret(secret)
    assert verify_secret(secret, encoded)
    assert not verify_secret(secret + "\x00", encoded)


def test_dummy_hash_is_made_like_a_real_one() -> None:
    """An unknown client must cost what a known one costs: same parameters, same sizes."""
    dummy, real = HASH_FORMAT.fullmatch(DUMMY_HASH), HASH_FORMAT.fullmatch(hash_secret("x"))
    assert dummy is not None and real is not None
    assert dummy.group("n", "r", "p") == real.group("n", "r", "p")
    assert len(_b64(dummy["salt"])) == len(_b64(real["salt"]))
    assert len(_b64(dummy["hash"])) == len(_b64(real["hash"]))
    assert not needs_rehash(DUMMY_HASH)


def test_verify_unknown_is_always_false() -> None:
    assert verify_unknown(new_secret()) is False
    assert verify_unknown("") is False


class _Spy:
    def __init__(self) -> None:
        self.calls = 0
        self.real = hmac.compare_digest

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls += 1
        return self.real(a, b)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy()
    monkeypatch.setattr(hmac, "compare_digest", spy)
    secret = new_secret()
    encoded = hash_secret(secret)
    assert verify_secret(secret, encoded)
    assert not verify_secret("wrong", encoded)
    assert not verify_unknown(secret)
    assert spy.calls == 3


def _best_of(runs: int, call: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def test_unknown_client_costs_what_a_wrong_secret_costs() -> None:
    """No timing oracle on which client ids exist: both paths run one scrypt of the same size."""
    encoded = hash_secret(new_secret())
    attempt = new_secret()
    wrong = _best_of(5, lambda: verify_secret(attempt, encoded))
    unknown = _best_of(5, lambda: verify_unknown(attempt))
    malformed = _best_of(5, lambda: verify_secret(attempt, "not a hash"))
    assert 1 / 3 < unknown / wrong < 3
    assert 1 / 3 < malformed / wrong < 3


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param("", id="empty"),
        pytest.param("plain-text-secret", id="not-a-hash"),
        pytest.param("bcrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, id="other-kdf"),
        pytest.param("scrypt$n=16384,r=8$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, id="missing-p"),
        pytest.param("scrypt$n=16384,r=8,p=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, id="twice"),
        pytest.param("scrypt$n=1000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, id="n-not-pow2"),
        pytest.param("scrypt$n=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, id="n-huge"),
        pytest.param("scrypt$n=16384,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, id="r-zero"),
        pytest.param("scrypt$n=16384,r=8,p=1$$" + "A" * 43, id="no-salt"),
        pytest.param("scrypt$n=16384,r=8,p=1$AAAA$AAAA", id="short-hash"),
        pytest.param("scrypt$n=16384,r=8,p=1$AA==$" + "A" * 43, id="padding"),
        pytest.param("scrypt$n=16384,r=8,p=1$A*AA$" + "A" * 43, id="bad-base64"),
        pytest.param("scrypt$n=١٦٣٨٤,r=8,p=1$AAAA$" + "A" * 43, id="non-ascii-digits"),
        pytest.param("scrypt$n=16384,r=8,p=1$AAAA$" + "A" * 43 + "$x", id="extra-field"),
        pytest.param(None, id="none"),
    ],
)
def test_malformed_hash_is_a_mismatch_not_an_error(encoded: str) -> None:
    assert verify_secret(new_secret(), encoded) is False
    assert needs_rehash(encoded)


def test_needs_rehash_when_parameters_change() -> None:
    assert not needs_rehash(hash_secret("x"))
    assert needs_rehash(DUMMY_HASH.replace("n=16384", "n=8192"))


def test_errors_never_quote_the_secret() -> None:
    with pytest.raises(ValueError) as empty:
        hash_secret("")
    assert str(empty.value) == "a client secret must not be empty"
    with pytest.raises(ValueError) as nul:
        hash_secret("s3cr3t\x00")
    assert str(nul.value) == "a client secret must not contain NUL"
    with pytest.raises(TypeError) as wrong_type:
        hash_secret(12345678)  # type: ignore[arg-type]
    assert str(wrong_type.value) == "a client secret must be str or bytes, not int"
    with pytest.raises(TypeError) as wrong_type:
        verify_secret(["s3cr3t-value"], hash_secret("x"))  # type: ignore[arg-type]
    assert "s3cr3t" not in str(wrong_type.value)
