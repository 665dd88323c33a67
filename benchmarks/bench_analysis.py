"""Analysis at the sizes the issue names: `minimal` on a Courier call set (target < 10 ms),
`minimal --from-log` over a 1,000,000-line decision log (< 10 s), `can` on a 10,000-route
policy (< 1 s), and `scopes test` on the bundled Courier policy's own cases.

    python benchmarks/bench_analysis.py             # best of 5 repeats (the log: of 1)
    python benchmarks/bench_analysis.py --lines 100000 --repeat 1   # a quick look

The decision log is written by the gateway itself: a few hundred requests decided by the real
Gatekeeper, with tokens signed by a real key ring and written by its DecisionLog, then repeated
(times advancing) up to the line count, as a busy gateway repeats its clients' calls. The log
is read through `scopes minimal --from-log` as a user runs it, output and all.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_policy import generated_policy

from scopes import Policy
from scopes.cli import main
from scopes.gateway.check import DecisionLog, Gatekeeper
from scopes.tokens import KeyRing, TokenVerifier, issue_token

COURIER = Policy.courier()
COURIER_CALLS = [
    "GET /brands/acme",
    "PUT /brands/acme",
    "GET /users/pigeon/preferences",
    "PUT /users/pigeon/preferences/topic-1",
    "GET /users/pigeon/tokens/t1",
    "DELETE /users/pigeon/tokens/t1",
    "POST /client/q messages",
    "GET /brands/globex",
]
AUDIENCE, ISSUER = "https://api.example", "https://auth.example"
# (client id, its token's scope string, the calls it makes): allowed and denied ones.
CLIENTS = [
    ("web", "user_id:pigeon read:preferences write:preferences read:brands read:messages",
     ["GET /users/pigeon/preferences", "PUT /users/pigeon/preferences/t{n}", "GET /brands/b{n}",
      "GET /users/bluebird/preferences", "PATCH /brands"]),
    ("admin", "read:brands write:brands",
     ["PUT /brands/b{n}", "DELETE /brands/b{n}", "GET /brands", "GET /users/x/preferences"]),
    ("mobile", "user_id:u{n} read:user-tokens write:user-tokens",
     ["GET /users/u{n}/tokens/t{n}", "DELETE /users/u{n}/tokens/t{n}"]),
]


def best(function: Callable[[], object], repeat: int, number: int = 1) -> float:
    """The best of `repeat` runs, in seconds per call."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            function()
        times.append((time.perf_counter() - started) / number)
    return min(times)


def decision_log(path: Path, lines: int, keys: Path) -> int:
    """Write `lines` decision-log lines to `path`; returns how many distinct requests made them."""
    ring = KeyRing.open(keys)
    stream = io.StringIO()
    gate = Gatekeeper(COURIER, TokenVerifier(ring, audience=AUDIENCE, issuer=ISSUER),
                      DecisionLog(stream))
    distinct = 0
    for client_id, scope, calls in CLIENTS:
        for n in range(40):
            token = issue_token(ring, issuer=ISSUER, subject=f"{client_id}-svc", audience=AUDIENCE,
                                client_id=client_id, scope=scope.format(n=n % 3), lifetime=3600)
            for call in calls:
                method, target = call.format(n=n).split()
                gate.check(f"Bearer {token}", method, target)
                distinct += 1
    seed = stream.getvalue().splitlines()
    with path.open("w", encoding="utf-8") as out:
        for number in range(lines):
            out.write(seed[number % len(seed)])
            out.write("\n")
    return distinct


def main_quietly(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def run(lines: int, repeat: int) -> list[tuple[str, float, float]]:
    results = []
    minimal = COURIER.minimal_scopes(COURIER_CALLS)
    assert str(minimal) == ("user_id:pigeon read:brands read:messages read:preferences "
                            "read:user-tokens write:brands:acme write:preferences "
                            "write:user-tokens"), minimal
    results.append(("minimal: Courier, 8 calls (Policy.minimal_scopes)",
                    best(lambda: COURIER.minimal_scopes(COURIER_CALLS), repeat, 20), 0.010))
    results.append(("minimal: Courier, 8 calls (scopes minimal, the CLI)",
                    best(lambda: main_quietly(["minimal", *COURIER_CALLS]), repeat, 20), 0.010))

    big = generated_policy(10_000)
    assert len(big.routes) == 10_000, len(big.routes)
    token = "read:s1 read:s2:x write:s3:y read:s4:a read:s4:b zz:unknown"
    found = big.capabilities(token)
    # s1: all 100 routes; s2: its 50 item routes for id x; s4: 50 item routes for each of 2 ids
    assert len(found) == 100 + 50 + 2 * 50, len(found)
    results.append(("can: 10,000 routes, 6 scopes (Policy.capabilities)",
                    best(lambda: big.capabilities(token), repeat), 1.0))

    results.append(("test: the bundled Courier policy's 86 cases (scopes test)",
                    best(lambda: main_quietly(["test", str(COURIER.file)]), repeat), None))

    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "decisions.jsonl"
        distinct = decision_log(log, lines, Path(directory) / "keys")
        size = log.stat().st_size
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            started = time.perf_counter()
            code = main(["minimal", "--from-log", str(log), "--json"])
            elapsed = time.perf_counter() - started
        assert code == 0, code
        report = json.loads(out.getvalue())
        assert report["decisions"] == lines, report["decisions"]
        results.append(((f"minimal --from-log: {lines:,} lines ({size / 1e6:.0f} MB, "
                        f"{distinct} distinct requests, 3 clients)"), elapsed, 10.0 * lines / 1e6))
    return results


def _shown(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="decision-log lines")
    parser.add_argument("--repeat", type=int, default=5, help="repeats (best of)")
    args = parser.parse_args(argv)
    failed = False
    print(f"Python {sys.version.split()[0]}; best of {args.repeat}\n")
    print("| benchmark | time | target |")
    print("|---|---|---|")
    for name, seconds, target in run(args.lines, args.repeat):
        verdict = "" if target is None else f"< {_shown(target)}" + ("" if seconds < target else " MISSED")
        failed |= target is not None and seconds >= target
        print(f"| {name} | {_shown(seconds)} | {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main_())
