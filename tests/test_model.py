"""The scope model and ScopeSet algebra, resolved against the Courier catalogue."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scopes
from scopes import PermissionScope, PrincipalScope, ScopeSet, UnknownScope
from tests import strategies

parse = scopes.parse


def test_public_names_are_pinned():
    assert sorted(scopes.__all__) == [
        "Decision",
        "Diagnostic",
        "PermissionScope",
        "Policy",
        "PolicyError",
        "PrincipalScope",
        "Scope",
        "ScopeSet",
        "ScopeSyntaxError",
        "TokenError",
        "UnknownScope",
        "lint",
        "parse",
        "parse_duration",
        "verify_token",
    ]


RESOLVED = [
    pytest.param("user_id:pigeon", PrincipalScope("user_id", "pigeon"), id="principal"),
    pytest.param("user_id:a:b", PrincipalScope("user_id", "a:b"), id="principal-id-keeps-colons"),
    pytest.param("read:brands", PermissionScope("read:brands"), id="bare"),
    pytest.param("read:brands:my_brand", PermissionScope("read:brands", "my_brand"), id="qualified"),
    pytest.param("read:brands:a:b", PermissionScope("read:brands", "a:b"), id="qualifier-keeps-colons"),
    pytest.param("read:brands:*", PermissionScope("read:brands", "*"), id="star-is-literal"),
    pytest.param("inbox:read:messages", PermissionScope("inbox:read:messages"), id="three-segments"),
    pytest.param("read:messages:abc", UnknownScope("read:messages:abc"), id="qualifier-not-taken"),
    pytest.param("read:brand", UnknownScope("read:brand"), id="typo"),
    pytest.param("user_id", UnknownScope("user_id"), id="principal-without-id"),
    pytest.param("READ:BRANDS", UnknownScope("READ:BRANDS"), id="case-sensitive"),
]


@pytest.mark.parametrize(("text", "node"), RESOLVED)
def test_tokens_resolve_against_the_catalogue(text, node):
    (only,) = parse(text).scopes
    assert only == node
    assert type(only) is type(node)
    assert str(only) == text


def test_nodes_are_frozen_slotted_and_keep_spans_out_of_identity():
    a, b = parse("read:brands  read:brands").scopes + parse("  read:brands").scopes
    assert a == b and hash(a) == hash(b)
    assert a.span == (0, 11) and b.span == (2, 13)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "write:brands"
    assert not hasattr(a, "__dict__")


def test_canonical_string_orders_and_deduplicates():
    text = "  read:messages user_id:pigeon   read:brands:b read:brands zz:top user_id:bluebird read:messages "
    assert str(parse(text)) == (
        "user_id:bluebird user_id:pigeon read:brands read:brands:b read:messages zz:top"
    )


def test_user_ids_and_grants():
    s = parse("user_id:pigeon user_id:bluebird read:messages read:brands:my_brand nope")
    assert s.user_ids == {"pigeon", "bluebird"}
    assert s.grants == {"read:messages", "read:brands:my_brand"}


COVERS = [
    pytest.param("read:brands", "read:brands:x", True, id="bare-covers-qualified"),
    pytest.param("read:brands:x", "read:brands", False, id="qualified-does-not-cover-bare"),
    pytest.param("read:brands:x", "read:brands:y", False, id="other-id"),
    pytest.param("write:brands", "read:brands", False, id="write-does-not-imply-read"),
    pytest.param("user_id:a read:messages", "read:messages", True, id="design-example"),
    pytest.param("user_id:a", "user_id:b", False, id="principal-only-itself"),
    pytest.param("user_id:a", "user_id:a", True, id="principal-itself"),
    pytest.param("zz:top", "zz:top", True, id="unknown-itself"),
    pytest.param("read:brands", "read:brands:x:y", True, id="bare-covers-colon-qualifier"),
    pytest.param("read:messages", "read:messages:x", False, id="unknown-not-covered-by-name"),
    pytest.param("read:brands", "", True, id="covers-empty"),
    pytest.param("", "", True, id="empty-covers-empty"),
    pytest.param("", "read:brands", False, id="empty-covers-nothing"),
]


@pytest.mark.parametrize(("have", "want", "expected"), COVERS)
def test_covers(have, want, expected):
    assert parse(have).covers(parse(want)) is expected


def test_set_operations():
    a = parse("read:brands user_id:a")
    b = parse("user_id:a write:brands")
    assert a | b == parse("read:brands write:brands user_id:a")
    assert a & b == parse("user_id:a")
    assert a - b == parse("read:brands")
    assert (a == "read:brands user_id:a") is False


def test_normalized_drops_covered_members():
    s = parse("read:brands read:brands:x write:brands:y user_id:a user_id:b")
    assert str(s.normalized()) == "user_id:a user_id:b read:brands write:brands:y"
    assert s.redundant() == ((PermissionScope("read:brands", "x"), PermissionScope("read:brands")),)


def test_equality_ignores_order_spacing_duplicates():
    assert parse("a b  a") == parse(" b a ")
    assert hash(parse("a b  a")) == hash(parse(" b a "))
    assert parse("a") != parse("b")


def test_cached_parse_returns_the_same_object():
    text = "user_id:pigeon read:brands:my_brand"
    assert parse(text) is parse(text)


def test_cache_is_bounded_by_length():
    from scopes.catalogue import CACHEABLE_LENGTH

    long = " ".join(["read:brands"] * (CACHEABLE_LENGTH // 11 + 1))
    assert len(long) > CACHEABLE_LENGTH
    assert parse(long) is not parse(long)
    assert parse(long) == parse("read:brands")


@given(strategies.scope_string)
def test_round_trip(text):
    """parse(str(parse(s))) == parse(s) for every valid s."""
    once = parse(text)
    assert parse(str(once)) == once
    assert str(parse(str(once))) == str(once)


sets = strategies.scope_string.map(parse)


@given(sets)
def test_covers_is_reflexive(a):
    """Every set covers itself."""
    assert a.covers(a)


@given(sets, sets, sets)
def test_covers_is_transitive(a, b, c):
    """a ⊒ b and b ⊒ c imply a ⊒ c."""
    if a.covers(b) and b.covers(c):
        assert a.covers(c)


@given(sets, sets)
def test_union_covers_both(a, b):
    """a | b covers a and covers b."""
    assert (a | b).covers(a) and (a | b).covers(b)


@given(sets)
def test_normalized_means_the_same(a):
    """normalized() covers the original and the original covers it; it is idempotent."""
    n = a.normalized()
    assert n.covers(a) and a.covers(n)
    assert n.normalized() == n
    assert len(n) <= len(a)


@given(sets, st.data())
def test_covers_agrees_with_membership_of_each_scope(a, data):
    """covers(b) holds exactly when every scope of b is covered one by one."""
    b = data.draw(sets)
    assert a.covers(b) == all(a.covers(ScopeSet([s])) for s in b)
