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
