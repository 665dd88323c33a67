"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

# RFC 6749 §3.3 NQCHAR without ':' (the segment separator).
SEGMENT_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '":\\')

COURIER_NAMES = [
    "read:messages",
    "read:user-tokens",
    "write:user-tokens",
    "read:brands",
    "write:brands",
    "inbox:read:messages",
    "inbox:write:events",
    "read:preferences",
    "write:preferences",
]
QUALIFIABLE = ["read:brands", "write:brands"]

segments = st.text(alphabet=SEGMENT_CHARS, min_size=1, max_size=8)
ids = st.one_of(
    st.sampled_from(["pigeon", "bluebird", "u1", "u2", "*", "a:b"]),
    st.lists(segments, min_size=1, max_size=3).map(":".join),
)

# One well-formed scope token, biased towards the Courier catalogue.
scope_token = st.one_of(
    st.sampled_from(COURIER_NAMES),
    ids.map(lambda i: f"user_id:{i}"),
    st.tuples(st.sampled_from(QUALIFIABLE), ids).map(":".join),
    st.lists(segments, min_size=1, max_size=4).map(":".join),
)

# A valid scope string: tokens joined by runs of spaces, maybe padded.
spaces = st.text(alphabet=" ", min_size=1, max_size=3)
scope_string = st.builds(
    lambda lead, parts, trail: lead + "".join(t + s for t, s in parts).rstrip() + trail,
    st.text(alphabet=" ", max_size=2),
    st.lists(st.tuples(scope_token, spaces), max_size=8),
    st.text(alphabet=" ", max_size=2),
)

# Arbitrary text with the characters that matter for scope syntax over-represented.
scopeish_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=SEGMENT_CHARS + ' :\t\n"\\\x00ö', max_size=60),
)

# Requests against the Courier table.
methods = st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POST", "HEAD", "get", "OPTIONS"])
path_ids = st.sampled_from(["acme", "pigeon", "u1", "u2", "*", "x", "t1", "%2A"])
paths = st.one_of(
    st.just("/brands"),
    path_ids.map(lambda i: f"/brands/{i}"),
    st.tuples(path_ids, path_ids).map(lambda p: f"/users/{p[0]}/tokens/{p[1]}"),
    path_ids.map(lambda i: f"/users/{i}/preferences"),
    st.tuples(path_ids, path_ids).map(lambda p: f"/users/{p[0]}/preferences/{p[1]}"),
    st.sampled_from(["/", "/client/q", "/brands/", "/users", "/nope", "//brands", "/brands/../x"]),
    st.text(max_size=30),
)

# A path segment that canonicalization accepts as is: RFC 3986 pchar without '%' and ';'.
PATH_SEGMENT_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,=:@"
)
# (Also a valid scope qualifier: no leading, trailing or doubled ':', since tests fill
# placeholders like `user_id:{user_id}` with it.)
path_segments = st.text(alphabet=PATH_SEGMENT_CHARS, min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and s[0] != ":" and s[-1] != ":" and "::" not in s
)

