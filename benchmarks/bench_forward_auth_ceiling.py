"""Forward-auth against its ceiling: `scopes serve --authz-only` (metrics and decision log on)
beside a bare Starlette app answering 200 (benchmarks/ceiling_app.py), one uvicorn worker each,
the same `hey` load on each in turn, in one run.

    python benchmarks/bench_forward_auth_ceiling.py [--requests 20000] [--concurrency 50] [--rounds 3]

Prints a markdown table and the ratio of the medians (target: forward-auth at least 75% of the
ceiling). The two servers take turns, round after round, so a change in the machine's load
falls on both.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_forward_auth import (
    AUDIENCE,
    bench_token,
    hey,
    load_options,
    require_hey,
)

from tests.servers import free_port, scopes_server, wait_until_ready


def ceiling_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    """uvicorn running ceiling_app with the settings `scopes serve` gives uvicorn."""
    port = free_port()
    log = tmp / "ceiling.log"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "ceiling_app:app", "--app-dir",
             str(ROOT / "benchmarks"), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--no-access-log", "--log-level", "warning",
             "--no-server-header"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(f"{url}/authz/nginx", process, log)
    return process, url


def main() -> None:
    parser = load_options(argparse.ArgumentParser())
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    require_hey("bench_forward_auth_ceiling")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        token, jwks, issuer = bench_token(tmp)
        headers = {"Authorization": f"Bearer {token}", "X-Original-Method": "GET",
                   "X-Original-URI": "/brands/acme"}
        ceiling, ceiling_url = ceiling_server(tmp)
        try:
            with scopes_server(tmp, name="authz", extra=[
                "--authz-only", "--jwks", str(jwks), "--audience", AUDIENCE, "--issuer", issuer,
                "--workers", "1",
                "--decision-log", str(tmp / "decisions.log"),
            ]) as authz:
                targets = {"bare Starlette, answers 200": f"{ceiling_url}/authz/nginx",
                           "scopes forward-auth, allowed, metrics on": f"{authz.url}/authz/nginx"}
                results: dict[str, list[dict]] = {label: [] for label in targets}
                for url in targets.values():
                    answer = httpx.get(url, headers=headers)
                    assert answer.status_code == 200, answer.text
                    hey(url, headers, 2000, args.concurrency)  # warm-up
                for _ in range(args.rounds):
                    for label, url in targets.items():
                        result = hey(url, headers, args.requests, args.concurrency)
                        assert set(result["codes"]) == {"200"}, result["codes"]
                        results[label].append(result)
                counted = [line for line in httpx.get(f"{authz.url}/metrics").text.splitlines()
                           if line.startswith('scopes_decisions_total{code="allowed"')]
        finally:
            ceiling.terminate()
            ceiling.wait(timeout=10)
    print("| server (1 uvicorn worker) | requests/s (median of rounds) | p50 | p99 |")
    print("|---|---|---|---|")
    medians = {}
    for label, rounds in results.items():
        medians[label] = statistics.median(r["rps"] for r in rounds)
        p50 = statistics.median(r["p50_ms"] for r in rounds)
        p99 = statistics.median(r["p99_ms"] for r in rounds)
        print(f"| {label} | {medians[label]:,.0f} | {p50:.1f} ms | {p99:.1f} ms |")
    bare, scopes = medians.values()
    rounds = " vs ".join(", ".join(f"{r['rps']:,.0f}" for r in results[label])
                         for label in results)
    print(f"\nforward-auth / ceiling: {scopes / bare:.0%} (target >= 75%); "
          f"requests/s by round: {rounds}")
    print(f"metrics counted: {counted[0] if counted else 'nothing'}")


if __name__ == "__main__":
    main()
