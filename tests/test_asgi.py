"""ScopesMiddleware in front of Starlette and FastAPI apps: through httpx, as raw ASGI calls (the
raw paths a server hands over, which HTTP clients would normalize), and behind a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

import scopes
from scopes.asgi import MAX_BODY_BYTES, ScopesContext, ScopesMiddleware
from scopes.fastapi import Scopes
from scopes.policy.reloader import PolicyReloader
from scopes.tokens.jwks import PublicKeys
from scopes.tokens.keys import KeyRing
from scopes.tokens.issue import issue_token
from tests.attack_paths import ATTACK_PATHS
from tests.policies import courier_text

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
ROOT = Path(__file__).resolve().parent.parent
COURIER = ROOT / "scopes" / "policy" / "courier.toml"
EVERYTHING = ("user_id:u1 read:brands write:brands read:preferences write:preferences "
              "read:user-tokens write:user-tokens read:messages")
NO_TOKEN = 'Bearer realm="scopes"'
GRAPHQL_QUERY = {"query": "query Inbox { messages(limit: 3) { id title } }", "variables": {}}


@pytest.fixture(scope="module")
def ring(tmp_path_factory) -> KeyRing:
    return KeyRing.open(tmp_path_factory.mktemp("keys"))


def mint(ring: KeyRing, scope: str, *, audience: str = AUDIENCE, issuer: str = ISSUER,
         lifetime: float = 600, now: float | None = None) -> str:
    return issue_token(ring, issuer=issuer, subject="svc-1", audience=audience,
                       client_id="client-1", scope=scope, lifetime=lifetime, now=now)


def seen(context: ScopesContext) -> dict:
    """What a handler can learn from the middleware."""
    decision = context.decision
    return {
        "public": context.public,
        "subject": context.subject,
        "client_id": context.client_id,
        "user_ids": list(context.user_ids),
        "scope_claim": context.claims.get("scope"),
        "rule": decision.rule if decision is not None else None,
        "granted": list(decision.granted) if decision is not None else [],
    }


class Reached(list):
    """The (method, path) of every request a handler saw."""


def starlette_app(ring: KeyRing, reached: Reached, events: list[str] | None = None,
                  public=(("GET", "/healthz"),), **options) -> Starlette:
    async def brand(request: Request) -> JSONResponse:
        reached.append((request.method, request.url.path))
        return JSONResponse({"id": request.path_params["id"], **seen(request.state.scopes)})

    async def preferences(request: Request) -> JSONResponse:
        reached.append((request.method, request.url.path))
        return JSONResponse(seen(request.state.scopes))

    async def graphql(request: Request) -> Response:
        reached.append((request.method, request.url.path))
        body = await request.body()
        return Response(body, media_type="application/octet-stream",
                        headers={"x-rule": request.state.scopes.decision.rule})

    async def healthz(request: Request) -> JSONResponse:
        reached.append((request.method, request.url.path))
        return JSONResponse(seen(request.state.scopes))

    async def socket_route(websocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello, unchecked")
        await websocket.close()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        (events if events is not None else []).append("startup")
        yield
        (events if events is not None else []).append("shutdown")

    app = Starlette(routes=[
        Route("/brands/{id}", brand, methods=["GET", "PUT", "DELETE"]),
        Route("/users/{user_id}/preferences", preferences),
        Route("/client/q", graphql, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET", "POST", "HEAD"]),
        WebSocketRoute("/ws", socket_route),
    ], lifespan=lifespan)
    app.add_middleware(ScopesMiddleware, policy=options.pop("policy", scopes.Policy.courier()),
                       jwks=options.pop("jwks", ring.jwks()), audience=AUDIENCE, issuer=ISSUER,
                       public=public, **options)
    return app


def fastapi_app(ring: KeyRing, reached: Reached, *, middleware: bool = True) -> FastAPI:
    app = FastAPI()
    if middleware:
        app.add_middleware(ScopesMiddleware, policy=scopes.Policy.courier(), jwks=ring.jwks(),
                           audience=AUDIENCE, issuer=ISSUER, public=[("GET", "/healthz")])

    @app.get("/brands/{id}")
    def brand(id: str, auth: Scopes, request: Request) -> dict:
        reached.append((request.method, request.url.path))
        return {"id": id, **seen(auth)}

    @app.get("/users/{user_id}/preferences")
    def preferences(user_id: str, auth: Scopes, request: Request) -> dict:
        reached.append((request.method, request.url.path))
        return seen(auth)

    @app.post("/client/q")
    async def graphql(request: Request, auth: Scopes) -> Response:
        reached.append((request.method, request.url.path))
        return Response(await request.body(), media_type="application/octet-stream",
                        headers={"x-rule": auth.decision.rule})

    @app.get("/healthz")
    def healthz(auth: Scopes, request: Request) -> dict:
        reached.append((request.method, request.url.path))
        return seen(auth)

    return app


APPS = {"starlette": starlette_app, "fastapi": fastapi_app}


@pytest.fixture(params=list(APPS))
def served(request, ring):
    reached = Reached()
    return APPS[request.param](ring, reached), reached


def call(app, method: str, url: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.example") as client:
            return await client.request(method, url, headers=headers, **kwargs)

    return asyncio.run(go())


class RawAnswer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, receives: int) -> None:
        self.status, self.headers, self.body, self.receives = status, headers, body, receives

    def json(self):
        return json.loads(self.body)


def raw_call(app, method: str, target: str, token: str | None = None,
             chunks: tuple[bytes, ...] = (b"",), raw_path: bool = True) -> RawAnswer:
    """Call the ASGI app as a server would, with `target` exactly as it came off the wire."""
    wire = target.encode("utf-8", "surrogatepass")
    path, _, query = wire.partition(b"?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
        "method": method, "path": unquote(path.decode("latin-1")), "query_string": query,
        "root_path": "", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"api.example")] + (
            [(b"authorization", f"Bearer {token}".encode())] if token is not None else []),
    }
    if raw_path:
        scope["raw_path"] = path
    messages = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                for i, chunk in enumerate(chunks)]
    sent: list[dict] = []
    receives = 0

    async def receive() -> dict:
        nonlocal receives
        receives += 1
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return RawAnswer(start["status"], headers, body, receives)


# -- allowed -----------------------------------------------------------------------------------

def test_an_allowed_request_reaches_the_handler_with_the_token_and_the_decision(served, ring):
    app, reached = served
    token = mint(ring, "user_id:u1 read:preferences")
    answer = call(app, "GET", "/users/u1/preferences", token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "public": False, "subject": "svc-1", "client_id": "client-1", "user_ids": ["u1"],
        "scope_claim": "user_id:u1 read:preferences",
        "rule": "GET /users/{user_id}/preferences", "granted": ["read:preferences", "user_id:u1"],
    }
    assert reached == [("GET", "/users/u1/preferences")]


def test_the_query_string_is_ignored_by_the_decision(served, ring):
    app, reached = served
    token = mint(ring, "read:brands:acme")
    assert call(app, "GET", "/brands/acme?brand=other&id=other", token).status_code == 200
    assert call(app, "GET", "/brands/other?brand=acme", token).status_code == 403
    assert reached == [("GET", "/brands/acme")]


# -- 401 and 403 -------------------------------------------------------------------------------

def test_no_token_is_a_401_with_the_bare_challenge(served):
    app, reached = served
    for headers in ({}, {"Authorization": "Basic dTpw"}, {"Authorization": "Bearer "}):
        answer = call(app, "GET", "/brands/acme", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == NO_TOKEN
        assert answer.headers["cache-control"] == "no-store"
        assert answer.json() == {"allowed": False,
                                 "reason": "no bearer token: send Authorization: Bearer <token>"}
    assert reached == []


@pytest.mark.parametrize("kind", ["garbage", "expired", "foreign-audience", "foreign-issuer",
                                  "foreign-key", "tampered"])
def test_a_bad_token_is_a_401_invalid_token(served, ring, tmp_path, kind):
    app, reached = served
    token = {
        "garbage": lambda: "not-a-token",
        "expired": lambda: mint(ring, "read:brands", lifetime=60, now=time.time() - 3600),
        "foreign-audience": lambda: mint(ring, "read:brands", audience="https://other.example"),
        "foreign-issuer": lambda: mint(ring, "read:brands", issuer="https://evil.example"),
        "foreign-key": lambda: mint(KeyRing.open(tmp_path / "other"), "read:brands"),
        "tampered": lambda: mint(ring, "read:brands:acme")[:-4] + "AAAA",
    }[kind]()
    answer = call(app, "GET", "/brands/acme", token)
    assert answer.status_code == 401
    challenge = answer.headers["www-authenticate"]
    assert re.fullmatch(r'Bearer realm="scopes", error="invalid_token", error_description="[^"\\]+"',
                        challenge), challenge
    description = challenge.split('error_description="')[1][:-1]
    assert answer.json() == {"allowed": False, "reason": f"invalid token: {description}"}
    assert reached == []


@pytest.mark.parametrize(("scope", "method", "path", "challenge", "reason"), [
    pytest.param("read:brands:acme", "GET", "/brands/other",
                 'scope="read:brands:other"',
                 "denied: GET /brands/other needs read:brands or read:brands:other; the token "
                 "has read:brands:acme", id="narrowest-scope"),
    pytest.param("read:brands", "DELETE", "/brands/acme", 'scope="write:brands:acme"',
                 "denied: DELETE /brands/acme needs write:brands or write:brands:acme; the token "
                 "has read:brands", id="write-not-implied"),
    pytest.param("user_id:u1 read:preferences", "GET", "/users/u2/preferences",
                 'scope="user_id:u2"',
                 "denied: GET /users/u2/preferences needs read:preferences user_id:u2; the token "
                 "has user_id:u1 read:preferences", id="other-user"),
    pytest.param(EVERYTHING, "GET", "/admin", None,
                 "denied: GET /admin: no rule in the policy matches this path", id="no-route"),
    pytest.param(EVERYTHING, "PATCH", "/brands/acme", None,
                 "denied: PATCH /brands/acme: the policy allows only DELETE, GET, PUT on this path",
                 id="method-not-listed"),
])
def test_a_denial_is_a_403_naming_the_scope_that_would_allow_it(served, ring, scope, method, path,
                                                                 challenge, reason):
    app, reached = served
    answer = call(app, method, path, mint(ring, scope))
    assert answer.status_code == 403
    expected = 'Bearer realm="scopes", error="insufficient_scope"'
    assert answer.headers["www-authenticate"] == (f"{expected}, {challenge}" if challenge else expected)
    assert answer.json() == {"allowed": False, "reason": reason}
    assert reached == []


# -- public routes -----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "target", "token", "status"), [
    pytest.param("GET", "/healthz", None, 200, id="no-token"),
    pytest.param("GET", "/healthz", "not-a-token", 200, id="bad-token-ignored"),
    pytest.param("GET", "/healthz?probe=1", None, 200, id="query-ignored"),
    pytest.param("GET", "/health%7A", None, 401, id="encoded-spelling-is-not-the-public-path"),
    pytest.param("GET", "/healthz/", None, 401, id="trailing-slash-is-another-path"),
    pytest.param("HEAD", "/healthz", None, 401, id="no-implicit-head"),
    pytest.param("POST", "/healthz", None, 401, id="other-method"),
    pytest.param("get", "/healthz", None, 401, id="methods-are-case-sensitive"),
    pytest.param("GET", "/HEALTHZ", None, 401, id="paths-are-case-sensitive"),
    pytest.param("GET", "/healthz%2F", None, 401, id="encoded-slash"),
    pytest.param("GET", "//healthz", None, 401, id="empty-segment"),
])
def test_public_routes_pass_without_a_token_only_exactly(ring, method, target, token, status):
    reached = Reached()
    app = starlette_app(ring, reached)
    answer = raw_call(app, method, target, token)
    assert answer.status == status, answer.body
    if status == 200:
        assert answer.json() == {"public": True, "subject": None, "client_id": None,
                                 "user_ids": [], "scope_claim": None, "rule": None, "granted": []}
        assert reached == [(method, "/healthz")]
    else:
        assert answer.headers["www-authenticate"] == NO_TOKEN
        assert reached == []


def test_fastapi_public_routes_and_its_own_docs(ring):
    reached = Reached()
    app = fastapi_app(ring, reached)
    assert call(app, "GET", "/healthz").json()["public"] is True
    assert call(app, "GET", "/docs").status_code == 401  # public only when listed
    assert call(app, "GET", "/openapi.json").status_code == 401
    assert reached == [("GET", "/healthz")]


@pytest.mark.parametrize(("public", "error", "message"), [
    pytest.param("GET /healthz", TypeError,
                 "public must be a list of (METHOD, path) pairs, not a string", id="a-string"),
    pytest.param([("GET",)], TypeError,
                 "public entries are (METHOD, path) pairs of strings, not ('GET',)", id="not-a-pair"),
    pytest.param([("GET", b"/healthz")], TypeError,
                 "public entries are (METHOD, path) pairs of strings, not ('GET', b'/healthz')",
                 id="bytes"),
    pytest.param([("", "/healthz")], ValueError,
                 "public entry ('', '/healthz'): '' is not an HTTP method", id="no-method"),
    pytest.param([("GET POST", "/healthz")], ValueError,
                 "public entry ('GET POST', '/healthz'): 'GET POST' is not an HTTP method",
                 id="two-methods"),
    pytest.param([("GET", "/healthz?x=1")], ValueError,
                 "public entry ('GET', '/healthz?x=1'): give the path alone; the query is ignored",
                 id="query"),
    pytest.param([("GET", "healthz")], ValueError,
                 "public entry ('GET', 'healthz'): request target 'healthz' does not start with '/'",
                 id="relative"),
    pytest.param([("GET", "/docs/../admin")], ValueError,
                 "public entry ('GET', '/docs/../admin'): path has a dot segment '..' (segment 2); "
                 "send the canonical path", id="dot-segment"),
    pytest.param([("GET", "/caf\u00e9")], ValueError,
                 "public entry ('GET', '/caf\u00e9'): path has a raw non-ASCII character '\u00e9' "
                 "in segment 1 'caf\u00e9'; percent-encode it as UTF-8", id="non-ascii"),
])
def test_public_entries_are_checked_at_startup(ring, public, error, message):
    with pytest.raises(error) as raised:
        ScopesMiddleware(starlette_app, policy=scopes.Policy.courier(), jwks=ring.jwks(),
                         public=public)
    assert str(raised.value) == message


def test_the_middleware_refuses_what_is_not_a_policy_or_keys(ring):
    with pytest.raises(TypeError, match="policy must be a scopes.Policy or a PolicyReloader"):
        ScopesMiddleware(starlette_app, policy=str(COURIER), jwks=ring.jwks())
    with pytest.raises(ValueError, match="no usable key"):
        ScopesMiddleware(starlette_app, policy=scopes.Policy.courier(), jwks={"keys": []})


# -- paths: the raw one decides ----------------------------------------------------------------

@pytest.mark.parametrize("kind", list(APPS))
@pytest.mark.parametrize(("target", "code"), [pytest.param(t, c, id=f"{c}:{t[:40]!r}")
                                              for t, c in ATTACK_PATHS])
def test_path_attacks_never_reach_the_handler(ring, kind, target, code):
    """The token may call every route of the policy: only the path can make these a deny."""
    reached = Reached()
    answer = raw_call(APPS[kind](ring, reached), "GET", target, mint(ring, EVERYTHING))
    assert reached == []
    if target in ("", "?next=/brands") and answer.status == 400:
        return  # no path at all: a server never hands one over; still no allow
    assert answer.status == 403, answer.body
    assert answer.headers["www-authenticate"] == 'Bearer realm="scopes", error="insufficient_scope"'
    reason = answer.json()["reason"]
    assert "path rejected (" in reason
    if target.isascii():
        assert f"path rejected ({code})" in reason


def test_the_raw_path_decides_not_the_decoded_one(ring):
    reached = Reached()
    app = starlette_app(ring, reached)
    token = mint(ring, "read:brands:acme")
    # Decoded, this is /brands/acme/other to the server, and a route the app might route.
    assert raw_call(app, "GET", "/brands/acme%2Fother", token).status == 403
    # An encoded unreserved letter is refused: a raw-matching router would not read "acme".
    answer = raw_call(app, "GET", "/brands/ac%6De", token)
    assert answer.status == 403 and "(encoded-unreserved)" in answer.json()["reason"]
    assert raw_call(app, "GET", "/brands/acme", token).status == 200
    assert reached == [("GET", "/brands/acme")]


def test_without_raw_path_the_decoded_path_is_encoded_again_never_decoded_twice(ring):
    reached = Reached()
    app = starlette_app(ring, reached)
    token = mint(ring, "read:brands:acme")
    assert raw_call(app, "GET", "/brands/acme", token, raw_path=False).status == 200
    # On the wire /brands/%2561cme: the app sees the id "%61cme", which is not brand acme.
    answer = raw_call(app, "GET", "/brands/%2561cme", token, raw_path=False)
    assert answer.status == 403 and "(double-encoding)" in answer.json()["reason"]
    assert reached == [("GET", "/brands/acme")]


# -- bodies ------------------------------------------------------------------------------------

def test_a_graphql_body_is_decided_then_replayed_intact(served, ring):
    app, reached = served
    token = mint(ring, "user_id:u1 read:messages")
    body = json.dumps(GRAPHQL_QUERY).encode() + b"  \n"
    answer = call(app, "POST", "/client/q", token, content=body,
                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.content == body
    assert answer.headers["x-rule"] == "POST /client/q"
    denied = call(app, "POST", "/client/q", mint(ring, "user_id:u1 read:brands"), content=body)
    assert denied.status_code == 403
    assert denied.headers["www-authenticate"] == (
        'Bearer realm="scopes", error="insufficient_scope", scope="read:messages"')
    assert reached == [("POST", "/client/q")]


def test_a_body_in_many_chunks_is_replayed_whole(ring):
    reached = Reached()
    body = json.dumps({**GRAPHQL_QUERY, "padding": "x" * 20_000}).encode()
    chunks = tuple(body[i:i + 1000] for i in range(0, len(body), 1000))
    answer = raw_call(starlette_app(ring, reached), "POST", "/client/q",
                      mint(ring, "user_id:u1 read:messages"), chunks=chunks)
    assert answer.status == 200 and answer.body == body
    assert reached == [("POST", "/client/q")]


def test_graphql_bodies_that_cannot_be_decided_are_denied(ring):
    reached = Reached()
    app = starlette_app(ring, reached)
    token = mint(ring, "user_id:u1 read:messages")
    empty = raw_call(app, "POST", "/client/q", token)
    assert empty.status == 403
    assert empty.json()["reason"] == ("denied: POST /client/q: this GraphQL endpoint is decided by "
                                      "its body, and no body was given")
    mutation = raw_call(app, "POST", "/client/q", token,
                        chunks=(b'{"query": "mutation { deleteEverything }"}',))
    assert mutation.status == 403
    assert "the policy lists no mutation field" in mutation.json()["reason"]
    padded = json.dumps({**GRAPHQL_QUERY, "padding": "x" * MAX_BODY_BYTES}).encode()
    large = raw_call(app, "POST", "/client/q", token, chunks=(padded[:40_000], padded[40_000:]))
    assert large.status == 413
    assert large.json() == {"allowed": False,
                            "reason": f"denied: the request body is larger than {MAX_BODY_BYTES} bytes"}
    assert reached == []


def test_the_body_is_read_only_for_a_valid_token_on_a_body_route(ring):
    reached = Reached()
    app = starlette_app(ring, reached)
    body = (json.dumps(GRAPHQL_QUERY).encode(),)
    plain = raw_call(app, "PUT", "/brands/acme", mint(ring, "write:brands"), chunks=body)
    assert plain.status == 200 and plain.receives == 0  # the app did not read it either
    assert raw_call(app, "POST", "/client/q", None, chunks=body).receives == 0
    assert raw_call(app, "POST", "/client/q", "not-a-token", chunks=body).receives == 0
    assert raw_call(app, "POST", "/client/q", mint(ring, "user_id:u1 read:messages"),
                    chunks=body).receives == 1


# -- what is not HTTP passes through -------------------------------------------------------------

async def _converse(app, scope: dict, incoming: list[dict]) -> list[dict]:
    """Run one ASGI conversation: `incoming` messages in order, everything sent back out."""
    sent: list[dict] = []

    async def receive() -> dict:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 5)
    return sent


def test_lifespan_passes_through_unchanged(ring):
    events: list[str] = []
    app = starlette_app(ring, Reached(), events)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    sent = asyncio.run(_converse(app, scope, [{"type": "lifespan.startup"},
                                              {"type": "lifespan.shutdown"}]))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["startup", "shutdown"]


def test_websockets_pass_through_unchecked(ring):
    app = starlette_app(ring, Reached())
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/ws",
             "raw_path": b"/ws", "query_string": b"", "root_path": "", "headers": [],
             "subprotocols": [], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    sent = asyncio.run(_converse(app, scope, [{"type": "websocket.connect"}]))
    assert sent[:2] == [{"type": "websocket.accept", "subprotocol": None, "headers": []},
                        {"type": "websocket.send", "text": "hello, unchecked"}]
    assert sent[2]["type"] == "websocket.close"


# -- configuration -------------------------------------------------------------------------------

def test_a_policy_reloader_serves_its_file(ring, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(COURIER.read_text(encoding="utf-8"), encoding="utf-8")
    reached = Reached()
    app = starlette_app(ring, reached, policy=PolicyReloader(str(policy)))
    assert call(app, "GET", "/brands/acme", mint(ring, "read:brands")).status_code == 200


def test_a_reload_that_adds_a_scope_and_a_route_gives_them_meaning_on_the_next_request(ring, tmp_path):
    """The token hands on its scope text and the verifier caches claims, so the policy in force
    at each request reads it: a scope the start policy did not know grants once a reload adds it."""
    policy = tmp_path / "policy.toml"
    policy.write_text(courier_text(), encoding="utf-8")
    reached = Reached()

    async def labels(request: Request) -> JSONResponse:
        reached.append((request.method, request.url.path))
        context = request.state.scopes
        return JSONResponse({"token_scopes": str(context.token_scopes), **seen(context)})

    app = Starlette(routes=[Route("/labels", labels)])
    app.add_middleware(ScopesMiddleware, policy=PolicyReloader(str(policy), check_interval=0),
                       jwks=ring.jwks(), audience=AUDIENCE, issuer=ISSUER)
    token = mint(ring, "user_id:u1 read:labels")
    before = call(app, "GET", "/labels", token)  # verified, and now in the verifier's cache
    assert before.status_code == 403
    assert before.json()["reason"] == "denied: GET /labels: no rule in the policy matches this path"
    policy.write_text(courier_text(labels=True), encoding="utf-8")
    after = call(app, "GET", "/labels", token)
    assert after.status_code == 200, after.text
    assert after.json()["user_ids"] == ["u1"] and after.json()["granted"] == ["read:labels"]
    assert after.json()["token_scopes"] == "user_id:u1 read:labels"
    assert reached == [("GET", "/labels")]


class JwksServer:
    """A JWKS URL's fetches, recorded: which thread made each one."""

    def __init__(self, ring: KeyRing, up: bool = True) -> None:
        self.ring, self.up, self.threads = ring, up, []

    def fetch(self, url: str, timeout: float) -> bytes:
        self.threads.append(threading.current_thread())
        if not self.up:
            raise OSError("connection refused")
        return json.dumps(self.ring.jwks()).encode()

    def keys(self) -> PublicKeys:
        return PublicKeys.from_url("https://auth.example/.well-known/jwks.json", fetch=self.fetch)


