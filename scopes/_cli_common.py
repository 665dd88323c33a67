"""What every `scopes` subcommand shares: exit codes, usage failures, the common options."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

import click

from scopes.errors import PolicyError
from scopes.evaluate import Policy

__all__ = [
    "ExitCode",
    "UsageFailure",
    "db_option",
    "keys_option",
    "load_policy",
    "policy_option",
    "service_options",
]


def __dir__() -> list[str]:
    return __all__


class ExitCode(enum.IntEnum):
    """One table of exit codes for every command."""

    OK = 0  # allowed; no error-severity diagnostic
    FAILED = 1  # denied; lint errors found
    USAGE = 2  # bad arguments, unreadable or broken policy or input file


class UsageFailure(click.ClickException):
    """A user mistake that is not about the decision itself: exit 2, a message, no traceback."""

    exit_code = ExitCode.USAGE


def load_policy(path: str | None) -> Policy:
    """The policy named by --policy (default: the bundled Courier policy)."""
    if path is None:
        return Policy.courier()
    try:
        return Policy.from_file(path)
    except PolicyError as error:
        raise UsageFailure(f"cannot load policy:\n{error}") from None


policy_option = click.option(
    "--policy",
    "policy_path",
    metavar="FILE",
    help="Policy file (TOML). Default: the bundled Courier policy.",
)

db_option = click.option(
    "--db",
    "db",
    metavar="PATH|URL",
    envvar="SCOPES_DB",
    default="scopes.db",
    show_default=True,
    help="Client registry: a SQLite file, or a postgresql:// URL (env SCOPES_DB).",
)

keys_option = click.option(
    "--keys",
    "keys",
    metavar="DIR",
    envvar="SCOPES_KEYS",
    default="scopes-keys",
    show_default=True,
    help="Signing key directory, created on first use (env SCOPES_KEYS).",
)


F = TypeVar("F", bound=Callable[..., Any])


def service_options(command: F) -> F:
    """--db, --keys and --policy: every token-service command takes all three, in any order."""
    return db_option(keys_option(policy_option(command)))
