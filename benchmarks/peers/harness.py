"""Agreement first, then timing: every engine on the same requests, in the same run, in turns.

A contender is one engine in one form: a `prepare` step that turns (scopes, method, path) into
the arguments of `decide`, done outside the clock, and `decide`, timed alone. Before anything
is timed each contender answers its whole agreement set, and every timed answer is checked
too: one answer that differs from `scopes` raises `Disagreement`, naming engine and request.
"""

from __future__ import annotations

import functools
import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any

import scopes
from courier_floor import floor_decide, floor_decide_string
from generated_policy import generated_policy
from scopes._distribution import DISTRIBUTION
from scopes.evaluate import ROUTE_CACHE_ENTRIES

from peers import PEERS, load
from peers.requests import COURIER_REQUESTS, Request, generated_requests, renamed
from peers.table import COURIER, generated_rows

__all__ = [
    "Contender",
    "Disagreement",
    "Settings",
    "check_agreement",
    "courier_contenders",
    "generated_contenders",
    "measure",
]

BUILD_LIMIT = 120.0  # seconds: a peer slower than this to build a table is reported, not timed
COPIES = 300  # renamed passes: more distinct (method, path) pairs than scopes' routing cache
FLOOR = "floor: hand-written if chain"  # the row labels the ratios are taken over
REFERENCE = "scopes, ids never seen (routed from scratch)"
WARM_UP = 3  # decisions per contender before timing counts, after the agreement check


class Disagreement(AssertionError):
    """An engine answered a request differently from `scopes`."""


@dataclass(frozen=True)
class Settings:
    rounds: int  # turns each contender gets, after one warm-up turn
    samples: int  # decisions to time per contender and table, at most
    budget: float  # seconds of timed decisions per contender and table, at most
    sizes: tuple[int, ...]  # generated table sizes

    @classmethod
    def full(cls) -> Settings:
        return cls(rounds=100, samples=20_000, budget=30.0, sizes=(10, 1_000, 10_000))

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=1, samples=67, budget=0.5, sizes=(10, 100))


@dataclass
class Stream:
    """Requests with the answers `scopes` gives, taken in turn and round again."""

    requests: list[Request]
    expected: list[bool]

    @classmethod
    def answered(cls, requests: list[Request], policy: scopes.Policy) -> Stream:
        return cls(requests, [policy.authorize(*request).allowed for request in requests])


@dataclass
class Contender:
    label: str  # the row in the table
    engine: str  # who answered, for a disagreement
    prepare: Callable[[str, str, str], tuple]
    decide: Callable[..., Any]  # its truth value is the answer
    stream: Stream
    agreement: int  # how many requests from the stream's start to check before timing
    cursor: int = 0
    chunk: int = 1
    turns: int = 0
    spent: float = 0.0
    samples: list[int] = field(default_factory=list)  # nanoseconds per decision

    def take(self, count: int) -> tuple[list[Request], list[bool]]:
        stream = self.stream
        size = len(stream.requests)
        picked = [(self.cursor + i) % size for i in range(count)]
        self.cursor = (self.cursor + count) % size
        return [stream.requests[i] for i in picked], [stream.expected[i] for i in picked]


# -- the engines -----------------------------------------------------------------------------


def courier_policy() -> scopes.Policy:
    """A fresh Courier policy: its own routing and parse caches, shared with no other row."""
    text = resources.files("scopes.policy").joinpath("courier.toml").read_text(encoding="utf-8")
    return scopes.Policy.from_toml(text, file="courier.toml")


def _scopes_warm(policy: scopes.Policy):
    parse = policy.parse
    return (lambda s, m, p: (parse(s), m, p)), policy.authorize


def _scopes_string(policy: scopes.Policy, *, cached: bool):
    if cached:  # the public call: parse cache, then routing cache
        return (lambda s, m, p: (s, m, p)), policy.authorize
    parse, authorize = policy.catalogue._parse_uncached, policy.authorize
    return (lambda s, m, p: (s, m, p)), (lambda s, m, p: authorize(parse(s), m, p))


def _peer_warm(engine):
    token = engine.token
    return (lambda s, m, p: (token(s), m, p)), engine.decide


def _peer_string(engine):
    token, decide = engine.token, engine.decide
    return (lambda s, m, p: (s, m, p)), (lambda s, m, p: decide(token(s), m, p))


def _floor():
    parse = scopes.Policy.courier().parse

    def prepare(s: str, m: str, p: str) -> tuple:
        token = parse(s)
        return token.grants, token.user_ids, m, p

    return prepare, floor_decide


@dataclass
class Peer:
    name: str
    version: str
    engine: Any = None
    build_seconds: float = 0.0
    problem: str = ""  # why it has no numbers here: not installed, too slow to build, ...


def peers(names: Sequence[str] | None = None) -> list[Peer]:
    modules, missing = load(list(names) if names is not None else None)
    found = []
    for name in names if names is not None else PEERS:
        if name in modules:
            module = modules[name]
            distribution = module.DISTRIBUTION
            found.append(Peer(name, f"{distribution} {metadata.version(distribution)}"))
        else:
            found.append(Peer(name, "", problem=f"not installed ({missing[name]})"))
    return found


