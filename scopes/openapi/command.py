"""`scopes import-openapi SPEC [-o FILE]`: the policy for an OpenAPI document, on stdout or in FILE.

Exit 0 with the policy written (operations with no security are left out and listed on
stderr, as are those --skip-unsupported leaves out); 1 when an operation cannot be enforced
exactly (each one listed, nothing written); 2 for a usage error or a document that cannot be
read (a message, never a traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from scopes._cli_common import ExitCode, UsageFailure
from scopes.openapi.document import Document, OpenAPIError
from scopes.openapi.importer import Omitted, UnsupportedError, import_openapi

__all__ = ["import_openapi_command", "scheme_scope_option", "scheme_scopes"]


def __dir__() -> list[str]:
    return __all__


def scheme_scopes(values: Sequence[str]) -> dict[str, str]:
    """`--scheme-scope SCHEME=SCOPE` values as a mapping (a scheme given twice is an error)."""
    mapping: dict[str, str] = {}
    for value in values:
        scheme, equals, scope = value.partition("=")
        if not equals or not scheme or not scope:
            raise click.BadParameter(
                f"{value!r} is not SCHEME=SCOPE", param_hint="'--scheme-scope'"
            )
        if scheme in mapping:
            raise click.BadParameter(f"scheme {scheme!r} is given twice",
                                     param_hint="'--scheme-scope'")
        mapping[scheme] = scope
    return mapping


scheme_scope_option = click.option(
    "--scheme-scope",
    "scheme_scope",
    multiple=True,
    metavar="SCHEME=SCOPE",
    help="A requirement of SCHEME listing no scopes needs SCOPE (instead of any valid token); "
    "repeatable.",
)


def _where(document: Document, omitted: Omitted) -> str:
    line = document.line(omitted.where)
    return f"{document.file}:{line}" if line is not None else document.file


@click.command("import-openapi")
@click.argument("spec", metavar="SPEC")
@click.option("-o", "--output", "output", metavar="FILE",
              help="Write the policy to FILE (default: standard output).")
@scheme_scope_option
@click.option("--public-by-default", is_flag=True,
              help="Import operations that no security requirement applies to as public "
                   "(default: leave them out and list them).")
@click.option("--skip-unsupported", is_flag=True,
              help="Leave out, and list, the operations the engine cannot enforce exactly "
                   "(default: fail on them).")
def import_openapi_command(spec: str, output: str | None, scheme_scope: tuple[str, ...],
                           public_by_default: bool, skip_unsupported: bool) -> int:
    """Write the scope policy for an OpenAPI 3.0 or 3.1 document (JSON or YAML).

    Exit 0 when written, 1 when an operation cannot be enforced exactly (use
    --skip-unsupported to leave such operations out), 2 on usage errors and unreadable
    documents.
    """
    mapping = scheme_scopes(scheme_scope)
    try:
        imported = import_openapi(spec, scheme_scopes=mapping,
                                  public_by_default=public_by_default,
                                  skip_unsupported=skip_unsupported)
    except UnsupportedError as error:
        for omitted in error.unsupported:
            click.echo(f"{_where(error.document, omitted)}: {omitted.where}: {omitted.rule}: "
                       f"{omitted.message}\n    fix: {omitted.fix}", err=True)
        count = len(error.unsupported)
        click.echo(f"scopes import-openapi: {count} operation{'s' if count > 1 else ''} cannot "
                   "be enforced exactly; nothing written", err=True)
        return ExitCode.FAILED
    except OpenAPIError as error:
        raise UsageFailure(str(error)) from None
    document = imported.document
    for omitted in imported.left_out:
        click.echo(f"{_where(document, omitted)}: {omitted.where}: left out {omitted.rule}: "
                   f"{omitted.message}", err=True)
    for omitted in imported.skipped:
        click.echo(f"{_where(document, omitted)}: {omitted.where}: skipped {omitted.rule}: "
                   f"{omitted.message}", err=True)
    for note in imported.notes:
        click.echo(f"{document.file}: note: {note}", err=True)
    text = imported.toml()
    if output is None:
        click.echo(text, nl=False)
        return ExitCode.OK
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageFailure(f"cannot write {output}: {error.strerror}") from None
    return ExitCode.OK
