"""`scopes serve`: the token endpoints, JWKS and metadata, as a Starlette application.

Backends exchange their client id and secret for an access token (`POST /oauth/token`, RFC 6749
§4.4: HTTP Basic, a form body or a JSON body), then mint narrow, user-scoped tokens for their
front ends (`POST /auth/issue-token`, Courier's shape). Every answer is JSON; no error ever
shows a stack trace; no secret or token is ever logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import unquote_plus

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scopes.duration import parse_duration
from scopes.errors import ScopeSyntaxError, TokenError
from scopes.evaluate import Policy
from scopes.gateway._asgi import ASGIApp, Message, Receive, Scope, Send
from scopes.gateway.check import DecisionLog, Gatekeeper
from scopes.gateway.forward import ForwardAuth
from scopes.model import PrincipalScope, ScopeSet, UnknownScope
from scopes.policy.reloader import PolicyReloader
from scopes.service.errors import (
    BASIC_CHALLENGE,
    BEARER_CHALLENGE,
    NO_STORE,
    AuthenticationError,
    AuthorizationError,
    InvalidClient,
    InvalidRequest,
    InvalidRequestError,
    InvalidScope,
    InvalidTarget,
    NotFound,
    OAuthError,
    RateLimited,
    ServerError,
    TemporarilyUnavailable,
    UnsupportedGrantType,
)
from scopes.service.http import BodyError, read_fields
from scopes.service.ratelimit import RateLimit, RateLimiter
from scopes.store import Client, StoreUnavailable, open_store
from scopes.store.secrets import verify_secret, verify_unknown
from scopes.tokens.cache import TokenVerifier
from scopes.tokens.issue import issue_token
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.keys import KeyRing
from scopes.tokens.verify import VerifiedToken

__all__ = ["CONFIG_ENV", "ServiceConfig", "app_from_environment", "create_app"]

log = logging.getLogger("scopes.service")
CONFIG_ENV = "SCOPES_SERVE_CONFIG"  # how `scopes serve` hands its settings to each worker
MINTED_CLAIM = "minted"  # set on tokens from /auth/issue-token: they cannot mint again


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True)
class ServiceConfig:
    """What `scopes serve` runs with; every field has a working default."""

    db: str = "scopes.db"
    keys: str = "scopes-keys"
    policy_file: str | None = None
    policy_text: str | None = None  # the policy as it loaded at start, should the file break
    issuer: str | None = "http://127.0.0.1:8080"  # --authz-only: None skips the check
    rate_limit: str = "100/s"
    authz_only: bool = False  # only forward-auth and /healthz; no registry, no signing keys
    jwks: str | None = None  # --authz-only: the keys to trust (file or URL)
    audience: str | None = None  # forward-auth: the audience tokens must carry (None: any)
    decision_log: str | None = None  # forward-auth decision log file (None: stderr)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        return cls(**json.loads(text))


class TokenService:
    """The state one server process shares between requests, and the token endpoints.

    Each endpoint is a short sequence of steps; a step that refuses raises the `OAuthError`
    that answers (scopes.service.errors), rendered by the application's one error handler.
    Every request reads the policy in force once, at its start, and decides with it throughout.
    """

    def __init__(self, config: ServiceConfig, reloader: PolicyReloader) -> None:
        if not config.issuer:
            raise ValueError("the token service needs an issuer")
        self.config = config
        self.issuer: str = config.issuer
        self.reloader = reloader
        self.store = open_store(config.db)
        self.ring = KeyRing.open(config.keys)
        # Our own access tokens, checked without leeway: an expired caller cannot mint.
        self.verifier = TokenVerifier(self.ring, audience=None, issuer=self.issuer, leeway=0)
        limit = RateLimit.parse(config.rate_limit)
        self._limits = (RateLimiter(limit), RateLimiter(limit)) if limit else None

    @property
    def policy(self) -> Policy:
        return self.reloader.current()

    # -- POST /oauth/token ---------------------------------------------------------------------

    async def oauth_token(self, request: Request) -> Response:
        """RFC 6749 §4.4: authenticate the client, check the grant, narrow the scope, pick the
        audience, sign."""
        basic = _basic_credentials(request.headers.get("authorization"))
        fields = await _token_request(request)
        client_id, secret = _client_credentials(basic, fields)
        self._rate_limit(request, client_id)
        _check_grant(fields.get("grant_type"))
        client = await self._authenticate(client_id, secret, basic=basic is not None)
        request.state.client_id = client.client_id
        granted = _narrowed(self.policy, client, fields.get("scope"))
        audience = self._audience(client, fields.get("audience"))
        lifetime = min(client.lifetime, client.max_lifetime)
        token = issue_token(self.ring, issuer=self.issuer, subject=client.client_id,
                            audience=audience, client_id=client.client_id, scope=str(granted),
                            lifetime=lifetime)
        return JSONResponse({"access_token": token, "token_type": "Bearer",
                             "expires_in": lifetime, "scope": str(granted)}, headers=NO_STORE)

    async def _authenticate(self, client_id: str, secret: str, *, basic: bool) -> Client:
        """The registered, active client whose secret this is; else 401 invalid_client.

        Unknown, revoked and wrong secret look alike and take the same time."""
        client = await self._client(client_id)
        if client is None:
            await run_in_threadpool(verify_unknown, secret)
        elif await run_in_threadpool(verify_secret, secret, client.secret_hash):
            if not client.revoked:
                return client
        raise InvalidClient("client authentication failed",
                            headers=BASIC_CHALLENGE if basic else None)

    def _audience(self, client: Client, requested: str | None) -> str:
        """The audience asked for, or the client's first, else the issuer (RFC 8707)."""
        audiences = client.audiences
        audience = requested or (audiences[0] if audiences else self.issuer)
        if audience in audiences or (not audiences and audience == self.issuer):
            return audience
        raise InvalidTarget("audience not allowed for this client (RFC 8707)")

    # -- POST /auth/issue-token ----------------------------------------------------------------

    async def issue_token(self, request: Request) -> Response:
        """Courier's issue-token: the caller's bearer token, its client, the requested scope and
        lifetime, the caller's coverage of it and the users it may mint for, then sign."""
        caller = self._caller(request.headers.get("authorization"))
        request.state.client_id = caller.client_id
        self._rate_limit(request, caller.client_id)
        if caller.claims.get(MINTED_CLAIM):
            raise AuthorizationError("a minted token cannot mint tokens; use the access token "
                                     "from /oauth/token")
        fields = await _mint_request(request)
        client = await self._client(caller.client_id)
        if client is None or client.revoked:
            raise AuthenticationError("the client behind this token is revoked")
        policy = self.policy
        wanted = _requested_scope(policy, fields.get("scope"))
        lifetime = _lifetime(fields.get("expires_in"), client, caller.expires_at)
        # The caller's scope text means what the policy in force says now (not at start).
        held = policy.parse(caller.scope)
        _check_coverage(held, wanted)
        if not client.any_user:
            _check_principals(held, wanted, policy.catalogue.principal)
        token = issue_token(self.ring, issuer=self.issuer, subject=caller.subject,
                            audience=list(caller.audiences), client_id=client.client_id,
                            scope=str(wanted), lifetime=lifetime,
                            extra_claims={MINTED_CLAIM: True})
        return JSONResponse({"token": token}, headers=NO_STORE)

    def _caller(self, authorization: str | None) -> VerifiedToken:
        """The caller's verified access token (RFC 6750 §2.1); else 401 with its challenge."""
        scheme, _, bearer = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise AuthenticationError("missing bearer token: send Authorization: Bearer <access "
                                      "token from /oauth/token>", headers=BEARER_CHALLENGE)
        try:
            return self.verifier.verify(bearer.strip())
        except TokenError as error:
            raise AuthenticationError(f"invalid token: {error}") from None

    # -- shared steps --------------------------------------------------------------------------

    async def _client(self, client_id: str) -> Client | None:
        """The registered client (revoked or not); StoreUnavailable answers 503."""
        return await run_in_threadpool(self.store.get, client_id)

    def _rate_limit(self, request: Request, client_id: str) -> None:
        """Per address, then per client; 429 with Retry-After when either is spent."""
        if self._limits is None:
            return
        by_address, by_client = self._limits
        address = request.client.host if request.client else "unknown"
        wait = by_address.check(address) or by_client.check(client_id)
        if wait:
            raise RateLimited(wait)

    # -- discovery -----------------------------------------------------------------------------

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.ring.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def metadata(self, request: Request) -> Response:
        issuer = self.issuer.rstrip("/")
        catalogue = self.policy.catalogue
        return JSONResponse({
            "issuer": self.issuer,
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(catalogue.specs) + [f"{catalogue.principal}:<id>"],
            "response_types_supported": ["token"],
        })

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})


