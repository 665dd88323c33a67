"""The endpoint table in Polar (oso): one `allow` rule per row and method.

`allow(token, method, path)`: the token and the path are plain dicts and lists, which oso turns
into native Polar terms (no callbacks into Python while a rule runs), and a rule matches the path
by unifying it with a list pattern. Polar has no string concatenation, so a scope narrowed to
one resource travels as a `[scope, id]` pair:

    # GET /brands/{id} needs read:brands or read:brands:{id}
    allow(token, "GET", ["brands", id]) if
        "read:brands" in token.scopes or ["read:brands", id] in token.qualified;

Built the way a fluent user would: the policy loaded once; the method is a constant in each
rule head, which Polar's rule index can use to skip rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import oso

from peers.glue import path_segments, split_token
from peers.table import Row

__all__ = ["DISTRIBUTION", "NAME", "Engine"]

NAME = "oso"
DISTRIBUTION = "oso"


def rules(row: Row) -> str:
    pattern = []
    for segment in row.segments:
        # Polar warns about a variable used once; a leading underscore says that is meant.
        if segment.startswith("{"):
            name = segment[1:-1]
            used = name == row.user_param or any("{" + name + "}" in need for need in row.any_of)
            pattern.append(name if used else "_" + name)
        else:
            pattern.append(json.dumps(segment))
    grants = []
    for need in row.any_of:
        scope, param = row.split_need(need)
        if param is None:
            grants.append(f"{json.dumps(scope)} in token.scopes")
        else:
            grants.append(f"[{json.dumps(scope)}, {param}] in token.qualified")
    body = " or ".join(grants)
    if row.user_param:
        body = f"({body})" if len(grants) > 1 else body
        body = f"{row.user_param} in token.user_ids and {body}"
    path = "[" + ", ".join(pattern) + "]"
    heads = "".join(
        f"allow(token, {json.dumps(method)}, {path}) if\n    {body};\n" for method in row.methods
    )
    return f"# {row.title}\n{heads}"


class Engine:
    name = NAME

    def __init__(self, rows: Sequence[Row]) -> None:
        self.text = "\n".join(rules(row) for row in rows)
        self.oso = oso.Oso()
        self.oso.load_str(self.text)

    def source(self) -> str:
        return self.text

    def token(self, scope_string: str) -> dict:
        parts = split_token(scope_string)
        return {
            "scopes": list(parts.scopes),
            "user_ids": list(parts.user_ids),
            "qualified": [list(pair) for pair in parts.qualified],
        }

    def decide(self, token: dict, method: str, path: str) -> bool:
        return self.oso.is_allowed(token, method, path_segments(path))
