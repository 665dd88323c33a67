"""Checks of a policy file itself: its scope strings, its routes, its unused catalogue entries.

The policy loader (scopes.policy.load) stays the judge of whether a policy loads; its first
PolicyError becomes S400 at the line it names. Around it the linter reports what it can place
precisely: every scope string of a requirement or role (S1xx/S2xx, from the policy's own
catalogue), every duplicate route (S403), and what the loader accepts but a reader may not
expect (S401 unused catalogue entries, S402 partly shadowed routes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from scopes.errors import PolicyError
from scopes.evaluate import Policy
from scopes.lint._scan import Found
from scopes.lint.codes import diagnostic
from scopes.lint.diagnostic import Diagnostic
from scopes.lint.report import Lines
from scopes.lint.rules import Mentions, Rules
from scopes.policy.compile import template_segments
from scopes.policy.load import load_policy_dict
from scopes.policy.schema import PolicyModel

__all__ = ["PolicyStrings", "check_policy", "is_policy"]

_OPERATIONS = ("query", "mutation", "subscription")


def __dir__() -> list[str]:
    return __all__


def is_policy(data: Any) -> bool:
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


@dataclass(frozen=True, slots=True)
class PolicyStrings:
    """The policy's scope strings, each with its entry (as PolicyError names entries)."""

    rules: Rules | None  # None when the catalogue itself does not load
    strings: tuple[tuple[Found, str], ...]


def check_policy(
    text: str, data: dict, found: list[Found], keys: dict[tuple, int], file: str
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

    extra, failing = _routes(model, by_path)
    for found, entry in strings:
        if any(d.is_error for d in rules.lint(found.value, token=False)):
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


def _add(strings: list, by_path: dict, path: tuple, entry: str) -> None:
    found = by_path.get(path)
    if found is not None and found.kind == "str":
        strings.append((found, entry))


@dataclass(frozen=True, slots=True)
class _Row:
    method: str
    path: str
    shape: tuple[str | None, ...]
    entry: str
    found: Found | None


def _routes(model: PolicyModel, by_path: dict) -> tuple[list[Diagnostic], set[str]]:
    """S403 for a route declared twice; S402 where a literal segment takes another's requests.

    Also returns the entries that got an S403, so the loader's word on them is not repeated.
    """
    rows = []
    for kind, entries in (("endpoints", model.endpoints), ("graphql", model.graphql)):
        for index, entry in enumerate(entries):
            found = by_path.get((kind, index, "path"))
            for method in entry.methods:
                shape = template_segments(entry.path)
                rows.append(_Row(method, entry.path, shape, f"{kind}[{index}]", found))
    out = []
    duplicated = set()
    first: dict[tuple[str, tuple], _Row] = {}
    for row in rows:
        seen = first.setdefault((row.method, row.shape), row)
        if seen is not row and row.found is not None:
            duplicated.add(row.entry)
            out.append(diagnostic(
                "S403",
                f"{row.entry}: route {row.method} {row.path} is declared twice (also by "
                f"{seen.entry}); the two would match the same requests; merge them or remove one",
                row.found.start,
                row.found.end,
            ))
    unique = list(first.values())
    for loser in unique:
        for winner in unique:
            if winner is loser or winner.method != loser.method or loser.found is None:
                continue
            example = _taken(winner, loser)
            if example is not None:
                out.append(diagnostic(
                    "S402",
                    f"{loser.method} {loser.path} never serves {example}: "
                    f"{winner.method} {winner.path} takes it (a literal segment wins over a "
                    "parameter)",
                    loser.found.start,
                    loser.found.end,
                ))
    return out, duplicated


def _taken(winner_row: _Row, loser_row: _Row) -> str | None:
    """A path both templates match that the router gives to `winner`, or None.

    The router walks segments left to right and tries a literal child before a parameter
    (scopes.policy.compile.Router), so at the first segment where exactly one of two
    overlapping templates has a literal, that one wins.
    """
    winner, loser = winner_row.shape, loser_row.shape
    if len(winner) != len(loser) or winner == loser:
        return None
    decided = False
    for mine, theirs in zip(winner, loser):
        if mine is not None and theirs is not None and mine != theirs:
            return None  # different literals: no path matches both
        if not decided and (mine is None) != (theirs is None):
            if mine is None:
                return None  # the loser has the literal here: it wins these requests
            decided = True
    if not decided:
        return None
    written = loser_row.path[1:].split("/")
    parts = [
        mine if mine is not None else (theirs if theirs is not None else spelled)
        for mine, theirs, spelled in zip(winner, loser, written)
    ]
    return "/" + "/".join(parts)


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
