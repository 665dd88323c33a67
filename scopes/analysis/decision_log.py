"""Least privilege from a gateway's decision log: per client id, the calls it actually made.

The log is what `scopes.gateway.check.DecisionLog` writes: one JSON object a line with `time`,
`decision` ("allow" | "deny"), `status`, `method`, `path` (no query), `rule`, `reason`,
`subject`, `client_id` and `latency_us`; never the token. So:

- The calls are the allowed decisions, re-decided under the policy given (the one in force
  now). Denied calls are counted and listed, not included: least privilege for what a client
  does is no reason to widen it.
- A GraphQL body is not logged, so a GraphQL call's fields are unknown; what granted it is in
  the reason ("granted by read:messages"), and those scopes are kept as they are.
- The token's scopes are not logged either. What the log shows of them is in the reasons: the
  scopes that granted each allow, and the whole scope string after "the token has" in each
  insufficient-scope deny (clipped after 120 characters). Those are the client's "seen" scopes,
  which the proposal is compared with, unless the caller gives the token's scope string.

The file is read as a stream, line by line; repeated lines cost a dict lookup (every distinct
(client, decision, method, path, reason) is kept once, with a count). A line as the gateway
writes it, `{"time": <number>, ..., "latency_us": <number>}`, is decoded once per distinct
middle: what differs between repeats of one call is its time and its latency, which the
proposal never reads. A line that is not a decision object is counted as malformed, with its
number, and never stops the reading.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scopes.analysis.calls import Call, Option, Requirement
from scopes.analysis.minimal import LeastPrivilege, least_privilege
from scopes.errors import ScopeSyntaxError
from scopes.model import PermissionScope, PrincipalScope, ScopeSet

if TYPE_CHECKING:
    from scopes.evaluate import Policy

__all__ = ["ClientLog", "LogSummary", "Proposal", "propose", "read_decision_log"]

MALFORMED_SHOWN = 5  # line numbers of malformed lines kept for the report
_GRANTED = "; granted by "
_HELD = "; the token has "
_NOTHING = frozenset({"nothing (public)", "any valid token"})
# RFC 8259 §6: a JSON number, exactly. With the first and the last member matched as numbers,
# `{"time": T, MIDDLE, "latency_us": L}` is a JSON object if and only if `{MIDDLE}` is one
# with members, and the two hold the same other members.
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_TIME = re.compile(_NUMBER)
_LATENCY = re.compile(_NUMBER + r"\}[ \t\r\n]*")
_OPEN, _CLOSE = '{"time": ', ', "latency_us": '
# (decision, method, path, reason, client id) of a line, or None when it is no decision.
_Read = tuple[str, str, str, str, str | None] | None


def __dir__() -> list[str]:
    return __all__


# (decision, method, path, reason): one distinct decision of a client.
_Key = tuple[str, str, str, str]


@dataclass(slots=True)
class ClientLog:
    """One client's distinct decisions in the log, each with how often it was made."""

    client_id: str
    decisions: Counter[_Key] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.decisions.values())


@dataclass(slots=True)
class LogSummary:
    """What a decision log holds: per client id its decisions, and what could not be read."""

    lines: int = 0
    decisions: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)  # the first MALFORMED_SHOWN
    without_client: int = 0  # decisions with no client id (no token, or one that did not verify)
    clients: dict[str, ClientLog] = field(default_factory=dict)


def read_decision_log(lines: Iterable[str], *, client: str | None = None) -> LogSummary:
    """Read decision-log lines (a file object streams); only `client`'s, when given.

    Never raises on what a line holds: anything but a decision object is counted malformed.
    Blank lines are skipped.
    """
    summary = LogSummary()
    clients = summary.clients
    known: dict[str, _Read] = {}  # a framed line's middle, read
    number = 0
    for number, line in enumerate(lines, 1):
        middle = _middle(line)
        if middle is not None:
            if middle in known:
                read = known[middle]
            else:
                read = known[middle] = _read("{" + middle + "}")
        elif not line.strip():
            continue
        else:
            read = _read(line)
        if read is None:
            summary.malformed += 1
            if len(summary.malformed_lines) < MALFORMED_SHOWN:
                summary.malformed_lines.append(number)
            continue
        summary.decisions += 1
        decision, method, path, reason, client_id = read
        if client_id is None:
            summary.without_client += 1
            continue
        if client is not None and client_id != client:
            continue
        log = clients.get(client_id)
        if log is None:
            log = clients[client_id] = ClientLog(client_id)
        log.decisions[(decision, method, path, reason)] += 1
    summary.lines = number
    return summary


