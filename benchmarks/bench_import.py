"""What `import scopes` costs, now and at an earlier revision, side by side in one run.

    python benchmarks/bench_import.py                 # this tree
    python benchmarks/bench_import.py --rev 11533b7   # and that revision, as a ratio

Each sample is a fresh interpreter running `import scopes` (what a pre-commit hook or a CLI
call pays); the interpreter's own start-up is measured alone and taken off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample(code: str, path: Path | None) -> float:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tempfile.gettempdir())
    return time.perf_counter() - start


def median_ms(code: str, path: Path | None, runs: int) -> float:
    return statistics.median(sample(code, path) for _ in range(runs)) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="also measure this git revision (checked out to a temp dir)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    scratch = None
    if args.rev:
        scratch = Path(tempfile.mkdtemp()) / "rev"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(scratch),
                        args.rev], check=True)
        trees[args.rev] = scratch
    try:
        bare = median_ms("pass", None, args.runs)
        results = {}
        for _ in range(2):  # interleaved rounds, so drift hits both alike
            for label, path in trees.items():
                results.setdefault(label, []).append(median_ms("import scopes", path, args.runs))
        print(f"| tree | import scopes (less interpreter start-up {bare:.1f} ms) | ratio |")
        print("|---|---|---|")
        base = min(results["this tree"]) - bare
        for label, values in results.items():
            cost = min(values) - bare
            print(f"| {label} | {cost:.1f} ms | {cost / base:.2f}× |")
    finally:
        if scratch is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(scratch)],
                           check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
