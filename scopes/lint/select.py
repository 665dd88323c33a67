"""Which codes a lint run reports: `--select`, `--ignore`, `--extend-select` and per-file-ignores.

Selectors work as ruff's do: a selector is `ALL` or a code prefix (`S`, `S1`, `S10`, `S102`)
that names at least one code. A run's selection is built from layers, `[tool.scopes]` first
and the command line last. A layer with `select` starts afresh from it; otherwise it starts
from the layer before. Within a layer, selectors apply from the least specific to the most
specific, and at equal specificity `ignore` wins: `--select S1 --ignore S102` is S1 without
S102, while `--ignore S1 --extend-select S102` keeps S102.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pathspec import GitIgnoreSpec

from scopes.lint.codes import CODES

__all__ = [
    "ALL",
    "PerFileIgnores",
    "RuleSelection",
    "SelectorError",
    "enabled_codes",
    "matches",
    "parse_selectors",
]

ALL = "ALL"


def __dir__() -> list[str]:
    return __all__


class SelectorError(ValueError):
    """A selector that names no code: a usage error, with the codes there are."""


def _specificity(selector: str) -> int:
    return 0 if selector == ALL else len(selector)


def matches(selector: str, code: str) -> bool:
    """Whether `selector` (ALL or a prefix) takes in `code`."""
    return selector == ALL or code.startswith(selector)


def parse_selectors(values: Iterable[str], where: str) -> tuple[str, ...]:
    """Selectors from option values or a config list; each value may hold several, comma-separated.

    `where` names the option or key in the error (`--select`, `[tool.scopes] ignore`).
    """
    selectors: list[str] = []
    for value in values:
        for piece in value.split(","):
            selector = piece.strip().upper()
            if not selector:
                continue
            if selector != ALL and not any(code.startswith(selector) for code in CODES):
                raise SelectorError(
                    f"{where}: {piece.strip()!r} is not a code or a code prefix; codes run "
                    f"from {min(CODES)} to {max(CODES)} (prefixes such as S1 or S10 select "
                    "groups, ALL selects every code; see docs/lint.md)"
                )
            selectors.append(selector)
    return tuple(selectors)


@dataclass(frozen=True, slots=True)
class RuleSelection:
    """One layer of selection: from `[tool.scopes]` or from the command line."""

    select: tuple[str, ...] | None = None  # None: keep what the layer before selected
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def enabled_codes(layers: Sequence[RuleSelection], codes: Iterable[str] = CODES) -> frozenset[str]:
    """The codes reported after every layer; with no selection at all, every code."""
    codes = tuple(codes)
    enabled = set(codes)
    for layer in layers:
        adds = (*(layer.select or ()), *layer.extend_select)
        if layer.select is not None:
            enabled = set()
        steps = sorted({_specificity(s) for s in (*adds, *layer.ignore)})
        for specificity in steps:
            for selector in adds:
                if _specificity(selector) == specificity:
                    enabled.update(c for c in codes if matches(selector, c))
            for selector in layer.ignore:
                if _specificity(selector) == specificity:
                    enabled.difference_update(c for c in codes if matches(selector, c))
    return frozenset(enabled)


class PerFileIgnores:
    """`per-file-ignores`: .gitignore-style patterns, relative to the pyproject.toml's directory,
    each with the selectors it turns off for matching files.

        [tool.scopes.per-file-ignores]
        "fixtures/**" = ["S1"]      # anchored: fixtures/ under the project root
        "*.scopes" = ["S300"]       # no slash: a file of that name at any depth
    """

    __slots__ = ("_root", "_rules")

    def __init__(self, root: Path, table: Mapping[str, Sequence[str]]) -> None:
        self._root = root
        self._rules = [(GitIgnoreSpec.from_lines([pattern]), tuple(selectors))
                       for pattern, selectors in table.items()]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def selectors_for(self, path: str) -> tuple[str, ...]:
        """The selectors ignored for `path` (as given on the command line, relative to the
        current directory or absolute); none for a file outside the project root."""
        if not self._rules:
            return ()
        try:
            relative = Path(path).resolve().relative_to(self._root)
        except ValueError:
            return ()
        name = PurePosixPath(*relative.parts).as_posix()
        return tuple(s for spec, selectors in self._rules if spec.match_file(name) for s in selectors)
