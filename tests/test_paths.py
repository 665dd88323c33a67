"""Tests for scopes.paths: accepted targets, the attack corpus, messages, and properties."""

from __future__ import annotations

import dataclasses
import string
import unicodedata
import urllib.parse

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import scopes.paths
from scopes.paths import MAX_PATH_LENGTH, PathRejection, canonical_segments, plain_segment
from tests.attack_paths import ATTACK_PATHS

# Every code the module documents; a rejection never carries another.
CODES = {
    "not-a-string",
    "too-long",
    "control-character",
    "fragment",
    "asterisk-form",
    "absolute-form",
    "authority-form",
    "not-absolute-path",
    "non-ascii",
    "backslash",
    "semicolon",
    "bad-character",
    "empty-segment",
    "dot-segment",
    "bad-percent-encoding",
    "encoded-slash",
    "encoded-backslash",
    "double-encoding",
    "encoded-dot-segment",
    "encoded-unreserved",
    "bad-utf8",
    "nfkc",
}

# RFC 3986 §3.3 pchar, restated here independently of the module: unreserved, sub-delims but
# ";" (refused on purpose), ":" and "@". "%" is handled separately.
PCHAR = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@"
)
HEX = frozenset("0123456789abcdefABCDEF")


def test_public_names():
    assert scopes.paths.__all__ == [
        "MAX_PATH_LENGTH",
        "PathRejection",
        "canonical_segments",
        "plain_segment",
        "raw_target",
    ]
    assert dir(scopes.paths) == scopes.paths.__all__
    assert MAX_PATH_LENGTH == 8192


def test_rejection_is_a_falsy_frozen_record():
    rejection = canonical_segments("/a/../b")
    assert isinstance(rejection, PathRejection)
    assert not rejection
    assert bool(rejection) is False
    assert rejection == PathRejection(rejection.code, rejection.message)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rejection.code = "other"  # type: ignore[misc]
    assert not hasattr(rejection, "__dict__")


# --- accepted targets -----------------------------------------------------------------------

ACCEPTED = [
    pytest.param("/", ("",), id="root"),
    pytest.param("/brands", ("brands",), id="one-segment"),
    pytest.param("/brands/", ("brands", ""), id="trailing-slash-kept"),
    pytest.param("/brands/abc123", ("brands", "abc123"), id="brand-id"),
    pytest.param(
        "/users/u1/preferences/topic-9", ("users", "u1", "preferences", "topic-9"), id="user-topic"
    ),
    pytest.param("/brands/my%20brand?x=1", ("brands", "my brand"), id="encoded-space-and-query"),
    pytest.param("/brands/abc?", ("brands", "abc"), id="empty-query"),
    pytest.param("/brands?next=/../admin&x=%zz;y", ("brands",), id="query-ignored"),
    pytest.param("/brands/abc?q=caf\u00e9", ("brands", "abc"), id="non-ascii-query-ignored"),
    pytest.param("/brands/abc?a?b", ("brands", "abc"), id="query-from-first-question-mark"),
    pytest.param("/brands/ABC", ("brands", "ABC"), id="case-kept"),
    pytest.param("/brands/caf%C3%A9", ("brands", "caf\u00e9"), id="utf8-upper-hex"),
    pytest.param("/brands/caf%c3%a9", ("brands", "caf\u00e9"), id="utf8-lower-hex"),
    pytest.param("/brands/%E2%82%AC", ("brands", "\u20ac"), id="euro-sign"),
    pytest.param("/brands/%e6%97%a5%e6%9c%ac", ("brands", "\u65e5\u672c"), id="cjk"),
    pytest.param("/brands/%F0%9F%98%80", ("brands", "\U0001f600"), id="astral"),
    pytest.param("/brands/a.b", ("brands", "a.b"), id="dot-inside"),
    pytest.param("/brands/...", ("brands", "..."), id="three-dots"),
    pytest.param("/brands/.well-known", ("brands", ".well-known"), id="leading-dot"),
    pytest.param("/brands/a..b", ("brands", "a..b"), id="two-dots-inside"),
    pytest.param("/brands/%3F%23%20", ("brands", "?# "), id="encoded-delimiters-are-data"),
    pytest.param("/users/%40me/x%3Ay", ("users", "@me", "x:y"), id="encoded-reserved-is-data"),
    pytest.param("/brands/A:B@C", ("brands", "A:B@C"), id="colon-at"),
    pytest.param("/brands/!$&'()*+,=", ("brands", "!$&'()*+,="), id="sub-delims"),
    pytest.param("/brands/~user_name-1", ("brands", "~user_name-1"), id="unreserved"),
    pytest.param("/brands/read:brands:abc", ("brands", "read:brands:abc"), id="colons"),
    pytest.param("/" + "a" * (MAX_PATH_LENGTH - 1), ("a" * (MAX_PATH_LENGTH - 1),), id="at-limit"),
    pytest.param("/a?" + "q" * (MAX_PATH_LENGTH - 3), ("a",), id="at-limit-with-query"),
    pytest.param("/" + "a/" * 100, ("a",) * 100 + ("",), id="many-segments"),
]


