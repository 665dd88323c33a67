"""What a caller writes around any peer engine: split the token's scope string and the path.

No peer reads an OAuth scope string or a URL by itself; a gateway using one would write these
few lines. They are plain `str` methods, as cheap as Python gets, and they trust the path as
given (no percent-decoding or dot-segment checks), like the hand-written floor: `scopes` does
that work on every request and the peers do not, which counts against `scopes`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TokenParts", "path_segments", "split_token"]

PRINCIPAL = "user_id:"


@dataclass(frozen=True, slots=True)
class TokenParts:
    """A scope string taken apart: `user_id:pigeon read:brands:acme` ->
    scopes ("read:brands:acme",), user_ids ("pigeon",), qualified (("read:brands", "acme"),)."""

    scopes: tuple[str, ...]  # every permission scope as written
    user_ids: tuple[str, ...]  # the ids of the `user_id:<id>` scopes
    qualified: tuple[tuple[str, str], ...]  # `verb:resource:<id>` as (verb:resource, id)


def split_token(text: str) -> TokenParts:
    """Take a scope string apart (DESIGN.md, "Scope syntax": an id is everything after its
    prefix, colons included: `read:brands:a:b` is brand `a:b`)."""
    scopes: list[str] = []
    user_ids: list[str] = []
    qualified: list[tuple[str, str]] = []
    for scope in text.split():
        if scope.startswith(PRINCIPAL):
            user_ids.append(scope[len(PRINCIPAL) :])
            continue
        scopes.append(scope)
        verb, _, rest = scope.partition(":")
        resource, colon, ident = rest.partition(":")
        if colon:
            qualified.append((f"{verb}:{resource}", ident))
    return TokenParts(tuple(scopes), tuple(user_ids), tuple(qualified))


def path_segments(path: str) -> list[str]:
    """`/brands/acme?x=1` -> ["brands", "acme"]; the query is not part of the route."""
    query = path.find("?")
    if query != -1:
        path = path[:query]
    return path.split("/")[1:]
