"""Verifying access tokens: signature with a published key, RFC 9068 claims, then the scope text.

Checks run in this order, each failing with its `TokenError.reason`: the token's shape
(`malformed`: a string of at most 16 KiB, three base64url parts, JSON objects), the header
(`algorithm-not-allowed` for an alg outside EdDSA/ES256/RS256, `wrong-type` unless typ is
`at+jwt` or `application/at+jwt` in any case, `unknown-kid`, `algorithm-not-allowed` again
when the alg is not the one its key's type signs with), the signature (`bad-signature`), then
the claims (`missing-claim`, `malformed`, `wrong-issuer`, `wrong-audience`, `expired`,
`not-yet-valid`, `malformed-scope`). Nothing about the claims is looked at before the signature
holds.

What the scopes mean is not decided here (DESIGN.md, "One owner per concept"): the scope claim is
checked well-formed by the syntax owner and handed on as text, and whoever authorizes reads it
with the policy in force at that request, so a policy reload gives a new scope meaning at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError, InvalidSignatureError

from scopes.errors import ScopeSyntaxError, TokenError
from scopes.syntax import validate
from scopes.tokens._jose import ALGORITHMS, b64url_decode, is_number, json_object, quoted
from scopes.tokens._settings import Settings, settings
from scopes.tokens.jwks import PublicKeys

if TYPE_CHECKING:
    from scopes.tokens.keys import KeyRing

__all__ = ["MAX_TOKEN_LENGTH", "TOKEN_TYPES", "VerifiedToken", "verify_token", "verify_with"]

MAX_TOKEN_LENGTH = 16 * 1024  # longer input is refused before any parsing
TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4, compared lower-cased
_ALLOWED = frozenset(ALGORITHMS)
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_JWS = PyJWS()


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token whose signature and claims held: who it is for, and the scopes it carries.

    `scope` is the scope text of the first configured scope claim (an `scp` array joined with
    spaces; "" when the token has none), well-formed but not interpreted: give it to
    `Policy.authorize` or `Policy.parse` of the policy in force. `claims` is read-only: objects
    are mappings and arrays tuples (serialize it with `json.dumps(token.claims, default=dict)`).
    `expires_at` and `issued_at` are NumericDates (seconds since the epoch); `audiences` is
    `aud` as a tuple.
    """

    claims: Mapping[str, Any] = field(repr=False)
    scope: str
    subject: str
    client_id: str
    expires_at: float
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    jti: str = ""
    issued_at: float = 0.0
    kid: str = field(default="", repr=False)


def verify_token(
    token: str,
    keys: PublicKeys | KeyRing | Mapping[str, Any],
    *,
    audience: str | Collection[str] | None,
    issuer: str | None,
    leeway: float = 30,
    scope_claims: tuple[str, ...] = ("scope",),
    now: float | None = None,
) -> VerifiedToken:
    """Verify an access token and check its scope text; raise TokenError saying why not.

    `keys` are the keys to trust (PublicKeys, a KeyRing, or a JWKS dict; build PublicKeys once
    and reuse it). `audience` (one string or several, any may match) and `issuer` must be
    passed: None skips that comparison, but the token must still carry `aud` and `iss`.
    `leeway` (seconds) forgives clock skew on `exp`, `nbf` and `iat`. The scopes come from the
    first of `scope_claims` the token has (`("scope", "scp")` also accepts the `scp` array or
    string other issuers use; no such claim means no scopes), checked well-formed and handed on
    as text in `.scope`. `now` (seconds since the epoch) defaults to the current time. Never
    raises anything but TokenError for what the token holds.
    """
    checked = settings(audience=audience, issuer=issuer, leeway=leeway, scope_claims=scope_claims)
    return verify_with(token, PublicKeys.load(keys), checked, time.time() if now is None else now)


