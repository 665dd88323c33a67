"""Compiling a checked policy into routes, requirements and the router, once per policy.

Every per-request question becomes dict lookups and set membership: literal path segments are
dict keys (never patterns), requirements are pre-split into the exact strings to look up in a
token's `grants`, placeholders are segment indexes. This module owns the one path-template
parser (`PathTemplate.parse`, as starlette's `compile_path` is), the one judge of whether a
requirement is met (`Alternative.met`), and route precedence (`Router`). Its mistakes are
`CompileError`s naming the problem and a fix; the loader adds the file, line and entry.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from scopes.catalogue import Catalogue
from scopes.errors import ScopeSyntaxError
from scopes.model import PermissionScope, PrincipalScope, Scope, ScopeSet
from scopes.paths import PathRejection, canonical_segments, plain_segment, raw_target

__all__ = [
    "ANY_TOKEN",
    "EMPTY_ALTERNATIVE",
    "Alternative",
    "CompileError",
    "GraphQLRoute",
    "Need",
    "NeedKind",
    "PathTemplate",
    "Route",
    "Routed",
    "Router",
    "bind_principal",
    "methods",
    "requirement",
    "role",
]


def __dir__() -> list[str]:
    return __all__


class CompileError(ValueError):
    """A policy entry that cannot be compiled: what is wrong and how to fix it.

    `origin` names the entry (as `Route.origin` does) when the problem is between routes;
    `key` the entry's key the problem is in (`any_of`), so a message can point at its line.
    """

    def __init__(self, message: str, fix: str | None = None, origin: str | None = None,
                 key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.origin = origin
        self.key = key


# -- path templates ------------------------------------------------------------------------------

# RFC 3986 §2.3: the characters a literal segment may hold raw, as the canonicalizer keeps them.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A path template, parsed once: its literal segments and its parameters.

        PathTemplate.parse("/users/{user_id}/tokens")
          segments = ("users", None, "tokens")     None marks a parameter
          params   = (("user_id", 1),)              name, segment index

    A parameter is a whole segment; a literal segment is canonical as it stands (the
    canonicalizer decodes it to itself), so a raw request segment equal to it needs no check.
    Only the last segment may be empty (a trailing slash is part of the template, matched
    exactly).
    """

    text: str
    segments: tuple[str | None, ...]
    params: tuple[tuple[str, int], ...]

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        """Parse and check a template; CompileError says what is wrong."""
        if not text.startswith("/"):
            raise CompileError(f"path {text!r} must start with '/'", f"use '/{text}'")
        parts = text[1:].split("/")
        segments: list[str | None] = []
        params: dict[str, int] = {}
        for index, seg in enumerate(parts):
            if seg.startswith("{") and seg.endswith("}"):
                name = seg[1:-1]
                if not (name.isidentifier() and name.isascii()):
                    raise CompileError(
                        f"path parameter {seg!r} needs an identifier name",
                        "use e.g. {id} or {user_id}",
                    )
                if name in params:
                    raise CompileError(
                        f"path parameter {name!r} appears twice in {text!r}",
                        "give each parameter its own name",
                    )
                params[name] = index
                segments.append(None)
                continue
            if seg == "" and index == len(parts) - 1:
                segments.append(seg)
                continue
            if seg == "":
                raise CompileError(
                    f"path {text!r} has an empty segment ('//')",
                    "remove the doubled '/'; requests with '//' are always denied",
                )
            if "{" in seg or "}" in seg:
                raise CompileError(
                    f"segment {seg!r} of {text!r} mixes a parameter with text",
                    "a parameter is a whole segment: /brands/{id}",
                )
            if canonical_segments("/" + seg) != (seg,):
                raise CompileError(
                    f"segment {seg!r} of {text!r} is not a canonical path segment",
                    "write literal segments with unreserved characters (letters, digits, "
                    "'-', '.', '_', '~') or sub-delimiters, no '%' escapes, no dot segments",
                )
            segments.append(seg)
        return cls(text, tuple(segments), tuple(params.items()))

    def index_of(self, param: str) -> int | None:
        """The segment index of a parameter, or None when the template has no such one."""
        for name, index in self.params:
            if name == param:
                return index
        return None

    def param_names(self) -> str:
        """The parameters as a reader writes them, for messages: `{id}, {user_id}` or `none`."""
        return ", ".join(f"{{{name}}}" for name, _ in self.params) or "none"

    @property
    def literal(self) -> bool:
        return None not in self.segments

    @property
    def key(self) -> tuple[str | None, ...]:
        """The shape requests see: two templates with one key match the same requests."""
        return self.segments


