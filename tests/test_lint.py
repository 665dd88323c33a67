"""Lint rules on scope strings: one test per rule, exact messages and spans, fixes and their laws."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scopes
from scopes import Diagnostic, Policy, ScopeSyntaxError
from scopes.lint import CODES, fix, lint
from scopes.lint.rules import rules_for
from scopes.syntax import scope_tokens
from tests import strategies

COURIER = Policy.courier()


def codes(text: str, policy: Policy | None = None) -> list[str]:
    return [d.code for d in lint(text, policy)]


# One row per rule: the code, a string it fires on, and a near miss it stays silent on.
RULES = [
    pytest.param("S100", "read::brands", "read:brands", id="S100-syntax"),
    pytest.param("S101", "", "read:brands", id="S101-empty"),
    pytest.param("S101", "   ", "read:brands", id="S101-blank"),
    pytest.param("S102", "read:brand", "read:brands", id="S102-unknown"),
    pytest.param("S103", "user_id:x read:messages:abc", "user_id:x read:messages", id="S103-qualifier-taken-by-none"),
    pytest.param("S104", "user_id read:brands", "user_id:x read:brands", id="S104-principal-without-id"),
    pytest.param("S105", "read:messages", "user_id:pigeon read:messages", id="S105-needs-user-id"),
    pytest.param("S105", "read:user-tokens", "read:user-tokens user_id:a", id="S105-read-user-tokens"),
    pytest.param("S105", "write:user-tokens", "write:user-tokens user_id:a", id="S105-write-user-tokens"),
    pytest.param("S106", "read:brands,write:brands", "read:brands write:brands", id="S106-commas"),
    pytest.param("S106", "read:brands, write:brands", "read:brands write:brands", id="S106-comma-space"),
    pytest.param("S106", '["read:brands", "write:brands"]', "read:brands write:brands", id="S106-json-array"),
    pytest.param("S106", "[read:brands write:brands]", "read:brands write:brands", id="S106-brackets"),
    pytest.param("S200", "read:brands read:brands", "read:brands write:brands", id="S200-duplicate"),
    pytest.param("S201", "read:brands read:brands:x", "read:brands write:brands:x", id="S201-redundant"),
    pytest.param("S202", "read:brands  write:brands", "read:brands write:brands", id="S202-double-space"),
    pytest.param("S202", " read:brands", "read:brands", id="S202-leading"),
    pytest.param("S202", "read:brands ", "read:brands", id="S202-trailing"),
    pytest.param("S203", "user_id:abc", "user_id:abc read:preferences", id="S203-principal-alone"),
    pytest.param("S204", "user_id:<user-id> read:messages", "user_id:u1 read:messages", id="S204-angle"),
    pytest.param("S204", "user_id:$USER_ID read:messages", "user_id:u1 read:messages", id="S204-dollar"),
    pytest.param("S204", "user_id:${USER_ID} read:messages", "user_id:u1 read:messages", id="S204-dollar-braces"),
    pytest.param("S204", "read:brands:{id}", "read:brands:acme", id="S204-braces"),
    pytest.param("S300", "inbox:read:messages", "read:preferences", id="S300-grants-nothing"),
]


@pytest.mark.parametrize(("code", "bad", "good"), RULES)
def test_each_rule_fires_on_its_example_and_not_on_the_near_miss(code, bad, good):
    assert code in codes(bad)
    assert code not in codes(good)


def test_every_code_has_a_rule_test_or_a_file_test():
    scope_codes = {p.values[0] for p in RULES}
    assert scope_codes == {c for c in CODES if c < "S400"}


def test_a_good_token_string_has_no_findings():
    assert lint("user_id:pigeon read:messages read:brands:acme write:preferences") == []


def test_diagnostic_is_a_frozen_slotted_record():
    d = lint("read:brand")[0]
    assert isinstance(d, Diagnostic)
    assert not hasattr(d, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.code = "S999"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(d)] == ["code", "severity", "message", "start", "end", "fix"]


def test_severities_come_from_the_code_table():
    for text in ["read:brand", "read:brands read:brands", "inbox:read:messages", ""]:
        for d in lint(text):
            assert d.severity == CODES[d.code].severity


MESSAGES = [
    pytest.param(
        "read:brand",
        [("S102", "unknown scope 'read:brand'; did you mean 'read:brands'?", 0, 10, None)],
        id="did-you-mean",
    ),
    pytest.param(
        "READ:BRANDS",
        [("S102", "unknown scope 'READ:BRANDS'; did you mean 'read:brands'?", 0, 11, "read:brands")],
        id="case-fix-is-the-fix",
    ),
    pytest.param(
        "user-id:x read:preferences",
        [("S102", "unknown scope 'user-id:x'; did you mean 'user_id:x'?", 0, 9, None)],
        id="principal-typo",
    ),
    pytest.param(
        "user_id:x read:brand:acme",
        [("S102", "unknown scope 'read:brand:acme'; did you mean 'read:brands:acme'?", 10, 25, None)],
        id="typo-before-a-qualifier",
    ),
    pytest.param(
        "USER_ID:Pigeon read:preferences",
        [("S102", "unknown scope 'USER_ID:Pigeon'; did you mean 'user_id:Pigeon'?", 0, 14, "user_id:Pigeon")],
        id="ids-keep-their-case",
    ),
    pytest.param(
        "frobnicate",
        [("S102", "unknown scope 'frobnicate'", 0, 10, None)],
        id="nothing-close",
    ),
    pytest.param(
        "user_id:x read:messages:abc",
        [("S103", "scope 'read:messages' takes no qualifier, so 'read:messages:abc' is unknown; "
                  "write 'read:messages'", 10, 27, None)],
        id="qualifier",
    ),
    pytest.param(
        "user_id read:preferences",
        [("S104", "'user_id' needs an id: write 'user_id:<id>' with the id of the user", 0, 7, None)],
        id="principal-without-id",
    ),
    pytest.param(
        "read:messages",
        [("S105", "'read:messages' grants only together with a user_id: add 'user_id:<id>' for "
                  "the user the token acts for", 0, 13, None)],
        id="needs-user-id",
    ),
    pytest.param(
        "read:brands,write:brands",
        [("S106", "'read:brands,write:brands' looks like part of a comma-separated list; scopes are "
                  "separated by single spaces: write 'read:brands write:brands'", 0, 24, None)],
        id="comma-list",
    ),
    pytest.param(
        ' ["read:brands","write:brands"]',
        [
            ("S106", "a JSON array written as a scope string; separate scopes with single spaces: "
                     "'read:brands write:brands'", 1, 31, None),
            ("S100", "'\"' is not allowed in a scope (RFC 6749 §3.3)", 2, 3, None),
        ],
        id="json-array",
    ),
    pytest.param(
        "read:brands read:brands user_id:x user_id:x",
        [
            ("S200", "duplicate scope 'read:brands'", 12, 23, ""),
            ("S200", "duplicate scope 'user_id:x'", 34, 43, ""),
        ],
        id="duplicates",
    ),
    pytest.param(
        "read:brands:acme read:brands",
        [("S201", "redundant scope 'read:brands:acme': 'read:brands' already grants every brand_id", 0, 16, "")],
        id="redundant-before-its-cover",
    ),
    pytest.param(
        "  read:brands   write:brands ",
        [
            ("S202", "leading spaces", 0, 2, ""),
            ("S202", "3 spaces between scopes; use one", 13, 16, " "),
            ("S202", "trailing spaces", 28, 29, ""),
        ],
        id="spacing",
    ),
    pytest.param(
        "user_id:abc",
        [("S203", "'user_id:abc' alone grants nothing: a user_id names the user a token acts for; "
                  "add the scopes it may use", 0, 11, None)],
        id="principal-alone",
    ),
    pytest.param(
        "user_id:<user-id> read:messages",
        [("S204", "'user_id:<user-id>' contains the unfilled placeholder '<user-id>'; put the real "
                  "value in", 0, 17, None)],
        id="placeholder",
    ),
    pytest.param(
        "inbox:write:events",
        [("S300", "'inbox:write:events' grants no endpoint of policy 'courier': no requirement "
                  "mentions it", 0, 18, None)],
        id="grants-no-endpoint",
    ),
    pytest.param("", [("S101", "empty scope string: it grants nothing", 0, 1, None)], id="empty-at-end-of-input"),
]


@pytest.mark.parametrize(("text", "expected"), MESSAGES)
def test_messages_spans_and_fixes(text, expected):
    assert [(d.code, d.message, d.start, d.end, d.fix) for d in lint(text)] == expected


SYNTAX = ["read::x", ":a", "user_id:", "a:\tb", "read:brands\nwrite:brands", 'read:"x"', "user_id:jöe", "a\x00"]


@pytest.mark.parametrize("text", SYNTAX)
def test_a_syntax_error_is_placed_and_worded_as_the_parser_does(text):
    with pytest.raises(ScopeSyntaxError) as caught:
        scopes.parse(text)
    [d] = lint(text)
    assert (d.code, d.severity, d.message) == ("S100", "error", caught.value.message)
    assert (d.start, d.end) == (caught.value.position, caught.value.position + 1)


def test_nothing_is_checked_after_a_syntax_error():
    assert codes("read:brand read:brand read::x") == ["S100"]


def test_a_list_of_strings_is_one_tokens_scopes():
    rules = rules_for()
    per_string = rules.lint_parts(["user_id:x", "read:messages", "read:messages  read:brand"])
    assert [[d.code for d in found] for found in per_string] == [[], [], ["S200", "S202", "S102"]]
    assert per_string[2][0].message == "duplicate scope 'read:messages' (also in an earlier string of this list)"
    # the principal in another string of the list counts, alone it is still reported
    assert [[d.code for d in found] for found in rules.lint_parts(["user_id:x", "", "read::x"])] == [
        ["S203"], ["S101"], ["S100"],
    ]


def test_policy_strings_allow_placeholders_and_missing_principals():
    rules = rules_for()
    assert rules.lint("read:brands:{id}", token=False) == []
    assert rules.lint("read:messages", token=False) == []
    assert [d.code for d in rules.lint("read:brand  read:brand", token=False)] == ["S102", "S202", "S200"]


def test_grants_no_endpoint_takes_qualifiers_into_account():
    policy = Policy.from_toml(
        """
        [scopes."read:brands"]
        qualifier = "brand_id"
        [scopes."write:brands"]
        qualifier = "brand_id"
        [[endpoints]]
        methods = ["GET"]
        path = "/brands/{id}"
        any_of = ["read:brands:{id}"]
        [[endpoints]]
        methods = ["PUT"]
        path = "/brands/acme"
        any_of = ["write:brands:acme"]
        """
    )
    assert codes("read:brands", policy) == []
    assert codes("read:brands:anything", policy) == []
    assert codes("write:brands", policy) == []  # the bare scope covers write:brands:acme
    assert codes("write:brands:acme", policy) == []
    assert codes("write:brands:other", policy) == ["S300"]


def test_grants_no_endpoint_sees_graphql_fields():
    assert "S300" not in codes("user_id:x read:messages")


def test_the_policy_catalogue_decides_what_is_known():
    policy = Policy.from_toml('[scopes."admin"]\n[[endpoints]]\nmethods = ["GET"]\npath = "/a"\nany_of = ["admin"]\n')
    assert codes("admin", policy) == []
    assert codes("read:brands", policy) == ["S102"]
    assert codes("ADMIN", policy) == ["S102"]
    assert lint("ADMIN", policy)[0].fix == "admin"


def test_a_case_fix_needs_a_unique_candidate():
    policy = Policy.from_toml('[scopes."Admin"]\n[scopes."admin"]\n')
    [d] = lint("ADMIN", policy)
    assert d.code == "S102" and d.fix is None


SUGGESTIONS = [
    pytest.param("read:brand", "read:brands", id="close-name"),
    pytest.param("READ:BRANDS", "read:brands", id="case"),
    pytest.param("user-id:x", "user_id:x", id="principal-prefix"),
    pytest.param("Read:Brands:Acme", "read:brands:Acme", id="case-keeps-qualifier"),
    pytest.param("read:brand:acme", "read:brands:acme", id="close-prefix-keeps-qualifier"),
    pytest.param("inbox:read:message", "inbox:read:messages", id="three-segments"),
    pytest.param("brands:read", None, id="too-far"),
]


@pytest.mark.parametrize(("text", "suggestion"), SUGGESTIONS)
def test_catalogue_suggestions(text, suggestion):
    assert COURIER.catalogue.suggest(text) == suggestion


FIXES = [
    pytest.param("read:brands read:brands", "read:brands", id="duplicate"),
    pytest.param("read:brands:x read:brands", "read:brands", id="redundant"),
    pytest.param("  read:brands    write:brands  ", "read:brands write:brands", id="spacing"),
    pytest.param("READ:BRANDS", "read:brands", id="case"),
    pytest.param("READ:BRANDS read:brands read:brands:x", "read:brands", id="case-then-duplicate"),
    pytest.param("USER_ID:Pigeon read:messages", "user_id:Pigeon read:messages", id="id-keeps-case"),
    pytest.param("read:brand", "read:brand", id="a-typo-is-not-fixed"),
    pytest.param("read:brands,write:brands", "read:brands,write:brands", id="a-list-is-not-fixed"),
    pytest.param("read::x  read::x", "read::x  read::x", id="syntax-error-untouched"),
    pytest.param("   ", "   ", id="blank-untouched"),
    pytest.param("read:messages", "read:messages", id="a-missing-user-id-is-not-invented"),
]


@pytest.mark.parametrize(("text", "fixed"), FIXES)
def test_fix(text, fixed):
    assert fix(text) == fixed


def _case_fixed(text: str) -> str:
    """Each unknown token whose name differs from a Courier name only in case, renamed."""
    catalogue = COURIER.catalogue
    out = []
    for token in text.split():
        lowered = token.lower()
        if not catalogue.known(token):
            if lowered in strategies.COURIER_NAMES:
                token = lowered
            else:
                for prefix in [*strategies.QUALIFIABLE, "user_id"]:
                    if lowered.startswith(prefix + ":") and catalogue.known(prefix + token[len(prefix) :]):
                        token = prefix + token[len(prefix) :]
                        break
        out.append(token)
    return " ".join(out)


@given(st.one_of(strategies.fixable_scope_string, strategies.scope_string))
def test_fix_is_idempotent_and_keeps_meaning(text):
    """fix(fix(s)) == fix(s); where s parses, fix(s) covers s and s covers fix(s), once the
    names written in another case are read as the catalogue's (the one rewrite that is meant to
    make a scope grant)."""
    fixed = fix(text)
    assert fix(fixed) == fixed
    before, after = scopes.parse(_case_fixed(text)), scopes.parse(fixed)
    assert before.covers(after) and after.covers(before)
    assert not [d for d in lint(fixed) if d.fix is not None]


@given(strategies.scopeish_text)
def test_fix_is_idempotent_on_any_text(text):
    """fix(fix(s)) == fix(s) for any text; a string that does not parse is left alone."""
    fixed = fix(text)
    assert fix(fixed) == fixed
    try:
        scopes.parse(text)
    except ScopeSyntaxError:
        assert fixed == text


@given(st.one_of(st.text(), strategies.scopeish_text, strategies.fixable_scope_string))
def test_lint_never_raises_and_spans_stay_in_the_text(text):
    """lint(s) returns diagnostics for any str; each span lies within s or at its end."""
    for d in lint(text):
        assert 0 <= d.start < d.end <= len(text) + 1
        assert d.severity in ("error", "warning", "info")


def test_lint_takes_only_strings():
    with pytest.raises(TypeError):
        lint(b"read:brands")  # type: ignore[arg-type]


def test_results_are_fresh_lists():
    first = lint("read:brand")
    first.clear()
    assert lint("read:brand") != []


@pytest.mark.parametrize(
    "text",
    [" " * 100_000 + ":", " a" * 50_000 + "\t", "a:" * 50_000 + ":", " " * 100_000 + "read:brands:"],
    ids=["spaces-then-colon", "tokens-then-tab", "colons", "spaces-then-trailing-colon"],
)
def test_long_bad_strings_are_linted_in_linear_time(text):
    # A quadratic backtracking pass over 100,000 characters takes tens of seconds.
    import time

    start = time.perf_counter()
    [d] = [d for d in lint(text) if d.code == "S100"]
    assert time.perf_counter() - start < 3
    assert d.start == scope_error_position(text)


def scope_error_position(text: str) -> int:
    with pytest.raises(ScopeSyntaxError) as caught:
        scope_tokens(text)
    return caught.value.position
