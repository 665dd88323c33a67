"""The `scopes` command: check and explain decisions, list a policy's routes, lint scope strings;
the service, analysis and policy-test commands are added from their own modules."""

from __future__ import annotations

import errno
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack

import click

from scopes._cli_common import ExitCode, UsageFailure, load_policy, policy_option
from scopes._distribution import DISTRIBUTION, install_hint
from scopes.analysis import commands as analysis_commands
from scopes.decision import Decision
from scopes.diff_command import diff_command
from scopes.errors import TokenError
from scopes.lint.config import ConfigError, find_config
from scopes.lint.report import FORMATS, render, render_diff, render_statistics, summary
from scopes.lint.rules import rules_for
from scopes.lint.run import STDIN, FixMode, Outcome, lint_run
from scopes.lint.sarif import sarif_log
from scopes.lint.select import RuleSelection, SelectorError, parse_selectors
from scopes.openapi.command import import_openapi_command
from scopes.policy.compile import ANY_TOKEN, Alternative
from scopes.policytest import command as policytest_command
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
    except OSError as error:
        raise UsageFailure(f"cannot read body file {name!r}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageFailure(f"cannot read body file {name!r}: it is not UTF-8 text") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION)
def cli() -> None:
    """Scoped-token policy engine: can this token call METHOD /path, and why."""


class _Request(TypedDict):
    """The request options _request_options adds, as click passes them on."""

    scope: str | None
    method: str
    path: str
    token: str | None
    jwks: str | None
    audience: str | None
    issuer: str | None
    policy_path: str | None
    body: str | None


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _request_options(command: _Command) -> _Command:
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


def _decide(options: _Request) -> Decision | str:
    """The decision for the request, or (for a token that does not verify) why not."""
    policy = load_policy(options["policy_path"])
    scope, token = options["scope"], options["token"]
    if scope is not None and token is None:
        if options["jwks"] or options["audience"] or options["issuer"]:
            raise click.UsageError("--jwks, --audience and --issuer go with --token")
        token_scopes = scope
    elif token is not None and scope is None:
        if not options["jwks"]:
            raise click.UsageError("--token needs --jwks FILE|URL to verify it")
        try:
            from scopes.tokens.jwks import KeySetError, PublicKeys
            from scopes.tokens.verify import verify_token
        except ImportError as error:
            raise UsageFailure(f"--token needs the jwt extra ({error.name} is missing): "
                               + install_hint("jwt")) from None
        try:
            keys = PublicKeys.load(options["jwks"])
            keys.key_set()
        except (KeySetError, TokenError, OSError, ValueError) as error:
            raise UsageFailure(f"cannot load --jwks {options['jwks']}: {error}") from None
        try:
            verified = verify_token(token, keys, audience=options["audience"],
                                    issuer=options["issuer"])
        except TokenError as error:
            return f"denied: invalid token: {error}"
        token_scopes = verified.scope
    else:
        raise click.UsageError("give exactly one of --scope S or --token T")
    body = read_body(options["body"])
    decision = policy.authorize(token_scopes, options["method"], options["path"], body=body)
    if decision.route is not None and decision.route.graphql is not None and not _has_graphql():
        # A GraphQL route is decided by the body's operation, which graphql-core reads: without
        # it every such request is denied, and a deny would say nothing true about the token.
        raise UsageFailure(f"{decision.rule} is a GraphQL route, decided by the request body, "
                           f"and GraphQL support is not installed: {install_hint('graphql')}")
    return decision


def _has_graphql() -> bool:
    return importlib.util.find_spec("graphql") is not None


@cli.command()
@_request_options
def check(as_json: bool, **options: Unpack[_Request]) -> int:
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
def explain(as_json: bool, **options: Unpack[_Request]) -> int:
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
    rows: list[tuple[str, str, tuple[Alternative, ...]]] = []
    for route in load_policy(policy_path).routes:
        if route.graphql is not None:
            for operation, fields in route.graphql.operations.items():
                for name, alternatives in fields.items():
                    rows.append((route.method, f"{route.template} (GraphQL {operation}.{name})",
                                 alternatives))
        else:
            rows.append((route.method, route.template, route.alternatives))
    if as_json:
        click.echo(json.dumps([_route_row(m, p, a) for m, p, a in rows]))
        return ExitCode.OK
    width = max((len(p) for _, p, _ in rows), default=0)
    for method, path, alternatives in rows:
        needs = " | ".join(alt.text for alt in alternatives) if alternatives else "(public)"
        click.echo(f"{method:<7} {path:<{width}}  {needs}")
    return ExitCode.OK


def _route_row(method: str, path: str, alternatives: tuple[Alternative, ...]) -> dict[str, Any]:
    """A route as JSON: `any_of` holds scope strings, so `authenticated = true` is `[""]` (the
    empty string meets it), flagged as such, and a public route `[]`, flagged too."""
    row: dict[str, Any] = {"method": method, "path": path,
                           "any_of": [alt.text if alt.needs else "" for alt in alternatives]}
    if alternatives == ANY_TOKEN:
        row["authenticated"] = True
    elif not alternatives:
        row["public"] = True
    return row


@cli.command()
def schema() -> int:
    """Print the policy file's JSON Schema (for editors: taplo, Even Better TOML)."""
    from scopes.policy.json_schema import policy_schema, render

    click.echo(render(policy_schema()), nl=False)
    return ExitCode.OK


_CODES_HELP = "Code prefixes or ALL, comma-separated (repeatable)."


@cli.command("lint")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--scope", "scope_strings", multiple=True, metavar="S",
              help="A scope string to check (repeatable); reported as <scope>, line 1.")
