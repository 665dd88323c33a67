"""Scope values and the ScopeSet algebra: frozen, hashable, equal by meaning."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scopes.catalogue import Catalogue

__all__ = ["PermissionScope", "PrincipalScope", "Scope", "ScopeSet", "UnknownScope"]


def __dir__() -> list[str]:
    return __all__


Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class PrincipalScope:
    """`user_id:<id>`: who the token acts for. It binds routes; alone it grants nothing."""

    name: str  # the policy's principal scope, "user_id"
    id: str  # everything after the prefix, colons included
    span: Span = field(default=(0, 0), compare=False)

    def __str__(self) -> str:
        return f"{self.name}:{self.id}"


@dataclass(frozen=True, slots=True)
class PermissionScope:
    """A scope from the policy's catalogue, optionally narrowed to one resource."""

    name: str  # "read:brands"
    qualifier: str | None = None  # "my_brand" in read:brands:my_brand
    span: Span = field(default=(0, 0), compare=False)

    def __str__(self) -> str:
        return self.name if self.qualifier is None else f"{self.name}:{self.qualifier}"


@dataclass(frozen=True, slots=True)
class UnknownScope:
    """A well-formed scope the catalogue does not know: grants nothing, the linter reports it."""

    text: str
    span: Span = field(default=(0, 0), compare=False)

    def __str__(self) -> str:
        return self.text


Scope = PrincipalScope | PermissionScope | UnknownScope


def _setters(cls: type, *names: str) -> list[Any]:
    """The slots' own descriptors' setters, read from the class namespace: building a frozen
    node through them skips the dataclass __init__'s object.__setattr__ calls (a third of the
    cost), for the same values and the same type."""
    namespace = vars(cls)
    return [namespace[name].__set__ for name in names]


_principal_name, _principal_id, _principal_span = _setters(PrincipalScope, "name", "id", "span")
_permission_name, _permission_qualifier, _permission_span = _setters(
    PermissionScope, "name", "qualifier", "span"
)
_unknown_text, _unknown_span = _setters(UnknownScope, "text", "span")


def principal_scope(name: str, id: str, span: Span) -> PrincipalScope:
    """PrincipalScope(name, id, span), built the fast way (the catalogue builds many)."""
    node = object.__new__(PrincipalScope)
    _principal_name(node, name)
    _principal_id(node, id)
    _principal_span(node, span)
    return node


def permission_scope(name: str, qualifier: str | None, span: Span) -> PermissionScope:
    """PermissionScope(name, qualifier, span), built the fast way."""
    node = object.__new__(PermissionScope)
    _permission_name(node, name)
    _permission_qualifier(node, qualifier)
    _permission_span(node, span)
    return node


def unknown_scope(text: str, span: Span) -> UnknownScope:
    """UnknownScope(text, span), built the fast way."""
    node = object.__new__(UnknownScope)
    _unknown_text(node, text)
    _unknown_span(node, span)
    return node


def _canonical_key(scope: Scope) -> tuple[int, str, str]:
    """Principals first, then permissions (bare before qualified), then unknown scopes."""
    if isinstance(scope, PermissionScope):
        return (1, scope.name, "" if scope.qualifier is None else scope.qualifier)
    if isinstance(scope, PrincipalScope):
        return (0, scope.name, scope.id)
    return (2, scope.text, "")


