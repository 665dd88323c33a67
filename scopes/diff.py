"""Drift between two policies: which requests a change lets more tokens make (DESIGN.md,
"Policy lifecycle", "Drift").

Routes are compared by method and path shape (`PathTemplate.key`, parameter names aside), and
their requirements exactly, on the compiled formulas `authorize` uses: alternatives of
conjunctions of needs. NEW widens OLD on a route iff some NEW alternative A is met by no OLD
alternative's judge when handed the least token that meets A: A's own scopes, each placeholder
filled with a value no literal can equal. That token is the smallest example. It suffices:
meeting a need only gets easier with a bare scope instead of a qualified one, so the
narrowest token of A (qualified scopes, fresh values) meets an OLD alternative only when every
token meeting A does (`ScopeSet.covers`: `read:brands` covers `read:brands:{id}`). Nothing is
sampled.

Requests can also change hands: a literal route added beside a parameter (`/brands/export`
beside `/brands/{id}`), or one removed, gives its requests to another route. Those are
compared the same way, on that route's requests.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scopes.errors import PolicyError
from scopes.evaluate import Policy
from scopes.openapi.document import read_text
from scopes.policy.compile import Alternative, NeedKind, PathTemplate, Route
from scopes.policy.load import load_policy_dict

__all__ = ["FAIL_ON", "KINDS", "Finding", "Side", "diff", "fails", "load_side"]

Severity = Literal["error", "warning", "info"]
Kind = Literal[
    "route-added",
    "route-removed",
    "widened",
    "narrowed",
    "became-public",
    "became-authenticated",
    "principal-dropped",
]
# Every finding kind and its severity: what widens access is an error.
KINDS: dict[Kind, Severity] = {
    "route-added": "warning",
    "route-removed": "info",
    "widened": "error",
    "narrowed": "info",
    "became-public": "error",
    "became-authenticated": "error",
    "principal-dropped": "error",
}
FAIL_ON = ("widen", "change", "never")
_WIDENING = frozenset(k for k, severity in KINDS.items() if severity == "error")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between OLD and NEW on one route.

    `rule` is the route as NEW writes it (as OLD did, for a removed one). `example` is the
    smallest scope string the difference is about (now allowed, or no longer allowed), its
    placeholders in braces (`read:brands:{id}`); "" is a token with no scopes, None is no
    token at all. `origin` is NEW's entry for the route (`endpoints[3]`), `old_origin` OLD's.
    """

    kind: Kind
    rule: str
    message: str
    example: str | None
    origin: str | None
    old_origin: str | None

    @property
    def severity(self) -> Severity:
        return KINDS[self.kind]


def fails(findings: Sequence[Finding], fail_on: str) -> bool:
    """Whether the findings reach `--fail-on`: widen (an error), change (any), never."""
    if fail_on == "never":
        return False
    if fail_on == "change":
        return bool(findings)
    return any(f.kind in _WIDENING for f in findings)


# -- requirements as formulas --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Requirement:
    public: bool
    alternatives: tuple[Alternative, ...]


def _fresh(template: PathTemplate) -> tuple[str, ...]:
    """A request's segments for a template: its literals, and at each parameter a value that no
    literal segment and no other parameter's value can equal (literals hold no braces)."""
    return tuple(seg if seg is not None else f"{{{i}}}" for i, seg in enumerate(template.segments))


_ANY_USER = "{user}"  # a principal id that no literal id and no path value equals


