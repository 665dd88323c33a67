"""Which operation of a GraphQL request would run, and which root fields it selects.

The policy has no GraphQL schema, so it decides per root field (DESIGN.md, "The bundled Courier
table"). This module reads the JSON body of a GraphQL POST and answers "this request runs the
query `messages`", or says plainly why it cannot tell. It never raises on the body: every problem
is a `GraphQLRejection`, which is falsy, so a caller can write ``if not op: deny(op.message)``.

graphql-core is the optional extra ``scopes-policy[graphql]``; it is imported when a body is examined,
so the rest of the package works without it.

Where the spec leaves room, or assumes a document that already passed validation, we take the
reading that can only ask the policy for more, never less (fail closed):

- ``@skip`` and ``@include`` are not evaluated. Their arguments may be variables, and a field
  skipped with these variables runs with others, so every field they guard is reported.
- Type conditions (``... on Mutation``) are not evaluated either (we have no schema): every
  inline fragment and every spread fragment at the root is followed.
- Two operations with the name asked for, or two fragments with one name, are refused:
  servers disagree on which copy wins, so we could check one and the server run the other.
- A JSON object that repeats the key "query" or "operationName" is refused for the same reason
  (RFC 8259 §4 leaves the winner open). Other repeated keys change nothing we report.
- A spread of an undefined fragment is refused; a cycle of fragments is not an error here: as
  in CollectFields, each fragment is followed once (the server's validation refuses the cycle).
"""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from typing import Any

from scopes._distribution import install_hint

__all__ = ["MAX_BODY_BYTES", "GraphQLRejection", "Operation", "root_operation"]


def __dir__() -> list[str]:
    return __all__


MAX_BODY_BYTES = 64 * 1024
"""Bodies larger than this (in UTF-8 bytes) are rejected before any parsing."""

# Parser work is linear in tokens (graphql-js#3684); a real client query has a few hundred.
_MAX_TOKENS = 5_000
# Each level of `{`, `[` or `(` costs the recursive-descent parser about five Python frames;
# 64 levels stay far below the default recursion limit whatever the caller's stack.
_MAX_DEPTH = 64
# Repeated queries (a front end sends the same few) are answered from here.
_CACHE_SIZE = 256
_CACHED_QUERY_CHARS = 4_096


@dataclass(frozen=True, slots=True)
class Operation:
    """The operation that would run: its type and the names of the root fields it selects."""

    type: str  # "query" | "mutation" | "subscription"
    fields: tuple[str, ...]  # field names, not aliases; deduplicated; `__typename` left out


@dataclass(frozen=True, slots=True)
class GraphQLRejection:
    """Why the body cannot be examined: a stable `code` and a `message` in plain words."""

    code: str
    message: str

    def __bool__(self) -> bool:
        return False


def root_operation(body: object) -> Operation | GraphQLRejection:
    """Which operation of a GraphQL request would run, and its root fields.

    `body` is the JSON body of a GraphQL POST, ``{"query": ..., "operationName": ...,
    "variables": ...}``, as text, bytes (UTF-8) or an already decoded dict. The operation is
    chosen as the spec's GetOperation does, and its root fields collected as CollectFields does
    at the root (fragments followed, aliases resolved to field names, `__typename` omitted):

    >>> root_operation('{"query": "query Inbox { unread: messages { id } __typename }"}')
    Operation(type='query', fields=('messages',))

    Anything else, including every malformed or oversized body, is a `GraphQLRejection`.
    """
    if body is None:
        return _reject("missing-query", 'the request needs a JSON body with a "query"')
    if isinstance(body, (str, bytes, bytearray)):
        body = str.__str__(body) if isinstance(body, str) else bytes(memoryview(body))
        if _too_large(body):
            message = f"the request body is larger than {MAX_BODY_BYTES} bytes"
            return _reject("body-too-large", message)
    elif not isinstance(body, dict):
        message = f"the request body must be a JSON object, not {_kind(body)}"
        return _reject("not-an-object", message)
    try:
        language = _graphql_language()
    except ImportError:
        message = f"GraphQL support is not installed: {install_hint('graphql')}"
        return _reject("missing-graphql", message)
    # A dict subclass (an OrderedDict, a framework's own mapping) is read as its plain items,
    # and str subclasses as their plain values: none of their overrides run here.
    request = dict.copy(body) if isinstance(body, dict) else _decode(body)
    if isinstance(request, GraphQLRejection):
        return request

    query = request.get("query")
    operation_name = request.get("operationName")
    variables = request.get("variables")
    if not isinstance(query, str):
        if query is None:
            return _reject("missing-query", 'the request body has no "query"')
        return _reject("missing-query", f'"query" must be a string, not {_kind(query)}')
    if operation_name is not None and not isinstance(operation_name, str):
        message = f'"operationName" must be a string or null, not {_kind(operation_name)}'
        return _reject("bad-variables-or-name", message)
    if variables is not None and not isinstance(variables, dict):
        message = f'"variables" must be an object or null, not {_kind(variables)}'
        return _reject("bad-variables-or-name", message)
    query = str.__str__(query)
    operation_name = None if operation_name is None else str.__str__(operation_name)
    if isinstance(body, dict) and _too_large(query):
        return _reject("body-too-large", f'"query" is larger than {MAX_BODY_BYTES} bytes')
    if len(query) + len(operation_name or "") <= _CACHED_QUERY_CHARS:
        return _cached_examine(query, operation_name)
    return _examine(query, operation_name, language)