# -- requirements ---------------------------------------------------------------------------------


class NeedKind(enum.IntEnum):
    """What one scope of an alternative asks of a token."""

    PERMISSION = 0  # `name`, or `name:<literal>`: the bare scope covers every qualifier
    PERMISSION_PARAM = 1  # `name:{param}`: the bare scope, or the one for this request's value
    PRINCIPAL = 2  # `user_id:<literal>`
    PRINCIPAL_PARAM = 3  # `user_id:{param}`: the path's id must be one of the token's


# Bound once: an enum member looked up on its class costs about 90 ns in CPython 3.11.
_PERMISSION = NeedKind.PERMISSION
_PERMISSION_PARAM = NeedKind.PERMISSION_PARAM
_PRINCIPAL = NeedKind.PRINCIPAL
_PRINCIPAL_PARAM = NeedKind.PRINCIPAL_PARAM


@dataclass(frozen=True, slots=True)
class Need:
    """One scope an alternative needs, with its placeholder resolved to a segment index."""

    kind: NeedKind
    name: str  # the catalogue name, or the principal name
    qualifier: str | None = None  # a literal qualifier or principal id
    param: int = -1  # segment index for *_PARAM kinds
    param_name: str = ""  # the placeholder's name, for messages
    full: str = field(init=False, compare=False)  # `name:qualifier`, looked up in grants

    def __post_init__(self) -> None:
        full = self.name if self.qualifier is None else f"{self.name}:{self.qualifier}"
        object.__setattr__(self, "full", full)

    @property
    def principal(self) -> bool:
        return self.kind >= _PRINCIPAL

    @property
    def text(self) -> str:
        """As written in the policy, e.g. `read:brands:{id}`."""
        if self.kind == _PERMISSION_PARAM or self.kind == _PRINCIPAL_PARAM:
            return f"{self.name}:{{{self.param_name}}}"
        return self.full

    def value(self, segments: Sequence[str]) -> str | None:
        """The qualifier or principal id this request asks for (None: a bare permission)."""
        if self.param >= 0:
            return segments[self.param]
        return self.qualifier

    def filled(self, segments: Sequence[str] | None) -> str:
        """The concrete scope this request needs, placeholders filled from the path."""
        if self.param >= 0 and segments is not None:
            return f"{self.name}:{segments[self.param]}"
        return self.text


Judge = Callable[[Collection[str], Collection[str], Sequence[str]], bool]


@dataclass(frozen=True, slots=True)
class Alternative:
    """A conjunction: every need, and a principal in the token when a scope requires one.

    An alternative with no needs is met by any token (`authenticated`). `met(grants,
    user_ids, segments)` is the one judge of whether a token meets a requirement, compiled once
    from the needs (see `_judge`).
    """

    needs: tuple[Need, ...]
    needs_principal: bool  # some scope here grants only beside a `user_id:<id>`
    met: Judge = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "met", _judge(self.needs, self.needs_principal))

    def lacking(
        self, grants: Collection[str], user_ids: Collection[str], segments: Sequence[str]
    ) -> tuple[Need, ...]:
        """The needs a token with these grants and user ids does not meet (asked of `met`)."""
        return tuple(
            need for need in self.needs if not _alone(need).met(grants, user_ids, segments)
        )

    def granted_by(
        self, grants: Collection[str], user_ids: Collection[str], segments: Sequence[str]
    ) -> tuple[str, ...]:
        """For an alternative the token meets: the token's scope that meets each need (the
        bare scope where the token has it, else the one for this request)."""
        found = []
        for need in self.needs:
            bare = _alone(Need(_PERMISSION, need.name))
            if not need.principal and bare.met(grants, user_ids, segments):
                found.append(need.name)
            else:
                found.append(need.filled(segments))
        return tuple(found)

    @property
    def principal_named(self) -> bool:
        """Whether one of its needs names the principal (so `needs_principal` is then met)."""
        return any(need.principal for need in self.needs)

    @property
    def text(self) -> str:
        """As written in the policy, e.g. `read:brands:{id}`."""
        return self.render(None)

    def render(self, segments: Sequence[str] | None) -> str:
        """The scopes this alternative needs; with segments, placeholders filled in."""
        words = [need.filled(segments) for need in self.needs]
        if self.needs_principal and not self.principal_named:
            words.append("+ any user_id:<id>")
        return " ".join(words) or "any valid token"


