"""Every lint code in one table: its severity, what it means, and an example that triggers it.

Codes are stable: a code is never reused for another meaning. S1xx are errors in a scope string,
S2xx warnings, S3xx information, S4xx findings about a policy file, S5xx about `expires_in`.
docs/lint.md shows this table; tests/test_lint_docs.py keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from scopes.lint.diagnostic import Diagnostic, Severity

__all__ = ["CODES", "Code", "diagnostic"]


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severity: Severity
    meaning: str
    example: str  # a scope string, or for S4xx/S5xx a line of a file, that triggers the code
    fix: str = ""  # what --fix does about it ("" when nothing is safe)


CODES: dict[str, Code] = {
    code.code: code
    for code in (
        # Errors: the string does not mean what its author meant, or grants nothing.
        Code("S100", "error", "syntax error (RFC 6749 §3.3), worded and placed as the parser does",
             "read::brands"),
        Code("S101", "error", "empty scope string", '""'),
        Code(
            "S102",
            "error",
            "unknown scope, with a did-you-mean from the catalogue",
            "read:brand",
            "only a name in another case, when one catalogue name fits: READ:BRANDS -> read:brands",
        ),
        Code("S103", "error", "qualifier on a scope that takes none", "read:messages:abc"),
        Code("S104", "error", "principal scope without an id", "user_id"),
        Code("S105", "error", "scope that needs a user_id, without one", "read:messages"),
        Code("S106", "error", "scopes written as a comma-separated or JSON-array-like list",
             "read:brands,write:brands"),
        # Warnings: it works, but not as well as it looks.
        Code("S200", "warning", "duplicate scope", "read:brands read:brands", "drops the repeat"),
        Code("S201", "warning", "redundant scope: another scope in the string covers it",
             "read:brands read:brands:acme", "drops the covered scope"),
        Code("S202", "warning", "irregular spacing: leading, trailing or repeated spaces",
             "read:brands  write:brands", "single spaces, none around"),
        Code("S203", "warning", "a principal alone grants nothing", "user_id:pigeon"),
        Code("S204", "warning", "unfilled documentation placeholder",
             "user_id:<user-id> read:messages"),
        # Information.
        Code("S300", "info", "scope that grants no endpoint of the policy", "inbox:read:messages"),
        # Policy files.
        Code("S400", "error", "policy file does not load (the loader's message, at its line)",
             'methods = ["get"]'),
        Code("S401", "warning", "catalogue scope that no endpoint requirement mentions",
             '[scopes."inbox:write:events"]'),
        Code("S402", "info", "route partly shadowed: a literal segment of another route wins",
             "GET /brands/{id} beside GET /brands/export"),
        Code("S403", "error", "route declared twice (same method, same path shape)",
             "GET /brands/{id} and GET /brands/{brand}"),
        Code("S404", "warning",
             "parameter beside a literal segment: values equal to the literal but for case are "
             "denied", "GET /items/{id} beside GET /items/admin"),
        # Durations (`expires_in`), read as vercel/ms reads them.
        Code("S500", "error", "invalid duration", 'expires_in = "2 dayz"'),
        Code("S501", "warning", "unit-less duration string: milliseconds, not seconds",
             'expires_in = "3600"'),
        Code("S502", "error", "duration shorter than one second (non-positive included)",
             'expires_in = "-5m"'),
    )
}


def diagnostic(code: str, message: str, start: int, end: int, fix: str | None = None) -> Diagnostic:
    """A Diagnostic with the severity its code has in CODES."""
    return Diagnostic(code, CODES[code].severity, message, start, end, fix)
