"""`[tool.scopes]` in the nearest pyproject.toml: which keys hold scope strings, which policy,
which codes are reported (`select`, `ignore`, `extend-select`, `per-file-ignores`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from scopes.lint.select import PerFileIgnores, RuleSelection, SelectorError, parse_selectors

__all__ = ["DEFAULT_KEYS", "ConfigError", "LintConfig", "find_config"]

DEFAULT_KEYS = ("scope", "scopes")
_KNOWN = {
    "lint-keys": 'keys whose strings (or lists of strings) are scope strings, e.g. ["scope"]',
    "policy": "the policy file scope strings are checked against (relative to pyproject.toml)",
    "select": 'the codes to report, as code prefixes or ALL, e.g. ["ALL"]',
    "extend-select": 'codes to report beside those selected, e.g. ["S3"]',
    "ignore": 'codes not to report, e.g. ["S300"]',
    "per-file-ignores": 'codes not to report in some files, e.g. {"fixtures/**" = ["S1"]}',
}


def __dir__() -> list[str]:
    return __all__


class ConfigError(Exception):
    """A `[tool.scopes]` table that cannot be used: a usage error, with the file and a fix."""


@dataclass(frozen=True, slots=True)
class LintConfig:
    keys: tuple[str, ...] = DEFAULT_KEYS
    policy: str | None = None  # already resolved against the pyproject.toml's directory
    source: str | None = None  # the pyproject.toml read, if any
    selection: RuleSelection = RuleSelection()  # the first layer; the command line's goes on it
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (pattern, selectors)

    def ignores(self) -> PerFileIgnores:
        """`per-file-ignores`, its patterns relative to the pyproject.toml's directory."""
        root = Path(self.source).parent if self.source else Path.cwd().resolve()
        return PerFileIgnores(root, dict(self.per_file_ignores))


def find_config(start: Path | None = None) -> LintConfig:
    """Read `[tool.scopes]` from the first pyproject.toml in `start` (default: the current
    directory) or one of its parents; defaults when there is none or it has no such table.

        [tool.scopes]
        lint-keys = ["scope", "scopes", "permissions"]
        policy = "config/policy.toml"
    """
    directory = (start or Path.cwd()).resolve()
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            return _read(pyproject)
    return LintConfig()


def _read(pyproject: Path) -> LintConfig:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{pyproject}: cannot read [tool.scopes]: {error}") from None
    table = data.get("tool", {}).get("scopes")
    if table is None:
        return LintConfig(source=str(pyproject))
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.scopes] must be a table")
    for key in table:
        if key not in _KNOWN:
            known = "; ".join(f"{name}: {meaning}" for name, meaning in _KNOWN.items())
            raise ConfigError(
                f"{pyproject}: unknown key {key!r} in [tool.scopes]; known keys are {known}"
            )
    keys = table.get("lint-keys", list(DEFAULT_KEYS))
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(
            f"{pyproject}: [tool.scopes] lint-keys must be a non-empty list of key names, "
            'e.g. lint-keys = ["scope", "scopes"]'
        )
    policy = table.get("policy")
    if policy is not None and (not isinstance(policy, str) or not policy):
        raise ConfigError(
            f'{pyproject}: [tool.scopes] policy must be a path, e.g. policy = "policy.toml"'
        )
    resolved = None if policy is None else str(pyproject.parent / policy)
    selection = RuleSelection(
        select=None if "select" not in table else _selectors(table, "select", pyproject),
        extend_select=_selectors(table, "extend-select", pyproject),
        ignore=_selectors(table, "ignore", pyproject),
    )
    return LintConfig(tuple(keys), resolved, str(pyproject), selection,
                      _per_file_ignores(table, pyproject))


def _selectors(table: dict, key: str, pyproject: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'{pyproject}: [tool.scopes] {key} must be a list of codes or code '
                          f'prefixes, e.g. {key} = ["S3"]')
    try:
        return parse_selectors(value, f"{pyproject}: [tool.scopes] {key}")
    except SelectorError as error:
        raise ConfigError(str(error)) from None


def _per_file_ignores(table: dict, pyproject: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    value = table.get("per-file-ignores", {})
    example = 'e.g. [tool.scopes.per-file-ignores] "fixtures/**" = ["S1"]'
    if not isinstance(value, dict):
        raise ConfigError(f"{pyproject}: [tool.scopes] per-file-ignores must be a table of "
                          f"patterns, each with a list of codes, {example}")
    pairs = []
    for pattern, codes in value.items():
        if not pattern or not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{pyproject}: [tool.scopes] per-file-ignores {pattern!r} must be "
                              f"a list of codes or code prefixes, {example}")
        where = f"{pyproject}: [tool.scopes] per-file-ignores {pattern!r}"
        try:
            selectors = parse_selectors(codes, where)
        except SelectorError as error:
            raise ConfigError(str(error)) from None
        try:
            PerFileIgnores(pyproject.parent, {pattern: selectors})
        except ValueError as error:  # a pattern pathspec cannot read
            raise ConfigError(f"{where}: {error}; patterns are written as in .gitignore") from None
        pairs.append((pattern, selectors))
    return tuple(pairs)
