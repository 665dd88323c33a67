"""The client registry of the token service: one small interface, SQLite or PostgreSQL behind it.

from scopes.store import Client, hash_secret, new_client_id, new_secret, open_store

with open_store("scopes.db") as store:          # or "postgresql://user@host/db"
    secret = new_secret()                       # shown once, never stored
    store.create(Client(new_client_id(), hash_secret(secret), "read:brands", (), False,
                        3600, 3600, utcnow()))
"""

from __future__ import annotations

import os
import re

from scopes.store.base import (
    Client,
    ClientExists,
    ClientStore,
    StoreError,
    StoreUnavailable,
    utcnow,
)
from scopes.store.secrets import (
    DUMMY_HASH,
    hash_secret,
    needs_rehash,
    new_client_id,
    new_secret,
    verify_secret,
    verify_unknown,
)
from scopes.store.sqlite import SQLiteStore

__all__ = [
    "Client",
    "ClientExists",
    "ClientStore",
    "DUMMY_HASH",
    "SQLiteStore",
    "StoreError",
    "StoreUnavailable",
    "hash_secret",
    "needs_rehash",
    "new_client_id",
    "new_secret",
    "open_store",
    "utcnow",
    "verify_secret",
    "verify_unknown",
]


def __dir__() -> list[str]:
    return __all__


_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_store(target: str | os.PathLike[str], *, create: bool = True) -> ClientStore:
    """The store `--db` names: a `postgresql://` (or `postgres://`) URL, else a SQLite file path.

    A missing SQLite file is created when `create` (its directory must exist); commands that
    only read pass `create=False`, and a missing file is a StoreError. Another URL scheme is
    refused rather than taken for a file name. Raises `StoreUnavailable` when PostgreSQL cannot
    be reached, `StoreError` for a target that cannot be a store.
    """
    text = os.fspath(target)
    match = _URL_SCHEME.match(text)
    if match is None:
        return SQLiteStore(text, create=create)
    scheme = match.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        from scopes.store.postgres import PostgresStore

        # URL schemes are case-insensitive (RFC 3986 §3.1); libpq only knows them in lower case.
        return PostgresStore(scheme + text[len(scheme) :])
    raise StoreError(
        f"unsupported database URL scheme {scheme!r}: use a file path (SQLite) or a"
        " postgresql:// URL"
    )
