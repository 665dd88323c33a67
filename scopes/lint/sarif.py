"""SARIF 2.1.0 output (`--format sarif`), the log GitHub code scanning and other tools read.

One run: the tool (its rules are the codes table), one result per finding with its rule, level
and region, and the invocation (whether every file could be read). Locations are URIs relative
to the current directory (`uriBaseId` %SRCROOT%); columns count Unicode code points, as ours do,
and a region's end column is exclusive, as SARIF's is. A finding in a `--scope` string has no
file, so its result has no location.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath
from urllib.parse import quote

from scopes.lint.codes import CODES, Code
from scopes.lint.report import Finding

__all__ = ["LEVELS", "SARIF_SCHEMA", "SRCROOT", "sarif_log"]

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def __dir__() -> list[str]:
    return __all__


def sarif_log(
    findings: Iterable[Finding],
    *,
    version: str,
    problems: Sequence[tuple[str, str]] = (),
    base: Path | None = None,
    information_uri: str | None = None,
) -> dict:
    """The SARIF log of one lint run.

    `problems` are the files that could not be read, as (path, message); they make the
    invocation unsuccessful and appear as its notifications. `base` is the directory paths are
    relative to (default: the current one).
    """
    base = Path(os.path.abspath(base or os.curdir))
    codes = list(CODES.values())
    index = {code.code: i for i, code in enumerate(codes)}
    driver: dict = {"name": "scopes", "version": version}
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = [_rule(code) for code in codes]
    results = []
    for finding in findings:
        d = finding.diagnostic
        result: dict = {
            "ruleId": d.code,
            "level": LEVELS[d.severity],
            "message": {"text": d.message},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if not _synthetic(finding.path):
            region = {
                "startLine": finding.line,
                "startColumn": finding.column,
                "endLine": finding.end_line,
                "endColumn": finding.end_column,
            }
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": _artifact(finding.path, base), "region": region,
            }}]
        if d.fix is not None:
            result["properties"] = {"fix": d.fix}
        results.append(result)
    invocation: dict = {"executionSuccessful": not problems}
    if problems:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": message},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact(path, base)}}],
            }
            for path, message in problems
        ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _rule(code: Code) -> dict:
    example = f"Example: {code.example}."
    fix = f" --fix: {code.fix}." if code.fix else ""
    return {
        "id": code.code,
        "shortDescription": {"text": code.meaning},
        "help": {"text": f"{code.meaning}. {example}{fix}"},
        "defaultConfiguration": {"level": LEVELS[code.severity]},
        "properties": {"tags": [code.severity]},
    }


def _synthetic(path: str) -> bool:
    """`<scope>` for --scope strings (and `<stdin>` unnamed): no file to point at."""
    return path.startswith("<") and path.endswith(">")


def _artifact(path: str, base: Path) -> dict:
    """A URI reference to `path`: relative to `base` when under it, else an absolute file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = PurePath(absolute.relative_to(base)).as_posix()
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}
