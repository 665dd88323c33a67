"""The client record, the storage interface every backend implements, and the store errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import Self

__all__ = [
    "COLUMNS",
    "Client",
    "ClientExists",
    "ClientStore",
    "MAX_CLIENT_ID_LENGTH",
    "SCHEMA_VERSION",
    "StoreError",
    "StoreUnavailable",
    "checked_secret_hash",
    "could_be_client_id",
    "revocation_time",
    "utcnow",
]


def __dir__() -> list[str]:
    return __all__


# The layout of the tables, the same in every backend; a store refuses a database that is newer.
SCHEMA_VERSION = 1
# The client table's columns, in the order both stores read and write them.
COLUMNS = (
    "client_id, secret_hash, scope, role, audiences, any_user,"
    " lifetime, max_lifetime, created_at, revoked_at"
)

# Ours are 25; the bound keeps every id within PostgreSQL's btree key size (2704 bytes of UTF-8).
MAX_CLIENT_ID_LENGTH = 255

# Both backends store 64-bit integers (SQLite INTEGER, PostgreSQL bigint).
_MAX_SECONDS = 2**63 - 1


class StoreError(Exception):
    """The client store cannot do what was asked: closed, misconfigured, or not a client store."""


class ClientExists(StoreError):
    """`create` was given a client id that is already registered."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"client {client_id!r} already exists")
        self.client_id = client_id


class StoreUnavailable(StoreError):
    """The database cannot be reached now (refused, gone, timed out, locked too long).

    Transient by nature: the token service answers 503 with Retry-After (DESIGN.md, "Token
    service contract") and the next call tries again with a new connection.
    """


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (the only kind a `Client` holds)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Client:
    """One registered client of the token service.

    `scope` is the scope string the client may ask for; `role` optionally names a role of the
    policy instead (resolving it is the policy's business, not the store's). `audiences` keeps its
    order: the first is the default audience. `lifetime` and `max_lifetime` are seconds.
    `secret_hash` comes from `hash_secret`; it is left out of `repr` all the same.
    """

    client_id: str
    secret_hash: str = field(repr=False)
    scope: str
    audiences: tuple[str, ...]
    any_user: bool
    lifetime: int
    max_lifetime: int
    created_at: datetime
    revoked_at: datetime | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        _text("client_id", self.client_id)
        if not self.client_id:
            raise ValueError("client_id must not be empty")
        if len(self.client_id) > MAX_CLIENT_ID_LENGTH:
            raise ValueError(f"client_id is longer than {MAX_CLIENT_ID_LENGTH} characters")
        _text("secret_hash", self.secret_hash)
        _text("scope", self.scope)
        if self.role is not None:
            _text("role", self.role)
        if isinstance(self.audiences, str) or not hasattr(self.audiences, "__iter__"):
            raise TypeError("audiences must be a sequence of strings")
        audiences = tuple(self.audiences)
        for audience in audiences:
            _text("each audience", audience)
        object.__setattr__(self, "audiences", audiences)
        if not isinstance(self.any_user, bool):
            raise TypeError(f"any_user must be a bool, not {type(self.any_user).__name__}")
        for name in ("lifetime", "max_lifetime"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int (seconds), not {type(value).__name__}")
            if not 0 < value <= _MAX_SECONDS:
                raise ValueError(f"{name} must be at least one second, got {value}")
        if self.max_lifetime < self.lifetime:
            raise ValueError(
                f"max_lifetime ({self.max_lifetime}s) is shorter than lifetime ({self.lifetime}s)"
            )
        object.__setattr__(self, "created_at", _utc("created_at", self.created_at))
        if self.revoked_at is not None:
            object.__setattr__(self, "revoked_at", _utc("revoked_at", self.revoked_at))

    @property
    def revoked(self) -> bool:
        """Whether the client was revoked: it then gets no more tokens."""
        return self.revoked_at is not None


def could_be_client_id(value: object) -> bool:
    """Whether some `Client` could have `value` as its id.

    Lookups take ids straight from requests; one no client can have (not a str, empty, too long,
    a NUL, a lone surrogate) finds nothing without reaching the database, which could not even
    compare it.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CLIENT_ID_LENGTH:
        return False
    try:
        _text("client_id", value)
    except ValueError:
        return False
    return True


def checked_secret_hash(value: object) -> str:
    """`value` if it can be stored as a secret hash (what `set_secret_hash` accepts)."""
    try:
        _text("secret_hash", value)
    except (TypeError, ValueError):
        raise ValueError("secret_hash must be a non-empty str (from hash_secret)") from None
    if not value:
        raise ValueError("secret_hash must be a non-empty str (from hash_secret)")
    return value  # type: ignore[return-value]


def _text(name: str, value: object) -> None:
    # Neither backend can hold a NUL (PostgreSQL text) or a lone surrogate (UTF-8), so neither
    # may a Client: the same record must round-trip through every store.
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be valid Unicode (no lone surrogates)") from None


def _utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")
    return value.astimezone(timezone.utc)


class ClientStore(ABC):
    """The storage interface: a registry of clients, keyed by client id.

    Every call reads or writes the database itself (no cache), so a client created or revoked by
    another process, such as the CLI, takes effect on the next call. Methods raise
    `StoreUnavailable` when the database cannot be reached, and `StoreError` once closed.
    """

    @abstractmethod
    def create(self, client: Client) -> None:
        """Register `client`; raise `ClientExists` if its id is taken."""

    @abstractmethod
    def get(self, client_id: str) -> Client | None:
        """The client with this id (revoked or not), or None."""

    @abstractmethod
    def list(self) -> list[Client]:
        """Every client, oldest first (ties by client id)."""

    @abstractmethod
    def revoke(self, client_id: str, at: datetime | None = None) -> Client | None:
        """Mark the client revoked at `at` (default now) and return it; None if unknown.

        Idempotent: revoking a revoked client keeps its first `revoked_at`.
        """

    @abstractmethod
    def set_secret_hash(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace the client's secret hash (rotate-secret) and return it; None if unknown."""

    @abstractmethod
    def close(self) -> None:
        """Release the connections; calls after this raise `StoreError`."""

    def ping(self) -> None:
        """Read the registry once; `StoreUnavailable` when it cannot be read now (a health
        check)."""
        self.get("scopes-health-check")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def revocation_time(at: datetime | None) -> datetime:
    """What `revoke(client_id, at)` stores: `at` converted to UTC, or now."""
    return utcnow() if at is None else _utc("at", at)
