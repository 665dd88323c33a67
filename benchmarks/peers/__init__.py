"""Peer engines for the side-by-side benchmark: the same endpoint table in each.

Each peer module has `NAME`, `DISTRIBUTION` (its PyPI name) and `Engine(rows)` with
`token(scope_string)` (the token in the engine's input form), `decide(token, method, path)`
and `source()` (the policy as the engine reads it). Peers are the `bench` extra, never a
dependency of `scopes`: a peer that is not installed is reported, not required.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["PEERS", "load"]

# name -> module, in the order the table lists them
PEERS = {
    "casbin": "peers.casbin_peer",
    "cedar": "peers.cedar_peer",
    "rego": "peers.rego_peer",
    "oso": "peers.oso_peer",
}


def load(names: list[str] | None = None) -> tuple[dict[str, ModuleType], dict[str, str]]:
    """(the peer modules that import, {name: why not} for the others)."""
    loaded: dict[str, ModuleType] = {}
    missing: dict[str, str] = {}
    for name in names if names is not None else PEERS:
        try:
            loaded[name] = importlib.import_module(PEERS[name])
        except ImportError as error:
            missing[name] = f"{type(error).__name__}: {error}"
    return loaded, missing