def _judge(needs: tuple[Need, ...], needs_principal: bool) -> Judge:
    """Compile an alternative's needs into one expression over (grants, user ids, segments).

    DESIGN.md: a bare permission covers every qualifier of it; a principal need is met by one
    of the token's user ids; `needs_principal` asks for some user id. For example
    `read:brands:{id}` plus a binding of `{user_id}` (segment 1) becomes

        lambda g, u, s: ('read:brands' in g or 'read:brands:' + s[3] in g) and s[1] in u

    Deciding is then a few set lookups with no dispatch (about 60 ns in CPython 3.11, a third
    of a loop over the needs). The expression holds only `repr()`s of the policy's names, which
    the loader checked to be scope tokens, and segment indexes: nothing a request supplies.
    """
    terms = ["not not u"] if needs_principal else []
    for need in needs:
        if need.kind == _PERMISSION:
            if need.qualifier is None:
                terms.append(f"{need.name!r} in g")
            else:
                terms.append(f"({need.name!r} in g or {need.full!r} in g)")
        elif need.kind == _PERMISSION_PARAM:
            terms.append(f"({need.name!r} in g or {need.name + ':'!r} + s[{need.param:d}] in g)")
        elif need.kind == _PRINCIPAL:
            terms.append(f"{need.qualifier!r} in u")
        else:
            terms.append(f"s[{need.param:d}] in u")
    return _compiled(" and ".join(terms) or "True")


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> Judge:
    """One function per distinct expression: compiling costs about 70 µs, and the routes of a
    large policy repeat their requirements (a judge is pure, so routes may share one)."""
    judge: Judge = eval(f"lambda g, u, s: {expression}", {"__builtins__": {}})
    return judge


@functools.lru_cache(maxsize=4096)
def _alone(need: Need) -> Alternative:
    """The alternative of this one need, its judge compiled once: explaining a decision (every
    decision-log line renders one) asks it again and again, and compiling costs tens of µs."""
    return Alternative((need,), False)


ANY_TOKEN = (Alternative((), False),)
EMPTY_ALTERNATIVE = (
    "an empty alternative would allow any token: write `authenticated = true` for any valid "
    "token, or `public = true` if no token is needed"
)  # `authenticated = true`: met by any valid token


def requirement(
    any_of: Iterable[str], template: PathTemplate, catalogue: Catalogue
) -> tuple[Alternative, ...]:
    """Compile `any_of` (each a scope string whose scopes are all needed) for a route.

    No alternative at all is a public route; `ANY_TOKEN` is `authenticated = true`.
    """
    alternatives = []
    for text in any_of:
        if not text.strip():
            message, _, fix = EMPTY_ALTERNATIVE.partition(": ")
            raise CompileError(message, fix)
        scopes = _scopes_of(text, catalogue)
        needs = tuple(dict.fromkeys(_need(scope, template, catalogue) for scope in scopes))
        needs_principal = any(
            catalogue.specs[need.name].needs_principal for need in needs if not need.principal
        )
        alternatives.append(Alternative(needs, needs_principal))
    return tuple(alternatives)


def _scopes_of(text: str, catalogue: Catalogue) -> list[Scope]:
    """A scope string of the policy, read by its catalogue; CompileError when malformed."""
    try:
        return catalogue.parse_scopes(text)
    except ScopeSyntaxError as error:
        raise CompileError(
            f"invalid scope string:\n{error}",
            "write scopes separated by single spaces (RFC 6749 §3.3)",
        ) from None


def _need(scope: object, template: PathTemplate, catalogue: Catalogue) -> Need:
    if isinstance(scope, PrincipalScope):
        placeholder = _placeholder(scope.id)
        if placeholder is None:
            return Need(NeedKind.PRINCIPAL, scope.name, scope.id)
        return Need(
            NeedKind.PRINCIPAL_PARAM, scope.name, None, _param(placeholder, template), placeholder
        )
    if isinstance(scope, PermissionScope):
        if scope.qualifier is None:
            return Need(_PERMISSION, scope.name)
        placeholder = _placeholder(scope.qualifier)
        if placeholder is None:
            if "{" in scope.qualifier or "}" in scope.qualifier:
                raise CompileError(
                    f"placeholder in {str(scope)!r} must be the whole qualifier",
                    f"write {scope.name}:{{param}}",
                )
            return Need(_PERMISSION, scope.name, scope.qualifier)
        return Need(
            _PERMISSION_PARAM, scope.name, None, _param(placeholder, template), placeholder
        )
    raise _unknown_scope(str(scope), catalogue)


