"""The pre-commit hook, run by the real `pre-commit` tool against a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOK = "scopes-lint"


def test_the_manifest_offers_the_hook():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == HOOK
    assert (hook["entry"], hook["language"]) == ("scopes lint", "python")
    from pre_commit.clientlib import load_manifest

    load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))  # pre-commit's own schema check


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # e.g. run inside a git hook
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _generated(directory: str) -> bool:
    return directory.startswith(".") or directory.endswith(".egg-info") or directory in {
        "__pycache__", "node_modules", "build", "dist",
    }


def _project_copy(target: Path, env: dict[str, str]) -> Path:
    """The project as it is on disk (committed or not), as a one-commit git repository.

    `pre-commit try-repo` clones a repository: HEAD plus uncommitted changes to tracked files,
    without new files. A copy of the working tree tests what is here, in a fresh CI clone and
    in a checkout with work in progress alike.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        ).stdout.decode()
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist), or not ours
        names = [
            str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not any(_generated(part) for part in p.relative_to(ROOT).parts[:-1])
        ]
    for name in names:
        source = ROOT / name
        if source.is_file():  # a tracked file may have been deleted in the working tree
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git(target, env, "init", "-q")
    _git(target, env, "add", "-A")
    _git(target, env, "commit", "-q", "-m", "snapshot")
    return target


def test_pre_commit_runs_the_hook_on_good_and_bad_files(tmp_path):
    """Takes a while once: pre-commit builds the hook's virtualenv and pip-installs the project."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = _env(tmp_path)
    project = _project_copy(tmp_path / "project", env)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, env, "init", "-q")
    (repo / "good.scopes").write_text("# a token for the web app\nuser_id:pigeon read:messages\n")
    (repo / "bad.yaml").write_text("clients:\n  - scope: read:brand user_id:pigeon\n")
    (repo / "notes.txt").write_text("read:brand\n")  # not a file the hook looks at
    _git(repo, env, "add", "-A")

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(project), HOOK, "--color", "never",
             "--files", *files],
            cwd=repo, env=env, capture_output=True, text=True, timeout=900,
        )

    good = try_repo("good.scopes", "notes.txt")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    bad = try_repo("good.scopes", "bad.yaml")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "bad.yaml:2:12: S102 unknown scope 'read:brand'; did you mean 'read:brands'?" in bad.stdout
    assert "good.scopes" not in bad.stdout.split("Failed", 1)[1]
