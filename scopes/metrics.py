"""Metrics: what `GET /metrics` tells Prometheus, counted in one registry per application.

DESIGN.md, "Gateway contract": decisions by outcome and code, decision latency, token
verifications by result, JWKS fetches and failures, policy reloads and failures, dropped
decision-log lines; on the token service also tokens issued, client-authentication failures,
rate-limited and 503 answers.

Each `Metrics` owns a `prometheus_client.CollectorRegistry` of its own, never the global one,
so several applications in one process (tests, an app mounted twice) count apart. This module
needs `prometheus_client` (the `server` extra); the scopes core and the ASGI middleware never
import it. With `scopes serve --workers N` each worker counts for itself, and a scrape reads the
worker that answers it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import (
    CONTENT_TYPE_LATEST,
    choose_encoder,
    generate_latest,
)

if TYPE_CHECKING:
    from scopes.decision import Decision
    from scopes.gateway._asgi import Receive, Scope, Send

__all__ = ["LATENCY_BUCKETS", "Metrics"]

# Seconds. A cached decision takes microseconds, a cold one (signature checked) a fraction of
# a millisecond; the top buckets catch a stalled key fetch.
LATENCY_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
)

# What a verdict that carries no Decision was about, by its status: the request was not
# decided by the policy (no or bad token, a misconfigured gateway, an outage).
_UNDECIDED = {400: "bad-request", 401: "unauthenticated", 503: "unavailable"}


def __dir__() -> list[str]:
    return __all__


class _Verdict(Protocol):
    """What the gatekeeper's verdict shows the metrics (scopes.gateway.check.Verdict)."""

    @property
    def status(self) -> int: ...

    @property
    def decision(self) -> Decision | None: ...


class _Answer(Protocol):
    """What a token-service error answer shows (scopes.service.errors.OAuthError)."""

    error: str
    status_code: int


