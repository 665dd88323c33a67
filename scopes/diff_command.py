"""`scopes diff OLD NEW`: the differences in access between two policies or OpenAPI documents,
as text, one JSON array, or GitHub workflow annotations at NEW's lines (docs/diff.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from scopes._cli_common import ExitCode, UsageFailure
from scopes._github import annotation
from scopes.diff import FAIL_ON, Finding, Side, diff, fails, load_side
from scopes.errors import PolicyError
from scopes.openapi.command import scheme_scope_option, scheme_scopes

__all__ = ["diff_command", "render"]

FORMATS = ("text", "json", "github")
_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def __dir__() -> list[str]:
    return __all__


def _place(finding: Finding, old: Side, new: Side) -> tuple[str, int | None]:
    """Where a finding is shown: NEW's line for the route; OLD's for a route NEW lacks."""
    if finding.origin is not None:
        return new.path, new.line(finding.origin)
    return old.path, old.line(finding.old_origin)


def render(findings: Sequence[Finding], old: Side, new: Side, output: str) -> list[str]:
    """The lines to print for the findings in one of FORMATS."""
    if output == "json":
        rows = []
        for f in findings:
            path, line = _place(f, old, new)
            rows.append({"kind": f.kind, "severity": f.severity, "rule": f.rule,
                         "message": f.message, "example": f.example, "file": path, "line": line})
        return [json.dumps(rows, ensure_ascii=False)]
    lines = []
    for f in findings:
        path, line = _place(f, old, new)
        if output == "github":
            properties = {"file": path, "line": line, "title": f"scopes diff: {f.kind}"}
            lines.append(annotation(_LEVEL[f.severity], properties, f"{f.rule}: {f.message}"))
        else:
            where = path if line is None else f"{path}:{line}"
            lines.append(f"{where}: {f.severity}: {f.kind}: {f.rule}: {f.message}")
    if output == "text":
        counts = [(sum(f.severity == s for f in findings), s) for s in ("error", "warning", "info")]
        summary = ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for n, s in counts)
        lines.append(summary if findings else "no difference in access")
    return lines


@click.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--format", "output", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: FILE:LINE: severity: kind: rule: message; json: one array; github: "
                   "workflow annotations at NEW's lines.")
@click.option("--fail-on", "fail_on", type=click.Choice(FAIL_ON), default="widen",
              show_default=True,
              help="widen: exit 1 on a finding that widens access (an error); change: on any "
                   "finding; never: exit 0.")
@scheme_scope_option
@click.option("--public-by-default", is_flag=True,
              help="For OpenAPI inputs: import operations no security applies to as public.")
@click.option("--skip-unsupported", is_flag=True,
              help="For OpenAPI inputs: leave out the operations the engine cannot enforce.")
def diff_command(old: str, new: str, output: str, fail_on: str, scheme_scope: tuple[str, ...],
                 public_by_default: bool, skip_unsupported: bool) -> int:
    """Show what changes in access from OLD to NEW (policy files or OpenAPI documents).

    Exit 0 when nothing reaches --fail-on, 1 when something does, 2 on usage errors and files
    that cannot be loaded.
    """
    mapping = scheme_scopes(scheme_scope)
    try:
        before, after = (
            load_side(path, scheme_scopes=mapping, public_by_default=public_by_default,
                      skip_unsupported=skip_unsupported)
            for path in (old, new)
        )
    except PolicyError as error:
        raise UsageFailure(f"cannot load:\n{error}") from None
    findings = diff(before.policy, after.policy)
    for line in render(findings, before, after, output):
        click.echo(line)
    return ExitCode.FAILED if fails(findings, fail_on) else ExitCode.OK
