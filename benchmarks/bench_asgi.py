"""What ScopesMiddleware adds per request (target: at most 20 µs on a cached token).

The ASGI apps are called directly, in a loop inside one event loop, with a prebuilt scope and
prebuilt receive/send: no network, no server, so the difference between an app with the
middleware and the same app without it is the middleware's own cost.

    python benchmarks/bench_asgi.py --fast -o /tmp/asgi.json
    python benchmarks/report.py /tmp/asgi.json

Each pair is measured the same way: a bare ASGI app (a response and nothing else), and a
Starlette app routing to a handler; allowed requests (token verified before, so a cache hit)
and, for what a deny costs, a 403 and a public route. The differences are printed at the end.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import scopes
from scopes.asgi import ScopesMiddleware
from scopes.tokens import KeyRing, PublicKeys, issue_token

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
PUBLIC = [("GET", "/healthz")]


async def bare(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def starlette_app() -> Starlette:
    async def handler(request):
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/users/{user_id}/preferences", handler),
                             Route("/brands/{id}", handler), Route("/healthz", handler)])


def http_scope(method: str, path: str, token: str | None) -> dict:
    headers = [(b"host", b"api.example"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "root_path": "", "method": method, "path": path,
            "raw_path": path.encode(), "query_string": b"", "headers": headers}


def timed(app, scope: dict):
    """A pyperf time function: `loops` calls of the app, awaited in one event loop."""
    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    async def run(loops: int) -> float:
        clock = time.perf_counter  # what pyperf.perf_counter is
        start = clock()
        for _ in range(loops):
            await app(dict(scope), receive, send)  # a fresh scope per request, as a server's
        return clock() - start

    loop = asyncio.new_event_loop()
    return lambda loops: loop.run_until_complete(run(loops))


def check(app, scope: dict, status: int) -> None:
    """Refuse to time an app that does not answer what the benchmark says it measures."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(dict(scope), receive, send))
    assert sent[0]["status"] == status, (scope["method"], scope["path"], sent)


def cases() -> list[tuple[str, object, dict, int]]:
    """(name, app, scope, expected status) for every timed case; pairs share a scope."""
    policy = scopes.Policy.courier()
    with tempfile.TemporaryDirectory(prefix="bench-asgi-keys-") as directory:
        ring = KeyRing.open(Path(directory))
        token = issue_token(ring, issuer=ISSUER, subject="svc", audience=AUDIENCE,
                            client_id="client-1", lifetime=3600,
                            scope="user_id:u1 read:preferences read:brands:acme")
        jwks = ring.jwks()
    url_keys = PublicKeys.from_url("https://auth.example/jwks",
                                   fetch=lambda url, timeout: json.dumps(jwks).encode())

    def guarded(app, keys=jwks):
        return ScopesMiddleware(app, policy=policy, jwks=keys, audience=AUDIENCE, issuer=ISSUER,
                                public=PUBLIC)

    allowed = http_scope("GET", "/users/u1/preferences", token)
    return [
        ("asgi: bare app, GET", bare, allowed, 200),
        ("asgi: bare app + middleware, allowed (cached token)", guarded(bare), allowed, 200),
        ("asgi: bare app + middleware, denied 403", guarded(bare),
         http_scope("GET", "/brands/other", token), 403),
        ("asgi: bare app + middleware, public route", guarded(bare),
         http_scope("GET", "/healthz", None), 200),
        ("asgi: bare app + middleware, JWKS URL (cached token)", guarded(bare, url_keys),
         allowed, 200),
        ("asgi: Starlette app, GET", starlette_app(), allowed, 200),
        ("asgi: Starlette app + middleware, allowed (cached token)", guarded(starlette_app()),
         allowed, 200),
    ]


def main() -> None:
    import pyperf

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from report import human, quantile

    runner = pyperf.Runner()
    runner.metadata["description"] = "ScopesMiddleware overhead per request"
    results = {}
    for name, app, scope, status in cases():
        check(app, scope, status)
        results[name] = runner.bench_time_func(name, timed(app, scope))

    if runner.args.worker or any(r is None for r in results.values()):
        return
    print()
    print("| middleware added, per request | median | p99 |")
    print("|---|---|---|")
    for bare_name, with_name in [
        ("asgi: bare app, GET", "asgi: bare app + middleware, allowed (cached token)"),
        ("asgi: bare app, GET", "asgi: bare app + middleware, JWKS URL (cached token)"),
        ("asgi: Starlette app, GET", "asgi: Starlette app + middleware, allowed (cached token)"),
    ]:
        base, guarded_values = results[bare_name].get_values(), results[with_name].get_values()
        median = statistics.median(guarded_values) - statistics.median(base)
        p99 = quantile(guarded_values, 0.99) - quantile(base, 0.99)
        print(f"| {with_name.removeprefix('asgi: ')} | {human(median)} | {human(p99)} |")


if __name__ == "__main__":
    main()
