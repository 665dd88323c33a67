"""Least privilege: the smallest scope set a policy allows for every one of a set of calls.

Each call's requirement is alternatives of conjunctions (`scopes.analysis.calls`), so the
question is a small set cover: choose one option per requirement so that the scopes they need
together are fewest. Two facts make it small:

- One scope per permission name is always enough: the bare scope covers every qualified form
  (`read:brands` covers `read:brands:a` and `read:brands:b`). So given the options chosen, each
  name costs one scope, and the narrowest way to pay it is decided name by name: the qualified
  scope when the calls need exactly one id of that name, the bare scope when they need two or
  more ids (fewest first: one scope instead of two) or the bare scope itself.
- Only requirements with more than one option need a choice. The others are folded in first,
  and the choices left are searched exactly, depth first, with a bound.

The order is: fewest scopes; then fewest bare scopes that take a qualifier (`read:brands:abc`
before `read:brands`); then the scopes the fewest routes accept (a scope's breadth is the number
of route and GraphQL-field requirements of the policy that name it); then the first found.
A scope that grants only beside some user id (`needs_principal`) is satisfied by any user id
the set holds; when it holds none, the one added is `user` if given, else an id the calls name
(in their paths, or in their routes' requirements); with neither, those calls are impossible:
no user id is ours to invent. The search stops after SEARCH_BUDGET steps; the result then says it is not proven minimal, and
is still allowed for every call with no scope that can be dropped (checked with `authorize`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scopes.analysis.calls import Call, Option, Requirement, needs_of
from scopes.model import ScopeSet
from scopes.policy.compile import Route

if TYPE_CHECKING:
    from scopes.evaluate import Policy

__all__ = [
    "SEARCH_BUDGET",
    "Impossible",
    "ImpossibleCalls",
    "LeastPrivilege",
    "least_privilege",
    "minimal_scopes",
]

SEARCH_BUDGET = 100_000  # search steps before the best set found so far is given, unproven


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Impossible:
    """A call no scope set can make allowed, and why."""

    call: str
    reason: str


class ImpossibleCalls(ValueError):
    """Some calls cannot be allowed by any scope set; `impossible` names each and why."""

    def __init__(self, impossible: Sequence[Impossible]) -> None:
        self.impossible = tuple(impossible)
        super().__init__(
            "no scope set allows "
            + "; ".join(f"{item.call} ({item.reason})" for item in self.impossible)
        )


@dataclass(frozen=True, slots=True)
class LeastPrivilege:
    """The answer for a set of calls.

    `scopes` is None exactly when `impossible` is not empty. `proven` is False when the search
    stopped at its budget: `scopes` is then allowed for every call and no scope of it can be
    dropped, but a smaller set may exist.
    """

    scopes: ScopeSet | None
    proven: bool
    impossible: tuple[Impossible, ...]
    calls: tuple[Call, ...]
    steps: int


def minimal_scopes(policy: Policy, calls: Iterable[Call | str], *, user: str | None = None) -> ScopeSet:
    """The smallest scope set `policy` allows for every call; ImpossibleCalls when there is none.

    `user` is the user id to add when a scope grants only beside some `<principal>:<id>`
    (`needs_principal`) and the set holds none.
    """
    found = least_privilege(policy, calls, user=user)
    if found.scopes is None:
        raise ImpossibleCalls(found.impossible)
    return found.scopes


def least_privilege(
    policy: Policy,
    calls: Iterable[Call | str],
    *,
    user: str | None = None,
    granted: Iterable[tuple[str, Requirement]] = (),
    budget: int = SEARCH_BUDGET,
) -> LeastPrivilege:
    """Least privilege for `calls` (Call or `"METHOD /path [FIELD...]"`; CallSyntaxError for
    text that is neither), with the search's own account of whether it is proven.

    `granted` adds requirements known only by label (a decision log's GraphQL calls, whose
    fields it does not record: the scopes that granted them).
    """
    unique = tuple(dict.fromkeys(c if isinstance(c, Call) else Call.parse(c) for c in calls))
    granted = list(granted)
    needs = [needs_of(policy, call) for call in unique]
    labelled: list[tuple[str, tuple[Requirement, ...]]] = [
        (str(n.call), n.requirements) for n in needs if n.impossible is None
    ]
    labelled += [(label, (requirement,)) for label, requirement in granted]
    impossible = [Impossible(str(n.call), n.impossible) for n in needs if n.impossible is not None]
    principal = policy.catalogue.principal
    if user is not None and not _one_token(policy, f"{principal}:{user}"):
        raise ValueError(f"{principal}:{user} is not one scope token; give a user id without spaces")
    named = {id for n in needs for id in n.users}
    named.update(id for _, requirement in granted for option in requirement for id in option.principals)
    impossible += _without_a_user(labelled, user, named, principal)
    if impossible:
        return LeastPrivilege(None, True, tuple(impossible), unique, 0)
    search = _Search([r for _, rs in labelled for r in rs], _breadth(policy.routes), policy, user, named)
    state, proven = search.run(budget)
    words = search.words(state)
    scopes = policy.parse(" ".join(words))
    judged = [n.call for n in needs]
    fixed = [r for label, r in granted]
    unmet = [str(call) for call in judged if not _allowed(policy, scopes, call)]
    if unmet:  # the search and the judge disagree: a bug, never an answer
        raise AssertionError(f"least privilege {scopes} is denied for {', '.join(unmet)}")
    if not proven:
        scopes = _pruned(policy, scopes, judged, fixed)
    return LeastPrivilege(scopes, proven, (), unique, search.steps)


def _one_token(policy: Policy, word: str) -> bool:
    try:
        return len(policy.parse(word)) == 1 and " " not in word
    except ValueError:
        return False


def _without_a_user(
    labelled: list[tuple[str, tuple[Requirement, ...]]], user: str | None, named: set[str],
    principal: str,
) -> list[Impossible]:
    """Calls whose every option needs some user id, when nothing can supply one: no `user`
    given, and no call names a user id."""
    if user is not None or named:
        return []
    return [
        Impossible(label, (
            f"{' or '.join(_needed(option) for option in requirement)} grants only beside a "
            f"{principal}:<id>, and no call names a user: say which user the token acts for "
            "(--user ID)"
        ))
        for label, requirements in labelled
        for requirement in requirements
        if all(option.some_principal for option in requirement)
    ]


def _needed(option: Option) -> str:
    return " ".join(sorted(option.bare) + [f"{name}:{q}" for name, q in sorted(option.qualified)])


def _breadth(routes: Sequence[Route]) -> dict[str, int]:
    """Per permission name, how many requirements (REST routes, GraphQL fields) name it."""
    counts: dict[str, int] = {}
    for route in routes:
        requirements = [route.alternatives]
        if route.graphql is not None:
            requirements = [alts for fields in route.graphql.operations.values() for alts in fields.values()]
        for alternatives in requirements:
            names = {n.name for alt in alternatives for n in alt.needs if not n.principal}
            for name in names:
                counts[name] = counts.get(name, 0) + 1
    return counts


# A search state: the bare names chosen, the names needed with exactly one id (name, id), the
# principal ids, and whether some principal id is still wanted. Adding an option to a state is
# idempotent, so a requirement whose option adds nothing is met.
_State = tuple[frozenset[str], frozenset[tuple[str, str]], frozenset[str], bool]
_EMPTY: _State = (frozenset(), frozenset(), frozenset(), False)


def _add(state: _State, option: Option) -> _State:
    bare, single, principals, some = state
    if (
        option.bare <= bare
        and option.principals <= principals
        and all(name in bare or (name, q) in single for name, q in option.qualified)
        and (not option.some_principal or some or principals)
    ):
        return state
    new_bare = set(bare | option.bare)
    ids = {name: q for name, q in single if name not in new_bare}
    for name, q in option.qualified:
        if name in new_bare:
            continue
        held = ids.get(name)
        if held is None:
            ids[name] = q
        elif held != q:
            del ids[name]
            new_bare.add(name)  # two ids of one name: the bare scope is one scope, not two
    all_principals = principals | option.principals
    wanted = (some or option.some_principal) and not all_principals
    return frozenset(new_bare), frozenset(ids.items()), all_principals, wanted


class _Search:
    """Depth first over the requirements that offer a choice, most constrained first, best
    option first, bounded by what the cheapest option of the hardest requirement left costs."""

    def __init__(self, requirements: list[Requirement], breadth: dict[str, int], policy: Policy,
                 user: str | None, named: set[str]) -> None:
        self.breadth = breadth
        self.qualifiable = {n for n, spec in policy.catalogue.specs.items() if spec.qualifier}
        self.principal = policy.catalogue.principal
        self.user = user
        self.steps = 0
        state = _EMPTY
        choices = []
        for requirement in dict.fromkeys(requirements):
            if len(requirement) == 1:
                state = _add(state, requirement[0])
            else:
                choices.append(requirement)
        self.root = state
        self.choices = choices
        self.named = sorted(named)  # the user ids the calls name, in paths or requirements

    def key(self, state: _State) -> tuple[int, int, int]:
        bare, single, principals, some = state
        count = len(bare) + len(single) + len(principals) + some
        broad = sum(name in self.qualifiable for name in bare)
        breadth = sum(self.breadth.get(name, 0) for name in bare)
        breadth += sum(self.breadth.get(name, 0) for name, _ in single)
        return count, broad, breadth

    def feasible(self, state: _State) -> bool:
        """Whether the state needs no user id, or one was given (`user`)."""
        return not state[3] or self.user is not None

    def run(self, budget: int) -> tuple[_State, bool]:
        best: _State | None = None
        best_key: tuple[int, int, int] | None = None
        seen: set[_State] = set()
        stack: list[tuple[_State, tuple[int, ...]]] = [(self.root, tuple(range(len(self.choices))))]
        while stack:
            if best is not None and self.steps >= budget:
                return best, False
            state, left = stack.pop()
            if state in seen:
                continue
            seen.add(state)
            self.steps += 1
            key = self.key(state)
            hardest: tuple[int, int, list[tuple[tuple[int, int, int], _State]]] | None = None
            bound = 0
            still = []
            for index in left:
                children = []
                for option in self.choices[index]:
                    child = _add(state, option)
                    if child == state:
                        break  # met already
                    children.append((self.key(child), child))
                else:
                    still.append(index)
                    cheapest = min(k[0] for k, _ in children) - key[0]
                    bound = max(bound, cheapest)
                    rank = (len(children), -cheapest)
                    if hardest is None or rank < hardest[:2]:
                        hardest = (*rank, children)
            if best_key is not None and (key[0] + bound, key[1], key[2]) >= best_key:
                continue
            if hardest is None:
                if self.feasible(state):
                    best, best_key = state, key
                else:  # some user id is wanted: any id the calls name serves, at no extra cost
                    bare, single, _, _ = state
                    stack += [((bare, single, frozenset({id}), False), ()) for id in reversed(self.named)]
                continue
            rest = tuple(still)
            for _, child in sorted(hardest[2], key=lambda pair: pair[0], reverse=True):
                stack.append((child, rest))
        if best is None:
            raise AssertionError("no feasible choice, though every call was checked to have one")
        return best, True

    def words(self, state: _State) -> list[str]:
        bare, single, principals, some = state
        words = sorted(bare) + [f"{name}:{q}" for name, q in sorted(single)]
        words += [f"{self.principal}:{id}" for id in sorted(principals)]
        if some:
            words.append(f"{self.principal}:{self.user}")
        return words


def _allowed(policy: Policy, scopes: ScopeSet, call: Call) -> bool:
    return policy.authorize(scopes, call.method, call.path, body=call.body).allowed


def _met(option: Option, scopes: ScopeSet) -> bool:
    grants, users = scopes.grants, scopes.user_ids
    return (
        option.bare <= grants
        and all(name in grants or f"{name}:{q}" in grants for name, q in option.qualified)
        and option.principals <= users
        and (not option.some_principal or bool(users))
    )


def _pruned(policy: Policy, scopes: ScopeSet, calls: list[Call], fixed: list[Requirement]) -> ScopeSet:
    """Drop, last in canonical order first, every scope without which every call is still
    allowed (an unproven result is then at least irreducible)."""
    kept = list(scopes.scopes)
    for scope in reversed(scopes.scopes):
        trial = policy.parse(" ".join(str(s) for s in kept if s != scope))
        if all(_allowed(policy, trial, call) for call in calls) and all(
            any(_met(option, trial) for option in requirement) for requirement in fixed
        ):
            kept.remove(scope)
    return policy.parse(" ".join(map(str, kept)))
