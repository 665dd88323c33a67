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
from scopes.gateway.keys import LoopKeys
from scopes.model import ScopeSet
from scopes.policy.reloader import PolicyReloader

if TYPE_CHECKING:
    from scopes.metrics import Metrics
    from scopes.tokens.verify import VerifiedToken

__all__ = ["DecisionLog", "Gatekeeper", "Verdict", "Verifier", "bearer_token", "deny"]

REALM = 'Bearer realm="scopes"'
KEYS_UNAVAILABLE = "signing keys unavailable"
RETRY_AFTER_SECONDS = 5  # a key outage: when to ask again
REPORT_SECONDS = 60.0  # a failing decision log, or a key outage, is reported this often at most
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


class Throttled:
    """A problem reported at most once per `seconds`, however often it happens."""

    def __init__(self, seconds: float = REPORT_SECONDS) -> None:
        self.seconds = seconds
        self._last = float("-inf")

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True


class DecisionLog:
    """One JSON line per decision; never the token, never a query string.

    The log never decides: a line that cannot be written (a full disk, a closed file) is
    dropped and counted in `dropped`, and reported on stderr at most once a minute; the answer
    it was about stays as it was.
    """

    def __init__(self, stream: TextIO, name: str = "<stderr>") -> None:
        self._stream = stream
        self.name = name
        self._lock = threading.Lock()
        self.dropped = 0
        self._report = Throttled()

    @classmethod
    def open(cls, path: str | None) -> DecisionLog:
        if path is None or path == "-":
            return cls(sys.stderr)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives with the app
        return cls(stream, path)

    def write(self, verdict: Verdict, method: object, path: object, started: float) -> bool:
        """Log one decision; False when the line was dropped. Never raises."""
        try:
            line = self._line(verdict, method, path, started)
            with self._lock:
                self._stream.write(line + "\n")
                self._stream.flush()
            return True
        except Exception as error:  # the log never decides: drop the line, say so now and then
            self.dropped += 1
            if self._report.due():
                reason = getattr(error, "strerror", None) or type(error).__name__
                try:
                    sys.stderr.write(f"scopes: cannot write the decision log {self.name} "
                                     f"({reason}); {self.dropped} line(s) dropped so far\n")
                    sys.stderr.flush()
                except Exception:  # noqa: S110 - stderr itself is gone: nowhere left to say it
                    pass
            return False

    def close(self) -> None:
        """Close the file (never stderr); what cannot be flushed any more is dropped."""
        if self._stream is sys.stderr:
            return
        try:
            self._stream.close()
        except OSError:
            self._stream.close()  # the failed flush is over: this one closes the file

    @staticmethod
    def _line(verdict: Verdict, method: object, path: object, started: float) -> str:
        token = verdict.token
        decision = verdict.decision
        return json.dumps({
            "time": round(time.time(), 6),
            "decision": "allow" if verdict.allowed else "deny",
            "status": verdict.status,
            "method": shown(method) if method is not None else None,
            # never the query string: tokens and secrets travel in them (RFC 6750 §2.3)
            "path": shown(path.partition("?")[0]) if isinstance(path, str) else None,
            "rule": decision.rule if decision is not None else None,
            "reason": verdict.reason,
            "subject": token.subject if token is not None else None,
            "client_id": token.client_id if token is not None else None,
            "latency_us": round((time.perf_counter() - started) * 1e6, 1),
        })


class Gatekeeper:
    """Token first, then the request, for every gateway convention."""

    def __init__(self, policy: PolicyReloader | Policy, verifier: Verifier,
                 decision_log: DecisionLog | None = None, metrics: Metrics | None = None
                 ) -> None:
        self._current: Callable[[], Policy]
        if isinstance(policy, PolicyReloader):
            self._current = policy.current
        else:
            fixed = policy
            self._current = lambda: fixed
        self.verifier = verifier
        self.decision_log = decision_log
        # Keys from a URL are fetched off the event loop (scopes.gateway.keys), by `decide`.
        keys = getattr(verifier, "keys", None)
        self.keys: LoopKeys | None = keys if isinstance(keys, LoopKeys) else None
        self._outage_report = Throttled()
        self.metrics = metrics  # counts every answer and verification (scopes.metrics)

    @property
    def policy(self) -> Policy:
        """The policy in force (a reloader's current one)."""
        return self._current()

    async def decide(self, authorization: str | None, method: str | None, target: str | None,
                     body: object = None) -> Verdict:
        """`check`, for an event loop: keys from a URL catch up first, off the loop, and once
        more when the token named a kid they did not have (a rotation). One decision, logged
        once."""
        started = time.perf_counter()
        keys = self.keys
        if keys is not None and keys.due():
            await keys.catch_up()
        verdict = self._verdict(authorization, method, target, body)
        if keys is not None and verdict.status == 401 and keys.missed():
            await keys.catch_up()
            verdict = self._verdict(authorization, method, target, body)
        self._log(verdict, method, target, started)
        return verdict

    async def healthy(self) -> bool:
        """Whether tokens can be checked now: False while there are no keys at all (never
        waits for a fetch; one that is due starts)."""
        keys = self.keys
        if keys is None:
            return True
        if keys.due():
            await keys.catch_up(wait=False)
        return keys.available()

    def check(self, authorization: str | None, method: str | None, target: str | None,
              body: object = None) -> Verdict:
        """Decide a request the gateway forwards. Never raises: anything odd is a deny."""
        started = time.perf_counter()
        verdict = self._verdict(authorization, method, target, body)
        self._log(verdict, method, target, started)
        return verdict

    def _verdict(self, authorization: str | None, method: str | None, target: str | None,
                 body: object) -> Verdict:
        try:
            return self._check(authorization, method, target, body)
        except Exception as error:  # noqa: BLE001 - fail closed, say nothing of the internals
            log.error(json.dumps({"event": "error", "error": type(error).__name__}))
            return deny(403, "denied: could not evaluate the request")

    def _log(self, verdict: Verdict, method: object, target: object, started: float) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.decided(verdict, time.perf_counter() - started)
        if self.decision_log is not None:
            if not self.decision_log.write(verdict, method, target, started) and metrics:
                metrics.decision_log_dropped()

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
            if self.metrics is not None:
                self.metrics.verified(error.reason)
            if error.reason == "keys-unavailable":
                return self._outage(error)
            challenge = f'{REALM}, error="invalid_token", error_description="{_quoted(str(error))}"'
            return deny(401, f"invalid token: {error}", {"WWW-Authenticate": challenge})
        if self.metrics is not None:
            self.metrics.verified("valid")
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

    def _outage(self, error: TokenError) -> Verdict:
        """No keys at all: an outage (503), not a bad token; the why stays in our own log."""
        if self._outage_report.due():
            internal = self.keys.error if self.keys is not None and self.keys.error else error
            log.warning(json.dumps({"event": "keys-unavailable", "error": str(internal)}))
        return deny(503, KEYS_UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_SECONDS)})
