"""Scope-string syntax: valid inputs, exact error positions and messages, the grammar itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lark import Lark

import scopes
from scopes import ScopeSyntaxError
from scopes.syntax import grammar_text, scope_tokens
from tests import strategies

VALID = [
    pytest.param("", [], id="empty"),
    pytest.param("   ", [], id="only-spaces"),
    pytest.param("read:brands", ["read:brands"], id="one"),
    pytest.param("  read:brands   write:brands ", ["read:brands", "write:brands"], id="runs-of-spaces"),
    pytest.param("user_id:a:b:c", ["user_id:a:b:c"], id="id-keeps-colons"),
    pytest.param("read:brands:*", ["read:brands:*"], id="star-is-a-character"),
    pytest.param("!#$%&'()*+,-./;<=>?@[]^_`{|}~", ["!#$%&'()*+,-./;<=>?@[]^_`{|}~"], id="all-punctuation"),
    pytest.param("a,b", ["a,b"], id="comma-is-nqchar"),
]


@pytest.mark.parametrize(("text", "tokens"), VALID)
def test_valid_scope_strings_split_into_tokens(text, tokens):
    assert [value for value, _, _ in scope_tokens(text)] == tokens


def test_tokens_carry_their_spans():
    assert scope_tokens("  read:brands  user_id:x ") == [("read:brands", 2, 13), ("user_id:x", 15, 24)]


INVALID = [
    pytest.param("read::brands", 5, "empty segment after ':'", id="empty-middle-segment"),
    pytest.param("read::x", 5, "empty segment after ':'", id="design-example"),
    pytest.param("user_id:", 8, "empty segment after ':'; a scope cannot end with ':'", id="trailing-colon"),
    pytest.param(":read", 0, "empty segment before ':'; a scope cannot start with ':'", id="leading-colon"),
    pytest.param(":a", 0, "empty segment before ':'; a scope cannot start with ':'", id="leading-colon-short"),
    pytest.param("read:brands :x", 12, "empty segment before ':'; a scope cannot start with ':'", id="colon-after-space"),
    pytest.param("a: b", 2, "empty segment after ':'", id="colon-then-space"),
    pytest.param("read:brands\tuser_id:x", 11, "tab is not allowed; separate scopes with a space", id="tab"),
    pytest.param("a:\tb", 2, "tab is not allowed; separate scopes with a space", id="tab-after-colon"),
    pytest.param('read:"brands"', 5, "'\"' is not allowed in a scope (RFC 6749 §3.3)", id="quote-after-colon"),
    pytest.param('"read"', 0, "'\"' is not allowed in a scope (RFC 6749 §3.3)", id="quote-first"),
    pytest.param("read:brands\\x", 11, "'\\' is not allowed in a scope (RFC 6749 §3.3)", id="backslash"),
    pytest.param("user_id:jöe", 9, "non-ASCII character 'ö' is not allowed in a scope (RFC 6749 §3.3)", id="non-ascii"),
    pytest.param("read\x00", 4, "NUL byte is not allowed in a scope (RFC 6749 §3.3)", id="nul"),
    pytest.param("read:brands\nwrite:brands", 11, "newline is not allowed; a scope string is one line, scopes separated by spaces", id="newline"),
    pytest.param("a\x7f", 1, "control character '\\x7f' is not allowed in a scope (RFC 6749 §3.3)", id="del"),
    pytest.param("a\u00a0b", 1, "non-ASCII character '\\xa0' is not allowed in a scope (RFC 6749 §3.3)", id="nbsp"),
    pytest.param("a:b:", 4, "empty segment after ':'; a scope cannot end with ':'", id="trailing-colon-deep"),
]


@pytest.mark.parametrize(("text", "position", "message"), INVALID)
def test_invalid_scope_strings_report_position_and_plain_words(text, position, message):
    with pytest.raises(ScopeSyntaxError) as caught:
        scopes.parse(text)
    assert caught.value.position == position
    assert caught.value.message == message
    assert caught.value.text == text
    assert isinstance(caught.value, ValueError)


def test_error_renders_input_and_caret():
    with pytest.raises(ScopeSyntaxError) as caught:
        scopes.parse("read:brands\tuser_id:x")
    assert str(caught.value) == (
        "tab is not allowed; separate scopes with a space\n"
        "    read:brands\\tuser_id:x\n"
        "               ^"
    )


def test_error_caret_at_end_of_input():
    with pytest.raises(ScopeSyntaxError) as caught:
        scopes.parse("user_id:")
    assert str(caught.value).splitlines()[1:] == ["    user_id:", "            ^"]


def test_long_input_is_clipped_around_the_error():
    text = "a " * 500 + "b::c " + "d " * 500
    with pytest.raises(ScopeSyntaxError) as caught:
        scopes.parse(text)
    assert caught.value.position == 1002
    excerpt, caret = str(caught.value).splitlines()[1:]
    assert len(excerpt) < 140
    assert excerpt.strip().startswith("...") and excerpt.endswith("...")
    assert excerpt[len(caret) - 1] == ":" and excerpt[len(caret) - 2] == ":"


def test_lark_errors_never_escape():
    for text in ["::", "a\tb", "\x00", "ö", "a:", ":"]:
        with pytest.raises(ScopeSyntaxError):
            scopes.parse(text)


def test_grammar_has_no_conflicts_under_strict_mode():
    """A grammar conflict (or a terminal collision) fails here, not in production."""
    Lark(grammar_text(), parser="lalr", lexer="basic", strict=True)


@given(strategies.scopeish_text)
def test_parse_returns_or_raises_scope_syntax_error(text):
    """parse() on arbitrary text either returns a ScopeSet or raises ScopeSyntaxError."""
    try:
        result = scopes.parse(text)
    except ScopeSyntaxError as error:
        assert 0 <= error.position <= len(text)
        prefix_ok = text[: error.position]
        # The text before the error can still begin a valid scope string.
        assert all(ch == " " or 0x21 <= ord(ch) <= 0x7E and ch not in '"\\' for ch in prefix_ok)
    else:
        assert isinstance(result, scopes.ScopeSet)


@given(strategies.scope_string)
def test_generated_valid_strings_parse(text):
    """Every string built from the grammar's own pieces parses, to one token per scope."""
    tokens = scope_tokens(text)
    assert [value for value, _, _ in tokens] == text.split()
    assert all(text[start:end] == value for value, start, end in tokens)


