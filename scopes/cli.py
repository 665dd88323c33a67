"""The `scopes` command: check and explain decisions, list a policy's routes, lint scope strings;
the service, analysis and policy-test commands are added from their own modules."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from scopes.decision import Decision
from scopes._cli_common import ExitCode, UsageFailure, load_policy, policy_option
from scopes.lint.config import ConfigError, find_config
from scopes.lint.files import SourceError, lint_file
from scopes.lint.fixes import fix_with
from scopes.lint.report import FORMATS, in_string, render
from scopes.lint.rules import rules_for
from scopes.analysis import commands as analysis_commands
from scopes.service import commands as service_commands

__all__ = ["ExitCode", "main"]


def __dir__() -> list[str]:
    return __all__


def read_body(value: str | None) -> str | None:
    """--body JSON, or --body @file (`@-` reads standard input)."""
    if value is None or not value.startswith("@"):
        return value
    name = value[1:]
    try:
        if name == "-":
            return sys.stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageFailure(f"cannot read body file {name!r}: {error}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scopes")
def cli() -> None:
    """Scoped-token policy engine: can this token call METHOD /path, and why."""


def _request_options(command):
    for decorator in reversed([
        click.option("--scope", "scope", metavar="S", help="The token's scope string."),
        click.argument("method"),
        click.argument("path"),
        click.option("--token", metavar="T", help="A signed access token (instead of --scope)."),
        click.option("--jwks", metavar="FILE|URL", help="With --token: the keys to verify it."),
        click.option("--audience", metavar="A", help="With --token: the audience to require."),
        click.option("--issuer", metavar="I", help="With --token: the issuer to require."),
        policy_option,
        click.option("--body", metavar="JSON|@FILE",
                     help="The request's JSON body (GraphQL endpoints)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]):
        command = decorator(command)
    return command


def _decide(options: dict) -> Decision | str:
    """The decision for the request, or (for a token that does not verify) why not."""
    policy = load_policy(options["policy_path"])
    scope, token = options["scope"], options["token"]
    if (scope is None) == (token is None):
        raise click.UsageError("give exactly one of --scope S or --token T")
    if token is None:
        if options["jwks"] or options["audience"] or options["issuer"]:
            raise click.UsageError("--jwks, --audience and --issuer go with --token")
        token_scopes = scope
    else:
        if not options["jwks"]:
            raise click.UsageError("--token needs --jwks FILE|URL to verify it")
        try:
            from scopes.errors import TokenError
            from scopes.tokens.jwks import KeySetError, PublicKeys
            from scopes.tokens.verify import verify_token
        except ImportError as error:
            raise UsageFailure(f"--token needs the jwt extra ({error.name} is missing): "
                               "pip install 'scopes[server]'") from None
        try:
            keys = PublicKeys.load(options["jwks"])
            keys.key_set()
        except (KeySetError, TokenError, OSError, ValueError) as error:
            raise UsageFailure(f"cannot load --jwks {options['jwks']}: {error}") from None
        try:
            verified = verify_token(token, keys, audience=options["audience"],
                                    issuer=options["issuer"], policy=policy)
        except TokenError as error:
            return f"denied: invalid token: {error}"
        token_scopes = verified.scopes
    body = read_body(options["body"])
    return policy.authorize(token_scopes, options["method"], options["path"], body=body)


@cli.command()
@_request_options
def check(as_json: bool, **options) -> int:
    """Decide METHOD PATH for --scope S, or for a verified --token: exit 0 allowed, 1 denied
    (or an invalid token), 2 usage error."""
    decision = _decide(options)
    if isinstance(decision, str):
        click.echo(json.dumps({"allowed": False, "reason": decision}) if as_json else decision)
        return ExitCode.FAILED
    click.echo(json.dumps(decision.to_dict()) if as_json else decision.reason)
    return ExitCode.OK if decision.allowed else ExitCode.FAILED


@cli.command()
@_request_options
def explain(as_json: bool, **options) -> int:
    """Explain the decision for METHOD PATH: the rule, what it needs, what the token has."""
    decision = _decide(options)
    if isinstance(decision, str):
        click.echo(json.dumps({"allowed": False, "reason": decision}) if as_json else decision)
        return ExitCode.FAILED
    if as_json:
        click.echo(json.dumps({**decision.to_dict(), "explanation": decision.explain()}))
    else:
        click.echo(decision.explain())
    return ExitCode.OK if decision.allowed else ExitCode.FAILED


@cli.command()
@policy_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def routes(policy_path: str | None, as_json: bool) -> int:
    """Print the policy's compiled route table."""
    rows = []
    for route in load_policy(policy_path).routes:
        if route.graphql is not None:
            for operation, fields in route.graphql.operations.items():
                for name, alternatives in fields.items():
                    rows.append((route.method, f"{route.template} (GraphQL {operation}.{name})",
                                 [alt.text for alt in alternatives]))
        else:
            rows.append((route.method, route.template, [alt.text for alt in route.alternatives]))
    if as_json:
        click.echo(json.dumps([{"method": m, "path": p, "any_of": a} for m, p, a in rows]))
        return ExitCode.OK
    width = max((len(p) for _, p, _ in rows), default=0)
    for method, path, any_of in rows:
        needs = " | ".join(any_of) if any_of else "(public)"
        click.echo(f"{method:<7} {path:<{width}}  {needs}")
    return ExitCode.OK


