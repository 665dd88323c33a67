"""Compiled policy: routes, requirements and the router, built once per policy.

Every per-request question becomes dict lookups and set membership: literal path segments are
dict keys (never patterns), requirements are pre-split into the exact strings to look up in a
token's `grants`, and placeholders are segment indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scopes.paths import MAX_PATH_LENGTH, PathRejection, canonical_segments, plain_segment

__all__ = [
    "Alternative",
    "GraphQLRoute",
    "Need",
    "Route",
    "Router",
    "template_segments",
]


def __dir__() -> list[str]:
    return __all__


# Need kinds, in the order the evaluator tests them.
PERMISSION = 0  # `name`, or `name:<literal>`: the bare scope covers every qualifier
PERMISSION_PARAM = 1  # `name:{param}`
PRINCIPAL = 2  # `user_id:<literal>`
PRINCIPAL_PARAM = 3  # `user_id:{param}`


@dataclass(frozen=True, slots=True)
class Need:
    """One scope an alternative needs, with its placeholder resolved to a segment index."""

    kind: int
    name: str  # the catalogue name, or the principal name
    qualifier: str | None = None  # a literal qualifier or principal id
    param: int = -1  # segment index for *_PARAM kinds
    param_name: str = ""  # the placeholder's name, for messages
    full: str = field(init=False, compare=False)  # `name:qualifier`, looked up in grants

    def __post_init__(self) -> None:
        full = self.name if self.qualifier is None else f"{self.name}:{self.qualifier}"
        object.__setattr__(self, "full", full)

    @property
    def text(self) -> str:
        """As written in the policy, e.g. `read:brands:{id}`."""
        if self.kind in (PERMISSION_PARAM, PRINCIPAL_PARAM):
            return f"{self.name}:{{{self.param_name}}}"
        return self.full

    def filled(self, segments: tuple[str, ...]) -> str:
        """The concrete scope this request needs, placeholders filled from the path."""
        if self.kind in (PERMISSION_PARAM, PRINCIPAL_PARAM):
            return f"{self.name}:{segments[self.param]}"
        return self.text


@dataclass(frozen=True, slots=True)
class Alternative:
    """A conjunction: every need, and a principal in the token when a scope requires one."""

    needs: tuple[Need, ...]
    needs_principal: bool  # some scope here grants only beside a `user_id:<id>`

    @property
    def text(self) -> str:
        """As written in the policy, e.g. `read:brands:{id}`."""
        return self.render(None)

    def render(self, segments: tuple[str, ...] | None) -> str:
        """The scopes this alternative needs; with segments, placeholders filled in."""
        words = [need.text if segments is None else need.filled(segments) for need in self.needs]
        if self.needs_principal and not any(n.kind >= PRINCIPAL for n in self.needs):
            words.append("+ any user_id:<id>")
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class GraphQLRoute:
    """Per operation type, per root field: the alternatives (an empty tuple: public)."""

    operations: dict[str, dict[str, tuple[Alternative, ...]]]


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One method on one path template, with what it needs."""

    method: str
    template: str
    params: tuple[tuple[str, int], ...]  # (name, segment index)
    alternatives: tuple[Alternative, ...]  # empty: public
    graphql: GraphQLRoute | None = None
    rule: str = field(init=False)
    param_indexes: tuple[int, ...] = field(init=False)  # the segments a request binds
    literal_segments: tuple[str, ...] | None = field(init=False)  # the whole path, if literal

    def __post_init__(self) -> None:
        shape = template_segments(self.template)
        setattr_ = object.__setattr__
        setattr_(self, "rule", f"{self.method} {self.template}")
        setattr_(self, "param_indexes", tuple(i for i, seg in enumerate(shape) if seg is None))
        setattr_(self, "literal_segments", None if None in shape else shape)

    @property
    def public(self) -> bool:
        return not self.alternatives and self.graphql is None


def template_segments(template: str) -> tuple[str | None, ...]:
    """`/users/{user_id}/tokens` -> ("users", None, "tokens"): None marks a parameter."""
    return tuple(
        None if seg.startswith("{") and seg.endswith("}") else seg
        for seg in template[1:].split("/")
    )


