"""scopes.policy.compile: templates, the one judge of a requirement, and route precedence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopes.policy.compile import Alternative, CompileError, Need, NeedKind, PathTemplate, Route, Router

TEMPLATES = [
    pytest.param("/", ("",), (), id="root"),
    pytest.param("/brands", ("brands",), (), id="literal"),
    pytest.param("/brands/", ("brands", ""), (), id="trailing-slash-kept"),
    pytest.param("/users/{user_id}/tokens/{token}", ("users", None, "tokens", None),
                 (("user_id", 1), ("token", 3)), id="parameters"),
]


@pytest.mark.parametrize(("text", "segments", "params"), TEMPLATES)
def test_templates_parse_once_into_segments_and_parameters(text, segments, params):
    template = PathTemplate.parse(text)
    assert (template.segments, template.params) == (segments, params)
    assert template.literal == (not params)


BAD_TEMPLATES = [
    pytest.param("brands", "path 'brands' must start with '/'", id="relative"),
    pytest.param("/a//b", "path '/a//b' has an empty segment ('//')", id="empty-segment"),
    pytest.param("/a/{id}/{id}", "path parameter 'id' appears twice in '/a/{id}/{id}'", id="twice"),
    pytest.param("/a/x{id}", "segment 'x{id}' of '/a/x{id}' mixes a parameter with text", id="mixed"),
    pytest.param("/a/{1x}", "path parameter '{1x}' needs an identifier name", id="bad-name"),
    pytest.param("/a/%41", "segment '%41' of '/a/%41' is not a canonical path segment", id="escape"),
    pytest.param("/a/..", "segment '..' of '/a/..' is not a canonical path segment", id="dot"),
]


@pytest.mark.parametrize(("text", "message"), BAD_TEMPLATES)
def test_bad_templates_say_what_is_wrong(text, message):
    with pytest.raises(CompileError) as caught:
        PathTemplate.parse(text)
    assert caught.value.message == message and caught.value.fix


# -- the one judge -------------------------------------------------------------------------------

names = st.sampled_from(["read:a", "write:a", "x", "it's", 'q"uote', "back\\slash"])
values = st.sampled_from(["v1", "v2", "a:b", "it's", "sp ace"])
SEGMENTS = 3


@st.composite
def needs(draw):
    kind = draw(st.sampled_from(list(NeedKind)))
    if kind == NeedKind.PERMISSION:
        return Need(kind, draw(names), draw(st.none() | values))
    if kind == NeedKind.PERMISSION_PARAM:
        return Need(kind, draw(names), None, draw(st.integers(0, SEGMENTS - 1)), "p")
    if kind == NeedKind.PRINCIPAL:
        return Need(kind, "user_id", draw(values))
    return Need(kind, "user_id", None, draw(st.integers(0, SEGMENTS - 1)), "u")


def reference_met(alternative, grants, user_ids, segments):
    """DESIGN.md, read need by need: a bare scope covers its qualifiers; a principal need is
    one of the token's user ids; `needs_principal` asks for some user id."""
    if alternative.needs_principal and not user_ids:
        return False
    for need in alternative.needs:
        if need.kind == NeedKind.PERMISSION:
            qualified = need.name if need.qualifier is None else f"{need.name}:{need.qualifier}"
            ok = need.name in grants or qualified in grants
        elif need.kind == NeedKind.PERMISSION_PARAM:
            ok = need.name in grants or f"{need.name}:{segments[need.param]}" in grants
        elif need.kind == NeedKind.PRINCIPAL:
            ok = need.qualifier in user_ids
        else:
            ok = segments[need.param] in user_ids
        if not ok:
            return False
    return True


grant_sets = st.frozensets(st.one_of(names, st.tuples(names, values).map(":".join)), max_size=6)


@given(st.lists(needs(), max_size=4), st.booleans(), grant_sets,
       st.frozensets(values, max_size=3), st.lists(values, min_size=SEGMENTS, max_size=SEGMENTS))
def test_the_compiled_judge_reads_each_need_as_design_says(found, principal, grants, users, segments):
    """Alternative.met, compiled from the needs, answers exactly as the needs read one by one;
    `lacking` names exactly the needs a one-need alternative would not meet."""
    alternative = Alternative(tuple(found), principal)
    segments = tuple(segments)
    assert alternative.met(grants, users, segments) is reference_met(alternative, grants, users, segments)
    lacking = alternative.lacking(grants, users, segments)
    assert lacking == tuple(n for n in found if not reference_met(Alternative((n,), False), grants, users, segments))


def test_an_alternative_with_no_needs_is_met_by_any_token():
    assert Alternative((), False).met(frozenset(), frozenset(), ())
    assert not Alternative((), True).met(frozenset(), frozenset(), ())


# -- routes that cannot be told apart ------------------------------------------------------------


def route(method, path, origin):
    return Route(method, PathTemplate.parse(path), (), origin=origin)


def test_two_routes_of_one_shape_are_refused_naming_both():
    with pytest.raises(CompileError) as caught:
        Router([route("GET", "/a/{id}", "endpoints[0]"), route("GET", "/a/{name}", "endpoints[1]")])
    assert caught.value.origin == "endpoints[1]"
    assert "also by endpoints[0]" in caught.value.message


def test_literals_that_differ_only_in_case_are_refused():
    with pytest.raises(CompileError) as caught:
        Router([route("GET", "/items/admin", "endpoints[0]"), route("PUT", "/items/Admin", "endpoints[1]")])
    assert "differ only in case" in caught.value.message


def test_shadowed_routes_come_from_the_router_itself():
    router = Router([route("GET", "/a/{id}", "endpoints[0]"), route("GET", "/a/export", "endpoints[1]")])
    [(loser, winner, example)] = list(router.shadowed())
    assert (loser.origin, winner.origin, example) == ("endpoints[0]", "endpoints[1]", "/a/export")
