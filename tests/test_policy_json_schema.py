"""The policy file's JSON Schema: the shipped copy is the generated one, bundled policies pass it,
broken ones do not, and it accepts exactly what the pydantic models accept."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scopes.cli import main
from scopes.policy.json_schema import bundled_schema, policy_schema, render
from scopes.policy.schema import PolicyModel

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = policy_schema()
# Editors: taplo reads draft 4; jsonschema and VS Code read draft 7. Both must agree.
VALIDATORS = [jsonschema.Draft7Validator(SCHEMA), jsonschema.Draft4Validator(SCHEMA)]


def accepted(document: object) -> bool:
    verdicts = {validator.is_valid(document) for validator in VALIDATORS}
    assert len(verdicts) == 1, "draft 4 and draft 7 readers disagree"
    return verdicts.pop()


def test_the_shipped_copy_is_the_generated_schema():
    assert bundled_schema() == render(SCHEMA), (
        "scopes/policy/policy.schema.json is stale: regenerate it with "
        "`scopes schema > scopes/policy/policy.schema.json`"
    )


def test_scopes_schema_prints_it(capsys):
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    assert (json.loads(out), err) == (SCHEMA, "")


def test_it_is_a_valid_schema_for_both_drafts():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    text = json.dumps(SCHEMA)
    assert "$defs" not in text and '"const"' not in text and '"null"' not in text


def _properties(node: object, where: str = "#"):
    if isinstance(node, dict):
        for name, value in node.get("properties", {}).items():
            yield f"{where}/{name}", value
        for key, value in node.items():
            if key not in ("oneOf", "not"):  # the requirement rule's branches repeat known keys
                yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{where}/{index}")


def test_every_key_is_described_for_the_editor():
    undescribed = [where for where, value in _properties(SCHEMA) if not value.get("description")]
    assert undescribed == []
    assert all(d.get("title") for d in SCHEMA["definitions"].values())


def test_the_bundled_courier_policy_passes():
    text = resources.files("scopes.policy").joinpath("courier.toml").read_text(encoding="utf-8")
    assert accepted(tomllib.loads(text))


def test_the_readme_policy_passes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [example] = [b for b in re.findall(r"```toml\n(.+?)```", readme, re.S) if "[[endpoints]]" in b]
    assert accepted(tomllib.loads(example))


def _courier() -> dict:
    return tomllib.loads(resources.files("scopes.policy").joinpath("courier.toml").read_text())


def _broken(change) -> dict:
    policy = _courier()
    change(policy)
    return policy


BROKEN = [
    pytest.param(lambda p: p.update(versio=1), id="unknown-top-level-key"),
    pytest.param(lambda p: p.update(version=2), id="unknown-version"),
    pytest.param(lambda p: p.update(principal=""), id="empty-principal"),
    pytest.param(lambda p: p["endpoints"][0].update(anyof=["read:brands"]), id="misspelt-key"),
    pytest.param(lambda p: p["endpoints"][0].update(methods="GET"), id="methods-not-a-list"),
    pytest.param(lambda p: p["endpoints"][0].update(methods=[]), id="no-method"),
    pytest.param(lambda p: p["endpoints"][0].update(path=""), id="empty-path"),
    pytest.param(lambda p: p["endpoints"][0].update(any_of=[]), id="no-alternative"),
    pytest.param(lambda p: p["endpoints"][0].update(any_of="read:brands"), id="any-of-a-string"),
    pytest.param(lambda p: p["endpoints"][0].update(public=True), id="any-of-and-public"),
    pytest.param(lambda p: p["endpoints"][0].pop("any_of"), id="neither-any-of-nor-public"),
    pytest.param(lambda p: p["endpoints"][0].update(public="yes"), id="public-not-a-bool"),
    pytest.param(lambda p: p["endpoints"][0].pop("path"), id="no-path"),
    pytest.param(lambda p: p["scopes"]["read:brands"].update(qualifier=""), id="empty-qualifier"),
    pytest.param(lambda p: p["scopes"]["read:messages"].update(needs_principal=1), id="needs-principal-an-int"),
    pytest.param(lambda p: p["roles"].update(admin=["read:brands"]), id="role-not-a-string"),
    pytest.param(lambda p: p["graphql"][0]["query"]["messages"].pop("any_of"), id="graphql-field-needs-nothing"),
    pytest.param(lambda p: p["graphql"][0].update(queries={}), id="graphql-misspelt-operation"),
    pytest.param(lambda p: p.update(endpoints={"methods": ["GET"]}), id="endpoints-a-table"),
]


@pytest.mark.parametrize("change", BROKEN)
def test_broken_policies_are_rejected_by_the_schema_and_by_the_loader_alike(change):
    policy = _broken(change)
    assert not accepted(policy)
    with pytest.raises(ValidationError):
        PolicyModel.model_validate(policy)


def test_public_alone_is_accepted():
    policy = _broken(lambda p: (p["endpoints"][0].pop("any_of"), p["endpoints"][0].update(public=True)))
    assert accepted(policy)
    PolicyModel.model_validate(policy)


# Entries built from the models' own keys (plus a stranger), with values of every TOML type.
_values = st.one_of(
    st.booleans(), st.integers(-2, 3), st.sampled_from(["", "GET", "/a/{id}", "x" * 65]),
    st.lists(st.sampled_from(["GET", "read:brands", "", 1]), max_size=3),
    st.dictionaries(st.sampled_from(["messages", "x"]), st.fixed_dictionaries(
        {}, optional={"any_of": st.just(["read:messages"]), "public": st.booleans()}), max_size=2),
)


_fields = st.dictionaries(st.sampled_from(["messages", "x"]), st.fixed_dictionaries(
    {}, optional={"any_of": st.just(["read:messages"]), "public": st.booleans()}), max_size=2)
_plausible = {  # mostly right values per key, so that valid documents are common too
    "methods": st.just(["GET"]), "path": st.just("/a/{id}"), "any_of": st.just(["read:x:{id}"]),
    "public": st.booleans(), "principal_param": st.just("id"), "description": st.just(""),
    "qualifier": st.just("id"), "needs_principal": st.booleans(),
    "query": _fields, "mutation": _fields, "subscription": _fields,
}


def _mostly(right: st.SearchStrategy) -> st.SearchStrategy:
    """Usually a right value, sometimes any value."""
    return st.integers(0, 7).flatmap(lambda n: _values if n == 0 else right)


def _entry(model) -> st.SearchStrategy[dict]:
    keys = [*model.model_fields, "stranger"]
    return st.lists(st.sampled_from(keys), unique=True).flatmap(lambda chosen: st.fixed_dictionaries(
        {key: _mostly(_plausible[key]) if key in _plausible else _values for key in chosen}))


_documents = st.fixed_dictionaries({}, optional={
    "version": _mostly(st.just(1)),
    "principal": _mostly(st.just("user_id")),
    "scopes": st.dictionaries(st.sampled_from(["read:x", "y"]),
                              _entry(PolicyModel.model_fields["scopes"].annotation.__args__[1]),
                              max_size=2),
    "roles": st.dictionaries(st.sampled_from(["r"]), _mostly(st.just("read:x")), max_size=1),
    "endpoints": st.lists(_entry(PolicyModel.model_fields["endpoints"].annotation.__args__[0]), max_size=2),
    "graphql": st.lists(_entry(PolicyModel.model_fields["graphql"].annotation.__args__[0]), max_size=1),
})


@settings(max_examples=500)
@given(document=_documents)
def test_the_schema_accepts_exactly_what_the_models_accept(document):
    """Law: for any TOML-shaped document, schema-valid iff PolicyModel validates it (shapes and
    types; meaning is the loader's). A model change the schema generator misses breaks this."""
    assume(not isinstance(document.get("version"), bool))  # the models' known slip, below
    try:
        PolicyModel.model_validate(document)
        by_models = True
    except ValidationError:
        by_models = False
    assert accepted(document) == by_models


def test_version_true_is_refused_by_the_models_too():
    assert not accepted({"version": True})
    with pytest.raises(ValidationError):
        PolicyModel.model_validate({"version": True})


def test_the_readme_shows_taplo_the_schema():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`#:schema ./policy.schema.json`" in readme
    [taplo] = [tomllib.loads(b) for b in re.findall(r"```toml\n(.+?)```", readme, re.S) if "[[rule]]" in b]
    assert taplo["rule"][0]["schema"] == {"path": "./policy.schema.json"}
    # The directive is a comment: a policy that starts with it loads and lints as before.
    from scopes import Policy
    from scopes.lint.files import lint_text
    from scopes.lint.rules import rules_for

    courier = resources.files("scopes.policy").joinpath("courier.toml").read_text(encoding="utf-8")
    Policy.from_toml("#:schema ./policy.schema.json\n" + courier)
    shifted = lint_text("p.toml", "#:schema ./policy.schema.json\n" + courier, rules_for(), ("scope",))
    plain = lint_text("p.toml", courier, rules_for(), ("scope",))
    assert [(f.line - 1, f.diagnostic.code) for f in shifted] == [(f.line, f.diagnostic.code) for f in plain]


def test_the_requirement_rule_follows_the_requirement_kinds():
    """With another kind beside `any_of` and `public` (say `authenticated = true`), the rule is
    still "exactly one kind", as a requirement validator with that kind would say."""
    import itertools

    from pydantic import BaseModel, ConfigDict, Field, model_validator

    from scopes.policy.json_schema import _requirement_rule

    class Requirement(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        any_of: list[str] | None = Field(default=None, min_length=1)
        public: bool = False
        authenticated: bool = False

        @model_validator(mode="after")
        def _exactly_one_kind(self):
            if [self.any_of is not None, self.public, self.authenticated].count(True) != 1:
                raise ValueError("exactly one kind")
            return self

    validator = jsonschema.Draft4Validator(_requirement_rule(Requirement))
    for any_of, public, authenticated in itertools.product([None, ["x"]], [None, False, True], [None, False, True]):
        entry = {k: v for k, v in (("any_of", any_of), ("public", public), ("authenticated", authenticated))
                 if v is not None}
        try:
            Requirement.model_validate(entry)
            valid = True
        except ValidationError:
            valid = False
        assert validator.is_valid(entry) == valid, entry
