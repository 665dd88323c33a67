"""The verified-token cache: a repeated token costs a dictionary lookup and an `exp` check."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from scopes.tokens._settings import settings
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.verify import VerifiedToken, verify_with

if TYPE_CHECKING:
    from scopes.tokens.keys import KeyRing

__all__ = ["CACHE_SIZE", "CACHE_TOKEN_LENGTH", "TokenVerifier"]

CACHE_SIZE = 10_000  # verified tokens kept
CACHE_TOKEN_LENGTH = 8 * 1024  # longer tokens are verified every time, never kept


def __dir__() -> list[str]:
    return __all__


class TokenVerifier:
    """`verify_token` with fixed settings and a bounded cache of tokens that verified.

    A hit is re-checked against the current time (`exp`, `nbf` and `iat`, with the leeway) on
    every use, so a cached token expires exactly when it would uncached. Only tokens that verified are kept
    (a failure is never cached, good or bad); tokens longer than 8 KiB are never kept; when
    the cache is full the oldest eighth is dropped. When the trusted key set changes (a
    rotation, a JWKS refresh) the whole cache is dropped, so a token signed by a key that was
    withdrawn stops verifying at once.

    >>> verifier = TokenVerifier(keys, audience="https://api", issuer="https://auth")  # doctest: +SKIP
    >>> verifier.verify(token).scope  # doctest: +SKIP
    'user_id:pigeon read:preferences'

    Only claims are kept, never what they mean: the scope text is read by whoever authorizes,
    with the policy in force at that request.
    """

    def __init__(
        self,
        keys: PublicKeys | KeyRing | Mapping[str, Any],
        *,
        audience: str | Collection[str] | None,
        issuer: str | None,
        leeway: float = 30,
        cache_size: int = CACHE_SIZE,
        scope_claims: tuple[str, ...] = ("scope",),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if cache_size < 0:
            raise ValueError("cache_size must be zero (no cache) or more")
        self.keys = PublicKeys.load(keys)
        self.settings = settings(
            audience=audience, issuer=issuer, leeway=leeway, scope_claims=scope_claims
        )
        self.cache_size = cache_size
        self._leeway = self.settings.leeway
        self._clock = clock
        # token -> (valid from, valid until, verified): the times verify_token would check,
        # leeway included, so a hit costs one lookup and two comparisons
        self._cache: OrderedDict[str, tuple[float, float, VerifiedToken]] = OrderedDict()
        self._version: int | None = None
        self._evicting = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenVerifier(keys={self.keys!r}, cached={len(self._cache)})"

    def verify(self, token: str) -> VerifiedToken:
        """The verified token, from the cache when it verified before; else TokenError."""
        now = self._clock()
        version = self.keys.key_set().version  # cheap; may refresh the keys when due
        if version != self._version:
            self._cache.clear()
            self._version = version
        hit = self._cache.get(token) if type(token) is str else None
        if hit is not None:
            if hit[0] <= now < hit[1]:
                return hit[2]
            self._cache.pop(token, None)  # expired (or the clock went back): verify in full
        verified = verify_with(token, self.keys, self.settings, now)
        if len(token) <= CACHE_TOKEN_LENGTH and self.cache_size:
            if len(self._cache) >= self.cache_size:
                self._evict()
            leeway = self._leeway
            since = max(verified.issued_at, verified.claims.get("nbf", verified.issued_at)) - leeway
            self._cache[token] = (since, verified.expires_at + leeway, verified)
        return verified

    def clear(self) -> None:
        """Forget every cached token."""
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)

    def _evict(self) -> None:
        """Drop the oldest eighth (first in, first out: hits never reorder, to stay cheap)."""
        with self._evicting:
            for _ in range(max(1, self.cache_size // 8)):
                try:
                    self._cache.popitem(last=False)
                except KeyError:
                    break
