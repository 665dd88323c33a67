"""scopes side by side with the engines users would pick instead, in one run, as a markdown table.

    pip install -e '.[bench]'
    python benchmarks/bench_peers.py            # the full run (a few minutes)
    python benchmarks/bench_peers.py --quick    # one short round, for the smoke test
    python benchmarks/bench_peers.py --show cedar   # a peer's encoding of the Courier table

Every engine first answers the same requests as `scopes`; one different answer stops the run
with exit status 1, naming the engine and the request.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import PEERS, load  # noqa: E402
from peers.harness import Disagreement, Settings, run  # noqa: E402
from peers.markdown import render  # noqa: E402
from peers.table import COURIER  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help=f"comma-separated peers to include, of {', '.join(PEERS)} (default: all; '' for none)",
    )
    parser.add_argument(
        "--show", choices=list(PEERS), help="print a peer's Courier encoding and exit"
    )
    args = parser.parse_args(argv)
    names = [name for name in args.peers.split(",") if name]
    unknown = sorted(set(names) - set(PEERS))
    if unknown:
        parser.error(f"unknown peer {', '.join(unknown)}; choose from {', '.join(PEERS)}")

    if args.show:
        modules, missing = load([args.show])
        if args.show in missing:
            print(f"{args.show}: {missing[args.show]}", file=sys.stderr)
            return 2
        print(modules[args.show].Engine(COURIER).source(), end="")
        return 0

    settings = Settings.quick() if args.quick else Settings.full()
    try:
        result = run(settings, names, progress=lambda text: print(f"... {text}", file=sys.stderr))
    except Disagreement as error:
        print(f"bench_peers: {error}", file=sys.stderr)
        return 1
    print(render(result), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
