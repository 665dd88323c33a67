"""The token service's error answers: one exception type that carries its status, body and headers.

Each step of an endpoint raises the error that answers the request (Authlib's `OAuth2Error` is
the model: `error`, `description`, `status_code`, extra headers); the application renders every
one in one place. `/oauth/token` answers RFC 6749 §5.2 bodies, `{"error", "error_description"}`;
`/auth/issue-token` answers Courier's `{"message", "type"}` through `CourierError`, the same
type with its own body. Every error answer is `Cache-Control: no-store` (RFC 6749 §5.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BASIC_CHALLENGE",
    "BEARER_CHALLENGE",
    "CourierError",
    "INVALID_TOKEN_CHALLENGE",
    "InvalidClient",
    "InvalidRequest",
    "InvalidRequestError",
    "InvalidScope",
    "InvalidTarget",
    "NO_STORE",
    "NotFound",
    "OAuthError",
    "RateLimited",
    "ServerError",
    "TemporarilyUnavailable",
    "UnsupportedGrantType",
]

NO_STORE: Mapping[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE: Mapping[str, str] = {"WWW-Authenticate": 'Basic realm="scopes"'}
BEARER_CHALLENGE: Mapping[str, str] = {"WWW-Authenticate": 'Bearer realm="scopes"'}
INVALID_TOKEN_CHALLENGE: Mapping[str, str] = {
    "WWW-Authenticate": 'Bearer realm="scopes", error="invalid_token"'
}
RETRY_AFTER_UNAVAILABLE = 2  # seconds: the registry is usually back within a few


def __dir__() -> list[str]:
    return __all__


class OAuthError(Exception):
    """An error answer: `status_code`, the body `body()`, the headers `headers()`.

    Subclasses name the `error` code and its usual status; `status_code=` overrides the status
    for one answer (a 413 `invalid_request`), `headers=` adds headers (a challenge).
    """

    error: ClassVar[str] = "invalid_request"
    default_status: ClassVar[int] = 400
    default_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, description: str, *, status_code: int | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.status_code = self.default_status if status_code is None else status_code
        self.extra_headers: Mapping[str, str] = (
            self.default_headers if headers is None else headers
        )

    def __str__(self) -> str:
        return f"{self.status_code} {self.error}: {self.description}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r}, status_code={self.status_code})"

    def body(self) -> dict[str, Any]:
        """RFC 6749 §5.2."""
        return {"error": self.error, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        return {**NO_STORE, **self.extra_headers}


class InvalidRequest(OAuthError):
    """A missing or repeated field, two authentication methods, a body we will not read."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Unknown client, wrong secret, revoked client: alike on purpose (and in time)."""

    error = "invalid_client"
    default_status = 401


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """A malformed scope, or more than the client may ask for."""

    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """An audience the client may not ask for (RFC 8707)."""

    error = "invalid_target"


class NotFound(OAuthError):
    error = "not_found"
    default_status = 404


class RateLimited(OAuthError):
    """Too many requests from one client or address: 429 with the seconds to wait."""

    error = "rate_limited"
    default_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests; slow down",
                         headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class TemporarilyUnavailable(OAuthError):
    """The client registry cannot be reached: 503 with Retry-After, never a hang or a 500."""

    error = "temporarily_unavailable"
    default_status = 503
    default_headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}

    def __init__(self, description: str = "the client registry cannot be reached; retry shortly"
                 ) -> None:
        super().__init__(description)


class ServerError(OAuthError):
    """A bug of ours: the answer says nothing about it (the log names the exception type)."""

    error = "server_error"
    default_status = 500

    def __init__(self) -> None:
        super().__init__("internal error")


class CourierError(OAuthError):
    """An error of `/auth/issue-token`, in Courier's shape: `{"message", "type"}`."""

    kind: ClassVar[str] = "invalid_request_error"  # the body's "type"

    def body(self) -> dict[str, Any]:
        return {"message": self.description, "type": self.kind}


class InvalidRequestError(CourierError):
    """400: a missing, malformed or unknown scope, a bad `expires_in`, a body that is not JSON."""

    error = "invalid_request"
    kind = "invalid_request_error"


class AuthenticationError(CourierError):
    """401: no bearer token, or one that is malformed, expired, foreign or of a revoked client.

    The challenge is RFC 6750's `invalid_token` one unless given (a missing token gets the bare
    `Bearer realm="scopes"`, §3.1).
    """

    error = "invalid_token"
    kind = "authentication_error"
    default_status = 401
    default_headers = INVALID_TOKEN_CHALLENGE


class AuthorizationError(CourierError):
    """403: more than the caller's token grants, a user it may not mint for, a minted caller."""

    error = "insufficient_scope"
    kind = "authorization_error"
    default_status = 403
