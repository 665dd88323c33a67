"""Lint throughput: 100,000 scope strings (good and bad mixed), and a 10,000-line YAML file.

    python benchmarks/bench_lint.py            # best of 5 repeats
    python benchmarks/bench_lint.py --repeat 1 # a quick look

Every repeat builds fresh rules, so the per-policy cache of linted strings starts empty and
only true repeats among the inputs hit it (as in a real repository). The target is at least
50,000 scope strings per second.
"""

from __future__ import annotations

import argparse
import random
import time

import scopes
from scopes.lint.files import lint_text
from scopes.lint.rules import Mentions, Rules

GOOD = [
    "user_id:{u} read:messages",
    "read:brands",
    "read:brands:{b} write:brands:{b}",
    "user_id:{u} read:user-tokens write:user-tokens",
    "user_id:{u} read:preferences write:preferences",
    "inbox:read:messages inbox:write:events",
]
BAD = [
    "read:brand",
    "READ:BRANDS user_id:{u}",
    "read:messages",
    "user_id:{u}",
    "read:brands  read:brands:{b}",
    "read:brands,write:brands",
    "user_id:<user-id> read:messages",
    "read::brands",
    "user-id:{u} read:messages",
]


def scope_strings(count: int, seed: int = 4) -> list[str]:
    """Two thirds good, one third bad; ids drawn from a large range, so most strings are distinct."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        template = rnd.choice(BAD) if rnd.random() < 1 / 3 else rnd.choice(GOOD)
        out.append(template.format(u=f"u{rnd.randrange(1_000_000)}", b=f"b{rnd.randrange(1_000_000)}"))
    return out


def yaml_file(lines: int, seed: int = 5) -> str:
    """A clients file: each client 7 lines (a name, a scope string, a list of scopes, expires_in)."""
    strings = scope_strings(lines // 7 * 2, seed)
    out = ["clients:"]
    index = 0
    while len(out) < lines - 6:
        out += [
            f"  - name: client-{index}",
            f"    scope: \"{strings[2 * index]}\"",
            "    scopes:",
            f"      - {strings[2 * index + 1].split(' ')[0]}",
            "      - user_id:u1",
            "    expires_in: 1h",
            "    note: keep",
        ]
        index += 1
    return "\n".join(out) + "\n"


def fresh_rules() -> Rules:
    policy = scopes.Policy.courier()
    return Rules(policy.catalogue, Mentions.of(policy.routes), policy.name)


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    strings = scope_strings(100_000)
    distinct = len(set(strings))

    def lint_strings() -> None:
        rules = fresh_rules()
        for text in strings:
            rules.lint(text)

    seconds = best_of(args.repeat, lint_strings)
    print(f"scope strings: {len(strings):,} ({distinct:,} distinct) in {seconds:.3f} s "
          f"= {len(strings) / seconds:,.0f} strings/s")

    unique = list(dict.fromkeys(strings))

    def lint_unique() -> None:
        rules = fresh_rules()
        for text in unique:
            rules.lint(text)

    seconds = best_of(args.repeat, lint_unique)
    print(f"distinct scope strings only (no cache hit): {len(unique):,} in {seconds:.3f} s "
          f"= {len(unique) / seconds:,.0f} strings/s")

    text = yaml_file(10_000)
    line_count = text.count("\n")
    rules = fresh_rules()
    findings = len(lint_text("clients.yaml", text, rules, ("scope", "scopes")))

    def lint_yaml() -> None:
        lint_text("clients.yaml", text, fresh_rules(), ("scope", "scopes"))

    seconds = best_of(args.repeat, lint_yaml)
    try:
        import yaml

        parser_name = "libyaml" if getattr(yaml, "__with_libyaml__", False) else "pure-Python PyYAML"
    except ImportError:
        parser_name = "no PyYAML"
    print(f"YAML file: {line_count:,} lines ({findings:,} findings, {parser_name}) in {seconds:.3f} s "
          f"= {line_count / seconds:,.0f} lines/s")


if __name__ == "__main__":
    main()