@pytest.mark.parametrize(("target", "segments"), ACCEPTED)
def test_accepted(target, segments):
    assert canonical_segments(target) == segments
    assert scopes.paths._thorough(target) == segments


def test_result_is_a_tuple_of_plain_str():
    result = canonical_segments("/brands/caf%C3%A9")
    assert type(result) is tuple
    assert all(type(segment) is str for segment in result)


class Target(str):
    """A str subclass whose overrides must not change the answer."""

    def split(self, *args, **kwargs):  # type: ignore[override]
        raise AssertionError("a subclass's methods must not run")

    def __len__(self):
        return 0

    def __contains__(self, item):
        return False


def test_str_subclass_is_read_as_its_plain_value():
    assert canonical_segments(Target("/brands/abc")) == ("brands", "abc")
    assert canonical_segments(Target("/brands/../abc")).code == "dot-segment"
    assert canonical_segments(Target("/" + "a" * MAX_PATH_LENGTH)).code == "too-long"


# --- the attack corpus ----------------------------------------------------------------------


def _corpus_id(target: str, code: str) -> str:
    shown = ascii(target)[1:-1]
    return f"{code}:{shown[:40]}" + ("..." if len(shown) > 40 else "")


@pytest.mark.parametrize(
    ("target", "code"), [pytest.param(t, c, id=_corpus_id(t, c)) for t, c in ATTACK_PATHS]
)
def test_attack_corpus(target, code):
    result = canonical_segments(target)
    assert isinstance(result, PathRejection), result
    assert result.code == code, result.message
    assert scopes.paths._thorough(target) == result
    # The message names the problem without echoing a huge input.
    assert result.message and len(result.message) < 400


def test_attack_corpus_is_large_and_covers_every_target_code():
    assert len(ATTACK_PATHS) >= 60
    assert all(type(target) is str and code in CODES for target, code in ATTACK_PATHS)
    assert {code for _, code in ATTACK_PATHS} == CODES - {"not-a-string"}


class RaisingClass:
    @property
    def __class__(self):  # isinstance() would consult this
        raise RuntimeError("boom")


class Meta(type):
    @property
    def __name__(cls):
        raise RuntimeError("boom")


class OddName(metaclass=Meta):
    pass


@pytest.mark.parametrize(
    ("target", "name"),
    [
        pytest.param(None, "'NoneType'", id="none"),
        pytest.param(42, "'int'", id="int"),
        pytest.param(b"/brands/abc", "'bytes'", id="bytes"),
        pytest.param(bytearray(b"/brands"), "'bytearray'", id="bytearray"),
        pytest.param(["/brands"], "'list'", id="list"),
        pytest.param(RaisingClass(), "'RaisingClass'", id="raising-class-property"),
        pytest.param(OddName(), "'OddName'", id="metaclass-name-property"),
        pytest.param(type("N" * 500, (), {})(), repr("N" * 40) + "...", id="huge-class-name"),
    ],
)
def test_non_str_targets(target, name):
    assert canonical_segments(target) == PathRejection(
        "not-a-string", f"request target must be a str, not {name}"
    )


# --- messages -------------------------------------------------------------------------------

