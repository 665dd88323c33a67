"""The principle behind "What an allow must also survive" (DESIGN.md): whenever `authorize`
allows a request, every kind of upstream router picks the same route with the same ids.

Three routers are emulated here, independently of scopes' own code: one that matches the raw
path and decodes what it binds (Express, Envoy, axum), one that decodes the path first, then
matches (many frameworks), and one that decodes and matches literals ignoring case (Express's
default, ASP.NET Core). All prefer literal segments to parameters, as scopes' policy does.
"""

from __future__ import annotations

import urllib.parse

from hypothesis import example, given, settings
from hypothesis import strategies as st

from scopes import Policy, PolicyError

LITERALS = ["items", "admin", "me", "@me", "a.b", "v1:x", "x~y", "export"]
VALUES = [
    "x", "ADMIN", "Admin", "admin", "%41dmin", "%40me", "@ME", "%40ME", "me", "ME", "%6De",
    "a%2Eb", "A.B", "v1%3Ax", "V1:X", "x%7Ey", "me%2Fx", "%2e%2e", "..", ".", "", "a%20b",
    "caf%C3%A9", "x%3Ay", ";x", "EXPORT", "exp%6Frt", "%45xport", "a%25b", "it%27s", "%C3%A9",
]


@st.composite
def policies(draw):
    """Literal and parameter siblings, qualified and user-bound routes."""
    count = draw(st.integers(1, 7))
    # A few literals per policy, so that literal and parameter siblings are common.
    vocabulary = draw(st.lists(st.sampled_from(LITERALS), min_size=1, max_size=3, unique=True))
    endpoints, seen = [], set()
    for _ in range(count):
        length = draw(st.integers(1, 3))
        shape = tuple(draw(st.sampled_from(vocabulary + [None])) for _ in range(length))
        method = draw(st.sampled_from(["GET", "PUT"]))
        if (method, shape) in seen:
            continue
        seen.add((method, shape))
        names = [f"p{i}" for i, seg in enumerate(shape) if seg is None]
        path = "/" + "/".join(seg if seg is not None else f"{{p{i}}}" for i, seg in enumerate(shape))
        endpoint = {"methods": [method], "path": path}
        kind = draw(st.sampled_from(["bare", "qualified", "user"]))
        if kind == "qualified" and names:
            endpoint["any_of"] = [f"read:things:{{{names[-1]}}}"]
        elif kind == "user" and names:
            endpoint["any_of"] = ["read:things"]
            endpoint["principal_param"] = names[0]
        else:
            endpoint["any_of"] = ["read:things"]
        endpoints.append(endpoint)
    data = {"scopes": {"read:things": {"qualifier": "id"}}, "endpoints": endpoints}
    try:
        return Policy.from_dict(data)
    except PolicyError:
        return Policy.from_dict({"scopes": data["scopes"], "endpoints": endpoints[:1]})


def _mutated_literal(draw, literal):
    choice = draw(st.sampled_from(
        ["same", "same", "upper", "title", "encode-one", "encode-reserved", "encode-reserved"]
    ))
    reserved = [i for i, ch in enumerate(literal) if not (ch.isalnum() or ch in "-._~")]
    if choice == "encode-reserved" and reserved:
        index = reserved[0]
        return literal[:index] + f"%{ord(literal[index]):02X}" + literal[index + 1 :]
    if choice == "upper":
        return literal.upper()
    if choice == "title":
        return literal.title()
    if choice == "encode-one":
        index = draw(st.integers(0, len(literal) - 1))
        return literal[:index] + f"%{ord(literal[index]):02X}" + literal[index + 1 :]
    return literal


@st.composite
def requests(draw, policy):
    """A target shaped after one of the policy's routes, with adversarial spellings."""
    route = draw(st.sampled_from(policy.routes))
    parts = []
    for seg in route.path.segments:
        if seg is None:
            siblings = [s for r in policy.routes for s in r.path.segments if s is not None]
            spelled = [s.upper() for s in siblings] + [s.title() for s in siblings]
            spelled += [urllib.parse.quote(s, safe="") for s in siblings]
            parts.append(draw(st.sampled_from(VALUES + LITERALS + siblings + spelled)))
        else:
            parts.append(_mutated_literal(draw, seg))
    target = "/" + "/".join(parts)
    target += draw(st.sampled_from(["", "", "/", "?a=b", "?next=/admin", "#x"]))
    if draw(st.booleans()) and len(parts) > 1:
        target = target.replace("/", "//", 1)
    return route.method, target


