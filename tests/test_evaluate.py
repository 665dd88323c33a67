"""Policy.authorize against the bundled Courier policy: the documented table, near misses,
attacks, and the laws every decision obeys."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopes import Decision, PermissionScope, Policy, PrincipalScope, ScopeSet
from scopes.decision import CODES
from tests import strategies

COURIER = Policy.courier()
CASE_KEYS = {"scopes", "method", "path", "body", "allowed", "code", "reason", "granted", "needed"}


def _cases() -> list:
    data = tomllib.loads((Path(__file__).parent / "data" / "courier_decisions.toml").read_text())
    params = []
    for index, case in enumerate(data["case"]):
        unknown = set(case) - CASE_KEYS
        if unknown:
            raise ValueError(f"case {index}: unknown keys {sorted(unknown)}")
        name = f"{index}-{case['method']}-{case['path']}-{'allow' if case['allowed'] else 'deny'}"
        params.append(pytest.param(case, id=name))
    return params


@pytest.mark.parametrize("case", _cases())
def test_courier_decision_table(case):
    decision = COURIER.authorize(case["scopes"], case["method"], case["path"], body=case.get("body"))
    assert decision.allowed is case["allowed"], decision.reason
    assert bool(decision) is case["allowed"]
    assert decision.reason
    assert decision.code == case.get("code", "allowed" if case["allowed"] else decision.code)
    if "reason" in case:
        assert decision.reason == case["reason"]
    if "granted" in case:
        assert list(decision.granted) == case["granted"]
    if "needed" in case:
        assert list(decision.needed) == case["needed"]


def test_every_documented_route_is_in_the_table():
    """The bundled table is exactly DESIGN.md's Courier table."""
    rules = sorted((r.method, r.template, tuple(a.text for a in r.alternatives)) for r in COURIER.routes)
    user = "user_id:{user_id}"
    assert rules == sorted(
        [
            ("GET", "/brands", ("read:brands",)),
            ("PUT", "/brands", ("write:brands",)),
            ("DELETE", "/brands", ("write:brands",)),
            ("GET", "/brands/{id}", ("read:brands", "read:brands:{id}")),
            ("PUT", "/brands/{id}", ("write:brands", "write:brands:{id}")),
            ("DELETE", "/brands/{id}", ("write:brands", "write:brands:{id}")),
            *[
                (m, "/users/{user_id}/tokens/{token}", (f"write:user-tokens {user}",))
                for m in ("PUT", "PATCH", "DELETE")
            ],
            ("GET", "/users/{user_id}/tokens/{token}", (f"read:user-tokens {user}",)),
            *[
                (m, "/users/{user_id}/preferences/{topic_id}", (f"write:preferences {user}",))
                for m in ("PUT", "PATCH", "DELETE")
            ],
            ("GET", "/users/{user_id}/preferences", (f"read:preferences {user}",)),
            ("GET", "/users/{user_id}/preferences/{topic_id}", (f"read:preferences {user}",)),
            ("POST", "/client/q", ()),
        ]
    )


def test_decision_accepts_a_scope_set_and_a_string_alike():
    token = COURIER.parse("read:brands:acme")
    assert COURIER.authorize(token, "GET", "/brands/acme").allowed
    assert COURIER.authorize("read:brands:acme", "GET", "/brands/acme").allowed


def test_decision_explains_itself():
    decision = COURIER.authorize("user_id:u1 read:brands:abc", "GET", "/brands/xyz")
    assert decision.explain() == (
        "DENIED (insufficient-scope)\n"
        "  request: GET /brands/xyz\n"
        "  rule:    GET /brands/{id}\n"
        "  needs:   read:brands or read:brands:xyz\n"
        "  token:   user_id:u1 read:brands:abc\n"
        "  why:     GET /brands/xyz needs read:brands or read:brands:xyz; the token has "
        "user_id:u1 read:brands:abc\n"
        "  fix:     add read:brands:xyz"
    )
    assert decision.to_dict() == {
        "allowed": False,
        "reason": decision.reason,
        "code": "insufficient-scope",
        "rule": "GET /brands/{id}",
        "needed": ["read:brands", "read:brands:xyz"],
        "granted": [],
        "missing": "read:brands:xyz",
    }


