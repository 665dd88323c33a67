"""A call a client makes (`GET /brands/acme`, `POST /client/q messages`) and what it asks of a
token under a policy: alternatives of scopes to choose from, or why no token can make it.

Every answer here is read off the compiled route that `Policy.authorize` itself finds, and a
call is called impossible only when `authorize` denies it for a reason no scope can change (no
route, a bad path, a field the policy does not list) or when each alternative needs a user id
that no scope token can carry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scopes.decision import Code, shown
from scopes.graphql import Operation, root_operation
from scopes.model import PermissionScope, PrincipalScope
from scopes.policy.compile import Alternative, NeedKind
from scopes.syntax import is_well_formed

if TYPE_CHECKING:
    from scopes.catalogue import Catalogue
    from scopes.evaluate import Policy

__all__ = ["OPERATION_TYPES", "Call", "CallSyntaxError", "Needs", "Option", "needs_of", "option_of"]

OPERATION_TYPES = ("query", "mutation", "subscription")
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")  # GraphQL spec, "Names"
_FORM = "a call is 'METHOD /path', and for a GraphQL route its root fields: 'POST /client/q messages'"


def __dir__() -> list[str]:
    return __all__


class CallSyntaxError(ValueError):
    """A call that is not written `METHOD /path [query|mutation|subscription] [FIELD...]`."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request a client makes: a method, a target, and for a GraphQL route the operation
    type and the root fields it selects.

    >>> Call.parse("POST /client/q messages")
    Call(method='POST', path='/client/q', operation='query', fields=('messages',))
    """

    method: str
    path: str
    operation: str = "query"
    fields: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Call:
        """Read `METHOD /path [OPERATION] [FIELD...]`; the operation type (default `query`) is
        a word of OPERATION_TYPES followed by at least one field. CallSyntaxError otherwise."""
        words = text.split()
        if len(words) < 2:
            raise CallSyntaxError(f"{_FORM}; got {text!r}")
        method, path, *rest = words
        operation = "query"
        if len(rest) > 1 and rest[0] in OPERATION_TYPES:
            operation, rest = rest[0], rest[1:]
        for name in rest:
            if not _GRAPHQL_NAME.match(name):
                raise CallSyntaxError(
                    f"{name!r} in {text!r} is not a GraphQL field name (letters, digits, '_'); {_FORM}"
                )
        return cls(method, path, operation, tuple(dict.fromkeys(rest)))

    def __str__(self) -> str:
        words = [self.method, self.path]
        if self.fields:
            # The type is written when it is not the default, or when the first field would
            # otherwise be read as one (`query mutation x` selects the field `mutation`).
            if self.operation != "query" or (len(self.fields) > 1 and self.fields[0] in OPERATION_TYPES):
                words.append(self.operation)
            words += self.fields
        return " ".join(words)

    @property
    def body(self) -> str | None:
        """The JSON body of a GraphQL request that runs exactly these root fields (None for a
        REST call), as `authorize` is asked to judge it."""
        if not self.fields:
            return None
        return json.dumps({"query": f"{self.operation} {{ {' '.join(self.fields)} }}"})


@dataclass(frozen=True, slots=True)
class Option:
    """One alternative of a route's requirement, filled in for one call: all of it is needed.

    A bare permission covers every qualified form of it (DESIGN.md, "Meaning comes from the
    policy"), so a qualified need `(name, id)` is met by `name:id` or by `name`; a need in
    `bare` is met by `name` alone (the route asks for the bare scope, or the id is one no
    scope token can carry). `some_principal`: some `<principal>:<id>`, whichever
    (`needs_principal` with no principal named by the route).
    """

    bare: frozenset[str] = frozenset()
    qualified: frozenset[tuple[str, str]] = frozenset()
    principals: frozenset[str] = frozenset()
    some_principal: bool = False

    @classmethod
    def of(
        cls, bare: set[str], qualified: set[tuple[str, str]], principals: set[str], some: bool
    ) -> Option:
        """An option in its normal form: a qualified need whose bare scope is needed anyway is
        left out, and so is `some_principal` beside a named principal (either makes two
        options that mean the same equal)."""
        return cls(
            frozenset(bare),
            frozenset(need for need in qualified if need[0] not in bare),
            frozenset(principals),
            some and not principals,
        )

    def implies(self, other: Option) -> bool:
        """Whether every token that meets this option meets `other` too."""
        return (
            other.bare <= self.bare
            and all(name in self.bare or (name, q) in self.qualified for name, q in other.qualified)
            and other.principals <= self.principals
            and (not other.some_principal or self.some_principal or bool(self.principals))
        )

    def sort_key(self) -> tuple[list[str], list[tuple[str, str]], list[str], bool]:
        return sorted(self.bare), sorted(self.qualified), sorted(self.principals), self.some_principal


Requirement = tuple[Option, ...]  # met by any one of its options


@dataclass(frozen=True, slots=True)
class Needs:
    """What one call asks of a token: every requirement met (a REST route has one, a GraphQL
    call one per root field that needs a scope), or `impossible`, why no token can make it.

    `users` are the user ids its alternatives name, kept before options that another one
    implies are dropped: any of them may serve a scope that needs some user id.
    """

    call: Call
    requirements: tuple[Requirement, ...] = ()
    impossible: str | None = None
    users: frozenset[str] = frozenset()  # the user ids its requirements name (any alternative)


def needs_of(policy: Policy, call: Call) -> Needs:
    """The requirements of `call` under `policy`, read off the route `authorize` finds."""
    body = call.body
    decision = policy.authorize(policy.parse(""), call.method, call.path, body=body)
    route = decision.route
    if route is not None and route.graphql is None and call.fields:
        return Needs(call, impossible=f"{route.rule} is not a GraphQL route; name no root fields")
    if decision.code is Code.BODY_REQUIRED:
        return Needs(call, impossible=(
            f"{route.rule if route else call.path} is a GraphQL route: name the root fields after "
            f"the path ('{call.method} {call.path} FIELD...')"
        ))
    if decision.allowed:
        return Needs(call)  # public, `authenticated`, or fields that need nothing
    if decision.code is not Code.INSUFFICIENT_SCOPE or route is None:
        prefix = f"denied: {shown(call.method)} {shown(call.path.partition('?')[0])}: "
        return Needs(call, impossible=decision.reason.removeprefix(prefix))
    segments = policy.router.resolve(call.method, call.path).segments
    if route.graphql is None:
        alternatives: list[tuple[Alternative, ...]] = [route.alternatives]
    else:
        operation = root_operation(body)
        assert isinstance(operation, Operation)  # authorize examined this very body
        fields = route.graphql.operations[operation.type]
        alternatives = [fields[name] for name in operation.fields if fields[name]]
    requirements = []
    users: set[str] = set()
    for alts in alternatives:
        options = [option_of(alt, segments, policy.catalogue) for alt in alts]
        feasible = [option for option in options if isinstance(option, Option)]
        if not feasible:
            why = next(option for option in options if isinstance(option, str))
            return Needs(call, impossible=why)
        users.update(id for option in feasible for id in option.principals)
        requirements.append(_weakest(feasible))
    return Needs(call, tuple(requirements), users=frozenset(users))


def option_of(alternative: Alternative, segments: Sequence[str], catalogue: Catalogue) -> Option | str:
    """An alternative filled in from a request's segments, or why no scope string can carry it
    (a principal id with a space, a quote or a non-ASCII character)."""
    bare: set[str] = set()
    qualified: set[tuple[str, str]] = set()
    principals: set[str] = set()
    for need in alternative.needs:
        value = need.value(segments)
        if need.kind in (NeedKind.PRINCIPAL, NeedKind.PRINCIPAL_PARAM):
            assert value is not None  # a principal need always names an id
            if not _carries(catalogue, f"{need.name}:{value}", need.name, value):
                return (
                    f"no scope can carry the id {shown(value)!r} that it needs as "
                    f"{catalogue.principal}:<id> (a scope token has no spaces, quotes, "
                    "backslashes or non-ASCII characters)"
                )
            principals.add(value)
        elif value is None or not _carries(catalogue, f"{need.name}:{value}", need.name, value):
            bare.add(need.name)  # only the bare scope can meet it
        else:
            qualified.add((need.name, value))
    some = alternative.needs_principal and not alternative.principal_named
    return Option.of(bare, qualified, principals, some)


def _carries(catalogue: Catalogue, word: str, name: str, value: str) -> bool:
    """Whether `word` is one scope token that this catalogue reads as (name, value)."""
    if " " in word or not is_well_formed(word):
        return False
    scope = catalogue.resolve(word)
    if isinstance(scope, PrincipalScope):
        return scope.name == name and scope.id == value
    return isinstance(scope, PermissionScope) and (scope.name, scope.qualifier) == (name, value)


def _weakest(options: list[Option]) -> Requirement:
    """The options no other option is weaker than (meeting them would meet another anyway),
    each once, in a fixed order."""
    unique = sorted(set(options), key=Option.sort_key)
    kept = [
        option
        for option in unique
        if not any(other != option and option.implies(other) for other in unique)
    ]
    return tuple(kept)
