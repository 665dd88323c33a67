"""docs/diff.md stays true: its CI workflow and pre-commit hook fail a change that widens
access, run on a real git repository (its console example runs in tests/test_docs_examples.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")


def block(after: str, language: str) -> str:
    return re.search(rf"{re.escape(after)}.*?```{language}\n(.+?)```", DOC, re.DOTALL).group(1)


SPEC = """openapi: 3.1.0
info: {title: things, version: "1"}
paths:
  /things/{id}:
    delete:
      security: [{oauth: [admin]}]
      responses: {}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://auth.example/token
          scopes: {admin: Everything, "read:things": Read}
"""
WIDER = SPEC.replace("security: [{oauth: [admin]}]", "security: [{oauth: [admin]}, {}]")
NARROWER = SPEC.replace("[admin]", "[admin, read:things]")


def git_repository(path: Path) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "openapi.yaml"],
                    ["git", "commit", "-q", "-m", "spec"],
                    ["git", "update-ref", "refs/remotes/origin/main", "HEAD"]):
        subprocess.run(command, cwd=path, env=env, check=True)
    return env


def run(script: str, path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], cwd=path, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize(("change", "status"), [
    pytest.param(WIDER, 1, id="widening fails"),
    pytest.param(NARROWER, 0, id="narrowing passes"),
])
def test_the_github_workflow_step_fails_a_widening_change(tmp_path, change, status):
    workflow = yaml.safe_load(block("## In CI: GitHub Actions", "yaml"))
    script = workflow["jobs"]["scopes-diff"]["steps"][-1]["run"]
    (tmp_path / "openapi.yaml").write_text(SPEC)
    env = git_repository(tmp_path)
    (tmp_path / "openapi.yaml").write_text(change)
    env.update(GITHUB_BASE_REF="main", RUNNER_TEMP=str(tmp_path))
    done = run(script, tmp_path, env)
    assert done.returncode == status, done.stdout + done.stderr
    if status:
        assert done.stdout.startswith(
            "::error file=openapi.yaml,line=6,title=scopes diff%3A became-public::DELETE "
            "/things/{id}: now public")


@pytest.mark.parametrize(("change", "status"), [
    pytest.param(WIDER, 1, id="widening fails"),
    pytest.param(NARROWER, 0, id="narrowing passes"),
])
def test_the_pre_commit_hook_fails_a_widening_change(tmp_path, change, status):
    config = yaml.safe_load(block("## Before each commit: pre-commit", "yaml"))
    (hook,) = config["repos"][0]["hooks"]
    assert re.fullmatch(hook["files"], "openapi.yaml")
    (tmp_path / "openapi.yaml").write_text(SPEC)
    env = git_repository(tmp_path)
    (tmp_path / "openapi.yaml").write_text(change)
    done = run(hook["entry"].removeprefix("bash -c ").strip("'"), tmp_path, env)
    assert done.returncode == status, done.stdout + done.stderr
