"""Decision: the verdict of `Policy.authorize` and the evidence that explains it.

A Decision renders what it was given; whether a requirement is met was decided before, by the
requirement itself (`scopes.policy.compile.Alternative.met`). Decisions are built through the
named constructors `allow`, `insufficient` and `deny`; every code is one of `Code`.
"""

from __future__ import annotations

import enum

from scopes.model import ScopeSet
from scopes.policy.compile import Alternative, NeedKind, Route
from scopes.syntax import is_well_formed

__all__ = ["CODES", "Code", "Decision", "shown"]

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
    OPERATION_NOT_ALLOWED = "operation-not-allowed"
    GRAPHQL_IN_QUERY_STRING = "graphql-in-query-string"
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
    Code.OPERATION_NOT_ALLOWED: "the policy lists no field of the GraphQL operation's type",
    Code.GRAPHQL_IN_QUERY_STRING: (
        "a GraphQL route's query string carries query, operationName, variables or extensions"
    ),
    Code.INTERNAL_ERROR: "the evaluator failed; denied to be safe",
}


# Enum members are looked up through the enum's metaclass (about 90 ns in CPython 3.11); the
# hot path uses them bound once.
_ALLOWED = Code.ALLOWED
_INSUFFICIENT_SCOPE = Code.INSUFFICIENT_SCOPE


def shown(text: object) -> str:
    """Untrusted input as it may appear in a message: escaped, and clipped. Never raises: a
    subclass of str is read as its plain value (none of its overrides run)."""
    if not isinstance(text, str):
        return f"<{_type_name(type(text))}>"
    if type(text) is not str:
        text = str.__str__(text)
    clipped = text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
    if clipped.isprintable() and clipped.isascii():
        return clipped
    return ascii(clipped)[1:-1]


Requirement = tuple[Alternative, ...]
# (route, segments, token, granting, unmet, detail, method, path), as the evaluator found
# them: `granting` the alternatives that granted (when allowed), `unmet` each requirement no
# alternative of which was met (when insufficient: one for REST, one per GraphQL root field).
Evidence = tuple[
    Route | None,
    tuple[str, ...],
    ScopeSet | None,
    Requirement,
    tuple[Requirement, ...],
    str,
    object,
    object,
]


