"""The key directory: private signing keys on disk, shared by replicas; the newest signs, all are published.

Layout of a key directory (`--keys DIR`, else `$SCOPES_KEYS`, else `./scopes-keys`), mode 0700:

    20251126T115400.123456Z-<kid>.json   one file per key, mode 0600, never rewritten
    .lock                                 taken (flock) while a key is added
    .tmp-*.json                           a key being written; renamed into place when complete

Each key file is one JSON object::

    {"kid": "<RFC 7638 thumbprint>", "alg": "EdDSA" | "ES256" | "RS256",
     "created": "2025-11-26T11:54:00.123456Z", "private_key": "-----BEGIN PRIVATE KEY-----..."}

with the private key as unencrypted PKCS #8 PEM (the file mode protects it). Every `*.json`
file whose name does not start with `.` is a key, so a directory mounted from a secret store
works as it is. The key with the latest `created` (then the greatest kid) signs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from scopes.tokens._jose import (
    ALGORITHMS,
    MIN_RSA_BITS,
    KeySet,
    VerificationKey,
    public_jwk,
    thumbprint,
    verification_key,
)

if sys.platform != "win32":  # elsewhere adding keys is not serialized across processes
    import fcntl

__all__ = ["DEFAULT_KEYS_DIR", "KEYS_ENV", "KeyInfo", "KeyRing", "KeyRingError", "SigningKey"]

KEYS_ENV = "SCOPES_KEYS"
DEFAULT_KEYS_DIR = "scopes-keys"
CHECK_INTERVAL = 1.0  # seconds between looks at the directory for keys other processes added
_LOCK_FILE = ".lock"
_MAX_KEY_FILE = 64 * 1024


def __dir__() -> list[str]:
    return __all__


class KeyRingError(ValueError):
    """A key directory that cannot be used: missing, without keys, or with a broken key file."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What `scopes keys list` shows of a key: never the private half."""

    kid: str
    alg: str
    created: datetime  # timezone-aware, UTC
    public_jwk: Mapping[str, str] = field(repr=False, compare=False)  # with kid, alg, use
    file: str = field(default="", compare=False)  # the file's name inside the directory


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key that signs, with the kid and alg its tokens' headers carry."""

    kid: str
    alg: str
    private_key: Any = field(repr=False, compare=False)  # a cryptography private key
    info: KeyInfo = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class _Entry:
    info: KeyInfo
    signing: SigningKey
    public: VerificationKey
    stamp: tuple[int, int, int]  # (mtime_ns, size, inode) of the file it was read from


@dataclass(frozen=True, slots=True)
class _Snapshot:
    keys: tuple[KeyInfo, ...]  # newest first
    signing: SigningKey | None
    public: KeySet
    entries: Mapping[str, _Entry]
    stamp: tuple[int, tuple[str, ...]] | None  # (directory mtime_ns, key file names)


_EMPTY = _Snapshot((), None, KeySet(0, MappingProxyType({}), ()), MappingProxyType({}), None)


