"""Signed access tokens: keys, issuing, verifying, and the verified-token cache (the `jwt` extra).

Importing this package needs nothing beyond `scopes` itself: PyJWT and cryptography are
imported on first use of a name below, so `scopes` can re-export `verify_token` and still
import where the extra is not installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scopes.tokens.cache import TokenVerifier
    from scopes.tokens.issue import issue_token
    from scopes.tokens.jwks import KeySetError, PublicKeys
    from scopes.tokens.keys import KeyInfo, KeyRing, KeyRingError, SigningKey
    from scopes.tokens.verify import VerifiedToken

__all__ = [
    "KeyInfo",
    "KeyRing",
    "KeyRingError",
    "KeySetError",
    "PublicKeys",
    "SigningKey",
    "TokenVerifier",
    "VerifiedToken",
    "issue_token",
    "verify_token",
]

_LAZY = {
    "KeyInfo": "scopes.tokens.keys",
    "KeyRing": "scopes.tokens.keys",
    "KeyRingError": "scopes.tokens.keys",
    "SigningKey": "scopes.tokens.keys",
    "KeySetError": "scopes.tokens.jwks",
    "PublicKeys": "scopes.tokens.jwks",
    "TokenVerifier": "scopes.tokens.cache",
    "VerifiedToken": "scopes.tokens.verify",
    "issue_token": "scopes.tokens.issue",
}
_INSTALL_HINT = "signed tokens need PyJWT and cryptography: pip install 'scopes-policy[jwt]'"


def __dir__() -> list[str]:
    return __all__


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] in ("jwt", "cryptography"):
            raise ModuleNotFoundError(_INSTALL_HINT, name=error.name) from error
        raise


def verify_token(
    token: str,
    keys: PublicKeys | KeyRing | Mapping[str, Any],
    *,
    audience: str | Collection[str] | None,
    issuer: str | None,
    leeway: float = 30,
    scope_claims: tuple[str, ...] = ("scope",),
    now: float | None = None,
) -> VerifiedToken:
    """Verify an access token and check its scope text; raise `scopes.TokenError` saying why not.

    See `scopes.tokens.verify.verify_token`, which this calls (importing PyJWT on first use).
    """
    verify = _VERIFY or _load_verify()
    return verify(
        token,
        keys,
        audience=audience,
        issuer=issuer,
        leeway=leeway,
        scope_claims=scope_claims,
        now=now,
    )


_VERIFY: Callable[..., VerifiedToken] | None = None


def _load_verify() -> Callable[..., VerifiedToken]:
    global _VERIFY
    verify: Callable[..., VerifiedToken] = _import("scopes.tokens.verify").verify_token
    _VERIFY = verify
    return verify
