"""The policy engine's face: `Policy` loads a policy once and answers `authorize` per request."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from scopes.catalogue import Catalogue
from scopes.decision import Decision, shown
from scopes.errors import ScopeSyntaxError
from scopes.graphql import Operation, root_operation
from scopes.model import ScopeSet
from scopes.policy.compile import (
    PERMISSION,
    PERMISSION_PARAM,
    PRINCIPAL,
    Alternative,
    Route,
)
from scopes.policy.load import LoadedPolicy, load_policy_dict, load_policy_file, load_policy_text

__all__ = ["Policy", "parse"]

_COURIER_FILE = "courier.toml"
ROUTE_CACHE_ENTRIES = 4096  # routing results kept per policy (then the cache starts over)
ROUTE_CACHE_PATH_LENGTH = 512  # longer method + path: routed every time, never kept


def __dir__() -> list[str]:
    return __all__


class Policy:
    """A loaded, compiled policy. Build one per process (or per reload) and share it.

    >>> policy = Policy.courier()
    >>> bool(policy.authorize("read:brands", "GET", "/brands/acme"))
    True
    """

    __slots__ = ("name", "file", "catalogue", "roles", "router", "model", "_parse", "_routes")

    def __init__(self, loaded: LoadedPolicy) -> None:
        self.name = loaded.name
        self.file = loaded.file
        self.catalogue: Catalogue = loaded.catalogue
        self.roles: dict[str, ScopeSet] = loaded.roles
        self.router = loaded.router
        self.model = loaded.model
        self._parse = loaded.catalogue.parse
        # (method, raw path) -> what routing found: (route, segments), or (None, the deny that
        # holds for any token). Routing depends on nothing else, so repeats skip it.
        self._routes: dict[tuple[str, str], tuple] = {}

    def __repr__(self) -> str:
        return f"Policy(name={self.name!r}, file={self.file!r}, routes={len(self.router.routes)})"

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def courier(cls) -> Policy:
        """The bundled Courier policy (the table in Courier's "Create an auth token" docs)."""
        return _courier()

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Load a TOML policy file; raises PolicyError naming file, line, entry and fix."""
        return cls(load_policy_file(path))

    @classmethod
    def from_toml(cls, text: str, *, file: str = "<policy>") -> Policy:
        return cls(load_policy_text(text, file=file))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, file: str = "<dict>") -> Policy:
        return cls(load_policy_dict(data, file=file))

    # -- scopes --------------------------------------------------------------------------------

    def parse(self, text: str) -> ScopeSet:
        """Parse a scope string with this policy's catalogue (cached for repeats)."""
        return self._parse(text)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.router.routes

    def iter_routes(self) -> Iterator[Route]:
        return iter(self.router.routes)

    # -- deciding ------------------------------------------------------------------------------

    def authorize(
        self, token_scopes: str | ScopeSet, method: str, path: str, *, body: object = None
    ) -> Decision:
        """Can a token with these scopes call METHOD path? Never raises; deny is the default.

        `token_scopes` is a scope string (parsed with a cache) or a ScopeSet; `path` may carry
        a query string, which is ignored; `body` is the JSON body for GraphQL endpoints.
        """
        # The body is one try block (free in CPython 3.11 until something raises): whatever
        # goes wrong, including a bug of ours, ends in a deny, never in an allow.
        try:
            if type(token_scopes) is ScopeSet:
                token = token_scopes
            elif type(token_scopes) is str:
                try:
                    token = self._parse(token_scopes)
                except ScopeSyntaxError as error:
                    return _deny(
                        "malformed-scopes",
                        f"the token's scopes are malformed: {error.message} "
                        f"(at offset {error.position})",
                        method,
                        path,
                    )
            elif isinstance(token_scopes, ScopeSet):
                token = token_scopes
            else:
                return _deny("bad-scopes", "token scopes must be a string or a ScopeSet", method, path)
            if type(method) is not str:
                return _deny("bad-method", "the method must be a string", method, path)
            # Routing depends on (method, path) alone, so its result is cached; a miss takes
            # the fast route, and only what that cannot vouch for is canonicalized in full.
            key = (method, path) if type(path) is str else None
            found = self._routes.get(key) if key is not None else None
            if found is None:
                found = self._route(method, path)
                if key is not None and len(path) + len(method) <= ROUTE_CACHE_PATH_LENGTH:
                    if len(self._routes) >= ROUTE_CACHE_ENTRIES:
                        self._routes.clear()  # bounded: a flood of distinct paths starts it over
                    self._routes[key] = found
            route, segments = found
            if route is None:
                return segments  # a deny that holds whatever the token: bad path, no route
            if route.graphql is not None:
                return _graphql(route, segments, token, body, method, path)
            alternatives = route.alternatives
            if not alternatives:
                return Decision(True, "allowed", route, segments, token, (), "", method, path)
            grants = token.grants
            user_ids = token.user_ids
            for alt in alternatives:
                if _satisfied(alt, grants, user_ids, segments):
                    return Decision(True, "allowed", route, segments, token, (alt,), "", method, path)
            return Decision(
                False, "insufficient-scope", route, segments, token, alternatives, "", method, path
            )
        except Exception as error:
            return _deny(
                "internal-error",
                f"could not evaluate ({type(error).__name__}); denied to be safe",
                method,
                path,
            )

    def _route(self, method: str, path: object) -> tuple:
        """(route, segments) for a request, or (None, the deny that holds for any token)."""
        route, segments = self.router.resolve(method, path)
        if route is not None:
            return route, segments
        if type(segments) is not tuple:
            return None, _deny(
                "bad-path", f"path rejected ({segments.code}): {segments.message}", method, path
            )
        return None, self._no_route(method, path, segments)

    def _no_route(self, method: str, path: str, segments: tuple[str, ...]) -> Decision:
        methods = self.router.methods_for(segments)
        if methods:
            return _deny(
                "method-not-allowed",
                f"the policy allows only {', '.join(methods)} on this path",
                method,
                path,
            )
        return _deny("no-route", "no rule in the policy matches this path", method, path)


def _deny(code: str, detail: str, method: object, path: object) -> Decision:
    return Decision(False, code, None, None, None, (), detail, method, path)


def _satisfied(alt: Alternative, grants, user_ids, segments: tuple[str, ...]) -> bool:
    """All of the alternative's needs are in the token (a bare scope covers its qualifiers)."""
    if alt.needs_principal and not user_ids:
        return False
    for need in alt.needs:
        kind = need.kind
        if kind == PERMISSION:
            if need.name not in grants and need.full not in grants:
                return False
        elif kind == PERMISSION_PARAM:
            if need.name not in grants and f"{need.name}:{segments[need.param]}" not in grants:
                return False
        elif kind == PRINCIPAL:
            if need.qualifier not in user_ids:
                return False
        elif segments[need.param] not in user_ids:  # PRINCIPAL_PARAM
            return False
    return True


def _graphql(route: Route, segments, token: ScopeSet, body, method, path) -> Decision:
    """Every root field of the operation that would run must be granted (GraphQL spec)."""
    if body is None:
        return Decision(False, "body-required", route, segments, token, (),
                        "this GraphQL endpoint is decided by its body, and no body was given",
                        method, path)
    operation = root_operation(body)
    if type(operation) is not Operation:
        return Decision(False, "bad-graphql", route, segments, token, (),
                        f"GraphQL request rejected ({operation.code}): {operation.message}",
                        method, path)
    fields = route.graphql.operations.get(operation.type) or {}
    granting: list[Alternative] = []
    grants, user_ids = token.grants, token.user_ids
    for name in operation.fields:
        alternatives = fields.get(name)
        if alternatives is None:
            return Decision(False, "field-not-allowed", route, segments, token, (),
                            f"the policy lists no {operation.type} field {shown(name)!r}",
                            method, path)
        if not alternatives:
            continue
        for alt in alternatives:
            if _satisfied(alt, grants, user_ids, segments):
                granting.append(alt)
                break
        else:
            return Decision(False, "insufficient-scope", route, segments, token, alternatives,
                            f" (for {operation.type} field {name!r})", method, path)
    return Decision(True, "allowed", route, segments, token, tuple(granting), "", method, path)


@functools.cache
def _courier() -> Policy:
    text = resources.files("scopes.policy").joinpath(_COURIER_FILE).read_text(encoding="utf-8")
    return Policy(load_policy_text(text, file=f"scopes/policy/{_COURIER_FILE}"))


def parse(text: str) -> ScopeSet:
    """Parse a scope string with the bundled Courier catalogue (`Policy.parse` for yours).

    Raises ScopeSyntaxError (a ValueError) with the offending offset in `.position`.
    """
    return _courier()._parse(text)
