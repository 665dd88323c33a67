"""What a token can do under a policy: every route (and GraphQL root field) it can call, and
the scopes of it that grant nothing.

A route's requirement constrains each path parameter in one of two ways: any value passes
(the bare scope, `read:brands`, or no need on it), or only the values the token fixes (its
qualified scopes, `read:brands:abc`, and its user ids for a bound `{user_id}`). So each
alternative the token meets gives the product of those choices, and the route's capabilities
are their union with every entry another one covers left out. Each entry is then asked of
`authorize` with its ids filled in (and a plain probe value where any passes): one the path
rules refuse (an id such as `a/b` that no request path can carry, or one a case-insensitive
router would read as a sibling literal) is not a capability.
"""

from __future__ import annotations

import itertools
import json
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from scopes.model import PermissionScope, PrincipalScope, ScopeSet, UnknownScope
from scopes.paths import canonical_segments
from scopes.policy.compile import ANY_TOKEN, Alternative, NeedKind, Route

if TYPE_CHECKING:
    from scopes.evaluate import Policy

__all__ = ["Access", "Capability", "CapabilityReport", "Idle", "capabilities", "capability_report"]

Access = Literal["scopes", "public", "authenticated"]

# RFC 3986 §3.3 pchar, less ';' (refused by the canonicalizer): what an id may hold unescaped.
_SEGMENT_SAFE = "!$&'()*+,=:@"
# Values tried where any value passes, until one routes to the route itself (a probe may equal
# a sibling route's literal segment).
_PROBES = ("x", "x1", "value", "any-value-2")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Capability:
    """One request a token can make: `path` has the ids the token fixes filled in
    (`/brands/abc`) and `{name}` where any value passes; for a GraphQL route, one root field.

    `granted_by` holds the token's scopes that grant it (empty when `access` is "public" or
    "authenticated": no scope is needed).
    """

    method: str
    path: str
    rule: str
    operation: str | None = None
    field: str | None = None
    granted_by: tuple[str, ...] = ()
    access: Access = "scopes"
    params: tuple[tuple[str, str | None], ...] = ()  # (name, the fixed id, or None: any)

    def __str__(self) -> str:
        request = f"{self.method} {self.path}"
        return request if self.field is None else f"{request} {self.operation} {self.field}"


@dataclass(frozen=True, slots=True)
class Idle:
    """A scope of the token that grants nothing in this policy, and why."""

    scope: str
    why: str


@dataclass(frozen=True, slots=True)
class CapabilityReport:
    """Everything a token can call, and its scopes that grant nothing."""

    token: ScopeSet
    capabilities: tuple[Capability, ...]
    idle: tuple[Idle, ...] = field(default=())


def capabilities(policy: Policy, scopes: str | ScopeSet) -> list[Capability]:
    """Every route and GraphQL root field `scopes` can call under `policy`, in policy order."""
    return list(capability_report(policy, scopes).capabilities)


def capability_report(policy: Policy, scopes: str | ScopeSet) -> CapabilityReport:
    """The capabilities of a token and the scopes of it that grant nothing.

    A scope string is parsed with the policy's catalogue (ScopeSyntaxError when malformed); a
    ScopeSet of another catalogue is read again from its text, as `authorize` does.
    """
    token = scopes if isinstance(scopes, ScopeSet) and scopes.catalogue is policy.catalogue else (
        policy.parse(scopes if isinstance(scopes, str) else str(scopes))
    )
    reader = _Reader(policy, token)
    found: list[Capability] = []
    for route in policy.routes:
        if route.graphql is None:
            found += reader.route(route, route.alternatives, None, None)
            continue
        for operation, fields in route.graphql.operations.items():
            for name, alternatives in fields.items():
                found += reader.route(route, alternatives, operation, name)
    used = {word for capability in found for word in capability.granted_by}
    idle = tuple(
        Idle(str(scope), reader.why_idle(scope)) for scope in token.scopes if str(scope) not in used
    )
    return CapabilityReport(token, tuple(found), idle)


# One entry: the fixed id of each bound parameter (None: any value), and the granting scopes.
_Entry = tuple[tuple[str | None, ...], tuple[str, ...]]


