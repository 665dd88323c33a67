"""ScopesMiddleware: the gateway's check in front of a Starlette or FastAPI app (any ASGI app).

Every HTTP request needs a bearer token and an allow from the policy, except the `(METHOD, path)`
pairs listed in `public`; nothing is public by omission. The statuses, challenges and JSON bodies
are DESIGN.md's "Gateway contract", answered by the same `Gatekeeper` as forward-auth. Allowed
requests reach the app with a `ScopesContext` in `scope["state"]["scopes"]` (Starlette:
`request.state.scopes`; FastAPI: `scopes.fastapi.Scopes`). Lifespan and websocket scopes pass
through unchanged: a websocket is not checked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scopes.decision import Code, Decision
from scopes.errors import TokenError
from scopes.evaluate import Policy
from scopes.gateway._asgi import (
    ASGIApp,
    BodyTooLarge,
    Disconnected,
    Message,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    send_json,
)
from scopes.gateway.check import Gatekeeper
from scopes.model import ScopeSet
from scopes.paths import canonical_segments
from scopes.policy.reloader import PolicyReloader
from scopes.tokens.cache import TokenVerifier
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.verify import VerifiedToken

if TYPE_CHECKING:
    from scopes.tokens._jose import KeySet, VerificationKey

__all__ = ["MAX_BODY_BYTES", "ScopesContext", "ScopesMiddleware"]

MAX_BODY_BYTES = 64 * 1024  # a body-decided route with a larger body is refused unread (413)

_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})
KEYS_CHECK_SECONDS = 1.0  # a JWKS URL's keys are looked at (in a worker thread) this often
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
    """Token first, then the policy, before the app sees a request.

    `policy`: a `scopes.Policy`, or a `PolicyReloader` (reloaded when its file changes).
    `jwks`: the keys tokens are signed with: a JWKS dict, a file path or an http(s) URL.
    `audience`, `issuer`: compared with `aud` and `iss` when given (give both in production).
    `public`: `(METHOD, path)` pairs that pass without a token: the exact method and the exact
    canonical path (no patterns, no prefixes; the query is ignored). A public request is not
    checked at all, so a bad token on it does not matter.

    The target decided is the request's raw path (`scope["raw_path"]`, as sent, not the decoded
    `scope["path"]`) plus its query, canonicalized as `Policy.authorize` does. Routes decided by
    their body (GraphQL) have it read, up to MAX_BODY_BYTES, and replayed to the app.
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
        # not stall the event loop, so such keys are only ever looked at from a worker thread.
        self._keys = _LoopKeys(keys) if getattr(keys, "url", None) is not None else None
        if self._keys is not None:
            keys = self._keys
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
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else quote(scope["path"], safe=_PATH_SAFE)
        if (method, path) in self.public or (
            "%" in path and method in self._public_methods and self._is_public(method, path)
        ):
            await self.app(_with_context(scope, ScopesContext(None, None, public=True)), receive, send)
            return
        query = scope.get("query_string")
        target = path + "?" + query.decode("latin-1") if query else path
        authorization = header(scope, b"authorization")
        keys = self._keys
        if keys is not None and keys.due():
            await keys.catch_up()
        verdict = self.gatekeeper.check(authorization, method, target, None)
        if keys is not None and verdict.status == 401 and keys.missed():
            # The token names a kid we do not have (a key rotation): fetch, then decide again.
            await keys.catch_up()
            verdict = self.gatekeeper.check(authorization, method, target, None)
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
            verdict = self.gatekeeper.check(authorization, method, target, body or None)
            receive = _replay(body, receive)
        if verdict.status != 200:
            await send_json(send, verdict.status, verdict.body, verdict.headers)
            return
        context = ScopesContext(verdict.token, verdict.decision, token_scopes=verdict.scopes)
        await self.app(_with_context(scope, context), receive, send)

    def _is_public(self, method: str, path: str) -> bool:
        """A percent-encoded spelling of a public path (`/health%7A`) is that path too."""
        segments = canonical_segments(path)
        return type(segments) is tuple and (method, segments) in self._public_segments


class _LoopKeys(PublicKeys):
    """A JWKS URL's keys as the event loop sees them: what was fetched, never a fetch.

    The loop's verifications read the last key set; `catch_up`, awaited by the middleware when
    `due` (at most once a KEYS_CHECK_SECONDS, or when a token named an unknown kid), lets the
    URL's own keys refresh in a worker thread as they would inline: after their cache lifetime,
    and on an unknown kid at most once a minute.
    """

    def __init__(self, remote: PublicKeys) -> None:
        self.remote = remote
        self.source = remote.source
        self.skipped = ()
        self._latest: KeySet | None = None
        self._checked = float("-inf")  # time.monotonic() of the last catch-up
        self._unknown: str | None = None  # a kid a token named that the set does not have
        self._error = f"no keys to verify with yet from {self.source}"

    def key_set(self) -> KeySet:
        current = self._latest
        if current is None:
            raise TokenError(self._error, reason="keys-unavailable")
        return current

    def get(self, kid: str) -> VerificationKey | None:
        key = self.key_set().by_kid.get(kid)
        if key is None:
            self._unknown = kid
        return key

    def refresh(self) -> bool:
        changed = self.remote.refresh()
        self._latest = self.remote.key_set()
        return changed

    def due(self) -> bool:
        return self._latest is None or time.monotonic() - self._checked >= KEYS_CHECK_SECONDS

    def missed(self) -> bool:
        return self._unknown is not None

    async def catch_up(self) -> None:
        from anyio import to_thread  # Starlette's own dependency; only JWKS URLs need it

        self._checked = time.monotonic()
        await to_thread.run_sync(self._sync)

    def _sync(self) -> None:
        unknown, self._unknown = self._unknown, None
        try:
            if unknown is not None:
                self.remote.get(unknown)  # fetches unless the URL fetched for a kid lately
            self._latest = self.remote.key_set()
        except TokenError as error:  # never fetched: verifications say why, as the URL's keys do
            self._error = str(error)


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


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then defers to the server's."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