# Scope strings with what `scopes lint --fix` rewrites: repeated scopes, scopes another one
# covers, names in another case, runs of spaces.
fixable_token = st.one_of(
    scope_token,
    st.sampled_from(COURIER_NAMES).map(str.upper),
    st.tuples(st.sampled_from(QUALIFIABLE), ids).map(lambda p: f"{p[0].upper()}:{p[1]}"),
    ids.map(lambda i: f"USER_ID:{i}"),
)
fixable_scope_string = st.builds(
    lambda lead, tokens, gaps, trail: lead + "".join(t + g for t, g in zip(tokens, gaps)).rstrip() + trail,
    st.text(alphabet=" ", max_size=2),
    st.lists(fixable_token, max_size=6).flatmap(lambda ts: st.permutations(ts + ts[: len(ts) // 2 + 1])),
    st.lists(spaces, min_size=10, max_size=10),
    st.text(alphabet=" ", max_size=2),
)

# Documents for the linter's file scanners: keys it reads beside others, awkward strings.
document_keys = st.one_of(
    st.sampled_from(["scope", "scopes", "expires_in", "name", "a b", "x.y", "ключ", "'q'", '"dq"']),
    st.text(alphabet="abcXYZ_-019", min_size=1, max_size=6),
)
document_strings = st.one_of(
    scope_string,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),  # TOML cannot hold a lone surrogate
    st.text(alphabet="ab '\"\\\n\t#[]{},=:ü😀", max_size=12),
)
document_scalars = st.one_of(document_strings, st.integers(-(2**40), 2**40), st.booleans())
documents = st.dictionaries(
    document_keys,
    st.recursive(
        document_scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(document_keys, inner, max_size=4),
        ),
        max_leaves=12,
    ),
    max_size=6,
)

# Policies as data (what Policy.from_dict takes), for the drift properties: parameters named
# `a` and `u`, a catalogue with qualifiers and a scope that needs a user_id, every requirement
# kind (public, authenticated, alternatives of conjunctions, placeholders, a principal binding).
DRIFT_CATALOGUE = {
    "read:things": {"qualifier": "thing_id"},
    "write:things": {"qualifier": "thing_id"},
    "admin": {},
    "notes": {"needs_principal": True},
    "extra": {},
}
DRIFT_TEMPLATES = ["/things", "/things/{a}", "/things/{a}/notes", "/things/export",
                   "/users/{u}/things/{a}", "/users/{u}/things/export"]


def drift_scopes(path: str) -> st.SearchStrategy[str]:
    words = ["read:things", "write:things", "admin", "notes", "read:things:lit", "user_id:alice"]
    if "{a}" in path:
        words += ["read:things:{a}", "write:things:{a}"]
    if "{u}" in path:
        words += ["user_id:{u}"]
    return st.lists(st.sampled_from(words), min_size=1, max_size=2, unique=True).map(" ".join)


@st.composite
def drift_endpoint(draw, method: str, path: str) -> dict:
    endpoint: dict = {"methods": [method], "path": path}
    kind = draw(st.sampled_from(["any_of"] * 6 + ["public", "authenticated"]))
    if kind == "any_of":
        endpoint["any_of"] = draw(st.lists(drift_scopes(path), min_size=1, max_size=3))
        if "{u}" in path and draw(st.booleans()):
            endpoint["principal_param"] = "u"
    else:
        endpoint[kind] = True
    return endpoint


@st.composite
def drift_policies(draw) -> dict:
    """A policy's data; `Policy.from_dict` loads every one."""
    shapes = draw(st.lists(st.tuples(st.sampled_from(["GET", "PUT"]),
                                     st.sampled_from(DRIFT_TEMPLATES)),
                           min_size=1, max_size=8, unique=True))
    return {"scopes": DRIFT_CATALOGUE, "endpoints": [draw(drift_endpoint(m, p)) for m, p in shapes]}


# -- random policies, calls and tokens for the analyses (least privilege, capabilities) -------

ANALYSIS_LITERALS = ["a", "b", "items"]
# Ids for path parameters and scope qualifiers: plain ones, a literal of the policy ("a"), one a
# case-insensitive router reads as that literal ("A"), one with a colon, and one no scope token
# can carry once decoded ("sp%20ace" is "sp ace").
ANALYSIS_VALUES = ["v", "w", "a", "A", "x:y", "sp%20ace"]
ANALYSIS_TOKEN_IDS = ["v", "w", "a", "A", "x:y", "a/b"]


@st.composite
def analysis_policy_data(draw):
    """A policy as a dict: a few permission scopes (qualified or not, some needing a user id),
    REST endpoints with alternatives of conjunctions, placeholders and principal bindings,
    public and `authenticated` ones, and maybe a GraphQL endpoint."""
    count = draw(st.integers(1, 4))
    specs = {}
    for index in range(count):
        spec = {}
        if draw(st.booleans()):
            spec["qualifier"] = "id"
        if draw(st.integers(0, 3)) == 0:
            spec["needs_principal"] = True
        specs[f"p{index}"] = spec
    names = sorted(specs)
    qualifiable = [n for n in names if "qualifier" in specs[n]]

    def scope_choices(params):
        choices = [st.sampled_from(names)]
        if qualifiable:
            choices.append(st.tuples(st.sampled_from(qualifiable), st.sampled_from(["v", "w"])).map(":".join))
            if params:
                choices.append(st.tuples(st.sampled_from(qualifiable), st.sampled_from(params)).map(
                    lambda pair: f"{pair[0]}:{{{pair[1]}}}"))
        choices.append(st.sampled_from(["user_id:v", "user_id:w"]))
        if params:
            choices.append(st.sampled_from(params).map(lambda p: f"user_id:{{{p}}}"))
        return st.one_of(choices)

    def requirement(params, allow_open=True):
        kind = draw(st.sampled_from(["any_of"] * 6 + (["public", "authenticated"] if allow_open else [])))
        if kind != "any_of":
            return {kind: True}
        alternatives = draw(st.lists(
            st.lists(scope_choices(params), min_size=1, max_size=2, unique=True).map(" ".join),
            min_size=1, max_size=3, unique=True,
        ))
        return {"any_of": alternatives}

    endpoints, seen = [], set()
    for _ in range(draw(st.integers(1, 5))):
        shape = tuple(draw(st.lists(st.sampled_from(ANALYSIS_LITERALS + [None, None]), min_size=1, max_size=3)))
        method = draw(st.sampled_from(["GET", "PUT"]))
        if (method, shape) in seen:
            continue
        seen.add((method, shape))
        params = [f"p{i}" for i, seg in enumerate(shape) if seg is None]
        path = "/" + "/".join(seg if seg is not None else f"{{p{i}}}" for i, seg in enumerate(shape))
        endpoint = {"methods": [method], "path": path, **requirement(params)}
        if params and "any_of" in endpoint and draw(st.integers(0, 2)) == 0:
            endpoint["principal_param"] = draw(st.sampled_from(params))
        endpoints.append(endpoint)
    data = {"scopes": specs, "endpoints": endpoints}
    if draw(st.booleans()):
        graphql = {"path": "/gql"}
        for operation in draw(st.lists(st.sampled_from(["query", "mutation"]), min_size=1, max_size=2, unique=True)):
            fields = draw(st.lists(st.sampled_from(["f0", "f1", "f2"]), min_size=1, max_size=3, unique=True))
            graphql[operation] = {name: requirement([], allow_open=True) for name in fields}
        data["graphql"] = [graphql]
    return data


def analysis_policy(data):
    """The policy of `analysis_policy_data`, or None when it does not load (two routes no
    request can tell apart, literals that differ only in case)."""
    from scopes import Policy, PolicyError

    try:
        return Policy.from_dict(data)
    except PolicyError:
        return None


def instantiations(route, values=ANALYSIS_VALUES):
    """Every target of a route with its parameters filled from `values`."""
    import itertools

    indexes = [index for _, index in route.path.params]
    for combination in itertools.product(values, repeat=len(indexes)):
        segments = list(route.path.segments)
        for index, value in zip(indexes, combination):
            segments[index] = value
        yield "/" + "/".join(segments), dict(zip(indexes, combination))


@st.composite
def analysis_calls(draw, policy):
    """Calls shaped after the policy's routes (REST with ids from ANALYSIS_VALUES, GraphQL
    with a few of the listed fields), now and then one that no scope set can allow."""
    calls = []
    for _ in range(draw(st.integers(1, 4))):
        route = draw(st.sampled_from(policy.routes))
        if route.graphql is not None:
            operation = draw(st.sampled_from([op for op, fields in route.graphql.operations.items() if fields]))
            listed = sorted(route.graphql.operations[operation])
            fields = draw(st.lists(st.sampled_from(listed + ["nope"] * (len(listed) // 3)), min_size=1,
                                   max_size=2, unique=True))
            prefix = "" if operation == "query" else f"{operation} "
            calls.append(f"{route.method} {route.template} {prefix}{' '.join(fields)}")
            continue
        target, _ = draw(st.sampled_from(list(instantiations(route))))
        calls.append(f"{route.method} {target}")
    if draw(st.integers(0, 5)) == 0:
        calls.append(draw(st.sampled_from(["GET /nope", "DELETE /a", "GET /a//b"])))
    return calls


@st.composite
def analysis_tokens(draw, policy):
    """A scope string over the policy's catalogue: bare and qualified scopes, user ids, and an
    unknown scope now and then."""
    names = sorted(policy.catalogue.specs)
    qualifiable = [n for n in names if policy.catalogue.specs[n].qualifier]
    words = st.one_of(
        st.sampled_from(names),
        st.tuples(st.sampled_from(qualifiable or names), st.sampled_from(ANALYSIS_TOKEN_IDS)).map(":".join)
        if qualifiable else st.sampled_from(names),
        st.sampled_from(ANALYSIS_TOKEN_IDS).map(lambda i: f"user_id:{i}"),
        st.just("zz:unknown"),
    )
    return " ".join(draw(st.lists(words, max_size=5)))


_json_numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "-0", "1e5", "1E-3", "2.5e+10", "01", "1.", ".5", "1e", "--1", "NaN",
                     "Infinity", "1, \"x\": 2", "{}"]),
)
_log_values = st.one_of(
    st.sampled_from(["allow", "deny", "GET", "/brands/acme", "c1", ("allowed: GET /brands matches "
                     "GET /brands; granted by read:brands"), ", \"latency_us\": 1}", "{\"time\": 1, "]),
    st.text(max_size=12), st.none(), st.integers(0, 500), st.lists(st.integers(), max_size=2),
)


