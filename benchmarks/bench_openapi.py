"""Import and drift at scale: a generated 1,000-operation OpenAPI document, and `diff` of two
10,000-route policies.

    python benchmarks/bench_openapi.py            # best of 5 repeats
    python benchmarks/bench_openapi.py --repeat 1 # a quick look

Targets: importing the document in under a second, from the file to the loaded policy; `diff`
of the two policies in under a second. Every figure is the best of the repeats; loading the
policies for `diff` is reported apart, and end to end from their TOML files too (what
`scopes diff old.toml new.toml` does).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from scopes import Policy
from scopes.diff import diff, load_side
from scopes.openapi import import_openapi
from scopes.openapi.render import data_toml

SERVICES = 50


def generated_document(operations: int = 1000) -> dict[str, Any]:
    """An OpenAPI 3.1 document: per service a collection and an item path, five operations
    between them, with every kind of requirement (one scope, AND, OR, scope-less, public)."""
    schemes = {
        "oauth": {"type": "oauth2", "flows": {"clientCredentials": {
            "tokenUrl": "https://auth.example/token",
            "scopes": {f"{verb}:s{i}": f"{verb} service {i}" for i in range(SERVICES)
                       for verb in ("read", "write", "admin")}}}},
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    paths: dict[str, Any] = {}
    count = 0
    resource = 0
    while count < operations:
        i = resource % SERVICES
        collection, item = f"/s{i}/r{resource}", f"/s{i}/r{resource}/{{id}}"
        shapes = [
            (collection, "get", [{"oauth": [f"read:s{i}"]}]),
            (collection, "post", [{"oauth": [f"write:s{i}", f"read:s{i}"]}]),
            (item, "get", [{"oauth": [f"read:s{i}"]}, {"oauth": [f"admin:s{i}"]}]),
            (item, "put", [{"bearer": []}]),
            (item, "delete", [] if resource % 7 == 0 else [{"oauth": [f"admin:s{i}"]}]),
        ]
        for path, method, security in shapes[: operations - count]:
            paths.setdefault(path, {})[method] = {
                "operationId": f"{method}{resource}",
                "summary": f"{method} resource {resource}",
                "security": security,
                "responses": {"200": {"description": "OK"}},
            }
            count += 1
        resource += 1
    return {"openapi": "3.1.0", "info": {"title": "generated", "version": "1"},
            "paths": paths, "components": {"securitySchemes": schemes}}


def generated_policy_data(routes: int = 10_000, *, changed: bool = False) -> dict[str, Any]:
    """A policy of N routes; `changed` renames every parameter and changes one route in 100
    (widened, narrowed, authenticated, binding dropped), one in 500 added or removed."""
    scopes = {f"read:s{i}": {"qualifier": "id"} for i in range(SERVICES)}
    scopes.update({f"write:s{i}": {"qualifier": "id"} for i in range(SERVICES)})
    endpoints: list[dict[str, Any]] = []
    for k in range(routes // 2):
        i = k % SERVICES
        param = "item" if changed else "id"
        endpoints.append({"methods": ["GET"], "path": f"/s{i}/r{k}",
                          "any_of": [f"read:s{i}"]})
        item: dict[str, Any] = {"methods": ["GET"], "path": f"/users/{{user}}/s{i}/r{k}/{{{param}}}",
                                "any_of": [f"read:s{i}", f"read:s{i}:{{{param}}}"],
                                "principal_param": "user"}
        if changed and k % 50 == 0:
            item["any_of"].append(f"write:s{i}")
        elif changed and k % 50 == 1:
            item["any_of"] = [f"read:s{i}"]
        elif changed and k % 50 == 2:
            del item["principal_param"]
        elif changed and k % 50 == 3:
            del item["any_of"], item["principal_param"]
            item["authenticated"] = True
        if changed and k % 250 == 4:
            endpoints[-1]["path"] += "/new"
        endpoints.append(item)
    return {"name": f"generated-{routes}", "scopes": scopes, "endpoints": endpoints}


def best(repeat: int, run: Callable[[], object]) -> float:
    return min(timeit.repeat(run, number=1, repeat=repeat))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    document = generated_document()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "spec.json").write_text(json.dumps(document))
        (folder / "spec.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        imported = import_openapi(folder / "spec.json")
        operations = len(imported.data["endpoints"])
        rows = [
            (f"import a {operations}-operation document (JSON file to loaded policy)",
             best(args.repeat, lambda: import_openapi(folder / "spec.json"))),
            (f"import a {operations}-operation document (YAML file, libyaml)",
             best(args.repeat, lambda: import_openapi(folder / "spec.yaml"))),
            ("the same, as a dict (no parsing)", best(args.repeat, lambda: import_openapi(document))),
            ("write its policy as TOML", best(args.repeat, imported.toml)),
        ]
        old_data, new_data = generated_policy_data(), generated_policy_data(changed=True)
        old, new = Policy.from_dict(old_data), Policy.from_dict(new_data)
        findings = diff(old, new)
        (folder / "old.toml").write_text(data_toml(old_data))
        (folder / "new.toml").write_text(data_toml(new_data))
        rows += [
            (f"diff of two {len(old.routes):,}-route policies ({len(findings)} findings)",
             best(args.repeat, lambda: diff(old, new))),
            ("load both policies for it (Policy.from_dict)",
             best(args.repeat, lambda: (Policy.from_dict(old_data), Policy.from_dict(new_data)))),
            ("end to end: both TOML files read, loaded and compared",
             best(args.repeat, lambda: diff(load_side(folder / "old.toml").policy,
                                           load_side(folder / "new.toml").policy))),
        ]
    width = max(len(label) for label, _ in rows)
    print(f"Python {sys.version.split()[0]}, best of {args.repeat}")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
