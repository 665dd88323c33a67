"""Forward-auth over HTTP: one route per gateway convention, so no header is ever guessed.

    /authz/nginx          nginx auth_request: X-Original-Method, X-Original-URI
    /authz/traefik        Traefik ForwardAuth: X-Forwarded-Method, X-Forwarded-Uri
    /authz/envoy/<path>   Envoy ext_authz (path_prefix /authz/envoy): the check request's own
                          method, everything after the prefix in the raw path (query included),
                          and its body (with_request_body)

A bare ASGI application: it sits on every request a gateway forwards, so it does without a
framework's routing and request objects.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from scopes.gateway.check import Gatekeeper, Verdict

__all__ = ["ENVOY_PREFIX", "MAX_BODY_BYTES", "ForwardAuth"]

ENVOY_PREFIX = "/authz/envoy"
MAX_BODY_BYTES = 64 * 1024  # a larger body is not read: the request is denied

ASGIApp = Callable[..., Awaitable[None]]


def __dir__() -> list[str]:
    return __all__


def _header_value(text: str) -> bytes:
    """A response header value: printable ASCII as is, anything else escaped (no CR/LF ever)."""
    if not (text.isascii() and text.isprintable()):
        text = ascii(text)[1:-1]
    return text.encode("ascii")


def _headers(scope: dict, *names: bytes) -> list[str | None]:
    found: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        if key in names and key not in found:
            found[key] = value.decode("latin-1")
    return [found.get(name) for name in names]


async def _read_body(receive) -> bytes | None:
    """The request body, or None when it passes MAX_BODY_BYTES."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(payload)).encode()),
                   (b"cache-control", b"no-store")]
    for name, value in (headers or {}).items():
        raw_headers.append((name.lower().encode("ascii"), _header_value(value)))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class ForwardAuth:
    """The /authz/* routes (and /healthz); any other path goes to `fallback`, else 404."""

    def __init__(self, gatekeeper: Gatekeeper, fallback: ASGIApp | None = None) -> None:
        self.gatekeeper = gatekeeper
        self.fallback = fallback

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            return
        path = scope["path"]
        body: object = None
        if path == "/authz/nginx":
            method, target, authorization = _headers(
                scope, b"x-original-method", b"x-original-uri", b"authorization")
        elif path == "/authz/traefik":
            method, target, authorization = _headers(
                scope, b"x-forwarded-method", b"x-forwarded-uri", b"authorization")
        elif path == ENVOY_PREFIX or path.startswith(ENVOY_PREFIX + "/"):
            (authorization,) = _headers(scope, b"authorization")
            method = scope["method"]
            raw = scope.get("raw_path") or path.encode("latin-1")
            target = raw.decode("latin-1")[len(ENVOY_PREFIX):]
            query = scope.get("query_string", b"")
            if query:
                target += "?" + query.decode("latin-1")
            body = await _read_body(receive)
            if body is None:
                await self._answer(send, Verdict(403, {}, "denied: the request body is too large",
                                                 body={"allowed": False,
                                                       "reason": "the request body is too large"}))
                return
            body = body or None
        elif path == "/healthz" and self.fallback is None:
            await send_json(send, 200, {"status": "ok"})
            return
        else:
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            else:
                await send_json(send, 404, {"error": "not_found",
                                            "error_description": "no such route"})
            return
        await self._answer(send, self.gatekeeper.check(authorization, method, target, body))

    async def _answer(self, send, verdict: Verdict) -> None:
        if verdict.allowed:
            await send_json(send, 200, {"allowed": True}, verdict.headers)
        else:
            await send_json(send, verdict.status, verdict.body or
                            {"allowed": False, "reason": verdict.reason}, verdict.headers)
