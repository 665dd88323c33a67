"""The key directory: file modes, rotation, replicas sharing one directory, broken files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from scopes.tokens import KeyRing, KeyRingError, PublicKeys, issue_token, verify_token
from scopes.tokens._jose import thumbprint

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def key_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix == ".json" and not p.name.startswith("."))


def mint(ring: KeyRing, scope: str = "read:brands") -> str:
    return issue_token(
        ring, issuer=ISSUER, subject="svc", audience=AUDIENCE, client_id="svc", scope=scope, lifetime=600
    )


def check(token: str, keys) -> str:
    return verify_token(token, keys, audience=AUDIENCE, issuer=ISSUER).kid


# -- creating ----------------------------------------------------------------------------------


def test_first_open_creates_a_private_directory_and_key(tmp_path):
    old = os.umask(0o000)  # the most permissive umask: modes must still be exactly these
    try:
        ring = KeyRing.open(tmp_path / "nested" / "keys")
    finally:
        os.umask(old)
    directory = tmp_path / "nested" / "keys"
    assert mode(directory) == 0o700
    [file] = key_files(directory)
    assert mode(file) == 0o600
    assert mode(directory / ".lock") == 0o600
    document = json.loads(file.read_text())
    assert set(document) == {"kid", "alg", "created", "private_key"}
    assert document["alg"] == "EdDSA"
    assert document["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert file.name == f"{datetime.fromisoformat(document['created']):%Y%m%dT%H%M%S.%fZ}-{document['kid']}.json"
    [info] = ring.keys()
    assert (info.kid, info.alg, info.file) == (document["kid"], "EdDSA", file.name)
    assert info.created.tzinfo is not None
    assert ring.signing_key.kid == info.kid
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize(
    ("algorithm", "kty"), [("EdDSA", "OKP"), ("ES256", "EC"), ("RS256", "RSA")], ids=str
)
def test_each_algorithm_publishes_a_public_jwk_whose_kid_is_its_thumbprint(tmp_path, algorithm, kty):
    ring = KeyRing.open(tmp_path / "keys", algorithm=algorithm)
    [jwk] = ring.jwks()["keys"]
    assert jwk["kty"] == kty and jwk["alg"] == algorithm and jwk["use"] == "sig"
    assert jwk["kid"] == thumbprint(jwk) == ring.signing_key.kid
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk), "no private member is published"
    assert check(mint(ring), ring) == jwk["kid"]


def test_thumbprint_matches_rfc_7638_example():
    """RFC 7638 §3.1 gives this RSA key's thumbprint."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368"
        "QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2"
        "NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_opening_again_keeps_the_keys(tmp_path):
    first = KeyRing.open(tmp_path / "keys")
    again = KeyRing.open(tmp_path / "keys", algorithm="RS256")  # the algorithm is the first key's only
    assert again.keys() == first.keys()
    assert len(key_files(tmp_path / "keys")) == 1


def test_create_false_needs_an_existing_directory_with_keys(tmp_path):
    with pytest.raises(KeyRingError, match="no such key directory"):
        KeyRing.open(tmp_path / "missing", create=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyRingError, match="no keys; add one with `scopes keys rotate`"):
        KeyRing.open(tmp_path / "empty", create=False)
    assert not (tmp_path / "missing").exists()


def test_unknown_algorithm_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unsupported key algorithm 'HS256'; choose one of EdDSA, ES256, RS256"):
        KeyRing.open(tmp_path / "keys", algorithm="HS256")
    ring = KeyRing.open(tmp_path / "keys")
    with pytest.raises(ValueError, match="unsupported key algorithm 'none'"):
        ring.rotate("none")


def test_a_file_in_the_way_is_an_error(tmp_path):
    (tmp_path / "keys").write_text("")
    with pytest.raises(KeyRingError, match="exists and is not a directory"):
        KeyRing.open(tmp_path / "keys")


def test_default_directory_is_scopes_keys_env_then_dot_scopes_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOPES_KEYS", raising=False)
    assert KeyRing.default_path() == Path("scopes-keys")
    KeyRing.open()
    assert len(key_files(tmp_path / "scopes-keys")) == 1
    monkeypatch.setenv("SCOPES_KEYS", str(tmp_path / "from-env"))
    assert KeyRing.open().path == tmp_path / "from-env"
    assert len(key_files(tmp_path / "from-env")) == 1


# -- rotation ----------------------------------------------------------------------------------


def test_rotation_newest_signs_and_old_keys_still_verify(tmp_path):
    ring = KeyRing.open(tmp_path / "keys")
    old_token = mint(ring)
    old_kid = ring.signing_key.kid
    info = ring.rotate()
    assert info.alg == "EdDSA", "rotation keeps the signing key's algorithm"
    assert ring.signing_key.kid == info.kid != old_kid
    assert [k.kid for k in ring.keys()] == [info.kid, old_kid]
    assert [k["kid"] for k in ring.jwks()["keys"]] == [info.kid, old_kid]
    assert check(mint(ring), ring) == info.kid
    assert check(old_token, ring) == old_kid
    assert check(old_token, PublicKeys.from_jwks(ring.jwks())) == old_kid
    assert all(mode(p) == 0o600 for p in key_files(tmp_path / "keys"))


