"""Several `scopes serve` replicas on one PostgreSQL; the store going away and coming back."""

from __future__ import annotations

import time

import httpx

from tests.pg import PostgresServer, postgres_server  # noqa: F401  (a fixture)
from tests.servers import scopes_server
from tests.test_service import access_token, create_client


def test_two_replicas_share_clients_and_keys(postgres_server, tmp_path):  # noqa: F811
    db = postgres_server.create_database()
    keys = tmp_path / "shared-keys"
    with scopes_server(tmp_path, db=db, keys=keys, name="a") as a, \
            scopes_server(tmp_path, db=db, keys=keys, name="b") as b:
        client = create_client(a, "--scope", "read:brands")
        assert access_token(b, client)  # created through one, served by the other
        assert httpx.get(f"{a.url}/.well-known/jwks.json").json() == httpx.get(
            f"{b.url}/.well-known/jwks.json").json()
        b.cli("keys", "rotate")
        # both replicas pick up a key rotated on the shared directory
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ja = httpx.get(f"{a.url}/.well-known/jwks.json").json()
            jb = httpx.get(f"{b.url}/.well-known/jwks.json").json()
            if len(ja["keys"]) == len(jb["keys"]) == 2:
                break
            time.sleep(0.1)  # polling for the directory change, bounded by the deadline
        assert ja == jb and len(ja["keys"]) == 2
        a.cli("clients", "revoke", client["client_id"])
        answer = httpx.post(f"{b.url}/oauth/token", json={
            "grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]})
        assert answer.status_code == 401


def test_store_down_answers_503_and_recovers(tmp_path):
    with PostgresServer() as pg:
        db = pg.create_database()
        with scopes_server(tmp_path, db=db) as server:
            client = create_client(server, "--scope", "read:brands")
            assert access_token(server, client)
            pg.stop()
            started = time.monotonic()
            answer = httpx.post(f"{server.url}/oauth/token", timeout=30, json={
                "grant_type": "client_credentials", "client_id": client["client_id"],
                "client_secret": client["client_secret"]})
            assert time.monotonic() - started < 10  # never hangs
            assert answer.status_code == 503
            assert answer.json()["error"] == "temporarily_unavailable"
            assert 1 <= int(answer.headers["retry-after"]) <= 5
            pg.start()
            assert access_token(server, client)  # recovers by itself
            assert "Traceback" not in server.output()
