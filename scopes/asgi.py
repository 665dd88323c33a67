"""ScopesMiddleware: the gateway's check in front of a Starlette or FastAPI app (any ASGI app).

Every HTTP request needs a bearer token and an allow from the policy, except the `(METHOD, path)`
pairs listed in `public`; nothing is public by omission. The statuses, challenges and JSON bodies
are DESIGN.md's "Gateway contract", answered by the same `Gatekeeper` as forward-auth. Allowed
requests (and accepted websockets) reach the app with a `ScopesContext` in
`scope["state"]["scopes"]` (Starlette: `request.state.scopes`; FastAPI: `scopes.fastapi.Scopes`).
Only lifespan scopes pass through unchecked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote

from scopes.decision import Code, Decision
from scopes.evaluate import Policy
from scopes.gateway._asgi import (
    ASGIApp,
    BodyTooLarge,
    Disconnected,
    Message,
    Receive,
    RepeatedHeader,
    Scope,
    Send,
    header,
    read_body,
    send_json,
)
from scopes.gateway.check import Gatekeeper, Verdict, deny
from scopes.gateway.keys import for_the_loop
from scopes.model import ScopeSet
from scopes.paths import canonical_segments
from scopes.policy.reloader import PolicyReloader
from scopes.tokens.cache import TokenVerifier
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.verify import VerifiedToken

__all__ = ["MAX_BODY_BYTES", "ScopesContext", "ScopesMiddleware"]

MAX_BODY_BYTES = 64 * 1024  # a body-decided route with a larger body is refused unread (413)

_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})
# Characters a decoded `scope["path"]` may keep when no `raw_path` was given; everything else
# (`%` above all) is percent-encoded, so the decision never decodes what the app reads twice.
_PATH_SAFE = "/!$&'()*+,=:@~"
# A method is a token (RFC 9110 §9.1, §5.6.2), compared exactly: "get" is not "GET".
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class ScopesContext:
    """What the middleware found, for handlers: the verified token and the policy's Decision.

    `token_scopes` are the token's scopes as the policy that decided this request read its
    scope text, and `user_ids` their user ids, sorted, as forward-auth's X-Scopes-User-Ids. On
    a `public` route no token is looked at: `public` is True, `token`, `decision` and
    `token_scopes` are None, `claims` and `user_ids` are empty.
    """

    token: VerifiedToken | None
    decision: Decision | None
    public: bool = False
    token_scopes: ScopeSet | None = None  # the token's scopes, read by the deciding policy

    @property
    def claims(self) -> Mapping[str, Any]:
        """The token's claims (read-only), or an empty mapping on a public route."""
        return self.token.claims if self.token is not None else _NO_CLAIMS

    @property
    def user_ids(self) -> tuple[str, ...]:
        """The token's user ids, sorted, as forward-auth's X-Scopes-User-Ids."""
        scopes = self.token_scopes
        return tuple(sorted(scopes.user_ids)) if scopes is not None else ()

    @property
    def subject(self) -> str | None:
        """`sub`, as forward-auth's X-Scopes-Subject."""
        return self.token.subject if self.token is not None else None

    @property
    def client_id(self) -> str | None:
        """`client_id`, as forward-auth's X-Scopes-Client-Id."""
        return self.token.client_id if self.token is not None else None