class Decision:
    """Whether a token may make a request, and why.

    Deny is the default: every path that is not a satisfied requirement ends in a deny with a
    `code` and a `reason`. The evidence is kept as the evaluator found it (route, path
    segments, token, alternatives); `reason`, `needed`, `granted` and `missing` are rendered
    from it only when someone asks, so a decision costs one small object on the hot path.
    """

    __slots__ = ("_allowed", "_code", "_evidence")

    _allowed: bool
    _code: Code
    _evidence: Evidence

    def __init__(self, allowed: bool, code: Code, evidence: Evidence) -> None:
        # Private: build one with Decision.allow, .insufficient or .deny.
        self._allowed = allowed
        self._code = code
        self._evidence = evidence

    @classmethod
    def allow(
        cls,
        route: Route,
        segments: tuple[str, ...],
        token: ScopeSet,
        granting: Requirement,
        method: str,
        path: object,
    ) -> Decision:
        """Allowed by `route`: `granting` holds the alternatives that were met (none: public)."""
        return cls(True, _ALLOWED, (route, segments, token, granting, (), "", method, path))

    @classmethod
    def insufficient(
        cls,
        route: Route,
        segments: tuple[str, ...],
        token: ScopeSet,
        unmet: tuple[Requirement, ...],
        method: str,
        path: object,
        detail: str = "",
    ) -> Decision:
        """Denied by `route`: each of `unmet` is a requirement no alternative of which is met
        (one for a REST route; one per root field for GraphQL); `detail` follows the needs."""
        evidence = (route, segments, token, (), unmet, detail, method, path)
        return cls(False, _INSUFFICIENT_SCOPE, evidence)

    @classmethod
    def deny(
        cls,
        code: Code,
        detail: str,
        method: object,
        path: object,
        *,
        route: Route | None = None,
        segments: tuple[str, ...] = (),
        token: ScopeSet | None = None,
    ) -> Decision:
        """Denied for a reason that no scope can change: `detail` says it in words."""
        if code is _ALLOWED or code is _INSUFFICIENT_SCOPE:
            raise ValueError(f"Decision.deny takes a deny code other than {code}")
        return cls(False, code, (route, segments, token, (), (), detail, method, path))

    @property
    def _route(self) -> Route | None:
        return self._evidence[0]

    @property
    def _segments(self) -> tuple[str, ...]:
        return self._evidence[1]

    @property
    def _token(self) -> ScopeSet | None:
        return self._evidence[2]

    @property
    def _granting(self) -> Requirement:
        return self._evidence[3]

    @property
    def _unmet(self) -> tuple[Requirement, ...]:
        return self._evidence[4]

    @property
    def _detail(self) -> str:
        return self._evidence[5]

    @property
    def _method(self) -> object:
        return self._evidence[6]

    @property
    def _path(self) -> object:
        return self._evidence[7]

    # Read-only: a decision may be shared (token-independent denies are cached per policy).
    @property
    def allowed(self) -> bool:
        return self._allowed

    @property
    def code(self) -> Code:
        """`Code.ALLOWED`, or why not: `Code.INSUFFICIENT_SCOPE`, `Code.NO_ROUTE`, ..."""
        return self._code

    @property
    def route(self) -> Route | None:
        """The compiled route that matched, if one did."""
        return self._route

    def __bool__(self) -> bool:
        return self._allowed

    def __repr__(self) -> str:
        return f"Decision(allowed={self.allowed}, code={str(self.code)!r}, reason={self.reason!r})"

    @property
    def rule(self) -> str | None:
        """The policy rule that matched, e.g. `GET /brands/{id}` (None when none did)."""
        return None if self._route is None else self._route.rule

    @property
    def path_params(self) -> dict[str, str]:
        """The path parameters the matched route bound, decoded: `{"id": "acme"}` for
        `GET /brands/acme` on `/brands/{id}` (empty when no route matched)."""
        route, segments = self._route, self._segments
        if route is None or not segments:
            return {}
        return {name: segments[index] for name, index in route.params}

    @property
    def needed(self) -> tuple[str, ...]:
        """Alternatives that suffice for this request, each a scope string, placeholders filled."""
        if self._allowed:
            route = self._route
            alternatives = (
                route.alternatives if route is not None and route.graphql is None else self._granting
            )
        else:
            alternatives = self._unmet[0] if self._unmet else ()
        return tuple(alt.render(self._segments) for alt in alternatives)

    @property
    def granted(self) -> tuple[str, ...]:
        """The token's scopes that granted the request (empty when denied or public)."""
        if not self._allowed or self._token is None:
            return ()
        token, segments = self._token, self._segments
        found: dict[str, None] = {}
        for alt in self._granting:
            found.update(dict.fromkeys(alt.granted_by(token.grants, token.user_ids, segments)))
        return tuple(found)

    @property
    def missing(self) -> str | None:
        """A well-formed scope string that, added to the token, allows this request, or None.

        For each unmet requirement, the alternative that lacks the fewest scopes, the narrowest
        on a tie (least privilege). An alternative whose filled-in scope no scope string can
        carry (an id with a space, `"` or a non-ASCII character) is passed over, so the answer
        falls back to the unqualified one (`read:brands`). None when no scope can help (no
        route, a bad path or body, ...) or when the only way is a user id the path does not name.
        """
        if self._allowed or self._code is not Code.INSUFFICIENT_SCOPE or self._token is None:
            return None
        words: dict[str, None] = {}
        for requirement in self._unmet:
            cheapest = self._cheapest(requirement, self._token)
            if cheapest is None:
                return None
            words.update(dict.fromkeys(cheapest))
        return " ".join(words) or None

    def _cheapest(self, requirement: Requirement, token: ScopeSet) -> list[str] | None:
        segments = self._segments
        grants, user_ids = token.grants, token.user_ids
        best: list[str] | None = None
        best_rank = (0, 0)
        for alt in requirement:
            if alt.needs_principal and not user_ids and not alt.principal_named:
                continue  # it needs some user id, and the request names none we could add
            words = [need.filled(segments) for need in alt.lacking(grants, user_ids, segments)]
            if not words or not all(_one_scope(word) for word in words):
                continue
            narrow = sum(need.kind == NeedKind.PERMISSION_PARAM for need in alt.needs)
            rank = (len(words), -narrow)
            if best is None or rank < best_rank:
                best, best_rank = words, rank
        return best

    @property
    def reason(self) -> str:
        """One line: the verdict, the rule, what was needed and what the token had."""
        request = f"{shown(self._method)} {shown(_without_query(self._path))}"
        if self._allowed:
            granted = " ".join(self.granted) or (
                "nothing (public)" if not self._granting else "any valid token"
            )
            return f"allowed: {request} matches {self.rule}; granted by {granted}"
        if self._code is Code.INSUFFICIENT_SCOPE:
            needed = " or ".join(self.needed)
            return f"denied: {request} needs {needed}{self._detail}; the token has {self._held()}"
        return f"denied: {request}: {self._detail}"

    def explain(self) -> str:
        """A short human explanation, several lines, for `scopes explain` and logs."""
        lines = [self.reason.split(": ", 1)[0].upper() + f" ({self.code})"]
        lines.append(f"  request: {shown(self._method)} {shown(_without_query(self._path))}")
        lines.append(f"  rule:    {self.rule or '(no rule matched)'}")
        if self._unmet or self._allowed:
            needed = self.needed
            lines.append(f"  needs:   {' or '.join(needed) if needed else 'nothing (public)'}")
        if self._token is not None:
            lines.append(f"  token:   {self._held()}")
        if self._allowed:
            lines.append(f"  granted: {' '.join(self.granted) or 'nothing needed'}")
        else:
            lines.append(f"  why:     {self.reason.split(': ', 1)[1]}")
            missing = self.missing
            if missing:
                lines.append(f"  fix:     add {missing}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """A stable JSON-ready form for `--json` and decision logs."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "code": str(self.code),
            "rule": self.rule,
            "needed": list(self.needed),
            "granted": list(self.granted),
            "missing": self.missing,
        }

    # -- helpers -------------------------------------------------------------------------------

    def _held(self) -> str:
        text = str(self._token) if self._token is not None else ""
        return shown(text) if text else "no scopes"


# The name a class was created with, read by type's own descriptor so no metaclass code runs.
_type_name = type.__dict__["__name__"].__get__


def _without_query(path: object) -> object:
    """A target as messages show it: never its query, where tokens and secrets travel
    (RFC 6750 §2.3; DESIGN.md, "Logs, limits and the registry")."""
    if type(path) is str:
        return path.partition("?")[0]
    return path


def _one_scope(word: str) -> bool:
    """Whether `word` is one scope token a scope string can carry."""
    return bool(word) and " " not in word and is_well_formed(word)

