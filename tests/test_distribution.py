"""The distribution's name: pyproject, `scopes --version` and every install hint agree on it."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from scopes._distribution import DISTRIBUTION, install_hint
from scopes.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = set(PYPROJECT["project"]["optional-dependencies"])

# Files that speak to users about installing: the package's messages and the docs.
SOURCES = sorted(
    [*ROOT.joinpath("scopes").rglob("*.py"), ROOT / "README.md", *ROOT.joinpath("docs").glob("*.md")]
)
# scopes/graphql.py is being rewritten on another branch; its "install scopes[graphql]" goes
# when that work lands (the CLI already answers a GraphQL route with the right command).
NOT_YET = {"scopes/graphql.py"}

# `pip install 'NAME[extra]'`, `pip install NAME`, and a bare `NAME[extra]` for our project.
_PIP = re.compile(r"pip install\s+'?([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")
_EXTRA = re.compile(r"(?<![\w.-])(scopes[\w.-]*)\[([\w,-]+)\]")
_HINT_CALL = re.compile(r"install_hint\(\"([\w,-]+)\"\)")


def _hints() -> list[tuple[str, int, str, str | None]]:
    found: set[tuple[str, int, str, str | None]] = set()
    for path in SOURCES:
        name = path.relative_to(ROOT).as_posix()
        if name in NOT_YET:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _PIP.finditer(line):
                if match.group(1).lower().startswith("scopes"):
                    found.add((name, number, match.group(1), match.group(2)))
            for match in _EXTRA.finditer(line):
                found.add((name, number, match.group(1), f"[{match.group(2)}]"))
            for match in _HINT_CALL.finditer(line):
                found.add((name, number, DISTRIBUTION, f"[{match.group(1)}]"))
    return sorted(found, key=str)


def test_pyproject_names_the_distribution():
    assert PYPROJECT["project"]["name"] == DISTRIBUTION
    assert PYPROJECT["project"]["scripts"] == {"scopes": "scopes.cli:main"}  # the command stays


def test_extras_refer_to_the_distribution_itself():
    for extra, requirements in PYPROJECT["project"]["optional-dependencies"].items():
        for requirement in requirements:
            if requirement.startswith("scopes"):
                name, extras = re.fullmatch(r"([\w.-]+)\[([\w,]+)\]", requirement).groups()
                assert name == DISTRIBUTION, (extra, requirement)
                assert set(extras.split(",")) <= EXTRAS, (extra, requirement)


def test_there_are_install_hints_to_check():
    files = {name for name, *_ in _hints()}
    assert {"README.md", "docs/lint.md", "scopes/lint/sources.py", "scopes/cli.py"} <= files


@pytest.mark.parametrize(("where", "line", "name", "extras"),
                         [pytest.param(*hint, id=f"{hint[0]}:{hint[1]}") for hint in _hints()])
def test_every_install_hint_names_the_distribution_and_a_real_extra(where, line, name, extras):
    assert name == DISTRIBUTION
    if extras:
        assert set(extras.strip("[]").split(",")) <= EXTRAS


def test_install_hint():
    assert install_hint("graphql") == "pip install 'scopes-policy[graphql]'"


def test_version_comes_from_the_distribution(capsys):
    assert main(["--version"]) == 0
    version = importlib.metadata.version(DISTRIBUTION)
    assert version == PYPROJECT["project"]["version"]
    assert capsys.readouterr().out == f"scopes, version {version}\n"