@cli.command("lint")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--scope", "scope_strings", multiple=True, metavar="S",
              help="A scope string to check (repeatable); reported as <scope>, line 1.")
@policy_option
@click.option("--fix", "apply_fixes", is_flag=True,
              help="Apply the safe fixes: rewrite FILEs in place; with --scope, print the fixed "
                   "string on stdout and the remaining findings on stderr.")
@click.option("--format", "output", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: PATH:LINE:COL: CODE message; json: one array; github: annotations.")
def lint_command(files: tuple[str, ...], scope_strings: tuple[str, ...], policy_path: str | None,
                 apply_fixes: bool, output: str) -> int:
    """Check scope strings in FILEs (JSON, YAML, TOML, .scopes, policies) or given with --scope.

    Exit 0 when no error-severity finding, 1 otherwise, 2 on usage errors or unreadable files.
    Codes and the [tool.scopes] settings: docs/lint.md.
    """
    if not files and not scope_strings:
        raise click.UsageError("give --scope S or one or more FILEs")
    try:
        config = find_config()
    except ConfigError as error:
        raise UsageFailure(str(error)) from None
    rules = rules_for(load_policy(policy_path or config.policy))
    findings = []
    for text in scope_strings:
        if apply_fixes:
            text = fix_with(rules, text)
            click.echo(text)
        findings += [in_string("<scope>", d) for d in rules.lint(text)]
    unreadable = False
    for path in files:
        try:
            report = lint_file(path, rules, config.keys, fix=apply_fixes)
        except SourceError as error:
            where = path if error.line is None else f"{path}:{error.line}:{error.column or 1}"
            click.echo(f"scopes lint: {where}: {error.message}", err=True)
            unreadable = True
            continue
        findings += report.findings
        if report.fixed:
            click.echo(f"{path}: fixed {report.fixed} scope string(s)", err=True)
    for line in render(findings, output):
        click.echo(line, err=bool(apply_fixes and scope_strings))
    if unreadable:
        return ExitCode.USAGE
    return ExitCode.FAILED if any(f.diagnostic.is_error for f in findings) else ExitCode.OK


cli.add_command(service_commands.serve)
cli.add_command(service_commands.clients)
cli.add_command(service_commands.keys)
cli.add_command(analysis_commands.minimal)
cli.add_command(analysis_commands.can)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting (testable)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = cli.main(args=args, prog_name="scopes", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return ExitCode.USAGE if isinstance(error, click.UsageError) else error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return ExitCode.USAGE
    return int(result) if isinstance(result, int) else ExitCode.OK
