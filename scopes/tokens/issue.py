"""Issuing access tokens: RFC 9068 JWTs signed with the key ring's newest key."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import jwt

from scopes.syntax import validate
from scopes.tokens.keys import KeyRing, SigningKey

__all__ = ["REGISTERED_CLAIMS", "TOKEN_TYPE", "issue_token"]

TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"})


def __dir__() -> list[str]:
    return __all__


def issue_token(
    ring: KeyRing | SigningKey,
    *,
    issuer: str,
    subject: str,
    audience: str | Sequence[str],
    client_id: str,
    scope: str,
    lifetime: timedelta | float,
    now: float | None = None,
    jti: str | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign an access token (JWS compact) for `subject`, valid for `lifetime` from `now`.

    The header is `{"alg", "kid", "typ": "at+jwt"}`; the claims are `iss`, `sub`, `aud`,
    `client_id`, `scope` (the scope string, runs of spaces made single), `iat` and `nbf` (`now`,
    whole seconds), `exp` (`iat` plus the lifetime rounded up to a whole second) and `jti`
    (128 random bits unless given). `extra_claims` may add claims but not replace these.
    Raises ValueError for a scope string that is not well-formed or a lifetime that is not positive.

    >>> ring = KeyRing.open("/tmp/doc-keys")  # doctest: +SKIP
    >>> issue_token(ring, issuer="https://auth.example", subject="svc", audience="https://api",
    ...             client_id="svc", scope="read:brands", lifetime=3600)  # doctest: +SKIP
    'eyJhbGciOiJFZERTQSIs...'
    """
    key = ring.signing_key if isinstance(ring, KeyRing) else ring
    if not isinstance(key, SigningKey):
        raise TypeError(f"sign with a KeyRing or a SigningKey, not {type(ring).__name__}")
    for name, value in (("issuer", issuer), ("subject", subject), ("client_id", client_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
    if isinstance(audience, str):
        aud: str | list[str] = audience
        audiences = [audience]
    else:
        aud = audiences = list(audience)
    if not audiences or not all(isinstance(a, str) and a for a in audiences):
        raise ValueError("audience must be a non-empty string or a non-empty list of them")
    if not isinstance(scope, str):
        raise TypeError("scope must be a string")
    validate(scope)  # ScopeSyntaxError (a ValueError) for a scope string no verifier would accept
    seconds = lifetime.total_seconds() if isinstance(lifetime, timedelta) else float(lifetime)
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"lifetime must be positive, not {lifetime!r}")
    issued = math.floor(time.time() if now is None else now)
    claims: dict[str, Any] = dict(extra_claims or {})
    clash = REGISTERED_CLAIMS.intersection(claims)
    if clash:
        raise ValueError(f"extra_claims may not set {', '.join(sorted(clash))}")
    claims.update(
        iss=issuer,
        sub=subject,
        aud=aud,
        client_id=client_id,
        scope=" ".join(scope.split()),
        iat=issued,
        nbf=issued,
        exp=issued + math.ceil(seconds),
        jti=secrets.token_urlsafe(16) if jti is None else jti,
    )
    return jwt.encode(
        claims,
        key.private_key,
        algorithm=key.alg,
        headers={"typ": TOKEN_TYPE, "kid": key.kid},
    )