def _unknown_scope(text: str, catalogue: Catalogue) -> CompileError:
    """The catalogue's words for an unknown scope, and what to change in the policy."""
    unknown = catalogue.unknown(text)
    if unknown.kind == "takes-no-qualifier":
        fix = f"or declare `qualifier = ...` under [scopes.{unknown.name!r}] if it takes one"
    elif unknown.kind == "list":
        items = (unknown.suggestion or "").split()
        either = ", ".join(f'"{item}"' for item in items)
        fix = f"if all are needed, write {unknown.suggestion!r}; if any one suffices: [{either}]"
    elif unknown.suggestion is not None:
        fix = f"or declare it under [scopes.{text!r}] if it is a new scope"
    else:
        fix = f"declare it under [scopes.{text!r}] or correct its spelling"
    return CompileError(unknown.message, fix)


def role(text: str, catalogue: Catalogue) -> ScopeSet:
    """A role's scope string: known scopes only (a role is what clients are given)."""
    scopes = _scopes_of(text, catalogue)
    for scope in scopes:
        if not isinstance(scope, (PermissionScope, PrincipalScope)):
            raise _unknown_scope(str(scope), catalogue)
    return ScopeSet(scopes, catalogue)


# RFC 9110 §5.6.2: token = 1*tchar
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def methods(names: Sequence[str]) -> tuple[str, ...]:
    """Check a route's methods: HTTP tokens, upper case (methods are case-sensitive), once each."""
    for method in names:
        if not method or not all(ch in _TCHAR for ch in method):
            raise CompileError(
                f"method {method!r} is not an HTTP method token (RFC 9110)",
                'use names such as "GET", "PUT", "DELETE"',
            )
        if method != method.upper():
            raise CompileError(
                f"method {method!r} is not upper case; methods are case-sensitive",
                f"did you mean {method.upper()!r}?",
            )
    if len(set(names)) != len(names):
        raise CompileError("a method is listed twice", "list each once")
    return tuple(names)


def _placeholder(text: str) -> str | None:
    if len(text) > 2 and text[0] == "{" and text[-1] == "}" and text[1:-1].isidentifier():
        return text[1:-1]
    return None


def _param(name: str, template: PathTemplate) -> int:
    index = template.index_of(name)
    if index is None:
        raise CompileError(
            f"placeholder {{{name}}} is not a parameter of the path",
            f"use one of the path's parameters ({template.param_names()})",
        )
    return index


def bind_principal(
    name: str, alternatives: tuple[Alternative, ...], template: PathTemplate, catalogue: Catalogue
) -> tuple[Alternative, ...]:
    """Every alternative, also needing the path parameter `name` among the token's user ids."""
    index = template.index_of(name)
    if index is None:
        raise CompileError(
            f"principal_param {name!r} is not a parameter of the path {template.text!r}",
            f"use one of the path's parameters ({template.param_names()})",
        )
    bound = Need(NeedKind.PRINCIPAL_PARAM, catalogue.principal, None, index, name)
    return tuple(
        Alternative(alt.needs if bound in alt.needs else alt.needs + (bound,), alt.needs_principal)
        for alt in alternatives
    )


