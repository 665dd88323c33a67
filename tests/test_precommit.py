"""The pre-commit hooks: the manifest, the documented configuration, and real commits through
the real `pre-commit` in a fresh repository, pinned as the docs say to pin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = re.compile(r"<[^<>]+>")


def _hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text())}


def test_the_manifest_offers_both_hooks_and_pre_commit_accepts_it():
    from pre_commit.clientlib import load_manifest

    loaded = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}  # pre-commit's own schema
    assert list(loaded) == ["scopes-lint", "scopes-test"]
    lint, test = loaded["scopes-lint"], loaded["scopes-test"]
    assert (lint["entry"], lint["language"], lint["pass_filenames"]) == ("scopes lint", "python", True)
    # `scopes test` takes PATHs and finds the tests in a directory itself: run once, over all.
    assert (test["entry"], test["language"], test["args"]) == ("scopes test", "python", ["."])
    assert test["pass_filenames"] is False
    assert re.search(test["files"], "policies/courier.toml")
    assert not re.search(test["files"], "config/clients.yaml")
    assert any(dep.startswith("graphql-core") for dep in test["additional_dependencies"])


def _documented_repos() -> list[tuple[Path, dict]]:
    repos = []
    for doc in DOCS:
        for block in re.findall(r"```yaml\n(.+?)```", doc.read_text(encoding="utf-8"), re.DOTALL):
            config = yaml.safe_load(block)
            if isinstance(config, dict) and "repos" in config:
                repos += [(doc, repo) for repo in config["repos"]]
    return repos


def _git_knows(rev: str) -> bool | None:
    """Whether `rev` is a tag or commit of this repository; None outside a git checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                              cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    inside = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True,
                            check=False)
    return None if inside.returncode else done.returncode == 0


def test_documented_hook_configurations_say_only_what_is_true():
    """No invented URL, no tag that does not exist: a placeholder the text explains, or a real
    tag or commit of this repository."""
    repos = [(doc, repo) for doc, repo in _documented_repos() if repo["repo"] != "local"]
    assert {doc.name for doc, _ in repos} >= {"README.md", "lint.md"}
    for doc, repo in repos:
        text = doc.read_text(encoding="utf-8")
        assert PLACEHOLDER.fullmatch(repo["repo"]), (doc.name, repo["repo"])  # no public home yet
        assert "OWNER" not in text and "github.com/" + "OWNER" not in text
        rev = str(repo["rev"])
        if PLACEHOLDER.fullmatch(rev):
            assert "pre-commit autoupdate --freeze" in text, doc.name
        else:
            assert _git_knows(rev) is not False, f"{doc.name}: rev {rev} is no tag or commit here"
        assert {hook["id"] for hook in repo["hooks"]} <= set(_hooks())


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # e.g. run inside a git hook
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def _generated(directory: str) -> bool:
    return directory.startswith(".") or directory.endswith(".egg-info") or directory in {
        "__pycache__", "node_modules", "build", "dist",
    }


def _project_copy(target: Path, env: dict[str, str]) -> Path:
    """The project as it is on disk (committed or not), as a one-commit git repository.

    A clone would test HEAD; a copy of the working tree tests what is here, in a fresh CI clone,
    an unpacked sdist and a checkout with work in progress alike.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        ).stdout.decode()
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist), or not ours
        names = []
    if not names:
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


def test_commits_through_the_hook_pinned_as_documented(tmp_path):
    """A fresh repository configured as docs/lint.md says, `rev` filled in by `pre-commit
    autoupdate --freeze` (a release tag's commit sha), the hook installed into git: a commit of
    a bad file fails with the finding, the fixed commit passes.

    Then `scopes-test`: a policy and a separate test file that names it pass; an edit of the
    policy alone that breaks a case of the test file is refused with the case's file and line.

    Takes a while once: pre-commit builds each hook's virtualenv and pip-installs the project.
    """
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = _env(tmp_path)
    project = _project_copy(tmp_path / "project", env)
    _git(project, env, "tag", "v0.1.0")
    sha = _git(project, env, "rev-parse", "HEAD").stdout.strip()

    [(_, documented)] = [(doc, repo) for doc, repo in _documented_repos()
                         if doc.name == "lint.md" and repo["repo"] != "local"]
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, env, "init", "-q")
    config = {"repos": [{**documented, "repo": str(project)}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def pre_commit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", *args, "--color", "never"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=900,
                              check=False)

    updated = pre_commit("autoupdate", "--freeze")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    pinned = (repo / ".pre-commit-config.yaml").read_text()
    assert re.search(rf"^\s+rev: {sha}  # frozen: v0\.1\.0$", pinned, re.MULTILINE), pinned
    assert pre_commit("install").returncode == 0

    def commit(message: str) -> subprocess.CompletedProcess:
        _git(repo, env, "add", "-A")
        return subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=900, check=False)

    (repo / "good.scopes").write_text("# a token for the web app\nuser_id:pigeon read:messages\n")
    (repo / "bad.yaml").write_text("clients:\n  - scope: read:brand user_id:pigeon\n")
    (repo / "notes.txt").write_text("read:brand\n")  # not a file the hook looks at
    refused = commit("clients")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    output = refused.stdout + refused.stderr
    assert "scopes lint" in output and "Failed" in output
    assert "bad.yaml:2:12: S102 unknown scope 'read:brand'; did you mean 'read:brands'?" in output
    assert "good.scopes" not in output.split("Failed", 1)[1]
    assert subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=repo, env=env,
                          capture_output=True, check=False).returncode != 0  # nothing was committed

    (repo / "bad.yaml").write_text("clients:\n  - scope: read:brands user_id:pigeon\n")
    accepted = commit("clients")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert re.search(r"scopes lint\.+Passed", accepted.stdout + accepted.stderr)
    assert re.search(r"scopes test\.+\(no files to check\)Skipped", accepted.stdout + accepted.stderr)
    assert _git(repo, env, "log", "--format=%s").stdout == "clients\n"

    courier = (ROOT / "scopes" / "policy" / "courier.toml").read_text(encoding="utf-8")
    (repo / "policy.toml").write_text(courier.split("\n[[tests]]\n", 1)[0])
    (repo / "checks").mkdir()
    (repo / "checks" / "policy.tests.toml").write_text(
        'policy = "../policy.toml"\n\n[[tests]]\nname = "brand readers read one brand"\n'
        'scope = "read:brands:acme"\nrequest = "GET /brands/acme"\nexpect = "allow"\n\n'
        '[[tests]]\nname = "a malformed token is denied"\nscope = "read::brands"\n'
        'request = "GET /brands"\nexpect = "deny"\ncode = "malformed-scopes"\n'
    )
    tested = commit("policy")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"scopes test\.+Passed", tested.stdout + tested.stderr)

    (repo / "policy.toml").write_text((repo / "policy.toml").read_text().replace(
        'any_of = ["read:brands", "read:brands:{id}"]', 'any_of = ["read:brands"]'))
    narrowed = commit("narrower")
    assert narrowed.returncode == 1, narrowed.stdout + narrowed.stderr
    output = narrowed.stdout + narrowed.stderr
    assert re.search(r"scopes test\.+Failed", output)
    assert ("checks/policy.tests.toml:3: brand readers read one brand: expected allow, got deny: "
            "denied: GET /brands/acme needs read:brands; the token has read:brands:acme\n"
            "1 passed, 1 failed\n") in output
    assert _git(repo, env, "log", "--format=%s").stdout == "policy\nclients\n"
