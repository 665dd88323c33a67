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
from typing import Literal, NotRequired, TypedDict
from urllib.parse import quote

from scopes.lint.codes import CODES, Code
from scopes.lint.diagnostic import Severity
from scopes.lint.report import Finding

__all__ = ["LEVELS", "SARIF_SCHEMA", "SRCROOT", "SarifLog", "sarif_log"]

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
Level = Literal["error", "warning", "note"]
LEVELS: dict[Severity, Level] = {"error": "error", "warning": "warning", "info": "note"}


def __dir__() -> list[str]:
    return __all__


# The parts of a SARIF 2.1.0 log this module writes, named as the specification names them.


class _Message(TypedDict):
    text: str


class _ArtifactLocation(TypedDict):
    uri: str
    uriBaseId: NotRequired[str]


class _Region(TypedDict):
    startLine: int
    startColumn: int
    endLine: int
    endColumn: int


class _PhysicalLocation(TypedDict):
    artifactLocation: _ArtifactLocation
    region: NotRequired[_Region]


class _Location(TypedDict):
    physicalLocation: _PhysicalLocation


class _FixProperties(TypedDict):
    fix: str


class _Result(TypedDict):
    ruleId: str
    level: Level
    message: _Message
    ruleIndex: NotRequired[int]
    locations: NotRequired[list[_Location]]
    properties: NotRequired[_FixProperties]


class _Configuration(TypedDict):
    level: Level


class _TagProperties(TypedDict):
    tags: list[str]


class _Rule(TypedDict):  # SARIF's reportingDescriptor
    id: str
    shortDescription: _Message
    help: _Message
    defaultConfiguration: _Configuration
    properties: _TagProperties


class _Driver(TypedDict):  # SARIF's toolComponent
    name: str
    version: str
    informationUri: NotRequired[str]
    rules: list[_Rule]


class _Tool(TypedDict):
    driver: _Driver


class _Notification(TypedDict):
    level: Level
    message: _Message
    locations: list[_Location]


class _Invocation(TypedDict):
    executionSuccessful: bool
    toolExecutionNotifications: NotRequired[list[_Notification]]


class _Root(TypedDict):  # SARIF's artifactLocation, as an originalUriBaseIds entry
    uri: str


class _Run(TypedDict):
    tool: _Tool
    invocations: list[_Invocation]
    originalUriBaseIds: dict[str, _Root]
    columnKind: str
    results: list[_Result]


SarifLog = TypedDict("SarifLog", {"$schema": str, "version": str, "runs": list[_Run]})


def sarif_log(
    findings: Iterable[Finding],
    *,
    version: str,
    problems: Sequence[tuple[str, str]] = (),
    base: Path | None = None,
    information_uri: str | None = None,
) -> SarifLog:
    """The SARIF log of one lint run.

    `problems` are the files that could not be read, as (path, message); they make the
    invocation unsuccessful and appear as its notifications. `base` is the directory paths are
    relative to (default: the current one).
    """
    base = Path(os.path.abspath(base or os.curdir))
    codes = list(CODES.values())
    index = {code.code: i for i, code in enumerate(codes)}
    rules = [_rule(code) for code in codes]
    driver: _Driver
    if information_uri:
        driver = {"name": "scopes", "version": version, "informationUri": information_uri,
                  "rules": rules}
    else:
        driver = {"name": "scopes", "version": version, "rules": rules}
    results: list[_Result] = []
    for finding in findings:
        d = finding.diagnostic
        result: _Result = {
            "ruleId": d.code,
            "level": LEVELS[d.severity],
            "message": {"text": d.message},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if not _synthetic(finding.path):
            region: _Region = {
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
    invocation: _Invocation = {"executionSuccessful": not problems}
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


def _rule(code: Code) -> _Rule:
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


def _artifact(path: str, base: Path) -> _ArtifactLocation:
    """A URI reference to `path`: relative to `base` when under it, else an absolute file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = PurePath(absolute.relative_to(base)).as_posix()
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}
