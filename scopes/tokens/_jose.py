"""JOSE helpers shared by keys, key sets and verification: the algorithm table, JWKs, base64url."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeGuard

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt import PyJWK
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import PyJWTError

__all__ = [
    "ALGORITHMS",
    "KeySet",
    "MIN_RSA_BITS",
    "VerificationKey",
    "algorithm_of",
    "b64url_decode",
    "is_number",
    "json_object",
    "public_jwk",
    "quoted",
    "thumbprint",
    "verification_key",
]

# The allow-list: each key type signs with exactly one algorithm, so the algorithm a token may
# use is fixed by the key its kid names, never chosen by the token (RFC 8725 §3.1).
ALGORITHMS = ("EdDSA", "ES256", "RS256")
MIN_RSA_BITS = 2048

# RFC 7638 §3.2: the members a thumbprint hashes, per key type.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
_TO_JWK: dict[str, Callable[..., Any]] = {"EdDSA": OKPAlgorithm.to_jwk, "ES256": ECAlgorithm.to_jwk, "RS256": RSAAlgorithm.to_jwk}


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One public key able to verify tokens: its kid, the one algorithm it allows, its JWK."""

    kid: str
    alg: str
    jwk: Mapping[str, Any] = field(repr=False, compare=False)
    key: PyJWK = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class KeySet:
    """Public keys by kid as of one moment; `version` changes whenever the keys do."""

    version: int
    by_kid: Mapping[str, VerificationKey]
    jwks: tuple[Mapping[str, Any], ...] = ()


def algorithm_of(jwk: Mapping[str, Any]) -> str | None:
    """The algorithm a public JWK's key type allows, or None for key types we do not accept."""
    kty = jwk.get("kty")
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return "EdDSA"
    if kty == "EC" and jwk.get("crv") == "P-256":
        return "ES256"
    if kty == "RSA":
        return "RS256"
    return None


def verification_key(jwk: Mapping[str, Any]) -> VerificationKey:
    """Build a VerificationKey from a public JWK; ValueError says why a JWK is unusable.

    The algorithm comes from the key type (Ed25519 -> EdDSA, P-256 -> ES256, RSA -> RS256);
    a JWK whose own `alg` names another one, that is for encryption, that carries private
    members, or an RSA modulus under 2048 bits is refused.
    """
    if not isinstance(jwk, Mapping):
        raise ValueError("a JWK must be a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("the JWK has no kid")
    alg = algorithm_of(jwk)
    if alg is None:
        raise ValueError(
            f"key {quoted(kid)}: key type {quoted(jwk.get('kty'))} "
            f"(crv {quoted(jwk.get('crv'))}) is not one of Ed25519, P-256, RSA"
        )
    if jwk.get("alg") not in (None, alg):
        raise ValueError(f"key {quoted(kid)}: its alg {quoted(jwk.get('alg'))} is not {alg}")
    if jwk.get("use") not in (None, "sig"):
        raise ValueError(f"key {quoted(kid)} is not for signatures (use {quoted(jwk.get('use'))})")
    if "d" in jwk:
        raise ValueError(f"key {quoted(kid)} is a private key; publish only public keys")
    public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
    try:
        key = PyJWK(public, algorithm=alg)
    except (PyJWTError, ValueError, TypeError) as error:
        raise ValueError(f"key {quoted(kid)}: {error}") from None
    if alg == "RS256" and key.key.key_size < MIN_RSA_BITS:
        raise ValueError(f"key {quoted(kid)}: RSA keys need {MIN_RSA_BITS} bits or more")
    shown = dict(public, kid=kid, alg=alg, use="sig")
    return VerificationKey(kid, alg, MappingProxyType(shown), key)


def public_jwk(public_key: Any, alg: str) -> dict[str, str]:
    """The public JWK (kty, crv/x/y or n/e) of a cryptography public key, without kid."""
    if alg == "EdDSA" and not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise ValueError("EdDSA needs an Ed25519 key")
    if alg == "ES256" and not (
        isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1)
    ):
        raise ValueError("ES256 needs a P-256 key")
    if alg == "RS256" and not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("RS256 needs an RSA key")
    jwk = _TO_JWK[alg](public_key, as_dict=True)
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the kid of the keys we create."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Decode one base64url segment (no padding, RFC 7515 §2); the caller checked its alphabet."""
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def json_object(data: bytes) -> dict[str, Any]:
    """Parse strict JSON (UTF-8, no NaN or Infinity) that must be an object; else ValueError."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if type(value) is not dict:
        raise ValueError("not a JSON object")
    return value


def is_number(value: object) -> TypeGuard[float]:
    """A JSON number usable as a NumericDate (RFC 7519 §2): int or finite float, never a bool."""
    return (type(value) is int and -(2**53) < value < 2**53) or (
        type(value) is float and math.isfinite(value)
    )


_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\", "'"}


def quoted(value: object, limit: int = 60) -> str:
    """A value copied from a token, safe to show: in single quotes, printable ASCII, short.

    No `"`, `\\` or `'` survives (each becomes `?`), so the result fits an RFC 6750
    error_description and a log line, whatever the token said.
    """
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "'" + "".join(ch if ch in _SAFE else "?" for ch in text) + "'"
