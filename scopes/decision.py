"""Decision: the verdict of `Policy.authorize` and the evidence that explains it."""

from __future__ import annotations

import enum

from scopes.model import ScopeSet
from scopes.policy.compile import (
    PERMISSION_PARAM,
    PRINCIPAL,
    PRINCIPAL_PARAM,
    Alternative,
    Need,
    Route,
)

__all__ = ["CODES", "Code", "Decision"]

_SHOWN = 120  # untrusted text is clipped to this many characters in messages


def __dir__() -> list[str]:
    return __all__


class Code(enum.StrEnum):
    """Every `Decision.code`: "allowed", or why not. One table, referenced by name (CODES says
    what each means); the values are stable, since logs and `--json` output carry them."""

    ALLOWED = "allowed"
    INSUFFICIENT_SCOPE = "insufficient-scope"
    NO_ROUTE = "no-route"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    BAD_PATH = "bad-path"
    MALFORMED_SCOPES = "malformed-scopes"
    BAD_SCOPES = "bad-scopes"
    BAD_METHOD = "bad-method"
    BODY_REQUIRED = "body-required"
    BAD_GRAPHQL = "bad-graphql"
    FIELD_NOT_ALLOWED = "field-not-allowed"
    INTERNAL_ERROR = "internal-error"


CODES: dict[Code, str] = {
    Code.ALLOWED: "a requirement of the matched route is met (or the route is public)",
    Code.INSUFFICIENT_SCOPE: "the route matched, and no alternative of its requirement is met",
    Code.NO_ROUTE: "no rule of the policy matches the path",
    Code.METHOD_NOT_ALLOWED: "the path has rules, but none for this method",
    Code.BAD_PATH: "the request target was refused by canonicalization (the reason names why)",
    Code.MALFORMED_SCOPES: "the token's scope string is not valid RFC 6749 §3.3 syntax",
    Code.BAD_SCOPES: "the token's scopes are neither a string nor a ScopeSet",
    Code.BAD_METHOD: "the method is not a string",
    Code.BODY_REQUIRED: "a GraphQL route is decided by its body, and none was given",
    Code.BAD_GRAPHQL: "the GraphQL body cannot be examined (the reason names why)",
    Code.FIELD_NOT_ALLOWED: "the GraphQL operation selects a root field the policy does not list",
    Code.INTERNAL_ERROR: "the evaluator failed; denied to be safe",
}


def shown(text: object) -> str:
    """Untrusted input as it may appear in a message: escaped, and clipped."""
    if not isinstance(text, str):
        return f"<{type(text).__name__}>"
    clipped = text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
    if clipped.isprintable() and clipped.isascii():
        return clipped
    return ascii(clipped)[1:-1]