@policy_option
@click.option("--fix", "apply_fixes", is_flag=True,
              help="Apply the safe fixes: rewrite files in place; with --scope or -, print the "
                   "fixed text on stdout and the remaining findings on stderr.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print what --fix would change as a unified diff and change nothing; exit 1 "
                   "when there is something to fix.")
@click.option("--select", multiple=True, metavar="CODES",
              help=f"Report only these codes. {_CODES_HELP}")
@click.option("--extend-select", multiple=True, metavar="CODES",
              help=f"Report these codes too. {_CODES_HELP}")
@click.option("--ignore", multiple=True, metavar="CODES",
              help=f"Do not report these codes. {_CODES_HELP}")
@click.option("--format", "output", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: PATH:LINE:COL: CODE message; json: one array; github: workflow "
                   "annotations; sarif: SARIF 2.1.0 for code scanning.")
@click.option("--statistics", is_flag=True,
              help="Print how many findings of each code (text or json) instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are error findings.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print the findings and nothing else (no summary, no notes).")
@click.option("--stdin-filename", metavar="NAME",
              help="The name of standard input (-): it is reported so and its suffix decides the "
                   "format (default: <stdin>, one scope string per line, as a .scopes file).")
def lint_command(paths: tuple[str, ...], scope_strings: tuple[str, ...], policy_path: str | None,
                 apply_fixes: bool, show_diff: bool, select: tuple[str, ...],
                 extend_select: tuple[str, ...], ignore: tuple[str, ...], output: str,
                 statistics: bool, exit_zero: bool, quiet: bool,
                 stdin_filename: str | None) -> int:
    """Check scope strings in files and directories (JSON, YAML, TOML, .scopes, policies), in
    standard input (-), or given with --scope.

    Exit 0 when no error-severity finding, 1 otherwise, 2 on usage errors or unreadable files.
    Codes, suppression and the [tool.scopes] settings: docs/lint.md.
    """
    if stdin_filename is not None and not paths:
        paths = (STDIN,)
    if not paths and not scope_strings:
        raise click.UsageError("give --scope S, one or more PATHs, or - for standard input")
    if paths.count(STDIN) > 1:
        raise click.UsageError("standard input (-) can be read once")
    if stdin_filename is not None and STDIN not in paths:
        raise click.UsageError("--stdin-filename names standard input: give - among the PATHs")
    if show_diff and (statistics or output != "text"):
        raise click.UsageError("--diff prints a unified diff: it takes no --statistics or --format")
    if statistics and output not in ("text", "json"):
        raise click.UsageError("--statistics prints text or json")
    try:
        config = find_config()
        selection = RuleSelection(
            select=parse_selectors(select, "--select") if select else None,
            extend_select=parse_selectors(extend_select, "--extend-select"),
            ignore=parse_selectors(ignore, "--ignore"),
        )
    except (ConfigError, SelectorError) as error:
        raise UsageFailure(str(error)) from None
    rules = rules_for(load_policy(policy_path or config.policy))
    fix: FixMode = "preview" if show_diff else "write" if apply_fixes else "off"
    outcome = lint_run(paths, scope_strings, rules=rules, config=config, selection=selection,
                       fix=fix, stdin=lambda: sys.stdin.read(),
                       stdin_filename=stdin_filename)
    _print_lint(outcome, output=output, fix=fix, statistics=statistics, quiet=quiet)
    if outcome.problems:
        return ExitCode.USAGE
    failed = any(c.count for c in outcome.changes) if fix == "preview" else outcome.has_errors
    return ExitCode.FAILED if failed and not exit_zero else ExitCode.OK


