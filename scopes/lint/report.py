"""Reporters: where a diagnostic is in its file (line, column); text, JSON and GitHub output,
statistics, the summary line and the diff of what `--fix` would change. SARIF: scopes.lint.sarif."""

from __future__ import annotations

import bisect
import difflib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from scopes._github import annotation
from scopes.lint.codes import CODES
from scopes.lint.diagnostic import Diagnostic, Severity

__all__ = [
    "FORMATS",
    "Finding",
    "Lines",
    "in_string",
    "render",
    "render_diff",
    "render_statistics",
    "summary",
]

FORMATS = ("text", "json", "github", "sarif")
_ANNOTATION = {"error": "error", "warning": "warning", "info": "notice"}


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Finding:
    """A diagnostic placed in a file: 1-based line and column, counting characters.

    `end_line`/`end_column` are where the span ends (exclusive).
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    diagnostic: Diagnostic


class Lines:
    """Offsets to (line, column) for one text; lines end at '\\n'."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        starts = [0]
        position = text.find("\n")
        while position != -1:
            starts.append(position + 1)
            position = text.find("\n", position + 1)
        self._starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def line_start(self, line: int) -> int:
        """The offset of a 1-based line's first character (the last line's for a larger number)."""
        return self._starts[max(0, min(line, len(self._starts)) - 1)]

    def finding(self, path: str, diagnostic: Diagnostic) -> Finding:
        """`diagnostic` with offsets into this text, placed."""
        line, column = self.position(diagnostic.start)
        end_line, end_column = self.position(diagnostic.end)
        return Finding(path, line, column, end_line, end_column, diagnostic)


def in_string(path: str, diagnostic: Diagnostic) -> Finding:
    """A finding in a `--scope` string: line 1, whatever the string holds (DESIGN.md)."""
    return Finding(path, 1, diagnostic.start + 1, 1, diagnostic.end + 1, diagnostic)


def render(findings: Iterable[Finding], output: str) -> list[str]:
    """The lines to print: `PATH:LINE:COL: CODE message`, one JSON array, or GitHub annotations."""
    findings = list(findings)
    if output == "json":
        return [json.dumps([_as_dict(f) for f in findings], ensure_ascii=False)]
    if output == "github":
        return [_annotation(f) for f in findings]
    return [f"{f.path}:{f.line}:{f.column}: {f.diagnostic.code} {f.diagnostic.message}"
            for f in findings]


class FindingJson(TypedDict):
    """A finding as `--format json` prints it."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    severity: Severity
    message: str
    fix: str | None


def _as_dict(finding: Finding) -> FindingJson:
    d = finding.diagnostic
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "fix": d.fix,
    }


def _annotation(finding: Finding) -> str:
    """A workflow command (GitHub Actions, "Setting an error message"), escaped as it requires."""
    d = finding.diagnostic
    properties = {
        "file": finding.path,
        "line": finding.line,
        "col": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
        "title": d.code,
    }
    return annotation(_ANNOTATION[d.severity], properties, d.message)


def render_statistics(findings: Iterable[Finding], output: str) -> list[str]:
    """`--statistics`: per code, how many findings, whether a fix exists, what the code means.

    As ruff prints them: the most frequent first, `[*]` where `--fix` can fix some of them.
    """
    findings = list(findings)
    counts = Counter(f.diagnostic.code for f in findings)
    fixable = {f.diagnostic.code for f in findings if f.diagnostic.fix is not None}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if output == "json":
        return [json.dumps([
            {"code": code, "severity": _severity(findings, code), "meaning": _meaning(code),
             "count": count, "fixable": code in fixable}
            for code, count in rows
        ], ensure_ascii=False)]
    width = max((len(str(count)) for _, count in rows), default=1)
    return [f"{count:>{width}}\t{code}\t{'[*]' if code in fixable else '[ ]'} {_meaning(code)}"
            for code, count in rows]


def _meaning(code: str) -> str:
    return CODES[code].meaning if code in CODES else ""


def _severity(findings: list[Finding], code: str) -> str:
    return next(f.diagnostic.severity for f in findings if f.diagnostic.code == code)


def summary(findings: Iterable[Finding]) -> str | None:
    """The closing line of a text report (`2 errors, 1 warning; 1 fixable with --fix`), or
    None when there is nothing to sum up."""
    findings = list(findings)
    if not findings:
        return None
    counts: Counter[str] = Counter(f.diagnostic.severity for f in findings)
    parts = [_count(counts[severity], word) for severity, word in
             (("error", "error"), ("warning", "warning"), ("info", "info finding")) if counts[severity]]
    fixable = sum(f.diagnostic.fix is not None for f in findings)
    text = ", ".join(parts)
    if fixable:
        text += f"; {fixable} fixable with --fix (--diff to preview)"
    return text


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def render_diff(path: str, before: str, after: str) -> str:
    """A unified diff of a file's text before and after the fixes, as `--diff` prints it."""
    lines = difflib.unified_diff(_lines(before), _lines(after), fromfile=path, tofile=path)
    out = []
    for line in lines:
        if not line.endswith("\n"):  # a last line without a newline, as diff(1) marks it
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines ending at '\\n' only (str.splitlines would also split at \\u2028 and the like)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
