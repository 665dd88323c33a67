"""The `expires_in` rules: durations read as vercel/ms reads them (scopes.parse_duration)."""

from __future__ import annotations

from datetime import timedelta

from scopes.duration import parse_duration
from scopes.lint.codes import diagnostic
from scopes.lint.diagnostic import Diagnostic

__all__ = ["lint_duration"]

_ONE_SECOND = timedelta(seconds=1)


def __dir__() -> list[str]:
    return __all__


def lint_duration(value: object, start: int, end: int) -> list[Diagnostic]:
    """Diagnostics for one `expires_in` value written at [start, end) of its file.

    A string without a unit is milliseconds (ms reads "3600" as 3.6 seconds): a warning, since
    Courier's number form means seconds. Under a second, zero and negative are errors: the
    token service refuses them (DESIGN.md, `POST /auth/issue-token`).
    """
    if value is None:
        return []
    end = max(end, start + 1)
    try:
        duration = parse_duration(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as error:
        return [diagnostic("S500", str(error), start, end)]
    found = []
    if isinstance(value, str) and not any(ch.isascii() and ch.isalpha() for ch in value):
        seconds = duration.total_seconds()
        found.append(diagnostic(
            "S501",
            f"{value!r} has no unit, so it means {value.strip()} milliseconds ({seconds:g} s), "
            f"not seconds; write the number {value.strip()} for seconds, or add a unit such as "
            f"'{value.strip()}s'",
            start,
            end,
        ))
    if duration <= timedelta(0):
        found.append(diagnostic(
            "S502", f"{value!r} is not a positive duration; a token must live at least one second",
            start, end,
        ))
    elif duration < _ONE_SECOND:
        found.append(diagnostic(
            "S502",
            f"{value!r} is {duration.total_seconds():g} s; the token service refuses a lifetime "
            "under one second",
            start,
            end,
        ))
    return found
