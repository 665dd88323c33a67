"""The lint rules for scope strings, bound to a policy's catalogue and routes."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from scopes.catalogue import Catalogue
from scopes.errors import ScopeSyntaxError
from scopes.evaluate import Policy
from scopes.lint.codes import diagnostic
from scopes.lint.diagnostic import Diagnostic
from scopes.model import PermissionScope, PrincipalScope, Scope, UnknownScope
from scopes.policy.compile import EMPTY_ALTERNATIVE, Alternative, NeedKind, Route
from scopes.syntax import scope_tokens

__all__ = ["Mentions", "Rules", "lint", "rules_for"]

CACHE_ENTRIES = 8192  # linted strings remembered per policy (files repeat their scope strings)
CACHEABLE_LENGTH = 2048


def __dir__() -> list[str]:
    return __all__


# `<user-id>`, `${USER_ID}`, `$USER_ID`, `{id}`, `{{ ... }}`: copied from docs or a template.
_PLACEHOLDER = re.compile(r"<[^<>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{|\}\}|\{[^{}]*\}")


@dataclass(frozen=True, slots=True)
class Mentions:
    """Which permission scopes the policy's requirements mention, REST and GraphQL alike."""

    names: frozenset[str]  # mentioned in any form: a bare token of these grants somewhere
    any_qualifier: frozenset[str]  # mentioned as `name:{param}`: every qualifier grants somewhere
    literal: frozenset[tuple[str, str]]  # mentioned as `name:<literal>`

    @classmethod
    def of(cls, routes: Iterable[Route]) -> Mentions:
        names, any_qualifier, literal = set(), set(), set()
        for alternative in _alternatives(routes):
            for need in alternative.needs:
                if need.kind == NeedKind.PERMISSION_PARAM:
                    any_qualifier.add(need.name)
                elif need.kind != NeedKind.PERMISSION:
                    continue  # principals bind; they grant nothing
                elif need.qualifier is not None:
                    literal.add((need.name, need.qualifier))
                names.add(need.name)
        return cls(frozenset(names), frozenset(any_qualifier), frozenset(literal))

    def grants(self, scope: PermissionScope) -> bool:
        """Whether some requirement could be met with this scope's help (as the evaluator reads)."""
        if scope.qualifier is None:
            return scope.name in self.names
        return scope.name in self.any_qualifier or (scope.name, scope.qualifier) in self.literal


def _alternatives(routes: Iterable[Route]) -> Iterator[Alternative]:
    for route in routes:
        yield from route.alternatives
        if route.graphql is not None:
            for fields in route.graphql.operations.values():
                for alternatives in fields.values():
                    yield from alternatives


@dataclass(frozen=True, slots=True)
class _Token:
    part: int  # which of the linted strings it is in
    start: int
    end: int
    text: str
    scope: Scope