# -- routes ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GraphQLRoute:
    """Per operation type, per root field: the alternatives (an empty tuple: public)."""

    operations: dict[str, dict[str, tuple[Alternative, ...]]]


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One method on one path template, with what it needs."""

    method: str
    path: PathTemplate
    alternatives: tuple[Alternative, ...]  # empty: public
    graphql: GraphQLRoute | None = None
    origin: str = ""  # the policy entry it comes from, e.g. "endpoints[3]"
    rule: str = field(init=False)
    param_indexes: tuple[int, ...] = field(init=False)  # the segments a request binds

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", f"{self.method} {self.path.text}")
        object.__setattr__(self, "param_indexes", tuple(index for _, index in self.path.params))

    @property
    def template(self) -> str:
        return self.path.text

    @property
    def params(self) -> tuple[tuple[str, int], ...]:
        return self.path.params

    @property
    def public(self) -> bool:
        """No token is needed."""
        return not self.alternatives and self.graphql is None

    @property
    def authenticated(self) -> bool:
        """Any valid token passes, even one with no scopes."""
        return self.alternatives == ANY_TOKEN


class _Node:
    __slots__ = ("folded", "literal", "param", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.routes: dict[str, Route] | None = None  # method -> route, where a template ends
        # The literal children by their lower-cased text: how a case-insensitive router
        # reads this node (the loader refuses two that fold alike).
        self.folded: dict[str, _Node] = {}


@dataclass(frozen=True, slots=True)
class Routed:
    """What routing a raw target found: a route and the decoded segments, or why not.

    `route` is None when no route matched; `rejection` is set when the target itself was
    refused (then `segments` is empty).
    """

    route: Route | None
    segments: tuple[str, ...]
    rejection: PathRejection | None = None


class Router:
    """Finds the route for (method, segments) in time independent of the table's size.

    Fully literal templates are one dict lookup on the path. Every template also lives in one
    segment trie; at each depth a literal child is tried before the parameter child ("static
    segments win"), backtracking only where both exist. A parameter never matches an empty
    segment (the trailing slash in `/brands/`). Literal segments are dict keys, never patterns,
    and the work per request is bounded by the path's depth.

        /brands            -> _static["/brands"]["GET"]
        /brands/acme       -> trie: "brands" -> {id} -> routes["GET"]   (GET /brands/{id})

    Building it refuses routes that no request can tell apart (CompileError).
    """

    __slots__ = ("_confusable", "_static", "_trie", "routes")

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._static: dict[str, dict[str, Route]] = {}
        self._trie = _Node()
        for route in self.routes:
            node = self._trie
            for seg in route.path.segments:
                if seg is None:
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
                else:
                    node = node.literal.setdefault(seg, _Node())
            if node.routes is None:
                node.routes = {}
            other = node.routes.get(route.method)
            if other is not None:
                raise CompileError(
                    f"route {route.rule} is declared twice (also by {other.origin or other.rule}); "
                    "the two would match the same requests",
                    "merge the two entries, or remove one",
                    route.origin,
                )
            node.routes[route.method] = route
            if route.path.literal:
                self._static.setdefault(route.path.text, {})[route.method] = route
        self._fold(self._trie)
        # Per route, the bound segments a case-insensitive router could read as a literal of
        # another route: (segment index, the node whose literal children are their siblings).
        self._confusable: dict[Route, tuple[tuple[int, _Node], ...]] = {}
        for route in self.routes:
            checks = []
            node = self._trie
            for index, seg in enumerate(route.path.segments):
                if seg is not None:
                    node = node.literal[seg]
                    continue
                if node.literal:
                    checks.append((index, node))
                assert node.param is not None  # built above along this very template
                node = node.param
            if checks:
                self._confusable[route] = tuple(checks)

    def _fold(self, node: _Node) -> None:
        spelled: dict[str, str] = {}
        for literal in node.literal:
            other = spelled.setdefault(literal.lower(), literal)
            if other != literal:
                raise CompileError(
                    f"path segments {other!r} and {literal!r} differ only in case: a "
                    "case-insensitive router cannot tell their routes apart",
                    "spell the segment one way in every route",
                    self._origin_below(node.literal[literal]),
                )
        node.folded = {lower: node.literal[literal] for lower, literal in spelled.items()}
        for child in node.literal.values():
            self._fold(child)
        if node.param is not None:
            self._fold(node.param)

    def _origin_below(self, node: _Node) -> str | None:
        for route in _routes_below(node):
            return route.origin or route.rule
        return None

    # -- matching ---------------------------------------------------------------------------------

    def match(self, method: str, segments: tuple[str, ...]) -> Route | None:
        """The route for this exact method and decoded path, or None."""
        return _walk(self._trie, segments, method)

    def resolve(self, method: str, target: object) -> Routed:
        """Route a raw request target. Never raises.

        A plain target is routed before it is canonicalized (DESIGN.md, performance facts): a
        raw segment equal to a template's literal is canonical (templates are checked when
        parsed), so only the segments the matched route binds need checking, and a plain one
        decodes to itself. Whatever that cannot vouch for is canonicalized in full first.
        """
        raw = raw_target(target)
        if raw is not None:
            path, segments = raw
            literal = self._static.get(path)
            if literal is not None:
                route = literal.get(method)
                if route is not None:
                    return Routed(route, segments)
            route = _walk(self._trie, segments, method)
            if route is not None:
                for index in route.param_indexes:
                    if not plain_segment(segments[index]):
                        break
                else:
                    return self._unconfused(route, segments)
            elif "%" not in path:
                # Nothing matched the raw segments; they are canonical exactly when the
                # canonicalizer keeps them, and then they are the decoded path too.
                canonical = canonical_segments(target)
                if isinstance(canonical, PathRejection):
                    return Routed(None, (), canonical)
                return Routed(None, canonical)
        canonical = canonical_segments(target)
        if isinstance(canonical, PathRejection):
            return Routed(None, (), canonical)
        route = self.match(method, canonical)
        if route is None:
            return Routed(None, canonical)
        if raw is not None:
            # DESIGN.md, "What an allow must also survive": a router that matches the raw path
            # compares the literal as sent, so a literal reached only by decoding is refused.
            for index, seg in enumerate(route.path.segments):
                if seg is not None and raw[1][index] != seg:
                    return Routed(None, (), PathRejection(
                        "encoded-literal",
                        f"segment {index + 1} {_shown(raw[1][index])} matches the literal "
                        f"{seg!r} of {route.rule} only once decoded; routers that match the raw "
                        "path would not read it so: send it unencoded",
                    ))
        return self._unconfused(route, canonical)

    def _unconfused(self, route: Route, segments: tuple[str, ...]) -> Routed:
        """The route, unless a case-insensitive router would run another one.

        Such a router, where this route binds a value, first tries the sibling literal that
        equals the value ignoring ASCII case; if a route lies down that branch for the rest of
        the path, it runs that one instead (DESIGN.md, "What an allow must also survive").
        """
        for index, node in self._confusable.get(route, ()):
            value = segments[index]
            child = node.folded.get(value.lower())
            if child is not None and _walk(child, segments, route.method, index + 1, True):
                return Routed(None, (), PathRejection(
                    "confusable-segment",
                    f"segment {index + 1} {_shown(value)} is bound to a parameter of "
                    f"{route.rule}, but a case-insensitive router would read it as the "
                    "literal segment of another route and run that one",
                ))
        return Routed(route, segments)

    def methods_for(self, segments: tuple[str, ...]) -> list[str]:
        """Methods some route serves on this path (only to explain a denial)."""
        found: set[str] = set()
        stack = [(self._trie, 0)]
        while stack:
            node, depth = stack.pop()
            if depth == len(segments):
                found.update(node.routes or ())
                continue
            segment = segments[depth]
            child = node.literal.get(segment)
            if child is not None:
                stack.append((child, depth + 1))
            if node.param is not None and segment:
                stack.append((node.param, depth + 1))
        return sorted(found)

    def shadowed(self) -> Iterator[tuple[Route, Route, str]]:
        """(loser, winner, example path): routes of one method where a literal segment of the
        winner takes requests the loser's parameter would match (for the linter)."""
        for loser in self.routes:
            for winner in self.routes:
                if winner is loser or winner.method != loser.method:
                    continue
                example = _example_between(loser.path, winner.path)
                if example is not None and self.match(loser.method, example) is winner:
                    yield loser, winner, "/" + "/".join(example)