def test_a_jwks_url_is_fetched_off_the_event_loop_also_after_a_rotation(tmp_path):
    ring = KeyRing.open(tmp_path / "keys")
    jwks = JwksServer(ring)
    reached = Reached()
    app = starlette_app(ring, reached, jwks=jwks.keys())
    assert call(app, "GET", "/brands/acme", mint(ring, "read:brands")).status_code == 200
    assert call(app, "GET", "/brands/acme", mint(ring, "read:brands")).status_code == 200
    assert len(jwks.threads) == 1
    ring.rotate()  # the next token names a kid the middleware has not fetched
    assert call(app, "GET", "/brands/acme", mint(ring, "read:brands")).status_code == 200
    assert len(jwks.threads) == 2
    assert threading.main_thread() not in jwks.threads  # the tests' event loop runs in it
    unknown = call(app, "GET", "/brands/acme", mint(KeyRing.open(tmp_path / "other"), "read:brands"))
    assert unknown.status_code == 401 and len(jwks.threads) == 2  # once a minute at most
    assert 'error="invalid_token"' in unknown.headers["www-authenticate"]
    assert len(reached) == 3


def test_an_unreachable_jwks_url_is_a_401_never_an_allow(ring):
    jwks = JwksServer(ring, up=False)
    reached = Reached()
    app = starlette_app(ring, reached, jwks=jwks.keys())
    answer = call(app, "GET", "/brands/acme", mint(ring, "read:brands"))
    assert answer.status_code == 401
    assert answer.json() == {"allowed": False, "reason": (
        "invalid token: no keys to verify with: the JWKS at 'https://auth.example/.well-known/jwks.json' "
        "could not be fetched (OSError: connection refused)")}
    assert reached == [] and len(jwks.threads) == 1
    assert threading.main_thread() not in jwks.threads