def test_rotation_may_change_the_algorithm(tmp_path):
    ring = KeyRing.open(tmp_path / "keys")
    ring.rotate("ES256")
    assert ring.signing_key.alg == "ES256"
    ring.rotate()
    assert ring.signing_key.alg == "ES256"
    ring.rotate("RS256")
    assert [k.alg for k in ring.keys()] == ["RS256", "ES256", "ES256", "EdDSA"]
    assert check(mint(ring), ring) == ring.signing_key.kid


def test_a_rotated_key_is_newest_even_when_another_key_claims_a_later_time(tmp_path):
    """A replica whose clock runs ahead wrote a key 'from the future'; rotating here must still
    make the new key the signing one, or `scopes keys rotate` would seem to do nothing."""
    ring = KeyRing.open(tmp_path / "keys")
    future = datetime.now(timezone.utc) + timedelta(days=1)
    _write_key_file(tmp_path / "keys" / "ahead.json", ed25519.Ed25519PrivateKey.generate(), "ahead", future)
    ring.reload()
    assert ring.signing_key.kid == "ahead"
    info = ring.rotate()
    assert info.created > future
    assert ring.signing_key.kid == info.kid


def test_jwks_is_a_copy(tmp_path):
    ring = KeyRing.open(tmp_path / "keys")
    ring.jwks()["keys"][0]["kid"] = "changed"
    ring.jwks()["keys"].clear()
    assert ring.jwks()["keys"][0]["kid"] == ring.signing_key.kid
    with pytest.raises(TypeError):
        ring.keys()[0].public_jwk["kid"] = "changed"  # read-only


# -- replicas sharing a directory --------------------------------------------------------------


def test_a_key_rotated_elsewhere_is_picked_up_after_the_check_interval(tmp_path):
    clock = FakeClock()
    here = KeyRing.open(tmp_path / "keys", clock=clock, check_interval=1.0)
    there = KeyRing.open(tmp_path / "keys")
    before = here.key_set().version
    old_kid = here.signing_key.kid
    new = there.rotate()
    assert here.signing_key.kid == old_kid, "the directory is not looked at again within a second"
    assert new.kid not in here.key_set().by_kid
    clock.now += 1.0
    assert here.signing_key.kid == new.kid
    assert [k["kid"] for k in here.jwks()["keys"]] == [new.kid, old_kid]
    assert here.key_set().version == before + 1
    assert check(mint(there), here) == new.kid


def test_reload_picks_up_a_rotation_at_once(tmp_path):
    here = KeyRing.open(tmp_path / "keys", clock=FakeClock())
    new = KeyRing.open(tmp_path / "keys").rotate()
    here.reload()
    assert here.signing_key.kid == new.kid


def test_public_keys_from_a_ring_follow_rotation(tmp_path):
    clock = FakeClock()
    ring = KeyRing.open(tmp_path / "keys", clock=clock)
    keys = PublicKeys.from_ring(ring)
    other = KeyRing.open(tmp_path / "keys")
    other.rotate()
    token = mint(other)
    clock.now += 5
    assert check(token, keys) == other.signing_key.kid


def test_the_version_stays_when_nothing_changed(tmp_path):
    clock = FakeClock()
    ring = KeyRing.open(tmp_path / "keys", clock=clock)
    version = ring.key_set().version
    (tmp_path / "keys" / "notes.txt").write_text("not a key")  # the directory changes, the keys do not
    clock.now += 2
    assert ring.key_set().version == version


def test_removing_a_key_withdraws_it(tmp_path):
    clock = FakeClock()
    ring = KeyRing.open(tmp_path / "keys", clock=clock)
    old = ring.signing_key
    token = mint(ring)
    ring.rotate()
    (tmp_path / "keys" / old.info.file).unlink()
    clock.now += 2
    assert old.kid not in ring.key_set().by_kid
    with pytest.raises(Exception, match="no trusted key has kid") as caught:
        check(token, ring)
    assert caught.value.reason == "unknown-kid"


