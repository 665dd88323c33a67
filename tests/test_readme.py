"""The README's newcomer commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_run_and_test_commands():
    run, test = _readme_commands()
    assert "pip install ." in run and "scopes " in run
    assert "pip install '.[test]'" in test and "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
