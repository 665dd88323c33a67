"""Token requests per second: `scopes serve` with 1 and 2 workers, loaded by `hey`.

    python benchmarks/bench_token_service.py [--requests 2000] [--concurrency 20]

/oauth/token checks a client secret against its scrypt hash (about 28 ms of CPU by design), so
it is bounded by the cores; /auth/issue-token verifies a bearer token (cached) and signs a new
one. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_forward_auth import hey  # noqa: E402
from tests.servers import scopes_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("hey") is None:
        sys.exit("bench_token_service needs hey: apt-get install hey")
    print("| workers | endpoint | requests/s | p50 | p99 |")
    print("|---|---|---|---|---|")
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp_name, scopes_server(
            Path(tmp_name), extra=["--workers", str(workers), "--rate-limit", "0"]
        ) as server:
            client = json.loads(server.cli("clients", "create", "--scope",
                                           "user_id:pigeon read:preferences", "--json").stdout)
            body = json.dumps({"grant_type": "client_credentials",
                               "client_id": client["client_id"],
                               "client_secret": client["client_secret"]})
            bearer = httpx.post(f"{server.url}/oauth/token", content=body,
                                headers={"Content-Type": "application/json"}).json()["access_token"]
            cases = [
                ("POST /oauth/token", f"{server.url}/oauth/token", body, {},
                 max(200, args.requests // 10)),
                ("POST /auth/issue-token", f"{server.url}/auth/issue-token",
                 json.dumps({"scope": "user_id:pigeon read:preferences", "expires_in": "10m"}),
                 {"Authorization": f"Bearer {bearer}"}, args.requests),
            ]
            for label, url, payload, headers, count in cases:
                extra = ["-m", "POST", "-T", "application/json", "-d", payload]
                result = hey(url, headers, count, args.concurrency, extra)
                assert set(result["codes"]) == {"200"}, result["codes"]
                print(f"| {workers} | {label} | {result['rps']:,.0f} | "
                      f"{result['p50_ms']:.1f} ms | {result['p99_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
