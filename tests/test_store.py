"""Tests for scopes.store: the same contract on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scopes.store
import scopes.store.base
import scopes.store.postgres
import scopes.store.sqlite
from scopes.store import (
    Client,
    ClientExists,
    ClientStore,
    SQLiteStore,
    StoreError,
    hash_secret,
    new_client_id,
    new_secret,
    open_store,
    utcnow,
    verify_secret,
)
from scopes.store.base import SCHEMA_VERSION
from tests.pg import postgres_server, postgres_url  # noqa: F401  (fixtures)

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
# A hash is opaque to the store; tests that do not verify secrets skip the cost of scrypt.
FAKE_HASH = (
    "scrypt$n=16384,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
)


def make_client(client_id: str | None = None, **changes: object) -> Client:
    fields: dict[str, object] = {
        "client_id": new_client_id() if client_id is None else client_id,
        "secret_hash": FAKE_HASH,
        "scope": "read:brands user_id:pigeon",
        "audiences": ("https://api.example.com", "https://other.example.com"),
        "any_user": False,
        "lifetime": 3600,
        "max_lifetime": 7200,
        "created_at": T0,
        "revoked_at": None,
        "role": None,
    }
    fields.update(changes)
    return Client(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where a new, empty store lives: a SQLite file, or a new database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("store") / "clients.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(target: str) -> Iterator[ClientStore]:
    with open_store(target) as opened:
        yield opened


def test_exports() -> None:
    assert scopes.store.__all__ == [
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
    assert dir(scopes.store) == scopes.store.__all__
    assert scopes.store.base.__all__ == [
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
    assert scopes.store.sqlite.__all__ == ["SQLiteStore"]
    assert scopes.store.postgres.__all__ == ["PostgresStore"]
    for module in (scopes.store.base, scopes.store.sqlite, scopes.store.postgres):
        assert dir(module) == module.__all__


# -- the Client record ---------------------------------------------------------------------------


def test_client_repr_and_str_never_show_the_secret_or_its_hash() -> None:
    secret = new_secret()
    client = make_client(secret_hash=hash_secret(secret))
    for shown in (repr(client), str(client), f"{client}", repr([client])):
        assert secret not in shown
        assert client.secret_hash not in shown
        assert "scrypt" not in shown
    assert repr(client).startswith(f"Client(client_id={client.client_id!r}, scope=")


def test_client_is_frozen_and_hashable() -> None:
    client = make_client()
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.scope = "write:brands"  # type: ignore[misc]
    assert hash(client) == hash(dataclasses.replace(client))
    assert {client, dataclasses.replace(client)} == {client}


def test_client_normalizes_audiences_and_time_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    client = make_client(
        audiences=["https://a.example"], created_at=datetime(2025, 1, 2, 5, 4, 5, tzinfo=plus_two)
    )
    assert client.audiences == ("https://a.example",)
    assert client.created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert client.created_at.tzinfo is timezone.utc
    assert not client.revoked
    assert make_client(revoked_at=T0).revoked


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        pytest.param({"client_id": ""}, ValueError, "client_id must not be empty", id="empty-id"),
        pytest.param({"client_id": 7}, TypeError, "client_id must be a str, not int", id="id-int"),
        pytest.param({"scope": "a\x00b"}, ValueError, "scope must not contain NUL", id="nul"),
        pytest.param(
            {"role": "\ud800"},
            ValueError,
            "role must be valid Unicode (no lone surrogates)",
            id="surrogate",
        ),
        pytest.param(
            {"audiences": "https://a.example"},
            TypeError,
            "audiences must be a sequence of strings",
            id="audiences-str",
        ),
        pytest.param(
            {"audiences": ("a", 1)}, TypeError, "each audience must be a str, not int", id="aud-int"
        ),
        pytest.param(
            {"any_user": 1}, TypeError, "any_user must be a bool, not int", id="any-user-int"
        ),
        pytest.param(
            {"lifetime": 0}, ValueError, "lifetime must be at least one second, got 0", id="zero"
        ),
        pytest.param(
            {"lifetime": 1.5}, TypeError, "lifetime must be an int (seconds), not float", id="float"
        ),
        pytest.param(
            {"max_lifetime": True},
            TypeError,
            "max_lifetime must be an int (seconds), not bool",
            id="bool",
        ),
        pytest.param(
            {"lifetime": 7201},
            ValueError,
            "max_lifetime (7200s) is shorter than lifetime (7201s)",
            id="max-below-lifetime",
        ),
        pytest.param(
            {"created_at": datetime(2025, 1, 1)},
            ValueError,
            "created_at must be timezone-aware (UTC)",
            id="naive",
        ),
        pytest.param(
            {"revoked_at": "2025-01-01"},
            TypeError,
            "revoked_at must be a datetime, not str",
            id="revoked-str",
        ),
    ],
)
def test_client_rejects_what_a_store_cannot_hold(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        make_client(**changes)
    assert str(raised.value) == message


# -- the store contract, on every backend --------------------------------------------------------


def test_new_store_is_empty(store: ClientStore) -> None:
    assert store.list() == []
    assert store.get("cl_nobody") is None


def test_create_then_get(store: ClientStore) -> None:
    client = make_client()
    assert store.create(client) is None
    assert store.get(client.client_id) == client
    assert store.get(client.client_id.upper()) is None  # ids are exact, case-sensitive
    assert store.get(client.client_id + " ") is None


def test_create_keeps_every_field(store: ClientStore) -> None:
    client = make_client(
        scope="", audiences=(), any_user=True, lifetime=1, max_lifetime=1, role="issuer"
    )
    store.create(client)
    assert store.get(client.client_id) == client


def test_duplicate_create_raises_client_exists(store: ClientStore) -> None:
    first = make_client("cl_twice")
    store.create(first)
    with pytest.raises(ClientExists) as raised:
        store.create(make_client("cl_twice", scope="write:brands", secret_hash=hash_secret("x")))
    assert str(raised.value) == "client 'cl_twice' already exists"
    assert raised.value.client_id == "cl_twice"
    assert isinstance(raised.value, StoreError)
    assert store.get("cl_twice") == first
    assert store.list() == [first]


def test_list_is_ordered_by_creation_then_id(store: ClientStore) -> None:
    later = make_client("cl_a", created_at=T0 + timedelta(microseconds=1))
    tie_b = make_client("cl_b", created_at=T0)
    tie_upper = make_client("cl_C", created_at=T0)  # "C" < "b" by code point
    earliest = make_client("cl_z", created_at=T0 - timedelta(days=400))
    for client in (later, tie_b, tie_upper, earliest):
        store.create(client)
    assert store.list() == [earliest, tie_upper, tie_b, later]


def test_revoke(store: ClientStore) -> None:
    client = make_client()
    store.create(client)
    before = utcnow()
    revoked = store.revoke(client.client_id)
    assert revoked is not None
    assert revoked.revoked
    assert revoked.revoked_at is not None and before <= revoked.revoked_at <= utcnow()
    assert revoked == dataclasses.replace(client, revoked_at=revoked.revoked_at)
    assert store.get(client.client_id) == revoked
    assert store.list() == [revoked]


def test_revoke_is_idempotent_and_keeps_the_first_time(store: ClientStore) -> None:
    client = make_client()
    store.create(client)
    first = store.revoke(client.client_id, at=T0 + timedelta(hours=1))
    again = store.revoke(client.client_id, at=T0 + timedelta(hours=2))
    assert first is not None and first.revoked_at == T0 + timedelta(hours=1)
    assert again == first
    assert store.get(client.client_id) == first


def test_revoke_at_is_stored_in_utc(store: ClientStore) -> None:
    client = make_client()
    store.create(client)
    at = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    revoked = store.revoke(client.client_id, at=at)
    assert revoked is not None and revoked.revoked_at == at
    stored = store.get(client.client_id)
    assert stored is not None and stored.revoked_at is not None
    assert stored.revoked_at.tzinfo is timezone.utc
    assert stored.revoked_at.hour == 17


def test_revoke_rejects_a_naive_time(store: ClientStore) -> None:
    client = make_client()
    store.create(client)
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        store.revoke(client.client_id, at=datetime(2025, 1, 1))
    assert store.get(client.client_id) == client


def test_revoke_unknown_returns_none(store: ClientStore) -> None:
    assert store.revoke("cl_nobody") is None
    assert store.list() == []


def test_created_revoked_client_round_trips(store: ClientStore) -> None:
    client = make_client(revoked_at=T0 + timedelta(seconds=1))
    store.create(client)
    assert store.get(client.client_id) == client


def test_rotate_secret(store: ClientStore) -> None:
    old_secret, new = new_secret(), new_secret()
    client = make_client(secret_hash=hash_secret(old_secret))
    store.create(client)
    rotated = store.set_secret_hash(client.client_id, hash_secret(new))
    assert rotated is not None
    assert rotated == dataclasses.replace(client, secret_hash=rotated.secret_hash)
    stored = store.get(client.client_id)
    assert stored == rotated
    assert verify_secret(new, stored.secret_hash)
    assert not verify_secret(old_secret, stored.secret_hash)


def test_rotate_keeps_revocation(store: ClientStore) -> None:
    client = make_client()
    store.create(client)
    revoked = store.revoke(client.client_id, at=T0)
    rotated = store.set_secret_hash(client.client_id, "scrypt$other")
    assert revoked is not None and rotated is not None
    assert rotated.revoked_at == T0
    assert rotated.secret_hash == "scrypt$other"


def test_rotate_unknown_returns_none(store: ClientStore) -> None:
    assert store.set_secret_hash("cl_nobody", FAKE_HASH) is None


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param("scrypt$\x00", id="nul"),
        pytest.param("scrypt$\udc80", id="lone-surrogate"),
    ],
)
def test_rotate_rejects_an_empty_hash(store: ClientStore, bad: object) -> None:
    client = make_client()
    store.create(client)
    with pytest.raises(ValueError, match="secret_hash must be a non-empty str"):
        store.set_secret_hash(client.client_id, bad)  # type: ignore[arg-type]
    assert store.get(client.client_id) == client


@pytest.mark.parametrize(
    "client_id",
    [
        pytest.param("", id="empty"),
        pytest.param("cl_\x00", id="nul"),
        pytest.param("cl_\ud800", id="lone-surrogate"),
        pytest.param("c" * 256, id="too-long"),
        pytest.param("c" * 100_000, id="huge"),
        pytest.param(None, id="none"),
        pytest.param(5, id="int"),
        pytest.param(["cl_x"], id="list"),
    ],
)
def test_ids_no_client_can_have_find_nothing(store: ClientStore, client_id: object) -> None:
    """Ids come straight from requests: whatever they hold, a lookup answers None, not an error
    (DESIGN.md: an unknown client is a 401 like any other, never a 500)."""
    store.create(make_client("cl_x"))
    assert store.get(client_id) is None  # type: ignore[arg-type]
    assert store.revoke(client_id) is None  # type: ignore[arg-type]
    assert store.set_secret_hash(client_id, FAKE_HASH) is None  # type: ignore[arg-type]
    assert store.list() == [make_client("cl_x")]


def test_longest_and_widest_ids_round_trip(store: ClientStore) -> None:
    for client_id in ("c" * 255, "\U0001f511" * 255, "é" * 255):
        client = make_client(client_id)
        store.create(client)
        assert store.get(client_id) == client
    with pytest.raises(ValueError, match="^client_id is longer than 255 characters$"):
        make_client("c" * 256)


def test_create_takes_only_a_client(store: ClientStore) -> None:
    with pytest.raises(TypeError, match="create\\(\\) takes a Client, not dict"):
        store.create({"client_id": "cl_x"})  # type: ignore[arg-type]


def test_no_caching_between_store_instances(target: str) -> None:
    """A client created or revoked elsewhere (the CLI) counts on the server's next call."""
    with open_store(target) as server, open_store(target) as cli:
        assert server.list() == []  # the server has a connection open already
        client = make_client()
        cli.create(client)
        assert server.get(client.client_id) == client
        cli.revoke(client.client_id, at=T0)
        stored = server.get(client.client_id)
        assert stored is not None and stored.revoked
        cli.set_secret_hash(client.client_id, "scrypt$rotated")
        stored = server.get(client.client_id)
        assert stored is not None and stored.secret_hash == "scrypt$rotated"


