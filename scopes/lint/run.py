"""One `scopes lint` run: what is linted, which codes count, and what the fixes change.

Paths are files (always linted when named, whatever their place), directories (walked as
scopes.lint.walk says) and `-`, standard input. The codes reported are the selection (the
`[tool.scopes]` layer, then the command line's) less a file's per-file-ignores and its
`# scopes: noqa` directives. Nothing is printed here; the command prints the Outcome.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from scopes.lint.config import LintConfig
from scopes.lint.files import lint_file, lint_source
from scopes.lint.fixes import fix_with
from scopes.lint.report import Finding, in_string
from scopes.lint.rules import Rules
from scopes.lint.select import PerFileIgnores, RuleSelection, enabled_codes, matches
from scopes.lint.sources import FORMATS, SourceError
from scopes.lint.walk import walk

__all__ = ["STDIN", "Change", "FixMode", "Outcome", "Problem", "lint_run"]

STDIN = "-"
STDIN_NAME = "<stdin>"  # how standard input is reported without --stdin-filename
SCOPE_NAME = "<scope>"  # how a --scope string is reported (DESIGN.md)

FixMode = Literal["off", "write", "preview"]  # no fixes; --fix; --diff


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that cannot be linted (missing, unreadable, unparsable): exit 2."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}:{self.column or 1}"


@dataclass(frozen=True, slots=True)
class Change:
    """What the fixes do to one input: its text before and after, and how many strings."""

    path: str
    before: str
    after: str
    count: int
    kind: Literal["file", "stdin", "scope"]
    written: bool  # rewritten in place (--fix on a file)


@dataclass(slots=True)
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    empty_directories: list[str] = field(default_factory=list)  # walked, nothing to lint

    @property
    def has_errors(self) -> bool:
        return any(f.diagnostic.is_error for f in self.findings)


def lint_run(
    paths: Sequence[str],
    scope_strings: Sequence[str],
    *,
    rules: Rules,
    config: LintConfig,
    selection: RuleSelection = RuleSelection(),
    fix: FixMode = "off",
    stdin: Callable[[], str] | None = None,
    stdin_filename: str | None = None,
) -> Outcome:
    """Lint `scope_strings` and `paths` (`-` reads `stdin()`, named `stdin_filename`)."""
    outcome = Outcome()
    base = enabled_codes([config.selection, selection])
    for text in scope_strings:
        _scope_string(outcome, text, rules, base.__contains__, fix)
    ignores = config.ignores()
    seen: set[str] = set()
    for path in paths:
        if path == STDIN:
            if stdin is None:
                raise ValueError("standard input is named, and no reader given")
            _stdin(outcome, stdin(), stdin_filename, rules, config, _enabled(base, ignores, stdin_filename), fix)
            continue
        if os.path.isdir(path):
            found = list(walk(path, lambda where, message: outcome.problems.append(Problem(where, message))))
            if not found:
                outcome.empty_directories.append(path)
        else:
            found = [path]
        for file in found:
            key = os.path.realpath(file)
            if key in seen:
                continue
            seen.add(key)
            _file(outcome, file, rules, config, _enabled(base, ignores, file), fix)
    return outcome


def _enabled(base: frozenset[str], ignores: PerFileIgnores, path: str | None) -> Callable[[str], bool]:
    ignored = ignores.selectors_for(path) if path else ()
    if not ignored:
        return base.__contains__
    return lambda code: code in base and not any(matches(s, code) for s in ignored)


def _scope_string(outcome: Outcome, text: str, rules: Rules, enabled, fix: FixMode) -> None:
    if fix != "off":
        fixed = fix_with(rules, text, keep=enabled)
        outcome.changes.append(Change(SCOPE_NAME, text, fixed, int(fixed != text), "scope", False))
        if fix == "write":
            text = fixed
    outcome.findings += [in_string(SCOPE_NAME, d) for d in rules.lint(text) if enabled(d.code)]


def _file(outcome: Outcome, path: str, rules: Rules, config: LintConfig, enabled, fix: FixMode) -> None:
    try:
        report = lint_file(path, rules, config.keys, fix=fix != "off", write=fix == "write",
                           enabled=enabled)
    except SourceError as error:
        outcome.problems.append(Problem(path, error.message, error.line, error.column))
        return
    if report.fixed:
        outcome.changes.append(Change(path, report.original, report.text, report.fixed, "file",
                                      fix == "write"))
    if fix != "preview":
        outcome.findings += report.findings


def _stdin(outcome: Outcome, text: str, name: str | None, rules: Rules, config: LintConfig,
           enabled, fix: FixMode) -> None:
    """Standard input: its format from --stdin-filename, else a `.scopes` file (a line each)."""
    shown = name or STDIN_NAME
    try:
        fmt = FORMATS.get(Path(name).suffix.lower()) if name else "scopes"
        if fmt is None:
            known = ", ".join(sorted(FORMATS))
            raise SourceError(f"--stdin-filename decides the format of standard input; name it {known}")
        report = lint_source(shown, text, rules, config.keys, fmt=fmt, fix=fix != "off",
                             enabled=enabled)
    except SourceError as error:
        outcome.problems.append(Problem(shown, error.message, error.line, error.column))
        return
    if fix != "off":
        outcome.changes.append(Change(shown, report.original, report.text, report.fixed, "stdin", False))
    if fix != "preview":
        outcome.findings += report.findings