class Rules:
    """The rules, bound to one catalogue and (for S300) to what one policy's routes mention.

    `lint_parts` checks several strings as the scopes of one token (a list of strings in a
    config file): syntax, spacing and emptiness per string, meaning over all of them. With
    `token=False` the strings are a policy's own requirements or roles: placeholders there are
    path parameters, and a missing `user_id` or an unused scope is no mistake.
    """

    def __init__(self, catalogue: Catalogue, mentions: Mentions | None, policy_name: str) -> None:
        self.catalogue = catalogue
        self.mentions = mentions
        self.policy_name = policy_name
        self._principal = catalogue.principal
        self._unknown_of = catalogue.unknown
        self._cached = functools.lru_cache(maxsize=CACHE_ENTRIES)(self._lint_one)

    def lint(self, text: str, *, token: bool = True) -> list[Diagnostic]:
        """Diagnostics for one scope string, sorted by position."""
        if len(text) <= CACHEABLE_LENGTH:
            return list(self._cached(text, token))
        return list(self._lint_one(text, token))

    def _lint_one(self, text: str, token: bool) -> tuple[Diagnostic, ...]:
        return tuple(self.lint_parts([text], token=token)[0])

    def lint_parts(self, parts: Sequence[str], *, token: bool = True) -> list[list[Diagnostic]]:
        """Per string, its diagnostics (offsets into that string), sorted by position."""
        found: list[list[Diagnostic]] = [[] for _ in parts]
        found_tokens: list[_Token] = []
        resolve = self.catalogue.resolve
        for index, text in enumerate(parts):
            out = found[index]
            if not text.strip(" "):
                end = max(len(text), 1)
                message = "empty scope string: it grants nothing" if token else EMPTY_ALTERNATIVE
                out.append(diagnostic("S101", message, 0, end))
                continue
            try:
                tokens = scope_tokens(text)
            except ScopeSyntaxError as error:
                listed = _json_list(text)
                if listed is not None:
                    first = len(text) - len(text.lstrip(" "))
                    out.append(diagnostic(
                        "S106",
                        "a JSON array written as a scope string; separate scopes with single "
                        f"spaces: {' '.join(listed)!r}",
                        first,
                        len(text.rstrip(" ")),
                    ))
                position = error.position
                out.append(diagnostic("S100", error.message, position, position + 1))
                continue
            _spacing(text, tokens, out)
            for word, start, end in tokens:
                found_tokens.append(_Token(index, start, end, word, resolve(word, (start, end))))
        self._meaning(found_tokens, found, token)
        for out in found:
            out.sort(key=lambda d: (d.start, d.code))
        return found

    # -- the rules over the scopes of one token --------------------------------------------------

    def _meaning(self, tokens: list[_Token], found: list[list[Diagnostic]], token: bool) -> None:
        has_principal = False
        has_other = False
        bare: set[str] = set()
        for t in tokens:
            if isinstance(t.scope, PrincipalScope):
                has_principal = True
            else:
                has_other = True
                if isinstance(t.scope, PermissionScope) and t.scope.qualifier is None:
                    bare.add(t.scope.name)
        seen: dict[Scope, _Token] = {}
        specs = self.catalogue.specs
        for t in tokens:
            out = found[t.part]
            scope = t.scope
            first = seen.get(scope)
            if first is not None:
                out.append(diagnostic(
                    "S200", f"duplicate scope {t.text!r}{_also(first, t)}", t.start, t.end, ""
                ))
                continue
            seen[scope] = t
            if isinstance(scope, UnknownScope):
                out.append(self._unknown(t))
                continue
            if isinstance(scope, PermissionScope):
                if scope.qualifier is not None and scope.name in bare:
                    out.append(diagnostic(
                        "S201",
                        f"redundant scope {t.text!r}: {scope.name!r} already grants every "
                        f"{specs[scope.name].qualifier or 'qualifier'}",
                        t.start,
                        t.end,
                        "",
                    ))
                    continue
                if token and not has_principal and specs[scope.name].needs_principal:
                    out.append(diagnostic(
                        "S105",
                        f"{t.text!r} grants only together with a {self._principal}: add "
                        f"'{self._principal}:<id>' for the user the token acts for",
                        t.start,
                        t.end,
                    ))
            if token:
                placeholder = _PLACEHOLDER.search(t.text)
                if placeholder is not None:
                    out.append(diagnostic(
                        "S204",
                        f"{t.text!r} contains the unfilled placeholder {placeholder.group()!r}; "
                        "put the real value in",
                        t.start,
                        t.end,
                    ))
                if (
                    isinstance(scope, PermissionScope)
                    and self.mentions is not None
                    and not self.mentions.grants(scope)
                ):
                    out.append(diagnostic(
                        "S300",
                        f"{t.text!r} grants no endpoint of policy {self.policy_name!r}: "
                        "no requirement mentions it",
                        t.start,
                        t.end,
                    ))
        if token and has_principal and not has_other:
            t = next(t for t in tokens if type(t.scope) is PrincipalScope)
            found[t.part].append(diagnostic(
                "S203",
                f"{t.text!r} alone grants nothing: a {self._principal} names the user a token "
                "acts for; add the scopes it may use",
                t.start,
                t.end,
            ))

    def _unknown(self, t: _Token) -> Diagnostic:
        unknown = self._unknown_of(t.text)
        code = _UNKNOWN_CODES[unknown.kind]
        return diagnostic(code, unknown.message, t.start, t.end, unknown.case_fix)


# How the catalogue's reading of an unknown token maps to lint codes.
_UNKNOWN_CODES = {
    "needs-id": "S104",
    "takes-no-qualifier": "S103",
    "list": "S106",
    "unknown": "S102",
}


def _also(first: _Token, again: _Token) -> str:
    if first.part != again.part:
        return " (also in an earlier string of this list)"
    if first.text != again.text:
        return f" (same as {first.text!r})"
    return ""


def _spacing(text: str, tokens: list[tuple[str, int, int]], out: list[Diagnostic]) -> None:
    """RFC 6749 §3.3 separates scopes with one space; DESIGN.md tolerates more; we say so."""
    spans = [(start, end) for _, start, end in tokens]
    if spans[0][0] > 0:
        out.append(diagnostic("S202", "leading spaces", 0, spans[0][0], ""))
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start - end > 1:
            out.append(diagnostic(
                "S202", f"{start - end} spaces between scopes; use one", end, start, " "
            ))
    if spans[-1][1] < len(text):
        out.append(diagnostic("S202", "trailing spaces", spans[-1][1], len(text), ""))


def _json_list(text: str) -> list[str] | None:
    """The strings of a JSON array pasted as a scope string (`["read:brands", "write:brands"]`)."""
    stripped = text.strip(" ")
    if not stripped.startswith(("[", '"')):
        return None
    for candidate in (stripped, f"[{stripped}]"):
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
    return None


@functools.lru_cache(maxsize=16)
def _rules_for(policy: Policy) -> Rules:
    return Rules(policy.catalogue, Mentions.of(policy.routes), policy.name)


def rules_for(policy: Policy | None = None) -> Rules:
    """The rules for a policy (default: the bundled Courier policy), built once per policy."""
    return _rules_for(Policy.courier() if policy is None else policy)


def lint(text: str, policy: Policy | None = None) -> list[Diagnostic]:
    """Check one scope string against a policy (default: Courier); never raises on a string.

    >>> [d.message for d in lint("read:brand")]
    ["unknown scope 'read:brand'; did you mean 'read:brands'?"]
    """
    if not isinstance(text, str):
        raise TypeError(f"lint() takes a scope string, not {type(text).__name__}")
    return rules_for(policy).lint(text)
