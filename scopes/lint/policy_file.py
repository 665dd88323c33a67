"""Checks of a policy file itself: its scope strings, its routes, its unused catalogue entries.

The policy loader (scopes.policy.load) stays the judge of whether a policy loads; its first
PolicyError becomes S400 at the line it names. Around it the linter reports what it can place
precisely: every scope string of a requirement or role (S1xx/S2xx, from the policy's own
catalogue), every duplicate route (S403), and what the loader accepts but a reader may not
expect (S401 unused catalogue entries, S402 partly shadowed routes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from pydantic import ValidationError

from scopes.errors import PolicyError
from scopes.evaluate import Policy
from scopes.lint._scan import Found
from scopes.lint._scan import Path as ValuePath
from scopes.lint.codes import diagnostic
from scopes.lint.diagnostic import Diagnostic
from scopes.lint.report import Lines
from scopes.lint.rules import Mentions, Rules
from scopes.policy.compile import CompileError, PathTemplate, Route, Router
from scopes.policy.load import load_policy_dict
from scopes.policy.schema import EndpointModel, GraphQLModel, PolicyModel

__all__ = ["PolicyStrings", "check_policy", "is_policy", "is_policy_tests"]

_OPERATIONS = ("query", "mutation", "subscription")


def __dir__() -> list[str]:
    return __all__


def is_policy(data: object) -> TypeGuard[dict[str, Any]]:
    """A TOML document is a policy when it has endpoint tables or a catalogue of scope tables.

    (`scopes = "read:brands"` or `[scopes]` holding strings is data with scope strings.)
    """
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("endpoints"), list) or isinstance(data.get("graphql"), list):
        return True
    catalogue = data.get("scopes")
    return isinstance(catalogue, dict) and bool(catalogue) and all(
        isinstance(entry, dict) for entry in catalogue.values()
    )


def is_policy_tests(data: Any) -> bool:
    """A TOML document is a policy's test file when it names its policy beside `[[tests]]`.

    The scope strings of its cases are tokens under test, unknown or malformed on purpose, as a
    policy's own `[[tests]]` are: `scopes test` reads them, the linter does not.
    """
    return (isinstance(data, dict) and isinstance(data.get("policy"), str)
            and isinstance(data.get("tests"), list))


@dataclass(frozen=True, slots=True)
class PolicyStrings:
    """The policy's scope strings, each with its entry (as PolicyError names entries)."""

    rules: Rules | None  # None when the catalogue itself does not load
    strings: tuple[tuple[Found, str], ...]


def check_policy(
    text: str,
    data: dict[str, Any],
    found: list[Found],
    keys: dict[ValuePath, int],
    file: str,
) -> tuple[PolicyStrings, list[Diagnostic]]:
    """The scope strings to lint (as requirements) and the file-level findings (file offsets)."""
    lines = Lines(text)
    by_path = {f.path: f for f in found}
    try:
        model = PolicyModel.model_validate(data)
    except ValidationError:
        return PolicyStrings(None, ()), [_load_error(text, file, lines)]
    try:
        routes_and_roles = ("endpoints", "graphql", "roles")
        catalogue_only = {k: v for k, v in data.items() if k not in routes_and_roles}
        catalogue = load_policy_dict(catalogue_only, file=file, source=text).catalogue
    except PolicyError as error:
        return PolicyStrings(None, ()), [_at_line(error, lines, text)]
    rules = Rules(catalogue, None, model.name)
    strings: list[tuple[Found, str]] = []
    for index, endpoint in enumerate(model.endpoints):
        for j in range(len(endpoint.any_of or ())):
            _add(strings, by_path, ("endpoints", index, "any_of", j), f"endpoints[{index}]")
    for index, graphql in enumerate(model.graphql):
        for operation in _OPERATIONS:
            for name, spec in getattr(graphql, operation).items():
                entry = f"graphql[{index}].{operation}.{name}"
                for j in range(len(spec.any_of or ())):
                    _add(strings, by_path, ("graphql", index, operation, name, "any_of", j), entry)
    for name in model.roles:
        _add(strings, by_path, ("roles", name), f"roles.{name}")

    places = _places(model, by_path)
    extra, failing = _routes(model, places)
    for string, entry in strings:
        if isinstance(string.value, str) and any(
            d.is_error for d in rules.lint(string.value, token=False)
        ):
            failing.add(entry)
    try:
        policy = Policy.from_toml(text, file=file)
    except PolicyError as error:
        if error.entry is None or not any(
            error.entry == entry or error.entry.startswith(entry + ".") for entry in failing
        ):
            extra.append(_at_line(error, lines, text))
        return PolicyStrings(rules, tuple(strings)), extra
    mentioned = Mentions.of(policy.routes).names
    for name in policy.catalogue.specs:
        if name not in mentioned:
            offset = keys.get(("scopes", name))
            if offset is None:
                continue
            extra.append(diagnostic(
                "S401",
                f"scope {name!r} is in the catalogue, but no endpoint requires it: "
                "a token with it can call nothing more",
                offset,
                offset + len(name),
            ))
    return PolicyStrings(rules, tuple(strings)), extra


