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

# `pip install 'NAME[extra]'`, `pip install NAME`, and a bare `NAME[extra]` for our project.
_PIP = re.compile(r"pip install\s+'?([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")
_EXTRA = re.compile(r"(?<![\w.-])(scopes[\w.-]*)\[([\w,-]+)\]")
_HINT_CALL = re.compile(r"install_hint\(\"([\w,-]+)\"\)")


def _hints() -> list[tuple[str, int, str, str | None]]:
    found: set[tuple[str, int, str, str | None]] = set()
    for path in SOURCES:
        name = path.relative_to(ROOT).as_posix()
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


def _closure(extra: str) -> set[str]:
    """Every distribution an extra installs, its references to our own extras followed."""
    names: set[str] = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[([\w,]+)\])?.*", requirement)
        name, extras = match.group(1).lower(), match.group(2)
        if name == DISTRIBUTION:
            for inner in extras.split(","):
                names |= _closure(inner)
        else:
            names.add(name)
    return names


def test_the_server_extra_decides_the_bundled_policys_graphql_route():
    from scopes import Policy

    assert any(route.graphql is not None for route in Policy.courier().routes)
    assert "graphql-core" in _closure("server")


# What each third-party module the benchmarks import is installed as. A benchmark that imports
# something new fails here until the bench extra installs it (and this table names it).
BENCH_MODULES = {
    "casbin": "casbin", "cedarpy": "cedarpy", "regopy": "regopy", "oso": "oso",
    "pyperf": "pyperf", "httpx": "httpx", "starlette": "starlette", "yaml": "pyyaml",
}


def _benchmark_imports() -> dict[str, set[str]]:
    import ast
    import sys

    bench = ROOT / "benchmarks"
    local = {p.stem for p in bench.rglob("*.py")} | {p.name for p in bench.iterdir() if p.is_dir()}
    local |= {"scopes", "tests"}  # the project itself, and tests.servers from a checkout
    found: dict[str, set[str]] = {}
    for path in bench.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_the_bench_extra_installs_what_every_benchmark_imports():
    imports = _benchmark_imports()
    assert set(imports) == set(BENCH_MODULES), imports
    missing = {m: BENCH_MODULES[m] for m in imports if BENCH_MODULES[m] not in _closure("bench")}
    assert missing == {}


def test_package_metadata_is_looked_up_by_the_distribution_name():
    """`importlib.metadata.version("scopes")` finds nothing (or someone else's project)."""
    wrong = re.compile(r"""(?:\bversion|\bmetadata|\bdistribution|\brequires|metadata\.files)\(\s*["']scopes["']""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("scopes", "benchmarks", "tests")
        for path in sorted(ROOT.joinpath(folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if wrong.search(line) and path.name != "test_distribution.py"
    ]
    assert offenders == []
