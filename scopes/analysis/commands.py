"""`scopes minimal` and `scopes can`: least privilege for calls (or a decision log), and what a
token can do. Finding is in scopes.analysis; this module reads arguments and prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from scopes._cli_common import ExitCode, UsageFailure, load_policy, policy_option
from scopes.analysis.capabilities import Capability, capability_report
from scopes.analysis.decision_log import (
    LogSummary,
    Proposal,
    propose,
    read_decision_log,
)
from scopes.analysis.minimal import LeastPrivilege, least_privilege
from scopes.errors import ScopeSyntaxError
from scopes.evaluate import Policy

__all__ = ["can", "minimal"]


def __dir__() -> list[str]:
    return __all__


def _echo_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


# -- scopes minimal -------------------------------------------------------------------------------


@click.command()
@click.argument("calls", nargs=-1, metavar="CALL...")
@click.option("--from-log", "log_path", metavar="FILE",
              help="A gateway decision log (JSON lines): propose per client id for the calls it made.")
@click.option("--client", "client", metavar="ID", help="With --from-log: only this client id.")
@click.option("--scope", "scope", metavar="S",
              help="With --from-log and --client: the client's token now, to show what it has beyond.")
@click.option("--user", "user", metavar="ID",
              help="The user id to add when a scope grants only beside one and no call names one.")
@policy_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def minimal(calls: tuple[str, ...], log_path: str | None, client: str | None, scope: str | None,
            user: str | None, policy_path: str | None, as_json: bool) -> int:
    """The smallest scope string the policy allows for every CALL ("GET /brands/acme"; for a
    GraphQL route its root fields: "POST /client/q messages"): fewest scopes, then the
    narrowest. Exit 0, or 1 when some call no scope set can allow (each named with why),
    2 on a usage error."""
    if log_path is None:
        if client is not None or scope is not None:
            raise click.UsageError("--client and --scope go with --from-log FILE")
        if not calls:
            raise click.UsageError('give one or more CALLs ("GET /brands/acme"), or --from-log FILE')
    elif calls:
        raise click.UsageError("give CALLs or --from-log FILE, not both")
    elif scope is not None and client is None:
        raise click.UsageError("--scope is one client's token: give --client ID too")
    policy = load_policy(policy_path)
    if scope is not None:
        try:
            policy.parse(scope)
        except ScopeSyntaxError as error:
            raise UsageFailure(f"--scope is not a scope string:\n{error}") from None
    if log_path is not None:
        return _from_log(policy, log_path, client, scope, user, as_json)
    try:
        found = least_privilege(policy, calls, user=user)
    except ValueError as error:  # a CALL or --user that does not read
        raise UsageFailure(str(error)) from None
    if as_json:
        _echo_json(_least_dict(found))
    elif found.scopes is None:
        for item in found.impossible:
            click.echo(f"cannot allow {item.call}: {item.reason}")
    else:
        click.echo(str(found.scopes))
        _notes(found, lambda text: click.echo(f"scopes minimal: {text}", err=True))
    return ExitCode.OK if found.scopes is not None else ExitCode.FAILED


def _notes(found: LeastPrivilege, say: Callable[[str], None]) -> None:
    if found.scopes is not None and not found.scopes:
        say("no scope is needed: every call is public or needs only a valid token")
    if not found.proven:
        say(f"not proven minimal: the search stopped after {found.steps:,} steps; the set is "
            "allowed for every call and no scope of it can be dropped")


def _least_dict(found: LeastPrivilege) -> dict[str, Any]:
    return {
        "scope": None if found.scopes is None else str(found.scopes),
        "proven_minimal": found.proven,
        "calls": [str(call) for call in found.calls],
        "impossible": [{"call": item.call, "reason": item.reason} for item in found.impossible],
    }


def _from_log(policy: Policy, path: str, client: str | None, scope: str | None,
              user: str | None, as_json: bool) -> int:
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            summary = read_decision_log(stream, client=client)
    except OSError as error:
        raise UsageFailure(f"cannot read decision log {path}: {error.strerror}") from None
    proposals = []
    try:
        for log in summary.clients.values():
            proposals.append(propose(policy, log, current=scope, user=user))
    except ValueError as error:  # --user that is not one scope token
        raise UsageFailure(str(error)) from None
    proposals.sort(key=lambda p: p.client_id)
    if as_json:
        _echo_json({**_summary_dict(summary), "clients": [_proposal_dict(p) for p in proposals]})
    else:
        for proposal in proposals:
            for line in _proposal_lines(proposal):
                click.echo(line)
        click.echo(_summary_line(summary), err=True)
        if client is not None and not proposals:
            click.echo(f"scopes minimal: no decision of client {client!r} in {path}", err=True)
    failed = not proposals and client is not None
    failed = failed or any(p.least.scopes is None for p in proposals)
    return ExitCode.FAILED if failed else ExitCode.OK


def _proposal_lines(proposal: Proposal) -> list[str]:
    least = proposal.least
    lines = [(f"client {proposal.client_id}: {proposal.decisions:,} decisions, "
             f"{len(proposal.calls) + len(proposal.granted_only)} distinct calls allowed")]
    if least.scopes is not None:
        lines.append(f"  least privilege: {least.scopes}")
    for item in least.impossible:
        lines.append(f"  cannot allow {item.call}: {item.reason}")
    source = "the token given" if proposal.current_from == "given" else "seen in the log's reasons"
    clipped = "; some reasons were clipped, so it may hold more" if proposal.clipped else ""
    lines.append(f"  beyond that: {proposal.beyond or 'nothing'} ({source}: "
                 f"{proposal.current or 'no scopes'}{clipped})")
    if proposal.denied:
        denied = ", ".join(f"{call} (x{count:,})" for call, count in proposal.denied)
        lines.append(f"  denied, not included: {denied}")
    for label in proposal.granted_only:
        lines.append(f"  kept: {label}")
    if not least.proven:
        lines.append(f"  not proven minimal: the search stopped after {least.steps:,} steps")
    return lines


def _summary_line(summary: LogSummary) -> str:
    line = (f"read {summary.lines:,} lines: {summary.decisions:,} decisions "
            f"({summary.without_client:,} without a client id), {summary.malformed:,} malformed")
    if summary.malformed_lines:
        more = ", ..." if summary.malformed > len(summary.malformed_lines) else ""
        line += f" (line {', '.join(map(str, summary.malformed_lines))}{more})"
    return line


def _summary_dict(summary: LogSummary) -> dict[str, Any]:
    return {
        "lines": summary.lines,
        "decisions": summary.decisions,
        "without_client": summary.without_client,
        "malformed": summary.malformed,
        "malformed_lines": summary.malformed_lines,
    }


def _proposal_dict(proposal: Proposal) -> dict[str, Any]:
    return {
        "client_id": proposal.client_id,
        "decisions": proposal.decisions,
        **_least_dict(proposal.least),
        "granted_only": list(proposal.granted_only),
        "current": str(proposal.current),
        "current_from": proposal.current_from,
        "clipped": proposal.clipped,
        "beyond": str(proposal.beyond),
        "denied": [{"call": call, "count": count} for call, count in proposal.denied],
    }


# -- scopes can -----------------------------------------------------------------------------------


@click.command()
@click.option("--scope", "scope", required=True, metavar="S", help="The token's scope string.")
@policy_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def can(scope: str, policy_path: str | None, as_json: bool) -> int:
    """Every route (and GraphQL root field) a token with scopes S can call: ids filled in where
    the token fixes them, {param} where any value passes; and the token's scopes that grant
    nothing. Exit 0, or 2 on a usage error or a malformed S."""
    policy = load_policy(policy_path)
    try:
        report = capability_report(policy, scope)
    except ScopeSyntaxError as error:
        raise UsageFailure(f"--scope is not a scope string:\n{error}") from None
    if as_json:
        _echo_json({
            "scope": str(report.token),
            "capabilities": [_capability_dict(c) for c in report.capabilities],
            "grants_nothing": [{"scope": idle.scope, "why": idle.why} for idle in report.idle],
        })
        return ExitCode.OK
    width = max((len(str(c)) for c in report.capabilities), default=0)
    for capability in report.capabilities:
        click.echo(f"{capability!s:<{width}}  {_via(capability)}")
    if not report.capabilities:
        click.echo("no route of this policy: the token can call nothing")
    for idle in report.idle:
        click.echo(f"grants nothing: {idle.scope}: {idle.why}")
    return ExitCode.OK


def _via(capability: Capability) -> str:
    if capability.access == "public":
        return "(public)"
    if capability.access == "authenticated":
        return "(any valid token)"
    return " ".join(capability.granted_by)


def _capability_dict(capability: Capability) -> dict[str, Any]:
    return {
        "method": capability.method,
        "path": capability.path,
        "rule": capability.rule,
        "operation": capability.operation,
        "field": capability.field,
        "params": {name: value for name, value in capability.params},
        "access": capability.access,
        "granted_by": list(capability.granted_by),
    }
