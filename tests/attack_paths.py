"""Request targets that path canonicalization must refuse, each with the rejection code it gets.

`ATTACK_PATHS` is a list of `(raw_target, expected_code)`: the raw request target exactly as a
client would put it on the request line (query included), and the `PathRejection.code` that
`scopes.paths.canonical_segments` returns for it. The unit tests run it directly; end-to-end
tests can replay it through a real gateway. There, a target carrying a raw control character,
a space or a non-ASCII character may be refused by the HTTP server itself before any
authorization request is made: that is a deny too, just not one with this code.
"""

from __future__ import annotations

__all__ = ["ATTACK_PATHS", "CASE_VARIANTS"]

ATTACK_PATHS: list[tuple[str, str]] = [
    # Dot segments, raw.
    ("/brands/../users/u1/preferences", "dot-segment"),
    ("/brands/./abc", "dot-segment"),
    ("/brands/..", "dot-segment"),
    ("/brands/.", "dot-segment"),
    ("/..", "dot-segment"),
    ("/./brands", "dot-segment"),
    ("/users/u1/preferences/../../../brands", "dot-segment"),
    ("/brands/../", "dot-segment"),
    # Dot segments, encoded, in every case mix.
    ("/brands/%2e%2e/admin", "encoded-dot-segment"),
    ("/brands/%2E%2E/admin", "encoded-dot-segment"),
    ("/brands/%2e%2E/admin", "encoded-dot-segment"),
    ("/brands/%2E%2e/admin", "encoded-dot-segment"),
    ("/brands/.%2e/admin", "encoded-dot-segment"),
    ("/brands/%2e./admin", "encoded-dot-segment"),
    ("/brands/%2E/abc", "encoded-dot-segment"),
    ("/brands/%2e", "encoded-dot-segment"),
    ("/brands/.%2E/", "encoded-dot-segment"),
    # Unreserved characters encoded: raw-matching and decoding routers pick different routes.
    ("/br%61nds", "encoded-unreserved"),
    ("/br%61nds/acme", "encoded-unreserved"),
    ("/%62rands", "encoded-unreserved"),
    ("/brands/%61cme", "encoded-unreserved"),
    ("/brands/ACM%45", "encoded-unreserved"),
    ("/users/%70igeon/preferences", "encoded-unreserved"),
    ("/users/pigeon/preferences%2Ftopic", "encoded-slash"),
    ("/brands/a%2Db", "encoded-unreserved"),
    ("/brands/a%2db", "encoded-unreserved"),
    ("/brands/a%5Fb", "encoded-unreserved"),
    ("/brands/a%7eb", "encoded-unreserved"),
    ("/brands/a%2Eb", "encoded-unreserved"),
    ("/brands/%30", "encoded-unreserved"),
    ("/brands/%7A%7a", "encoded-unreserved"),
    ("/brands/ok%20then%41", "encoded-unreserved"),
    ("/brands/%41bc", "encoded-unreserved"),
    ("/brands/%7euser", "encoded-unreserved"),
    ("/brands/%2Eabc", "encoded-unreserved"),
    ("/brands/a%2e", "encoded-unreserved"),
    ("/brands/%2e%2e%2e", "encoded-unreserved"),
    # Double encoding: nothing may be encoded twice.
    ("/brands/%252e%252e/admin", "double-encoding"),
    ("/brands/%252E%252E/admin", "double-encoding"),
    ("/brands/abc%252fadmin", "double-encoding"),
    ("/brands/abc%252Fadmin", "double-encoding"),
    ("/brands/abc%255cadmin", "double-encoding"),
    ("/brands/%25", "double-encoding"),
    ("/brands/%2525", "double-encoding"),
    # Encoded slashes, every case, alone and inside traversal tricks.
    ("/brands%2fabc", "encoded-slash"),
    ("/brands%2Fabc", "encoded-slash"),
    ("/brands/..%2fadmin", "encoded-slash"),
    ("/brands/..%2Fadmin", "encoded-slash"),
    ("/brands/%2e%2e%2fadmin", "encoded-slash"),
    ("/brands/%2F", "encoded-slash"),
    # Backslashes, raw and encoded.
    ("/brands\\..\\admin", "backslash"),
    ("/brands/abc\\", "backslash"),
    ("/brands/..\\admin", "backslash"),
    ("/brands/..%5cadmin", "encoded-backslash"),
    ("/brands/..%5Cadmin", "encoded-backslash"),
    ("/brands%5cabc", "encoded-backslash"),
    # Path parameters, raw and encoded.
    ("/brands;jsessionid=1/abc", "semicolon"),
    ("/brands/abc;x=1", "semicolon"),
    ("/brands/..;/admin", "semicolon"),
    ("/brands/abc%3bx=1", "semicolon"),
    ("/brands/abc%3Bx=1", "semicolon"),
    # NUL and other controls, raw (in the path or the query) and encoded.
    ("/brands/abc\x00", "control-character"),
    ("/brands/\x00/admin", "control-character"),
    ("/brands/abc\r\nX-Injected: 1", "control-character"),
    ("/brands/abc\t", "control-character"),
    ("/brands/abc\x7f", "control-character"),
    ("/brands/abc?next=\r\nGET /admin", "control-character"),
    ("/brands/abc\x85", "control-character"),
    ("/brands/abc%00", "control-character"),
    ("/brands/abc%00.json", "control-character"),
    ("/brands/abc%0a", "control-character"),
    ("/brands/abc%0D%0AX-Injected:%201", "control-character"),
    ("/brands/abc%09", "control-character"),
    ("/brands/abc%7f", "control-character"),
    ("/brands/abc%7F", "control-character"),
    ("/brands/abc%1b", "control-character"),
    ("/brands/abc%c2%85", "control-character"),
    # Empty segments.
    ("//brands", "empty-segment"),
    ("/brands//abc", "empty-segment"),
    ("/brands///", "empty-segment"),
    ("/users/u1//preferences", "empty-segment"),
    ("//", "empty-segment"),
    # Look-alikes that Unicode NFKC folds: fullwidth . / %, ligatures, compatibility letters.
    ("/brands/%EF%BC%8E%EF%BC%8E/admin", "nfkc"),
    ("/brands%EF%BC%8Fabc", "nfkc"),
    ("/brands/%ef%bc%85", "nfkc"),
    ("/brands/%EF%BC%BCadmin", "nfkc"),
    ("/brands/%EF%AC%81le", "nfkc"),
    ("/brands/%EF%AC%80", "nfkc"),
    ("/brands/%E2%80%A5", "nfkc"),
    ("/brands/%E2%84%AA", "nfkc"),
    ("/brands/e%CC%81", "nfkc"),
    # Raw non-ASCII: RFC 3986 allows none.
    ("/brands/caf\u00e9", "non-ascii"),
    ("/brands/\uff0e\uff0e/admin", "non-ascii"),
    ("/brands\uff0fabc", "non-ascii"),
    ("/brands/abc\u200b", "non-ascii"),
    ("/brands/\ud800", "non-ascii"),
    # Invalid UTF-8: overlong forms, surrogates, stray and truncated bytes, beyond U+10FFFF.
    ("/brands/%c0%ae%c0%ae/admin", "bad-utf8"),
    ("/brands/..%c0%afadmin", "bad-utf8"),
    ("/brands/%e0%80%af", "bad-utf8"),
    ("/brands/%ed%a0%80", "bad-utf8"),
    ("/brands/%ff", "bad-utf8"),
    ("/brands/%c3", "bad-utf8"),
    ("/brands/%80abc", "bad-utf8"),
    ("/brands/%f4%90%80%80", "bad-utf8"),
    # Malformed percent-encoding.
    ("/brands/%zz", "bad-percent-encoding"),
    ("/brands/%4", "bad-percent-encoding"),
    ("/brands/abc%", "bad-percent-encoding"),
    ("/brands/%u002e%u002e/admin", "bad-percent-encoding"),
    ("/brands/%%32%65%%32%65/admin", "bad-percent-encoding"),
    ("/brands/%.2e", "bad-percent-encoding"),
    # Characters RFC 3986 requires to be percent-encoded.
    ("/brands/my brand", "bad-character"),
    ('/brands/"abc"', "bad-character"),
    ("/brands/<script>", "bad-character"),
    ("/brands/{id}", "bad-character"),
    ("/brands/a|b", "bad-character"),
    ("/brands/a^b", "bad-character"),
    ("/brands/[abc]", "bad-character"),
    ("/brands/`id`", "bad-character"),
    ("/brands/% 2e", "bad-character"),
    # Fragments.
    ("/brands/abc#frag", "fragment"),
    ("/brands#/../admin", "fragment"),
    ("/brands/abc?x=1#/admin", "fragment"),
    # Request-target forms other than a path (RFC 9112 §3.2).
    ("http://evil.example/brands", "absolute-form"),
    ("https://api.example/brands/abc", "absolute-form"),
    ("HTTP://api.example/brands", "absolute-form"),
    ("http:/brands", "absolute-form"),
    ("*", "asterisk-form"),
    ("api.example:443", "authority-form"),
    ("[::1]:8443", "authority-form"),
    ("brands/abc", "not-absolute-path"),
    ("", "not-absolute-path"),
    ("?next=/brands", "not-absolute-path"),
    ("\\brands", "not-absolute-path"),
    ("\uff0fbrands", "not-absolute-path"),
    # Over MAX_PATH_LENGTH (8,192 characters, query included).
    ("/" + "a" * 8192, "too-long"),
    ("/brands/abc?" + "q" * 8181, "too-long"),
    ("/brands/" + "a" * 100_000, "too-long"),
    ("/" + "%2e" * 40_000, "too-long"),
]

# Courier routes spelled in another case: case-insensitive routers (Express's default, ASP.NET
# Core) would run the route; scopes matches literals exactly, so none of these is allowed, for
# any token (their code is "no-route" or, for GraphQL, a method or body problem).
CASE_VARIANTS: list[str] = [
    "/BRANDS", "/Brands", "/bRaNdS/acme", "/BRANDS/acme", "/Brands/acme",
    "/USERS/pigeon/preferences", "/users/pigeon/Preferences", "/users/pigeon/PREFERENCES/t1",
    "/Users/pigeon/tokens/t1", "/users/pigeon/TOKENS/t1", "/CLIENT/q", "/client/Q",
]
