"""Contains the Diagnostic record: one finding of the linter, with its code and span."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Diagnostic", "Severity"]

Severity = Literal["error", "warning", "info"]


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding: `code` and `severity` come from scopes.lint.codes.CODES.

    `start`/`end` are character offsets into the linted text, end exclusive, spanning the
    offending token; at the end of the input they are `(len(text), len(text) + 1)`. `fix`, when
    not None, is the text that safely replaces `text[start:end]` (`""` deletes a scope; extra
    spaces left behind are themselves a fixable finding).
    """

    code: str
    severity: Severity
    message: str
    start: int
    end: int
    fix: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
