"""Parse and authorize benchmarks, side by side in one pyperf run.

    python benchmarks/bench_engine.py --fast -o /tmp/engine.json
    python benchmarks/report.py /tmp/engine.json
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pyperf

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scopes  # noqa: E402
from courier_floor import MIX, floor_decide  # noqa: E402
from generated_policy import generated_mix, generated_policy  # noqa: E402

FIVE = "user_id:pigeon user_id:bluebird read:messages read:brands:my_brand inbox:read:messages"


def megabyte_string(size: int, *, valid: bool) -> str:
    unit = "read:brands:my_brand "
    text = (unit * (size // len(unit) + 1))[:size].rstrip(":")
    text = text.rstrip() if not text.endswith(":") else text[:-1]
    return text + (" a::b" if not valid else "")


def time_mix(decide, requests):
    def run(loops: int) -> float:
        clock = pyperf.perf_counter
        start = clock()
        for _ in range(loops):
            for args in requests:
                decide(*args)
        return clock() - start

    return run


def main() -> None:
    runner = pyperf.Runner()
    runner.metadata["scopes_version"] = "0.1.0"
    courier = scopes.Policy.courier()
    catalogue = courier.catalogue

    # -- parse ---------------------------------------------------------------------------------
    runner.bench_func("parse: cold, 5 scopes", catalogue._parse_uncached, FIVE)
    scopes.parse(FIVE)
    runner.bench_func("parse: cached, 5 scopes", scopes.parse, FIVE)
    for size, label in ((100_000, "100 KB"), (1_000_000, "1 MB")):
        valid = megabyte_string(size, valid=True)
        invalid = megabyte_string(size, valid=False)
        runner.bench_func(f"parse: {label} valid", catalogue._parse_uncached, valid)
        runner.bench_func(f"parse: {label} invalid at the end", _parse_error, catalogue, invalid)

    # -- the worst shapes (DESIGN.md, "Costs"): a megabyte of each parses or fails in under a
    # second, and 10x the input costs about 10x the time (tests/test_costs.py checks that) ----
    for label, text in worst_shapes(1_000_000).items():
        runner.bench_func(f"parse: 1 MB of {label}", _parse_any, catalogue, text)
    for label, query in largest_graphql().items():
        runner.bench_func(f"graphql: the largest document the limits let through, {label}",
                          _examine_uncached, query)

    # -- authorize: warm (token already a ScopeSet), against the hand-written floor ------------
    warm = [(courier.parse(s), m, p) for s, m, p in MIX]
    floor = [(t.grants, t.user_ids, m, p) for t, m, p in warm]
    for (token, method, path), args in zip(warm, floor):
        assert courier.authorize(token, method, path).allowed == floor_decide(*args), (method, path)
    n = len(MIX)
    runner.bench_time_func("authorize: floor (if chain), per decision", time_mix(floor_decide, floor), inner_loops=n)
    runner.bench_time_func("authorize: warm, per decision", time_mix(courier.authorize, warm), inner_loops=n)
    # The same requests, ids renamed in token and path alike (so every answer is unchanged),
    # cycling through more (method, path) pairs than the routing cache keeps: every request
    # with an id is routed from scratch.
    renamed = [
        (courier.parse(rename(s, k)), m, rename(p, k)) for k in range(300) for s, m, p in MIX
    ]
    expected = [courier.authorize(*request).allowed for request in warm] * 300
    assert [courier.authorize(*request).allowed for request in renamed] == expected
    runner.bench_time_func(
        "authorize: warm, ids never seen (routing cache misses), per decision",
        time_mix(courier.authorize, renamed),
        inner_loops=len(renamed),
    )
    strings = [(s, m, p) for s, m, p in MIX]
    runner.bench_time_func("authorize: scope string (cached parse), per decision",
                           time_mix(courier.authorize, strings), inner_loops=n)

    # -- cold: a scope string never seen before, parsed and decided -----------------------------
    counter = itertools.count()

    def cold(loops: int) -> float:
        clock = pyperf.perf_counter
        fresh = [(f"{s} x:{next(counter)}", m, p) for _ in range(loops) for s, m, p in MIX[:1]]
        start = clock()
        for text, method, path in fresh:
            courier.authorize(catalogue._parse_uncached(text), method, path)
        return clock() - start

    runner.bench_time_func("authorize: cold (new scope string), per decision", cold)

    # -- table size: 10,000 generated endpoints against the Courier table ----------------------
    big = generated_policy(10_000)
    big_mix = [(big.parse(s), m, p) for s, m, p in generated_mix()]
    small = generated_policy(10)
    small_mix = [(small.parse(s), m, p) for s, m, p in generated_mix(10)]
    runner.bench_time_func("authorize: generated 10 endpoints, per decision",
                           time_mix(small.authorize, small_mix), inner_loops=len(small_mix))
    runner.bench_time_func("authorize: generated 10,000 endpoints, per decision",
                           time_mix(big.authorize, big_mix), inner_loops=len(big_mix))


def worst_shapes(size: int) -> dict[str, str]:
    """Inputs of about `size` characters in the shapes that cost a naive reader the most."""
    return {
        "one-letter scopes": " ".join(["a"] * (size // 2)),
        "one-letter scopes, invalid at the end": " ".join(["a"] * (size // 2)) + ":",
        "one scope": "a" * size,
        "unknown scopes with 10,000 colons each": " ".join(["x:" * 10_000 + "y"] * (size // 20_002)),
        "qualified scopes with 10,000 colons each": " ".join(
            ["read:brands:" + "x:" * 10_000 + "y"] * (size // 20_014)
        ),
    }


def largest_graphql() -> dict[str, str]:
    """Documents at the limits scopes.graphql lets through (5,000 tokens, 64 levels)."""
    return {
        "root fields": "{ " + " ".join(f"f{i}" for i in range(4990)) + " }",
        "fragments": "{ " + " ".join(f"...f{i}" for i in range(500)) + " } "
        + " ".join(f"fragment f{i} on Q {{ a{i} }}" for i in range(500)),
        "nested": "{ a " * 32 + "{ b }" + " }" * 32,
    }


def _parse_any(catalogue, text):
    try:
        catalogue._parse_uncached(text)
    except scopes.ScopeSyntaxError:
        pass


def _examine_uncached(query):
    from scopes.graphql import _examine, _graphql_language

    return _examine(query, None, _graphql_language())


def rename(text: str, k: int) -> str:
    """Give every id of the mix a new name, the same in a token and in a path."""
    for name in ("acme", "other", "pigeon", "bluebird", "topic-1", "t1"):
        text = text.replace(name, f"{name}{k}")
    return text


def _parse_error(catalogue, text):
    try:
        catalogue._parse_uncached(text)
    except scopes.ScopeSyntaxError:
        return
    raise AssertionError("expected a syntax error")


if __name__ == "__main__":
    main()
