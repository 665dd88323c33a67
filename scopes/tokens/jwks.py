"""The keys a verifier trusts: a JWKS from a dict, a file, a key directory (live) or a URL (cached)."""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from scopes.errors import TokenError
from scopes.tokens._jose import (
    KeySet,
    VerificationKey,
    json_object,
    quoted,
    verification_key,
)

if TYPE_CHECKING:
    from scopes.tokens.keys import KeyRing

__all__ = ["KeySetError", "PublicKeys"]

MAX_JWKS_BYTES = 1024 * 1024
CACHE_SECONDS = 300.0  # a fetched JWKS is used this long before it is fetched again
MIN_REFRESH_SECONDS = 60.0  # an unknown kid makes us fetch again at most this often
RETRY_SECONDS = 10.0  # after a failed fetch, wait this long before fetching again when stale
TIMEOUT_SECONDS = 5.0


def __dir__() -> list[str]:
    return __all__


class KeySetError(ValueError):
    """A JWKS that cannot be used: not a JSON object with a `keys` list, or no usable key in it."""


class PublicKeys:
    """The public keys tokens are verified with, by kid. Build one per process and share it.

    Each key allows exactly the algorithm of its key type (Ed25519: EdDSA, P-256: ES256,
    RSA of 2048 bits or more: RS256); keys of other types, for encryption, or without a kid are
    skipped (their reasons are in `skipped`). `PublicKeys.load(source)` takes whatever a
    `--jwks FILE|URL` option or the ASGI middleware's `jwks=` argument names.

    `on_fetch(ok)`, when set, is told of every fetch from a URL and whether it gave usable keys
    (the server's metrics count them); keys that are not fetched never call it.
    """

    on_fetch: Callable[[bool], None] | None = None

    def __init__(self, keys: Iterable[VerificationKey] = (), *, source: str = "<keys>") -> None:
        self.source = source
        self.skipped: tuple[str, ...] = ()
        by_kid: dict[str, VerificationKey] = {}
        for key in keys:
            by_kid.setdefault(key.kid, key)
        self._set = KeySet(1, MappingProxyType(by_kid), tuple(k.jwk for k in by_kid.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(source={self.source!r})"

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], *, source: str = "<jwks>") -> PublicKeys:
        """A fixed key set from a JWKS document (`{"keys": [...]}`) or a single JWK."""
        keys, skipped = _parse(jwks, source)
        if not keys:
            reasons = "; ".join(skipped) or "the key set is empty"
            raise KeySetError(f"{source}: no usable key ({reasons})")
        public = cls(keys, source=source)
        public.skipped = skipped
        return public

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PublicKeys:
        """A fixed key set from a JWKS file (read once; build a new one to pick up changes)."""
        try:
            with open(path, "rb") as stream:
                data = stream.read(MAX_JWKS_BYTES + 1)
        except OSError as error:
            raise KeySetError(f"{path}: cannot read: {error.strerror or error}") from None
        if len(data) > MAX_JWKS_BYTES:
            raise KeySetError(f"{path}: larger than {MAX_JWKS_BYTES} bytes")
        try:
            document = json_object(data)
        except ValueError as error:
            raise KeySetError(f"{path}: {error}") from None
        return cls.from_jwks(document, source=str(path))

    @classmethod
    def from_ring(cls, ring: KeyRing) -> PublicKeys:
        """The public half of a key directory, live: keys added by rotation verify at once."""
        return _RingKeys(ring)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        cache_seconds: float = CACHE_SECONDS,
        min_refresh_seconds: float = MIN_REFRESH_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        fetch: Callable[[str, float], bytes] | None = None,
    ) -> PublicKeys:
        """A JWKS fetched from an http(s) URL on first use, and again:

        - when `cache_seconds` have passed since the last good fetch (a failed fetch keeps the
          keys we have, and is retried after `retry_seconds`);
        - when a token names a kid we do not have, at most once per `min_refresh_seconds`
          (so a flood of made-up kids costs one request a minute).

        `fetch(url, timeout) -> bytes` replaces the stdlib HTTP client (urllib).
        """
        if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
            raise ValueError(f"a JWKS URL must start with https:// or http://, not {url!r}")
        return _UrlKeys(
            url,
            cache_seconds=cache_seconds,
            min_refresh_seconds=min_refresh_seconds,
            retry_seconds=retry_seconds,
            timeout=timeout,
            clock=clock,
            fetch=fetch or _fetch,
        )

    @classmethod
    def load(cls, source: object) -> PublicKeys:
        """Whatever a configuration names: PublicKeys, a KeyRing, a JWKS dict, a URL or a file."""
        if isinstance(source, PublicKeys):
            return source
        if isinstance(source, Mapping):
            return cls.from_jwks(source)
        if isinstance(source, str) and source.lower().startswith(("https://", "http://")):
            return cls.from_url(source)
        if isinstance(source, (str, os.PathLike)):
            return cls.from_file(source)
        if hasattr(source, "key_set") and hasattr(source, "signing_key"):
            # a KeyRing (not imported here: the key directory is the signer's business)
            return cls.from_ring(cast("KeyRing", source))
        raise TypeError(
            f"keys must be PublicKeys, a KeyRing, a JWKS dict, a URL or a file, not {type(source).__name__}"
        )

    # -- using ---------------------------------------------------------------------------------

    def key_set(self) -> KeySet:
        """The keys as of now (refreshed first when due); TokenError when there are none yet."""
        return self._set

    def get(self, kid: str) -> VerificationKey | None:
        """The key with this kid, or None; may fetch the key set again (see `from_url`)."""
        return self.key_set().by_kid.get(kid)

    def refresh(self) -> bool:
        """Read the keys again now where they come from somewhere; True when they changed."""
        return False

    def kids(self) -> list[str]:
        return list(self.key_set().by_kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The key set as a JWKS document (the normalized public JWKs)."""
        return {"keys": [dict(jwk) for jwk in self.key_set().jwks]}

    def __len__(self) -> int:
        return len(self.key_set().by_kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self.key_set().by_kid


class _RingKeys(PublicKeys):
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.source = str(ring.path)
        self.skipped = ()

    def key_set(self) -> KeySet:
        return self.ring.key_set()

    def refresh(self) -> bool:
        before = self.ring.key_set().version
        self.ring.reload()
        return self.ring.key_set().version != before


class _UrlKeys(PublicKeys):
    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        retry_seconds: float,
        timeout: float,
        clock: Callable[[], float],
        fetch: Callable[[str, float], bytes],
    ) -> None:
        self.source = self.url = url
        self.skipped = ()
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self.fetches = 0  # attempts so far, good or not
        self.last_error: str | None = None
        self._clock = clock
        self._fetch = fetch
        self._latest: KeySet | None = None
        self._fetched_at: float | None = None  # last good fetch
        self._attempted_at: float | None = None  # last fetch, good or not
        self._missed_at: float | None = None  # last fetch an unknown kid caused
        self._lock = threading.Lock()

    def key_set(self) -> KeySet:
        self._refresh_if_due(self._clock())
        return self._current()

    def _current(self) -> KeySet:
        current = self._latest
        if current is None:
            raise TokenError(
                f"no keys to verify with: the JWKS at {quoted(self.url, 200)} could not be fetched"
                f" ({self.last_error or 'not tried yet'})",
                reason="keys-unavailable",
            )
        return current

    def get(self, kid: str) -> VerificationKey | None:
        now = self._clock()
        fetched = self._refresh_if_due(now)
        key = self._current().by_kid.get(kid)
        if key is None and not fetched and (
            self._missed_at is None or now - self._missed_at >= self.min_refresh_seconds
        ):
            self._missed_at = now
            self._fetch_now(now, wait=True)
            key = self._current().by_kid.get(kid)
        return key

    def refresh(self) -> bool:
        before = self._latest.version if self._latest is not None else 0
        self._fetch_now(self._clock(), wait=True)
        return (self._latest.version if self._latest is not None else 0) != before

    def _refresh_if_due(self, now: float) -> bool:
        """Fetch when stale (or never fetched); True when this call fetched."""
        if self._fetched_at is not None and now - self._fetched_at < self.cache_seconds:
            return False
        if self._attempted_at is not None and now - self._attempted_at < self.retry_seconds:
            return False
        return self._fetch_now(now, wait=self._latest is None)

    def _fetch_now(self, now: float, *, wait: bool) -> bool:
        """One fetch; others keep using the keys we have unless there are none (`wait`)."""
        attempted = self._attempted_at
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            if wait and self._attempted_at != attempted:
                return True  # another thread fetched while we waited for the lock
            self._attempted_at = now
            self.fetches += 1
            try:
                keys, skipped = _parse(json_object(self._fetch(self.url, self.timeout)), self.url)
                if not keys:
                    raise KeySetError(f"no usable key ({'; '.join(skipped) or 'the key set is empty'})")
            except Exception as error:  # noqa: BLE001 - any failure keeps the keys we have
                self.last_error = _why(error)
                if self.on_fetch is not None:
                    self.on_fetch(False)
                return True
            by_kid = {key.kid: key for key in keys}
            old = self._latest
            same = old is not None and [(k, dict(v.jwk)) for k, v in old.by_kid.items()] == [
                (k, dict(v.jwk)) for k, v in by_kid.items()
            ]
            if not same:
                version = 1 if old is None else old.version + 1
                self._latest = KeySet(version, MappingProxyType(by_kid), tuple(k.jwk for k in keys))
            self.skipped = skipped
            self._fetched_at = now
            self.last_error = None
            if self.on_fetch is not None:
                self.on_fetch(True)
            return True
        finally:
            self._lock.release()


def _parse(document: Mapping[str, Any], source: str) -> tuple[list[VerificationKey], tuple[str, ...]]:
    """The usable keys of a JWKS (or of one JWK), and why each other one was skipped."""
    if not isinstance(document, Mapping):
        raise KeySetError(f"{source}: a JWKS must be a JSON object")
    if "keys" in document:
        entries = document["keys"]
        if not isinstance(entries, list):
            raise KeySetError(f"{source}: 'keys' must be a list of JWKs")
    elif "kty" in document:
        entries = [document]
    else:
        raise KeySetError(f"{source}: not a JWKS (no 'keys' list) nor a JWK (no 'kty')")
    keys: list[VerificationKey] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for index, jwk in enumerate(entries):
        try:
            key = verification_key(jwk)
        except ValueError as error:
            skipped.append(f"keys[{index}]: {error}")
            continue
        if key.kid in seen:
            skipped.append(f"keys[{index}]: kid {quoted(key.kid)} appears twice; the first one is used")
            continue
        seen.add(key.kid)
        keys.append(key)
    return keys, tuple(skipped)


def _why(error: Exception) -> str:
    """Why a fetch failed, in plain words (never a bare exception class name)."""
    if isinstance(error, urllib.error.HTTPError):
        return f"the server answered HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        if isinstance(reason, OSError):
            return f"cannot connect: {reason.strerror or reason}"
        return f"cannot connect: {reason}"
    if isinstance(error, TimeoutError):
        return str(error) if str(error) else "timed out"
    if isinstance(error, OSError):
        return error.strerror or str(error) or "the connection failed"
    if isinstance(error, ValueError):
        return str(error)
    return f"unexpected failure ({type(error).__name__})"


def _fetch(url: str, timeout: float) -> bytes:
    """The document at `url`, within `timeout` seconds for the whole fetch (connecting, the
    headers and every byte of the body), however slowly the server trickles them."""
    result: list[bytes] = []
    failure: list[BaseException] = []
    deadline = time.monotonic() + timeout

    def fetch() -> None:
        try:
            result.append(_read(url, timeout, deadline))
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    worker = threading.Thread(target=fetch, name="scopes-jwks-fetch", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():  # it ends by itself: each read times out, and it stops at the deadline
        raise TimeoutError(f"no complete answer within {timeout:g}s")
    if failure:
        raise failure[0]
    return result[0]


def _read(url: str, timeout: float, deadline: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "scopes"})
    chunks: list[bytes] = []
    size = 0
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked)
    except urllib.error.HTTPError as error:
        error.close()  # its body is not read: give the connection back now
        raise
    with response:
        while chunk := response.read1(65536):
            size += len(chunk)
            if size > MAX_JWKS_BYTES:
                raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer within {timeout:g}s")
            chunks.append(chunk)
    return b"".join(chunks)
