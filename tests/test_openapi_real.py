"""The importer on real public OpenAPI documents (tests/data/openapi/README.md), held to an
oracle written from the OpenAPI specification's own words, not from the importer."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scopes import Policy
from scopes.cli import main
from scopes.openapi import import_openapi

DATA = Path(__file__).resolve().parent / "data" / "openapi"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

CASES = [
    pytest.param("petstore.yaml", {}, id="petstore"),
    pytest.param("petstore.yaml", {"api_key": "petstore:key"}, id="petstore, api_key mapped"),
    pytest.param("tictactoe.yaml", {}, id="tictactoe"),
    pytest.param("tictactoe.yaml", {"defaultApiKey": "board:key",
                                    "bearerHttpAuthentication": "board:bearer"},
                 id="tictactoe, scope-less schemes mapped"),
    pytest.param("non-oauth-scopes.yaml", {}, id="non-oauth-scopes"),
    pytest.param("xero-app-store.yaml", {}, id="xero-app-store"),
]


def allowed_by_the_specification(
    document: dict, path: str, method: str, token: set[str], scheme_scopes: dict[str, str]
) -> bool | None:
    """Whether a request with these scopes is authorized, read off the OpenAPI 3.0.3 / 3.1.0
    text; None when no security applies (such an operation is not imported).

    Operation Object, `security`: "The list of values includes alternative security requirement
    objects that can be used. Only one of the security requirement objects need to be satisfied
    to authorize a request. To make security optional, an empty security requirement ({}) can
    be included in the array. This definition overrides any declared top-level security. To
    remove a top-level security declaration, an empty array can be used."
    Security Requirement Object: a requirement referring to several schemes needs all of them;
    for oauth2 and openIdConnect "the value is a list of scope names required for the
    execution" (3.1.0: for other schemes, "a list of role names which are required"); an empty
    list asks for the scheme alone, which `--scheme-scope` (DESIGN.md) lets one scope stand for.
    """
    operation = document["paths"][path][method]
    security = operation["security"] if "security" in operation else document.get("security")
    if security is None:
        return None
    if not security:
        return True
    return any(
        all(set(names) | ({scheme_scopes[s]} if s in scheme_scopes else set()) <= token
            for s, names in requirement.items())
        for requirement in security
    )


@functools.cache
def load(name: str) -> dict:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


@functools.cache
def imported(name: str, scheme_scopes: tuple[tuple[str, str], ...]) -> Policy:
    return Policy.from_openapi(DATA / name, scheme_scopes=dict(scheme_scopes))


def operations(document: dict) -> list[tuple[str, str]]:
    return [(path, method) for path, item in document["paths"].items()
            for method in METHODS if method in item]


def vocabulary(document: dict, scheme_scopes: dict[str, str]) -> list[str]:
    """Every name the document's requirements and OAuth2 flows mention, and one unknown."""
    names = set(scheme_scopes.values()) | {"unrelated:scope"}
    for path, method in operations(document):
        for requirement in document["paths"][path][method].get("security", []):
            for listed in requirement.values():
                names.update(listed)
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            names.update(flow.get("scopes", {}))
    return sorted(names)


@pytest.mark.parametrize(("name", "scheme_scopes"), CASES)
@given(draw=st.data())
def test_authorize_allows_exactly_what_the_specification_allows(name, scheme_scopes, draw):
    """For every operation and random scope sets drawn from the document's scopes: `authorize`
    allows exactly when some alternative's scopes (and schemes) are all present."""
    document = load(name)
    policy = imported(name, tuple(sorted(scheme_scopes.items())))
    words = vocabulary(document, scheme_scopes)
    for path, method in operations(document):
        token = draw.draw(st.sets(st.sampled_from(words), max_size=4), label=f"{method} {path}")
        request = re.sub(r"\{[^}]*\}", "x1", path)
        expected = allowed_by_the_specification(document, path, method, token, scheme_scopes)
        decision = policy.authorize(" ".join(sorted(token)), method.upper(), request)
        assert decision.allowed is bool(expected), (method, path, token, decision.reason)


@pytest.mark.parametrize(("name", "scheme_scopes"), CASES)
def test_each_document_imports_deterministically_loads_and_lints_clean(
    name, scheme_scopes, tmp_path, capsys
):
    document = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    imported = import_openapi(DATA / name, scheme_scopes=scheme_scopes)
    text = imported.toml()
    assert import_openapi(DATA / name, scheme_scopes=scheme_scopes).toml() == text
    (tmp_path / "policy.toml").write_text(text)
    assert len(Policy.from_file(tmp_path / "policy.toml").routes) == len(imported.data["endpoints"])
    assert main(["lint", str(tmp_path / "policy.toml")]) == 0, capsys.readouterr().out
    unsecured = [(p, m) for p, m in operations(document)
                 if allowed_by_the_specification(document, p, m, set(), {}) is None]
    assert [(o.path, o.method.lower()) for o in imported.left_out] == unsecured
    assert imported.skipped == ()


def test_petstore_needs_both_scopes_of_its_requirement():
    policy = Policy.from_openapi(DATA / "petstore.yaml")
    assert not policy.authorize("read:pets", "PUT", "/pet")
    assert not policy.authorize("write:pets", "PUT", "/pet")
    assert policy.authorize("read:pets write:pets", "PUT", "/pet")
    assert policy.authorize("", "GET", "/pet/1")  # `api_key: []` is one alternative
    assert not policy.authorize("read:pets write:pets", "GET", "/store/order/1")  # left out
    public = Policy.from_openapi(DATA / "petstore.yaml", public_by_default=True)
    assert public.authorize("", "GET", "/store/order/1")
