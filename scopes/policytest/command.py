"""`scopes test [PATH...] [--format text|json|github]`: run the `[[tests]]` policies carry."""

from __future__ import annotations

import click

from scopes._cli_common import ExitCode, UsageFailure
from scopes.policytest.report import FORMATS, render
from scopes.policytest.run import run_tests

__all__ = ["test"]


def __dir__() -> list[str]:
    return __all__


@click.command("test")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--format", "output", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: PATH:LINE: name: expected ..., got ...; json: one object; github: annotations.")
def test(paths: tuple[str, ...], output: str) -> int:
    """Run the [[tests]] of policy files and test files (PATH: files, or directories searched
    for *.toml files holding [[tests]]; default: the current directory). Exit 0 when all pass,
    1 when any fails, 2 on a usage error or a file that does not load."""
    try:
        run = run_tests(paths or (".",))
    except FileNotFoundError as error:
        raise UsageFailure(f"no such file or directory: {error.args[0]}") from None
    if not run.files:
        click.echo(f"scopes test: no file holds [[tests]] ({', '.join(paths or ('.',))})", err=True)
    printed = render(run, output)
    for line in printed.err:
        click.echo(line, err=True)
    for line in printed.out:
        click.echo(line)
    if run.errors:
        return ExitCode.USAGE
    return ExitCode.FAILED if run.failed else ExitCode.OK