MESSAGES = [
    pytest.param(
        "/brands/../x",
        "dot-segment",
        "path has a dot segment '..' (segment 2); send the canonical path",
        id="dot-segment",
    ),
    pytest.param(
        "/brands//x",
        "empty-segment",
        "path has an empty segment (segment 2, '//'); send the canonical path",
        id="empty-segment",
    ),
    pytest.param(
        "/brands/%2e%2E/admin",
        "encoded-dot-segment",
        "segment 2 '%2e%2E' decodes to the dot segment '..'; send the canonical path",
        id="encoded-dot-segment",
    ),
    pytest.param(
        "/brands/..%2Fadmin",
        "encoded-slash",
        "segment 2 '..%2Fadmin' encodes '/' as '%2F'; a path separator must not be encoded",
        id="encoded-slash",
    ),
    pytest.param(
        "/a/b%252e",
        "double-encoding",
        "segment 2 'b%252e' encodes '%' as '%25'; nothing may be encoded twice",
        id="double-encoding",
    ),
    pytest.param(
        "/a/x%00",
        "control-character",
        "segment 2 'x%00' encodes '\\x00' as '%00'; controls and NUL are never allowed",
        id="encoded-nul",
    ),
    pytest.param(
        "/a\r\n",
        "control-character",
        "request target has the control character '\\r' at offset 2; "
        "controls and NUL are never allowed",
        id="raw-cr",
    ),
    pytest.param(
        "/brands/a;b",
        "semicolon",
        "path has a ';' in segment 2 'a;b'; path parameters are not allowed",
        id="semicolon",
    ),
    pytest.param(
        "/brands/a\\b",
        "backslash",
        "path has a backslash in segment 2 'a\\\\b'; some servers read it as '/'",
        id="backslash",
    ),
    pytest.param(
        "/brands/a b",
        "bad-character",
        "path has a raw ' ' in segment 2 'a b'; RFC 3986 requires it to be percent-encoded",
        id="space",
    ),
    pytest.param(
        "/brands/caf\u00e9",
        "non-ascii",
        "path has a raw non-ASCII character '\u00e9' in segment 2 'caf\u00e9'; "
        "percent-encode it as UTF-8",
        id="non-ascii",
    ),
    pytest.param(
        "/brands/%zz",
        "bad-percent-encoding",
        "segment 2 '%zz' has a malformed escape '%zz'; '%' must be followed by two hex digits",
        id="bad-escape",
    ),
    pytest.param(
        "/brands/abc%",
        "bad-percent-encoding",
        "segment 2 'abc%' has a malformed escape '%'; '%' must be followed by two hex digits",
        id="trailing-percent",
    ),
    pytest.param(
        "/brands/%c0%af",
        "bad-utf8",
        "segment 2 '%c0%af' does not decode to valid UTF-8",
        id="overlong",
    ),
    pytest.param(
        "/brands/%EF%AC%81",
        "nfkc",
        "segment 2 '%EF%AC%81' decodes to '\ufb01', which Unicode NFKC changes to 'fi'; "
        "send the normalized form",
        id="ligature",
    ),
    pytest.param(
        "/brands/abc#x",
        "fragment",
        "request target has a raw '#' at offset 11; clients never send a fragment, and servers "
        "disagree on what follows one",
        id="fragment",
    ),
    pytest.param(
        "http://h/brands",
        "absolute-form",
        "request target 'http://h/brands' is an absolute URI (absolute-form); send only its "
        "path, starting with '/'",
        id="absolute-form",
    ),
    pytest.param(
        "h:443",
        "authority-form",
        "request target 'h:443' is host:port (authority-form, for CONNECT); send a path "
        "starting with '/'",
        id="authority-form",
    ),
    pytest.param(
        "*",
        "asterisk-form",
        "request target is '*' (asterisk-form, for a server-wide OPTIONS); send a path",
        id="asterisk-form",
    ),
    pytest.param(
        "brands",
        "not-absolute-path",
        "request target 'brands' does not start with '/'",
        id="relative",
    ),
    pytest.param(
        "/" + "a" * 100_000,
        "too-long",
        "request target is 100001 characters long; the limit is 8192",
        id="too-long",
    ),
    pytest.param(
        "/x/" + "b" * 5000 + "%2f",
        "encoded-slash",
        f"segment 2 {'b' * 40!r}... encodes '/' as '%2f'; a path separator must not be encoded",
        id="long-segment-clipped",
    ),
]


@pytest.mark.parametrize(("target", "code", "message"), MESSAGES)
def test_messages(target, code, message):
    assert canonical_segments(target) == PathRejection(code, message)


