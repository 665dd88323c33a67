"""The endpoint table in Rego (regopy, the rego-cpp interpreter): one `allow` rule per row.

The input document is the request, as OPA's HTTP API authorization examples shape it: the
method, the path split into an array (so a rule matches it by unification), and the token's
scopes and user ids:

    {"method": "GET", "path": ["brands", "acme"],
     "scopes": ["read:brands:acme"], "user_ids": []}

    # GET /brands/{id} needs read:brands or read:brands:{id}
    allow if {
        input.method == "GET"
        ["brands", id] = input.path
        granted({"read:brands", concat(":", ["read:brands", id])})
    }

Built the way a fluent user would: the module compiled once into a bundle with `allow` as its
entrypoint, and every request evaluated against that prepared plan (`query_bundle_entrypoint`),
never re-parsed or re-planned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import regopy

from peers.glue import path_segments, split_token
from peers.table import Row

__all__ = ["DISTRIBUTION", "NAME", "Engine"]

NAME = "rego"
DISTRIBUTION = "regopy"
PACKAGE = "endpoints"
ENTRYPOINT = f"{PACKAGE}/allow"

HEADER = f"""\
package {PACKAGE}

import rego.v1

default allow := false

# Some scope of `needs` is one of the token's scopes.
granted(needs) if {{
\tsome need in needs
\tneed in input.scopes
}}
"""


def rule(row: Row) -> str:
    pattern = []
    for segment in row.segments:
        if segment.startswith("{"):
            name = segment[1:-1]
            used = name == row.user_param or any("{" + name + "}" in need for need in row.any_of)
            pattern.append(name if used else "_")
        else:
            pattern.append(json.dumps(segment))
    if len(row.methods) == 1:
        body = [f"input.method == {json.dumps(row.methods[0])}"]
    else:
        body = ["input.method in {" + ", ".join(json.dumps(m) for m in row.methods) + "}"]
    if "{" in row.path:
        body.append(f"[{', '.join(pattern)}] = input.path")
    else:
        body.append(f"input.path == [{', '.join(pattern)}]")
    needs = []
    for need in row.any_of:
        scope, param = row.split_need(need)
        if param is None:
            needs.append(json.dumps(scope))
        else:
            needs.append(f'concat(":", [{json.dumps(scope)}, {param}])')
    if len(needs) == 1:
        body.append(f"{needs[0]} in input.scopes")
    else:
        body.append("granted({" + ", ".join(needs) + "})")
    if row.user_param:
        body.append(f"{row.user_param} in input.user_ids")
    lines = "".join(f"\t{line}\n" for line in body)
    return f"# {row.title}\nallow if {{\n{lines}}}\n"


class Engine:
    name = NAME

    def __init__(self, rows: Sequence[Row]) -> None:
        self.text = HEADER + "".join("\n" + rule(row) for row in rows)
        self.rego = regopy.Interpreter()
        self.rego.add_module(f"{PACKAGE}.rego", self.text)
        self.bundle = self.rego.build(None, [ENTRYPOINT])
        if not self.bundle.ok():
            raise RuntimeError(f"rego: the module did not compile:\n{self.bundle.node()}")

    def source(self) -> str:
        return self.text

    def token(self, scope_string: str) -> dict:
        parts = split_token(scope_string)
        return {"scopes": list(parts.scopes), "user_ids": list(parts.user_ids)}

    def decide(self, token: dict, method: str, path: str) -> bool:
        document = {"method": method, "path": path_segments(path)}
        document.update(token)
        self.rego.set_input(document)
        output = self.rego.query_bundle_entrypoint(self.bundle, ENTRYPOINT)
        return output.ok() and output.results[0].expressions[0] is True