def test_the_fastapi_dependency_without_the_middleware_fails_loudly(ring):
    reached = Reached()
    app = fastapi_app(ring, reached, middleware=False)
    with pytest.raises(RuntimeError, match=re.escape("add scopes.asgi.ScopesMiddleware to the app")):
        call(app, "GET", "/brands/acme")


# -- behind a real server ----------------------------------------------------------------------

def test_behind_uvicorn_raw_request_lines_are_decided_as_sent(ring):
    import uvicorn

    reached = Reached()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(starlette_app(ring, reached), log_level="error",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.01)
            token = mint(ring, "read:brands:acme")

            def status(target: str) -> int:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    conn.sendall(f"GET {target} HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer "
                                 f"{token}\r\nConnection: close\r\n\r\n".encode())
                    answer = b""
                    while chunk := conn.recv(65536):
                        answer += chunk
                return int(answer.split(b" ", 2)[1])

            assert status("/brands/acme?x=1") == 200
            assert status("/brands/other/../acme") == 403
            assert status("/brands/acme%2F..%2Fother") == 403
            assert status("/brands/%2561cme") == 403
            assert status("/brands/ac%6De") == 403  # encoded unreserved: refused
            assert status("/brands/acme") == 200
        finally:
            server.should_exit = True
            thread.join(10)
    assert reached == [("GET", "/brands/acme"), ("GET", "/brands/acme")]


