"""Printing a test run: text (`PATH:LINE: name: expected allow, got deny: <reason>` and a
summary), one JSON object, or GitHub workflow annotations."""

from __future__ import annotations

import json
from dataclasses import dataclass

from scopes._github import annotation
from scopes.policytest.run import CaseResult, FileError, TestRun

__all__ = ["FORMATS", "Output", "render"]

FORMATS = ("text", "json", "github")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Output:
    """What to print on standard output and on standard error."""

    out: list[str]
    err: list[str]


def render(run: TestRun, output: str) -> Output:
    summary = f"{run.passed} passed, {run.failed} failed"
    failures = [result for result in run.results if not result.passed]
    if output == "json":
        document = {
            "passed": run.passed,
            "failed": run.failed,
            "files": run.files,
            "errors": [
                {"file": e.file, "line": e.line, "message": e.message, "fix": e.fix}
                for e in run.errors
            ],
            "results": [_as_dict(result) for result in run.results],
        }
        return Output([json.dumps(document, ensure_ascii=False)], [])
    if output == "github":
        lines = [_annotation(r.file, r.line, f"{r.case.name}: {r.message}") for r in failures]
        lines += [_annotation(e.file, e.line, _not_loaded(e)) for e in run.errors]
        return Output([*lines, summary], [])
    out = [f"{_place(r.file, r.line)}: {r.case.name}: {r.message}" for r in failures]
    err = [f"scopes test: {_place(e.file, e.line)}: {_not_loaded(e)}" for e in run.errors]
    return Output([*out, summary], err)


def _place(file: str, line: int | None) -> str:
    return file if line is None else f"{file}:{line}"


def _not_loaded(error: FileError) -> str:
    return f"does not load: {error.message}" + (f"\n    fix: {error.fix}" if error.fix else "")


def _as_dict(result: CaseResult) -> dict[str, object]:
    case = result.case
    return {
        "file": result.file,
        "line": case.line,
        "name": case.name,
        "scope": case.scope,
        "request": case.request,
        "expect": case.expect,
        "code": None if case.code is None else str(case.code),
        "got": "allow" if result.allowed else "deny",
        "got_code": result.code,
        "reason": result.reason,
        "passed": result.passed,
    }


def _annotation(file: str, line: int | None, message: str) -> str:
    return annotation("error", {"file": file, "line": line, "title": "scopes test"}, message)
