"""`scopes lint DIR`'s walk: lintable files only; VCS, environments, node_modules and .gitignore skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scopes.lint.walk import walk


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def walked(directory: Path | str) -> list[str]:
    errors: list[tuple[str, str]] = []
    found = list(walk(str(directory), lambda path, message: errors.append((path, message))))
    assert errors == []
    return found


def relative(root: Path, found: list[str]) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in found]


def test_only_the_formats_the_linter_reads_sorted(tmp_path):
    tree(tmp_path, {name: "" for name in [
        "b.json", "a.yaml", "c.yml", "d.toml", "e.scopes", "F.JSON", "notes.txt", "script.py",
        "Makefile", "sub/x.toml",
    ]})
    assert relative(tmp_path, walked(tmp_path)) == [
        "F.JSON", "a.yaml", "b.json", "c.yml", "d.toml", "e.scopes", "sub/x.toml",
    ]


def test_skipped_directories(tmp_path):
    tree(tmp_path, {
        ".git/config.json": "", ".hg/a.json": "", ".svn/a.json": "", "node_modules/p/package.json": "",
        ".venv/a.json": "", "venv/a.json": "", ".tox/py/a.json": "", ".nox/a.json": "",
        "env/pyvenv.cfg": "home = /usr\n", "env/lib/a.json": "",  # a venv by any name
        "src/node_modules/a.json": "", "kept/a.json": "", ".config/a.json": "",
    })
    assert relative(tmp_path, walked(tmp_path)) == [".config/a.json", "kept/a.json"]


def test_gitignore_semantics(tmp_path):
    tree(tmp_path, {
        ".gitignore": "*.local.json\nbuild/\n/top.toml\n!keep.local.json\ndata/*\n!data/wanted.json\n",
        "a.local.json": "", "keep.local.json": "", "sub/b.local.json": "",
        "build/a.json": "", "src/build": "", "top.toml": "", "sub/top.toml": "",
        "data/x.json": "", "data/wanted.json": "",
        "nested/.gitignore": "*.yaml\n!keep.local.json\n", "nested/a.yaml": "",
        "nested/deeper/b.yaml": "", "nested/c.toml": "",
    })
    assert relative(tmp_path, walked(tmp_path)) == [
        "data/wanted.json",  # re-included by a negation
        "keep.local.json",
        "nested/c.toml",
        "sub/top.toml",  # /top.toml is anchored to the .gitignore's directory
    ]


def test_an_ignored_directory_cannot_be_re_included_from_inside(tmp_path):
    # git: "It is not possible to re-include a file if a parent directory of that file is excluded."
    tree(tmp_path, {".gitignore": "out/\n", "out/.gitignore": "!*.json\n", "out/a.json": ""})
    assert walked(tmp_path) == []


def test_parents_gitignores_count_inside_a_repository(tmp_path):
    tree(tmp_path, {
        ".git/info/exclude": "*.secret.json\n", ".gitignore": "config/generated/\n",
        "config/.gitignore": "*.bak.toml\n", "config/a.json": "", "config/b.secret.json": "",
        "config/c.bak.toml": "", "config/generated/d.json": "", "config/sub/e.yaml": "",
    })
    assert relative(tmp_path, walked(tmp_path / "config")) == ["config/a.json", "config/sub/e.yaml"]


def test_outside_a_repository_parent_gitignores_do_not_count(tmp_path):
    tree(tmp_path, {".gitignore": "*.json\n", "config/a.json": ""})
    assert relative(tmp_path, walked(tmp_path / "config")) == ["config/a.json"]


def test_the_walked_directory_itself_is_walked_even_when_ignored(tmp_path):
    tree(tmp_path, {".git/HEAD": "", ".gitignore": "fixtures/\n*.local.json\n",
                    "fixtures/a.json": "", "fixtures/b.local.json": ""})
    assert walked(tmp_path) == []
    # Walked on purpose; the pattern that ignores the directory does not apply inside it, the
    # others do.
    assert relative(tmp_path, walked(tmp_path / "fixtures")) == ["fixtures/a.json"]


def test_paths_are_joined_onto_the_directory_as_given(tmp_path, monkeypatch):
    tree(tmp_path, {"cfg/a.json": "", "b.json": ""})
    monkeypatch.chdir(tmp_path)
    assert walked(".") == ["b.json", os.path.join("cfg", "a.json")]
    assert walked("cfg") == [os.path.join("cfg", "a.json")]
    assert walked("./cfg/") == [os.path.join("./cfg/", "a.json")]


def test_symbolic_links_to_directories_are_not_followed(tmp_path):
    tree(tmp_path, {"real/a.json": "", "other/b.json": ""})
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real" / "link.json").symlink_to(tmp_path / "other" / "b.json")
    assert relative(tmp_path, walked(tmp_path / "real")) == ["real/a.json", "real/link.json"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_walk_agrees_with_git_check_ignore(tmp_path):
    """What the walk takes is what git itself does not ignore, on a tree with the tricky cases."""
    tree(tmp_path, {
        ".gitignore": "*.local.*\n!important.local.json\n/generated/\ndocs/**/draft-*.toml\n"
                      "logs\n\\#odd.json\n",
        "a.json": "", "b.local.json": "", "important.local.json": "", "generated/x.json": "",
        "src/generated/y.json": "", "docs/a/b/draft-1.toml": "", "docs/final.toml": "",
        "logs/z.json": "", "src/logs": "", "#odd.json": "", "sub/.gitignore": "!b.local.json\n",
        "sub/b.local.json": "", "sub/c.yaml": "",
    })
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    listed = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=tmp_path,
                            check=True, capture_output=True, text=True, env=env).stdout.split()
    by_git = sorted(p for p in listed if Path(p).suffix in {".json", ".yaml", ".toml"})
    assert sorted(relative(tmp_path, walked(tmp_path))) == by_git
