"""Docs that stay true: every example output in README.md and docs/ is produced here.

An example output is written as a `console` block: `$ command` lines, each followed by what it
prints (standard output and standard error, as a terminal shows them). Every such block runs,
in a fresh directory holding a copy of `examples/`, and must print exactly what it shows. A
`$ cat FILE` line shows a file the example uses: the file is written with the lines shown, so
what the reader sees is what the next commands read. `$ echo $?` prints the exit status of the
command before it. Output is never shown in a bare or `text` block, which nothing would check.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
                   re.M | re.S)


# Sections whose examples need more than files shown in them (a decision log a real gateway
# wrote): each has its own test, named here, that sets that up and runs them the same way.
SET_UP_ELSEWHERE = {
    "Least privilege, capabilities and tests of a policy":
        "tests/test_readme.py::test_readme_analysis_examples_print_what_they_show",
}


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    lang: str
    body: str
    section: str

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            indent = len(match["indent"])
            body = "\n".join(line[indent:] for line in match["body"].splitlines())
            headings = re.findall(r"^## (.+)$", text[:match.start()], re.M)
            found.append(Block(document, text.count("\n", 0, match.start()) + 1, match["lang"],
                               body, headings[-1] if headings else ""))
    return found


BLOCKS = _blocks()
CONSOLE = [block for block in BLOCKS
           if block.lang == "console" and block.section not in SET_UP_ELSEWHERE]


def _steps(body: str) -> list[tuple[str, list[str]]]:
    """(command, the lines it is shown to print), in order."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line)
    return steps


def _run(command: str, cwd: Path) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "100",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "SCOPES_KEYS": str(cwd / ".keys")}
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    return done.returncode, [line.rstrip() for line in done.stdout.splitlines()]


def test_the_sections_set_up_elsewhere_have_their_tests():
    for section, test in SET_UP_ELSEWHERE.items():
        assert any(block.section == section and block.lang == "console" for block in BLOCKS)
        module, name = test.split("::")
        assert f"def {name}(" in (ROOT / module).read_text(encoding="utf-8")


def test_the_documents_show_example_output_only_in_blocks_that_run():
    unchecked = [block.name for block in BLOCKS if block.lang in ("", "text")]
    assert unchecked == [], "write example output as a console block (tests/test_docs_examples.py)"
    assert len(CONSOLE) >= 4


@pytest.mark.parametrize("block", CONSOLE, ids=[block.name for block in CONSOLE])
def test_each_console_example_prints_what_it_shows(block, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    status = 0
    for command, shown in _steps(block.body):
        if command == "echo $?":
            assert shown == [str(status)], f"{block.name}: exit status"
            continue
        cat = re.fullmatch(r"cat (\S+)", command)
        if cat and not (tmp_path / cat[1]).exists():
            target = tmp_path / cat[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(line + "\n" for line in shown), encoding="utf-8")
        status, printed = _run(command, tmp_path)
        assert printed == [line.rstrip() for line in shown], f"{block.name}: $ {command}"


def test_the_documents_point_only_at_what_the_repository_holds():
    """A reader has this repository: no design notes kept elsewhere, no relative link out."""
    for document in [*DOCUMENTS, ROOT / "benchmarks" / "README.md"]:
        text = document.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text and "../shared" not in text, document
        for target in re.findall(r"\]\((?!https?://|#)([^)#]+)", text):
            assert (document.parent / target).exists(), f"{document.name}: {target}"