class ScopesMiddleware:
    """Token first, then the policy, before the app sees a request or a websocket.

    `policy`: a `scopes.Policy`, or a `PolicyReloader` (reloaded when its file changes).
    `jwks`: the keys tokens are signed with: a JWKS dict, a file path or an http(s) URL.
    `audience`, `issuer`: compared with `aud` and `iss` when given (give both in production).
    `public`: `(METHOD, path)` pairs that pass without a token: the exact method and the exact
    canonical path (no patterns, no prefixes; the query is ignored). A public request is not
    checked at all, so a bad token on it does not matter.

    The target decided is the request's raw path (`scope["raw_path"]`, as sent, not the decoded
    `scope["path"]`) plus its query, canonicalized as `Policy.authorize` does; a `path` that is
    not what `raw_path` decodes to (something in front rewrote one of them) is denied. Routes
    decided by their body (GraphQL) have it read, up to MAX_BODY_BYTES, and replayed to the app.
    A websocket handshake is decided like a `GET` of its path and refused before the app can
    accept it. Only `lifespan` passes through unchecked.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: Policy | PolicyReloader,
        jwks: Mapping[str, Any] | str | PublicKeys,
        audience: str | None = None,
        issuer: str | None = None,
        public: Iterable[tuple[str, str]] = (),
    ) -> None:
        if not isinstance(policy, (Policy, PolicyReloader)):
            raise TypeError(
                f"policy must be a scopes.Policy or a PolicyReloader, not {type(policy).__name__}"
            )
        keys = PublicKeys.load(jwks)
        # A JWKS URL is fetched again when due, and on an unknown kid: blocking I/O that must
        # not stall the event loop, so such keys are only ever fetched in a worker thread.
        keys = for_the_loop(keys)
        self.app = app
        self.gatekeeper = Gatekeeper(policy, TokenVerifier(keys, audience=audience, issuer=issuer))
        self.public: frozenset[tuple[str, str]] = frozenset(_public_pairs(public))
        self._public_methods = frozenset(method for method, _ in self.public)
        self._public_segments = frozenset(
            (method, canonical_segments(path)) for method, path in self.public
        )

    def __repr__(self) -> str:
        return f"ScopesMiddleware(app={self.app!r}, policy={self.gatekeeper.policy!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self.app(scope, receive, send)
        # any other kind of connection is not the app's to see unchecked

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        path = _request_path(scope)
        if path is None:
            await _refuse(send, _REWRITTEN)
            return
        if self._is_public(method, path):
            await self.app(_with_context(scope, ScopesContext(None, None, public=True)), receive, send)
            return
        target = _with_query(scope, path)
        try:
            authorization = header(scope, b"authorization")
        except RepeatedHeader as error:
            await _refuse(send, deny(400, f"denied: {error}; nothing is guessed from a repeated "
                                          "header"))
            return
        verdict = await self.gatekeeper.decide(authorization, method, target)
        decision = verdict.decision
        if decision is not None and decision.code == Code.BODY_REQUIRED:
            # Only now, for a valid token on a route the policy decides by its body (GraphQL).
            try:
                body = await read_body(receive, MAX_BODY_BYTES)
            except Disconnected:
                return  # the client went away mid-body: no one to answer
            except BodyTooLarge as error:
                await send_json(send, 413, {"allowed": False, "reason": f"denied: {error}"})
                return
            verdict = await self.gatekeeper.decide(authorization, method, target, body or None)
            receive = _replay({"type": "http.request", "body": body, "more_body": False}, receive)
        if verdict.status != 200:
            await _refuse(send, verdict)
            return
        context = ScopesContext(verdict.token, verdict.decision, token_scopes=verdict.scopes)
        await self.app(_with_context(scope, context), receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A handshake is a `GET` of its path: decided before the app may accept it."""
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return  # the client left before the handshake was through
        path = _request_path(scope)
        verdict: Verdict | None = None
        if path is None:
            verdict = _REWRITTEN
        elif self._is_public("GET", path):
            context = ScopesContext(None, None, public=True)
        else:
            try:
                authorization = header(scope, b"authorization")
            except RepeatedHeader as error:
                verdict = deny(400, f"denied: {error}; nothing is guessed from a repeated header")
            else:
                verdict = await self.gatekeeper.decide(
                    authorization, "GET", _with_query(scope, path))
            if verdict.status == 200:
                context = ScopesContext(verdict.token, verdict.decision,
                                        token_scopes=verdict.scopes)
                verdict = None
        if verdict is not None:
            await _refuse_handshake(scope, send, verdict)
            return
        await self.app(_with_context(scope, context), _replay(connect, receive), send)

    def _is_public(self, method: str, path: str) -> bool:
        if (method, path) in self.public:
            return True
        # A percent-encoded spelling of a public path (`/health%7A`) is that path too.
        if "%" not in path or method not in self._public_methods:
            return False
        segments = canonical_segments(path)
        return type(segments) is tuple and (method, segments) in self._public_segments


_REWRITTEN = deny(403, "denied: the request's path is not what its raw path decodes to "
                       "(something in front rewrote it); nothing is guessed")


def _request_path(scope: Scope) -> str | None:
    """The path as sent: `raw_path`, or the decoded `path` re-encoded when there is none;
    None when `path` is not what `raw_path` decodes to (the app would route on another path
    than the one decided)."""
    raw: bytes | None = scope.get("raw_path")
    decoded: str = scope["path"]
    if not raw:
        return quote(decoded, safe=_PATH_SAFE)
    path = raw.decode("latin-1")
    if path != decoded and unquote(path) != decoded:
        return None
    return path


def _with_query(scope: Scope, path: str) -> str:
    query: bytes | None = scope.get("query_string")
    return path + "?" + query.decode("latin-1") if query else path


async def _refuse(send: Send, verdict: Verdict) -> None:
    await send_json(send, verdict.status, verdict.body, verdict.headers)


async def _refuse_handshake(scope: Scope, send: Send, verdict: Verdict) -> None:
    """Refuse a websocket before it is accepted: with the HTTP answer where the server has the
    denial-response extension, else a close with 1008 (policy violation)."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send_json(send, verdict.status, verdict.body, verdict.headers,
                        kind="websocket.http.response")
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": ""})


def _public_pairs(public: Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    """Check each `(METHOD, path)` pair at startup: a typo must not widen or hide a route."""
    if isinstance(public, (str, bytes)):
        raise TypeError("public must be a list of (METHOD, path) pairs, not a string")
    for pair in public:
        if not (isinstance(pair, tuple | list) and len(pair) == 2
                and all(isinstance(part, str) for part in pair)):
            raise TypeError(f"public entries are (METHOD, path) pairs of strings, not {pair!r}")
        method, path = pair
        if not method or not set(method) <= _TCHAR:
            raise ValueError(f"public entry {pair!r}: {method!r} is not an HTTP method")
        if "?" in path:
            raise ValueError(f"public entry {pair!r}: give the path alone; the query is ignored")
        segments = canonical_segments(path)
        if not isinstance(segments, tuple):
            raise ValueError(f"public entry {pair!r}: {segments.message}")
        yield method, path


def _with_context(scope: Scope, context: ScopesContext) -> Scope:
    # A fresh state dict per request: a server that shared one between requests would otherwise
    # show one request's token to another.
    state = scope.get("state")
    scope["state"] = {**state, "scopes": context} if state else {"scopes": context}
    return scope


def _replay(message: Message, receive: Receive) -> Receive:
    """A `receive` that hands the app the message already read, then defers to the server's."""
    pending: list[Message] = [message]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
