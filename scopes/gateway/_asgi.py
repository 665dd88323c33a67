"""Raw ASGI for the hot paths: request headers and bodies read, JSON answers sent, no framework.

Forward-auth (scopes.gateway.forward) and the middleware (scopes.asgi) sit in front of every
request, so they do without request and response objects; these are the few steps both take,
written once. A response header value is escaped here, whatever a token or a policy put in it:
no CR or LF ever reaches the wire.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

__all__ = [
    "ASGIApp",
    "BodyTooLarge",
    "Disconnected",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "header",
    "header_value",
    "headers",
    "read_body",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def __dir__() -> list[str]:
    return __all__


class BodyTooLarge(Exception):
    """The request body passed the limit; what was read of it is dropped."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


class Disconnected(Exception):
    """The client went away before its body was complete: there is no one to answer."""


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of one request header (`name` lower-case, as ASGI gives names)."""
    pairs: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in pairs:
        if key == name:
            return value.decode("latin-1")
    return None


def headers(scope: Scope, *names: bytes) -> list[str | None]:
    """The first value of each named request header, in the order asked, in one pass."""
    found: dict[bytes, str] = {}
    pairs: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in pairs:
        if key in names and key not in found:
            found[key] = value.decode("latin-1")
    return [found.get(name) for name in names]


def header_value(text: str) -> bytes:
    """A response header value: printable ASCII as is, anything else escaped (no CR/LF ever)."""
    if not (text.isascii() and text.isprintable()):
        text = ascii(text)[1:-1]
    return text.encode("ascii")


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; BodyTooLarge as soon as it passes `limit` bytes, Disconnected
    when the client leaves first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Disconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send: Send, status: int, body: Mapping[str, Any],
                    extra_headers: Mapping[str, str] | None = None) -> None:
    """Answer with a JSON body, `Cache-Control: no-store`, and the given headers (escaped)."""
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"),
           (b"content-length", str(len(payload)).encode()),
           (b"cache-control", b"no-store")]
    if extra_headers:
        raw += [(name.lower().encode("ascii"), header_value(value))
                for name, value in extra_headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