class _Node:
    __slots__ = ("literal", "param", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.routes: dict[str, Route] | None = None  # method -> route, where a template ends


class Router:
    """Finds the route for (method, segments) in time independent of the table's size.

    Fully literal templates are one dict lookup on the segment tuple. Templates with parameters
    live in one segment trie; at each depth a literal child is tried before the parameter child
    ("static segments win"), backtracking only where both exist. A parameter never matches an
    empty segment (the trailing slash in `/brands/`). Literal segments are dict keys, never
    patterns, and the work per request is bounded by the path's depth.

        /brands            -> _static[("brands",)]["GET"]
        /brands/acme       -> trie: "brands" -> {id} -> routes["GET"]   (GET /brands/{id})
    """

    __slots__ = ("_static", "_trie", "routes", "by_path")

    def __init__(self, routes: list[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._static: dict[tuple[str, ...], dict[str, Route]] = {}
        # The fully literal templates by their text: a raw path equal to one is canonical.
        self.by_path: dict[str, dict[str, Route]] = {}
        self._trie = _Node()
        for route in routes:
            shape = template_segments(route.template)
            if None not in shape:
                self._static.setdefault(shape, {})[route.method] = route  # type: ignore[index]
                self.by_path.setdefault(route.template, {})[route.method] = route
                continue
            node = self._trie
            for seg in shape:
                if seg is None:
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
                else:
                    node = node.literal.setdefault(seg, _Node())
            if node.routes is None:
                node.routes = {}
            node.routes[route.method] = route

    def match(self, method: str, segments: tuple[str, ...]) -> Route | None:
        """The route for this exact method and path, or None."""
        static = self._static.get(segments)
        if static is not None:
            route = static.get(method)
            if route is not None:
                return route
        return _walk(self._trie, segments, method)

    def resolve(
        self, method: str, target: object
    ) -> tuple[Route | None, tuple[str, ...] | PathRejection]:
        """Route a raw request target: (route, segments), (None, segments) when no route
        matches, or (None, PathRejection). Exactly `match(method, canonical_segments(target))`.

        A plain target is routed before it is canonicalized (DESIGN.md, performance facts): a
        raw segment equal to a template's literal is canonical (templates are checked at load),
        so only the segments the matched route binds need checking, and a plain one decodes to
        itself. Whatever that cannot vouch for is canonicalized in full first.
        """
        route = None
        segments: tuple[str, ...] | None = None
        if type(target) is str and len(target) <= MAX_PATH_LENGTH:
            path: str | None = target
            query = target.find("?")
            if query != -1:
                rest = target[query + 1 :]
                # canonical_segments refuses these anywhere in the target, query included
                path = None if "#" in rest or not rest.isprintable() else target[:query]
            if path is not None:
                literal = self.by_path.get(path)
                if literal is not None:
                    route = literal.get(method)
                    if route is not None:
                        return route, route.literal_segments  # type: ignore[return-value]
                if path[:1] == "/":
                    segments = tuple(path[1:].split("/"))
                    route = _walk(self._trie, segments, method)
                    if route is not None:
                        for index in route.param_indexes:
                            if not plain_segment(segments[index]):
                                break
                        else:
                            return route, segments
        canonical = canonical_segments(target)
        if type(canonical) is not tuple:
            return None, canonical
        if route is None and canonical == segments:
            return None, canonical  # routed already: the raw segments were the canonical ones
        return self.match(method, canonical), canonical

    def methods_for(self, segments: tuple[str, ...]) -> list[str]:
        """Methods some route serves on this path (only to explain a denial)."""
        found = set(self._static.get(segments, ()))
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


def _walk(node: _Node, segments: tuple[str, ...], method: str) -> Route | None:
    """Descend literal-first; remember a parameter branch only where both exist (rare)."""
    pending: list[tuple[_Node, int]] = []
    depth = 0
    end = len(segments)
    while True:
        if depth == end:
            if node.routes is not None:
                route = node.routes.get(method)
                if route is not None:
                    return route
        else:
            segment = segments[depth]
            child = node.literal.get(segment)
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