def _graphql_language() -> Any:
    # A fresh import statement each call (a dict lookup once imported), so that removing the
    # extra, or a test hiding it, is seen at once.
    from graphql import language

    return language


def _reject(code: str, message: str) -> GraphQLRejection:
    return GraphQLRejection(code, message)


def _too_large(body: str | bytes | bytearray) -> bool:
    if len(body) > MAX_BODY_BYTES:
        return True
    if isinstance(body, str) and len(body) * 4 > MAX_BODY_BYTES:
        # A character is one to four UTF-8 bytes; count exactly only when it can matter.
        # "surrogatepass": a lone surrogate in the text counts as its three bytes.
        return len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES
    return False


_DECIDING_KEYS = ("query", "operationName")


class _DuplicateKey(ValueError):
    pass


def _refuse_repeated_deciding_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        for key in _DECIDING_KEYS:
            if sum(1 for name, _ in pairs if name == key) > 1:
                raise _DuplicateKey(key)
    return result


def _loads(text: str) -> Any:
    """`json.loads`, refusing an object that repeats a key our answer depends on.

    The hook costs about a microsecond, so it runs only when a repeat is possible: in text
    without a backslash every `"` delimits a string, so if `"query"` occurs at most once, no
    object can hold the key twice (and likewise for "operationName").
    """
    if "\\" not in text and text.count('"query"') < 2 and text.count('"operationName"') < 2:
        return json.loads(text)
    return json.loads(text, object_pairs_hook=_refuse_repeated_deciding_keys)


def _decode(body: str | bytes | bytearray) -> dict[str, Any] | GraphQLRejection:
    if not isinstance(body, str):
        # RFC 8259 §8.1: JSON between systems is UTF-8; `json.loads` would also guess UTF-16/32.
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"the request body is not valid UTF-8 (byte {error.start})"
            return _reject("bad-json", message)
    try:
        request = _loads(body)
    except _DuplicateKey as error:
        return _reject("bad-json", f"the request body repeats the key {_quote(error.args[0])}")
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return _reject("bad-json", f"the request body is not valid JSON: {error.msg} at {where}")
    except RecursionError:  # arrays nested thousands deep exhaust the decoder's guard
        return _reject("bad-json", "the request body is not valid JSON: it is nested too deeply")
    except ValueError:
        # The one other ValueError: an integer longer than sys.get_int_max_str_digits().
        return _reject("bad-json", "the request body is not valid JSON: a number is too long")
    if not isinstance(request, dict):
        message = f"the request body must be a JSON object, not {_kind(request)}"
        return _reject("not-an-object", message)
    return request


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_examine(query: str, operation_name: str | None) -> Operation | GraphQLRejection:
    return _examine(query, operation_name, _graphql_language())


def _examine(
    query: str, operation_name: str | None, language: Any
) -> Operation | GraphQLRejection:
    too_complex = _check_nesting(query, language)
    if too_complex is not None:
        return too_complex
    try:
        document = language.parse(query, **_parse_options(language.parse))
    except RecursionError:
        return _nested_too_deeply()
    except Exception as error:  # GraphQLSyntaxError; anything else is refused all the same
        return _syntax_rejection(error, query)

    operations = []
    fragments: dict[str, Any] = {}
    for definition in document.definitions:
        if definition.kind == "operation_definition":
            operations.append(definition)
        elif definition.kind == "fragment_definition":
            name = definition.name.value
            if name in fragments:
                message = f"the document defines fragment {_quote(name)} more than once"
                return _reject("ambiguous-fragment", message)
            fragments[name] = definition
        else:
            # Spec §6.1 "Executable Definitions": a request carries operations and fragments only.
            kind = _with_article(definition.kind.replace("_", " "))
            message = f"the document may hold only operations and fragments, not {kind}"
            return _reject("not-executable", message)

    operation = _get_operation(operations, operation_name)
    if isinstance(operation, GraphQLRejection):
        return operation
    names: dict[str, None] = {}  # an ordered set: document order, first occurrence
    rejection = _collect_fields(operation.selection_set, fragments, set(), names, 0)
    if rejection is not None:
        return rejection
    return Operation(operation.operation.value, tuple(names))


def _get_operation(operations: list[Any], operation_name: str | None) -> Any:
    """The spec's GetOperation (§6.1), refusing a name that two operations share."""
    if not operations:
        return _reject("no-operation", "the document contains no operation, only fragments")
    if operation_name is None:
        if len(operations) > 1:
            count = len(operations)
            message = f'the document contains {count} operations; choose one with "operationName"'
            return _reject("ambiguous-operation", message)
        return operations[0]
    named = [op for op in operations if op.name is not None and op.name.value == operation_name]
    if not named:
        message = f"the document has no operation named {_quote(operation_name)}"
        return _reject("unknown-operation", message)
    if len(named) > 1:
        message = f"the document contains {len(named)} operations named {_quote(operation_name)}"
        return _reject("ambiguous-operation", message)
    return named[0]


