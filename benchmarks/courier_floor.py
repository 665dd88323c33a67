"""The floor for pure Python: a hand-written `if` chain for the Courier table, and a fixed
request mix that both it and `scopes` must answer identically before anything is timed."""

from __future__ import annotations

import re

# (token scopes, method, path): allows and denies, right and wrong users, brand ids, methods,
# unknown paths. GraphQL is left out: the floor has no body parser to compare with.
MIX: list[tuple[str, str, str]] = [
    ("read:brands", "GET", "/brands"),
    ("read:brands:acme", "GET", "/brands"),
    ("write:brands", "PUT", "/brands"),
    ("write:brands", "DELETE", "/brands"),
    ("read:brands", "PUT", "/brands"),
    ("write:brands", "PATCH", "/brands"),
    ("read:brands", "GET", "/brands/acme"),
    ("read:brands:acme", "GET", "/brands/acme"),
    ("read:brands:other", "GET", "/brands/acme"),
    ("read:brands:acme", "GET", "/brands/acme?fields=name"),
    ("write:brands:acme", "PUT", "/brands/acme"),
    ("write:brands:acme", "DELETE", "/brands/other"),
    ("write:brands", "DELETE", "/brands/acme"),
    ("read:brands:acme", "PUT", "/brands/acme"),
    ("user_id:pigeon write:user-tokens", "PUT", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon write:user-tokens", "PATCH", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon write:user-tokens", "DELETE", "/users/bluebird/tokens/t1"),
    ("user_id:pigeon user_id:bluebird write:user-tokens", "DELETE", "/users/bluebird/tokens/t1"),
    ("user_id:pigeon read:user-tokens", "GET", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon write:user-tokens", "GET", "/users/pigeon/tokens/t1"),
    ("read:user-tokens", "GET", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon read:user-tokens", "POST", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon write:preferences", "PUT", "/users/pigeon/preferences/topic-1"),
    ("user_id:pigeon write:preferences", "PATCH", "/users/pigeon/preferences/topic-1"),
    ("user_id:pigeon write:preferences", "DELETE", "/users/other/preferences/topic-1"),
    ("user_id:pigeon read:preferences", "GET", "/users/pigeon/preferences"),
    ("user_id:pigeon read:preferences", "GET", "/users/pigeon/preferences/topic-1"),
    ("user_id:bluebird read:preferences", "GET", "/users/pigeon/preferences"),
    ("user_id:pigeon write:preferences", "GET", "/users/pigeon/preferences"),
    ("user_id:pigeon read:preferences inbox:read:messages", "GET", "/users/pigeon/preferences"),
    ("user_id:pigeon read:preferences", "PUT", "/users/pigeon/preferences"),
    ("read:brands write:brands", "GET", "/"),
    ("read:brands", "GET", "/brand"),
    ("read:brands", "GET", "/brands/acme/logo"),
    ("user_id:pigeon read:preferences", "GET", "/users/pigeon"),
    ("user_id:pigeon read:preferences", "GET", "/users/pigeon/settings"),
    ("read:brands:*", "GET", "/brands/acme"),
    ("read:brands:*", "GET", "/brands/*"),
    ("inbox:read:messages inbox:write:events", "GET", "/brands"),
    ("user_id:pigeon read:brands", "HEAD", "/brands"),
]


def floor_decide(grants: frozenset[str], user_ids: frozenset[str], method: str, path: str) -> bool:
    """The Courier table as the shortest `if` chain that answers the mix correctly.

    It trusts the path as given (no canonicalization): the floor for deciding, not a gateway.
    """
    query = path.find("?")
    if query != -1:
        path = path[:query]
    parts = path.split("/")
    count = len(parts)
    if count < 2 or parts[0]:
        return False
    if parts[1] == "brands":
        if count == 2:
            if method == "GET":
                return "read:brands" in grants
            if method == "PUT" or method == "DELETE":
                return "write:brands" in grants
            return False
        if count == 3:
            brand = parts[2]
            if method == "GET":
                return "read:brands" in grants or "read:brands:" + brand in grants
            if method == "PUT" or method == "DELETE":
                return "write:brands" in grants or "write:brands:" + brand in grants
        return False
    if parts[1] == "users" and count >= 4:
        if parts[2] not in user_ids:
            return False
        kind = parts[3]
        if kind == "tokens" and count == 5:
            if method == "GET":
                return "read:user-tokens" in grants
            if method == "PUT" or method == "PATCH" or method == "DELETE":
                return "write:user-tokens" in grants
        elif kind == "preferences":
            if count == 4:
                return method == "GET" and "read:preferences" in grants
            if count == 5:
                if method == "GET":
                    return "read:preferences" in grants
                if method == "PUT" or method == "PATCH" or method == "DELETE":
                    return "write:preferences" in grants
    return False


# RFC 6749 §3.3 characters and spaces: the one regular expression a hand-written gateway would
# check a scope string with before splitting it.
_SCOPE_STRING = re.compile(r"[ !#-\[\]-~]*")


def floor_token(text: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """A scope string as the hand-written floor reads it: one regex, a split, two sets.

    No empty-segment check, no catalogue: the floor for reading a string, not a validator.
    """
    if _SCOPE_STRING.fullmatch(text) is None:
        return None
    words = text.split()
    user_ids = frozenset(word[8:] for word in words if word.startswith("user_id:"))
    return frozenset(words), user_ids


def floor_decide_string(text: str, method: str, path: str) -> bool:
    """The floor from the scope string: read it (floor_token), then the if chain."""
    token = floor_token(text)
    return token is not None and floor_decide(token[0], token[1], method, path)
