"""Lint files: find their scope strings and `expires_in` values, check them, fix them, place them.

Scope strings are the string values under the configured keys (default `scope` and `scopes`) at
any depth; a list of strings under such a key is one token's scopes, checked together. In a
`.scopes` file every line is a scope string. A TOML file that is a policy is checked as one
(scopes.lint.policy_file). A file that mentions none of the keys is not parsed at all, so a
hook over every JSON file is not stopped by, say, a tsconfig.json with comments.
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from scopes.lint._scan import Found
from scopes.lint._scan import Path as ValuePath
from scopes.lint.diagnostic import Diagnostic
from scopes.lint.durations import lint_duration
from scopes.lint.fixes import fix_with
from scopes.lint.noqa import directives, suppressed
from scopes.lint.policy_file import check_policy, is_policy, is_policy_tests
from scopes.lint.report import Finding, Lines
from scopes.lint.rules import Rules
from scopes.lint.sources import (
    Document,
    SourceError,
    format_of,
    read_document,
    read_text,
    rewrite,
)

__all__ = ["DURATION_KEYS", "Enabled", "FileReport", "SourceError", "lint_file", "lint_source", "lint_text"]

Enabled = Callable[[str], bool]  # whether a code is reported (selection, per-file-ignores)
_Keep = Callable[[str, int], bool]  # ... for a finding starting on a 1-based line (and noqa)

DURATION_KEYS = frozenset({"expires_in"})
_POLICY_KEYS = ("endpoints", "graphql", "scopes")


def __dir__() -> list[str]:
    return __all__


@dataclass(slots=True)
class FileReport:
    """What linting one file found; with fixes, its text before and after them."""

    path: str
    findings: list[Finding]
    fixed: int = 0  # scope strings rewritten by --fix
    original: str = ""  # the text as read
    text: str = ""  # the text with the fixes applied (the original when there are none)


@dataclass(slots=True)
class _Checked:
    document: Document | None
    policy: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)  # offsets into the file
    fixes: dict[ValuePath, str] = field(default_factory=dict)  # path of a string -> its fixed text


def lint_file(
    path: str,
    rules: Rules,
    keys: Iterable[str],
    *,
    fix: bool = False,
    write: bool = True,
    enabled: Enabled | None = None,
) -> FileReport:
    """Check one file (and with `fix`, rewrite it unless `write` is false); raises SourceError
    when it cannot be read or written."""
    text = read_text(path)
    report = lint_source(path, text, rules, keys, fix=fix, enabled=enabled)
    if report.fixed and write:
        _write(path, report.text)
    return report


def lint_source(
    path: str,
    text: str,
    rules: Rules,
    keys: Iterable[str],
    *,
    fmt: str | None = None,
    fix: bool = False,
    enabled: Enabled | None = None,
) -> FileReport:
    """Check a file's text, read or written by no one here; its name decides the format unless
    `fmt` does. Findings of codes `enabled` refuses, or suppressed by a `# scopes: noqa`
    directive on their line, are left out, and their fixes are not applied."""
    fmt = fmt or format_of(path)
    keys = frozenset(keys)
    keep = _keeper(text, fmt, enabled)
    checked = _check(path, fmt, text, rules, keys, keep)
    fixed, new_text = 0, text
    if fix and checked.fixes and checked.document is not None:
        new_text, fixed = _rewrite(fmt, checked.document, checked, keys)
        if fixed:
            keep = _keeper(new_text, fmt, enabled)
            checked = _check(path, fmt, new_text, rules, keys, keep)
    findings = [f for f in _placed_all(path, new_text, checked.diagnostics)
                if keep(f.diagnostic.code, f.line)]
    return FileReport(path, findings, fixed, text, new_text)


def lint_text(path: str, text: str, rules: Rules, keys: Iterable[str]) -> list[Finding]:
    """Check a file's text without touching the file (its name decides the format)."""
    return lint_source(path, text, rules, keys).findings


def _keeper(text: str, fmt: str, enabled: Enabled | None) -> _Keep:
    table = directives(text, fmt)
    if enabled is None and not table:
        return lambda code, line: True
    return lambda code, line: (enabled is None or enabled(code)) and not suppressed(table, line, code)


def _placed_all(path: str, text: str, diagnostics: list[Diagnostic]) -> list[Finding]:
    lines = Lines(text)
    findings = [lines.finding(path, d) for d in diagnostics]
    findings.sort(key=lambda f: (f.line, f.column, f.diagnostic.code))
    return findings


