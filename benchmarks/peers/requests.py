"""The requests every engine answers: the Courier mix plus more, the generated mixes, and
renamed copies of both, so an engine with a cache per request cannot answer from it."""

from __future__ import annotations

import re

from courier_floor import MIX
from generated_policy import generated_mix

from peers.table import generated_dimensions

__all__ = ["COURIER_REQUESTS", "MORE", "generated_requests", "renamed"]

Request = tuple[str, str, str]  # (token scopes, method, path)

# Beyond the floor's MIX: more of each kind, and the edges of the scope syntax.
MORE: list[Request] = [
    ("read:brands:acme read:brands:other", "GET", "/brands/other"),
    ("write:brands:acme", "GET", "/brands/acme"),  # write does not imply read
    ("read:brands:acme", "DELETE", "/brands/acme"),
    ("write:brands:acme", "PUT", "/brands"),  # a brand's scope does not grant the collection
    ("write:brands:other", "PUT", "/brands/acme"),
    ("write:brands", "POST", "/brands"),
    ("write:brands", "PATCH", "/brands/acme"),
    ("read:brands:acme:eu", "GET", "/brands/acme:eu"),  # an id is everything after its prefix
    ("read:brands:acme", "GET", "/brands/ACME"),  # ids compare exactly
    ("read:brands", "get", "/brands"),  # methods are case-sensitive
    ("", "GET", "/brands"),
    ("user_id:pigeon read:user-tokens write:user-tokens", "GET", "/users/pigeon/tokens/t1"),
    ("user_id:bluebird read:user-tokens", "GET", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon user_id:bluebird read:user-tokens", "GET", "/users/bluebird/tokens/t1"),
    ("user_id:pigeon write:user-tokens", "POST", "/users/pigeon/tokens/t1"),
    ("user_id:pigeon write:user-tokens", "PUT", "/users/pigeon/tokens"),
    ("user_id:pigeon write:user-tokens", "PUT", "/users/pigeon/tokens/t1/extra"),
    ("user_id:pigeon write:preferences", "DELETE", "/users/pigeon/preferences/topic-1"),
    ("user_id:pigeon write:preferences", "PUT", "/users/pigeon/preferences"),
    ("user_id:pigeon read:preferences", "GET", "/users/pigeon/preferences?locale=en"),
    ("user_id:pigeon", "GET", "/users/pigeon/preferences"),  # a principal alone grants nothing
    ("read:preferences", "GET", "/users/pigeon/preferences"),  # no user to bind
    ("user_id:pigeon read:preferences:topic-1", "GET", "/users/pigeon/preferences/topic-1"),
    ("user_id:pigeon read:preferences", "GET", "/users/pigeon/tokens/t1"),
    ("user_id:a:b read:preferences", "GET", "/users/a:b/preferences"),
    ("user_id:pigeon read:messages", "GET", "/users/pigeon/messages"),
    ("read:brands write:brands", "DELETE", "/"),
]

COURIER_REQUESTS: list[Request] = MIX + MORE

_COURIER_IDS = re.compile(r"(?<![\w-])(acme|other|pigeon|bluebird|topic-1|t1)(?![\w-])")
_GENERATED_IDS = re.compile(r"(?<![\w-])(x\d+|other)(?![\w-])")


def renamed(requests: list[Request], copies: int, *, generated: bool = False) -> list[Request]:
    """`copies` passes over `requests`, the ids of pass k renamed `<id>-k` in token and path
    alike, so every answer stays the same while no (method, path) or token repeats within a
    pass; pass 0 is `requests` itself."""
    ids = _GENERATED_IDS if generated else _COURIER_IDS
    out = list(requests)
    for k in range(1, copies):
        suffix = f"\\1-{k}"
        out.extend((ids.sub(suffix, s), m, ids.sub(suffix, p)) for s, m, p in requests)
    return out


def generated_requests(endpoints: int) -> list[Request]:
    """`generated_mix(endpoints)` plus denies (wrong method, service, resource, depth) and the
    table's last endpoint."""
    services, per_service = generated_dimensions(endpoints)
    last = f"/s{services - 1}/r{per_service - 1}"
    return generated_mix(endpoints) + [
        (f"read:s{services - 1}", "GET", last),
        (f"read:s{services - 1}:x1", "GET", f"{last}/x1"),
        ("user_id:x read:s0", "GET", "/s0/r0/x2"),
        ("read:s0", "PUT", "/s0/r0"),
        ("read:s0", "GET", f"/s{services}/r0"),
        ("read:s0", "GET", f"/s0/r{per_service}"),
        ("read:s0", "GET", "/s0/r0/x1/more"),
        ("read:s1", "GET", "/s0/r0"),
        ("read:s0:x1", "GET", "/s0/r0"),
        ("write:s0", "GET", "/s0/r0/x1"),
    ]
