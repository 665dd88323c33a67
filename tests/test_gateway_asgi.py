"""The raw-ASGI steps forward-auth and the middleware share: headers, bodies, JSON answers."""

from __future__ import annotations

import asyncio
import json

import pytest

from scopes.gateway import _asgi
from scopes.gateway._asgi import (
    BodyTooLarge,
    Disconnected,
    header,
    header_value,
    headers,
    read_body,
    send_json,
)


def receiver(*messages: dict):
    queue = list(messages)

    async def receive() -> dict:
        return queue.pop(0)

    return receive


def body_messages(*chunks: bytes) -> list[dict]:
    return [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)]


def test_the_first_value_of_a_header_is_read():
    scope = {"headers": [(b"host", b"a"), (b"authorization", b"Bearer one"),
                         (b"authorization", b"Bearer two"), (b"x-caf\xc3\xa9", b"\xe9")]}
    assert header(scope, b"authorization") == "Bearer one"
    assert header(scope, b"cookie") is None
    assert headers(scope, b"x-caf\xc3\xa9", b"authorization", b"nope") == ["\xe9", "Bearer one", None]


@pytest.mark.parametrize(("text", "sent"), [
    pytest.param("Bearer realm=\"scopes\"", b'Bearer realm="scopes"', id="printable-ascii"),
    pytest.param("a\r\nSet-Cookie: x=1", b"a\\r\\nSet-Cookie: x=1", id="no-crlf-injection"),
    pytest.param("caf\u00e9 \x00", b"caf\\xe9 \\x00", id="escaped"),
])
def test_response_header_values_are_escaped(text, sent):
    assert header_value(text) == sent


def test_a_body_in_chunks_is_read_whole():
    receive = receiver(*body_messages(b"ab", b"", b"cd"))
    assert asyncio.run(read_body(receive, 4)) == b"abcd"
    assert asyncio.run(read_body(receiver({"type": "http.request"}), 4)) == b""


def test_a_body_past_the_limit_is_refused_as_soon_as_it_passes():
    receive = receiver(*body_messages(b"abc", b"de", b"never read"))
    with pytest.raises(BodyTooLarge) as raised:
        asyncio.run(read_body(receive, 4))
    assert str(raised.value) == "the request body is larger than 4 bytes"
    assert raised.value.limit == 4


def test_a_client_that_leaves_mid_body_is_a_disconnect():
    receive = receiver(*body_messages(b"ab", b"cd")[:1], {"type": "http.disconnect"})
    with pytest.raises(Disconnected):
        asyncio.run(read_body(receive, 100))


def test_json_answers_are_not_stored_and_carry_their_headers():
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(send_json(send, 403, {"allowed": False, "reason": "caf\u00e9"},
                          {"WWW-Authenticate": "Bearer\n"}))
    start, body = sent
    assert start["status"] == 403
    assert start["headers"] == [
        (b"content-type", b"application/json"), (b"content-length", str(len(body["body"])).encode()),
        (b"cache-control", b"no-store"), (b"www-authenticate", b"Bearer\\n"),
    ]
    assert json.loads(body["body"]) == {"allowed": False, "reason": "caf\u00e9"}


def test_the_module_lists_its_names():
    assert dir(_asgi) == _asgi.__all__
    assert all(hasattr(_asgi, name) for name in _asgi.__all__)