def _collect_fields(
    selection_set: Any,
    fragments: dict[str, Any],
    visited: set[str],
    names: dict[str, None],
    depth: int,
) -> GraphQLRejection | None:
    """The spec's CollectFields (§6.3.2) at the root, keeping field names instead of groups.

    Directives and type conditions are not evaluated (see the module docstring). Work is
    bounded: each fragment is followed once, and fragments nest at most `_MAX_DEPTH` deep.
    """
    if depth > _MAX_DEPTH:
        return _reject("too-complex", f"fragments at the root nest more than {_MAX_DEPTH} deep")
    for selection in selection_set.selections:
        kind = selection.kind
        if kind == "field":
            name = selection.name.value
            if name != "__typename":  # answered by the server itself; needs no scope
                names[name] = None
            continue
        if kind == "fragment_spread":
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments.get(name)
            if fragment is None:
                message = f"the document spreads fragment {_quote(name)} but does not define it"
                return _reject("unknown-fragment", message)
            inner = fragment.selection_set
        elif kind == "inline_fragment":
            inner = selection.selection_set
        else:
            message = f"the document holds a selection this module cannot read ({kind})"
            return _reject("syntax-error", message)
        rejection = _collect_fields(inner, fragments, visited, names, depth + 1)
        if rejection is not None:
            return rejection
    return None


def _check_nesting(query: str, language: Any) -> GraphQLRejection | None:
    """Refuse documents nested deeper than `_MAX_DEPTH` before the recursive parser sees them."""
    if query.count("{") + query.count("[") + query.count("(") <= _MAX_DEPTH:
        return None  # cannot nest deeper than it has brackets (comments and strings included)
    token_kind = language.TokenKind
    opening = {token_kind.BRACE_L, token_kind.BRACKET_L, token_kind.PAREN_L}
    closing = {token_kind.BRACE_R, token_kind.BRACKET_R, token_kind.PAREN_R}
    lexer = language.Lexer(language.Source(query))
    depth = tokens = 0
    try:
        while True:
            kind = lexer.advance().kind
            if kind is token_kind.EOF:
                return None
            tokens += 1
            if tokens > _MAX_TOKENS:
                return _too_many_tokens()
            if kind in opening:
                depth += 1
                if depth > _MAX_DEPTH:
                    return _nested_too_deeply()
            elif kind in closing:
                depth -= 1
    except Exception:  # a lexical error: the parser reports it, having read only checked tokens
        return None


@functools.cache
def _parse_options(parse: Any) -> dict[str, Any]:
    # `max_tokens` arrived in graphql-core 3.2.3; before it, MAX_BODY_BYTES alone bounds the work.
    options: dict[str, Any] = {"no_location": True}
    if "max_tokens" in inspect.signature(parse).parameters:
        options["max_tokens"] = _MAX_TOKENS
    return options


def _syntax_rejection(error: Exception, query: str) -> GraphQLRejection:
    message = str(getattr(error, "message", "") or error)
    if message.startswith("Syntax Error: "):
        message = message[len("Syntax Error: ") :]
    if message.startswith("Document contains more than "):
        return _too_many_tokens()
    if message.startswith("Document is nested too deeply"):  # graphql-core 3.3's RecursionError
        return _nested_too_deeply()
    positions = getattr(error, "positions", None)
    if positions and 0 <= positions[0] <= len(query):
        line, column = _line_column(query, positions[0])
        where = f" at line {line}, column {column}"
    else:
        where = ""
    return _reject("syntax-error", f"GraphQL syntax error{where}: {message}")


def _line_column(text: str, position: int) -> tuple[int, int]:
    r"""1-based line and column of `position`; lines end at CR LF, LF or CR (spec §2.1.3).

    Computed here rather than taken from the error: graphql-core 3.2 puts a character that
    starts a line at the end of the line before (`"{ a }\n}"` reports line 1, column 6).

    >>> _line_column("{ a }\r\n\r}", 8)
    (3, 1)
    """
    before = text[:position]
    line = 1 + before.count("\n") + before.count("\r") - before.count("\r\n")
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return line, position - line_start + 1


def _too_many_tokens() -> GraphQLRejection:
    return _reject("too-complex", f"the document has more than {_MAX_TOKENS} tokens")


def _nested_too_deeply() -> GraphQLRejection:
    return _reject("too-complex", f"the document nests more than {_MAX_DEPTH} levels deep")


_JSON_KINDS = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _kind(value: object) -> str:
    return _JSON_KINDS.get(type(value)) or _with_article(type(value).__name__)


def _with_article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in {"a", "e", "i", "o", "u"} else f"a {noun}"


def _quote(text: str, limit: int = 60) -> str:
    """`text` quoted for a message: escapes shown (no control characters reach a log), clipped."""
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return repr(text)