# -- the steps that need no state ----------------------------------------------------------------

_TOKEN_FIELDS = ("grant_type", "client_id", "client_secret", "scope", "audience")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(id, secret) from `Authorization: Basic`, each form-urlencoded (RFC 6749 §2.3.1); None
    when the request uses no Basic credentials; 401 invalid_client when they are malformed."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        raise InvalidClient("malformed HTTP Basic credentials", headers=BASIC_CHALLENGE)
    return unquote_plus(client_id), unquote_plus(secret)


async def _token_request(request: Request) -> dict[str, str]:
    """The token request's fields (form or JSON), each a string."""
    try:
        fields, _ = await read_fields(request)
    except BodyError as error:
        raise InvalidRequest(error.message, status_code=error.status) from None
    for name in _TOKEN_FIELDS:
        if name in fields and not isinstance(fields[name], str):
            raise InvalidRequest(f"{name!r} must be a string")
    return {name: fields[name] for name in _TOKEN_FIELDS if name in fields}


def _client_credentials(basic: tuple[str, str] | None, fields: dict[str, str]) -> tuple[str, str]:
    """(client id, secret) by exactly one method: HTTP Basic, or both in the body."""
    if basic is not None:
        if "client_secret" in fields:
            raise InvalidRequest("use exactly one client authentication method: HTTP Basic, or "
                                 "client_id and client_secret in the body, not both")
        if fields.get("client_id", basic[0]) != basic[0]:
            raise InvalidRequest("client_id differs from the Basic credentials")
        return basic
    client_id, secret = fields.get("client_id"), fields.get("client_secret")
    if not client_id or not secret:
        raise InvalidRequest("authenticate the client: HTTP Basic, or client_id and "
                             "client_secret in the body")
    return client_id, secret


