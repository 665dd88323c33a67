"""The policy file format, validated with pydantic at the boundary (shapes and types only).

Meaning (known scopes, placeholders, duplicate routes) is checked by scopes.policy.load, which
can say which entry is wrong and how to fix it.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "EndpointModel",
    "FieldModel",
    "GraphQLModel",
    "PolicyModel",
    "PolicyTestFileModel",
    "PolicyTestModel",
    "ScopeModel",
]


def __dir__() -> list[str]:
    return __all__


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ScopeModel(_Strict):
    description: str = Field(default="", description="What the scope lets a token do.")
    qualifier: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="The resource id the scope may be narrowed to (`read:brands:<brand_id>`); "
                    "the bare scope covers every one. Without it, the scope takes no qualifier.",
    )
    needs_principal: bool = Field(
        default=False,
        description="Whether the scope grants only in a token that also carries the principal "
                    "scope with an id (`user_id:<id>`).",
    )


class _Requirement(_Strict):
    any_of: list[str] | None = Field(
        default=None, min_length=1,
        description="Alternatives: each is a scope string whose scopes are all needed; one "
                    "alternative suffices. `{name}` in a scope is filled from the path parameter "
                    "`name`.",
    )
    public: bool = Field(
        default=False,
        description="No token needed (instead of `any_of`).",
    )
    authenticated: bool = Field(
        default=False,
        description="Any valid token passes, even one with no scopes (instead of `any_of`).",
    )

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
    methods: list[str] = Field(
        min_length=1,
        description="HTTP methods, upper case, matched exactly (no implicit HEAD).",
    )
    path: str = Field(
        min_length=1, max_length=2048,
        description="The path template: literal segments and `{name}` parameters, matched "
                    "exactly (no trailing-slash folding); literal segments win over parameters.",
    )
    principal_param: str | None = Field(
        default=None,
        description="The path parameter that must be one of the token's principal ids "
                    "(`user_id:<id>`).",
    )
    description: str = Field(default="", description="What the endpoint does.")


class FieldModel(_Requirement):
    pass


class GraphQLModel(_Strict):
    methods: list[str] = Field(
        default_factory=lambda: ["POST"], min_length=1,
        description="HTTP methods the GraphQL endpoint takes (default POST).",
    )
    path: str = Field(min_length=1, max_length=2048,
                      description="The GraphQL endpoint's path template.")
    query: dict[str, FieldModel] = Field(
        default_factory=dict,
        description="Root fields of query operations, each with what it needs; a field not "
                    "listed is denied.",
    )
    mutation: dict[str, FieldModel] = Field(
        default_factory=dict, description="Root fields of mutations, each with what it needs.")
    subscription: dict[str, FieldModel] = Field(
        default_factory=dict, description="Root fields of subscriptions, each with what it needs.")
    description: str = Field(default="", description="What the endpoint serves.")


class PolicyTestModel(_Strict):
    """One expected decision, a `[[tests]]` table: a token, a request, allow or deny (as `opa
    test` cases are). `scopes test` runs them; routing ignores them."""

    name: str | None = Field(
        default=None, min_length=1, description="What the case is about, shown when it fails."
    )
    scope: str = Field(description="The token's scope string (may be empty, or malformed).")
    request: str = Field(
        min_length=1, description='"METHOD /path", as a request sends them; a query is ignored.'
    )
    body: str | dict[str, Any] | None = Field(
        default=None, description="The JSON body (GraphQL routes): JSON text, or a table."
    )
    expect: Literal["allow", "deny"] = Field(description='"allow" or "deny".')
    code: str | None = Field(
        default=None,
        description='With expect = "deny": the deny\'s code (`insufficient-scope`, `no-route`, ...; '
        "scopes.decision.Code).",
    )

    @model_validator(mode="after")
    def _code_goes_with_deny(self) -> Self:
        if self.code is not None and self.expect == "allow":
            raise ValueError('`code` names why a request is denied: drop it, or expect = "deny"')
        return self


class PolicyModel(_Strict):
    version: Literal[1] = Field(default=1, description="The policy format's version: 1.")

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_the_number_one(cls, value: object) -> object:
        # Literal[1] alone takes `true` (True == 1): TOML's boolean is not a version. A
        # ValueError, not a TypeError: pydantic turns only the former into a validation error.
        if isinstance(value, bool):
            raise ValueError(f"`version` must be 1, not `{str(value).lower()}`")  # noqa: TRY004
        return value
    name: str = Field(default="policy", description="The policy's name, shown in messages.")
    principal: str = Field(
        default="user_id", min_length=1, max_length=64,
        description="The principal scope: `user_id:<id>` names a user the token acts for; alone "
                    "it grants nothing.",
    )
    scopes: dict[str, ScopeModel] = Field(
        default_factory=dict,
        description="The scope catalogue: every scope a token may carry, by name.",
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="Named bundles of scopes (a scope string each), for clients of the token "
                    "service.",
    )
    endpoints: list[EndpointModel] = Field(
        default_factory=list, description="REST endpoints and what each needs.")
    graphql: list[GraphQLModel] = Field(
        default_factory=list,
        description="GraphQL endpoints, decided per root field of the operation in the body.",
    )
    tests: list[PolicyTestModel] = Field(
        default_factory=list,
        description="Expected decisions, run by `scopes test`; they play no part in routing.",
    )


class PolicyTestFileModel(_Strict):
    """A file of `[[tests]]` kept apart from the policy it tests."""

    policy: str = Field(
        min_length=1, description="The policy file, relative to this file's directory."
    )
    tests: list[PolicyTestModel] = Field(
        default_factory=list, description="Expected decisions, as in a policy's `[[tests]]`."
    )