@dataclass(frozen=True, slots=True, eq=False, init=False)
class ScopeSet:
    """A token's scopes, deduplicated, in canonical order, meaning what `catalogue` says.

    Equality and hashing ignore order, spacing, duplicates and where each scope was written.
    `user_ids` (the ids of the catalogue's principal) and `grants` (the canonical text of every
    permission scope) are what the evaluator looks up, and all a parse computes: the scope nodes
    are built from the text on first use, so deciding on a never-seen string costs no nodes.

    A set built from nodes has no catalogue (`catalogue is None`); `Policy.authorize` reads any
    set that is not its own catalogue's from its text (DESIGN.md, "Scope sets and their policy").
    """

    user_ids: frozenset[str]
    grants: frozenset[str]
    catalogue: Catalogue | None
    _text: str | None  # what a catalogue parsed, when the nodes are yet to be built
    _members: frozenset[Scope] | None
    _ordered: tuple[Scope, ...] | None  # canonical order, sorted on first use

    def __init__(self, scopes: Iterable[Scope] = (), catalogue: Catalogue | None = None) -> None:
        members = frozenset(scopes)
        user_ids = []
        grants = []
        for scope in members:
            if isinstance(scope, PermissionScope):
                grants.append(str(scope))
            elif isinstance(scope, PrincipalScope):
                user_ids.append(scope.id)
        set_ = object.__setattr__
        set_(self, "user_ids", frozenset(user_ids))
        set_(self, "grants", frozenset(grants))
        set_(self, "catalogue", catalogue)
        set_(self, "_text", None)
        set_(self, "_members", members)
        set_(self, "_ordered", None)

    @classmethod
    def parsed(
        cls, catalogue: Catalogue, text: str, grants: frozenset[str], user_ids: frozenset[str]
    ) -> ScopeSet:
        """The set a catalogue read from `text` (well-formed), its nodes left for later."""
        self = _new(cls)
        _set_user_ids(self, user_ids)
        _set_grants(self, grants)
        _set_catalogue(self, catalogue)
        _set_text(self, text)
        _set_members(self, None)
        _set_ordered(self, None)
        return self

    @property
    def members(self) -> frozenset[Scope]:
        """The distinct scopes, unordered."""
        members = self._members
        if members is None:
            assert self.catalogue is not None and self._text is not None  # set by parsed()
            members = frozenset(self.catalogue.distinct_scopes(self._text))
            object.__setattr__(self, "_members", members)
        return members

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """The members in canonical order: principals, permissions, unknown scopes."""
        ordered = self._ordered
        if ordered is None:
            ordered = tuple(sorted(self.members, key=_canonical_key))
            object.__setattr__(self, "_ordered", ordered)
        return ordered

    def __str__(self) -> str:
        return " ".join(map(str, self.scopes))

    def __repr__(self) -> str:
        return f"ScopeSet({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return self.members == other.members

    def __hash__(self) -> int:
        return hash(self.members)

    def __iter__(self) -> Iterator[Scope]:
        return iter(self.scopes)

    def __len__(self) -> int:
        return len(self.members)

    def __bool__(self) -> bool:
        return bool(self.members)

    def __contains__(self, scope: object) -> bool:
        return scope in self.members

    def _combined(self, other: ScopeSet, members: frozenset[Scope]) -> ScopeSet:
        same = self.catalogue if self.catalogue is other.catalogue else None
        return ScopeSet(members, same)

    def __or__(self, other: object) -> ScopeSet:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return self._combined(other, self.members | other.members)

    def __and__(self, other: object) -> ScopeSet:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return self._combined(other, self.members & other.members)

    def __sub__(self, other: object) -> ScopeSet:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return self._combined(other, self.members - other.members)

    def covers_scope(self, scope: Scope) -> bool:
        """Whether some member grants at least what `scope` grants."""
        if scope in self.members:
            return True
        return self._covered_by_another(scope)

    def covers(self, other: ScopeSet) -> bool:
        """Every scope of `other` is covered by one of ours (so every set covers the empty set)."""
        return all(self.covers_scope(scope) for scope in other.members)

    def _covered_by_another(self, scope: Scope) -> bool:
        # The only covering between distinct scopes: `name` covers `name:qualifier`.
        return (
            isinstance(scope, PermissionScope)
            and scope.qualifier is not None
            and scope.name in self.grants
        )

    def normalized(self) -> ScopeSet:
        """The same meaning without members another member already covers."""
        kept = (s for s in self.members if not self._covered_by_another(s))
        return ScopeSet(kept, self.catalogue)

    def redundant(self) -> tuple[tuple[Scope, PermissionScope], ...]:
        """(redundant member, the member that covers it) pairs, in canonical order."""
        return tuple(
            (s, PermissionScope(s.name))
            for s in self.scopes
            if isinstance(s, PermissionScope) and self._covered_by_another(s)
        )


# Building a parsed set on the hot path, as the nodes are built.
_new = object.__new__
_set_user_ids, _set_grants, _set_catalogue, _set_text, _set_members, _set_ordered = _setters(
    ScopeSet, "user_ids", "grants", "catalogue", "_text", "_members", "_ordered"
)
