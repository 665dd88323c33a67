"""A policy's scope catalogue: which scopes exist, what a well-formed scope token means, and
why an unknown one means nothing ("unknown scope 'x'; did you mean 'y'?")."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from scopes.model import (
    PermissionScope,
    Scope,
    ScopeSet,
    Span,
    permission_scope,
    principal_scope,
    unknown_scope,
)
from scopes.syntax import scope_tokens, scope_words

__all__ = ["Catalogue", "ScopeSpec", "Unknown"]

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


UnknownKind = Literal["unknown", "takes-no-qualifier", "needs-id", "list"]

# What joins the scopes of a list written as one token: `a,b`, `["a","b"]`, `'a'`.
_LIST_PUNCTUATION = re.compile(r"[,\[\]'\"]+")


@dataclass(frozen=True, slots=True)
class Unknown:
    """Why a well-formed scope token means nothing in a catalogue, in the words every tool uses.

    `kind` is "needs-id" (the principal without an id), "takes-no-qualifier" (`read:messages:x`
    where `read:messages` takes none; `name` is that scope), "list" (known scopes joined by
    commas or brackets; `suggestion` is them separated by spaces) or "unknown". `suggestion` is the
    known scope it most likely meant; `case_fix` is set only when the one catalogue name it
    differs from in case alone makes a safe automatic fix.
    """

    text: str
    kind: UnknownKind
    suggestion: str | None
    case_fix: str | None
    name: str | None = None  # for "takes-no-qualifier": the scope that takes none

    @property
    def message(self) -> str:
        text = self.text
        if self.kind == "needs-id":
            return f"{text!r} needs an id: write '{text}:<id>' with the id of the user"
        if self.kind == "takes-no-qualifier":
            return f"scope {self.name!r} takes no qualifier, so {text!r} is unknown; write {self.name!r}"
        if self.kind == "list":
            return (
                f"{text!r} looks like part of a comma-separated list; scopes are separated by "
                f"single spaces: write {self.suggestion!r}"
            )
        if self.suggestion is None:
            return f"unknown scope {text!r}"
        return f"unknown scope {text!r}; did you mean {self.suggestion!r}?"


class Catalogue:
    """Resolves scope tokens against the scopes a policy declares.

    Resolution order for a token: an exact catalogue name; `<principal>:<id>`; `<name>:<q>` for
    a name that takes a qualifier; otherwise unknown. The policy loader rejects catalogues in
    which two of these could both apply, so the order never decides a meaning. Every step looks
    at no more of the token than the longest catalogue name, so resolving is linear in the
    token's length whatever it holds (DESIGN.md, "Costs").
    """

    __slots__ = (
        "principal",
        "specs",
        "_principal_prefix",
        "_qualifiable",
        "_by_head",
        "_longest",
        "_by_lower",
        "_prefixes_by_lower",
        "_cached_parse",
        "_cached_unknown",
    )

    def __init__(self, principal: str, specs: Iterable[ScopeSpec]) -> None:
        self.principal = principal
        self.specs: dict[str, ScopeSpec] = {spec.name: spec for spec in specs}
        self._principal_prefix = principal + ":"
        self._qualifiable = frozenset(n for n, s in self.specs.items() if s.qualifier is not None)
        # First segment -> the `name:` prefixes of the qualifiable names that start with it.
        self._by_head: dict[str, tuple[str, ...]] = {}
        for name in sorted(self._qualifiable):
            head = name.partition(":")[0]
            self._by_head[head] = (*self._by_head.get(head, ()), name + ":")
        self._longest = max(map(len, [principal, *self.specs]))
        self._by_lower: dict[str, list[str]] = {}
        for name in self.specs:
            self._by_lower.setdefault(name.lower(), []).append(name)
        self._prefixes_by_lower: dict[str, list[str]] = {}
        for name in [*sorted(self._qualifiable), principal]:
            self._prefixes_by_lower.setdefault(name.lower(), []).append(name)
        self._cached_parse = functools.lru_cache(maxsize=CACHE_ENTRIES)(self._parse_uncached)
        self._cached_unknown = functools.lru_cache(maxsize=4096)(self._unknown)

    def __repr__(self) -> str:
        return f"Catalogue(principal={self.principal!r}, scopes={sorted(self.specs)!r})"

    # -- meaning ---------------------------------------------------------------------------------

    def _qualified_name(self, text: str) -> str | None:
        """The catalogue name `text` qualifies (`read:brands` for `read:brands:acme`), or None.

        The loader allows no qualifiable name to start another's `name:`, so at most one fits.
        """
        colon = text.find(":", 0, self._longest + 1)
        if colon == -1:
            return None
        prefixes = self._by_head.get(text[:colon])
        if prefixes is not None:
            for prefix in prefixes:
                if text.startswith(prefix) and len(text) > len(prefix):
                    return prefix[:-1]
        return None

    def resolve(self, text: str, span: Span = (0, 0)) -> Scope:
        """The meaning of one well-formed scope token."""
        if text in self.specs:
            return permission_scope(text, None, span)
        if text.startswith(self._principal_prefix):
            return principal_scope(self.principal, text[len(self._principal_prefix) :], span)
        name = self._qualified_name(text)
        if name is not None:
            return permission_scope(name, text[len(name) + 1 :], span)
        return unknown_scope(text, span)

    def known(self, text: str) -> bool:
        """Whether a scope token means something in this catalogue."""
        return (
            text in self.specs
            or text.startswith(self._principal_prefix)
            or self._qualified_name(text) is not None
        )

    def spec_of(self, scope: Scope) -> ScopeSpec | None:
        """The catalogue entry a permission scope comes from (None for the others)."""
        if isinstance(scope, PermissionScope):
            return self.specs.get(scope.name)
        return None

    # -- parsing ---------------------------------------------------------------------------------

    def parse_scopes(self, text: str) -> list[Scope]:
        """Every scope as written, in order, duplicates kept, with spans (for the linter)."""
        resolve = self.resolve
        return [resolve(value, (start, end)) for value, start, end in scope_tokens(text)]

    def distinct_scopes(self, text: str) -> list[Scope]:
        """Each distinct scope token once, at its first span: a set's members, resolved once."""
        first: dict[str, tuple[int, int]] = {}
        for value, start, end in scope_tokens(text):
            first.setdefault(value, (start, end))
        resolve = self.resolve
        return [resolve(value, span) for value, span in first.items()]

    def _parse_uncached(self, text: str) -> ScopeSet:
        # The hot path of a never-seen string: what the evaluator looks up, and nothing more.
        specs = self.specs
        prefix = self._principal_prefix
        cut = len(prefix)
        qualified = self._qualified_name
        grants = []
        user_ids = []
        for word in scope_words(text):
            if word in specs:
                grants.append(word)
            elif word.startswith(prefix):
                user_ids.append(word[cut:])
            elif qualified(word) is not None:
                grants.append(word)  # `name:qualifier` as written is its canonical text
        return ScopeSet.parsed(self, text, frozenset(grants), frozenset(user_ids))

    def parse(self, text: str) -> ScopeSet:
        """Parse a scope string into a ScopeSet; repeats of a short string are cache hits.

        Raises ScopeSyntaxError (a ValueError) for text RFC 6749 §3.3 does not allow.
        """
        if len(text) <= CACHEABLE_LENGTH:
            return self._cached_parse(text)
        return self._parse_uncached(text)

    # -- unknown scopes --------------------------------------------------------------------------

    def unknown(self, text: str) -> Unknown:
        """Why `text` (a well-formed token this catalogue does not know) means nothing here.

        The one source of "unknown scope 'x'; did you mean 'y'?" for the loader, the linter, the
        token service and the CLI.
        """
        if len(text) <= CACHEABLE_LENGTH:
            return self._cached_unknown(text)
        return self._unknown(text)

    def _unknown(self, text: str) -> Unknown:
        if "," in text or "[" in text or "]" in text:
            items = [item for item in _LIST_PUNCTUATION.split(text) if item]
            if any(self.known(item) for item in items):
                return Unknown(text, "list", " ".join(items), None)
        if text == self.principal:
            return Unknown(text, "needs-id", f"{text}:<id>", None)
        colon = text.rfind(":", 0, self._longest + 1)
        while colon > 0:
            name = text[:colon]
            spec = self.specs.get(name)
            if spec is not None and spec.qualifier is None:
                return Unknown(text, "takes-no-qualifier", name, None, name)
            colon = text.rfind(":", 0, colon)
        case = self.case_fix(text)
        return Unknown(text, "unknown", case or self.suggest(text), case)

    def case_fix(self, text: str) -> str | None:
        """The one known scope that differs from `text` only in the case of its name, or None.

        A qualifier or id keeps its case (`USER_ID:Pigeon` -> `user_id:Pigeon`: ids are
        case-sensitive). When two catalogue names would fit, there is no fix: the choice is
        the author's.
        """
        lowered = text.lower()
        candidates = set(self._by_lower.get(lowered, ()))
        for colon in self._colons(text):
            for name in self._prefixes_by_lower.get(lowered[:colon], ()):
                candidate = name + text[colon:]
                if self.known(candidate):
                    candidates.add(candidate)
        candidates.discard(text)
        return candidates.pop() if len(candidates) == 1 else None

    def suggest(self, text: str) -> str | None:
        """The known scope a mistyped one most likely meant, or None ("did you mean").

        First the same scope in another case (`READ:BRANDS` -> `read:brands`). Otherwise the
        closest of: a catalogue name close to the whole text (`read:brand` -> `read:brands`), or
        a name close to the text before a ':', keeping what follows (`user-id:x` -> `user_id:x`,
        `read:brand:acme` -> `read:brands:acme`). "Close" is a difflib ratio of at least
        SUGGESTION_CUTOFF; the best ratio wins, the whole-text reading on a tie. Only a prefix
        up to a little longer than the longest name is compared, so the work is bounded.
        """
        lowered = text.lower()
        for name in self.specs:
            if name.lower() == lowered and name != text:
                return name
        for colon in self._colons(text):
            for name in self._prefixes_by_lower.get(lowered[:colon], ()):
                candidate = name + text[colon:]
                if candidate != text and self.known(candidate):
                    return candidate
        best: tuple[float, str] | None = None
        if len(lowered) <= 2 * self._longest:
            for name in difflib.get_close_matches(lowered, list(self.specs), 1, SUGGESTION_CUTOFF):
                if name != text:
                    best = (difflib.SequenceMatcher(None, lowered, name).ratio(), name)
        prefixes = list(self._prefixes_by_lower.values())
        names = [name for group in prefixes for name in group]
        for colon in self._colons(text):
            head, rest = lowered[:colon], text[colon + 1 :]
            close = difflib.get_close_matches(head, names, 1, SUGGESTION_CUTOFF)
            if close and rest:
                candidate = f"{close[0]}:{rest}"
                ratio = difflib.SequenceMatcher(None, head, close[0]).ratio()
                if candidate != text and self.known(candidate) and (best is None or ratio > best[0]):
                    best = (ratio, candidate)
        return None if best is None else best[1]

    def _colons(self, text: str) -> list[int]:
        """Offsets of the colons a catalogue name could end at (within twice the longest name)."""
        limit = 2 * self._longest + 1
        found = []
        colon = text.find(":", 0, limit)
        while colon != -1:
            found.append(colon)
            colon = text.find(":", colon + 1, limit)
        return found
