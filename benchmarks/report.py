"""Print a pyperf result file as a markdown table: median, p99 and the ratio to a baseline.

    python benchmarks/report.py RESULTS.json [--baseline NAME]
"""

from __future__ import annotations

import argparse
import statistics

import pyperf


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def human(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e9:.0f} ns"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--baseline", default="authorize: floor (if chain), per decision")
    args = parser.parse_args()
    suite = pyperf.BenchmarkSuite.load(args.results)
    medians = {b.get_name(): statistics.median(b.get_values()) for b in suite.get_benchmarks()}
    base = medians.get(args.baseline)
    print("| benchmark | median | p99 | ratio to floor |")
    print("|---|---|---|---|")
    for bench in suite.get_benchmarks():
        name = bench.get_name()
        values = bench.get_values()
        ratio = f"{medians[name] / base:.2f}×" if base and name.startswith("authorize") else ""
        print(f"| {name} | {human(medians[name])} | {human(quantile(values, 0.99))} | {ratio} |")


if __name__ == "__main__":
    main()