class KeyRing:
    """A directory of private keys. Open one per process with `KeyRing.open` and share it.

    `signing_key`, `jwks()`, `keys()` and `key_set()` are cheap: they re-read the directory
    only when it changed (checked at most every `check_interval` seconds), so a key that
    another replica or `scopes keys rotate` added is picked up without a restart.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        check_interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.check_interval = check_interval
        self.last_error: str | None = None  # why the last automatic re-read failed, if it did
        self._clock = clock
        self._snapshot = _EMPTY
        self._next_check = float("-inf")
        self._checking = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyRing({str(self.path)!r}, keys={len(self._snapshot.keys)})"

    # -- opening -------------------------------------------------------------------------------

    @staticmethod
    def default_path() -> Path:
        """`$SCOPES_KEYS` when set, else `./scopes-keys` (DESIGN.md, token service contract)."""
        return Path(os.environ.get(KEYS_ENV) or DEFAULT_KEYS_DIR)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        algorithm: str = "EdDSA",
        check_interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> KeyRing:
        """Open a key directory; with `create`, make it (0700) and its first key if missing.

        `algorithm` is the first key's (EdDSA, ES256 or RS256); an existing directory keeps
        its keys. Processes that open a new directory at once end up with the same one key:
        the first key is added under an exclusive lock, after looking again.
        """
        _check_algorithm(algorithm)
        ring = cls(cls.default_path() if path is None else path, check_interval=check_interval, clock=clock)
        if create:
            ring._make_directory()
        elif not ring.path.is_dir():
            raise KeyRingError(f"{ring.path}: no such key directory")
        ring.reload()
        if not ring._snapshot.keys:
            if not create:
                raise KeyRingError(f"{ring.path}: no keys; add one with `scopes keys rotate`")
            with ring._locked():
                ring.reload()
                if not ring._snapshot.keys:
                    ring._add_key(algorithm)
        return ring

    # -- reading -------------------------------------------------------------------------------

    @property
    def signing_key(self) -> SigningKey:
        """The newest key: the one that signs new tokens."""
        signing = self._fresh().signing
        if signing is None:
            raise KeyRingError(f"{self.path}: no keys")
        return signing

    def keys(self) -> list[KeyInfo]:
        """Every key, newest (the signing key) first."""
        return list(self._fresh().keys)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS to publish: every key's public JWK with kid, alg and `use: sig` (a copy)."""
        return {"keys": [dict(jwk) for jwk in self._fresh().public.jwks]}

    def key_set(self) -> KeySet:
        """The public keys as of now, by kid, with a version that changes when they do."""
        return self._fresh().public

    def reload(self) -> None:
        """Re-read the directory now; raises KeyRingError naming a broken key file."""
        with self._checking:
            self._snapshot = self._read()
            self.last_error = None
            self._next_check = self._clock() + self.check_interval

    # -- adding --------------------------------------------------------------------------------

    def rotate(self, algorithm: str | None = None) -> KeyInfo:
        """Add a new key that signs from now on; the old ones stay published and verify.

        `algorithm` defaults to the current signing key's. The new key's `created` is later
        than every existing key's, even when this machine's clock is behind another replica's.
        """
        if algorithm is not None:
            _check_algorithm(algorithm)
        with self._locked():
            self.reload()
            current = self._snapshot.signing
            return self._add_key(algorithm or (current.alg if current else "EdDSA"))

    def _add_key(self, algorithm: str) -> KeyInfo:
        """Write a new key file (the caller holds the lock and has just re-read the directory)."""
        private_key = _generate(algorithm)
        jwk = public_jwk(private_key.public_key(), algorithm)
        kid = thumbprint(jwk)
        created = datetime.now(timezone.utc)
        if self._snapshot.keys and created <= self._snapshot.keys[0].created:
            created = self._snapshot.keys[0].created + timedelta(microseconds=1)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        document = {"kid": kid, "alg": algorithm, "created": _timestamp(created), "private_key": pem}
        name = f"{created:%Y%m%dT%H%M%S.%fZ}-{kid}.json"
        _write_new_file(self.path, name, json.dumps(document, indent=2) + "\n")
        self.reload()
        return next(info for info in self._snapshot.keys if info.kid == kid)

    # -- the directory -------------------------------------------------------------------------

    def _fresh(self) -> _Snapshot:
        if self._clock() >= self._next_check:
            self._check()
        return self._snapshot

    def _check(self) -> None:
        """Look at the directory again; a broken state keeps the keys we have (fail safe)."""
        if not self._checking.acquire(blocking=False):
            return  # another thread is reading it; use the keys we have meanwhile
        try:
            if self._clock() < self._next_check:
                return
            try:
                snapshot = self._read()
            except (OSError, KeyRingError) as error:
                self.last_error = str(error)
            else:
                if snapshot.keys or not self._snapshot.keys:
                    self._snapshot = snapshot
                    self.last_error = None
                else:
                    self.last_error = f"{self.path}: no keys left; still using the ones read before"
            self._next_check = self._clock() + self.check_interval
        finally:
            self._checking.release()

    def _read(self) -> _Snapshot:
        """The directory as it is now; files already read are not parsed again."""
        old = self._snapshot
        mtime = os.stat(self.path).st_mtime_ns
        names = tuple(sorted(n for n in os.listdir(self.path) if n.endswith(".json") and n[0] != "."))
        if old.stamp == (mtime, names):
            return old
        entries: dict[str, _Entry] = {}
        for name in names:
            file = self.path / name
            try:
                st = os.stat(file)
            except FileNotFoundError:
                continue  # removed since the listing
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            entry = old.entries.get(name)
            entries[name] = entry if entry is not None and entry.stamp == stamp else _load(file, stamp)
        seen: dict[str, str] = {}
        for name, entry in entries.items():
            if entry.info.kid in seen:
                raise KeyRingError(
                    f"{self.path}: {seen[entry.info.kid]} and {name} have the same kid {entry.info.kid!r}"
                )
            seen[entry.info.kid] = name
        ordered = sorted(entries.values(), key=lambda e: (e.info.created, e.info.kid), reverse=True)
        by_kid = {e.info.kid: e.public for e in ordered}
        jwks = tuple(e.public.jwk for e in ordered)
        same = [(k, dict(v.jwk)) for k, v in by_kid.items()] == [
            (k, dict(v.jwk)) for k, v in old.public.by_kid.items()
        ]
        version = old.public.version if same else old.public.version + 1
        return _Snapshot(
            keys=tuple(e.info for e in ordered),
            signing=ordered[0].signing if ordered else None,
            public=KeySet(version, MappingProxyType(by_kid), jwks),
            entries=MappingProxyType(entries),
            stamp=(mtime, names),
        )

    def _make_directory(self) -> None:
        try:
            self.path.mkdir(mode=0o700, parents=False)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self._make_directory()
        except FileExistsError:
            if not self.path.is_dir():
                raise KeyRingError(f"{self.path}: exists and is not a directory") from None
            return
        os.chmod(self.path, 0o700)  # the umask may have taken bits away; say exactly what we mean

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize adding keys across processes sharing the directory (flock on `.lock`)."""
        fd = os.open(self.path / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform != "win32":
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:
                    pass  # a file system without locks: replicas still converge on the newest key
            yield
        finally:
            os.close(fd)


# -- key files ---------------------------------------------------------------------------------


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported key algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


def _generate(algorithm: str) -> Any:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_new_file(directory: Path, name: str, text: str) -> None:
    """Create `directory/name` (0600) atomically: written and synced under a temporary name first."""
    temporary = directory / f".tmp-{secrets.token_hex(8)}.json"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where directories sync
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _load(file: Path, stamp: tuple[int, int, int]) -> _Entry:
    """Read one key file; KeyRingError names the file and what is wrong with it."""
    try:
        with open(file, "rb") as stream:
            data = stream.read(_MAX_KEY_FILE + 1)
    except OSError as error:
        raise KeyRingError(f"{file}: cannot read: {error.strerror or error}") from None
    if len(data) > _MAX_KEY_FILE:
        raise KeyRingError(f"{file}: larger than {_MAX_KEY_FILE} bytes; not a key file")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeyRingError(f"{file}: not JSON") from None
    if type(document) is not dict:
        raise KeyRingError(f"{file}: not a JSON object")
    kid, alg, created, pem = (document.get(k) for k in ("kid", "alg", "created", "private_key"))
    if not isinstance(kid, str) or not kid:
        raise KeyRingError(f"{file}: 'kid' must be a non-empty string")
    if alg not in ALGORITHMS:
        raise KeyRingError(f"{file}: 'alg' must be one of {', '.join(ALGORITHMS)}, not {alg!r}")
    try:
        if not isinstance(created, str):
            raise TypeError("not a string")
        moment = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        raise KeyRingError(f"{file}: 'created' must be an ISO 8601 time, like 2025-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        raise KeyRingError(f"{file}: 'created' needs a time zone (end it with Z)")
    if not isinstance(pem, str):
        raise KeyRingError(f"{file}: 'private_key' must be a PEM string")
    try:
        private_key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as error:
        raise KeyRingError(f"{file}: 'private_key' is not an unencrypted PEM private key ({error})") from None
    if isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size < MIN_RSA_BITS:
        raise KeyRingError(f"{file}: RSA keys need {MIN_RSA_BITS} bits or more")
    try:
        jwk = public_jwk(private_key.public_key(), alg)
        public = verification_key(dict(jwk, kid=kid, alg=alg, use="sig"))
    except ValueError as error:
        raise KeyRingError(f"{file}: {error}") from None
    info = KeyInfo(kid, alg, moment.astimezone(timezone.utc), public.jwk, file.name)
    return _Entry(info, SigningKey(kid, alg, private_key, info), public, stamp)