_CREATE_AT_ONCE = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from scopes.tokens.keys import KeyRing
    Path(sys.argv[4]).touch()
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    ring = KeyRing.open(sys.argv[1], algorithm=sys.argv[3])
    print(json.dumps({"signing": ring.signing_key.kid, "kids": [k.kid for k in ring.keys()]}))
    """
)


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_processes_creating_the_directory_at_once_agree_on_one_key(tmp_path, algorithm):
    """Replicas started together on an empty directory: exactly one first key, used by all.
    (RS256 keys take longest to generate, which widens the window for a race.)"""
    directory, go = tmp_path / "keys", tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(6)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATE_AT_ONCE, str(directory), str(go), algorithm, str(flag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)  # every process imported everything and waits at the start line
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    [file] = key_files(directory)
    kid = json.loads(file.read_text())["kid"]
    assert results == [{"signing": kid, "kids": [kid]}] * len(processes)


# -- broken files ------------------------------------------------------------------------------


def _write_key_file(path: Path, private_key, kid: str, created: datetime, alg: str = "EdDSA") -> None:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    document = {"kid": kid, "alg": alg, "created": created.isoformat().replace("+00:00", "Z"), "private_key": pem}
    path.write_text(json.dumps(document))


def test_a_hand_written_key_file_with_its_own_kid_works(tmp_path):
    (tmp_path / "keys").mkdir()
    _write_key_file(tmp_path / "keys" / "imported.json", ed25519.Ed25519PrivateKey.generate(), "mine",
                    datetime(2024, 1, 1, tzinfo=timezone.utc))
    ring = KeyRing.open(tmp_path / "keys", create=False)
    assert ring.signing_key.kid == "mine"
    assert check(mint(ring), ring) == "mine"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("not json", "not JSON", id="not-json"),
        pytest.param("[]", "not a JSON object", id="array"),
        pytest.param('{"kid": "", "alg": "EdDSA"}', "'kid' must be a non-empty string", id="empty-kid"),
        pytest.param('{"kid": "k", "alg": "HS256"}', "'alg' must be one of EdDSA, ES256, RS256, not 'HS256'", id="hs256"),
        pytest.param('{"kid": "k", "alg": "EdDSA", "created": "yesterday"}', "'created' must be an ISO 8601 time", id="created"),
        pytest.param('{"kid": "k", "alg": "EdDSA", "created": "2024-01-01T00:00:00"}', "'created' needs a time zone", id="naive"),
        pytest.param('{"kid": "k", "alg": "EdDSA", "created": "2024-01-01T00:00:00Z"}', "'private_key' must be a PEM string", id="no-key"),
        pytest.param(
            '{"kid": "k", "alg": "EdDSA", "created": "2024-01-01T00:00:00Z", "private_key": "x"}',
            "'private_key' is not an unencrypted PEM private key",
            id="bad-pem",
        ),
    ],
)
def test_a_broken_key_file_is_named(tmp_path, content, message):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "broken.json").write_text(content)
    with pytest.raises(KeyRingError, match=f"broken.json: {__import__('re').escape(message)}"):
        KeyRing.open(tmp_path / "keys")


def test_a_key_of_the_wrong_type_or_size_is_refused(tmp_path):
    (tmp_path / "keys").mkdir()
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    _write_key_file(tmp_path / "keys" / "a.json", ed25519.Ed25519PrivateKey.generate(), "a", moment, alg="ES256")
    with pytest.raises(KeyRingError, match="a.json: ES256 needs a P-256 key"):
        KeyRing.open(tmp_path / "keys")
    (tmp_path / "keys" / "a.json").unlink()
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    _write_key_file(tmp_path / "keys" / "b.json", small, "b", moment, alg="RS256")
    with pytest.raises(KeyRingError, match="b.json: RSA keys need 2048 bits or more"):
        KeyRing.open(tmp_path / "keys")


def test_two_files_with_one_kid_are_refused(tmp_path):
    (tmp_path / "keys").mkdir()
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for name in ("a.json", "b.json"):
        _write_key_file(tmp_path / "keys" / name, ed25519.Ed25519PrivateKey.generate(), "same", moment)
    with pytest.raises(KeyRingError, match="a.json and b.json have the same kid 'same'"):
        KeyRing.open(tmp_path / "keys")


def test_a_file_broken_later_keeps_the_keys_already_read(tmp_path):
    """A running server must not lose its keys because someone dropped a bad file beside them."""
    clock = FakeClock()
    ring = KeyRing.open(tmp_path / "keys", clock=clock)
    kid = ring.signing_key.kid
    (tmp_path / "keys" / "zz-broken.json").write_text("{")
    clock.now += 2
    assert ring.signing_key.kid == kid
    assert ring.last_error is not None and "zz-broken.json: not JSON" in ring.last_error
    with pytest.raises(KeyRingError):
        ring.reload()
    (tmp_path / "keys" / "zz-broken.json").unlink()
    clock.now += 2
    assert ring.signing_key.kid == kid and ring.last_error is None


def test_hidden_and_other_files_are_not_keys(tmp_path):
    ring = KeyRing.open(tmp_path / "keys")
    (tmp_path / "keys" / ".tmp-half-written.json").write_text("{")
    (tmp_path / "keys" / "README").write_text("keys live here")
    ring.reload()
    assert len(ring.keys()) == 1
