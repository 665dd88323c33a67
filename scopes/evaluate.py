"""The policy engine's face: `Policy` loads a policy once and answers `authorize` per request."""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scopes.catalogue import Catalogue
from scopes.decision import Code, Decision, shown
from scopes.errors import ScopeSyntaxError
from scopes.graphql import GraphQLRejection, root_operation
from scopes.model import ScopeSet
from scopes.policy.compile import Alternative, Route, Router
from scopes.policy.load import (
    LoadedPolicy,
    load_policy_dict,
    load_policy_file,
    load_policy_text,
)
from scopes.policy.schema import PolicyModel

if TYPE_CHECKING:
    from scopes.analysis.calls import Call
    from scopes.analysis.capabilities import Capability

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

    __slots__ = ("_parse", "_routes", "catalogue", "file", "model", "name", "roles", "router")

    def __init__(self, loaded: LoadedPolicy) -> None:
        self.name: str = loaded.name
        self.file: str = loaded.file
        self.catalogue: Catalogue = loaded.catalogue
        self.roles: dict[str, ScopeSet] = loaded.roles
        self.router: Router = loaded.router
        self.model: PolicyModel = loaded.model
        self._parse = loaded.catalogue.parse
        # (method, raw path) -> what routing found: a route with its segments, or the deny
        # that holds for any token. Routing depends on nothing else, so repeats skip it.
        self._routes: dict[tuple[str, str], tuple[Route, tuple[str, ...]] | Decision] = {}

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

    @classmethod
    def from_openapi(
        cls,
        source: str | Path | Mapping[str, Any],
        *,
        scheme_scopes: Mapping[str, str] | None = None,
        public_by_default: bool = False,
        skip_unsupported: bool = False,
    ) -> Policy:
        """The policy an OpenAPI 3.0 or 3.1 document describes (a JSON or YAML file, or a dict).

        Exactly as `scopes import-openapi` imports it (DESIGN.md, "Import"); raises
        `scopes.openapi.OpenAPIError` (a PolicyError) naming the JSON pointer at fault.
        """
        from scopes.openapi import import_openapi

        imported = import_openapi(
            source,
            scheme_scopes=scheme_scopes,
            public_by_default=public_by_default,
            skip_unsupported=skip_unsupported,
        )
        return cls(imported.loaded)

    # -- scopes --------------------------------------------------------------------------------

    def parse(self, text: str) -> ScopeSet:
        """Parse a scope string with this policy's catalogue (cached for repeats)."""
        return self._parse(text)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.router.routes

    def iter_routes(self) -> Iterator[Route]:
        return iter(self.router.routes)

    # -- analysis (DESIGN.md, "Analysis"): the questions live in scopes.analysis ---------------

    def minimal_scopes(self, calls: Iterable[Call | str], *, user: str | None = None) -> ScopeSet:
        """The smallest scope set this policy allows for every call (`"GET /brands/acme"`,
        `"POST /client/q messages"`): fewest scopes, then the narrowest. Raises
        ImpossibleCalls (a ValueError) naming each call no scope set can allow, and why.

        `user`: the user id to add when a scope grants only beside some user id and the set
        holds none (otherwise an id the calls name serves; with neither, the call is impossible).
        """
        from scopes.analysis.minimal import minimal_scopes

        return minimal_scopes(self, calls, user=user)

    def capabilities(self, scopes: str | ScopeSet) -> list[Capability]:
        """Every route and GraphQL root field a token with these scopes can call, ids filled
        in where the token fixes them and `{param}` where any value passes."""
        from scopes.analysis.capabilities import capabilities

        return capabilities(self, scopes)

    # -- deciding ------------------------------------------------------------------------------

    def authorize(
        self, token_scopes: str | ScopeSet, method: str, path: str, *, body: object = None
    ) -> Decision:
        """Can a token with these scopes call METHOD path? Never raises; deny is the default.

        `token_scopes` is a scope string (parsed with a cache) or a ScopeSet (one resolved by
        another catalogue is read again from its text by this one); `path` may carry a query
        string, which is ignored; `body` is the JSON body for GraphQL endpoints.
        """
        # The body is one try block (free in CPython 3.11 until something raises): whatever
        # goes wrong, including a bug of ours, ends in a deny, never in an allow.
        try:
            if type(token_scopes) is ScopeSet and token_scopes.catalogue is self.catalogue:
                token = token_scopes
            else:
                read = self._token(token_scopes, method, path)
                if isinstance(read, Decision):
                    return read
                token = read
            if type(method) is not str:
                if not isinstance(method, str):
                    return Decision.deny(
                        Code.BAD_METHOD, "the method must be a string", method, path
                    )
                method = str.__str__(method)  # a str subclass: its plain value, no overrides
            found = self._routes.get((method, path)) if type(path) is str else None
            if found is None:
                found = self._routed(method, path)
            if isinstance(found, Decision):
                return found  # a deny that holds whatever the token: bad path, no route
            route, segments = found
            if route.graphql is not None:
                return self._graphql(route, segments, token, body, method, path)
            alternatives = route.alternatives
            if not alternatives:
                return Decision.allow(route, segments, token, (), method, path)
            grants, user_ids = token.grants, token.user_ids
            for alt in alternatives:
                if alt.met(grants, user_ids, segments):
                    return Decision.allow(route, segments, token, (alt,), method, path)
            return Decision.insufficient(route, segments, token, (alternatives,), method, path)
        except Exception:  # noqa: BLE001 - authorize never raises: deny, and say so
            return Decision.deny(
                Code.INTERNAL_ERROR,
                "could not evaluate the request; denied to be safe",
                method,
                path,
            )

    def _token(self, token_scopes: object, method: object, path: object) -> ScopeSet | Decision:
        """The token's scopes as this policy's catalogue reads them, or the deny saying why not."""
        if isinstance(token_scopes, str):
            text = str.__str__(token_scopes)  # a str subclass: its plain value, no overrides
        elif isinstance(token_scopes, ScopeSet):
            if token_scopes.catalogue is self.catalogue:
                return token_scopes
            # DESIGN.md: a set means what its own catalogue says (no override of a subclass runs)
            text = ScopeSet.__str__(token_scopes)
        else:
            return Decision.deny(
                Code.BAD_SCOPES, "token scopes must be a string or a ScopeSet", method, path
            )
        try:
            return self._parse(text)
        except ScopeSyntaxError as error:
            return Decision.deny(
                Code.MALFORMED_SCOPES,
                f"the token's scopes are malformed: {error.message} (at offset {error.position})",
                method,
                path,
            )

    def _routed(self, method: str, path: object) -> tuple[Route, tuple[str, ...]] | Decision:
        """Route a request and keep the result: routing depends on (method, path) alone."""
        found = self._route(method, path)
        if type(path) is str and len(path) + len(method) <= ROUTE_CACHE_PATH_LENGTH:
            if len(self._routes) >= ROUTE_CACHE_ENTRIES:
                self._routes.clear()  # bounded: a flood of distinct paths starts it over
            self._routes[(method, path)] = found
        return found

    def _route(self, method: str, path: object) -> tuple[Route, tuple[str, ...]] | Decision:
        """What routing finds, or the deny that holds for any token."""
        routed = self.router.resolve(method, path)
        if routed.route is not None:
            return routed.route, routed.segments
        rejection = routed.rejection
        if rejection is not None:
            return Decision.deny(
                Code.BAD_PATH, f"path rejected ({rejection.code}): {rejection.message}", method, path
            )
        methods = self.router.methods_for(routed.segments)
        if methods:
            detail = f"the policy allows only {', '.join(methods)} on this path"
            if method.upper() in methods:  # RFC 9110 §9.1: methods are case-sensitive
                detail += f"; methods are case-sensitive: did you mean {method.upper()!r}?"
            return Decision.deny(Code.METHOD_NOT_ALLOWED, detail, method, path)
        return Decision.deny(Code.NO_ROUTE, "no rule in the policy matches this path", method, path)

    def _graphql(
        self,
        route: Route,
        segments: tuple[str, ...],
        token: ScopeSet,
        body: object,
        method: str,
        path: object,
    ) -> Decision:
        """Every root field of the operation that would run must be granted (GraphQL spec)."""
        assert route.graphql is not None
        smuggled = _graphql_parameter(path)
        if smuggled is not None:
            return Decision.deny(
                Code.GRAPHQL_IN_QUERY_STRING,
                f"the query string carries the GraphQL parameter {smuggled!r}; several servers "
                "read it before the body, so only a request with none is decided by its body",
                method, path, route=route, segments=segments, token=token,
            )
        if body is None:
            return Decision.deny(
                Code.BODY_REQUIRED,
                "this GraphQL endpoint is decided by its body, and no body was given",
                method, path, route=route, segments=segments, token=token,
            )
        operation = root_operation(body)
        if isinstance(operation, GraphQLRejection):
            return Decision.deny(
                Code.BAD_GRAPHQL,
                f"GraphQL request rejected ({operation.code}): {operation.message}",
                method, path, route=route, segments=segments, token=token,
            )
        fields = route.graphql.operations.get(operation.type)
        if not fields:
            return Decision.deny(
                Code.OPERATION_NOT_ALLOWED,
                f"the policy lists no {operation.type} field, so no {operation.type} is allowed "
                "(not even one that selects only __typename)",
                method, path, route=route, segments=segments, token=token,
            )
        granting: list[Alternative] = []
        unmet: list[tuple[Alternative, ...]] = []
        first_unmet = ""
        grants, user_ids = token.grants, token.user_ids
        for name in operation.fields:
            alternatives = fields.get(name)
            if alternatives is None:
                return Decision.deny(
                    Code.FIELD_NOT_ALLOWED,
                    f"the policy lists no {operation.type} field {shown(name)!r}",
                    method, path, route=route, segments=segments, token=token,
                )
            if not alternatives:
                continue
            for alt in alternatives:
                if alt.met(grants, user_ids, segments):
                    granting.append(alt)
                    break
            else:
                if not unmet:
                    first_unmet = name
                unmet.append(alternatives)
        if unmet:
            detail = f" (for {operation.type} field {shown(first_unmet)!r})"
            return Decision.insufficient(route, segments, token, tuple(unmet), method, path, detail)
        return Decision.allow(route, segments, token, tuple(granting), method, path)


# The GraphQL-over-HTTP request parameters a server may read from the URL, even on a POST.
_GRAPHQL_PARAMETERS = frozenset({"query", "operationname", "variables", "extensions"})


def _graphql_parameter(target: object) -> str | None:
    """The first GraphQL request parameter in a target's query string, or None.

    Read as loosely as any server might: `&` or `;` between parameters, the name decoded
    (`%71uery`, `+`) and compared ignoring case.
    """
    if type(target) is not str or "?" not in target:
        return None
    query = target.partition("?")[2]
    for parameter in query.replace(";", "&").split("&"):
        name = urllib.parse.unquote_plus(parameter.partition("=")[0]).strip()
        if name.lower() in _GRAPHQL_PARAMETERS:
            return name
    return None


@functools.cache
def _courier() -> Policy:
    text = resources.files("scopes.policy").joinpath(_COURIER_FILE).read_text(encoding="utf-8")
    return Policy(load_policy_text(text, file=f"scopes/policy/{_COURIER_FILE}"))


def parse(text: str) -> ScopeSet:
    """Parse a scope string with the bundled Courier catalogue (`Policy.parse` for yours).

    Raises ScopeSyntaxError (a ValueError) with the offending offset in `.position`.
    """
    return _courier()._parse(text)
