"""Scope values and the ScopeSet algebra: frozen, hashable, equal by meaning."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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

# Building nodes while parsing: the slots' own setters skip the frozen dataclass __init__'s
# per-field object.__setattr__ calls (about half the cost of a node); same values, same type.
_new = object.__new__
_set_principal_name = PrincipalScope.name.__set__  # type: ignore[attr-defined]
_set_principal_id = PrincipalScope.id.__set__  # type: ignore[attr-defined]
_set_principal_span = PrincipalScope.span.__set__  # type: ignore[attr-defined]
_set_permission_name = PermissionScope.name.__set__  # type: ignore[attr-defined]
_set_permission_qualifier = PermissionScope.qualifier.__set__  # type: ignore[attr-defined]
_set_permission_span = PermissionScope.span.__set__  # type: ignore[attr-defined]


def principal_scope(name: str, id: str, span: Span) -> PrincipalScope:
    node = _new(PrincipalScope)
    _set_principal_name(node, name)
    _set_principal_id(node, id)
    _set_principal_span(node, span)
    return node


def permission_scope(name: str, qualifier: str | None, span: Span) -> PermissionScope:
    node = _new(PermissionScope)
    _set_permission_name(node, name)
    _set_permission_qualifier(node, qualifier)
    _set_permission_span(node, span)
    return node

def _canonical_key(scope: Scope) -> tuple[int, str, str]:
    """Principals first, then permissions (bare before qualified), then unknown scopes."""
    kind = type(scope)
    if kind is PermissionScope:
        return (1, scope.name, "" if scope.qualifier is None else scope.qualifier)
    if kind is PrincipalScope:
        return (0, scope.name, scope.id)
    return (2, scope.text, "")


@dataclass(frozen=True, slots=True, eq=False, init=False)
class ScopeSet:
    """A token's scopes, deduplicated, in canonical order.

    Equality and hashing ignore order, spacing, duplicates and where each scope was written.
    `user_ids` and `grants` are computed once so the evaluator's checks are set lookups.
    """

    user_ids: frozenset[str]
    grants: frozenset[str]  # canonical text of every permission scope
    _members: frozenset[Scope]
    _ordered: tuple[Scope, ...] | None  # canonical order, sorted on first use

    def __init__(self, scopes: Iterable[Scope] = ()) -> None:
        members = frozenset(scopes)
        user_ids = []
        grants = []
        for scope in members:
            kind = type(scope)
            if kind is PermissionScope:
                qualifier = scope.qualifier
                grants.append(scope.name if qualifier is None else f"{scope.name}:{qualifier}")
            elif kind is PrincipalScope:
                user_ids.append(scope.id)
        setattr_ = object.__setattr__
        setattr_(self, "_members", members)
        setattr_(self, "_ordered", None)
        setattr_(self, "user_ids", frozenset(user_ids))
        setattr_(self, "grants", frozenset(grants))

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """The members in canonical order: principals, permissions, unknown scopes."""
        ordered = self._ordered
        if ordered is None:
            ordered = tuple(sorted(self._members, key=_canonical_key))
            object.__setattr__(self, "_ordered", ordered)
        return ordered

    def __str__(self) -> str:
        return " ".join(map(str, self.scopes))

    def __repr__(self) -> str:
        return f"ScopeSet({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return self._members == other._members

    def __hash__(self) -> int:
        return hash(self._members)

    def __iter__(self) -> Iterator[Scope]:
        return iter(self.scopes)

    def __len__(self) -> int:
        return len(self.scopes)

    def __bool__(self) -> bool:
        return bool(self.scopes)

    def __contains__(self, scope: object) -> bool:
        return scope in self._members

    def __or__(self, other: ScopeSet) -> ScopeSet:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return ScopeSet(self._members | other._members)

    def __and__(self, other: ScopeSet) -> ScopeSet:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return ScopeSet(self._members & other._members)

    def __sub__(self, other: ScopeSet) -> ScopeSet:
        if not isinstance(other, ScopeSet):
            return NotImplemented
        return ScopeSet(self._members - other._members)

    def covers_scope(self, scope: Scope) -> bool:
        """Whether some member grants at least what `scope` grants."""
        if scope in self._members:
            return True
        if type(scope) is PermissionScope and scope.qualifier is not None:
            return scope.name in self.grants
        return False

    def covers(self, other: ScopeSet) -> bool:
        """Every scope of `other` is covered by one of ours (so every set covers the empty set)."""
        return all(self.covers_scope(scope) for scope in other.scopes)

    def _covered_by_another(self, scope: Scope) -> bool:
        # The only covering between distinct scopes: `name` covers `name:qualifier`.
        return type(scope) is PermissionScope and scope.qualifier is not None and (
            scope.name in self.grants
        )

    def normalized(self) -> ScopeSet:
        """The same meaning without members another member already covers."""
        return ScopeSet(s for s in self.scopes if not self._covered_by_another(s))

    def redundant(self) -> tuple[tuple[Scope, PermissionScope], ...]:
        """(redundant member, the member that covers it) pairs, in canonical order."""
        return tuple(
            (s, PermissionScope(s.name))
            for s in self.scopes
            if self._covered_by_another(s)
        )