def _check_grant(grant_type: str | None) -> None:
    if not grant_type:
        raise InvalidRequest("missing 'grant_type'; use client_credentials")
    if grant_type != "client_credentials":
        raise UnsupportedGrantType("only grant_type=client_credentials is supported")


def _narrowed(policy: Policy, client: Client, requested: str | None) -> ScopeSet:
    """The client's scope, or the part of it asked for (RFC 6749 §3.3: ask for less)."""
    allowed = policy.parse(client.scope)
    if requested is None or not requested.strip():
        return allowed
    try:
        granted = policy.parse(requested)
    except ScopeSyntaxError as error:
        raise InvalidScope(f"malformed scope: {error.message}") from None
    if not allowed.covers(granted):
        raise InvalidScope("the requested scope exceeds the client's scope")
    return granted


async def _mint_request(request: Request) -> dict[str, Any]:
    """The issue-token request's JSON object."""
    try:
        fields, is_json = await read_fields(request)
    except BodyError as error:
        raise InvalidRequestError(error.message) from None
    if not is_json:
        raise InvalidRequestError('send a JSON body: {"scope": "...", "expires_in": ...}')
    return fields


def _requested_scope(policy: Policy, value: object) -> ScopeSet:
    """The scope the new token carries: well-formed, known, principals where needed, and
    something beside the principals."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError("missing 'scope': the scopes the new token carries")
    try:
        wanted = policy.parse(value)
    except ScopeSyntaxError as error:
        raise InvalidRequestError(f"malformed scope: {error.message} (at offset "
                                  f"{error.position})") from None
    catalogue = policy.catalogue
    for scope in wanted:
        if type(scope) is UnknownScope:
            raise InvalidRequestError(catalogue.unknown(scope.text).message)
    needs = [str(s) for s in wanted if (spec := catalogue.spec_of(s)) and spec.needs_principal]
    if needs and not wanted.user_ids:
        raise InvalidRequestError(f"{' '.join(needs)} must be combined with a "
                                  f"{catalogue.principal}:<id> scope")
    if all(type(s) is PrincipalScope for s in wanted):
        raise InvalidRequestError(f"{catalogue.principal} scopes alone grant nothing; add the "
                                  "permissions")
    return wanted


def _lifetime(value: object, client: Client, caller_expires: float) -> float:
    """Seconds the minted token lives: `expires_in` (default: the client's lifetime), shortened
    to the client's maximum and to what is left of the caller's token, never refused for being
    long; 400 for one that is not a duration of a second or more; 401 when the caller's token
    ran out while it was being checked."""
    if value is None:
        seconds = float(client.lifetime)
    else:
        try:
            # Any JSON value: parse_duration refuses every type but str, int and float with a
            # ValueError naming it (its docstring), and that message is the one to show.
            seconds = parse_duration(value).total_seconds()  # type: ignore[arg-type]
        except ValueError as error:
            raise InvalidRequestError(f"invalid expires_in: {error}") from None
        if seconds < 1:
            hint = ""
            if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
                hint = (f"; {value!r} means {value} milliseconds: did you mean "
                        f"\"{value}s\" or the number {value}?")
            raise InvalidRequestError(f"expires_in must be at least one second{hint}")
    remaining = caller_expires - time.time()
    if remaining <= 0:
        raise AuthenticationError("invalid token: the token has expired")
    return min(seconds, float(client.max_lifetime), remaining)


def _check_coverage(held: ScopeSet, wanted: ScopeSet) -> None:
    """The caller's token grants every permission asked for (principals are checked apart)."""
    permissions = ScopeSet(s for s in wanted if type(s) is not PrincipalScope)
    granting = ScopeSet(s for s in held if type(s) is not PrincipalScope)
    if not granting.covers(permissions):
        missing = " ".join(str(s) for s in permissions if not granting.covers(ScopeSet([s])))
        raise AuthorizationError(f"the caller's token does not grant {missing}")


def _check_principals(held: ScopeSet, wanted: ScopeSet, principal: str) -> None:
    """A client without --any-user mints only for the users its own token names."""
    foreign = sorted(wanted.user_ids - held.user_ids)
    if foreign:
        raise AuthorizationError(f"this client may not mint tokens for {principal} "
                                 f"{', '.join(foreign)}")


def create_app(config: ServiceConfig) -> ASGIApp:
    """The ASGI application for `scopes serve` (or `--authz-only`)."""
    reloader = PolicyReloader(config.policy_file, last_good=config.policy_text)
    try:
        reloader.reload_on_sighup()
    except ValueError:  # not the main thread (an embedding server): file changes still reload
        pass
    decisions = DecisionLog.open(config.decision_log)
    if config.authz_only:
        verifier = TokenVerifier(PublicKeys.load(config.jwks), audience=config.audience,
                                 issuer=config.issuer)
        return ForwardAuth(Gatekeeper(reloader, verifier, decisions))
    service = TokenService(config, reloader)
    routes = [
        Route("/oauth/token", service.oauth_token, methods=["POST"]),
        Route("/auth/issue-token", service.issue_token, methods=["POST"]),
        Route("/.well-known/jwks.json", service.jwks, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", service.metadata, methods=["GET"]),
        Route("/healthz", service.healthz, methods=["GET"]),
    ]
    # One renderer for every error; `Exception` is Starlette's last resort (it logs the bug).
    handlers = {OAuthError: _answer_error, StoreUnavailable: _answer_error,
                HTTPException: _answer_error, Exception: _answer_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    verifier = TokenVerifier(service.ring, audience=config.audience, issuer=config.issuer)
    return ForwardAuth(Gatekeeper(reloader, verifier, decisions), fallback=AccessLog(app))


def app_from_environment() -> ASGIApp:
    """The factory uvicorn's workers call: settings come from `scopes serve` by environment."""
    configure_logging()
    return create_app(ServiceConfig.from_json(os.environ[CONFIG_ENV]))


async def _answer_error(request: Request, error: Exception) -> Response:
    """The one place an error becomes an answer: its status, its body, its headers."""
    answer = _as_oauth_error(request, error)
    return JSONResponse(answer.body(), status_code=answer.status_code, headers=answer.headers())


def _as_oauth_error(request: Request, error: Exception) -> OAuthError:
    if isinstance(error, OAuthError):
        return error
    if isinstance(error, StoreUnavailable):
        return TemporarilyUnavailable()
    if isinstance(error, HTTPException):  # Starlette's routing: no such route, or method
        kind = NotFound if error.status_code == 404 else InvalidRequest
        return kind(str(error.detail), status_code=error.status_code, headers=error.headers)
    log.error(json.dumps({"event": "error", "path": request.url.path,
                          "error": type(error).__name__}))
    return ServerError()


class AccessLog:
    """One JSON line per request: method, path (no query), status, client id, latency.

    Never the query string, a body, a header value, a secret or a token.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            state = scope.get("state") or {}
            log.info(json.dumps({
                "time": round(time.time(), 3),
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "client_id": state.get("client_id"),
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            }))


def configure_logging() -> None:
    """JSON lines on stderr, no tracebacks for handled errors."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("scopes")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False