def test_reopen_keeps_clients(target: str) -> None:
    client = make_client()
    with open_store(target) as first:
        first.create(client)
    with open_store(target) as second:
        assert second.list() == [client]


def test_closed_store_refuses_calls(target: str) -> None:
    store = open_store(target)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="^the client store is closed$"):
        store.get("cl_x")
    with open_store(target) as other:
        pass
    with pytest.raises(StoreError, match="closed"):
        other.list()


def test_schema_version_is_recorded(store: ClientStore, target: str) -> None:
    assert SCHEMA_VERSION == 1
    if isinstance(store, SQLiteStore):
        import sqlite3

        with sqlite3.connect(target) as conn:
            rows = conn.execute("SELECT version FROM scopes_schema_version").fetchall()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(target) as pg:
            rows = pg.execute("SELECT version FROM scopes_schema_version").fetchall()
    assert rows == [(SCHEMA_VERSION,)]


def test_threads_share_one_store(store: ClientStore) -> None:
    """Eight threads create and read at once through one store: none lost, none mixed up."""
    errors: list[BaseException] = []
    made: list[Client] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                client = make_client(f"cl_t{n}_{i}", created_at=T0 + timedelta(seconds=i))
                store.create(client)
                assert store.get(client.client_id) == client
                with lock:
                    made.append(client)
            store.list()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(store.list(), key=lambda c: c.client_id) == sorted(
        made, key=lambda c: c.client_id
    )
    assert len(made) == 120


