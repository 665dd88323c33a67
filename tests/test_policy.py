"""Policy files: every load-time mistake explained; the compiled router against a naive one."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopes import Policy, PolicyError
from scopes.paths import canonical_segments
from tests import strategies

HEADER = """
version = 1
name = "test"
[scopes."read:things"]
qualifier = "thing_id"
[scopes."write:things"]
qualifier = "thing_id"
[scopes."read:notes"]
needs_principal = true
"""


def load(body: str) -> Policy:
    return Policy.from_toml(HEADER + textwrap.dedent(body), file="policy.toml")


def error_of(body: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load(body)
    return caught.value


def test_a_good_policy_loads_and_decides():
    policy = load(
        """
        [[endpoints]]
        methods = ["GET"]
        path = "/things/{id}"
        any_of = ["read:things:{id}"]
        """
    )
    assert policy.authorize("read:things:a", "GET", "/things/a").allowed
    assert policy.authorize("read:things", "GET", "/things/a").allowed  # bare covers qualified
    assert not policy.authorize("read:things:b", "GET", "/things/a").allowed


def test_error_names_file_line_entry_and_fix():
    error = error_of(
        """
        [[endpoints]]
        methods = ["GET"]
        path = "/things"
        any_of = ["read:thing"]
        """
    )
    # the line of `any_of`, where the linter points too
    assert str(error) == (
        "policy.toml:14: endpoints[0]: unknown scope 'read:thing'; did you mean 'read:things'?\n"
        "    fix: or declare it under [scopes.'read:thing'] if it is a new scope"
    )
    assert (error.file, error.line, error.entry) == ("policy.toml", 14, "endpoints[0]")


MISTAKES = [
    pytest.param(
        '[[endpoints]]\nmethods = []\npath = "/t"\nany_of = ["read:things"]',
        "`methods` must not be empty", None, id="no-methods",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET", 1]\npath = "/t"\nany_of = ["read:things"]',
        "`methods[1]` must be a string, not a number", None, id="method-not-a-string",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\npublic = "yes"',
        "`public` must be true or false, not a string", None, id="public-not-a-boolean",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = []',
        "`any_of` must not be empty", None, id="any-of-empty",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["read:things,write:things"]',
        "'read:things,write:things' looks like part of a comma-separated list; scopes are "
        "separated by single spaces: write 'read:things write:things'",
        "if all are needed, write 'read:things write:things'; if any one suffices: "
        '["read:things", "write:things"]',
        id="comma-separated-alternative",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/u/{user_id}"\npublic = true\n'
        'principal_param = "user_id"',
        "`public = true` and `principal_param` contradict each other: a public route binds no "
        "user",
        "drop `principal_param`, or replace `public = true` with an `any_of`",
        id="public-with-a-binding",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/items/admin"\nany_of = ["read:things"]\n'
        '[[endpoints]]\nmethods = ["PUT"]\npath = "/items/Admin"\nany_of = ["write:things"]',
        "path segments 'admin' and 'Admin' differ only in case: a case-insensitive router "
        "cannot tell their routes apart",
        "spell the segment one way in every route",
        id="literals-differ-only-in-case",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t/{id}"\nany_of = ["read:things:{other}"]',
        "placeholder {other} is not a parameter of the path",
        "use one of the path's parameters ({id})",
        id="placeholder-not-in-path",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t/{id}"\nany_of = ["read:things"]\n'
        '[[endpoints]]\nmethods = ["GET", "PUT"]\npath = "/t/{name}"\nany_of = ["read:things"]',
        "route GET /t/{name} is declared twice (also by endpoints[0]); the two would match the "
        "same requests",
        "merge the two entries, or remove one",
        id="duplicate-route",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["get"]\npath = "/t"\nany_of = ["read:things"]',
        "method 'get' is not upper case; methods are case-sensitive",
        "did you mean 'GET'?",
        id="lowercase-method",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GE T"]\npath = "/t"\nany_of = ["read:things"]',
        "method 'GE T' is not an HTTP method token (RFC 9110)",
        'use names such as "GET", "PUT", "DELETE"',
        id="bad-method",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET", "GET"]\npath = "/t"\nany_of = ["read:things"]',
        "a method is listed twice",
        "list each once",
        id="method-twice",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["read:notes:x"]',
        "scope 'read:notes' takes no qualifier, so 'read:notes:x' is unknown; write 'read:notes'",
        "or declare `qualifier = ...` under [scopes.'read:notes'] if it takes one",
        id="qualifier-not-taken",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "t"\nany_of = ["read:things"]',
        "path 't' must start with '/'",
        "use '/t'",
        id="path-without-slash",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t/x{id}"\nany_of = ["read:things"]',
        "segment 'x{id}' of '/t/x{id}' mixes a parameter with text",
        "a parameter is a whole segment: /brands/{id}",
        id="mixed-segment",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t/{id}/{id}"\nany_of = ["read:things"]',
        "path parameter 'id' appears twice in '/t/{id}/{id}'",
        "give each parameter its own name",
        id="parameter-twice",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t/../x"\nany_of = ["read:things"]',
        "segment '..' of '/t/../x' is not a canonical path segment",
        None,
        id="dot-segment-template",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t//x"\nany_of = ["read:things"]',
        "path '/t//x' has an empty segment ('//')",
        "remove the doubled '/'; requests with '//' are always denied",
        id="empty-segment-template",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t/{id}"\nany_of = ["read:things:x{id}"]',
        "placeholder in 'read:things:x{id}' must be the whole qualifier",
        "write read:things:{param}",
        id="partial-placeholder",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["read:things"]\n'
        'principal_param = "user_id"',
        "principal_param 'user_id' is not a parameter of the path '/t'",
        "use one of the path's parameters (none)",
        id="principal-param-not-in-path",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["  "]',
        "an empty alternative would allow any token",
        "write `authenticated = true` for any valid token, or `public = true` if no token is needed",
        id="empty-alternative",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["read::things"]',
        "invalid scope string:\nempty segment after ':'\n    read::things\n         ^",
        "write scopes separated by single spaces (RFC 6749 §3.3)",
        id="syntax-error-in-requirement",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"',
        'needs `any_of = ["scope ...", ...]` (or `authenticated = true`, or `public = true`)',
        None,
        id="no-requirement",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["read:things"]\nanyof = []',
        "unknown key 'anyof'",
        'remove it or correct its spelling (`scopes schema` prints the policy format; README.md, '
        '"Policy files", shows it)',
        id="unknown-key",
    ),
    pytest.param(
        '[[endpoints]]\nmethods = ["GET"]\nany_of = ["read:things"]',
        "missing required key 'path'",
        "add `path = ...`",
        id="missing-key",
    ),
    pytest.param(
        '[scopes."read:things:all"]\n',
        "'read:things:all' could also be read as 'read:things' with qualifier 'all'",
        "rename one of them, or drop the qualifier of 'read:things'",
        id="ambiguous-catalogue",
    ),
    pytest.param(
        '[scopes."user_id:admin"]\n',
        "scope 'user_id:admin' clashes with the principal scope 'user_id':<id>",
        "rename the scope or the principal",
        id="scope-clashes-with-principal",
    ),
    pytest.param(
        '[roles]\nreader = "read:thingz"',
        "unknown scope 'read:thingz'; did you mean 'read:things'?",
        "or declare it under [scopes.'read:thingz'] if it is a new scope",
        id="unknown-scope-in-role",
    ),
    pytest.param(
        '[[graphql]]\npath = "/gql"',
        "GraphQL endpoint lists no field",
        'add e.g. `[graphql.query.messages]` with `any_of = ["read:messages"]`',
        id="graphql-without-fields",
    ),
    pytest.param(
        "[[endpoints]\n",
        "invalid TOML: ",
        "fix the TOML syntax",
        id="toml-syntax",
    ),
]


@pytest.mark.parametrize(("body", "message", "fix"), MISTAKES)
def test_each_mistake_gives_its_message(body, message, fix):
    error = error_of(body)
    assert error.message.startswith(message), error.message
    if message.endswith(": "):  # TOML's own message follows
        assert error.line is not None
    else:
        assert error.message == message or error.message.startswith(message + " (")
    if fix is not None:
        assert error.fix == fix


PYDANTIC_WORDING = ("Input should", "should have at least", "after validation", "Field required",
                    "Extra inputs", "validation error", "type=")


@pytest.mark.parametrize("body", [p.values[0] for p in MISTAKES])
def test_no_message_shows_pydantic_wording_or_points_into_the_package(body):
    text = str(error_of(body))
    assert not any(words in text for words in PYDANTIC_WORDING), text
    assert "scopes/policy/" not in text and "site-packages" not in text, text
    assert "at at" not in text


def test_a_wrong_version_is_named_at_its_line():
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml('name = "x"\nversion = 2\n', file="p.toml")
    assert str(caught.value) == "p.toml:2: `version` must be 1, not 2\n    fix: write `version = 1`"


def test_routes_no_request_can_tell_apart_are_placed_at_the_later_entry():
    error = error_of(
        """
        [[endpoints]]
        methods = ["GET"]
        path = "/items/admin"
        any_of = ["read:things"]

        [[endpoints]]
        methods = ["GET"]
        path = "/items/ADMIN"
        any_of = ["read:things"]
        """
    )
    assert (error.entry, error.line) == ("endpoints[1]", 16)


def test_unreadable_policy_files(tmp_path):
    with pytest.raises(PolicyError, match="policy file not found"):
        Policy.from_file(tmp_path / "missing.toml")
    with pytest.raises(PolicyError, match="policy path is a directory"):
        Policy.from_file(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(PolicyError, match="not UTF-8"):
        Policy.from_file(bad)


def test_from_dict_and_file_agree(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(HEADER + '[[endpoints]]\nmethods = ["GET"]\npath = "/t"\nany_of = ["read:things"]\n')
    from_file = Policy.from_file(path)
    import tomllib

    from_dict = Policy.from_dict(tomllib.loads(path.read_text()))
    assert [r.rule for r in from_file.routes] == [r.rule for r in from_dict.routes] == ["GET /t"]


def test_policy_parse_uses_its_own_catalogue():
    policy = load("")
    assert str(policy.parse("read:things:x read:brands")) == "read:things:x read:brands"
    (known, unknown) = policy.parse("read:things:x read:brands").scopes
    assert type(known).__name__ == "PermissionScope"
    assert type(unknown).__name__ == "UnknownScope"


def test_public_route_and_principal_literal():
    policy = load(
        """
        [[endpoints]]
        methods = ["GET"]
        path = "/health"
        public = true

        [[endpoints]]
        methods = ["GET"]
        path = "/admin"
        any_of = ["read:things user_id:root"]

        [[endpoints]]
        methods = ["GET"]
        path = "/notes"
        any_of = ["read:notes"]
        """
    )
    assert policy.authorize("", "GET", "/health").allowed
    assert policy.authorize("read:things user_id:root", "GET", "/admin").allowed
    assert not policy.authorize("read:things user_id:bob", "GET", "/admin").allowed
    assert not policy.authorize("read:notes", "GET", "/notes").allowed  # needs a principal
    assert policy.authorize("read:notes user_id:x", "GET", "/notes").allowed


def test_static_segments_win_over_parameters():
    policy = load(
        """
        [[endpoints]]
        methods = ["GET"]
        path = "/t/{id}/x"
        any_of = ["read:things"]

        [[endpoints]]
        methods = ["GET"]
        path = "/t/special/{y}"
        any_of = ["write:things"]
        """
    )
    assert policy.authorize("write:things", "GET", "/t/special/x").rule == "GET /t/special/{y}"
    # backtracks into the parameter branch when the literal branch has no route
    assert policy.authorize("read:things", "GET", "/t/special/x").code == "insufficient-scope"
    assert policy.authorize("read:things", "GET", "/t/other/x").rule == "GET /t/{id}/x"


# -- the compiled router against a deliberately naive matcher ------------------------------

LITERALS = ["a", "b", "c"]
template_segment = st.sampled_from(LITERALS + ["{p}"])
templates = st.lists(template_segment, min_size=0, max_size=4)


@st.composite
def random_policies(draw):
    shapes = draw(st.lists(st.tuples(st.sampled_from(["GET", "PUT"]), templates), max_size=12,
                           unique_by=lambda t: (t[0], tuple(t[1]))))
    endpoints = []
    for method, segments in shapes:
        names = iter(f"p{i}" for i in range(10))
        path = "/" + "/".join(f"{{{next(names)}}}" if s == "{p}" else s for s in segments)
        alternative = draw(st.sampled_from(["read:things", "write:things", "read:things:{p0}"]))
        if alternative.endswith("{p0}") and "{p0}" not in path:
            alternative = "read:things"
        endpoints.append({"methods": [method], "path": path, "any_of": [alternative]})
    data = {
        "scopes": {"read:things": {"qualifier": "id"}, "write:things": {"qualifier": "id"}},
        "endpoints": endpoints,
    }
    return Policy.from_dict(data)


def naive_match(policy, method, segments):
    """Every route of the method whose shape fits; the most literal-first one wins."""
    candidates = []
    for route in policy.routes:
        shape = route.template[1:].split("/")
        if route.method != method or len(shape) != len(segments):
            continue
        if all((s.startswith("{") and got != "") or s == got for s, got in zip(shape, segments)):
            candidates.append((tuple(s.startswith("{") for s in shape), route))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


request_paths = st.lists(st.sampled_from(LITERALS + ["d", ""]), min_size=0, max_size=4).map(
    lambda segs: "/" + "/".join(segs)
)


@given(random_policies(), st.sampled_from(["GET", "PUT", "DELETE"]), request_paths)
def test_router_agrees_with_naive_matcher(policy, method, path):
    """The trie router picks exactly the route a brute-force scan picks."""
    segments = canonical_segments(path)
    if type(segments) is not tuple:
        return
    assert policy.router.match(method, segments) is naive_match(policy, method, segments)


@given(random_policies(), strategies.scopeish_text, strategies.methods, strategies.paths)
def test_random_policies_never_raise(policy, scopes, method, path):
    """Any policy, any request: a Decision, never an exception or an internal error."""
    decision = policy.authorize(scopes, method, path)
    assert decision.code != "internal-error" and decision.reason


@given(random_policies(), st.sampled_from(["", "read:things", "write:things:a", "read:things:b"]),
       st.sampled_from(["GET", "PUT"]), request_paths)
def test_missing_allows_on_random_policies(policy, scopes, method, path):
    """On any policy: a denied request's `missing`, added to the token, allows it."""
    decision = policy.authorize(scopes, method, path)
    if not decision.allowed and decision.missing is not None:
        assert policy.authorize(f"{scopes} {decision.missing}", method, path).allowed