def verify_with(token: object, keys: PublicKeys, config: Settings, now: float) -> VerifiedToken:
    """`verify_token` with its configuration checked beforehand (TokenVerifier's path)."""
    audience, issuer, leeway = config.audience, config.issuer, config.leeway
    # -- shape ---------------------------------------------------------------------------------
    if type(token) is not str:
        raise TokenError(f"the token must be a string, not {type(token).__name__}", reason="malformed")
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(
            f"the token is {len(token)} characters long; at most {MAX_TOKEN_LENGTH} are accepted",
            reason="malformed",
        )
    if not _COMPACT.fullmatch(token):
        raise TokenError(
            "the token is not a JWS in compact form (three base64url parts separated by '.')",
            reason="malformed",
        )
    try:
        header = json_object(b64url_decode(token[: token.index(".")]))
    except ValueError as error:
        raise TokenError(f"the token's header is not valid: {error}", reason="malformed") from None

    # -- header --------------------------------------------------------------------------------
    alg = header.get("alg")
    if type(alg) is not str:
        raise TokenError("the token's header names no algorithm (alg)", reason="malformed")
    if alg not in _ALLOWED:
        raise TokenError(
            f"algorithm {quoted(alg)} is not allowed (only {', '.join(ALGORITHMS)})",
            reason="algorithm-not-allowed",
        )
    typ = header.get("typ")
    if type(typ) is not str or typ.lower() not in TOKEN_TYPES:
        shown = "no typ" if typ is None else f"typ {quoted(typ)}"
        raise TokenError(
            f"the token has {shown}; an access token has typ at+jwt (RFC 9068)",
            reason="wrong-type",
        )
    if "crit" in header or "b64" in header:
        raise TokenError("the token's header has extensions (crit, b64) we do not support", reason="malformed")
    kid = header.get("kid")
    if type(kid) is not str:
        raise TokenError("the token's header names no key (kid)", reason="unknown-kid")
    key = keys.get(kid)
    if key is None:
        raise TokenError(f"no trusted key has kid {quoted(kid)}", reason="unknown-kid")
    if alg != key.alg:
        raise TokenError(
            f"algorithm {alg} is not allowed with key {quoted(kid)}, which signs with {key.alg}",
            reason="algorithm-not-allowed",
        )

    # -- signature (PyJWT, with the one algorithm the key allows) ------------------------------
    try:
        payload = _JWS.decode_complete(token, key=key.key, algorithms=[key.alg])["payload"]
    except InvalidSignatureError:
        raise TokenError(f"the signature does not verify with key {quoted(kid)}", reason="bad-signature") from None
    except DecodeError:
        raise TokenError("the token is not a well-formed signed JWT (header.payload.signature, "
                         "each base64url)", reason="malformed") from None
    except Exception:  # noqa: BLE001 - whatever else the library finds wrong, the token is refused
        raise TokenError("the token could not be verified", reason="malformed") from None
    try:
        claims = json_object(payload)
    except ValueError as error:
        raise TokenError(f"the token's payload is not valid: {error}", reason="malformed") from None

    # -- claims (RFC 9068 §2.2, §4) ------------------------------------------------------------
    iss = _string_claim(claims, "iss")
    auds = _audience_claim(claims)
    exp = _time_claim(claims, "exp")
    iat = _time_claim(claims, "iat")
    nbf = _optional_time_claim(claims, "nbf")
    subject = _string_claim(claims, "sub")
    client_id = _string_claim(claims, "client_id")
    jti = _string_claim(claims, "jti")
    if issuer is not None and iss != issuer:
        raise TokenError(f"the token was issued by {quoted(iss)}, not {quoted(issuer)}", reason="wrong-issuer")
    if audience is not None and audience.isdisjoint(auds):
        wanted = " or ".join(quoted(a) for a in sorted(audience))
        raise TokenError(
            f"the token is for {' and '.join(quoted(a) for a in auds)}, not {wanted}",
            reason="wrong-audience",
        )
    if now >= exp + leeway:
        raise TokenError(
            f"the token expired at {_when(exp)} (now {_when(now)}, leeway {leeway:g} s)", reason="expired"
        )
    if nbf is not None and nbf > now + leeway:
        raise TokenError(
            f"the token is not valid before {_when(nbf)} (now {_when(now)}, leeway {leeway:g} s)",
            reason="not-yet-valid",
        )
    if iat > now + leeway:
        raise TokenError(
            f"the token was issued in the future, at {_when(iat)} (now {_when(now)}, leeway {leeway:g} s)",
            reason="not-yet-valid",
        )
    scope = _scope_text(claims, config.scope_claims)
    return VerifiedToken(
        claims=_frozen(claims),
        scope=scope,
        subject=subject,
        client_id=client_id,
        expires_at=exp,
        issuer=iss,
        audiences=auds,
        jti=jti,
        issued_at=iat,
        kid=kid,
    )


# -- claims ------------------------------------------------------------------------------------


def _string_claim(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None:
        raise TokenError(f"the token has no {name!r} claim", reason="missing-claim")
    if type(value) is not str or not value:
        raise TokenError(f"the token's {name!r} claim must be a non-empty string", reason="malformed")
    return value


def _audience_claim(claims: dict[str, Any]) -> tuple[str, ...]:
    value = claims.get("aud")
    if value is None:
        raise TokenError("the token has no 'aud' claim", reason="missing-claim")
    auds = (value,) if type(value) is str else tuple(value) if type(value) is list else None
    if not auds or not all(type(a) is str and a for a in auds):
        raise TokenError(
            "the token's 'aud' claim must be a string or a non-empty array of strings", reason="malformed"
        )
    return auds


def _time_claim(claims: dict[str, Any], name: str) -> float:
    value = _optional_time_claim(claims, name)
    if value is None:
        raise TokenError(f"the token has no {name!r} claim", reason="missing-claim")
    return value


def _optional_time_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if not is_number(value):
        raise TokenError(f"the token's {name!r} claim must be a number of seconds", reason="malformed")
    return value


def _scope_text(claims: dict[str, Any], names: tuple[str, ...]) -> str:
    """The scope text of the first scope claim present; `scope` is a string (RFC 9068 §2.2.3),
    other names (Okta's and Entra's `scp`) may also be an array of scope tokens."""
    for name in names:
        value = claims.get(name)
        if value is None:
            continue
        if type(value) is list and name != "scope":
            if not all(type(v) is str and v and " " not in v for v in value):
                raise TokenError(
                    f"the token's {name!r} claim must be an array of single scopes", reason="malformed-scope"
                )
            value = " ".join(value)
        if type(value) is not str:
            raise TokenError(f"the token's {name!r} claim must be a string", reason="malformed-scope")
        try:
            validate(value)
        except ScopeSyntaxError as error:
            raise TokenError(
                f"the token's {name!r} claim is not a valid scope string: {error.message}"
                f" (at offset {error.position})",
                reason="malformed-scope",
            ) from None
        except Exception:  # noqa: BLE001 - a parser limit (recursion, size): refuse, never crash
            raise TokenError(
                f"the token's {name!r} claim could not be parsed (too large or too deep)",
                reason="malformed-scope",
            ) from None
        return value
    return ""


def _frozen(value: Any) -> Any:
    if type(value) is dict:
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if type(value) is list:
        return tuple(_frozen(v) for v in value)
    return value


def _when(moment: float) -> str:
    try:
        return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{moment:g}"