@st.composite
def decision_log_lines(draw):
    """A decision-log line as the gateway writes one (`{"time": T, ..., "latency_us": L}`),
    with odd numbers for T and L, odd or missing members, and now and then cut, padded or
    extended: what a log file may hold."""
    import json

    entry = {"decision": draw(st.sampled_from(["allow", "deny", "maybe"])), "status": 200,
             "method": "GET", "path": "/brands/acme", "rule": "GET /brands/{id}",
             "reason": "allowed: GET /brands/acme matches GET /brands/{id}; granted by read:brands",
             "subject": "s", "client_id": "c1"}
    for key in draw(st.lists(st.sampled_from(sorted(entry) + ["time", "latency_us"]), max_size=3)):
        if draw(st.booleans()):
            entry.pop(key, None)
        else:
            entry[key] = draw(_log_values)
    middle = json.dumps(entry)[1:-1]
    line = f'{{"time": {draw(_json_numbers)}, {middle}, "latency_us": {draw(_json_numbers)}}}'
    cut = draw(st.sampled_from(["", "cut", "pad", "more"]))
    if cut == "cut":
        line = line[: draw(st.integers(0, len(line)))]
    elif cut == "pad":
        line = draw(st.sampled_from([" ", "\t", "\r", "  \n", "x"])) + line
    elif cut == "more":
        line += draw(st.sampled_from([" ", "\r\n", "}", ",", " x", '{"a": 1}']))
    return line
