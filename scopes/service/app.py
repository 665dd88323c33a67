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
from typing import Any
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
from scopes.model import PrincipalScope, ScopeSet, UnknownScope
from scopes.policy.reloader import PolicyReloader
from scopes.gateway.check import DecisionLog, Gatekeeper
from scopes.gateway.forward import ForwardAuth
from scopes.service.http import NO_STORE, BodyError, read_fields
from scopes.service.ratelimit import RateLimit, RateLimiter
from scopes.store import StoreUnavailable, open_store
from scopes.store.secrets import verify_secret, verify_unknown
from scopes.tokens.cache import TokenVerifier
from scopes.tokens.issue import issue_token
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.keys import KeyRing

__all__ = ["CONFIG_ENV", "ServiceConfig", "app_from_environment", "create_app"]

log = logging.getLogger("scopes.service")
RETRY_AFTER_UNAVAILABLE = "2"
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


def oauth_error(error: str, description: str, status: int = 400, headers=None) -> JSONResponse:
    """RFC 6749 §5.2 error body."""
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def courier_error(message: str, status: int, kind: str, headers=None) -> JSONResponse:
    """Courier's error body for /auth/issue-token."""
    return JSONResponse({"message": message, "type": kind}, status_code=status,
                        headers={**NO_STORE, **(headers or {})})


def unavailable() -> JSONResponse:
    return JSONResponse(
        {"error": "temporarily_unavailable",
         "error_description": "the client registry cannot be reached; retry shortly"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_UNAVAILABLE, **NO_STORE},
    )