MISSING = [
    pytest.param("", "GET", "/users/u1/preferences", "read:preferences user_id:u1", id="both"),
    pytest.param("read:preferences", "GET", "/users/u1/preferences", "user_id:u1", id="user"),
    pytest.param("user_id:u1", "GET", "/brands/b", "read:brands:b", id="narrowest"),
    pytest.param("", "POST", "/client/q", None, id="graphql-needs-any-user"),
    pytest.param("", "GET", "/nope", None, id="no-route"),
    pytest.param("", "GET", "/brands/%2F", None, id="bad-path"),
]


@pytest.mark.parametrize(("scopes", "method", "path", "missing"), MISSING)
def test_missing_is_the_smallest_scope_string_that_would_allow(scopes, method, path, missing):
    body = '{"query": "{ messages { id } }"}' if path == "/client/q" else None
    decision = COURIER.authorize(scopes, method, path, body=body)
    assert decision.missing == missing
    if missing is not None:
        assert COURIER.authorize(f"{scopes} {missing}", method, path, body=body).allowed


UNTRUSTED = [
    pytest.param(None, "GET", "/brands", "bad-scopes", id="scopes-none"),
    pytest.param(b"read:brands", "GET", "/brands", "bad-scopes", id="scopes-bytes"),
    pytest.param(["read:brands"], "GET", "/brands", "bad-scopes", id="scopes-list"),
    pytest.param("read:brands", None, "/brands", "bad-method", id="method-none"),
    pytest.param("read:brands", b"GET", "/brands", "bad-method", id="method-bytes"),
    pytest.param("read:brands", "GET", None, "bad-path", id="path-none"),
    pytest.param("read:brands", "GET", b"/brands", "bad-path", id="path-bytes"),
    pytest.param("read:brands", "GET" * 10_000, "/brands", "method-not-allowed", id="huge-method"),
    pytest.param("read:brands", "GET", "/" + "a" * 100_000, "bad-path", id="huge-path"),
    pytest.param("read:brands " * 100_000, "GET", "/brands", "allowed", id="huge-scopes"),
    pytest.param("read:brands", "GET\r\n", "/brands", "method-not-allowed", id="crlf-method"),
]


@pytest.mark.parametrize(("scopes", "method", "path", "code"), UNTRUSTED)
def test_untrusted_input_never_raises(scopes, method, path, code):
    decision = COURIER.authorize(scopes, method, path)
    assert isinstance(decision, Decision)
    assert decision.code == code
    assert decision.reason
    assert len(decision.reason) < 600  # untrusted input is clipped in messages


def test_graphql_bodies_of_every_type():
    token = "read:messages user_id:u"
    query = '{"query": "{ messages { id } }"}'
    assert COURIER.authorize(token, "POST", "/client/q", body=query).allowed
    assert COURIER.authorize(token, "POST", "/client/q", body=query.encode()).allowed
    assert COURIER.authorize(token, "POST", "/client/q", body={"query": "{ messages { id } }"}).allowed
    for bad in (b"\xff", "[]", 42, "null", '{"query": 1}', "x" * 1_000_000):
        decision = COURIER.authorize(token, "POST", "/client/q", body=bad)
        assert not decision.allowed and decision.code == "bad-graphql", decision.reason


# -- properties -----------------------------------------------------------------------------

tokens = st.lists(strategies.scope_token, max_size=6).map(" ".join)
bodies = st.one_of(
    st.none(),
    st.sampled_from(['{"query": "{ messages { id } }"}', '{"query": "mutation { x }"}', "{}"]),
    st.text(max_size=40),
)


@given(st.one_of(tokens, strategies.scopeish_text), strategies.methods, strategies.paths, bodies)
def test_authorize_never_raises(scopes, method, path, body):
    """Any token, method, path and body gives a Decision with a reason; never an exception."""
    decision = COURIER.authorize(scopes, method, path, body=body)
    assert decision.reason and decision.code != "internal-error", decision.reason
    assert decision.allowed == (decision.code == "allowed")


