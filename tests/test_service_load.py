"""The token service under concurrent load, and under arbitrary requests."""

from __future__ import annotations

import base64
import json
import multiprocessing

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.servers import scopes_server
from tests.test_service import AUDIENCE, create_client

PROCESSES = 8
REQUESTS = 200


def _hammer(url: str, client: dict, queue) -> None:
    """One client process: REQUESTS token requests, every tenth by client credentials."""
    results = []
    with httpx.Client(timeout=30) as http:
        bearer = None
        for index in range(REQUESTS):
            if index % 10 == 0:
                answer = http.post(f"{url}/oauth/token", json={
                    "grant_type": "client_credentials", "client_id": client["client_id"],
                    "client_secret": client["client_secret"]})
                token = answer.json().get("access_token") if answer.status_code == 200 else None
                bearer = token or bearer
            else:
                answer = http.post(f"{url}/auth/issue-token",
                                   headers={"Authorization": f"Bearer {bearer}"},
                                   json={"scope": "user_id:pigeon read:preferences"})
                token = answer.json().get("token") if answer.status_code == 200 else None
            results.append((answer.status_code, token))
    queue.put(results)


def _jti(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def test_parallel_token_requests_on_sqlite(tmp_path):
    """8 processes x 200 token requests against 8 workers: none lost, no 5xx, unique jti."""
    with scopes_server(tmp_path, extra=["--workers", "8", "--rate-limit", "0"]) as server:
        client = create_client(server, "--scope", "user_id:pigeon read:preferences",
                               "--audience", AUDIENCE)
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        workers = [context.Process(target=_hammer, args=(server.url, client, queue))
                   for _ in range(PROCESSES)]
        for worker in workers:
            worker.start()
        results = [row for _ in workers for row in queue.get(timeout=240)]
        for worker in workers:
            worker.join(timeout=30)
    assert len(results) == PROCESSES * REQUESTS
    statuses = sorted({status for status, _ in results})
    assert statuses == [200], statuses
    tokens = [token for _, token in results]
    assert all(tokens)
    jtis = [_jti(token) for token in tokens]
    assert len(set(jtis)) == len(jtis)


# -- arbitrary requests never make the service fail ---------------------------------------------

_methods = st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
_content_types = st.sampled_from([
    "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
    "application/json; charset=utf-8", "", "application/merge-patch+json", "*/*",
])
_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.dictionaries(st.sampled_from(["grant_type", "client_id", "client_secret", "scope",
                                     "audience", "expires_in"]),
                    st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans(),
                              st.lists(st.text(max_size=5), max_size=2)),
                    max_size=6).map(lambda d: json.dumps(d).encode()),
    st.sampled_from([b"grant_type=client_credentials&client_id=a&client_secret=b",
                     b"grant_type=client_credentials&grant_type=x", b"%zz=%", b"[]", b"null"]),
)
_authorization = st.one_of(
    st.none(),
    st.text(max_size=40).filter(lambda t: all(32 <= ord(c) < 127 for c in t)),
    st.sampled_from(["Basic", "Basic !!!", "Basic " + base64.b64encode(b"a:b").decode(),
                     "Basic " + base64.b64encode(b"\xff:\xfe").decode(), "Bearer", "Bearer a.b.c",
                     "Bearer " + "x" * 5000]),
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    with scopes_server(tmp_path_factory.mktemp("fuzz"), extra=["--rate-limit", "0"]) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield server, http


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(["/oauth/token", "/auth/issue-token", "/healthz", "/nope"]),
       method=_methods, content_type=_content_types, body=_bodies, authorization=_authorization)
def test_arbitrary_requests_never_answer_5xx(fuzz_server, path, method, content_type, body,
                                             authorization):
    """Any method, body, content type and Authorization header: a 2xx/4xx JSON answer."""
    server, http = fuzz_server
    headers = {"content-type": content_type} if content_type else {}
    if authorization is not None:
        headers["authorization"] = authorization
    answer = http.request(method, path, content=body, headers=headers)
    assert answer.status_code < 500, answer.text
    assert isinstance(answer.json(), dict)


def test_the_fuzzed_server_logged_no_traceback(fuzz_server):
    server, _ = fuzz_server
    assert "Traceback" not in server.output()