class TokenService:
    """The state one server process shares between requests."""

    def __init__(self, config: ServiceConfig, reloader: PolicyReloader) -> None:
        self.config = config
        self.reloader = reloader
        self.store = open_store(config.db)
        self.ring = KeyRing.open(config.keys)
        # Our own access tokens, checked without leeway: an expired caller cannot mint.
        self.verifier = TokenVerifier(self.ring, audience=None, issuer=config.issuer, leeway=0)
        limit = RateLimit.parse(config.rate_limit)
        self.by_client = RateLimiter(limit) if limit else None
        self.by_address = RateLimiter(limit) if limit else None

    @property
    def policy(self) -> Policy:
        return self.reloader.current()

    # -- rate limits ---------------------------------------------------------------------------

    def limited(self, request: Request, client_id: str | None) -> Response | None:
        if self.by_address is None:
            return None
        address = request.client.host if request.client else "unknown"
        wait = self.by_address.check(address)
        if not wait and client_id is not None:
            wait = self.by_client.check(client_id)
        if wait:
            return JSONResponse(
                {"error": "rate_limited", "error_description": "too many requests; slow down"},
                status_code=429,
                headers={"Retry-After": str(wait), **NO_STORE},
            )
        return None

    # -- POST /oauth/token ---------------------------------------------------------------------

    async def oauth_token(self, request: Request) -> Response:
        basic = _basic_credentials(request.headers.get("authorization"))
        if basic is False:
            return oauth_error("invalid_client", "malformed HTTP Basic credentials", 401,
                               {"WWW-Authenticate": 'Basic realm="scopes"'})
        try:
            fields, _ = await read_fields(request)
        except BodyError as error:
            return oauth_error("invalid_request", error.message, error.status)
        for name in ("grant_type", "client_id", "client_secret", "scope", "audience"):
            if name in fields and not isinstance(fields[name], str):
                return oauth_error("invalid_request", f"{name!r} must be a string")
        if basic is not None:
            if "client_secret" in fields:
                return oauth_error(
                    "invalid_request", "use exactly one client authentication method: HTTP "
                    "Basic, or client_id and client_secret in the body, not both"
                )
            client_id, secret = basic
            if fields.get("client_id", client_id) != client_id:
                return oauth_error("invalid_request", "client_id differs from the Basic credentials")
        else:
            client_id, secret = fields.get("client_id"), fields.get("client_secret")
            if not client_id or not secret:
                return oauth_error("invalid_request", "authenticate the client: HTTP Basic, or "
                                   "client_id and client_secret in the body")
        limited = self.limited(request, client_id)
        if limited is not None:
            return limited
        grant_type = fields.get("grant_type")
        if not grant_type:
            return oauth_error("invalid_request", "missing 'grant_type'; use client_credentials")
        if grant_type != "client_credentials":
            return oauth_error("unsupported_grant_type",
                               "only grant_type=client_credentials is supported")
        try:
            client = await run_in_threadpool(self.store.get, client_id)
        except StoreUnavailable:
            return unavailable()
        # Unknown, revoked and wrong secret look alike and take the same time.
        if client is None:
            await run_in_threadpool(verify_unknown, secret)
            ok = False
        else:
            ok = await run_in_threadpool(verify_secret, secret, client.secret_hash)
            ok = ok and not client.revoked
        if not ok:
            headers = {"WWW-Authenticate": 'Basic realm="scopes"'} if basic is not None else None
            return oauth_error("invalid_client", "client authentication failed", 401, headers)
        request.state.client_id = client.client_id
        allowed = self.policy.parse(client.scope)
        requested = fields.get("scope")
        if requested is None or not requested.strip():
            granted = allowed
        else:
            try:
                granted = self.policy.parse(requested)
            except ScopeSyntaxError as error:
                return oauth_error("invalid_scope", f"malformed scope: {error.message}")
            if not allowed.covers(granted):
                return oauth_error("invalid_scope", "the requested scope exceeds the client's scope")
        audiences = list(client.audiences)
        audience = fields.get("audience") or (audiences[0] if audiences else self.config.issuer)
        if audience not in audiences and not (not audiences and audience == self.config.issuer):
            return oauth_error("invalid_target", "audience not allowed for this client (RFC 8707)")
        lifetime = min(client.lifetime, client.max_lifetime)
        token = issue_token(
            self.ring, issuer=self.config.issuer, subject=client.client_id,
            audience=audience, client_id=client.client_id, scope=str(granted), lifetime=lifetime,
        )
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": int(lifetime),
             "scope": str(granted)},
            headers=NO_STORE,
        )

    # -- POST /auth/issue-token ----------------------------------------------------------------

    async def issue_token(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, bearer = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="scopes", error="invalid_token"'}
        if scheme.lower() != "bearer" or not bearer.strip():
            return courier_error("missing bearer token: send Authorization: Bearer <access "
                                 "token from /oauth/token>", 401, "authentication_error",
                                 {"WWW-Authenticate": 'Bearer realm="scopes"'})
        try:
            caller = self.verifier.verify(bearer.strip())
        except TokenError as error:
            return courier_error(f"invalid token: {error}", 401, "authentication_error", challenge)
        request.state.client_id = caller.client_id
        limited = self.limited(request, caller.client_id)
        if limited is not None:
            return limited
        if caller.claims.get(MINTED_CLAIM):
            return courier_error("a minted token cannot mint tokens; use the access token from "
                                 "/oauth/token", 403, "authorization_error")
        try:
            fields, is_json = await read_fields(request)
        except BodyError as error:
            return courier_error(error.message, 400, "invalid_request_error")
        if not is_json:
            return courier_error("send a JSON body: {\"scope\": \"...\", \"expires_in\": ...}",
                                 400, "invalid_request_error")
        try:
            client = await run_in_threadpool(self.store.get, caller.client_id)
        except StoreUnavailable:
            return unavailable()
        if client is None or client.revoked:
            return courier_error("the client behind this token is revoked", 401,
                                 "authentication_error", challenge)
        scope = fields.get("scope")
        if not isinstance(scope, str) or not scope.strip():
            return courier_error("missing 'scope': the scopes the new token carries", 400,
                                 "invalid_request_error")
        try:
            wanted = self.policy.parse(scope)
        except ScopeSyntaxError as error:
            return courier_error(f"malformed scope: {error.message} (at offset "
                                 f"{error.position})", 400, "invalid_request_error")
        problem = self._scope_problem(wanted)
        if problem:
            return courier_error(problem, 400, "invalid_request_error")
        lifetime = self._lifetime(fields.get("expires_in", None), client, caller.expires_at)
        if isinstance(lifetime, str):
            return courier_error(lifetime, 400, "invalid_request_error")
        if lifetime <= 0:  # the caller's token ran out while we were checking it
            return courier_error("invalid token: the token has expired", 401,
                                 "authentication_error", challenge)
        # The caller's scope text means what the policy in force now says (not at start).
        caller_scopes = self.policy.parse(caller.scope)
        permissions = ScopeSet(s for s in wanted if type(s) is not PrincipalScope)
        held = ScopeSet(s for s in caller_scopes if type(s) is not PrincipalScope)
        if not held.covers(permissions):
            missing = " ".join(str(s) for s in permissions if not held.covers(ScopeSet([s])))
            return courier_error(f"the caller's token does not grant {missing}", 403,
                                 "authorization_error")
        if not client.any_user:
            foreign = sorted(wanted.user_ids - caller_scopes.user_ids)
            if foreign:
                return courier_error(
                    f"this client may not mint tokens for user_id {', '.join(foreign)}", 403,
                    "authorization_error",
                )
        token = issue_token(
            self.ring, issuer=self.config.issuer, subject=caller.subject,
            audience=list(caller.audiences), client_id=client.client_id, scope=str(wanted),
            lifetime=lifetime, extra_claims={MINTED_CLAIM: True},
        )
        return JSONResponse({"token": token}, headers=NO_STORE)

    def _scope_problem(self, wanted: ScopeSet) -> str | None:
        catalogue = self.policy.catalogue
        for scope in wanted:
            if type(scope) is UnknownScope:
                hint = catalogue.suggest(scope.text)
                return f"unknown scope {scope.text!r}" + (f"; did you mean {hint!r}?" if hint else "")
        needs = [str(s) for s in wanted if (spec := catalogue.spec_of(s)) and spec.needs_principal]
        if needs and not wanted.user_ids:
            return (f"{' '.join(needs)} must be combined with a {catalogue.principal}:<id> scope")
        if not any(type(s) is not PrincipalScope for s in wanted):
            return f"{catalogue.principal} scopes alone grant nothing; add the permissions"
        return None

    def _lifetime(self, value: object, client, caller_expires: float) -> float | str:
        """Seconds the minted token lives, or a message saying why the request is wrong."""
        if value is None:
            seconds = float(client.lifetime)
        else:
            try:
                seconds = parse_duration(value).total_seconds()
            except ValueError as error:
                return f"invalid expires_in: {error}"
            if seconds < 1:
                hint = ""
                if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
                    hint = (f"; {value!r} means {value} milliseconds: did you mean "
                            f"\"{value}s\" or the number {value}?")
                return f"expires_in must be at least one second{hint}"
        remaining = caller_expires - time.time()
        return max(0.0, min(seconds, float(client.max_lifetime), remaining))

    # -- discovery -----------------------------------------------------------------------------

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.ring.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def metadata(self, request: Request) -> Response:
        issuer = self.config.issuer.rstrip("/")
        catalogue = self.policy.catalogue
        return JSONResponse({
            "issuer": self.config.issuer,
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(catalogue.specs) + [f"{catalogue.principal}:<id>"],
            "response_types_supported": ["token"],
        })

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})