class Decision:
    """Whether a token may make a request, and why.

    Deny is the default: every path that is not a satisfied requirement ends in a deny with a
    `code` and a `reason`. The evidence is kept as the evaluator found it (route, path
    segments, token, alternatives); `reason`, `needed` and `granted` are rendered from it only
    when someone asks, so a decision costs one small object on the hot path.
    """

    __slots__ = (
        "_allowed",
        "_code",
        "_route",
        "_segments",
        "_token",
        "_alternatives",
        "_detail",
        "_method",
        "_path",
    )

    def __init__(
        self,
        allowed: bool,
        code: str,
        route: Route | None,
        segments: tuple[str, ...] | None,
        token: ScopeSet | None,
        alternatives: tuple[Alternative, ...],
        detail: str,
        method: object,
        path: object,
    ) -> None:
        self._allowed = allowed
        self._code = code
        self._route = route
        self._segments = segments
        self._token = token
        self._alternatives = alternatives  # allowed: the ones that granted; denied: the ones needed
        self._detail = detail
        self._method = method
        self._path = path

    # Read-only: a decision may be shared (token-independent denies are cached per policy).
    @property
    def allowed(self) -> bool:
        return self._allowed

    @property
    def code(self) -> str:
        """"allowed", or why not: "insufficient-scope", "no-route", "bad-path", ..."""
        return self._code

    @property
    def route(self) -> Route | None:
        """The compiled route that matched, if one did."""
        return self._route

    def __bool__(self) -> bool:
        return self._allowed

    def __repr__(self) -> str:
        return f"Decision(allowed={self.allowed}, code={self.code!r}, reason={self.reason!r})"

    @property
    def rule(self) -> str | None:
        """The policy rule that matched, e.g. `GET /brands/{id}` (None when none did)."""
        return None if self.route is None else self.route.rule

    @property
    def needed(self) -> tuple[str, ...]:
        """Alternatives that suffice for this request, each a scope string, placeholders filled."""
        alternatives = self._all_alternatives() if self.allowed else self._alternatives
        return tuple(self._filled(alt) for alt in alternatives)

    @property
    def granted(self) -> tuple[str, ...]:
        """The token's scopes that granted the request (empty when denied or public)."""
        if not self.allowed or self._token is None:
            return ()
        found: dict[str, None] = {}
        for alt in self._alternatives:
            for need in alt.needs:
                found[self._granting_scope(need)] = None
        return tuple(found)

    @property
    def missing(self) -> str | None:
        """The smallest scope string that, added to the token, would allow this request.

        None when no scope can help (no route, a bad path or body, ...) or when the only way is
        a principal the path does not name.
        """
        if self.allowed or self.code != "insufficient-scope" or self._token is None:
            return None
        best: list[str] | None = None
        best_rank = (0, 0)
        for alt in self._alternatives:
            lacking = [self._filled_need(n) for n in alt.needs if not self._has(n)]
            has_principal = self._token.user_ids or any(
                n.kind in (PRINCIPAL, PRINCIPAL_PARAM) for n in alt.needs
            )
            if alt.needs_principal and not has_principal:
                continue
            # Fewest scopes first; among those, the narrowest (least privilege).
            rank = (len(lacking), -sum(n.kind == PERMISSION_PARAM for n in alt.needs))
            if lacking and (best is None or rank < best_rank):
                best, best_rank = lacking, rank
        return " ".join(best) if best else None

    @property
    def reason(self) -> str:
        """One line: the verdict, the rule, what was needed and what the token had."""
        request = f"{shown(self._method)} {shown(self._path)}"
        if self.allowed:
            granted = " ".join(self.granted) or "nothing (public)"
            return f"allowed: {request} matches {self.rule}; granted by {granted}"
        if self.code == "insufficient-scope":
            needed = " or ".join(self.needed)
            return f"denied: {request} needs {needed}{self._detail}; the token has {self._held()}"
        return f"denied: {request}: {self._detail}"

    def explain(self) -> str:
        """A short human explanation, several lines, for `scopes explain` and logs."""
        lines = [self.reason.split(": ", 1)[0].upper() + f" ({self.code})"]
        lines.append(f"  request: {shown(self._method)} {shown(self._path)}")
        lines.append(f"  rule:    {self.rule or '(no rule matched)'}")
        if self._alternatives or self.allowed:
            needed = self.needed
            lines.append(f"  needs:   {' or '.join(needed) if needed else 'nothing (public)'}")
        if self._token is not None:
            lines.append(f"  token:   {self._held()}")
        if self.allowed:
            lines.append(f"  granted: {' '.join(self.granted) or 'nothing needed'}")
        else:
            lines.append(f"  why:     {self.reason.split(': ', 1)[1]}")
            if self.missing:
                lines.append(f"  fix:     add {self.missing}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """A stable JSON-ready form for `--json` and decision logs."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "code": self.code,
            "rule": self.rule,
            "needed": list(self.needed),
            "granted": list(self.granted),
            "missing": self.missing,
        }

    # -- helpers -------------------------------------------------------------------------------

    def _all_alternatives(self) -> tuple[Alternative, ...]:
        if self.route is not None and self.route.graphql is None:
            return self.route.alternatives
        return self._alternatives

    def _filled(self, alt: Alternative) -> str:
        return alt.render(self._segments)

    def _filled_need(self, need: Need) -> str:
        return need.filled(self._segments) if self._segments is not None else need.text

    def _has(self, need: Need) -> bool:
        token = self._token
        if need.kind in (PRINCIPAL, PRINCIPAL_PARAM):
            return self._filled_need(need).split(":", 1)[1] in token.user_ids
        return need.name in token.grants or self._filled_need(need) in token.grants

    def _granting_scope(self, need: Need) -> str:
        if need.kind in (PRINCIPAL, PRINCIPAL_PARAM):
            return self._filled_need(need)
        return need.name if need.name in self._token.grants else self._filled_need(need)

    def _held(self) -> str:
        text = str(self._token) if self._token is not None else ""
        return shown(text) if text else "no scopes"
