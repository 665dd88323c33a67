"""Least privilege (scopes.analysis.minimal, Policy.minimal_scopes): the smallest scope set the
policy allows for every call, held to `authorize` and to a brute-force search."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scopes import Policy
from scopes.analysis.calls import Call, CallSyntaxError
from scopes.analysis.minimal import ImpossibleCalls, least_privilege
from tests import strategies

COURIER = Policy.courier()

MINIMAL = [
    pytest.param(["GET /brands/acme"], "read:brands:acme", id="narrowest"),
    pytest.param(["GET /brands/a", "GET /brands/b"], "read:brands", id="fewest-before-narrowest"),
    pytest.param(["GET /brands/a", "GET /brands"], "read:brands", id="bare-needed-anyway"),
    pytest.param(["GET /brands/a", "PUT /brands/a"], "read:brands:a write:brands:a", id="write-is-not-read"),
    pytest.param(["GET /users/pigeon/preferences", "GET /users/pigeon/preferences/t1"],
                 "user_id:pigeon read:preferences", id="one-user-two-routes"),
    pytest.param(["GET /users/a/preferences", "GET /users/b/preferences"],
                 "user_id:a user_id:b read:preferences", id="principal-ids-included"),
    pytest.param(["POST /client/q messages", "GET /users/pigeon/tokens/t"],
                 "user_id:pigeon read:messages read:user-tokens", id="a-named-user-serves-needs-principal"),
    pytest.param(["POST /client/q __typename"], "", id="typename-needs-nothing"),
    pytest.param(["GET /brands/my%20brand"], "read:brands", id="an-id-no-scope-carries-falls-back-to-bare"),
    pytest.param(["GET /brands/acme", "GET /brands/acme?page=2"], "read:brands:acme", id="the-query-is-ignored"),
]


@pytest.mark.parametrize(("calls", "expected"), MINIMAL)
def test_minimal_scopes_of_courier_calls(calls, expected):
    scopes = COURIER.minimal_scopes(calls)
    assert str(scopes) == expected
    assert scopes.catalogue is COURIER.catalogue
    for call in calls:
        parsed = Call.parse(call)
        assert COURIER.authorize(scopes, parsed.method, parsed.path, body=parsed.body).allowed


def test_a_user_for_scopes_that_need_one():
    assert str(COURIER.minimal_scopes(["POST /client/q messages"], user="pigeon")) == (
        "user_id:pigeon read:messages"
    )
    # a user the calls name already is used instead of adding another
    calls = ["POST /client/q messages", "GET /users/bluebird/preferences"]
    assert str(COURIER.minimal_scopes(calls, user="pigeon")) == "user_id:bluebird read:messages read:preferences"


IMPOSSIBLE = [
    pytest.param("GET /nope", "no rule in the policy matches this path", id="no-route"),
    pytest.param("PATCH /brands", "the policy allows only DELETE, GET, PUT on this path", id="method"),
    pytest.param("GET /brands/%2F", "path rejected (encoded-slash): segment 2 '%2F' encodes '/' as '%2F'; a "
                 "path separator must not be encoded", id="bad-path"),
    pytest.param("POST /client/q", "POST /client/q is a GraphQL route: name the root fields after the path "
                 "('POST /client/q FIELD...')", id="graphql-without-fields"),
    pytest.param("GET /brands messages", "GET /brands is not a GraphQL route; name no root fields",
                 id="fields-on-rest"),
    pytest.param("POST /client/q brands", "the policy lists no query field 'brands'", id="unknown-field"),
    pytest.param("POST /client/q mutation messages", "the policy lists no mutation field, so no mutation is "
                 "allowed (not even one that selects only __typename)", id="unknown-operation"),
    pytest.param("GET /users/my%20id/preferences", "no scope can carry the id 'my id' that it needs as "
                 "user_id:<id> (a scope token has no spaces, quotes, backslashes or non-ASCII characters)",
                 id="uncarriable-user"),
    pytest.param("POST /client/q messages", "read:messages grants only beside a user_id:<id>, and no call "
                 "names a user: say which user the token acts for (--user ID)", id="needs-some-user"),
]


@pytest.mark.parametrize(("call", "reason"), IMPOSSIBLE)
def test_a_call_no_scope_set_can_allow_is_named_with_why(call, reason):
    found = least_privilege(COURIER, ["GET /brands/a", call])
    assert found.scopes is None
    assert [(item.call, item.reason) for item in found.impossible] == [(str(Call.parse(call)), reason)]
    with pytest.raises(ImpossibleCalls) as caught:
        COURIER.minimal_scopes([call])
    assert caught.value.impossible[0].reason == reason


CALL_TEXT = [
    pytest.param("GET /brands", Call("GET", "/brands"), id="rest"),
    pytest.param("  POST  /client/q  messages ", Call("POST", "/client/q", "query", ("messages",)), id="spaces"),
    pytest.param("POST /q mutation a b a", Call("POST", "/q", "mutation", ("a", "b")), id="operation-type"),
    pytest.param("POST /q query", Call("POST", "/q", "query", ("query",)), id="a-field-named-query"),
    pytest.param("POST /q query mutation x", Call("POST", "/q", "query", ("mutation", "x")),
                 id="type-then-a-field-named-like-one"),
]


@pytest.mark.parametrize(("text", "call"), CALL_TEXT)
def test_calls_read_and_write_back(text, call):
    assert Call.parse(text) == call
    assert Call.parse(str(call)) == call


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty"),
    pytest.param("GET", id="no-path"),
    pytest.param("POST /client/q messages{id}", id="not-a-field-name"),
])
def test_calls_that_do_not_read_are_errors(text):
    with pytest.raises(CallSyntaxError):
        Call.parse(text)


def test_a_user_no_scope_token_can_carry_is_refused():
    with pytest.raises(ValueError, match="is not one scope token"):
        COURIER.minimal_scopes(["POST /client/q messages"], user="a b")


def test_the_bound_says_when_the_search_stopped():
    policy = Policy.from_dict({
        "scopes": {f"s{i}": {} for i in range(12)},
        "endpoints": [
            {"methods": ["GET"], "path": f"/r{i}", "any_of": [f"s{i}", f"s{(i + 1) % 12}", f"s{(i + 5) % 12}"]}
            for i in range(12)
        ],
    })
    calls = [f"GET /r{i}" for i in range(12)]
    stopped = least_privilege(policy, calls, budget=2)
    assert not stopped.proven and stopped.scopes is not None
    finished = least_privilege(policy, calls)
    assert finished.proven and len(finished.scopes) <= len(stopped.scopes)
    for found in (stopped, finished):
        assert all(policy.authorize(found.scopes, "GET", call[4:]).allowed for call in calls)
        assert _irreducible(policy, found.scopes, [Call.parse(c) for c in calls])


def test_many_ids_of_one_name_cost_one_scope():
    calls = [f"GET /brands/b{i}" for i in range(5000)]
    found = least_privilege(COURIER, calls)
    assert str(found.scopes) == "read:brands" and found.proven


# -- properties -----------------------------------------------------------------------------


def _allowed(policy, scopes, call):
    return policy.authorize(scopes, call.method, call.path, body=call.body).allowed


def _irreducible(policy, scopes, calls):
    return all(
        not all(_allowed(policy, ScopeSetWithout(policy, scopes, s), call) for call in calls)
        for s in scopes
    )


def ScopeSetWithout(policy, scopes, scope):
    return policy.parse(" ".join(str(s) for s in scopes if s != scope))


def _universe(policy, calls, user):
    """Every scope that could help: each need of each alternative of each call's route, filled
    in (`read:brands:x`) and bare (`read:brands`), and the user."""
    words = set() if user is None else {f"{policy.catalogue.principal}:{user}"}
    for call in calls:
        routed = policy.router.resolve(call.method, call.path)
        if routed.route is None:
            continue
        requirements = [routed.route.alternatives]
        if routed.route.graphql is not None:
            fields = routed.route.graphql.operations[call.operation]
            requirements = [fields[name] for name in call.fields if name in fields]
        for alternatives in requirements:
            for alternative in alternatives:
                for need in alternative.needs:
                    words.add(need.filled(routed.segments))
                    if not need.principal:
                        words.add(need.name)
    usable = set()
    for word in words:
        try:
            if " " not in word and len(policy.parse(word)) == 1:
                usable.add(word)
        except ValueError:
            pass
    return sorted(usable)


def _broad(policy, scopes):
    return sum(
        1 for s in scopes
        if getattr(s, "qualifier", "") is None and policy.catalogue.specs[s.name].qualifier is not None
    )


NO_USER = "say which user the token acts for (--user ID)"


@st.composite
def problems(draw):
    policy = strategies.analysis_policy(draw(strategies.analysis_policy_data()))
    assume(policy is not None)
    calls = draw(strategies.analysis_calls(policy))
    user = draw(st.sampled_from([None, None, "u"]))
    return policy, calls, user


@given(problems())
def test_least_privilege_is_allowed_for_every_call_and_irreducible(problem):
    """For random policies and calls: the result is allowed (by `authorize`) for every call,
    and without any one of its scopes some call is denied; a call named impossible is denied
    even with every scope that could help. A call impossible only for want of a user (a
    scope that grants beside some user id, and no call names one) is not guessed a user from
    the policy's literals (`user_id:admin`): given one, it is no longer impossible for that."""
    policy, texts, user = problem
    calls = [Call.parse(text) for text in texts]
    found = least_privilege(policy, calls, user=user)
    if found.scopes is None:
        everything = policy.parse(" ".join(_universe(policy, calls, user)))
        assert found.impossible
        for item in found.impossible:
            if item.reason.endswith(NO_USER):
                assert user is None, item
                again = least_privilege(policy, calls, user="u")
                assert not any(i.call == item.call and i.reason.endswith(NO_USER)
                               for i in again.impossible), (item, again.impossible)
            else:
                call = next(c for c in calls if str(c) == item.call)
                assert not _allowed(policy, everything, call), item
        return
    assert found.proven
    assert all(_allowed(policy, found.scopes, call) for call in calls)
    assert _irreducible(policy, found.scopes, calls)


