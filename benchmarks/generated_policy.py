"""A generated policy of N endpoints (REST resources under services) and a request mix for it."""

from __future__ import annotations

from scopes import Policy

SERVICES = 100


def generated_policy(endpoints: int) -> Policy:
    """N endpoints: per service `s<i>`, resources `r<j>` with a collection and an item route."""
    services = min(SERVICES, max(1, endpoints // 2))
    per_service = max(1, endpoints // (2 * services))
    scopes = {f"read:s{i}": {"qualifier": "id"} for i in range(services)}
    scopes.update({f"write:s{i}": {"qualifier": "id"} for i in range(services)})
    table = []
    for i in range(services):
        for j in range(per_service):
            table.append({"methods": ["GET"], "path": f"/s{i}/r{j}", "any_of": [f"read:s{i}"]})
            table.append(
                {
                    "methods": ["GET"],
                    "path": f"/s{i}/r{j}/{{id}}",
                    "any_of": [f"read:s{i}", f"read:s{i}:{{id}}"],
                }
            )
    return Policy.from_dict({"name": f"generated-{endpoints}", "scopes": scopes, "endpoints": table})


def generated_mix(endpoints: int = 10_000) -> list[tuple[str, str, str]]:
    """40 requests spread over the table: allows and denies, collection and item routes."""
    services = min(SERVICES, max(1, endpoints // 2))
    per_service = max(1, endpoints // (2 * services))
    mix = []
    for k in range(40):
        i, j = (k * 37) % services, (k * 53) % per_service
        if k % 4 == 0:
            mix.append((f"read:s{i}", "GET", f"/s{i}/r{j}"))
        elif k % 4 == 1:
            mix.append((f"read:s{i}:x{k}", "GET", f"/s{i}/r{j}/x{k}"))
        elif k % 4 == 2:
            mix.append((f"read:s{i}:other", "GET", f"/s{i}/r{j}/x{k}"))
        else:
            mix.append((f"write:s{i}", "PUT", f"/s{i}/r{j}/x{k}"))
    return mix