# -- property: any Client round-trips ------------------------------------------------------------

_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_text = st.text(_chars)
_moments = st.datetimes(timezones=st.just(timezone.utc))
_seconds = st.integers(min_value=1, max_value=2**63 - 1)


@st.composite
def clients(draw: st.DrawFn) -> Client:
    lifetime, max_lifetime = sorted(draw(st.tuples(_seconds, _seconds)))
    return Client(
        # A fresh prefix keeps ids unique across examples that share one store.
        client_id=uuid.uuid4().hex + draw(st.text(_chars, max_size=223)),
        secret_hash=draw(_text.filter(bool)),
        scope=draw(_text),
        audiences=tuple(draw(st.lists(_text, max_size=4))),
        any_user=draw(st.booleans()),
        lifetime=lifetime,
        max_lifetime=max_lifetime,
        created_at=draw(_moments),
        revoked_at=draw(st.none() | _moments),
        role=draw(st.none() | _text),
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(client=clients())
def test_any_client_round_trips(store: ClientStore, client: Client) -> None:
    """Law: get(c.client_id) == c after create(c), for every Client (any text, any time, any
    lifetime a 64-bit column holds), and c is in list()."""
    store.create(client)
    assert store.get(client.client_id) == client
    assert client in store.list()


# -- open_store ----------------------------------------------------------------------------------


def test_open_store_makes_the_sqlite_file(
    tmp_path: pytest.TempPathFactory,
) -> None:
    path = tmp_path / "clients.db"  # type: ignore[operator]
    with open_store(str(path)) as store:
        assert isinstance(store, SQLiteStore)
        assert path.exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param(
            "mysql://user@host/db",
            "unsupported database URL scheme 'mysql': use a file path (SQLite) or a postgresql://"
            " URL",
            id="mysql",
        ),
        pytest.param(
            "sqlite:///tmp/x.db",
            "unsupported database URL scheme 'sqlite': use a file path (SQLite) or a"
            " postgresql:// URL",
            id="sqlite-url",
        ),
        pytest.param(":memory:", "the client store needs a file path, not ':memory:'", id="memory"),
        pytest.param("", "the client store needs a file path, not ''", id="empty"),
    ],
)
def test_open_store_refuses_what_is_not_a_store(target: str, message: str) -> None:
    with pytest.raises(StoreError) as raised:
        open_store(target)
    assert str(raised.value) == message


def test_open_store_takes_postgres_and_postgresql_urls(postgres_server) -> None:  # noqa: F811
    from scopes.store.postgres import PostgresStore

    name = postgres_server.create_database().rsplit("/", 1)[1]
    for scheme in ("postgresql", "postgres", "PostgreSQL"):
        url = f"{scheme}://postgres@{postgres_server.host}:{postgres_server.port}/{name}"
        with open_store(url) as store:
            assert isinstance(store, PostgresStore)
            assert repr(store) == f"PostgresStore('127.0.0.1:{postgres_server.port}/{name}')"