# -- the benchmark measures what it says --------------------------------------------------------

def test_the_benchmark_cases_answer_as_labelled():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_asgi
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    for name, app, scope, status in bench_asgi.cases():
        bench_asgi.check(app, scope, status)


# -- the docs ----------------------------------------------------------------------------------

def _doc_blocks() -> list[str]:
    text = (ROOT / "docs" / "asgi.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.+?)```", text, re.S)[1:]


@pytest.mark.parametrize(("index", "allowed", "scope"), [
    pytest.param(0, "/brands/acme", "read:brands:acme", id="starlette"),
    pytest.param(1, "/users/u1/preferences", "user_id:u1 read:preferences", id="fastapi"),
])
def test_the_documented_apps_run_as_written(ring, index, allowed, scope):
    namespace: dict = {}
    exec(compile(_doc_blocks()[index], f"docs/asgi.md#{index}", "exec"), namespace)
    app = namespace["app"]
    [middleware] = app.user_middleware
    assert middleware.kwargs["jwks"] == "https://auth.example/.well-known/jwks.json"
    middleware.kwargs["jwks"] = ring.jwks()  # the test's keys instead of the documented URL
    assert call(app, "GET", "/healthz").json() == {"status": "ok"}
    assert call(app, "GET", allowed).status_code == 401
    answer = call(app, "GET", allowed, mint(ring, scope))
    assert answer.status_code == 200, answer.text
    assert call(app, "GET", "/brands/other", mint(ring, scope)).status_code == 403
