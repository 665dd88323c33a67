"""What a token can do (scopes.analysis.capabilities, Policy.capabilities), held to `authorize`."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scopes import Policy, ScopeSyntaxError
from scopes.analysis.capabilities import capability_report
from tests import strategies

COURIER = Policy.courier()

CAPABILITIES = [
    pytest.param("read:brands:abc", ["GET /brands/abc"], id="an-id-the-token-fixes"),
    pytest.param("read:brands", ["GET /brands", "GET /brands/{id}"], id="any-value-passes"),
    pytest.param("read:brands read:brands:abc", ["GET /brands", "GET /brands/{id}"], id="covered-id-left-out"),
    pytest.param("user_id:alice read:preferences",
                 ["GET /users/alice/preferences", "GET /users/alice/preferences/{topic_id}"], id="user-bound"),
    pytest.param("user_id:a user_id:b read:user-tokens",
                 ["GET /users/a/tokens/{token}", "GET /users/b/tokens/{token}"], id="each-user"),
    pytest.param("user_id:u read:messages", ["POST /client/q query messages"], id="graphql-field"),
    pytest.param("read:messages", [], id="needs-a-user"),
    pytest.param("", [], id="empty-token"),
]


@pytest.mark.parametrize(("scope", "expected"), CAPABILITIES)
def test_courier_capabilities(scope, expected):
    assert [str(c) for c in COURIER.capabilities(scope)] == expected


def test_a_capability_says_what_grants_it():
    [capability] = COURIER.capabilities("user_id:alice user_id:bob read:user-tokens")[:1]
    assert (capability.rule, capability.granted_by, capability.access) == (
        "GET /users/{user_id}/tokens/{token}", ("read:user-tokens", "user_id:alice"), "scopes"
    )
    assert capability.params == (("user_id", "alice"), ("token", None))


IDLE = [
    pytest.param("write:brand", "unknown scope 'write:brand'; did you mean 'write:brands'?", id="unknown"),
    pytest.param("read:brands read:brands:abc", "covered by read:brands", id="covered"),
    pytest.param("read:messages", "grants only beside a user_id:<id>, and the token has none", id="needs-user"),
    pytest.param("user_id:x", "no route the token can call needs a user_id:<id> (alone it grants nothing)",
                 id="principal-alone"),
    pytest.param("read:brands:a/b", "no request path can carry the id 'a/b'", id="id-no-path-carries"),
    pytest.param("write:preferences", "every route that accepts it also needs a scope or an id the token "
                 "lacks", id="needs-more"),
]


@pytest.mark.parametrize(("scope", "why"), IDLE)
def test_scopes_that_grant_nothing_say_why(scope, why):
    report = capability_report(COURIER, scope)
    assert report.idle[-1].why == why
    assert report.idle[-1].scope == scope.split()[-1]


def test_public_and_authenticated_routes_are_capabilities_of_any_token():
    policy = Policy.from_dict({
        "scopes": {"read:x": {}},
        "endpoints": [
            {"methods": ["GET"], "path": "/health", "public": True},
            {"methods": ["GET"], "path": "/me/{id}", "authenticated": True},
            {"methods": ["GET"], "path": "/x", "any_of": ["read:x"]},
        ],
    })
    assert [(str(c), c.access) for c in policy.capabilities("")] == [
        ("GET /health", "public"), ("GET /me/{id}", "authenticated")
    ]
    report = capability_report(policy, "read:x nope")
    assert [str(c) for c in report.capabilities] == ["GET /health", "GET /me/{id}", "GET /x"]
    assert [(i.scope, i.why) for i in report.idle] == [("nope", "unknown scope 'nope'")]


def test_an_id_a_case_insensitive_router_reads_as_a_literal_is_not_a_capability():
    policy = Policy.from_dict({
        "scopes": {"read:items": {"qualifier": "id"}},
        "endpoints": [
            {"methods": ["GET"], "path": "/items/{id}", "any_of": ["read:items:{id}"]},
            {"methods": ["GET"], "path": "/items/admin", "any_of": ["read:items"]},
        ],
    })
    report = capability_report(policy, "read:items:ADMIN read:items:a%25 read:items:b#1")
    assert [str(c) for c in report.capabilities] == ["GET /items/b%231"]
    assert policy.authorize("read:items:b#1", "GET", "/items/b%231").allowed
    assert [i.scope for i in report.idle] == ["read:items:ADMIN", "read:items:a%25"]


def test_a_malformed_token_is_a_syntax_error():
    with pytest.raises(ScopeSyntaxError):
        COURIER.capabilities("read::brands")


def test_a_scope_set_of_another_catalogue_is_read_again():
    other = Policy.from_dict({"scopes": {"read:brands": {}}, "endpoints": []})
    assert [str(c) for c in COURIER.capabilities(other.parse("read:brands"))] == ["GET /brands", "GET /brands/{id}"]


# -- the law: capabilities agree with authorize --------------------------------------------------


def _requests(route):
    """(target, body, bound values, field) for every instantiation of a route from the value
    pool (and, for GraphQL, every field of every operation)."""
    for target, values in strategies.instantiations(route):
        if route.graphql is None:
            yield target, None, values, None
            continue
        for operation, fields in route.graphql.operations.items():
            for name in fields:
                body = json.dumps({"query": f"{operation} {{ {name} }}"})
                yield target, body, values, (operation, name)


@given(strategies.analysis_policy_data(), st.data())
def test_capabilities_agree_with_authorize(data, draw):
    """For random policies and tokens, on every route and every instantiation drawn from the
    value pool (plus one random value) that routes to that route: `authorize` allows exactly
    the instantiations some listed capability matches (a fixed id equal, or `{param}`)."""
    policy = strategies.analysis_policy(data)
    assume(policy is not None)
    token = draw.draw(strategies.analysis_tokens(policy))
    extra = draw.draw(strategies.path_segments)
    listed = policy.capabilities(token)
    for route in policy.routes:
        mine = [c for c in listed if c.rule == route.rule]
        for target, body, values, field in _requests(route):
            for candidate in (target, target.replace("v", extra, 1) if "v" in target else target):
                routed = policy.router.resolve(route.method, candidate)
                if routed.route is not route:
                    continue  # another route's request, or one the path rules refuse
                bound = {index: routed.segments[index] for _, index in route.path.params}
                expected = any(
                    (c.operation, c.field) == (field or (None, None))
                    and all(v is None or v == bound[i] for (_, i), (_, v) in zip(route.path.params, c.params))
                    for c in mine
                )
                decision = policy.authorize(token, route.method, candidate, body=body)
                assert decision.allowed is expected, (token, candidate, field, [str(c) for c in mine],
                                                      decision.reason)


@given(strategies.analysis_policy_data(), st.data())
def test_every_listed_capability_is_allowed_as_shown(data, draw):
    """Each capability with ids filled (and a plain value for each `{param}`) is allowed; a
    scope listed as granting nothing is part of no capability."""
    policy = strategies.analysis_policy(data)
    assume(policy is not None)
    token = draw.draw(strategies.analysis_tokens(policy))
    report = capability_report(policy, token)
    for capability in report.capabilities:
        body = None if capability.field is None else json.dumps(
            {"query": f"{capability.operation} {{ {capability.field} }}"}
        )
        target = capability.path
        for name, value in capability.params:
            if value is None:
                target = target.replace(f"{{{name}}}", "x")
        routed = policy.router.resolve(capability.method, target)
        if routed.route is not None and routed.route.rule == capability.rule:
            assert policy.authorize(token, capability.method, target, body=body).allowed, target
    granting = {word for c in report.capabilities for word in c.granted_by}
    assert not granting & {idle.scope for idle in report.idle}
    assert {str(s) for s in report.token} == granting & {str(s) for s in report.token} | {
        idle.scope for idle in report.idle
    }