def _unquote(text):
    return urllib.parse.unquote(text, errors="strict")


def emulate(policy, method, target, mode):
    """(template, bound ids) the emulated router runs, or None (it answers 404)."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    try:
        if mode == "raw":
            segments = path[1:].split("/")
        else:
            segments = _unquote(path)[1:].split("/")
    except UnicodeDecodeError:
        return None
    fold = (lambda s: s.lower()) if mode == "case-insensitive" else (lambda s: s)
    candidates = []
    for route in policy.routes:
        shape = route.path.segments
        if route.method != method or len(shape) != len(segments):
            continue
        if all((lit is None and got != "") or (lit is not None and fold(lit) == fold(got))
               for lit, got in zip(shape, segments)):
            candidates.append((tuple(lit is None for lit in shape), route))
    if not candidates:
        return None
    _, route = min(candidates, key=lambda c: c[0])
    bound = {}
    for name, index in route.path.params:
        value = segments[index]
        bound[name] = _unquote(value) if mode == "raw" else value
    return route.path.text, bound


@st.composite
def cases(draw):
    policy = draw(policies())
    method, target = draw(requests(policy))
    raw_values = target.split("?", 1)[0].split("#", 1)[0].split("/")
    try:
        ids = {_unquote(value) for value in raw_values if value}
    except UnicodeDecodeError:
        ids = set()
    token = draw(st.sampled_from(["bare", "qualified"]))
    scopes = ["read:things"] if token == "bare" else [f"read:things:{i}" for i in ids if " " not in i]
    scopes += [f"user_id:{i}" for i in ids if i and " " not in i]
    text = " ".join(s for s in scopes if all(c not in s for c in '"\\') and s.isascii())
    return policy, method, target, text


def _siblings() -> Policy:
    return Policy.from_dict({
        "scopes": {"read:things": {"qualifier": "id"}},
        "endpoints": [
            {"methods": ["GET"], "path": "/items/{p1}", "any_of": ["read:things"]},
            {"methods": ["GET"], "path": "/items/admin", "any_of": ["read:things"]},
            {"methods": ["GET"], "path": "/users/@me", "any_of": ["read:things"]},
            {"methods": ["GET"], "path": "/users/{p1}/x", "any_of": ["read:things"]},
            {"methods": ["GET"], "path": "/users/{p1}", "any_of": ["read:things"]},
        ],
    })


@settings(max_examples=max(settings().max_examples, 300))
@example(case=(_siblings(), "GET", "/items/ADMIN", "read:things"))
@example(case=(_siblings(), "GET", "/items/%61dmin", "read:things"))
@example(case=(_siblings(), "GET", "/users/%40me", "read:things"))
@example(case=(_siblings(), "GET", "/users/@ME", "read:things"))
@example(case=(_siblings(), "GET", "/users/@ME/x", "read:things"))
@given(cases())
def test_an_allow_holds_whatever_the_upstream_router_reads(case):
    """Allowed ⇒ the raw-matching, the decoding and the case-insensitive router all run the
    allowed route, with the ids scopes decided on."""
    policy, method, target, token = case
    decision = policy.authorize(token, method, target)
    if not decision.allowed:
        return
    ours = (decision.route.path.text, decision.path_params)
    for mode in ("raw", "decoded", "case-insensitive"):
        assert emulate(policy, method, target, mode) == ours, (mode, target, decision.reason)


def test_the_property_sees_allows_and_each_denial_it_relies_on():
    """The emulation is not vacuous: these requests are exactly the disagreements."""
    policy = _siblings()
    disagreeing = {
        "/items/ADMIN": "case-insensitive",
        "/items/%61dmin": "raw",
        "/users/%40me": "raw",
        "/users/@ME": "case-insensitive",
    }
    for target, mode in disagreeing.items():
        routed = emulate(policy, "GET", target, mode)
        ours = policy.router.match("GET", tuple(_unquote(target)[1:].split("/")))
        assert routed is not None and routed[0] != ours.path.text, target
        assert not policy.authorize("read:things", "GET", target).allowed, target
    assert policy.authorize("read:things", "GET", "/items/box").allowed
    assert policy.authorize("read:things", "GET", "/users/a%40b").allowed
    # Down the literal's branch nothing matches `/x`, so every router runs /users/{p1}/x.
    assert policy.authorize("read:things", "GET", "/users/@ME/x").allowed