def build(peer: Peer, rows) -> Peer:
    """The peer's engine for `rows`, or the reason there is none."""
    module = load([peer.name])[0].get(peer.name)
    if module is None:
        return peer
    start = time.perf_counter()
    try:
        engine = module.Engine(rows)
    except (MemoryError, RuntimeError, ValueError) as error:
        problem = f"build failed: {type(error).__name__}: {error}"
        return Peer(peer.name, peer.version, problem=problem)
    seconds = time.perf_counter() - start
    if seconds > BUILD_LIMIT:
        return Peer(
            peer.name,
            peer.version,
            build_seconds=seconds,
            problem=f"build took {seconds:.0f} s (over {BUILD_LIMIT:.0f} s); not timed",
        )
    return Peer(peer.name, peer.version, engine, seconds)


@functools.cache
def courier_streams() -> tuple[Stream, Stream]:
    """(the Courier requests, `COPIES` renamed passes over them), answered by `scopes`."""
    reference = scopes.Policy.courier()
    fresh = Stream.answered(renamed(COURIER_REQUESTS, COPIES), reference)
    _require_cache_misses(fresh)
    return Stream.answered(COURIER_REQUESTS, reference), fresh


@functools.cache
def generated_stream(endpoints: int) -> Stream:
    """`COPIES` renamed passes over the generated requests, answered by `scopes`."""
    requests = renamed(generated_requests(endpoints), COPIES, generated=True)
    fresh = Stream.answered(requests, generated_policy(endpoints))
    _require_cache_misses(fresh)
    return fresh


def courier_contenders(peer_list: Sequence[Peer]) -> dict[str, list[Contender]]:
    """The Courier workloads: `warm` (the token already in each engine's input form) and
    `string` (from the scope string on every request)."""
    base, fresh = courier_streams()
    check = 3 * len(COURIER_REQUESTS)  # the mix and two renamed passes
    everything = len(fresh.requests)  # for the floor, cheap enough to check every request

    def contender(label, engine, pair, stream, agreement):
        prepare, decide = pair
        return Contender(label, engine, prepare, decide, stream, agreement)

    warm = [
        contender(FLOOR, "floor", _floor(), fresh, everything),
        contender(
            "scopes, repeated requests (caches hit)",
            "scopes",
            _scopes_warm(courier_policy()),
            base,
            len(base.requests),
        ),
        contender(
            REFERENCE,
            "scopes",
            _scopes_warm(courier_policy()),
            fresh,
            check,
        ),
    ]
    string = [
        contender(
            FLOOR, "floor", ((lambda s, m, p: (s, m, p)), floor_decide_string), fresh, everything
        ),
        contender(
            "scopes, repeated requests (caches hit)",
            "scopes",
            _scopes_string(courier_policy(), cached=True),
            base,
            len(base.requests),
        ),
        contender(
            REFERENCE,
            "scopes",
            _scopes_string(courier_policy(), cached=False),
            fresh,
            check,
        ),
    ]
    for peer in peer_list:
        if peer.engine is not None:
            label, engine = peer.version, peer.engine
            warm.append(contender(label, peer.name, _peer_warm(engine), fresh, check))
            string.append(contender(label, peer.name, _peer_string(engine), fresh, check))
    return {"warm": warm, "string": string}


def generated_contenders(
    endpoints: int, peer_list: Sequence[Peer], policy: scopes.Policy | None = None
) -> list[Contender]:
    """Warm decisions on a generated table of `endpoints` endpoints, ids never seen; `policy`
    is scopes' own (not the one that answered the stream, whose caches are warm)."""
    fresh = generated_stream(endpoints)
    check = len(generated_requests(endpoints))
    policy = policy if policy is not None else generated_policy(endpoints)
    contenders = [Contender("scopes", "scopes", *_scopes_warm(policy), fresh, 3 * check)]
    for peer in peer_list:
        if peer.engine is not None:
            contenders.append(
                Contender(peer.version, peer.name, *_peer_warm(peer.engine), fresh, check)
            )
    return contenders


def _require_cache_misses(stream: Stream) -> None:
    distinct = len({(m, p) for _, m, p in stream.requests})
    if distinct <= ROUTE_CACHE_ENTRIES:
        raise AssertionError(
            f"{distinct} distinct requests would fit scopes' routing cache ({ROUTE_CACHE_ENTRIES});"
            " raise COPIES"
        )


# -- agreement -------------------------------------------------------------------------------


def check_agreement(contender: Contender) -> None:
    """Answer the first `agreement` requests of the stream; raise on the first difference."""
    requests, expected = contender.stream.requests, contender.stream.expected
    for index in range(min(contender.agreement, len(requests))):
        scope_string, method, path = requests[index]
        got = bool(contender.decide(*contender.prepare(scope_string, method, path)))
        if got != expected[index]:
            _disagree(contender, requests[index], got)