def _middle(line: str) -> str | None:
    """MIDDLE of `{"time": T, MIDDLE, "latency_us": L}` (T and L JSON numbers), or None."""
    if not line.startswith(_OPEN):
        return None
    head = line.find(", ", len(_OPEN))
    tail = line.rfind(_CLOSE)
    if (
        head < 0
        or tail < head
        or _TIME.fullmatch(line, len(_OPEN), head) is None
        or _LATENCY.fullmatch(line, tail + len(_CLOSE)) is None
    ):
        return None
    return line[head + 2 : tail]


def _read(text: str) -> _Read:
    """The fields of one decision-log object, or None for anything else."""
    try:
        entry = json.loads(text)
        decision = entry["decision"]
        method = entry["method"]
        path = entry["path"]
        reason = entry["reason"]
        client_id = entry["client_id"]
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    if (
        (decision == "allow" or decision == "deny")
        and type(method) is str
        and type(path) is str
        and type(reason) is str
        and (client_id is None or type(client_id) is str)
    ):
        return decision, method, path, reason, client_id
    return None


@dataclass(frozen=True, slots=True)
class Proposal:
    """The least privilege for one client's calls, beside what its token holds now.

    `current` is the token's scope string when the caller gave it, else the scopes seen in the
    log's reasons (`current_from` says which; `clipped` when a reason was cut short, so more
    may be held). `beyond` are the current scopes the proposal does not cover. `denied`
    counts each denied call, `granted_only` names the GraphQL calls kept as they were granted.
    """

    client_id: str
    decisions: int
    calls: tuple[str, ...]
    least: LeastPrivilege
    current: ScopeSet
    current_from: str  # "given" | "log"
    clipped: bool
    beyond: ScopeSet
    denied: tuple[tuple[str, int], ...]
    granted_only: tuple[str, ...]


def propose(
    policy: Policy, log: ClientLog, *, current: str | None = None, user: str | None = None
) -> Proposal:
    """Least privilege for the calls a client made, under `policy`.

    `current` is the client's token scope string, if known; `user` the user id to add for a
    scope that needs one and no call names (default: the first user id the token holds).
    """
    calls: dict[Call, None] = {}
    granted: dict[tuple[str, Requirement], None] = {}
    denied: Counter[str] = Counter()
    seen: dict[str, None] = {}
    clipped = False
    for (decision, method, path, reason), count in sorted(log.decisions.items()):
        request = f"{method} {path}"
        if decision == "deny":
            denied[request] += count
            held = reason.rpartition(_HELD)[2] if _HELD in reason else ""
            if held.endswith("..."):
                held, clipped = held.rpartition(" ")[0], True  # the last word was cut
            seen.update(dict.fromkeys(_words(policy, held if held != "no scopes" else "")))
            continue
        words = reason.rpartition(_GRANTED)[2] if _GRANTED in reason else ""
        words = "" if words in _NOTHING else words
        seen.update(dict.fromkeys(_words(policy, words)))
        route = policy.router.resolve(method, path).route
        if route is not None and route.graphql is not None:
            label = f"{request} (GraphQL fields are not logged: as granted, {words or 'nothing'})"
            granted[(label, _as_granted(policy, words))] = None
        else:
            calls[Call(method, path)] = None
    token = policy.parse(current) if current is not None else policy.parse(" ".join(seen))
    if user is None and token.user_ids:
        user = min(token.user_ids)
    least = least_privilege(policy, calls, user=user, granted=granted)
    proposed = least.scopes if least.scopes is not None else policy.parse("")
    beyond = policy.parse(" ".join(str(s) for s in token.scopes if not proposed.covers_scope(s)))
    return Proposal(
        log.client_id,
        log.count,
        tuple(str(call) for call in calls),
        least,
        token,
        "given" if current is not None else "log",
        clipped and current is None,
        beyond,
        tuple(sorted(denied.items())),
        tuple(label for label, _ in granted),
    )


def _words(policy: Policy, text: str) -> list[str]:
    """The scope tokens of a reason's scope string (nothing, if it does not parse)."""
    try:
        return [str(scope) for scope in policy.parse(text).scopes]
    except ScopeSyntaxError:
        return []


def _as_granted(policy: Policy, words: str) -> Requirement:
    """The one option a logged GraphQL allow shows: the scopes that granted it, each as
    narrow as it was (a bare scope covers its qualified forms), and some user id beside a
    scope that needs one."""
    bare: set[str] = set()
    qualified: set[tuple[str, str]] = set()
    principals: set[str] = set()
    some = False
    for scope in policy.parse(" ".join(_words(policy, words))).scopes:
        if isinstance(scope, PrincipalScope):
            principals.add(scope.id)
        elif isinstance(scope, PermissionScope):
            if scope.qualifier is None:
                bare.add(scope.name)
            else:
                qualified.add((scope.name, scope.qualifier))
            some = some or policy.catalogue.specs[scope.name].needs_principal
    return (Option.of(bare, qualified, principals, some),)
