"""Forward-auth throughput and latency: `scopes serve --authz-only` with 1 and 2 workers,
loaded by `hey` (apt-get install hey) from the same machine.

    python benchmarks/bench_forward_auth.py [--requests 20000] [--concurrency 50]

Prints a markdown table. The load generator shares the machine's cores with the server, so the
numbers are a floor for what the server does alone.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import scopes_server

AUDIENCE = "https://api.example"


def hey(url: str, headers: dict[str, str], requests: int, concurrency: int,
        extra: list[str] | None = None) -> dict:
    """Run hey and read its summary: requests/s, p50, p99 (ms) and the status-code counts."""
    command = ["hey", "-n", str(requests), "-c", str(concurrency), *(extra or [])]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", output).group(1))
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", output).group(1))
    codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", output))
    return {"rps": rps, "p50_ms": p50 * 1000, "p99_ms": p99 * 1000, "codes": codes}


def bench_token(tmp: Path) -> tuple[str, Path, str]:
    """An access token for `read:brands:acme` from a token service of its own, the JWKS file
    (in `tmp`) that verifies it, and its issuer; the service stops before anything is timed."""
    with scopes_server(tmp, name="issuer", extra=["--rate-limit", "0"]) as issuer:
        client = json.loads(issuer.cli("clients", "create", "--scope", "read:brands:acme",
                                       "--audience", AUDIENCE, "--json").stdout)
        token = httpx.post(f"{issuer.url}/oauth/token", json={
            "grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}).json()["access_token"]
        jwks = tmp / "jwks.json"
        jwks.write_text(httpx.get(f"{issuer.url}/.well-known/jwks.json").text)
    return token, jwks, issuer.url


def require_hey(name: str) -> None:
    if shutil.which("hey") is None:
        sys.exit(f"{name} needs hey: apt-get install hey")


def load_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The load each server gets from hey: --requests per measurement, --concurrency."""
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=50)
    return parser


def main() -> None:
    args = load_options(argparse.ArgumentParser()).parse_args()
    require_hey("bench_forward_auth")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        token, jwks, issuer = bench_token(tmp)
        cases = {
            "allowed (200)": {"X-Original-URI": "/brands/acme"},
            "denied (403)": {"X-Original-URI": "/brands/other"},
        }
        print("| workers | request | requests/s | p50 | p99 |")
        print("|---|---|---|---|---|")
        for workers in (1, 2):
            with scopes_server(tmp, name=f"authz{workers}", extra=[
                "--authz-only", "--jwks", str(jwks), "--audience", AUDIENCE, "--issuer", issuer,
                "--workers", str(workers), "--decision-log", str(tmp / f"decisions{workers}.log"),
            ]) as authz:
                for label, extra in cases.items():
                    headers = {"Authorization": f"Bearer {token}", "X-Original-Method": "GET",
                               **extra}
                    hey(f"{authz.url}/authz/nginx", headers, 2000, args.concurrency)  # warm-up
                    result = hey(f"{authz.url}/authz/nginx", headers, args.requests,
                                 args.concurrency)
                    expected = label.split("(")[1].rstrip(")")  # every answer the labelled one
                    assert set(result["codes"]) == {expected}, (label, result["codes"])
                    print(f"| {workers} | {label} | {result['rps']:,.0f} | "
                          f"{result['p50_ms']:.1f} ms | {result['p99_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