@given(tokens, tokens, strategies.methods, strategies.paths, bodies)
def test_adding_scopes_never_turns_allow_into_deny(scopes, extra, method, path, body):
    """Monotonic: more scopes never take access away (extra scopes never block)."""
    if COURIER.authorize(scopes, method, path, body=body).allowed:
        assert COURIER.authorize(f"{scopes} {extra}", method, path, body=body).allowed


@st.composite
def allowed_requests(draw):
    """A REST route of the Courier table, its parameters filled, and a token with one of its
    alternatives (placeholders filled) plus random extra scopes."""
    route = draw(st.sampled_from([r for r in COURIER.routes if r.graphql is None]))
    segments = [None if seg.startswith("{") else seg for seg in route.template[1:].split("/")]
    for index, seg in enumerate(segments):
        if seg is None:
            segments[index] = draw(strategies.path_segments)
    alternative = draw(st.sampled_from(route.alternatives))
    extra = draw(tokens)
    token = alternative.render(tuple(segments)) + " " + extra
    return token, route.method, "/" + "/".join(segments)


@given(allowed_requests())
def test_a_filled_alternative_is_allowed(request):
    """Every alternative the policy lists, placeholders filled, grants its route."""
    decision = COURIER.authorize(*request)
    assert decision.allowed, decision.reason


@given(allowed_requests())
def test_removing_granting_scopes_turns_allow_into_deny(request):
    """Without every scope that could grant the route, an allow becomes a deny."""
    scopes, method, path = request
    decision = COURIER.authorize(scopes, method, path)
    needed = [COURIER.parse(alternative) for alternative in decision.needed]
    token = COURIER.parse(scopes)
    kept = ScopeSet(
        s for s in token if not any(ScopeSet([s]).covers(ScopeSet([n])) for alt in needed for n in alt)
    )
    assert not COURIER.authorize(kept, method, path).allowed


@given(allowed_requests(), tokens)
def test_extra_scopes_never_block(request, extra):
    """Monotonic on allowed requests: any extra scopes keep them allowed."""
    scopes, method, path = request
    assert COURIER.authorize(f"{extra} {scopes} {extra}", method, path).allowed


@given(tokens, st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]), strategies.paths)
def test_user_bound_routes_never_allow_an_absent_user(scopes, method, path):
    """A /users/{user_id}/... allow implies the path's user id is one of the token's."""
    decision = COURIER.authorize(scopes, method, path)
    if decision.allowed and decision.rule and decision.rule.split(" ", 1)[1].startswith("/users/"):
        from scopes.paths import canonical_segments

        user = canonical_segments(path)[1]
        assert user in COURIER.parse(scopes).user_ids


def test_decisions_are_read_only():
    """Token-independent denies are cached and shared, so nobody may flip one to an allow."""
    decision = COURIER.authorize("read:brands", "GET", "/nope")
    for name in ("allowed", "code", "route", "reason"):
        with pytest.raises(AttributeError):
            setattr(decision, name, True)
    assert COURIER.authorize("read:brands", "GET", "/nope") is decision


def test_route_cache_is_bounded():
    from scopes.evaluate import ROUTE_CACHE_ENTRIES

    policy = Policy.from_toml((Path(__file__).parents[1] / "scopes/policy/courier.toml").read_text())
    for index in range(ROUTE_CACHE_ENTRIES + 10):
        assert policy.authorize("read:brands", "GET", f"/brands/b{index}").allowed
    assert len(policy._routes) <= ROUTE_CACHE_ENTRIES
    assert not policy.authorize("read:brands", "GET", "/x" * 300).allowed  # long: never kept
    assert not policy.authorize("read:brands", "GET" * 300, "/brands").allowed
    assert all(len(method) + len(path) <= 512 for method, path in policy._routes)


