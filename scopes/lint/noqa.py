"""Per-line suppression: `# scopes: noqa: S102` (those codes) or `# scopes: noqa` (every code).

A directive suppresses the findings that start on its own line, as ruff's `# noqa` does. It
lives in a comment, so it works where the format has comments: YAML, TOML and `.scopes` files
(after the scope string, separated by whitespace: `read:brand  # scopes: noqa: S102`). JSON has
no comments and no directives. Codes are written in full and separated by commas or spaces;
`noqa` and the codes are case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "COMMENTED_FORMATS",
    "DIRECTIVE",
    "Suppressions",
    "directives",
    "strip_directive",
    "suppressed",
]

COMMENTED_FORMATS = frozenset({"yaml", "toml", "scopes"})

DIRECTIVE = re.compile(
    r"#\s*scopes:\s*noqa(?![\w-])(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Za-z]+[0-9]+)*))?",
    re.IGNORECASE,
)
Suppressions = Mapping[int, frozenset[str] | None]  # 1-based line -> codes (None: all codes)


def __dir__() -> list[str]:
    return __all__


def directives(text: str, fmt: str) -> dict[int, frozenset[str] | None]:
    """The directives of a file, by 1-based line; empty for a format without comments."""
    if fmt not in COMMENTED_FORMATS or "noqa" not in text.lower():
        return {}
    found: dict[int, frozenset[str] | None] = {}
    for number, line in enumerate(text.split("\n"), 1):
        match = DIRECTIVE.search(line)
        if match is None:
            continue
        if fmt == "yaml" and match.start() > 0 and not line[match.start() - 1].isspace():
            continue  # YAML: a comment's `#` follows whitespace
        codes = match.group("codes")
        if fmt == "scopes" and _trailing(line) is None:
            continue  # not at the end of the line, after the scope string: no comment
        found[number] = None if codes is None else frozenset(re.split(r"[\s,]+", codes.upper()))
    return found


def suppressed(table: Suppressions, line: int, code: str) -> bool:
    """Whether a finding with `code` starting on `line` is suppressed."""
    if line not in table:
        return False
    codes = table[line]
    return codes is None or code in codes


def _trailing(line: str) -> int | None:
    """Where a `.scopes` line's trailing directive starts (with the spaces before it), if any.

    In a `.scopes` file the directive ends the line, after whitespace; what is before it is the
    scope string. Found from the last `#`, so a long line costs one scan.
    """
    at = line.rfind("#")
    if at <= 0 or not line[at - 1].isspace() or DIRECTIVE.fullmatch(line[at:].rstrip()) is None:
        return None
    return len(line[:at].rstrip())


def strip_directive(line: str) -> str:
    """A `.scopes` line without a trailing directive (and the spaces before it)."""
    if "#" not in line:
        return line
    end = _trailing(line)
    return line if end is None else line[:end]