def _shown(text: str) -> str:
    """A request's segment quoted for a message, clipped and escaped."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _routes_below(node: _Node) -> Iterator[Route]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield from (current.routes or {}).values()
        stack.extend(current.literal.values())
        if current.param is not None:
            stack.append(current.param)


def _example_between(loser: PathTemplate, winner: PathTemplate) -> tuple[str, ...] | None:
    """A path both templates match, with the loser's parameters filled by the winner's
    literals (its own name otherwise); None when they match no path in common."""
    if len(loser.segments) != len(winner.segments) or loser.segments == winner.segments:
        return None
    names = {index: name for name, index in loser.params}
    example = []
    for index, (mine, theirs) in enumerate(zip(loser.segments, winner.segments)):
        if mine is not None and theirs is not None and mine != theirs:
            return None
        if mine is not None:
            example.append(mine)
        elif theirs is not None:
            example.append(theirs)
        else:
            example.append(names[index])
    return tuple(example)


def _walk(
    node: _Node, segments: tuple[str, ...], method: str, depth: int = 0, folded: bool = False
) -> Route | None:
    """Descend literal-first from `depth`; remember a parameter branch only where both exist
    (rare). `folded`: compare literals ignoring ASCII case, as a case-insensitive router."""
    pending: list[tuple[_Node, int]] = []
    end = len(segments)
    while True:
        if depth == end:
            if node.routes is not None:
                route = node.routes.get(method)
                if route is not None:
                    return route
        else:
            segment = segments[depth]
            child = node.folded.get(segment.lower()) if folded else node.literal.get(segment)
            param = node.param if segment else None  # a parameter never matches ""
            depth += 1
            if child is not None:
                if param is not None:
                    pending.append((param, depth))
                node = child
                continue
            if param is not None:
                node = param
                continue
        if not pending:
            return None
        node, depth = pending.pop()