def _disagree(contender: Contender, request: Request, got: bool) -> None:
    scope_string, method, path = request
    said = {True: "allows", False: "denies"}
    raise Disagreement(
        f"{contender.engine} ({contender.label}) disagrees with scopes: {method} {path} "
        f"with token {scope_string!r}: {contender.engine} {said[got]}, scopes {said[not got]}"
    )


# -- timing ----------------------------------------------------------------------------------


def clock_overhead() -> int:
    """What `perf_counter_ns` itself adds to one timed call (median of back-to-back reads)."""
    clock = time.perf_counter_ns
    reads = []
    for _ in range(20_000):
        start = clock()
        reads.append(clock() - start)
    return int(statistics.median(reads))


def _turn(contender: Contender, count: int, overhead: int) -> None:
    requests, expected = contender.take(count)
    prepare = contender.prepare
    calls = [prepare(*request) for request in requests]
    decide, clock = contender.decide, time.perf_counter_ns
    times: list[int] = []
    answers: list[Any] = []
    for args in calls:
        start = clock()
        answer = decide(*args)
        stop = clock()
        times.append(stop - start)
        answers.append(answer)
    for request, answer, want in zip(requests, answers, expected, strict=True):
        if bool(answer) != want:
            _disagree(contender, request, bool(answer))
    contender.spent += sum(times) / 1e9
    contender.samples.extend(max(0, t - overhead) for t in times)


def measure(contenders: list[Contender], settings: Settings, overhead: int) -> None:
    """Agreement, a warm-up turn each, then `settings.rounds` rounds in which every contender
    takes a turn, the order rotating each round. Each turn is sized from the decisions timed so
    far, so that every contender spreads its sample or time budget over all the rounds."""
    for contender in contenders:
        check_agreement(contender)
        # Timing starts past what the check answered: no cache of the engine's holds it then.
        contender.cursor = contender.agreement % len(contender.stream.requests)
    gc.collect()
    for contender in contenders:
        _turn(contender, WARM_UP, overhead)
    for round_index in range(settings.rounds):
        if round_index == 0:
            for contender in contenders:  # the warm-up sized the first turn; it is not kept
                contender.chunk = _turn_size(contender, settings, settings.rounds)
                contender.samples.clear()
                contender.spent = 0.0
        shift = round_index % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            if len(contender.samples) < settings.samples and contender.spent < settings.budget:
                if round_index:
                    contender.chunk = _turn_size(contender, settings, settings.rounds - round_index)
                _turn(contender, contender.chunk, overhead)
                contender.turns += 1


def _turn_size(contender: Contender, settings: Settings, rounds_left: int) -> int:
    """Decisions for the next turn: the rest of the budget, shared by the rounds left."""
    each = max(contender.spent / max(len(contender.samples), 1), 1e-7)
    by_samples = math.ceil((settings.samples - len(contender.samples)) / rounds_left)
    by_time = int((settings.budget - contender.spent) / rounds_left / each)
    return max(1, min(by_samples, by_time))


# -- the whole run ---------------------------------------------------------------------------


@dataclass
class Run:
    settings: Settings
    overhead: int
    machine: dict[str, str]
    peers: list[Peer]
    courier: dict[str, list[Contender]]
    generated: dict[int, list[Contender]]
    builds: dict[int, list[Peer]]


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "python": f"{platform.python_implementation()} {platform.python_version()} "
        f"({platform.system()} {platform.machine()})",
        "load": f"{load_average:.2f}",
        "scopes": metadata.version(DISTRIBUTION),
    }


def run(
    settings: Settings,
    names: Sequence[str] | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Run:
    host = machine()  # the load average before this run adds to it
    overhead = clock_overhead()
    peer_list = peers(names)
    progress("building the Courier table in each peer")
    courier_peers = [build(peer, COURIER) for peer in peer_list]
    courier = courier_contenders(courier_peers)
    for workload, contenders in courier.items():
        progress(f"Courier, {workload}: agreement, then timing")
        measure(contenders, settings, overhead)
    del courier_peers
    generated: dict[int, list[Contender]] = {}
    builds: dict[int, list[Peer]] = {}
    for size in settings.sizes:
        progress(f"generated table of {size:,} endpoints: building")
        rows = generated_rows(size)
        start = time.perf_counter()
        policy = generated_policy(size)
        scopes_build = Peer("scopes", "scopes", build_seconds=time.perf_counter() - start)
        built = [build(peer, rows) for peer in peer_list]
        progress(f"generated table of {size:,} endpoints: agreement, then timing")
        generated[size] = generated_contenders(size, built, policy)
        measure(generated[size], settings, overhead)
        builds[size] = [scopes_build]
        builds[size] += [Peer(p.name, p.version, None, p.build_seconds, p.problem) for p in built]
        del built, rows, policy
        for contender in generated[size]:
            contender.prepare = contender.decide = None  # let the engine go before the next size
        gc.collect()
    return Run(settings, overhead, host, peer_list, courier, generated, builds)