class _Reader:
    def __init__(self, policy: Policy, token: ScopeSet) -> None:
        self.policy = policy
        self.token = token
        self.principal = policy.catalogue.principal
        self.grants = token.grants
        self.users = token.user_ids
        ids: dict[str, set[str]] = {}  # permission name -> the ids the token qualifies it with
        for scope in token.scopes:
            if isinstance(scope, PermissionScope) and scope.qualifier is not None:
                ids.setdefault(scope.name, set()).add(scope.qualifier)
        self.ids = {name: frozenset(values) for name, values in ids.items()}
        self.user_words = tuple(f"{self.principal}:{user}" for user in sorted(self.users))

    def route(
        self, route: Route, alternatives: tuple[Alternative, ...], operation: str | None,
        name: str | None,
    ) -> list[Capability]:
        if not alternatives or alternatives == ANY_TOKEN:
            access: Access = "public" if not alternatives else "authenticated"
            entries: list[_Entry] = [((None,) * len(route.path.params), ())]
        else:
            access = "scopes"
            entries = [entry for alt in alternatives for entry in self.entries(route, alt)]
        found = []
        for ids, granted in _uncovered(entries):
            capability = self.capability(route, ids, granted, access, operation, name)
            if capability is not None:
                found.append(capability)
        return found

    def entries(self, route: Route, alternative: Alternative) -> list[_Entry]:
        """What one alternative lets the token call: each combination of the ids it fixes."""
        if alternative.needs_principal and not self.users:
            return []
        indexes = [index for _, index in route.path.params]
        allowed: dict[int, frozenset[str]] = {}  # segment index -> the only values that pass
        granted: list[str] = []
        per_value: list[tuple[str, int]] = []  # granting scopes that depend on the id filled in
        for need in alternative.needs:
            kind = need.kind
            if kind is NeedKind.PERMISSION:
                word = need.name if need.name in self.grants else need.full
                if word not in self.grants:
                    return []
                granted.append(word)
            elif kind is NeedKind.PERMISSION_PARAM and need.name in self.grants:
                granted.append(need.name)
            elif kind is NeedKind.PRINCIPAL:
                if need.qualifier not in self.users:
                    return []
                granted.append(need.full)
            else:
                values = self.ids.get(need.name, frozenset()) if kind is NeedKind.PERMISSION_PARAM else self.users
                allowed[need.param] = allowed.get(need.param, values) & values
                if not allowed[need.param]:
                    return []
                per_value.append((need.name, need.param))
        if alternative.needs_principal and not alternative.principal_named:
            granted += self.user_words
        choices = [sorted(allowed[index]) if index in allowed else [None] for index in indexes]
        entries = []
        for combination in itertools.product(*choices):
            filled = dict(zip(indexes, combination))
            words = granted + [f"{name}:{filled[index]}" for name, index in per_value]
            entries.append((tuple(combination), tuple(dict.fromkeys(words))))
        return entries

    def capability(
        self, route: Route, ids: tuple[str | None, ...], granted: tuple[str, ...], access: Access,
        operation: str | None, name: str | None,
    ) -> Capability | None:
        """The entry as a Capability, if `authorize` allows it with its ids filled in."""
        names = [param for param, _ in route.path.params]
        body = None if name is None else json.dumps({"query": f"{operation} {{ {name} }}"})
        for probe in _PROBES:
            segments = list(route.path.segments)
            for (_, index), value in zip(route.path.params, ids):
                segments[index] = probe if value is None else urllib.parse.quote(value, _SEGMENT_SAFE)
            target = "/" + "/".join(str(segment) for segment in segments)
            routed = self.policy.router.resolve(route.method, target)
            if routed.route is not route:
                if all(value is not None for value in ids):
                    return None  # the ids themselves lead elsewhere, or are refused
                continue
            if not self.policy.authorize(self.token, route.method, target, body=body).allowed:
                return None
            shown = list(route.path.segments)
            for (param, index), value in zip(route.path.params, ids):
                shown[index] = f"{{{param}}}" if value is None else segments[index]
            path = "/" + "/".join(str(segment) for segment in shown)
            params = tuple(zip(names, ids))
            return Capability(route.method, path, route.rule, operation, name, granted, access, params)
        return None

    def why_idle(self, scope: object) -> str:
        """Why a scope of the token is part of no capability."""
        catalogue = self.policy.catalogue
        if isinstance(scope, UnknownScope):
            return catalogue.unknown(scope.text).message
        if isinstance(scope, PrincipalScope):
            return f"no route the token can call needs a {self.principal}:<id> (alone it grants nothing)"
        assert isinstance(scope, PermissionScope)
        if scope.qualifier is not None and scope.name in self.grants:
            return f"covered by {scope.name}"
        spec = catalogue.specs[scope.name]
        if spec.needs_principal and not self.users:
            return f"grants only beside a {self.principal}:<id>, and the token has none"
        if scope.qualifier is not None:
            encoded = "/" + urllib.parse.quote(scope.qualifier, _SEGMENT_SAFE)
            if canonical_segments(encoded) != (scope.qualifier,):
                return f"no request path can carry the id {scope.qualifier!r}"
        if not any(scope.name in _names(alts) for alts in _requirements(self.policy.routes)):
            return "no route of this policy accepts it"
        return "every route that accepts it also needs a scope or an id the token lacks"


def _uncovered(entries: list[_Entry]) -> list[_Entry]:
    """The entries no other entry covers (one covers another where each of its ids is the
    same or any), each once, in order: any-value entries first, then by their ids."""
    ordered = sorted(entries, key=lambda e: (sum(v is not None for v in e[0]), [v or "" for v in e[0]]))
    kept: dict[tuple[str | None, ...], _Entry] = {}
    for entry in ordered:
        ids = entry[0]
        fixed = [i for i, value in enumerate(ids) if value is not None]
        covered = False
        for count in range(len(fixed) + 1):
            for loosened in itertools.combinations(fixed, count):
                pattern = tuple(None if i in loosened else v for i, v in enumerate(ids))
                if pattern in kept:
                    covered = True
                    break
            if covered:
                break
        if not covered:
            kept[ids] = entry
    return list(kept.values())


def _requirements(routes: Sequence[Route]) -> list[tuple[Alternative, ...]]:
    found = []
    for route in routes:
        if route.graphql is None:
            found.append(route.alternatives)
        else:
            found += [alts for fields in route.graphql.operations.values() for alts in fields.values()]
    return found


def _names(alternatives: tuple[Alternative, ...]) -> set[str]:
    return {need.name for alt in alternatives for need in alt.needs if not need.principal}
