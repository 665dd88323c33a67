"""Reporters: where a diagnostic is in its file (line, column); text, JSON and GitHub output."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass

from scopes.lint.diagnostic import Diagnostic

__all__ = ["FORMATS", "Finding", "Lines", "annotation", "in_string", "render"]

FORMATS = ("text", "json", "github")
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


def _as_dict(finding: Finding) -> dict:
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
    return annotation(_ANNOTATION[d.severity], d.message, **properties)


def annotation(level: str, message: str, **properties: object) -> str:
    """One GitHub Actions workflow command, `::error file=F,line=N::message` ("Setting an error
    message"), escaped as the runner reads it; `level` is error, warning or notice, and a
    property that is None is left out."""
    shown = ",".join(
        f"{name}={_escape(str(value), True)}" for name, value in properties.items()
        if value is not None
    )
    return f"::{level} {shown}::{_escape(message, False)}"


def _escape(text: str, is_property: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text
