"""The gateway's question, answered once for every front end: token first, then the request.

Forward-auth routes (nginx, Traefik, Envoy) and the ASGI middleware all call `Gatekeeper.check`
and only translate its `Verdict` into their own response. The statuses and challenges are
DESIGN.md's "Gateway contract": 200 allowed; 401 no or bad token (RFC 6750 §3.1); 403 denied,
with the smallest scope that would allow it; 400 when the gateway sent no method or target.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from scopes.decision import Decision, shown
from scopes.errors import TokenError
from scopes.evaluate import Policy
from scopes.model import ScopeSet
from scopes.policy.reloader import PolicyReloader

if TYPE_CHECKING:
    from scopes.tokens.verify import VerifiedToken

__all__ = ["DecisionLog", "Gatekeeper", "Verdict", "Verifier", "bearer_token", "deny"]

REALM = 'Bearer realm="scopes"'
log = logging.getLogger("scopes.gateway")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to answer: a status, headers, and the JSON body `{"allowed", "reason"}`.

    An allow carries the verified token and its scopes as the policy in force read them; each
    front end says who the request is for in its own way (forward-auth's X-Scopes-* headers,
    the middleware's ScopesContext), and only when it is an allow.
    """

    status: int
    headers: dict[str, str]  # the challenge of a deny
    message: str  # why; empty when the decision says it (rendered only if someone asks)
    decision: Decision | None = None
    token: VerifiedToken | None = None  # when the token verified
    scopes: ScopeSet | None = None  # allowed: the token's scopes under the policy in force

    @property
    def allowed(self) -> bool:
        return self.status == 200

    @property
    def reason(self) -> str:
        if self.message or self.decision is None:
            return self.message
        return self.decision.reason

    @property
    def user_ids(self) -> tuple[str, ...]:
        """The token's user ids, sorted (X-Scopes-User-Ids); () unless allowed."""
        return tuple(sorted(self.scopes.user_ids)) if self.scopes is not None else ()

    @property
    def body(self) -> dict[str, Any]:
        """The JSON answer (DESIGN.md, "Gateway contract"): a deny says why."""
        if self.allowed:
            return {"allowed": True}
        return {"allowed": False, "reason": self.reason}


def deny(status: int, reason: str, headers: dict[str, str] | None = None) -> Verdict:
    """A verdict that holds whatever the token: the request itself cannot be decided."""
    return Verdict(status, headers or {}, reason)


class Verifier(Protocol):
    """What the gatekeeper needs of a token verifier (TokenVerifier is one)."""

    def verify(self, token: str) -> VerifiedToken: ...


def bearer_token(authorization: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


def _quoted(text: str) -> str:
    """A value fit for a quoted-string in WWW-Authenticate: no quotes, backslashes or controls."""
    return "".join(ch for ch in shown(text) if ch not in '"\\')[:200]


class DecisionLog:
    """One JSON line per decision; never the token."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | None) -> DecisionLog:
        if path is None or path == "-":
            return cls(sys.stderr)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(open(path, "a", encoding="utf-8", buffering=1))  # noqa: SIM115 - lives with the app

    def write(self, verdict: Verdict, method: object, path: object, started: float) -> None:
        token = verdict.token
        decision = verdict.decision
        line = json.dumps({
            "time": round(time.time(), 6),
            "decision": "allow" if verdict.allowed else "deny",
            "status": verdict.status,
            "method": shown(method) if method is not None else None,
            "path": shown(path) if path is not None else None,
            "rule": decision.rule if decision is not None else None,
            "reason": verdict.reason,
            "subject": token.subject if token is not None else None,
            "client_id": token.client_id if token is not None else None,
            "latency_us": round((time.perf_counter() - started) * 1e6, 1),
        })
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class Gatekeeper:
    """Token first, then the request, for every gateway convention."""

    def __init__(self, policy: PolicyReloader | Policy, verifier: Verifier,
                 decision_log: DecisionLog | None = None) -> None:
        self._current: Callable[[], Policy]
        if isinstance(policy, PolicyReloader):
            self._current = policy.current
        else:
            fixed = policy
            self._current = lambda: fixed
        self.verifier = verifier
        self.decision_log = decision_log

    @property
    def policy(self) -> Policy:
        """The policy in force (a reloader's current one)."""
        return self._current()

    def check(self, authorization: str | None, method: str | None, target: str | None,
              body: object = None) -> Verdict:
        """Decide a request the gateway forwards. Never raises: anything odd is a deny."""
        started = time.perf_counter()
        try:
            verdict = self._check(authorization, method, target, body)
        except Exception as error:  # fail closed, and say nothing about the internals
            log.error(json.dumps({"event": "error", "error": type(error).__name__}))
            verdict = deny(403, "denied: could not evaluate the request")
        if self.decision_log is not None:
            self.decision_log.write(verdict, method, target, started)
        return verdict

    def _check(self, authorization: str | None, method: str | None, target: str | None,
               body: object) -> Verdict:
        if not method or not target:
            missing = "method" if not method else "target (path)"
            return deny(400, f"the gateway sent no original {missing}; check its forward-auth "
                             "settings")
        token = bearer_token(authorization)
        if token is None:
            return deny(401, "no bearer token: send Authorization: Bearer <token>",
                        {"WWW-Authenticate": REALM})
        try:
            verified = self.verifier.verify(token)
        except TokenError as error:
            challenge = f'{REALM}, error="invalid_token", error_description="{_quoted(str(error))}"'
            return deny(401, f"invalid token: {error}", {"WWW-Authenticate": challenge})
        # The token hands on its scope text; the policy in force now says what it means, so a
        # reload that adds a scope gives it meaning on the next request. Read once (a cache hit
        # on repeats), decided and named from the same set. The text is well-formed (the token
        # layer checked it), so this parse does not raise.
        policy = self._current()
        scopes = policy.parse(verified.scope)
        decision = policy.authorize(scopes, method, target, body=body)
        if decision.allowed:
            return Verdict(200, {}, "", decision, verified, scopes)
        challenge = f'{REALM}, error="insufficient_scope"'
        would_allow = decision.missing
        if would_allow:
            challenge += f', scope="{_quoted(would_allow)}"'
        return Verdict(403, {"WWW-Authenticate": challenge}, decision.reason, decision, verified)
