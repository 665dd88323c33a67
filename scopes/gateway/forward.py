"""Forward-auth over HTTP: one route per gateway convention, so no header is ever guessed.

    /authz/nginx          nginx auth_request: X-Original-Method, X-Original-URI
    /authz/traefik        Traefik ForwardAuth: X-Forwarded-Method, X-Forwarded-Uri
    /authz/envoy/<path>   Envoy ext_authz (path_prefix /authz/envoy): the check request's own
                          method, everything after the prefix in the raw path (query included),
                          and its body (with_request_body)

A bare ASGI application: it sits on every request a gateway forwards, so it does without a
framework's routing and request objects (scopes.gateway._asgi has the few steps it takes).
"""

from __future__ import annotations

from scopes.gateway._asgi import (
    ASGIApp,
    BodyTooLarge,
    Disconnected,
    Receive,
    Scope,
    Send,
    headers,
    read_body,
    send_json,
)
from scopes.gateway.check import Gatekeeper, Verdict, deny

__all__ = ["ENVOY_PREFIX", "MAX_BODY_BYTES", "ForwardAuth"]

ENVOY_PREFIX = "/authz/envoy"
MAX_BODY_BYTES = 64 * 1024  # a larger body is not read: the request is denied


def __dir__() -> list[str]:
    return __all__


class ForwardAuth:
    """The /authz/* routes (and /healthz); any other path goes to `fallback`, else 404."""

    def __init__(self, gatekeeper: Gatekeeper, fallback: ASGIApp | None = None) -> None:
        self.gatekeeper = gatekeeper
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            return
        path: str = scope["path"]
        body: bytes | None = None
        if path == "/authz/nginx":
            method, target, authorization = headers(
                scope, b"x-original-method", b"x-original-uri", b"authorization")
        elif path == "/authz/traefik":
            method, target, authorization = headers(
                scope, b"x-forwarded-method", b"x-forwarded-uri", b"authorization")
        elif path == ENVOY_PREFIX or path.startswith(ENVOY_PREFIX + "/"):
            (authorization,) = headers(scope, b"authorization")
            method = scope["method"]
            target = _envoy_target(scope)
            try:
                body = await read_body(receive, MAX_BODY_BYTES) or None
            except BodyTooLarge:
                await _answer(send, deny(403, "denied: the request body is too large"))
                return
            except Disconnected:
                return  # Envoy gave up on the check: no one to answer
        elif path == "/healthz" and self.fallback is None:
            await send_json(send, 200, {"status": "ok"})
            return
        elif self.fallback is not None:
            await self.fallback(scope, receive, send)
            return
        else:
            await send_json(send, 404, {"error": "not_found", "error_description": "no such route"})
            return
        await _answer(send, self.gatekeeper.check(authorization, method, target, body))


def _envoy_target(scope: Scope) -> str:
    """Everything after the prefix in the raw path, query included: the original target."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("latin-1")
    target = raw.decode("latin-1")[len(ENVOY_PREFIX):]
    query: bytes = scope.get("query_string", b"")
    return target + "?" + query.decode("latin-1") if query else target


async def _answer(send: Send, verdict: Verdict) -> None:
    token = verdict.token
    if verdict.allowed and token is not None:
        # Who the request is for, for the upstream (DESIGN.md, "Gateway contract": 200).
        await send_json(send, 200, verdict.body, {
            "X-Scopes-Subject": token.subject,
            "X-Scopes-Client-Id": token.client_id,
            "X-Scopes-User-Ids": " ".join(verdict.user_ids),
        })
    else:
        await send_json(send, verdict.status, verdict.body, verdict.headers)