@given(st.one_of(tokens, strategies.scopeish_text), strategies.methods, strategies.paths)
def test_cached_and_uncached_routing_agree(scopes, method, path):
    """A repeated request decides exactly as the first did, and as a fresh policy does."""
    fresh = Policy.from_toml((Path(__file__).parents[1] / "scopes/policy/courier.toml").read_text())
    first = COURIER.authorize(scopes, method, path)
    again = COURIER.authorize(scopes, method, path)
    alone = fresh.authorize(scopes, method, path)
    assert first.allowed == again.allowed == alone.allowed
    assert first.reason == again.reason == alone.reason


@given(
    strategies.methods,
    st.one_of(strategies.paths, st.text(alphabet="/%.;#?abu2Fe", max_size=20)),
)
def test_resolve_agrees_with_canonicalizing_first(method, path):
    """Routing the raw target is exactly `router.match(method, canonical_segments(path))`."""
    from scopes.paths import canonical_segments

    routed = COURIER.router.resolve(method, path)
    canonical = canonical_segments(path)
    if type(canonical) is tuple:
        assert routed.segments == canonical and routed.rejection is None
        assert routed.route is COURIER.router.match(method, canonical)
    else:
        assert routed.rejection == canonical
        assert routed.route is None and routed.segments == ()


# -- never raises, never an empty reason, whatever the arguments are ----------------------------


class Hostile(str):
    """A str whose every override raises: authorize must read its plain value or refuse it."""

    def __hash__(self):
        raise RuntimeError("hash")

    def __eq__(self, other):
        raise RuntimeError("eq")

    def __len__(self):
        raise RuntimeError("len")

    def __str__(self):
        raise RuntimeError("str")

    def split(self, *args):
        raise RuntimeError("split")

    def partition(self, *args):
        raise RuntimeError("partition")


class HostileDict(dict):
    def get(self, *args):
        raise RuntimeError("get")

    def __iter__(self):
        raise RuntimeError("iter")


anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=20),
    st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.builds(object), st.just(ScopeSet()), st.just(COURIER.parse("read:brands")),
    st.text(max_size=20).map(Hostile), st.just(HostileDict(query="{ messages { id } }")),
    st.just(float("nan")), st.just(type), st.just(b"\xff" * 3), st.just(bytearray(b"{}")),
)


@given(
    st.one_of(anything, tokens),
    st.one_of(anything, strategies.methods),
    st.one_of(anything, strategies.paths, st.just("/client/q")),
    st.one_of(anything, bodies),
)
def test_any_value_of_any_type_is_a_deny_or_allow_with_a_reason(scopes, method, path, body):
    """Whatever each argument is, authorize returns a Decision whose reason, explanation and
    dict render, and it allows only what the plain values would allow."""
    decision = COURIER.authorize(scopes, method, path, body=body)
    assert isinstance(decision, Decision)
    assert decision.reason and decision.explain() and decision.to_dict()["reason"]
    assert decision.code in CODES
    if decision.allowed:
        assert isinstance(method, str) and isinstance(path, str)


def test_hostile_str_subclasses_are_read_as_their_plain_values():
    allowed = COURIER.authorize(Hostile("read:brands"), Hostile("GET"), Hostile("/brands"))
    assert allowed.allowed, allowed.reason
    assert "Hostile" not in allowed.reason
    body = HostileDict(query="{ messages { id } }")
    assert COURIER.authorize("user_id:a read:messages", "POST", "/client/q", body=body).allowed


# -- hints that work ----------------------------------------------------------------------------


@given(st.one_of(tokens, strategies.scopeish_text), strategies.methods, strategies.paths, bodies)
def test_missing_is_a_scope_string_that_allows_the_request(scopes, method, path, body):
    """For any denied request whose `missing` is not None, `missing` is a well-formed scope
    string, and the token with it added is allowed."""
    decision = COURIER.authorize(scopes, method, path, body=body)
    missing = decision.missing
    if decision.allowed or missing is None:
        return
    assert COURIER.parse(missing)  # well-formed, and not empty
    again = COURIER.authorize(f"{scopes} {missing}", method, path, body=body)
    assert again.allowed, (missing, again.reason)


