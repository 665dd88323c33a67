"""Scope-string syntax: the Lark LALR parser for grammar/scopes.lark, built once per process.

Text goes in, scope tokens with their spans come out; what a token means is the catalogue's
business (scopes.catalogue). This is the only module that touches `lark.exceptions`.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

from scopes.errors import ScopeSyntaxError

__all__ = ["GRAMMAR_FILE", "grammar_text", "scope_tokens"]

GRAMMAR_FILE = "scopes.lark"


def __dir__() -> list[str]:
    return __all__


def grammar_text() -> str:
    """The grammar shipped inside the wheel; in a source checkout, the one in grammar/."""
    packaged = resources.files("scopes").joinpath("grammar", GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parent.parent / "grammar" / GRAMMAR_FILE
    return source_tree.read_text(encoding="utf-8")


class _ToTokens(Transformer):
    """Rule -> value, one line per rule of grammar/scopes.lark."""

    def start(self, children: list[Token]) -> list[Token]:
        return children


@functools.cache
def _parser() -> Lark:
    # The transformer is passed to the LALR constructor, so no parse tree is ever built.
    return Lark(grammar_text(), parser="lalr", lexer="basic", transformer=_ToTokens())


def scope_tokens(text: str) -> list[tuple[str, int, int]]:
    """Split a scope string into its scope tokens: (token, start, end), end exclusive.

    Raises ScopeSyntaxError, positioned at the first offset where the text can no longer begin
    a valid scope string.
    """
    try:
        tokens = _parser().parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    spans = []
    for token in tokens:
        value = token.value
        if value[0] == " ":  # the grammar lets a SCOPE carry the spaces before it
            value = value.lstrip(" ")
        spans.append((value, token.end_pos - len(value), token.end_pos))
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


def _syntax_error(text: str, error: UnexpectedInput) -> ScopeSyntaxError:
    """Turn Lark's failure into our position and wording.

    The grammar's SCOPE terminal stops before a ':' that does not start a non-empty segment, so
    the lexer fails *at* that colon. When the colon follows a segment, the text was still a valid
    prefix there (`read:` can become `read:x`), and the error belongs to the next offset.
    """
    position = error.pos_in_stream if isinstance(error, UnexpectedCharacters) else len(text)
    if position < 0:  # UnexpectedEOF reports -1
        position = len(text)
    if position >= len(text):
        return ScopeSyntaxError("unexpected end of scope string", text, len(text))
    ch = text[position]
    if ch == ":":
        if position == 0 or text[position - 1] == " ":
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