ByPath = dict[ValuePath, Found]


def _add(
    strings: list[tuple[Found, str]], by_path: ByPath, path: ValuePath, entry: str
) -> None:
    found = by_path.get(path)
    if found is not None and found.kind == "str":
        strings.append((found, entry))


def _places(model: PolicyModel, by_path: ByPath) -> dict[str, Found]:
    """Where each endpoint's and GraphQL entry's path is written, by entry (`Route.origin`)."""
    places = {}
    for kind, entries in (("endpoints", model.endpoints), ("graphql", model.graphql)):
        for index in range(len(entries)):
            found = by_path.get((kind, index, "path"))
            if found is not None:
                places[f"{kind}[{index}]"] = found
    return places


def _routes(model: PolicyModel, places: dict[str, Found]) -> tuple[list[Diagnostic], set[str]]:
    """S403 for each route declared again (same method, same path shape), at its own place;
    S402 where the router gives a literal segment's requests to another route than a
    parameter's (asked of the compiled router, built from the routes alone).

    Also returns the entries that got an S403, so the loader's word on them is not repeated.
    """
    out = []
    duplicated = set()
    unique: list[Route] = []
    first: dict[tuple[str, tuple[str | None, ...]], str] = {}
    entries: list[tuple[str, int, EndpointModel | GraphQLModel]] = [
        *(("endpoints", index, entry) for index, entry in enumerate(model.endpoints)),
        *(("graphql", index, entry) for index, entry in enumerate(model.graphql)),
    ]
    for kind, index, entry in entries:
        origin = f"{kind}[{index}]"
        try:
            template = PathTemplate.parse(entry.path)
        except CompileError:
            continue  # the loader says what is wrong with the template
        for method in entry.methods:
            seen = first.setdefault((method, template.key), origin)
            place = places.get(origin)
            if seen == origin:
                unique.append(Route(method, template, (), origin=origin))
            elif place is not None:
                duplicated.add(origin)
                out.append(diagnostic(
                    "S403",
                    f"{origin}: route {method} {entry.path} is declared twice (also by "
                    f"{seen}); the two would match the same requests; merge them or "
                    "remove one",
                    place.start,
                    place.end,
                ))
    try:
        router = Router(unique)
    except CompileError:
        return out, duplicated  # the loader says which routes cannot be told apart
    warned = set()
    for loser, winner, example in router.shadowed():
        place = places.get(loser.origin)
        if place is None:
            continue
        out.append(diagnostic(
            "S402",
            f"{loser.rule} never serves {example}: {winner.rule} takes it (a literal segment "
            "wins over a parameter)",
            place.start,
            place.end,
        ))
        # Where the winner's literal stands for the loser's parameter, a case-insensitive
        # router would take the winner for the literal in any case: such values are denied.
        for name, index in loser.path.params:
            literal = winner.path.segments[index]
            if literal is not None and (loser.rule, name, literal) not in warned:
                warned.add((loser.rule, name, literal))
                out.append(diagnostic(
                    "S404",
                    f"{loser.rule}: a value of {{{name}}} that is {literal!r} in another case "
                    f"(e.g. {literal.upper()!r}) is denied: a case-insensitive router would "
                    f"run {winner.rule} instead",
                    place.start,
                    place.end,
                ))
    return out, duplicated


def _load_error(text: str, file: str, lines: Lines) -> Diagnostic:
    try:
        Policy.from_toml(text, file=file)
    except PolicyError as error:
        return _at_line(error, lines, text)
    return diagnostic("S400", "policy does not load", 0, 1)  # unreachable: the schema failed


def _at_line(error: PolicyError, lines: Lines, text: str) -> Diagnostic:
    """S400 at the start of the line the loader names (line 1 when it names none)."""
    start = lines.line_start(error.line or 1)
    end = text.find("\n", start)
    end = len(text) if end == -1 else end
    content = text[start:end]
    start += len(content) - len(content.lstrip())
    end = start + len(content.strip())
    message = error.message.splitlines()[0]
    if error.entry:
        message = f"{error.entry}: {message}"
    if error.fix:
        message += f"; {error.fix}"
    return diagnostic("S400", message, start, max(end, start + 1))
