"""What a verifier is configured with, checked once: audience, issuer, leeway, scope claims."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["Settings", "settings"]


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Settings:
    audience: frozenset[str] | None  # any one of them must be in `aud`; None: not compared
    issuer: str | None  # must equal `iss`; None: not compared
    leeway: float  # seconds forgiven on exp, nbf, iat
    scope_claims: tuple[str, ...]  # where the scopes are, first present wins


def settings(
    *,
    audience: str | Collection[str] | None,
    issuer: str | None,
    leeway: float,
    scope_claims: str | tuple[str, ...],
) -> Settings:
    """Check a verifier's configuration; mistakes are TypeError or ValueError, never TokenError."""
    if audience is None:
        audiences = None
    else:
        values = (audience,) if isinstance(audience, str) else tuple(audience)
        if not values or not all(isinstance(a, str) and a for a in values):
            raise TypeError("audience must be None, a non-empty string, or a collection of them")
        audiences = frozenset(values)
    if issuer is not None and not (isinstance(issuer, str) and issuer):
        raise TypeError("issuer must be None or a non-empty string")
    if isinstance(leeway, bool) or not isinstance(leeway, (int, float)):
        raise TypeError("leeway must be a number of seconds")
    if not (leeway >= 0 and math.isfinite(leeway)):
        raise ValueError("leeway must be zero or more seconds")
    names = (scope_claims,) if isinstance(scope_claims, str) else tuple(scope_claims)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise TypeError("scope_claims must be a non-empty tuple of claim names")
    return Settings(audiences, issuer, float(leeway), names)
