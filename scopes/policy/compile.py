"""Compiled policy: routes, requirements and the router, built once per policy.

Every per-request question becomes dict lookups and set membership: literal path segments are
dict keys (never patterns), requirements are pre-split into the exact strings to look up in a
token's `grants`, and placeholders are segment indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", f"{self.method} {self.template}")

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
    __slots__ = ("literal", "param", "route")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.route: Route | None = None


class Router:
    """Finds the route for (method, segments) in time independent of the table's size.

    Fully literal templates are one dict lookup on the segment tuple. Templates with parameters
    live in a segment trie per method; at each depth a literal child is tried before the
    parameter child ("static segments win"), backtracking only where both exist. A parameter
    never matches an empty segment (the trailing slash in `/brands/`).

    >>> router.match("GET", ("brands", "acme"))   # Route for GET /brands/{id}
    """

    __slots__ = ("_static", "_tries", "_paths", "routes")

    def __init__(self, routes: list[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._static: dict[str, dict[tuple[str, ...], Route]] = {}
        self._tries: dict[str, _Node] = {}
        # every method a template shape serves, to tell "no such path" from "method not allowed"
        self._paths: dict[tuple[str | None, ...], list[Route]] = {}
        for route in routes:
            shape = template_segments(route.template)
            self._paths.setdefault(shape, []).append(route)
            if None not in shape:
                self._static.setdefault(route.method, {})[shape] = route  # type: ignore[index]
                continue
            node = self._tries.setdefault(route.method, _Node())
            for seg in shape:
                if seg is None:
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
                else:
                    node = node.literal.setdefault(seg, _Node())
            node.route = route

    def match(self, method: str, segments: tuple[str, ...]) -> Route | None:
        """The route for this exact method and path, or None."""
        static = self._static.get(method)
        if static is not None:
            route = static.get(segments)
            if route is not None:
                return route
        root = self._tries.get(method)
        if root is None:
            return None
        return _walk(root, segments)

    def methods_for(self, segments: tuple[str, ...]) -> list[str]:
        """Methods some route serves on this path (slow path: only to explain a denial)."""
        found = set()
        for shape, routes in self._paths.items():
            if len(shape) == len(segments) and all(
                (want is None and got) or want == got for want, got in zip(shape, segments)
            ):
                found.update(route.method for route in routes)
        return sorted(found)


def _walk(node: _Node, segments: tuple[str, ...]) -> Route | None:
    """Descend literal-first; remember a parameter branch only where both exist (rare)."""
    pending: list[tuple[_Node, int]] = []
    depth = 0
    end = len(segments)
    while True:
        if depth == end:
            if node.route is not None:
                return node.route
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
