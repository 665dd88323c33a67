"""The endpoint table in Cedar (cedarpy): one policy per table row, the token in the context.

The request is the HTTP request: `action` is the method (`Action::"GET"`), `resource` the path
(`Path::"/brands/acme"`), and the context carries the access token's claims, as Amazon Verified
Permissions passes an access token's claims, plus the path split into segments (`n`, the count,
and `s0`, `s1`, ...: Cedar has no list type to index, and no string concatenation, so a scope
narrowed to one resource travels as a `{scope, id}` record):

    @id("GET /brands/{id}")
    permit (principal, action == Action::"GET", resource)
    when {
      context.n == 2 && context.s0 == "brands" &&
      (context.scopes.contains("read:brands") ||
       context.qualified.contains({scope: "read:brands", id: context.s1}))
    };

Built the way a fluent user would: the policies parsed once into a `PolicySet` handle and the
(empty) entity store into an `Entities` handle, both reused for every request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import cedarpy

from peers.glue import path_segments, split_token
from peers.table import Row

__all__ = ["DISTRIBUTION", "NAME", "Engine"]

NAME = "cedar"
DISTRIBUTION = "cedarpy"

PRINCIPAL = {"type": "Token", "id": "bearer"}
SEGMENT = [f"s{i}" for i in range(64)]  # context attribute names for path segments


def policy(row: Row) -> str:
    segments = row.segments
    tests = [f"context.n == {len(segments)}"]
    for index, segment in enumerate(segments):
        if not segment.startswith("{"):
            tests.append(f"context.s{index} == {json.dumps(segment)}")
    grants = []
    for need in row.any_of:
        scope, param = row.split_need(need)
        if param is None:
            grants.append(f"context.scopes.contains({json.dumps(scope)})")
        else:
            record = f"{{scope: {json.dumps(scope)}, id: context.s{row.param_index(param)}}}"
            grants.append(f"context.qualified.contains({record})")
    tests.append(grants[0] if len(grants) == 1 else "(" + " ||\n   ".join(grants) + ")")
    if row.user_param:
        tests.append(f"context.userIds.contains(context.s{row.param_index(row.user_param)})")
    actions = ", ".join(f'Action::"{method}"' for method in row.methods)
    action = f"action == {actions}" if len(row.methods) == 1 else f"action in [{actions}]"
    return (
        f"// {row.title}\n"
        f"@id({json.dumps(' '.join(row.methods) + ' ' + row.path)})\n"
        f"permit (principal, {action}, resource)\n"
        f"when {{\n  " + " &&\n  ".join(tests) + "\n};\n"
    )


class Engine:
    name = NAME

    def __init__(self, rows: Sequence[Row]) -> None:
        self.text = "\n".join(policy(row) for row in rows)
        self.policies = cedarpy.PolicySet.from_str(self.text)
        self.entities = cedarpy.Entities.from_json_str("[]")

    def source(self) -> str:
        return self.text

    def token(self, scope_string: str) -> dict:
        """The token's claims as context attributes (JSON lists are Cedar sets)."""
        parts = split_token(scope_string)
        return {
            "scopes": list(parts.scopes),
            "userIds": list(parts.user_ids),
            "qualified": [{"scope": scope, "id": ident} for scope, ident in parts.qualified],
        }

    def decide(self, token: dict, method: str, path: str) -> bool:
        segments = path_segments(path)
        context = dict(token)
        context["n"] = len(segments)
        for name, segment in zip(SEGMENT, segments, strict=False):  # no row is longer
            context[name] = segment
        request = {
            "principal": PRINCIPAL,
            "action": {"type": "Action", "id": method},
            "resource": {"type": "Path", "id": path},
            "context": context,
        }
        return cedarpy.is_authorized(request, self.policies, self.entities).allowed
