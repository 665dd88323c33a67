"""The token service's error type: each error carries its status, its body and its headers."""

from __future__ import annotations

import pytest

from scopes.service import errors
from scopes.service.errors import (
    AuthenticationError,
    AuthorizationError,
    BEARER_CHALLENGE,
    InvalidClient,
    InvalidRequest,
    InvalidRequestError,
    OAuthError,
    RateLimited,
    TemporarilyUnavailable,
)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@pytest.mark.parametrize(("error", "status", "body", "headers"), [
    pytest.param(InvalidRequest("missing 'grant_type'"), 400,
                 {"error": "invalid_request", "error_description": "missing 'grant_type'"}, {},
                 id="oauth-400"),
    pytest.param(InvalidRequest("request body larger than 16384 bytes", status_code=413), 413,
                 {"error": "invalid_request",
                  "error_description": "request body larger than 16384 bytes"}, {},
                 id="status-for-one-answer"),
    pytest.param(InvalidClient("client authentication failed",
                               headers={"WWW-Authenticate": 'Basic realm="scopes"'}), 401,
                 {"error": "invalid_client", "error_description": "client authentication failed"},
                 {"WWW-Authenticate": 'Basic realm="scopes"'}, id="basic-challenge"),
    pytest.param(RateLimited(7), 429,
                 {"error": "rate_limited", "error_description": "too many requests; slow down"},
                 {"Retry-After": "7"}, id="rate-limited"),
    pytest.param(TemporarilyUnavailable(), 503,
                 {"error": "temporarily_unavailable",
                  "error_description": "the client registry cannot be reached; retry shortly"},
                 {"Retry-After": "2"}, id="unavailable"),
    pytest.param(InvalidRequestError("missing 'scope'"), 400,
                 {"message": "missing 'scope'", "type": "invalid_request_error"}, {},
                 id="courier-400"),
    pytest.param(AuthenticationError("invalid token: expired"), 401,
                 {"message": "invalid token: expired", "type": "authentication_error"},
                 {"WWW-Authenticate": 'Bearer realm="scopes", error="invalid_token"'},
                 id="courier-401-invalid-token"),
    pytest.param(AuthenticationError("missing bearer token", headers=BEARER_CHALLENGE), 401,
                 {"message": "missing bearer token", "type": "authentication_error"},
                 {"WWW-Authenticate": 'Bearer realm="scopes"'}, id="courier-401-no-token"),
    pytest.param(AuthorizationError("the caller's token does not grant write:brands"), 403,
                 {"message": "the caller's token does not grant write:brands",
                  "type": "authorization_error"}, {}, id="courier-403"),
])
def test_each_error_answers_for_itself(error, status, body, headers):
    assert isinstance(error, OAuthError)
    assert error.status_code == status
    assert error.body() == body
    assert error.headers() == {**NO_STORE, **headers}


def test_an_error_says_what_it_answers():
    error = InvalidClient("client authentication failed")
    assert str(error) == "401 invalid_client: client authentication failed"
    assert repr(error) == "InvalidClient('client authentication failed', status_code=401)"


def test_the_module_lists_its_names():
    assert dir(errors) == errors.__all__
    assert all(hasattr(errors, name) for name in errors.__all__)