# -- the one recognizer: the fast path and Lark's parser agree ---------------------------------

from scopes import syntax  # noqa: E402

text_near_the_grammar = st.one_of(
    strategies.scopeish_text,
    strategies.scope_string,
    st.lists(st.sampled_from(["a", ":", " ", "  ", "b:c", "\t", '"', "read:brands", "::"]),
             max_size=12).map("".join),
)


def _lark_reading(text):
    try:
        return syntax._lark_tokens(text), None
    except ScopeSyntaxError as error:
        return None, (error.position, error.message)


def _fast_reading(text):
    try:
        return scope_tokens(text), None
    except ScopeSyntaxError as error:
        return None, (error.position, error.message)


@given(text_near_the_grammar)
def test_fast_path_accepts_exactly_what_lark_accepts(text):
    """For any text, the compiled-terminal path and Lark's parser give the same tokens and
    spans, or the same error at the same position (they are one recognizer)."""
    assert _fast_reading(text) == _lark_reading(text)
    assert syntax.is_well_formed(text) == (_lark_reading(text)[1] is None)
    if syntax.is_well_formed(text):
        assert syntax.scope_words(text) == [value for value, _, _ in scope_tokens(text)]


def test_the_acceptor_is_built_from_the_grammars_own_terminals():
    recognizer = syntax._recognizer()
    for terminal in recognizer.lark.terminals:
        assert f"(?>{terminal.pattern.to_regexp()})" in recognizer.accept.pattern


def test_well_formed_text_never_reaches_lark(monkeypatch):
    """Lark's parser runs only to place an error: accepted text is read by the terminals."""
    recognizer = syntax._recognizer()

    def refuse(text):
        raise AssertionError("the parser ran on well-formed text")

    monkeypatch.setattr(recognizer.lark, "parse", refuse)
    assert scope_tokens("user_id:pigeon  read:brands:acme ") == [
        ("user_id:pigeon", 0, 14), ("read:brands:acme", 16, 32)]
    syntax.validate("read:brands")


@pytest.mark.parametrize(("text", "single"), [
    pytest.param("read:brands", True, id="a scope"),
    pytest.param("user_id", True, id="a principal's name"),
    pytest.param("", False, id="empty"),
    pytest.param("read:brands write:brands", False, id="two"),
    pytest.param(" read:brands", False, id="a leading space"),
    pytest.param("read:brands ", False, id="a trailing space"),
    pytest.param("read::brands", False, id="malformed"),
    pytest.param("caf\u00e9", False, id="non-ASCII"),
])
def test_is_single_token(text, single):
    assert syntax.is_single_token(text) is single
