"""Finding the files that hold `[[tests]]` and running each case through `Policy.authorize`.

Loading (the policy file's own `[[tests]]`, or a test file and the policy it names) is
scopes.policy.load's: a file that does not load is an error with its line, and none of its
cases run, since a half-read file proves nothing.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scopes.errors import PolicyError
from scopes.evaluate import Policy
from scopes.lint.walk import walk
from scopes.policy.load import PolicyCase, load_tests_file

__all__ = ["CaseResult", "FileError", "TestRun", "find_test_files", "run_file", "run_tests"]

# A `[[tests]]` header at the start of a line: a file of ours, even when it is broken.
_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*tests[ \t]*\]\]", re.MULTILINE)
# An inline `tests = [...]`: ours only when it is a top-level array of tables.
_INLINE = re.compile(r"^[ \t]*tests[ \t]*=", re.MULTILINE)


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case run: what was expected, what `authorize` decided, and why."""

    file: str
    case: PolicyCase
    allowed: bool
    code: str  # the decision's code
    reason: str

    @property
    def line(self) -> int | None:
        return self.case.line

    @property
    def passed(self) -> bool:
        if self.case.expect == "allow":
            return self.allowed
        return not self.allowed and self.case.code in (None, self.code)

    @property
    def message(self) -> str:
        """`expected allow, got deny: <reason>`, with the codes where the case names one."""
        expected, got = self.case.expect, "allow" if self.allowed else "deny"
        if self.case.code is not None:
            expected += f" ({self.case.code})"
            if not self.allowed:
                got += f" ({self.code})"
        return f"expected {expected}, got {got}: {self.reason}"


@dataclass(frozen=True, slots=True)
class FileError:
    """A file whose cases cannot run: the PolicyError that says where and why."""

    file: str
    line: int | None
    message: str  # the entry, if any, and the problem
    fix: str | None = None


@dataclass(slots=True)
class TestRun:
    """Every case of every file, and the files that did not load."""

    __test__ = False  # not a pytest class, whatever its name

    results: list[CaseResult] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


def find_test_files(paths: Sequence[str]) -> list[str]:
    """The files to run: each PATH that is a file, and under each directory (walked as `scopes
    lint` walks one: no VCS directories, virtual environments or .gitignore'd paths) the
    `*.toml` files that hold `[[tests]]`. FileNotFoundError names a PATH that does not exist."""
    found: dict[str, None] = {}
    for path in paths:
        if os.path.isfile(path):
            found[path] = None
        elif os.path.isdir(path):
            found.update(dict.fromkeys(_search(path)))
        else:
            raise FileNotFoundError(path)
    return list(found)


def _search(top: str) -> Iterator[str]:
    for path in walk(top, lambda _path, _message: None):  # an unreadable directory holds none
        if path.endswith(".toml") and _holds_tests(path):
            yield path


def _holds_tests(path: str) -> bool:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # not a file of ours to judge
    if _HEADER.search(text):
        return True
    if not _INLINE.search(text):
        return False
    try:  # `tests = ["pytest"]` in a [project.optional-dependencies] is not ours
        tests = tomllib.loads(text).get("tests")
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(tests, list) and bool(tests) and all(isinstance(t, dict) for t in tests)


def run_tests(paths: Sequence[str]) -> TestRun:
    """Run every case found under `paths` (FileNotFoundError for a PATH that does not exist)."""
    run = TestRun()
    for path in find_test_files(paths):
        run.files.append(path)
        results = run_file(path)
        if isinstance(results, FileError):
            run.errors.append(results)
        else:
            run.results += results
    return run


def run_file(path: str) -> list[CaseResult] | FileError:
    """The cases of one file, run; or why the file does not load."""
    try:
        loaded = load_tests_file(path)
    except PolicyError as error:
        where = f"{error.entry}: " if error.entry else ""
        return FileError(error.file or path, error.line, where + error.message, error.fix)
    policy = Policy(loaded.policy)
    return [_run(policy, path, case) for case in loaded.tests]


def _run(policy: Policy, path: str, case: PolicyCase) -> CaseResult:
    decision = policy.authorize(case.scope, case.method, case.target, body=case.body)
    return CaseResult(path, case, decision.allowed, str(decision.code), decision.reason)
