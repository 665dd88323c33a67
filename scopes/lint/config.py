"""`[tool.scopes]` in the nearest pyproject.toml: which keys hold scope strings, which policy."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_KEYS", "ConfigError", "LintConfig", "find_config"]

DEFAULT_KEYS = ("scope", "scopes")
_KNOWN = {
    "lint-keys": 'keys whose strings (or lists of strings) are scope strings, e.g. ["scope"]',
    "policy": "the policy file scope strings are checked against (relative to pyproject.toml)",
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
    return LintConfig(tuple(keys), resolved, str(pyproject))