ORDER = [
    # When a target has several problems, the documented order decides which is reported.
    pytest.param("/a\x00#", "control-character", id="control-before-fragment"),
    pytest.param("http://h/a#b", "fragment", id="fragment-before-form"),
    pytest.param("http://h/a b", "absolute-form", id="form-before-characters"),
    pytest.param("/../a b", "bad-character", id="characters-before-structure"),
    pytest.param("/a;b/..", "semicolon", id="semicolon-before-dot-segment"),
    pytest.param("/a//../b", "empty-segment", id="leftmost-structure-empty"),
    pytest.param("/../a//b", "dot-segment", id="leftmost-structure-dot"),
    pytest.param("/..//%zz", "dot-segment", id="structure-before-escapes"),
    pytest.param("/%2f/%zz", "bad-percent-encoding", id="malformed-before-refused"),
    pytest.param("/%00/%2f", "control-character", id="leftmost-refused-escape"),
    pytest.param("/%2f/%00", "encoded-slash", id="leftmost-refused-escape-2"),
    pytest.param("/%2e%2e%2f", "encoded-slash", id="refused-escape-before-decoded-dot"),
    pytest.param("/%ff/%2e", "encoded-dot-segment", id="decoded-dot-before-utf8"),
    pytest.param("/%EF%AC%81/%ff", "bad-utf8", id="utf8-before-nfkc"),
    pytest.param("/%EF%AC%81/%c2%85", "control-character", id="c1-before-nfkc"),
]


@pytest.mark.parametrize(("target", "code"), ORDER)
def test_first_problem_in_documented_order_is_reported(target, code):
    assert canonical_segments(target).code == code


def test_segment_numbers_point_at_the_offender():
    assert "segment 3 " in canonical_segments("/a/b/%ff/c").message
    assert "segment 4 " in canonical_segments("/a/b/c/%EF%AC%81").message
    assert "segment 2 " in canonical_segments("/a/%2E/c").message
    assert "segment 3 " in canonical_segments("/a/b/c%2fd").message
    assert "segment 2 " in canonical_segments("/a/b%zz").message
    assert "segment 5 " in canonical_segments("/a/b/c/d/e f").message


def test_fast_table_passes_exactly_the_plain_bytes():
    table = scopes.paths._FAST_TABLE
    plain = {ord(c) for c in PCHAR} | {ord("/")}
    assert {b for b in range(256) if table[b] == b} == plain


# --- properties -----------------------------------------------------------------------------
# Strategies are defined here: tests/strategies.py belongs to the scope-language tests.

# Pieces of a target a canonicalizer must accept (plain characters, separators, dots, escapes
# of data), and pieces that hit every other branch.
GOOD_PIECES = [
    "a", "Z", "0", "-", "_", "~", "!", "$", "&", "'", "(", ")", "*", "+", ",", "=", ":", "@",
    "/", "/", ".", "%20", "%41", "%2e", "%2E", "%3F", "%23", "%C3%A9", "%E2%82%AC",
    "%F0%9F%98%80", "%e6%97%a5", "?x=/../%zz",
]
BAD_PIECES = [
    "//", "..", "/./", "/../", "#", ";", "\\", " ", '"', "<", "^", "`", "{", "|", "[",
    "\x00", "\r\n", "\x7f", "\x85", "\u00e9", "\uff0e", "\ud800",
    "%", "%2", "%zz", "%2f", "%2F", "%5c", "%5C", "%25", "%3b", "%3B", "%00", "%0a", "%7f",
    "%7F", "%c3", "%ff", "%c0%af", "%ed%a0%80", "%c2%85", "%EF%BC%8E", "%EF%AC%81", "e%CC%81",
    "http://h", "h:443", "*",
]
good_paths = st.lists(st.sampled_from(GOOD_PIECES), max_size=12).map(lambda p: "/" + "".join(p))
# A good path with one bad piece somewhere in it.
one_bad = st.builds(
    lambda path, bad, at: path[:at] + bad + path[at:],
    good_paths,
    st.sampled_from(BAD_PIECES),
    st.integers(0, 60),
)
path_like = st.lists(st.sampled_from(GOOD_PIECES + BAD_PIECES), max_size=12).map("".join)
targets = st.one_of(good_paths, one_bad, path_like, st.text(max_size=40))


UNRESERVED = set(string.ascii_letters + string.digits + "-._~")


