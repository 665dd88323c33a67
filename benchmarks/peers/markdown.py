"""A finished run as markdown: the machine, the Courier table, the generated tables."""

from __future__ import annotations

import statistics

from peers.harness import FLOOR, REFERENCE, Contender, Run
from peers.requests import COURIER_REQUESTS

__all__ = ["quantile", "render"]


def quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def human(nanoseconds: float) -> str:
    micro = nanoseconds / 1e3
    if micro >= 1000:
        return f"{micro / 1e3:.1f} ms" if micro < 100_000 else f"{micro / 1e3:.0f} ms"
    if micro >= 100:
        return f"{micro:.0f} µs"
    if micro >= 10:
        return f"{micro:.1f} µs"
    return f"{micro:.2f} µs"


def ratio(value: float, base: float) -> str:
    if not base:
        return ""
    times = value / base
    return f"{times:.2f}×" if times < 10 else f"{times:.0f}×"


def median(contender: Contender) -> float:
    return statistics.median(contender.samples)


def render(run: Run) -> str:
    lines = [
        f"Machine: {run.machine['cpu']}; {run.machine['python']}; "
        f"load average {run.machine['load']} at the start.",
        "Packages: scopes "
        + run.machine["scopes"]
        + "".join(f", {peer.version}" for peer in run.peers if peer.version)
        + ".",
    ]
    missing = [f"{peer.name}: {peer.problem}" for peer in run.peers if peer.problem]
    if missing:
        lines.append("Not measured: " + "; ".join(missing) + ".")
    lines += [
        f"Per decision: `perf_counter_ns` around each call, less the clock's own "
        f"{run.overhead} ns; engines take turns, the order rotating, after an agreement check "
        f"and a warm-up; up to {_rounds(run.settings.rounds)}, {run.settings.samples:,} decisions "
        f"or {run.settings.budget:g} s per engine and table.",
        "",
        *_courier(run),
        "",
        *_generated(run),
    ]
    return "\n".join(lines) + "\n"


def _rounds(count: int) -> str:
    return "1 round" if count == 1 else f"{count} rounds"


def _courier(run: Run) -> list[str]:
    warm = {c.label: c for c in run.courier["warm"]}
    string = {c.label: c for c in run.courier["string"]}
    base_warm = median(warm[REFERENCE])
    base_string = median(string[REFERENCE])
    floor = median(warm[FLOOR])
    floor_string = median(string[FLOOR]) if FLOOR in string else 0.0
    out = [
        f"| Courier table ({len(COURIER_REQUESTS)} requests) | warm: median | p99 | × scopes "
        "| × floor | from the scope string: median | p99 | × scopes | × floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, contender in warm.items():
        cells = [
            human(median(contender)),
            human(quantile(contender.samples, 0.99)),
            ratio(median(contender), base_warm),
            ratio(median(contender), floor),
        ]
        other = string.get(label)
        if other is None:
            cells += ["–", "–", "–", "–"]
        else:
            cells += [
                human(median(other)),
                human(quantile(other.samples, 0.99)),
                ratio(median(other), base_string),
                ratio(median(other), floor_string) if floor_string else "–",
            ]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    fewest = min(len(c.samples) for c in [*warm.values(), *string.values()])
    out.append("")
    out.append(
        "Warm: the token already in each engine's input form (scopes: a ScopeSet). From the "
        "scope string: the caller's conversion included (scopes, ids never seen: a cold parse "
        "of the string, no cache). × scopes: over the median of the row \"ids never seen\"; "
        "× floor: over the floor's (from the string: one regex, a split and two sets, then the "
        f"if chain; courier_floor.floor_token). At least {fewest:,} decisions per cell."
    )
    return out


def _generated(run: Run) -> list[str]:
    sizes = list(run.generated)
    header = " | ".join(f"{size:,} endpoints: median / p99" for size in sizes)
    largest, smallest = sizes[-1], sizes[0]
    out = [
        f"| Generated table, warm | {header} | {largest:,} ÷ {smallest:,} | "
        f"× scopes at {largest:,} | build at {largest:,} |",
        "|---" * (len(sizes) + 4) + "|",
    ]
    labels: list[str] = []
    cells: dict[tuple[str, int], Contender] = {}
    for size, contenders in run.generated.items():
        for contender in contenders:
            if contender.label not in labels:
                labels.append(contender.label)
            cells[contender.label, size] = contender
    problems = {
        (peer.version, size): peer
        for size, built in run.builds.items()
        for peer in built
        if peer.version
    }
    base = median(cells["scopes", largest]) if ("scopes", largest) in cells else 0.0
    for label in labels:
        row = []
        for size in sizes:
            contender = cells.get((label, size))
            if contender is None:
                peer = problems.get((label, size))
                row.append(peer.problem if peer is not None else "–")
            else:
                p99 = quantile(contender.samples, 0.99)
                row.append(f"{human(median(contender))} / {human(p99)}")
        first, last = cells.get((label, smallest)), cells.get((label, largest))
        row.append(ratio(median(last), median(first)) if first and last else "–")
        row.append(ratio(median(last), base) if last else "–")
        built = problems.get((label, largest))
        row.append(f"{built.build_seconds:.2f} s" if built is not None else "–")
        out.append(f"| {label} | " + " | ".join(row) + " |")
    fewest = {
        size: min(len(c.samples) for c in contenders) for size, contenders in run.generated.items()
    }
    out.append("")
    out.append(
        "Each peer in its own encoding of the same generated table (generated_policy.py); ids "
        "never seen. Fewest decisions per cell: "
        + ", ".join(f"{fewest[size]:,} at {size:,}" for size in sizes)
        + "."
    )
    return out