MISSING = [
    pytest.param("", "GET", "/brands/acme", "read:brands:acme", id="narrowest"),
    pytest.param("", "GET", "/brands/my%20brand", "read:brands", id="space-falls-back-to-bare"),
    pytest.param("", "GET", "/brands/%22x%22", "read:brands", id="quote-falls-back-to-bare"),
    pytest.param("", "GET", "/brands/caf%C3%A9", "read:brands", id="non-ascii-falls-back-to-bare"),
    pytest.param("user_id:pigeon", "GET", "/users/pigeon/preferences", "read:preferences",
                 id="user-present"),
    pytest.param("", "GET", "/users/pigeon/preferences", "read:preferences user_id:pigeon",
                 id="user-added"),
    pytest.param("read:preferences", "GET", "/users/my%20id/preferences", None,
                 id="an-id-no-scope-can-carry"),
    pytest.param("", "GET", "/nope", None, id="no-route"),
]


@pytest.mark.parametrize(("scopes", "method", "path", "missing"), MISSING)
def test_missing_table(scopes, method, path, missing):
    assert COURIER.authorize(scopes, method, path).missing == missing


def test_missing_for_graphql_covers_every_field_that_lacks():
    policy = Policy.from_toml(
        '[scopes."a"]\n[scopes."b"]\n[[graphql]]\npath = "/q"\n'
        '[graphql.query.x]\nany_of = ["a"]\n[graphql.query.y]\nany_of = ["b"]\n'
    )
    body = '{"query": "{ x y }"}'
    decision = policy.authorize("", "POST", "/q", body=body)
    assert decision.missing == "a b"
    assert policy.authorize(decision.missing, "POST", "/q", body=body).allowed


# -- a scope set means what its own policy says --------------------------------------------------

UID_POLICY = Policy.from_toml(
    'principal = "uid"\n[scopes."read:prefs"]\n[[endpoints]]\nmethods = ["GET"]\n'
    'path = "/u/{uid}/prefs"\nany_of = ["read:prefs"]\nprincipal_param = "uid"\n'
)
SAME_NAMES = Policy.from_toml(
    '[scopes."read:prefs"]\n[[endpoints]]\nmethods = ["GET"]\n'
    'path = "/u/{user_id}/prefs"\nany_of = ["read:prefs"]\nprincipal_param = "user_id"\n'
)


def test_user_ids_are_the_ids_of_the_sets_own_principal():
    assert UID_POLICY.parse("uid:alice user_id:bob read:prefs").user_ids == {"alice"}
    assert COURIER.parse("uid:alice user_id:bob").user_ids == {"bob"}


def test_a_set_from_another_catalogue_is_read_again_by_the_deciding_one():
    courier_set = COURIER.parse("user_id:alice read:prefs")
    assert not UID_POLICY.authorize(courier_set, "GET", "/u/alice/prefs").allowed
    uid_set = UID_POLICY.parse("uid:alice read:prefs")
    assert UID_POLICY.authorize(uid_set, "GET", "/u/alice/prefs").allowed
    assert not SAME_NAMES.authorize(uid_set, "GET", "/u/alice/prefs").allowed
    # `read:prefs` is unknown to Courier, so a set read there grants nothing there; read again
    # by a policy that declares it, it grants.
    assert courier_set.grants == frozenset()
    assert SAME_NAMES.authorize(courier_set, "GET", "/u/alice/prefs").allowed


def test_a_set_built_from_nodes_is_read_from_its_text():
    forged = ScopeSet([PrincipalScope("user_id", "alice"), PermissionScope("read:prefs")])
    assert not UID_POLICY.authorize(forged, "GET", "/u/alice/prefs").allowed
    assert SAME_NAMES.authorize(forged, "GET", "/u/alice/prefs").allowed


def test_case_variants_of_routes_are_never_allowed():
    from tests.attack_paths import CASE_VARIANTS

    everything = ("user_id:pigeon read:brands write:brands read:preferences write:preferences "
                  "read:user-tokens write:user-tokens read:messages")
    for target in CASE_VARIANTS:
        for method in ("GET", "PUT", "PATCH", "DELETE", "POST"):
            decision = COURIER.authorize(everything, method, target, body='{"query": "{ messages }"}')
            assert not decision.allowed and decision.code == "no-route", (method, target)
