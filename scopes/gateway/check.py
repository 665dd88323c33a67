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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scopes.decision import Decision, shown
from scopes.errors import TokenError
from scopes.evaluate import Policy
from scopes.policy.reloader import PolicyReloader

__all__ = ["DecisionLog", "Gatekeeper", "Verdict", "bearer_token"]

REALM = 'Bearer realm="scopes"'
log = logging.getLogger("scopes.gateway")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to answer: a status, headers, and (unless allowed) a JSON body."""

    status: int
    headers: dict[str, str]
    message: str  # why; empty when the decision says it (rendered only if someone asks)
    decision: Decision | None = None
    token: Any = None  # the VerifiedToken, when the token verified
    body: dict[str, Any] = field(default_factory=dict)
    user_ids: tuple[str, ...] = ()  # allowed: the token's user ids under the policy in force

    @property
    def allowed(self) -> bool:
        return self.status == 200

    @property
    def reason(self) -> str:
        if self.message or self.decision is None:
            return self.message
        return self.decision.reason


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

    def __init__(self, policy: PolicyReloader | Policy, verifier: Any,
                 decision_log: DecisionLog | None = None) -> None:
        self._reloader = policy if isinstance(policy, PolicyReloader) else None
        self._policy = policy if isinstance(policy, Policy) else None
        self.verifier = verifier
        self.decision_log = decision_log

    @property
    def policy(self) -> Policy:
        return self._reloader.current() if self._reloader is not None else self._policy

    def check(self, authorization: str | None, method: str | None, target: str | None,
              body: object = None) -> Verdict:
        """Decide a request the gateway forwards. Never raises: anything odd is a deny."""
        started = time.perf_counter()
        try:
            verdict = self._check(authorization, method, target, body)
        except Exception as error:  # fail closed, and say nothing about the internals
            log.error(json.dumps({"event": "error", "error": type(error).__name__}))
            verdict = Verdict(403, {}, "denied: could not evaluate the request",
                              body={"allowed": False, "reason": "denied: could not evaluate"})
        if self.decision_log is not None:
            self.decision_log.write(verdict, method, target, started)
        return verdict

    def _check(self, authorization, method, target, body) -> Verdict:
        if not method or not target:
            missing = "method" if not method else "target (path)"
            reason = f"the gateway sent no original {missing}; check its forward-auth settings"
            return Verdict(400, {}, reason, body={"allowed": False, "reason": reason})
        token = bearer_token(authorization)
        if token is None:
            reason = "no bearer token: send Authorization: Bearer <token>"
            return Verdict(401, {"WWW-Authenticate": REALM}, reason,
                           body={"allowed": False, "reason": reason})
        try:
            verified = self.verifier.verify(token)
        except TokenError as error:
            reason = f"invalid token: {error}"
            challenge = f'{REALM}, error="invalid_token", error_description="{_quoted(str(error))}"'
            return Verdict(401, {"WWW-Authenticate": challenge}, reason,
                           body={"allowed": False, "reason": reason})
        # The token hands on its scope text; the policy in force now says what it means, so a
        # reload that adds a scope gives it meaning on the next request (a dict hit on repeats).
        policy = self.policy
        decision = policy.authorize(verified.scope, method, target, body=body)
        if decision.allowed:
            user_ids = tuple(sorted(policy.parse(verified.scope).user_ids))
            headers = {
                "X-Scopes-Subject": verified.subject,
                "X-Scopes-Client-Id": verified.client_id,
                "X-Scopes-User-Ids": " ".join(user_ids),
            }
            return Verdict(200, headers, "", decision, verified, user_ids=user_ids)
        challenge = f'{REALM}, error="insufficient_scope"'
        missing = decision.missing
        if missing:
            challenge += f', scope="{_quoted(missing)}"'
        return Verdict(403, {"WWW-Authenticate": challenge}, decision.reason, decision, verified,
                       body={"allowed": False, "reason": decision.reason})