def _wanted(keys: frozenset[str]) -> Callable[[str], bool]:
    return (keys | DURATION_KEYS).__contains__


def _check(
    path: str, fmt: str, text: str, rules: Rules, keys: frozenset[str], keep: _Keep
) -> _Checked:
    markers = keys | DURATION_KEYS | (frozenset(_POLICY_KEYS) if fmt == "toml" else frozenset())
    if fmt != "scopes" and not any(marker in text for marker in markers):
        return _Checked(None, False)
    document = read_document(fmt, text, _wanted(keys))
    units: list[tuple[Sequence[Found], Rules, bool]] = []
    durations: list[Found] = []
    checked = _Checked(document, False)
    data = document.data
    if fmt == "toml" and is_policy(data):
        document = read_document(fmt, text, None)  # the same data, every value found
        strings, extra = check_policy(text, data, document.found, document.keys, path)
        checked = _Checked(document, True, extra)
        if strings.rules is not None:
            units = [((found,), strings.rules, False) for found, _ in strings.strings]
    else:
        lists: dict[ValuePath, list[Found]] = {}
        cases = fmt == "toml" and is_policy_tests(document.data)
        for found in document.found:
            if cases and found.path[:1] == ("tests",):
                continue
            if found.kind != "str" or (fmt != "scopes" and found.key not in keys):
                if found.key in DURATION_KEYS and not found.in_list:
                    durations.append(found)
                continue
            if found.in_list:
                group = lists.setdefault(found.path[:-1], [])
                if not group:
                    units.append((group, rules, True))  # filled in as the list goes on
                group.append(found)
            else:
                units.append(((found,), rules, True))
    lines = Lines(text)
    for founds, unit_rules, token in units:
        if len(founds) == 1 and not founds[0].in_list:
            per_string = [unit_rules.lint(founds[0].string(), token=token)]
        else:
            per_string = unit_rules.lint_parts([f.string() for f in founds], token=token)
        for found, diagnostics in zip(founds, per_string):
            checked.diagnostics += [_placed(found, d) for d in diagnostics]
            if found.exact and any(d.fix is not None for d in diagnostics):
                line = lines.position(found.start)[0]  # an exact string is on one line
                fixed = fix_with(unit_rules, found.string(), token=token,
                                 keep=functools.partial(_keep_on, keep, line))
                if fixed != found.value:
                    checked.fixes[found.path] = fixed
    for found in durations:
        checked.diagnostics += lint_duration(found.value, found.start, found.end)
    return checked


def _keep_on(keep: _Keep, line: int, code: str) -> bool:
    return keep(code, line)


def _placed(found: Found, d: Diagnostic) -> Diagnostic:
    """A diagnostic about a string, moved to the string's place in its file."""
    if found.exact or found.offsets is not None:
        start, end = found.at(d.start), found.at(d.end)
    else:  # folded or block text: the whole value
        start, end = found.start, found.end
    return replace(d, start=start, end=max(end, start + 1))


def _rewrite(
    fmt: str, document: Document, checked: _Checked, keys: frozenset[str]
) -> tuple[str, int]:
    """Apply the fixes all at once if the file allows it, else one by one; (text, count)."""
    by_path = {f.path: f for f in document.found}
    new_text = rewrite(document, {by_path[p]: new for p, new in checked.fixes.items()})
    if new_text is not None:
        return new_text, len(checked.fixes)
    wanted = None if checked.policy else _wanted(keys)
    count = 0
    # From the end of the file backwards, so the strings still to do keep their offsets.
    for target in sorted(checked.fixes, key=lambda p: by_path[p].start, reverse=True):
        current = {f.path: f for f in document.found}.get(target)
        if current is None:
            continue
        new_text = rewrite(document, {current: checked.fixes[target]})
        if new_text is not None:
            document = read_document(fmt, new_text, wanted)
            count += 1
    return document.text, count


def _write(path: str, text: str) -> None:
    """Write back as read: UTF-8, line endings untouched, a byte order mark kept if it had one."""
    target = Path(path)
    bom = codecs.BOM_UTF8 if target.read_bytes().startswith(codecs.BOM_UTF8) else b""
    try:
        target.write_bytes(bom + text.encode("utf-8"))
    except OSError as error:
        raise SourceError(f"cannot write the fixes: {error.strerror}") from None
