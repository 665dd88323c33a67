"""The endpoint tables every peer encodes: the Courier REST table and the generated ones.

Written out here as plain rows, independently of `scopes`' own policy files, so that agreement
between `scopes` and a peer means two encodings of DESIGN.md's table agree, not one encoding
with itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["COURIER", "Row", "generated_dimensions", "generated_rows"]

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of an endpoint table.

    `path` is a template (`/brands/{id}`); each `any_of` alternative is one scope, in which
    `{name}` is filled from the path parameter of that name (`read:brands:{id}`); `user_param`
    names the path parameter that must be one of the token's user ids (DESIGN.md, "Meaning
    comes from the policy").
    """

    methods: tuple[str, ...]
    path: str
    any_of: tuple[str, ...]
    user_param: str | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path[1:].split("/"))

    @property
    def title(self) -> str:
        """`GET /brands/{id} needs read:brands or read:brands:{id}, user bound`."""
        needs = " or ".join(self.any_of)
        bound = f", {self.user_param} bound to the token" if self.user_param else ""
        return f"{', '.join(self.methods)} {self.path} needs {needs}{bound}"

    def param_index(self, name: str) -> int:
        """Where parameter `name` sits among the path segments (`id` in /brands/{id} -> 1)."""
        return self.segments.index("{" + name + "}")

    def split_need(self, need: str) -> tuple[str, str | None]:
        """`read:brands:{id}` -> ("read:brands", "id"); `read:brands` -> ("read:brands", None)."""
        found = _PARAM.search(need)
        if found is None:
            return need, None
        if found.end() != len(need) or need[found.start() - 1] != ":":
            raise ValueError(f"a parameter may only end a scope, as in read:brands:{{id}}: {need}")
        return need[: found.start() - 1], found.group(1)


# DESIGN.md, "The bundled Courier table" (the REST rows; the GraphQL route is not compared).
COURIER: tuple[Row, ...] = (
    Row(("GET",), "/brands", ("read:brands",)),
    Row(("PUT", "DELETE"), "/brands", ("write:brands",)),
    Row(("GET",), "/brands/{id}", ("read:brands", "read:brands:{id}")),
    Row(("PUT", "DELETE"), "/brands/{id}", ("write:brands", "write:brands:{id}")),
    Row(
        ("PUT", "PATCH", "DELETE"),
        "/users/{user_id}/tokens/{token}",
        ("write:user-tokens",),
        "user_id",
    ),
    Row(("GET",), "/users/{user_id}/tokens/{token}", ("read:user-tokens",), "user_id"),
    Row(
        ("PUT", "PATCH", "DELETE"),
        "/users/{user_id}/preferences/{topic_id}",
        ("write:preferences",),
        "user_id",
    ),
    Row(("GET",), "/users/{user_id}/preferences", ("read:preferences",), "user_id"),
    Row(("GET",), "/users/{user_id}/preferences/{topic_id}", ("read:preferences",), "user_id"),
)


def generated_dimensions(endpoints: int) -> tuple[int, int]:
    """(services, resources per service), as `generated_policy.generated_policy` lays them out."""
    services = min(100, max(1, endpoints // 2))
    return services, max(1, endpoints // (2 * services))


def generated_rows(endpoints: int) -> tuple[Row, ...]:
    """The table of `generated_policy(endpoints)`: per service s<i>, resources r<j>, each with a
    collection route (needs read:s<i>) and an item route (read:s<i> or read:s<i>:{id})."""
    services, per_service = generated_dimensions(endpoints)
    rows = []
    for i in range(services):
        for j in range(per_service):
            rows.append(Row(("GET",), f"/s{i}/r{j}", (f"read:s{i}",)))
            rows.append(Row(("GET",), f"/s{i}/r{j}/{{id}}", (f"read:s{i}", f"read:s{i}:{{id}}")))
    return tuple(rows)