def _basic_credentials(header: str | None) -> tuple[str, str] | None | bool:
    """(id, secret) from `Authorization: Basic`, each form-urlencoded (RFC 6749 §2.3.1);
    None when absent; False when malformed."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        return False
    return unquote_plus(client_id), unquote_plus(secret)


def create_app(config: ServiceConfig):
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
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.service = service
    verifier = TokenVerifier(service.ring, audience=config.audience, issuer=config.issuer)
    return ForwardAuth(Gatekeeper(reloader, verifier, decisions), fallback=AccessLog(app))


def app_from_environment():
    """The factory uvicorn's workers call: settings come from `scopes serve` by environment."""
    configure_logging()
    return create_app(ServiceConfig.from_json(os.environ[CONFIG_ENV]))


async def _http_error(request: Request, error: HTTPException) -> Response:
    return JSONResponse({"error": "not_found" if error.status_code == 404 else "invalid_request",
                         "error_description": str(error.detail)}, status_code=error.status_code,
                        headers=getattr(error, "headers", None))


async def _server_error(request: Request, error: Exception) -> Response:
    if isinstance(error, StoreUnavailable):
        return unavailable()
    log.error(json.dumps({"event": "error", "path": request.url.path,
                          "error": type(error).__name__}))
    return JSONResponse({"error": "server_error", "error_description": "internal error"},
                        status_code=500)


class AccessLog:
    """One JSON line per request: method, path (no query), status, client id, latency.

    Never the query string, a body, a header value, a secret or a token.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message) -> None:
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