class Metrics:
    """The counters of one application, and the ASGI endpoint that exposes them.

    The methods are the calls made where things happen; each costs an increment or two (the
    labelled children are kept, so no label lookup is repeated on the hot path):

    - `decided(verdict, seconds)`: every forward-auth answer, by outcome and code;
    - `verified(result)`: every token verification, `"valid"` or the `TokenError.reason`;
    - `jwks_fetch(ok)`: every JWKS fetch from a URL, and whether it gave usable keys;
    - `policy_reload(ok)`: every policy reload, and whether the new policy loaded;
    - `decision_log_dropped(lines=1)`: decision-log lines that could not be written;
    - `token_issued(endpoint)`: tokens signed by `/oauth/token` or `/auth/issue-token`;
    - `error_answered(answer)`: a token-service error answer (client authentication failures,
      429 and 503 are counted).
    """

    def __init__(self, *, service: bool = False, process: bool = True) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._decisions = Counter(
            "scopes_decisions", "Forward-auth answers, by outcome (allow, deny) and code "
            "(a Decision code, or what kept the policy from deciding)",
            ["outcome", "code"], registry=registry)
        self._latency = Histogram(
            "scopes_decision_seconds", "Time to answer a forward-auth request: token and "
            "decision (seconds)", buckets=LATENCY_BUCKETS, registry=registry)
        self._verifications = Counter(
            "scopes_token_verifications", "Bearer tokens checked, by result (valid, or why not)",
            ["result"], registry=registry)
        self._jwks_fetches = Counter(
            "scopes_jwks_fetches", "JWKS fetches from a URL, good or not", registry=registry)
        self._jwks_failures = Counter(
            "scopes_jwks_fetch_failures", "JWKS fetches that gave no usable keys (the keys "
            "held before are kept)", registry=registry)
        self._reloads = Counter(
            "scopes_policy_reloads", "Policy reloads attempted (file change or SIGHUP)",
            registry=registry)
        self._reload_failures = Counter(
            "scopes_policy_reload_failures", "Policy reloads refused (the previous policy "
            "kept serving)", registry=registry)
        self._dropped = Counter(
            "scopes_decision_log_dropped_lines", "Decision-log lines that could not be "
            "written (the answers were not changed)", registry=registry)
        self.service = service
        if service:
            self._issued = Counter(
                "scopes_tokens_issued", "Tokens signed, by endpoint", ["endpoint"],
                registry=registry)
            for endpoint in ("/oauth/token", "/auth/issue-token"):
                self._issued.labels(endpoint)
            self._auth_failures = Counter(
                "scopes_client_authentication_failures", "Token requests refused as "
                "invalid_client (unknown client, wrong secret, revoked, malformed Basic)",
                registry=registry)
            self._rate_limited = Counter(
                "scopes_rate_limited_answers", "Token-service answers 429 (rate limited)",
                registry=registry)
            self._unavailable = Counter(
                "scopes_unavailable_answers", "Token-service answers 503 (the registry cannot "
                "be reached)", registry=registry)
        if process:
            ProcessCollector(registry=registry)
        self._decision_children: dict[tuple[bool, str], Counter] = {}
        self._verification_children: dict[str, Counter] = {}
        # Series that exist from the start, so a dashboard shows 0 rather than nothing.
        self._verification_children["valid"] = self._verifications.labels("valid")
        self._decision_child(True, "allowed")

    def __repr__(self) -> str:
        return f"Metrics(service={self.service})"

    # -- where things happen -------------------------------------------------------------------

    def decided(self, verdict: _Verdict, seconds: float) -> None:
        """One forward-auth answer, and how long it took (token check included)."""
        status = verdict.status
        decision = verdict.decision
        if decision is not None:
            code: str = decision.code
        else:
            code = _UNDECIDED.get(status, "error")
        allowed = status == 200
        child = self._decision_children.get((allowed, code))
        if child is None:
            child = self._decision_child(allowed, code)
        child.inc()
        self._latency.observe(seconds)

    def verified(self, result: str) -> None:
        """One token verification: `"valid"`, or the TokenError's `reason` (a fixed set)."""
        child = self._verification_children.get(result)
        if child is None:
            child = self._verification_children[result] = self._verifications.labels(result)
        child.inc()

    def jwks_fetch(self, ok: bool) -> None:
        """One JWKS fetch from a URL; `ok` False when it gave no usable keys."""
        self._jwks_fetches.inc()
        if not ok:
            self._jwks_failures.inc()

    def policy_reload(self, ok: bool) -> None:
        """One policy reload; `ok` False when the new policy did not load."""
        self._reloads.inc()
        if not ok:
            self._reload_failures.inc()

    def decision_log_dropped(self, lines: int = 1) -> None:
        """Decision-log lines that could not be written."""
        self._dropped.inc(lines)

    def token_issued(self, endpoint: str) -> None:
        """One token signed by the token service at `endpoint` ("/oauth/token", ...)."""
        if self.service:
            self._issued.labels(endpoint).inc()

    def error_answered(self, answer: _Answer) -> None:
        """A token-service error answer: client authentication failures, 429 and 503 count."""
        if not self.service:
            return
        if answer.error == "invalid_client":
            self._auth_failures.inc()
        elif answer.status_code == 429:
            self._rate_limited.inc()
        elif answer.status_code == 503:
            self._unavailable.inc()

    # -- exposition ----------------------------------------------------------------------------

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry as Prometheus text (or OpenMetrics when `accept` asks for it), and its
        content type. Never raises on what a client sent: an Accept it cannot read gets text."""
        try:
            encode, content_type = choose_encoder(accept or "")
            return encode(self.registry), content_type
        except Exception:  # noqa: BLE001 - an Accept it cannot parse: the plain format
            return generate_latest(self.registry), CONTENT_TYPE_LATEST

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`GET /metrics` as a bare ASGI endpoint (any method answers, as a scraper expects)."""
        accept = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
                break
        body, content_type = self.exposition(accept)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", content_type.encode("latin-1")),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]})
        await send({"type": "http.response.body", "body": body})

    def _decision_child(self, allowed: bool, code: str) -> Counter:
        child = self._decisions.labels("allow" if allowed else "deny", code)
        self._decision_children[(allowed, code)] = child
        return child