def reference(target: str) -> tuple[str, ...] | None:
    """Canonical segments by a plain, slow, per-segment reading of DESIGN.md; None = refused."""
    if len(target) > MAX_PATH_LENGTH or "#" in target:
        return None
    if any(unicodedata.category(char) == "Cc" for char in target):
        return None
    path = target.split("?", 1)[0]
    if not path.startswith("/"):
        return None
    raw_segments = path[1:].split("/")
    decoded = []
    for index, segment in enumerate(raw_segments):
        if segment == "" and index < len(raw_segments) - 1:
            return None
        if segment in (".", ".."):
            return None
        for position, char in enumerate(segment):
            if char == "%":
                digits = segment[position + 1 : position + 3]
                if len(digits) != 2 or not HEX.issuperset(digits):
                    return None
                if chr(int(digits, 16)) in UNRESERVED:  # DESIGN.md: an allow must survive
                    return None
            elif char not in PCHAR:
                return None
        data = urllib.parse.unquote_to_bytes(segment)
        if any(byte in b"/\\%;" or byte < 0x20 or byte == 0x7F for byte in data):
            return None
        if data in (b".", b".."):
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if any(unicodedata.category(char) == "Cc" for char in text):
            return None
        if unicodedata.normalize("NFKC", text) != text:
            return None
        decoded.append(text)
    return tuple(decoded)


@given(st.one_of(targets, st.binary(), st.integers(), st.none(), st.lists(st.text())))
def test_never_raises(target):
    """Whatever the input, the answer is a tuple of str or a PathRejection with a known code."""
    result = canonical_segments(target)
    if isinstance(result, PathRejection):
        assert result.code in CODES and result.message
    else:
        assert type(result) is tuple and all(type(segment) is str for segment in result)


@given(targets)
@example("/brands/my%20brand?x=1")
@example("/a/%2e%2e%2f")
def test_agrees_with_the_reference(target):
    """canonical_segments accepts exactly what the slow per-segment reference accepts, alike."""
    result = canonical_segments(target)
    expected = reference(target)
    if expected is None:
        assert isinstance(result, PathRejection)
    else:
        assert result == expected


@given(targets)
def test_fast_path_agrees_with_the_thorough_path(target):
    """The fast path is only a shortcut: the thorough path alone gives the same answer."""
    assert canonical_segments(target) == scopes.paths._thorough(target)


@given(targets)
def test_accepted_segments_are_canonical(target):
    """An accepted segment holds no "/", "\\", "%", ";" or control; is not "." or ".."; and is
    NFKC-stable. Only the last segment may be empty."""
    result = canonical_segments(target)
    if isinstance(result, PathRejection):
        return
    assert result
    for segment in result:
        assert not set(segment) & set("/\\%;")
        assert not any(unicodedata.category(char) == "Cc" for char in segment)
        assert segment not in (".", "..")
        assert unicodedata.normalize("NFKC", segment) == segment
    assert "" not in result[:-1]


@given(targets, st.sampled_from(["", "!$&'()*+,=:@"]))
def test_reencoding_is_idempotent(target, safe):
    """Percent-encoding the accepted segments again and canonicalizing gives the same segments."""
    result = canonical_segments(target)
    if isinstance(result, PathRejection):
        return
    again = "/" + "/".join(urllib.parse.quote(segment, safe=safe) for segment in result)
    assert canonical_segments(again) == result


@given(
    st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=8), min_size=1, max_size=6)
)
def test_encoded_segments_round_trip_or_are_refused(segments):
    """Any text, percent-encoded as UTF-8, comes back unchanged unless it is refused for what it
    is (empty before the end, a dot segment, a refused character, not NFKC-stable)."""
    target = "/" + "/".join(urllib.parse.quote(segment, safe="") for segment in segments)
    result = canonical_segments(target)
    if isinstance(result, PathRejection):
        assert reference(target) is None
    else:
        assert result == tuple(segments)


@pytest.mark.parametrize(
    ("segment", "plain"),
    [
        pytest.param("acme", True, id="alnum"),
        pytest.param("topic-1_x.y~z", True, id="unreserved"),
        pytest.param("a:b@c!$&'()*+,=", True, id="sub-delims"),
        pytest.param("", False, id="empty"),
        pytest.param(".", False, id="dot"),
        pytest.param("..", False, id="dot-dot"),
        pytest.param("a%20b", False, id="escape"),
        pytest.param("a;b", False, id="semicolon"),
        pytest.param("a b", False, id="space"),
        pytest.param("jöe", False, id="non-ascii"),
        pytest.param("ａ", False, id="fullwidth"),
        pytest.param("a#b", False, id="hash"),
        pytest.param("a\\b", False, id="backslash"),
        pytest.param("a\x00", False, id="nul"),
    ],
)
def test_plain_segment(segment, plain):
    assert plain_segment(segment) is plain


@given(st.text(max_size=12))
def test_plain_segments_canonicalize_to_themselves(segment):
    """A plain segment is accepted and decodes to itself; so routing it raw is exact."""
    if plain_segment(segment):
        assert canonical_segments("/" + segment) == (segment,)