def _least_token(alt: Alternative, segments: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The grants and user ids of the narrowest token that meets `alt` on this request."""
    grants: set[str] = set()
    users: set[str] = set()
    for need in alt.needs:
        if need.kind == NeedKind.PERMISSION:
            grants.add(need.full)
        elif need.kind == NeedKind.PERMISSION_PARAM:
            grants.add(f"{need.name}:{segments[need.param]}")
        elif need.kind == NeedKind.PRINCIPAL:
            users.add(need.qualifier or "")
        else:
            users.add(segments[need.param])
    if alt.needs_principal and not users:
        users.add(_ANY_USER)
    return frozenset(grants), frozenset(users)


def _not_implied(
    these: Sequence[Alternative], by: Sequence[Alternative], segments: Sequence[str]
) -> list[Alternative]:
    """The alternatives of `these` that allow a token none of `by` allows."""
    found = []
    for alt in these:
        grants, users = _least_token(alt, segments)
        if not any(other.met(grants, users, segments) for other in by):
            found.append(alt)
    return found


def _any_token(alternatives: Sequence[Alternative]) -> bool:
    return any(not alt.needs and not alt.needs_principal for alt in alternatives)


def _bound(alternatives: Sequence[Alternative]) -> set[int]:
    """Segment indexes every alternative binds to the token's user ids (`principal_param`)."""
    sets = [{n.param for n in alt.needs if n.kind == NeedKind.PRINCIPAL_PARAM}
            for alt in alternatives]
    return set.intersection(*sets) if sets else set()


def _unbound(alt: Alternative, indexes: set[int]) -> Alternative:
    needs = tuple(n for n in alt.needs
                  if not (n.kind == NeedKind.PRINCIPAL_PARAM and n.param in indexes))
    return Alternative(needs, alt.needs_principal)


class _Words:
    """Requirements and examples as scope strings, placeholders named by one template."""

    def __init__(self, template: PathTemplate, principal: str) -> None:
        self.names = {index: name for name, index in template.params}
        self.principal = principal

    def example(self, alt: Alternative) -> str:
        words = []
        for need in alt.needs:
            name = self.names.get(need.param, need.param_name)
            if need.kind == NeedKind.PERMISSION:
                words.append(need.full)
            elif need.kind == NeedKind.PERMISSION_PARAM:
                words.append(f"{need.name}:{{{name}}}")
            elif need.kind == NeedKind.PRINCIPAL:
                words.append(f"{self.principal}:{need.qualifier}")
            else:
                words.append(f"{self.principal}:{{{name}}}")
        if alt.needs_principal and not alt.principal_named:
            words.append(f"{self.principal}:<id>")
        return " ".join(words)

    def smallest(self, alternatives: Sequence[Alternative]) -> str:
        return min((self.example(a) for a in alternatives), key=lambda t: (len(t.split()), t))

    def requirement(self, requirement: _Requirement) -> str:
        if requirement.public:
            return "no token (public)"
        return " or ".join(self.example(a) or "any valid token" for a in requirement.alternatives)


def _shown(example: str | None) -> str:
    if example is None:
        return "no token"
    return example or "a token with no scopes"


def _compare(
    old: _Requirement,
    new: _Requirement,
    segments: Sequence[str],
    words: _Words,
    say: Callable[[Kind, str, str | None], None],
) -> None:
    """The findings between two requirements for the same requests (`segments`)."""
    before, after = words.requirement(old), words.requirement(new)
    if new.public or old.public:
        if new.public and not old.public:
            say("became-public", f"now public: no token is needed (before: {before})", None)
        elif old.public and not new.public:
            say("narrowed", f"no longer public: it needs {after}", None)
        return
    if _any_token(new.alternatives) and not _any_token(old.alternatives):
        say("became-authenticated",
            f"now any valid token may call it, even one with no scopes (before: {before})", "")
        return
    old_alternatives = old.alternatives
    dropped = _bound(old.alternatives) - _bound(new.alternatives)
    if dropped:
        lacking = [a for a in new.alternatives if dropped - _bound((a,))]
        names = ", ".join(f"{{{words.names.get(i, str(i))}}}" for i in sorted(dropped))
        example = words.smallest(lacking)
        say("principal-dropped",
            f"no longer bound to the token's {words.principal} by {names}: a token for one user "
            f"may now call it for another, with {_shown(example)} (before: {before}; now: "
            f"{after})", example)
        old_alternatives = tuple(_unbound(a, dropped) for a in old.alternatives)
    wider = _not_implied(new.alternatives, old_alternatives, segments)
    if wider:
        example = words.smallest(wider)
        say("widened", f"now allowed with {_shown(example)}, which was denied before "
                       f"(before: {before}; now: {after})", example)
    narrower = _not_implied(old.alternatives, new.alternatives, segments)
    if narrower:
        example = words.smallest(narrower)
        say("narrowed", f"no longer allowed with {_shown(example)} (before: {before}; now: "
                        f"{after})", example)


# -- routes --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    """What is compared: a route, or one root field of a GraphQL route."""

    route: Route
    field: tuple[str, str] | None  # (operation, field) of a GraphQL route
    requirement: _Requirement

    @property
    def key(self) -> tuple[str, tuple[str | None, ...], tuple[str, str] | None]:
        return (self.route.method, self.route.path.key, self.field)

    @property
    def rule(self) -> str:
        if self.field is None:
            return self.route.rule
        return f"{self.route.rule} (GraphQL {self.field[0]} {self.field[1]})"


def _units(policy: Policy) -> Iterator[_Unit]:
    for route in policy.routes:
        if route.graphql is None:
            yield _Unit(route, None, _Requirement(route.public, route.alternatives))
            continue
        for operation, fields in route.graphql.operations.items():
            for name, alternatives in fields.items():
                yield _Unit(route, (operation, name), _Requirement(not alternatives, alternatives))


def diff(old: Policy, new: Policy) -> list[Finding]:
    """Every difference in access between two policies, NEW's routes first (in its order), then
    the routes only OLD has."""
    findings: list[Finding] = []
    olds = {unit.key: unit for unit in _units(old)}
    news = {unit.key: unit for unit in _units(new)}
    principal = new.catalogue.principal

    def sayer(rule: str, origin: str | None, old_origin: str | None,
              prefix: str = "") -> Callable[[Kind, str, str | None], None]:
        def say(kind: Kind, message: str, example: str | None) -> None:
            findings.append(Finding(kind, rule, prefix + message, example, origin, old_origin))
        return say

    for key, unit in news.items():
        route = unit.route
        words = _Words(route.path, principal)
        before = olds.get(key)
        if before is not None:
            _compare(before.requirement, unit.requirement, _fresh(route.path), words,
                     sayer(unit.rule, route.origin, before.route.origin))
            continue
        sayer(unit.rule, route.origin, None)(
            "route-added", f"new route; it needs {words.requirement(unit.requirement)}",
            None)
        if unit.field is None:
            segments = _fresh(route.path)
            served = old.router.match(route.method, segments)
            if served is not None and served.graphql is None:
                _compare(_Requirement(served.public, served.alternatives), unit.requirement,
                         segments, words,
                         _widening(sayer(unit.rule, route.origin, served.origin,
                                         f"it takes requests that {served.rule} served: ")))
    for key, unit in olds.items():
        if key in news:
            continue
        route = unit.route
        sayer(unit.rule, None, route.origin)("route-removed", "route removed", None)
        if unit.field is None:
            segments = _fresh(route.path)
            taker = new.router.match(route.method, segments)
            if taker is not None and taker.graphql is None:
                _compare(unit.requirement, _Requirement(taker.public, taker.alternatives),
                         segments, _Words(taker.path, principal),
                         _widening(sayer(unit.rule, taker.origin, route.origin,
                                         f"its requests now go to {taker.rule}: ")))
    return findings


def _widening(
    say: Callable[[Kind, str, str | None], None],
) -> Callable[[Kind, str, str | None], None]:
    """Only what widens access (requests changing hands and narrowing is the route's news)."""
    def widening(kind: Kind, message: str, example: str | None) -> None:
        if kind in _WIDENING:
            say(kind, message, example)
    return widening


# -- OLD and NEW from files ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Side:
    """OLD or NEW: a policy file or an OpenAPI document, its policy, and its lines."""

    path: str
    kind: Literal["policy", "openapi"]
    policy: Policy
    _line: Callable[[str], int | None]

    def line(self, origin: str | None) -> int | None:
        """The file's line for a route's entry (`endpoints[3]`), where known."""
        return None if origin is None else self._line(origin)


_DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")  # a broken one is worded as JSON or YAML
_OPENAPI_KEY = re.compile(r"""^\s*\{?\s*["']?(openapi|swagger)["']?\s*:""", re.MULTILINE)


def load_side(
    path: str | Path,
    *,
    scheme_scopes: Mapping[str, str] | None = None,
    public_by_default: bool = False,
    skip_unsupported: bool = False,
) -> Side:
    """A policy (TOML) or an OpenAPI document (JSON or YAML), told apart by content.

    Raises PolicyError (an OpenAPIError for a document) for a file that cannot be read or
    loaded; OpenAPI documents are imported with the options `scopes import-openapi` takes.
    """
    name = str(path)
    text = read_text(Path(path), name, error=PolicyError, encoding_fix="save it as UTF-8")
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    if isinstance(data, dict) and "openapi" not in data and "swagger" not in data:
        policy = Policy(load_policy_dict(data, file=name, source=text))  # parsed once
        return Side(name, "policy", policy, _toml_lines(text))
    if data is None and not _OPENAPI_KEY.search(text) and not name.endswith(_DOCUMENT_SUFFIXES):
        Policy.from_toml(text, file=name)  # neither: the TOML error says what is wrong
    from scopes.openapi import import_openapi

    imported = import_openapi(name, scheme_scopes=scheme_scopes,
                              public_by_default=public_by_default,
                              skip_unsupported=skip_unsupported)
    return Side(name, "openapi", Policy(imported.loaded), imported.line_of)


def _toml_lines(text: str) -> Callable[[str], int | None]:
    """Where a policy entry (`endpoints[3]`, `graphql[0]`) is: its `path` line, else its header."""
    found: dict[tuple[str | int | None, ...], int] | None = None

    def line(origin: str) -> int | None:
        nonlocal found
        match = re.fullmatch(r"(endpoints|graphql)\[(\d+)\]", origin)
        if match is None:
            return None
        if found is None:
            from scopes.lint._scan import scan_toml

            found = scan_toml(text, None)[1]
        entry = (match.group(1), int(match.group(2)))
        offset = found.get((*entry, "path"), found.get(entry))
        return None if offset is None else text.count("\n", 0, offset) + 1

    return line
