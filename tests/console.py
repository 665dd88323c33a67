"""Console transcripts in the docs, run as written: a `$ ` line is a command, and the lines up to
the next one are what it prints, standard output and error together (as a terminal shows)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def console_block(text: str, after: str = "") -> str:
    """The first ```console block of `text` after the heading or phrase `after`."""
    found = re.search(rf"{re.escape(after)}.*?```console\n(.+?)```", text, re.DOTALL)
    assert found, f"no console block after {after!r}"
    return found.group(1)


def shown_and_printed(transcript: str, cwd: Path) -> tuple[str, str]:
    """What the transcript shows its commands print, and what they print when run in `cwd` by
    bash, with this interpreter's `scopes` first on PATH."""
    lines = transcript.splitlines()
    commands = [line[2:] for line in lines if line.startswith("$ ")]
    shown = "".join(line + "\n" for line in lines if not line.startswith("$ "))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", "exec 2>&1\n" + "\n".join(commands)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return shown, done.stdout
