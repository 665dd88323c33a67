"""The policy file format, validated with pydantic at the boundary (shapes and types only).

Meaning (known scopes, placeholders, duplicate routes) is checked by scopes.policy.load, which
can say which entry is wrong and how to fix it.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["EndpointModel", "FieldModel", "GraphQLModel", "PolicyModel", "ScopeModel"]


def __dir__() -> list[str]:
    return __all__


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ScopeModel(_Strict):
    description: str = ""
    qualifier: str | None = Field(default=None, min_length=1, max_length=64)
    needs_principal: bool = False


class _Requirement(_Strict):
    any_of: list[str] | None = Field(default=None, min_length=1)
    public: bool = False  # no token needed
    authenticated: bool = False  # any valid token, even one with no scopes

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Self:
        given = [
            name
            for name, present in (
                ("`any_of`", self.any_of is not None),
                ("`public = true`", self.public),
                ("`authenticated = true`", self.authenticated),
            )
            if present
        ]
        if len(given) > 1:
            raise ValueError(f"give one of {' or '.join(given)}, not both")
        if not given:
            raise ValueError(
                'needs `any_of = ["scope ...", ...]` (or `authenticated = true`, or '
                "`public = true`)"
            )
        return self


class EndpointModel(_Requirement):
    methods: list[str] = Field(min_length=1)
    path: str = Field(min_length=1, max_length=2048)
    principal_param: str | None = None
    description: str = ""


class FieldModel(_Requirement):
    pass


class GraphQLModel(_Strict):
    methods: list[str] = Field(default_factory=lambda: ["POST"], min_length=1)
    path: str = Field(min_length=1, max_length=2048)
    query: dict[str, FieldModel] = Field(default_factory=dict)
    mutation: dict[str, FieldModel] = Field(default_factory=dict)
    subscription: dict[str, FieldModel] = Field(default_factory=dict)
    description: str = ""


class PolicyModel(_Strict):
    version: Literal[1] = 1
    name: str = "policy"
    principal: str = Field(default="user_id", min_length=1, max_length=64)
    scopes: dict[str, ScopeModel] = Field(default_factory=dict)
    roles: dict[str, str] = Field(default_factory=dict)
    endpoints: list[EndpointModel] = Field(default_factory=list)
    graphql: list[GraphQLModel] = Field(default_factory=list)
