"""docs/lint.md stays true: its code table is CODES, its examples fire, its hook matches the manifest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scopes.lint import CODES, lint

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")


def _row(code) -> str:
    return f"| `{code.code}` | {code.severity} | {code.meaning} | `{code.example}` | {code.fix} |"


def test_the_code_table_is_the_code_table():
    rows = [line for line in DOC.splitlines() if re.match(r"\| `S\d{3}` \|", line)]
    assert rows == [_row(code) for code in CODES.values()]


@pytest.mark.parametrize("code", [c for c in CODES.values() if c.code < "S400"], ids=lambda c: c.code)
def test_each_scope_string_example_fires_its_code(code):
    example = "" if code.example == '""' else code.example
    assert code.code in [d.code for d in lint(example)]


def test_the_documented_hooks_match_the_manifest():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "scopes-lint"]
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.+?)```", DOC, re.DOTALL)]
    configs = [block for block in blocks if isinstance(block, dict) and "repos" in block]
    remote, local = (block["repos"][0]["hooks"][0] for block in configs)
    assert remote["id"] == local["id"] == hook["id"]
    assert local["entry"] == hook["entry"]
    assert local["files"] == hook["files"]


def test_the_option_table_is_the_commands_options():
    from scopes.cli import lint_command

    documented = set()
    for line in DOC.split("## Codes", 1)[0].splitlines():
        if line.startswith("| `"):
            documented |= set(re.findall(r"`(-[-\w]*|PATH\.\.\.)", line.split("|")[1]))
    options = {"PATH..."} | {name for p in lint_command.params for name in p.opts if name.startswith("-")}
    options -= {"--help", "-h"}
    assert documented == options