def _print_lint(outcome: Outcome, *, output: str, fix: FixMode, statistics: bool, quiet: bool) -> None:
    """Print a lint run: fixed text or diffs, then the findings (or their statistics)."""
    for problem in outcome.problems:
        click.echo(f"scopes lint: {problem.where}: {problem.message}", err=True)
    if not quiet:
        for directory in outcome.empty_directories:
            click.echo(f"scopes lint: warning: no files to lint under {directory} (it has no "
                       ".json, .yaml, .yml, .toml or .scopes file that is not ignored)", err=True)
    streamed = False  # the fixed text of --scope or - goes to stdout; the findings then to stderr
    for change in outcome.changes:
        if fix == "preview":
            if change.count:
                click.echo(render_diff(change.path, change.before, change.after), nl=False)
        elif change.kind == "file":
            if not quiet:
                click.echo(f"{change.path}: fixed {change.count} scope string(s)", err=True)
        else:
            streamed = True
            click.echo(change.after, nl=change.kind == "scope")
    if fix == "preview":
        if not quiet:
            count = sum(c.count for c in outcome.changes)
            click.echo(f"scopes lint: --fix would fix {count} scope string(s)" if count
                       else "scopes lint: nothing to fix", err=True)
        return
    if statistics:
        lines = render_statistics(outcome.findings, output)
    elif output == "sarif":
        log = sarif_log(outcome.findings, version=_version(), information_uri=_project_url(),
                        problems=[(p.path, p.message) for p in outcome.problems])
        lines = [json.dumps(log, ensure_ascii=False, indent=2)]
    else:
        lines = render(outcome.findings, output)
    for line in lines:
        click.echo(line, err=streamed)
    if output == "text" and not statistics and not quiet:
        total = summary(outcome.findings)
        if total is not None:
            click.echo(f"scopes lint: {total}", err=True)


def _version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def _project_url() -> str | None:
    """The project's home from its metadata ([project.urls]), for SARIF's informationUri; None
    while it has none (no URL is made up)."""
    try:
        meta = importlib.metadata.metadata(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    labelled: list[str] = meta.get_all("Project-URL") or []
    urls = dict(u.split(", ", 1) for u in labelled if ", " in u)
    for label in ("Homepage", "Documentation", "Source"):
        if label in urls:
            return urls[label]
    # PackageMetadata promises .get only from Python 3.12 on.
    home = meta["Home-page"] if "Home-page" in meta else None  # noqa: SIM401
    return next(iter(urls.values()), None) or home


cli.add_command(service_commands.serve)
cli.add_command(service_commands.clients)
cli.add_command(service_commands.keys)
cli.add_command(import_openapi_command)
cli.add_command(diff_command)
cli.add_command(analysis_commands.minimal)
cli.add_command(analysis_commands.can)
cli.add_command(policytest_command.test)


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
    except OSError as error:
        if not _output_failed(error):
            raise
        return ExitCode.USAGE
    try:
        sys.stdout.flush()  # what is still buffered fails here, not at exit
    except OSError as error:
        if _output_failed(error):
            return ExitCode.USAGE
    return int(result) if isinstance(result, int) else ExitCode.OK


def _output_failed(error: OSError) -> bool:
    """A write to standard output that failed (a full disk, a closed pipe): say so once, in
    plain words, and keep the interpreter from failing again on its final flush. False when
    the error is not about standard output."""
    if error.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EDQUOT, errno.EFBIG):
        return False
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    if error.errno != errno.EPIPE:  # a reader that went away has been told enough
        try:
            sys.stderr.write(f"scopes: cannot write the output: {error.strerror}\n")
            sys.stderr.flush()
        except OSError:
            pass
    return True