@given(problems())
def test_no_smaller_or_narrower_set_exists(problem):
    """On small instances, a brute-force search over the subsets of every scope that could
    help finds no allowed set with fewer scopes, nor one as small with fewer bare scopes that
    take a qualifier."""
    policy, texts, user = problem
    calls = [Call.parse(text) for text in texts]
    found = least_privilege(policy, calls, user=user)
    universe = _universe(policy, calls, user)
    assume(found.scopes is not None and len(universe) <= 10)
    size, broad = len(found.scopes), _broad(policy, found.scopes)
    for count in range(size + 1):
        for subset in itertools.combinations(universe, count):
            candidate = policy.parse(" ".join(subset))
            if len(candidate) != count or not all(_allowed(policy, candidate, c) for c in calls):
                continue
            assert count == size, (subset, str(found.scopes))
            assert _broad(policy, candidate) >= broad, (subset, str(found.scopes))


@given(st.lists(st.sampled_from([
    "GET /brands", "PUT /brands", "GET /brands/a", "GET /brands/b", "DELETE /brands/b",
    "GET /users/u/preferences", "PATCH /users/u/preferences/t", "GET /users/v/tokens/t",
    "POST /client/q messages", "POST /client/q __typename",
]), min_size=1, max_size=6))
def test_courier_call_sets(calls):
    """On the Courier table, with a user for `read:messages`: allowed for every call, no scope
    can be dropped, and never more scopes than one per call plus a user."""
    scopes = COURIER.minimal_scopes(calls, user="u")
    parsed = [Call.parse(c) for c in calls]
    assert all(_allowed(COURIER, scopes, call) for call in parsed)
    assert _irreducible(COURIER, scopes, parsed)
    assert len(scopes) <= 2 * len(set(calls)) + 1
