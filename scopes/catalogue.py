"""A policy's scope catalogue: which scopes exist, and what a well-formed scope token means."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from scopes.model import (
    PermissionScope,
    Scope,
    ScopeSet,
    UnknownScope,
    permission_scope,
    principal_scope,
)
from scopes.syntax import scope_tokens

__all__ = ["Catalogue", "ScopeSpec"]

SUGGESTION_CUTOFF = 0.75  # difflib ratio below which "did you mean" stays silent

# Parsed strings are cached per catalogue. The cache is bounded twice: by entries, and by only
# keeping strings short enough to be real tokens' scopes, so a flood of huge or distinct strings
# cannot grow memory without limit.
CACHE_ENTRIES = 8192
CACHEABLE_LENGTH = 2048


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class ScopeSpec:
    """One catalogue entry, e.g. `read:brands` (qualifier "brand_id") or `read:messages`."""

    name: str
    qualifier: str | None = None  # the name of the optional qualifier, e.g. "brand_id"
    needs_principal: bool = False  # grants only combined with a `user_id:<id>`
    description: str = ""


class Catalogue:
    """Resolves scope tokens against the scopes a policy declares.

    Resolution order for a token: an exact catalogue name; `<principal>:<id>`; `<name>:<q>` for
    a name that takes a qualifier; otherwise unknown. The policy loader rejects catalogues in
    which two of these could both apply, so the order never decides a meaning.
    """

    __slots__ = ("principal", "specs", "_principal_prefix", "_qualifiable", "_cached_parse")

    def __init__(self, principal: str, specs: Iterable[ScopeSpec]) -> None:
        self.principal = principal
        self.specs: dict[str, ScopeSpec] = {spec.name: spec for spec in specs}
        self._principal_prefix = principal + ":"
        self._qualifiable = frozenset(n for n, s in self.specs.items() if s.qualifier is not None)
        self._cached_parse = functools.lru_cache(maxsize=CACHE_ENTRIES)(self._parse_uncached)

    def __repr__(self) -> str:
        return f"Catalogue(principal={self.principal!r}, scopes={sorted(self.specs)!r})"

    def resolve(self, text: str, span: tuple[int, int] = (0, 0)) -> Scope:
        """The meaning of one well-formed scope token."""
        if text in self.specs:
            return permission_scope(text, None, span)
        if text.startswith(self._principal_prefix):
            return principal_scope(self.principal, text[len(self._principal_prefix) :], span)
        colon = text.find(":")
        while colon != -1:
            name = text[:colon]
            if name in self._qualifiable:
                return permission_scope(name, text[colon + 1 :], span)
            colon = text.find(":", colon + 1)
        return UnknownScope(text, span)

    def parse_scopes(self, text: str) -> list[Scope]:
        """Every scope as written, in order, duplicates kept, with spans (for the linter)."""
        resolve = self.resolve
        return [resolve(value, (start, end)) for value, start, end in scope_tokens(text)]

    def _parse_uncached(self, text: str) -> ScopeSet:
        return ScopeSet(self.parse_scopes(text))

    def parse(self, text: str) -> ScopeSet:
        """Parse a scope string into a ScopeSet; repeats of a short string are cache hits.

        Raises ScopeSyntaxError (a ValueError) for text RFC 6749 §3.3 does not allow.
        """
        if len(text) <= CACHEABLE_LENGTH:
            return self._cached_parse(text)
        return self._parse_uncached(text)

    def spec_of(self, scope: Scope) -> ScopeSpec | None:
        """The catalogue entry a permission scope comes from (None for the others)."""
        if type(scope) is PermissionScope:
            return self.specs.get(scope.name)
        return None

    def known(self, text: str) -> bool:
        """Whether a scope token means something in this catalogue."""
        return type(self.resolve(text)) is not UnknownScope

    def suggest(self, text: str) -> str | None:
        """The known scope a mistyped one most likely meant, or None ("did you mean").

        First the same scope in another case, comparing only the name and keeping a qualifier or
        id as written (`READ:BRANDS` -> `read:brands`, `USER_ID:Pigeon` -> `user_id:Pigeon`:
        ids are case-sensitive). Otherwise the closest of: a catalogue name close to the whole
        text (`read:brand` -> `read:brands`), or a name close to the text before a ':', keeping
        what follows (`user-id:x` -> `user_id:x`, `read:brand:acme` -> `read:brands:acme`).
        "Close" is a difflib ratio of at least SUGGESTION_CUTOFF; the best ratio wins, the
        whole-text reading on a tie.
        """
        prefixes = sorted(self._qualifiable) + [self.principal]
        lowered = text.lower()
        for name in self.specs:
            if name.lower() == lowered and name != text:
                return name
        colon = text.find(":")
        while colon != -1:
            head = lowered[:colon]
            for name in prefixes:
                candidate = name + text[colon:]
                if name.lower() == head and candidate != text and self.known(candidate):
                    return candidate
            colon = text.find(":", colon + 1)
        best: tuple[float, str] | None = None
        for name in difflib.get_close_matches(lowered, list(self.specs), n=1, cutoff=SUGGESTION_CUTOFF):
            if name != text:
                best = (difflib.SequenceMatcher(None, lowered, name).ratio(), name)
        colon = text.find(":")
        while colon != -1:
            head, rest = lowered[:colon], text[colon + 1 :]
            close = difflib.get_close_matches(head, prefixes, n=1, cutoff=SUGGESTION_CUTOFF)
            if close and rest:
                candidate = f"{close[0]}:{rest}"
                ratio = difflib.SequenceMatcher(None, head, close[0]).ratio()
                if candidate != text and self.known(candidate) and (best is None or ratio > best[0]):
                    best = (ratio, candidate)
            colon = text.find(":", colon + 1)
        return None if best is None else best[1]
