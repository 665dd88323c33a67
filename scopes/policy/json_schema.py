"""The policy file's JSON Schema, for editors: generated from scopes.policy.schema's models.

A copy ships beside the models as `policy.schema.json` (`scopes schema` prints the generated
one; tests/test_policy_json_schema.py fails when the two differ). It is written for what
editors read: taplo (Even Better TOML) supports JSON Schema draft 4, so the schema keeps to
draft 4's vocabulary under a draft-07 `$schema` (`definitions`, `enum` rather than `const`), and,
TOML having no null, an optional key is one that may be left out, never one that may be null.

The schema checks shapes and types, as the models do, plus the one rule of theirs that is a
shape (a requirement is one kind: `any_of`, or `public = true`). Meaning (known scopes,
placeholders, duplicate routes) is the loader's and the linter's: `scopes lint policy.toml`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from scopes.policy.schema import FieldModel, PolicyModel

__all__ = ["DIALECT", "SCHEMA_FILE", "bundled_schema", "policy_schema", "render"]

DIALECT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILE = "policy.schema.json"
_TITLES = {
    "PolicyModel": "scopes policy",
    "ScopeModel": "catalogue scope",
    "EndpointModel": "endpoint",
    "GraphQLModel": "GraphQL endpoint",
    "FieldModel": "GraphQL root field",
}


def __dir__() -> list[str]:
    return __all__


class _TomlSchema(GenerateJsonSchema):
    """TOML has no null: `x: str | None = None` is a key that may be left out."""

    def nullable_schema(self, schema):  # type: ignore[no-untyped-def]
        return self.generate_inner(schema["schema"])


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file, generated from PolicyModel."""
    generated = PolicyModel.model_json_schema(
        ref_template="#/definitions/{model}", schema_generator=_TomlSchema
    )
    definitions = generated.pop("$defs", {})
    rule = _requirement_rule()
    for name, definition in definitions.items():
        if name in ("EndpointModel", "FieldModel"):
            definition.update(rule)
    generated.pop("title", None)
    for name, definition in definitions.items():
        definition["title"] = _TITLES.get(name, definition.get("title", name))
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": _TITLES["PolicyModel"],
        "description": "A scopes policy file (TOML): the scope catalogue, the principal scope, "
                       "roles, and the endpoint table. `scopes lint` checks what a schema cannot.",
        **generated,
        "definitions": definitions,
    }
    return _draft4(schema)


def _requirement_rule(model: type[BaseModel] = FieldModel) -> dict[str, Any]:
    """A requirement is exactly one kind: `any_of`, or one of its flags (`public = true`) set.

    The kinds are FieldModel's keys (a GraphQL field is a requirement and nothing else): the
    list, present or not, and each flag, true or not. One `oneOf` branch per kind.
    """
    kinds = model.model_fields
    flags = [name for name, field in kinds.items() if field.annotation in (bool, "bool")]
    lists = [name for name in kinds if name not in flags]

    def branch(chosen: str) -> dict[str, Any]:
        properties = {flag: {"enum": [flag == chosen]} for flag in flags}
        others = [name for name in lists if name != chosen]
        out: dict[str, Any] = {"required": [chosen], "properties": properties}
        if others:
            out["not"] = {"anyOf": [{"required": [name]} for name in others]}
        return out

    return {"oneOf": [branch(kind) for kind in kinds]}


def _draft4(node: Any) -> Any:
    """`const` as a one-value `enum`, no `"default": null`: what draft-4 readers understand."""
    if isinstance(node, list):
        return [_draft4(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "default" and value is None:
            continue
        if key == "const" and "enum" not in node:
            out["enum"] = [value]
            continue
        out[key] = value if key in ("enum", "default") else _draft4(value)
    return out


def render(schema: dict[str, Any]) -> str:
    """The schema as the shipped file holds it: indented, keys in order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def bundled_schema() -> str:
    """The shipped copy's text."""
    return resources.files("scopes.policy").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
