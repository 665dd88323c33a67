"""The files `scopes lint DIR` takes from a directory, as ruff walks one.

Only files whose format the linter reads (`.json`, `.yaml`, `.yml`, `.toml`, `.scopes`) are
taken. Skipped: version-control directories (`.git`, `.hg`, `.svn`), virtual environments (a
directory holding `pyvenv.cfg`, or named `.venv` or `venv`; `.tox` and `.nox` hold them),
`node_modules`, and whatever `.gitignore` files ignore: those of the directory and every
directory below it, and, inside a git repository, those of its parents up to the repository's
root, with `.git/info/exclude`. Patterns mean what git says they mean (pathspec's
gitwildmatch: negation, directory-only patterns, anchoring, `**`); a deeper file's patterns
win. Symbolic links to directories are not followed. The directory itself is always walked,
whatever ignores it, as a file named on the command line is always linted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from pathspec import GitIgnoreSpec

from scopes.lint.sources import FORMATS

__all__ = ["LINTABLE_SUFFIXES", "SKIPPED_DIRECTORIES", "walk"]

LINTABLE_SUFFIXES = frozenset(FORMATS)
SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules"})

_Ignore = tuple[Path, GitIgnoreSpec]  # a .gitignore's directory and its patterns
OnError = Callable[[str, str], None]  # (path, message)


def __dir__() -> list[str]:
    return __all__


def walk(directory: str, on_error: OnError) -> Iterator[str]:
    """The lintable files under `directory`, in sorted order, as paths joined onto it."""
    root = Path(directory).resolve()
    shown = "" if os.path.normpath(directory) == os.curdir else directory  # `cfg/a.json`, not `./cfg/a.json`
    yield from _walk(shown, root, _inherited(root, on_error), on_error)


def _ignored(ignores: list[_Ignore], path: Path, is_dir: bool) -> bool:
    """Whether the deepest .gitignore with a matching pattern ignores `path` (git's rule)."""
    for base, spec in reversed(ignores):
        try:
            relative = path.relative_to(base).as_posix()
        except ValueError:
            continue
        result = spec.check_file(relative + "/" if is_dir else relative)
        if result.include is not None:
            return result.include
    return False


def _walk(shown: str, real: Path, ignores: list[_Ignore], on_error: OnError) -> Iterator[str]:
    ignores = ignores + _read_ignore(real / ".gitignore", real, on_error)
    try:
        with os.scandir(real) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        on_error(shown or os.curdir, f"cannot read the directory: {error.strerror}")
        return
    for entry in entries:
        path = real / entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if is_dir:
            if entry.name in SKIPPED_DIRECTORIES or (path / "pyvenv.cfg").is_file():
                continue
            if not _ignored(ignores, path, True):
                yield from _walk(os.path.join(shown, entry.name), path, ignores, on_error)
        elif is_file and Path(entry.name).suffix.lower() in LINTABLE_SUFFIXES:
            if not _ignored(ignores, path, False):
                yield os.path.join(shown, entry.name)


def _inherited(root: Path, on_error: OnError) -> list[_Ignore]:
    """Inside a git repository: info/exclude and the .gitignore files above `root`."""
    repository = next((d for d in (root, *root.parents) if (d / ".git").exists()), None)
    if repository is None:
        return []
    ignores = _read_ignore(repository / ".git" / "info" / "exclude", repository, on_error)
    for directory in reversed(root.parents):
        if directory == repository or repository in directory.parents:
            ignores += _read_ignore(directory / ".gitignore", directory, on_error)
    if root != repository and _ignored(ignores, root, True):
        # Walked on purpose: the patterns that ignore the directory itself (and so, for git,
        # all it holds) do not apply inside it; the others (`*.local.json`) still do.
        ignores = [(base, _without_matches(spec, root.relative_to(base).as_posix() + "/"))
                   for base, spec in ignores]
    return ignores


def _without_matches(spec: GitIgnoreSpec, path: str) -> GitIgnoreSpec:
    return GitIgnoreSpec([p for p in spec.patterns
                          if not (p.include and p.match_file(path) is not None)])


def _read_ignore(file: Path, base: Path, on_error: OnError) -> list[_Ignore]:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    except OSError as error:
        on_error(str(file), f"cannot read: {error.strerror}")
        return []
    return [(base, GitIgnoreSpec.from_lines(text.splitlines()))]
