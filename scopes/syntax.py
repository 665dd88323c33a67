"""Scope-string syntax: the one recognizer, built from grammar/scopes.lark once per process.

Text goes in, scope tokens with their spans come out; what a token means is the catalogue's
business (scopes.catalogue). Both paths come from the Lark object built from the grammar
(DESIGN.md, "Costs"):

- accepting: one regular expression made of the grammar's own compiled terminals (each tried
  atomically, in the lexer's order), so well-formed text is read in one C-level pass;
- rejecting: Lark's LALR parser, run only to place and word the error.

A property test holds the two together: for any text the fast path accepts exactly what Lark
accepts, with the same spans. This is the only module that touches `lark.exceptions`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

from scopes.errors import ScopeSyntaxError

__all__ = [
    "GRAMMAR_FILE",
    "grammar_text",
    "is_single_token",
    "is_well_formed",
    "scope_tokens",
    "scope_words",
    "validate",
]

GRAMMAR_FILE = "scopes.lark"
SEPARATOR = " "  # what the grammar's ignored terminal matches runs of (RFC 6749 §3.3: SP)


def __dir__() -> list[str]:
    return __all__


def grammar_text() -> str:
    """The grammar shipped inside the wheel; in a source checkout, the one in grammar/."""
    packaged = resources.files("scopes").joinpath("grammar", GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parent.parent / "grammar" / GRAMMAR_FILE
    return source_tree.read_text(encoding="utf-8")


class _ToTokens(Transformer[Token, list[Token]]):
    """Rule -> value, one line per rule of grammar/scopes.lark."""

    def start(self, children: list[Token]) -> list[Token]:
        return children


@dataclass(frozen=True, slots=True)
class _Recognizer:
    lark: Lark
    accept: re.Pattern[str]  # the whole text, as the lexer would read it


@functools.cache
def _recognizer() -> _Recognizer:
    # The transformer is passed to the LALR constructor, so no parse tree is ever built.
    lark = Lark(grammar_text(), parser="lalr", lexer="basic", transformer=_ToTokens())
    return _Recognizer(lark, _acceptor(lark))


def _acceptor(lark: Lark) -> re.Pattern[str]:
    """`(?:(?>T1)|(?>T2)|...)*+` over the grammar's compiled terminals.

    Lark's basic lexer takes, at each position, the first terminal that matches and never gives
    it back; atomic groups and a possessive star do the same, so the regular expression accepts
    exactly the token sequences the lexer produces, in linear time. The grammar's one rule is
    `start: SCOPE*` with the separator ignored, so every sequence of tokens parses.

    The tokens are then recovered by splitting on the separator: that holds because no terminal
    but the separator matches a space after its first character, which the shape check below
    and the property test in tests/test_syntax.py pin.
    """
    terminals = {t.name: t.pattern.to_regexp() for t in lark.terminals}
    if set(terminals) != {"SCOPE", *lark.ignore_tokens} or len(lark.ignore_tokens) != 1:
        raise RuntimeError(f"grammar/{GRAMMAR_FILE} changed shape: terminals {sorted(terminals)}")
    (ignored,) = lark.ignore_tokens
    separator = re.compile(terminals[ignored])
    if not (separator.fullmatch(SEPARATOR * 3) and not separator.fullmatch("\t")):
        raise RuntimeError(f"grammar/{GRAMMAR_FILE}: the ignored terminal is not runs of spaces")
    # The lexer's order of trial (priority, then the longest possible match first).
    lexer = getattr(lark.parser, "lexer", None)
    order = [t.name for t in getattr(lexer, "terminals", lark.lexer_conf.terminals)]
    alternatives = "|".join(f"(?>{terminals[name]})" for name in order)
    return re.compile(f"(?:{alternatives})*+")


def is_well_formed(text: str) -> bool:
    """Whether `text` is a scope string RFC 6749 §3.3 (as DESIGN.md reads it) allows."""
    return _recognizer().accept.fullmatch(text) is not None


def is_single_token(text: str) -> bool:
    """Whether `text` is exactly one scope token (a catalogue name, a principal), no spaces."""
    return bool(text) and SEPARATOR not in text and is_well_formed(text)


def validate(text: str) -> None:
    """Nothing when `text` is a well-formed scope string; else ScopeSyntaxError, placed."""
    _accepted(text)


def _accepted(text: str) -> None:
    """Raise ScopeSyntaxError unless the grammar's terminals read all of `text`.

    Where they stop, the lexer stops (the acceptor is its loop), so Lark's parser is run on the
    rest of the text only: it fails at once, and its failure, moved back by the offset, is the
    one a parse of the whole text reports. An error after half a million scopes costs what
    one after a single scope does.
    """
    recognizer = _recognizer()
    match = recognizer.accept.match(text)
    stop = match.end() if match is not None else 0
    if stop == len(text):
        return
    try:
        recognizer.lark.parse(text[stop:])
    except UnexpectedInput as error:
        raise _syntax_error(text, stop + _position(error, len(text) - stop)) from None
    _lark_tokens(text)  # unreachable while the acceptor is the lexer's loop; Lark decides


def scope_tokens(text: str) -> list[tuple[str, int, int]]:
    """Split a scope string into its scope tokens: (token, start, end), end exclusive.

    Raises ScopeSyntaxError, positioned at the first offset where the text can no longer begin
    a valid scope string.
    """
    if _recognizer().accept.fullmatch(text) is None:
        _accepted(text)  # raises ScopeSyntaxError
    spans = []
    position = 0
    for piece in text.split(SEPARATOR):
        if piece:
            end = position + len(piece)
            spans.append((piece, position, end))
            position = end + 1
        else:
            position += 1
    return spans


def scope_words(text: str) -> list[str]:
    """The scope tokens alone, without spans (the evaluator's path); raises like scope_tokens."""
    if _recognizer().accept.fullmatch(text) is None:
        _accepted(text)  # raises ScopeSyntaxError
    # Accepted text holds no whitespace but SEPARATOR (NQCHAR excludes the rest), so the
    # whitespace split, the fastest, splits exactly at the separators.
    return text.split()


def _lark_tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokens as Lark's parser reads them (the error path, and the property's reference)."""
    try:
        tokens: list[Token] = _recognizer().lark.parse(text)  # type: ignore[assignment]
    except UnexpectedInput as error:
        raise _syntax_error(text, _position(error, len(text))) from None
    spans = []
    for token in tokens:
        value = str(token)
        end = token.end_pos
        assert end is not None  # the basic lexer always records positions
        if value[0] == SEPARATOR:  # the grammar lets a SCOPE carry the spaces before it
            value = value.lstrip(SEPARATOR)
        spans.append((value, end - len(value), end))
    return spans


# Plain words for characters RFC 6749 §3.3 excludes; anything else gets a generic message.
_CHARACTER_MESSAGES = {
    "\t": "tab is not allowed; separate scopes with a space",
    "\n": "newline is not allowed; a scope string is one line, scopes separated by spaces",
    "\r": "carriage return is not allowed; a scope string is one line",
    '"': "'\"' is not allowed in a scope (RFC 6749 §3.3)",
    "\\": "'\\' is not allowed in a scope (RFC 6749 §3.3)",
}


def _character_message(ch: str) -> str:
    known = _CHARACTER_MESSAGES.get(ch)
    if known is not None:
        return known
    if ch == "\x00":
        return "NUL byte is not allowed in a scope (RFC 6749 §3.3)"
    if not ch.isascii():
        return f"non-ASCII character {ch!r} is not allowed in a scope (RFC 6749 §3.3)"
    if not ch.isprintable():
        return f"control character {ch!r} is not allowed in a scope (RFC 6749 §3.3)"
    return f"{ch!r} is not allowed in a scope (RFC 6749 §3.3)"


def _position(error: UnexpectedInput, length: int) -> int:
    """Where Lark failed, in the text it was given (`UnexpectedEOF` reports -1: the end)."""
    position = error.pos_in_stream if isinstance(error, UnexpectedCharacters) else length
    if position is None or position < 0:
        return length
    return int(position)


def _syntax_error(text: str, position: int) -> ScopeSyntaxError:
    """Turn Lark's failure into our position and wording.

    The grammar's SCOPE terminal stops before a ':' that does not start a non-empty segment, so
    the lexer fails *at* that colon. When the colon follows a segment, the text was still a valid
    prefix there (`read:` can become `read:x`), and the error belongs to the next offset.
    """
    if position >= len(text):
        return ScopeSyntaxError("unexpected end of scope string", text, len(text))
    ch = text[position]
    if ch == ":":
        if position == 0 or text[position - 1] == SEPARATOR:
            return ScopeSyntaxError(
                "empty segment before ':'; a scope cannot start with ':'", text, position
            )
        after = position + 1
        if after == len(text):
            return ScopeSyntaxError(
                "empty segment after ':'; a scope cannot end with ':'", text, after
            )
        following = text[after]
        if following in ": ":
            return ScopeSyntaxError("empty segment after ':'", text, after)
        return ScopeSyntaxError(_character_message(following), text, after)
    return ScopeSyntaxError(_character_message(ch), text, position)
