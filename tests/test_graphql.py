"""Tests for scopes.graphql: which operation a GraphQL POST runs, and its root fields."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopes import graphql
from scopes.graphql import MAX_BODY_BYTES, GraphQLRejection, Operation, root_operation


def body(query: object, **extra: object) -> str:
    return json.dumps({"query": query, **extra})


def query(*fields: str) -> Operation:
    return Operation("query", fields)


def rejected(code: str, message: str) -> GraphQLRejection:
    return GraphQLRejection(code, message)


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        # Operation types.
        pytest.param(body("{ messages { id } }"), query("messages"), id="shorthand"),
        pytest.param(body("query Inbox { messages { id } }"), query("messages"), id="named-query"),
        pytest.param(
            body("query Inbox($n: Int = 3) { messages(first: $n) { id } }"),
            query("messages"),
            id="named-query-with-variables",
        ),
        pytest.param(
            body("mutation { markRead(id: 1) { id } }"),
            Operation("mutation", ("markRead",)),
            id="mutation",
        ),
        pytest.param(
            body("subscription Live { newMessage { id } }"),
            Operation("subscription", ("newMessage",)),
            id="subscription",
        ),
        # Field names, not response keys.
        pytest.param(
            body("{ first: messages(first: 1) { id } all: messages { id } brands }"),
            query("messages", "brands"),
            id="aliases-report-the-field-once",
        ),
        pytest.param(
            body("{ messages: brands { id } }"),
            query("brands"),
            id="alias-named-like-another-field",
        ),
        pytest.param(body("{ brands messages brands }"), query("brands", "messages"), id="dedup"),
        pytest.param(body("{ __typename }"), query(), id="typename-alone"),
        pytest.param(
            body("{ t: __typename messages { __typename } }"),
            query("messages"),
            id="typename-omitted",
        ),
        pytest.param(
            body("{ __schema { types { name } } }"), query("__schema"), id="introspection-schema"
        ),
        pytest.param(
            body('{ __type(name: "Message") { name } }'), query("__type"), id="introspection-type"
        ),
        pytest.param(
            body("{ messages { ...Parts } } fragment Parts on Message { secret }"),
            query("messages"),
            id="fields-below-the-root-are-not-collected",
        ),
        # Fragments at the root.
        pytest.param(
            body("{ ...Inbox brands } fragment Inbox on Query { messages { id } }"),
            query("messages", "brands"),
            id="fragment-spread",
        ),
        pytest.param(
            body("query { brands ... on Query { messages { id } } }"),
            query("brands", "messages"),
            id="inline-fragment",
        ),
        pytest.param(
            body("{ ... { messages } }"), query("messages"), id="inline-fragment-without-type"
        ),
        pytest.param(
            body(
                "{ ...A } fragment A on Query { a ...B ... on Query { ...C } }"
                " fragment B on Query { b } fragment C on Query { c: messages }"
            ),
            query("a", "b", "messages"),
            id="fragments-inside-fragments-in-document-order",
        ),
        pytest.param(
            body("{ ...A ...A ... { ...A } } fragment A on Query { messages }"),
            query("messages"),
            id="fragment-spread-twice",
        ),
        pytest.param(
            body("{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }"),
            query("a", "b"),
            id="fragment-cycle-followed-once",
        ),
        pytest.param(
            body("{ ...Self } fragment Self on Query { ...Self messages }"),
            query("messages"),
            id="fragment-spreads-itself",
        ),
        pytest.param(
            body("{ ... on Mutation { markRead } }"),
            query("markRead"),
            id="type-conditions-not-evaluated",
        ),
        pytest.param(
            body("fragment A on Query { messages } query { ...A }"),
            query("messages"),
            id="fragment-before-operation",
        ),
        # Directives are not evaluated: a skipped field may run with other variables.
        pytest.param(
            body("{ messages @skip(if: true) brands @include(if: false) }"),
            query("messages", "brands"),
            id="skip-and-include-not-evaluated",
        ),
        pytest.param(
            body(
                "query ($no: Boolean!) { ...A @include(if: $no) ... @skip(if: true) { b } }"
                " fragment A on Query { a }",
                variables={"no": False},
            ),
            query("a", "b"),
            id="skipped-fragments-still-reported",
        ),
        # operationName: the spec's GetOperation.
        pytest.param(
            body("query A { a } query B { b } mutation C { c }", operationName="C"),
            Operation("mutation", ("c",)),
            id="operation-name-matches",
        ),
        pytest.param(
            body("query A { a }", operationName=None),
            query("a"),
            id="operation-name-null",
        ),
        pytest.param(
            body("query A { a } query B { b }", operationName="Z"),
            rejected("unknown-operation", "the document has no operation named 'Z'"),
            id="operation-name-matches-nothing",
        ),
        pytest.param(
            body("{ a }", operationName=""),
            rejected("unknown-operation", "the document has no operation named ''"),
            id="operation-name-for-anonymous-operation",
        ),
        pytest.param(
            body("query A { a } query B { b }"),
            rejected(
                "ambiguous-operation",
                'the document contains 2 operations; choose one with "operationName"',
            ),
            id="operation-name-absent-with-several",
        ),
        pytest.param(
            body("query A { a } query A { b }", operationName="A"),
            rejected("ambiguous-operation", "the document contains 2 operations named 'A'"),
            id="operation-name-shared",
        ),
        pytest.param(
            body("{ a }", operationName="x" * 100),
            rejected("unknown-operation", f"the document has no operation named {'x' * 60!r}..."),
            id="operation-name-clipped-in-message",
        ),
        pytest.param(
            body("{ a }", operationName="\x1b[31m\n"),
            rejected("unknown-operation", "the document has no operation named '\\x1b[31m\\n'"),
            id="operation-name-escaped-in-message",
        ),
        pytest.param(
            body("fragment A on Query { a }"),
            rejected("no-operation", "the document contains no operation, only fragments"),
            id="only-fragments",
        ),
        # Fragment problems.
        pytest.param(
            body("{ messages ...Missing }"),
            rejected(
                "unknown-fragment", "the document spreads fragment 'Missing' but does not define it"
            ),
            id="unknown-fragment",
        ),
        pytest.param(
            body("{ ...A } fragment A on Query { a } fragment A on Query { b }"),
            rejected("ambiguous-fragment", "the document defines fragment 'A' more than once"),
            id="fragment-defined-twice",
        ),
        # Type-system definitions.
        pytest.param(
            body("type Query { messages: [String] }"),
            rejected(
                "not-executable",
                "the document may hold only operations and fragments,"
                " not an object type definition",
            ),
            id="type-definition",
        ),
        pytest.param(
            body("{ messages } extend type Query { more: Int }"),
            rejected(
                "not-executable",
                "the document may hold only operations and fragments,"
                " not an object type extension",
            ),
            id="type-extension-beside-a-query",
        ),
        pytest.param(
            body("schema { query: Query } { a }"),
            rejected(
                "not-executable",
                "the document may hold only operations and fragments, not a schema definition",
            ),
            id="schema-definition",
        ),
        # Body forms.
        pytest.param(
            b'{"query": "{ messages { id } }"}', query("messages"), id="bytes-body"
        ),
        pytest.param(
            bytearray(b'{"query": "{ messages }"}'), query("messages"), id="bytearray-body"
        ),
        pytest.param({"query": "{ messages { id } }"}, query("messages"), id="dict-body"),
        pytest.param(
            '{"query": "{ \\u006dessages }", "extensions": {"trace": true}}',
            query("messages"),
            id="escaped-json-and-unknown-keys",
        ),
        pytest.param(
            None,
            rejected("missing-query", 'the request needs a JSON body with a "query"'),
            id="no-body",
        ),
        pytest.param(
            "{}", rejected("missing-query", 'the request body has no "query"'), id="missing-query"
        ),
        pytest.param(
            body(None),
            rejected("missing-query", 'the request body has no "query"'),
            id="null-query",
        ),
        pytest.param(
            body(["{ a }"]),
            rejected("missing-query", '"query" must be a string, not an array'),
            id="query-not-a-string",
        ),
        pytest.param(
            {"query": b"{ a }"},
            rejected("missing-query", '"query" must be a string, not a bytes'),
            id="dict-query-bytes",
        ),
        pytest.param(
            body("{ a }", operationName=1),
            rejected(
                "bad-variables-or-name", '"operationName" must be a string or null, not a number'
            ),
            id="operation-name-not-a-string",
        ),
        pytest.param(
            body("{ a }", variables=[1]),
            rejected(
                "bad-variables-or-name", '"variables" must be an object or null, not an array'
            ),
            id="variables-not-an-object",
        ),
        pytest.param(
            "{'query': '{ a }'}",
            rejected(
                "bad-json",
                "the request body is not valid JSON:"
                " Expecting property name enclosed in double quotes at line 1, column 2",
            ),
            id="bad-json",
        ),
        pytest.param(
            "",
            rejected(
                "bad-json",
                "the request body is not valid JSON: Expecting value at line 1, column 1",
            ),
            id="empty-body",
        ),
        pytest.param(
            b'{"query": "\xff"}',
            rejected("bad-json", "the request body is not valid UTF-8 (byte 11)"),
            id="bytes-not-utf8",
        ),
        pytest.param(
            '{"query": "{ __typename }", "query": "{ messages }"}',
            rejected("bad-json", "the request body repeats the key 'query'"),
            id="duplicate-key",
        ),
        pytest.param(
            '{"query": "{ __typename }", "\\u0071uery": "{ messages }"}',
            rejected("bad-json", "the request body repeats the key 'query'"),
            id="duplicate-key-escaped",
        ),
        pytest.param(
            '{"operationName": "A", "query": "query A { a } query B { b }", "operationName": "B"}',
            rejected("bad-json", "the request body repeats the key 'operationName'"),
            id="duplicate-operation-name",
        ),
        pytest.param(
            '{"query": "{ messages }", "variables": {"x": 1, "x": 2}}',
            query("messages"),
            id="other-duplicate-keys-change-nothing",
        ),
        pytest.param(
            '{"query": "{ messages(q: \\"query\\") }", "variables": {"query": 1, "x": 1, "x": 2}}',
            query("messages"),
            id="other-duplicate-keys-on-the-slow-path",
        ),
        pytest.param(
            '{"query": "{ a }", "variables": {"n": ' + "1" * 5000 + "}}",
            rejected("bad-json", "the request body is not valid JSON: a number is too long"),
            id="json-number-too-long",
        ),
        pytest.param(
            '[{"query": "{ a }"}]',
            rejected("not-an-object", "the request body must be a JSON object, not an array"),
            id="batch-not-supported",
        ),
        pytest.param(
            '"{ a }"',
            rejected("not-an-object", "the request body must be a JSON object, not a string"),
            id="json-string",
        ),
        pytest.param(
            "null",
            rejected("not-an-object", "the request body must be a JSON object, not null"),
            id="json-null",
        ),
        pytest.param(
            ["{ a }"],
            rejected("not-an-object", "the request body must be a JSON object, not an array"),
            id="list-body",
        ),
        pytest.param(
            42,
            rejected("not-an-object", "the request body must be a JSON object, not a number"),
            id="int-body",
        ),
        pytest.param(
            {1, 2},
            rejected("not-an-object", "the request body must be a JSON object, not a set"),
            id="set-body",
        ),
        pytest.param(
            object(),
            rejected("not-an-object", "the request body must be a JSON object, not an object"),
            id="object-body",
        ),
        pytest.param(
            memoryview(b"{}"),
            rejected("not-an-object", "the request body must be a JSON object, not a memoryview"),
            id="memoryview-body",
        ),
        # GraphQL syntax.
        pytest.param(
            body("{ messages "),
            rejected(
                "syntax-error",
                "GraphQL syntax error at line 1, column 12: Expected Name, found <EOF>.",
            ),
            id="syntax-error",
        ),
        pytest.param(
            body("{ a }\n}"),
            rejected("syntax-error", "GraphQL syntax error at line 2, column 1: Unexpected '}'."),
            id="syntax-error-line-two",
        ),
        pytest.param(
            body("{ a }\r\n\r\n  }"),
            rejected("syntax-error", "GraphQL syntax error at line 3, column 3: Unexpected '}'."),
            id="syntax-error-after-crlf",
        ),
        pytest.param(
            body('{ a(x: 1 "Document is nested too deeply") }'),
            rejected(
                "syntax-error",
                "GraphQL syntax error at line 1, column 10:"
                " Expected Name, found String 'Document is nested too deeply'.",
            ),
            id="syntax-error-quoting-a-limit-message",
        ),
        pytest.param(
            body(""),
            rejected("syntax-error", "GraphQL syntax error at line 1, column 1: Unexpected <EOF>."),
            id="empty-query",
        ),
        pytest.param(
            body("# only a comment\n"),
            rejected("syntax-error", "GraphQL syntax error at line 2, column 1: Unexpected <EOF>."),
            id="only-a-comment",
        ),
        # Size and depth limits.
        pytest.param(
            body("{ messages }") + " " * MAX_BODY_BYTES,
            rejected("body-too-large", "the request body is larger than 65536 bytes"),
            id="body-too-large",
        ),
        pytest.param(
            body("{ messages }").encode() + b" " * MAX_BODY_BYTES,
            rejected("body-too-large", "the request body is larger than 65536 bytes"),
            id="bytes-body-too-large",
        ),
        pytest.param(
            json.dumps({"query": f'{{ a(x: "{"é" * 40_000}") }}'}, ensure_ascii=False),
            rejected("body-too-large", "the request body is larger than 65536 bytes"),
            id="body-too-large-in-utf8-bytes",
        ),
        pytest.param(
            '{"query": "{ messages }"}'.ljust(MAX_BODY_BYTES),
            query("messages"),
            id="body-at-the-limit",
        ),
        pytest.param(
            {"query": "{ messages }" + " " * MAX_BODY_BYTES},
            rejected("body-too-large", '"query" is larger than 65536 bytes'),
            id="dict-query-too-large",
        ),
        pytest.param(
            body("{" + "a {" * 100 + "b" + "}" * 101),
            rejected("too-complex", "the document nests more than 64 levels deep"),
            id="deep-selections",
        ),
        pytest.param(
            body("{ a(x: " + "[" * 100 + "]" * 100 + ") }"),
            rejected("too-complex", "the document nests more than 64 levels deep"),
            id="deep-list-value",
        ),
        pytest.param(
            body("{" + "... {" * 100 + "a" + "}" * 101),
            rejected("too-complex", "the document nests more than 64 levels deep"),
            id="deep-inline-fragments",
        ),
        pytest.param(
            body("{" + "a {" * 60 + "b" + "}" * 61 + " { c }" * 100, operationName=None),
            rejected(
                "ambiguous-operation",
                'the document contains 101 operations; choose one with "operationName"',
            ),
            id="many-brackets-but-shallow",
        ),
        pytest.param(
            body(
                "{ ...F0 } "
                + " ".join(f"fragment F{i} on Query {{ f{i} ...F{i + 1} }}" for i in range(80))
                + " fragment F80 on Query { end }"
            ),
            rejected("too-complex", "fragments at the root nest more than 64 deep"),
            id="deep-fragment-chain",
        ),
        pytest.param(
            body("{ " + "a " * 6000 + "}"),
            rejected("too-complex", "the document has more than 5000 tokens"),
            id="too-many-tokens",
        ),
        pytest.param(
            body("{ " + "a(x: 1) " * 1000 + "}"),
            rejected("too-complex", "the document has more than 5000 tokens"),
            id="too-many-tokens-with-many-brackets",
        ),
        pytest.param(
            '{"query": "{ a }", "variables": {"v": ' + "[" * 30_000 + "]" * 30_000 + "}}",
            rejected("bad-json", "the request body is not valid JSON: it is nested too deeply"),
            id="deep-json",
        ),
    ],
)
def test_root_operation(request_body: object, expected: Operation | GraphQLRejection) -> None:
    assert root_operation(request_body) == expected  # type: ignore[arg-type]


def test_rejection_is_falsy_and_operation_truthy() -> None:
    assert not GraphQLRejection("syntax-error", "x")
    assert Operation("query", ())
    assert bool(root_operation(body("{ __typename }"))) is True


def test_public_names() -> None:
    assert graphql.__all__ == [
        "MAX_BODY_BYTES",
        "GraphQLRejection",
        "Operation",
        "root_operation",
    ]
    assert dir(graphql) == sorted(graphql.__all__)
    assert MAX_BODY_BYTES == 64 * 1024


def test_without_graphql_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphql", None)  # `import graphql` now fails
    result = root_operation(body("{ messages }"))
    assert result == rejected(
        "missing-graphql", "GraphQL support is not installed: pip install 'scopes-policy[graphql]'"
    )


# Property tests. The strategies stay beside the properties: this file is the only one the
# module's tests own.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

# Pieces of GraphQL, joined at random, reach far more parser states than random text does.
graphql_pieces = st.sampled_from(
    [
        "{", "}", "(", ")", "[", "]", ":", "=", "$v", "@skip(if: true)", "@include(if: $v)",
        "...", "... on Query", "on", "fragment", "F", "G", "query", "mutation", "subscription",
        "Q", "messages", "brands", "__typename", "__schema", "a:", "1", "-1.5e3", '"s"',
        '"""block"""', "#comment\n", ",", " ", "\n", "type", "schema", "extend", "input",
        "scalar", "directive", "&", "|", "!", "\\", "\x00", "\ud800", "é",
    ]
)
almost_graphql = st.lists(graphql_pieces, max_size=60).map("".join)
request_dicts = st.dictionaries(
    st.sampled_from(["query", "operationName", "variables"]), json_values | almost_graphql
)
operation_names = st.none() | st.sampled_from(["Q", "F", "G", "", "query"]) | json_values
key_spellings = st.sampled_from(
    [
        ("query", '"query"'),
        ("query", '"\\u0071uery"'),
        ("operationName", '"operationName"'),
        ("operationName", '"operation\\u004eame"'),
        ("x", '"x"'),
    ]
)
member_values = st.sampled_from(['"{ a }"', "null", '"query"', '{"query": 1}', "[1]"])

# A root selection as a tree: a field (name, alias, directive), or an inline fragment or a named
# fragment around more selections.
field_names = st.sampled_from(["messages", "brands", "me", "__typename", "__schema"])
selections = st.recursive(
    st.tuples(
        st.just("field"),
        field_names,
        st.sampled_from(["", "x: ", "messages: "]),
        st.sampled_from(["", " @skip(if: true)", " @include(if: $v)"]),
    ),
    lambda inner: st.tuples(st.sampled_from(["inline", "spread"]), st.lists(inner, min_size=1)),
    max_leaves=12,
)


def _check(result: object) -> None:
    """The result is one of the two types; an Operation names each root field once."""
    if isinstance(result, GraphQLRejection):
        assert result.code and result.message
        return
    assert isinstance(result, Operation)
    assert result.type in {"query", "mutation", "subscription"}
    assert len(set(result.fields)) == len(result.fields)
    assert "__typename" not in result.fields


@settings(deadline=None)
@given(st.text() | st.binary())
def test_never_raises_on_text_or_bytes(raw: str | bytes) -> None:
    """Any text or bytes gives an Operation or a GraphQLRejection, never an exception."""
    _check(root_operation(raw))


@settings(deadline=None)
@given(json_values | request_dicts)
def test_never_raises_on_decoded_values(value: object) -> None:
    """Any decoded JSON value, or dict of the known keys, is answered without raising."""
    _check(root_operation(value))  # type: ignore[arg-type]


@settings(deadline=None)
@given(almost_graphql, operation_names, st.sampled_from(["str", "bytes", "dict"]))
def test_never_raises_on_almost_graphql(document: str, name: object, form: str) -> None:
    """GraphQL-like documents, in every body form, are answered without raising."""
    request = {"query": document, "operationName": name}
    if form == "dict":
        _check(root_operation(request))
    else:
        text = json.dumps(request)
        _check(root_operation(text if form == "str" else text.encode()))


@settings(deadline=None)
@given(almost_graphql)
def test_forms_agree(document: str) -> None:
    """The same request as str, bytes or dict gets the same answer."""
    request = {"query": document}
    text = json.dumps(request)
    assert root_operation(text) == root_operation(text.encode()) == root_operation(request)


@settings(deadline=None)
@given(st.lists(st.tuples(key_spellings, member_values), max_size=6))
def test_repeated_keys(members: list[tuple[tuple[str, str], str]]) -> None:
    """A body is refused for a repeated key exactly when it repeats "query" or "operationName",
    however each is spelled; other repeated keys, and the same key in a nested object, pass."""
    text = "{" + ", ".join(f"{spelling}: {value}" for (_, spelling), value in members) + "}"
    names = [name for (name, _), _ in members]
    repeated = names.count("query") > 1 or names.count("operationName") > 1
    result = root_operation(text)
    refused = isinstance(result, GraphQLRejection) and "repeats the key" in result.message
    assert refused == repeated


def _render(items: list, fragments: list[str]) -> tuple[str, list[str]]:
    """The selection set for `items`, and the field names CollectFields would meet, in order."""
    parts, names = [], []
    for item in items:
        if item[0] == "field":
            _, name, alias, directive = item
            parts.append(f"{alias}{name}{directive}")
            names.append(name)
            continue
        inner, inner_names = _render(item[1], fragments)
        names += inner_names
        if item[0] == "inline":
            parts.append(f"... on Query {inner}")
        else:
            fragments.append(f"fragment F{len(fragments)} on Query {inner}")
            parts.append(f"...F{len(fragments) - 1}")
    return "{ " + " ".join(parts) + " }", names


@settings(deadline=None)
@given(st.lists(selections, min_size=1, max_size=6), st.sampled_from(["query", "mutation"]))
def test_fields_follow_collect_fields(items: list, kind: str) -> None:
    """The fields are the names met walking the root in document order, fragments inlined,
    each once, aliases and directives ignored, `__typename` left out."""
    fragments: list[str] = []
    selection_set, names = _render(items, fragments)
    document = f"{kind} ($v: Boolean) {selection_set} " + " ".join(fragments)
    expected = tuple(dict.fromkeys(name for name in names if name != "__typename"))
    assert root_operation({"query": document}) == Operation(kind, expected)
