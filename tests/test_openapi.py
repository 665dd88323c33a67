"""scopes.openapi: OpenAPI security read exactly as the specification defines it (DESIGN.md,
"Policy lifecycle", "Import"), one small document per rule, under 3.0 and 3.1, JSON and YAML."""

from __future__ import annotations

import copy
import json
import tomllib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scopes import Policy, PolicyError
from scopes.cli import main
from scopes.openapi import OpenAPIError, UnsupportedError, import_openapi
from scopes.openapi.document import pointer
from scopes.openapi.render import toml_string

VERSIONS = ["3.0.3", "3.1.0"]
MISSING = object()

SCHEMES = {
    "oauth": {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "https://auth.example/token",
                "scopes": {"read:pets": "Read pets", "write:pets": "Change pets", "admin": ""},
            },
        },
    },
    "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://auth.example/.well-known/x"},
    "bearer": {"type": "http", "scheme": "bearer"},
    "basic": {"type": "http", "scheme": "basic"},
    "header_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "query_key": {"type": "apiKey", "in": "query", "name": "api_key"},
    "cookie_key": {"type": "apiKey", "in": "cookie", "name": "session"},
    "mtls": {"type": "mutualTLS"},
}


def operation(security: object = MISSING, **fields: object) -> dict:
    op = {"responses": {"200": {"description": "OK"}}, **fields}
    if security is not MISSING:
        op["security"] = security
    return op


def spec(paths: dict, *, version: str = "3.1.0", security: object = MISSING,
         schemes: dict | None = None) -> dict:
    doc = {
        "openapi": version,
        "info": {"title": "Pets", "version": "1.0"},
        "paths": paths,
        "components": {"securitySchemes": copy.deepcopy(SCHEMES if schemes is None else schemes)},
    }
    if security is not MISSING:
        doc["security"] = security
    return doc


def one(security: object = MISSING, *, root: object = MISSING, path: str = "/pets/{id}",
        version: str = "3.1.0") -> dict:
    return spec({path: {"get": operation(security)}}, version=version, security=root)


def row(doc: dict, **options) -> dict:
    (endpoint,) = import_openapi(doc, **options).data["endpoints"]
    return {k: v for k, v in endpoint.items() if k not in ("methods", "path", "description")}


# -- one rule each -------------------------------------------------------------------------------

RULES = [
    pytest.param(one([{"oauth": ["read:pets"]}, {"oauth": ["admin"]}]), {},
                 {"any_of": ["read:pets", "admin"]}, id="OR: the list holds alternatives"),
    pytest.param(one([{"oauth": ["read:pets", "write:pets"]}]), {},
                 {"any_of": ["read:pets write:pets"]}, id="AND: every scope of a requirement"),
    pytest.param(one([{"oauth": ["read:pets"], "bearer": ["auditor"]}]), {},
                 {"any_of": ["read:pets auditor"]}, id="AND: every scheme of a requirement"),
    pytest.param(one([{"oauth": ["admin"]}], root=[{"oauth": ["read:pets"]}]), {},
                 {"any_of": ["admin"]}, id="override: the operation's replaces the root's"),
    pytest.param(one(root=[{"oauth": ["read:pets"]}]), {},
                 {"any_of": ["read:pets"]}, id="inherit: no security on the operation"),
    pytest.param(one([], root=[{"oauth": ["read:pets"]}]), {},
                 {"public": True}, id="[] on the operation: public"),
    pytest.param(one(root=[]), {}, {"public": True}, id="[] on the document: public"),
    pytest.param(one([{"oauth": ["admin"]}, {}]), {},
                 {"public": True}, id="{} among the alternatives: public"),
    pytest.param(one([{}]), {}, {"public": True}, id="{} alone: public"),
    pytest.param(one([{"bearer": []}]), {},
                 {"authenticated": True}, id="scope-less bearer: authenticated"),
    pytest.param(one([{"oauth": []}]), {},
                 {"authenticated": True}, id="scope-less oauth2: authenticated"),
    pytest.param(one([{"header_key": []}]), {},
                 {"authenticated": True}, id="header API key: authenticated"),
    pytest.param(one([{"basic": []}]), {},
                 {"authenticated": True}, id="HTTP basic: authenticated"),
    pytest.param(one([{"oauth": ["admin"]}, {"bearer": []}]), {},
                 {"authenticated": True}, id="a scope-less alternative: authenticated"),
    pytest.param(one([{"header_key": [], "oauth": ["admin"]}]), {},
                 {"any_of": ["admin"]}, id="a scope-less scheme beside scopes: the scopes"),
    pytest.param(one([{"bearer": ["admin", "auditor"]}]), {},
                 {"any_of": ["admin auditor"]}, id="role names of an HTTP scheme"),
    pytest.param(one([{"header_key": ["reader"]}]), {},
                 {"any_of": ["reader"]}, id="role names of a header API key"),
    pytest.param(one([{"oidc": ["openid", "profile"]}]), {},
                 {"any_of": ["openid profile"]}, id="OpenID Connect scopes"),
    pytest.param(one([{"bearer": []}]), {"scheme_scopes": {"bearer": "pets:api"}},
                 {"any_of": ["pets:api"]}, id="--scheme-scope: the scheme's scope"),
    pytest.param(one([{"bearer": ["admin"]}]), {"scheme_scopes": {"bearer": "pets:api"}},
                 {"any_of": ["admin pets:api"]}, id="--scheme-scope beside role names: both"),
    pytest.param(one([{"oauth": ["read:pets"]}, {"oauth": ["read:pets"]}]), {},
                 {"any_of": ["read:pets"]}, id="a repeated alternative: once"),
    pytest.param(one([{"oauth": ["read:pets:{id}"]}]), {},
                 {"any_of": ["read:pets:{id}"]}, id="a placeholder naming a path parameter"),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("doc", "options", "expected"), RULES)
def test_each_rule_becomes_its_requirement(doc, options, expected, version):
    doc = {**doc, "openapi": version}
    assert row(doc, **options) == expected


def test_or_and_override_decide_as_the_specification_says():
    doc = spec({
        "/pets": {"get": operation([{"oauth": ["read:pets"]}, {"oauth": ["admin"]}]),
                  "post": operation([{"oauth": ["read:pets", "write:pets"]}])},
        "/pets/{id}": {"delete": operation([{"oauth": ["admin"]}])},
    }, security=[{"oauth": ["read:pets"]}])
    policy = Policy.from_openapi(doc)
    cases = [
        ("read:pets", "GET", "/pets", True), ("admin", "GET", "/pets", True),
        ("write:pets", "GET", "/pets", False),
        ("read:pets", "POST", "/pets", False), ("write:pets", "POST", "/pets", False),
        ("read:pets write:pets", "POST", "/pets", True),
        ("read:pets", "DELETE", "/pets/7", False), ("admin", "DELETE", "/pets/7", True),
    ]
    assert [(s, m, p, policy.authorize(s, m, p).allowed) for s, m, p, _ in cases] == cases


def test_authenticated_allows_a_token_with_no_scopes_and_public_needs_none():
    doc = spec({"/me": {"get": operation([{"bearer": []}])}, "/health": {"get": operation([])}})
    policy = Policy.from_openapi(doc)
    assert policy.authorize("", "GET", "/me").allowed
    assert policy.authorize("", "GET", "/health").allowed
    assert [r.authenticated for r in policy.routes] == [True, False]
    assert [r.public for r in policy.routes] == [False, True]


def test_a_placeholder_scope_grants_one_resource_and_the_bare_scope_every_one():
    policy = Policy.from_openapi(one([{"oauth": ["read:pets:{id}"]}]))
    assert policy.catalogue.specs["read:pets"].qualifier == "id"
    assert policy.authorize("read:pets:7", "GET", "/pets/7").allowed
    assert not policy.authorize("read:pets:8", "GET", "/pets/7").allowed
    assert policy.authorize("read:pets", "GET", "/pets/7").allowed


def test_no_security_anywhere_is_left_out_and_reported_unless_public_by_default():
    doc = one()
    imported = import_openapi(doc)
    assert imported.data["endpoints"] == []
    (left,) = imported.left_out
    assert (left.kind, left.rule, left.where) == (
        "no-security", "GET /pets/{id}", "#/paths/~1pets~1{id}/get")
    assert not Policy.from_openapi(doc).authorize("", "GET", "/pets/1").allowed
    assert row(doc, public_by_default=True) == {"public": True}


def test_catalogue_takes_descriptions_from_the_schemes_and_names_roles():
    doc = spec({"/a": {"get": operation([{"oauth": ["read:pets"]}, {"bearer": ["auditor"]}])},
                "/b": {"get": operation([{"oidc": ["openid"]}])},
                "/c": {"get": operation([{"header_key": []}])}})
    scopes = import_openapi(doc, scheme_scopes={"header_key": "keyholder"}).data["scopes"]
    assert scopes == {
        "admin": {"description": "OAuth2 scope of security scheme 'oauth'"},
        "auditor": {"description": "role 'auditor' of security scheme 'bearer' (HTTP bearer)"},
        "keyholder": {"description": "any valid credential of security scheme 'header_key' "
                                     "(API key in header 'X-API-Key'), by --scheme-scope"},
        "openid": {"description": "scope of security scheme 'oidc' (OpenID Connect)"},
        "read:pets": {"description": "Read pets"},
        "write:pets": {"description": "Change pets"},
    }


def test_rows_keep_the_documents_methods_paths_and_descriptions():
    doc = spec({"/pets/{petId}": {
        "put": operation([], operationId="updatePet", summary="Update  a\npet"),
        "get": operation([], summary="Find a pet"),
        "delete": operation([], operationId="deletePet"),
    }})
    endpoints = import_openapi(doc).data["endpoints"]
    assert [(e["methods"], e["path"], e.get("description")) for e in endpoints] == [
        (["GET"], "/pets/{petId}", "Find a pet"),  # the specification's order of operations
        (["PUT"], "/pets/{petId}", "updatePet: Update a pet"),
        (["DELETE"], "/pets/{petId}", "deletePet"),
    ]


def test_a_parameter_name_that_is_no_identifier_is_renamed_with_its_placeholders():
    doc = spec({"/pets/{pet-id}": {"get": operation([{"oauth": ["read:pets:{pet-id}"]}])}})
    (endpoint,) = import_openapi(doc).data["endpoints"]
    assert (endpoint["path"], endpoint["any_of"]) == ("/pets/{pet_id}", ["read:pets:{pet_id}"])


def test_a_scope_named_like_the_principal_moves_the_principal():
    doc = one([{"oauth": ["user_id:read"]}])
    assert import_openapi(doc).data["principal"] == "principal"


# -- $ref ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_local_refs_are_followed_for_path_items_and_security_schemes(version):
    doc = spec({"/pets": {"$ref": "#/x-shared/pets"}}, version=version,
               schemes={"main": {"$ref": "#/x-schemes/main"}})
    doc["x-shared"] = {"pets": {"get": operation([{"main": ["read:pets"]}])}}
    doc["x-schemes"] = {"main": {"$ref": "#/x-schemes/real"},
                        "real": copy.deepcopy(SCHEMES["oauth"])}
    imported = import_openapi(doc)
    assert imported.data["endpoints"] == [
        {"methods": ["GET"], "path": "/pets", "any_of": ["read:pets"]}]
    assert imported.data["scopes"]["read:pets"] == {"description": "Read pets"}


def test_a_path_items_ref_with_operations_beside_it_merges_them():
    doc = spec({"/pets": {"$ref": "#/x-shared/pets", "post": operation([{"oauth": ["admin"]}])}})
    doc["x-shared"] = {"pets": {"get": operation([])}}
    assert [e["methods"] for e in import_openapi(doc).data["endpoints"]] == [["GET"], ["POST"]]


def test_a_ref_with_escaped_and_percent_encoded_tokens():
    doc = spec({"/a/{id}": {"get": operation([])},
                "/b": {"$ref": "#/paths/~1a~1%7Bid%7D"}})
    assert [e["path"] for e in import_openapi(doc).data["endpoints"]] == ["/a/{id}", "/b"]


# -- what cannot be enforced exactly -------------------------------------------------------------

UNSUPPORTED = [
    pytest.param(one([{"cookie_key": []}]), "#/paths/~1pets~1{id}/get",
                 "security scheme 'cookie_key' is an API key in the cookie 'session': the engine "
                 "decides on bearer tokens and reads no cookie", id="cookie API key"),
    pytest.param(one([{"query_key": []}]), "#/paths/~1pets~1{id}/get",
                 "security scheme 'query_key' is an API key in the query parameter 'api_key': "
                 "the engine decides on bearer tokens and never reads a credential from a query "
                 "string (RFC 6750 §2.3: they end up in logs)", id="query API key"),
    pytest.param(one([{"oauth": ["admin"]}, {"mtls": []}]), "#/paths/~1pets~1{id}/get",
                 "security scheme 'mtls' is mutual TLS: a client certificate, which the engine "
                 "never sees", id="mutualTLS"),
    pytest.param(one([{"oauth": ["read:pets:{owner}"]}]), "#/paths/~1pets~1{id}/get",
                 "scope 'read:pets:{owner}' has the placeholder {owner}, which is no path "
                 "parameter of /pets/{id} (its parameters: {id})", id="placeholder not a path parameter"),
    pytest.param(one([{"oauth": ["read:{x}:pets"]}]), "#/paths/~1pets~1{id}/get",
                 "scope 'read:{x}:pets' has a brace that is not a placeholder: a placeholder is "
                 "the whole last segment, as in read:things:{id}", id="brace inside a scope"),
    pytest.param(one([{"oauth": ["read pets"]}]), "#/paths/~1pets~1{id}/get",
                 "'read pets' is not one well-formed scope token (RFC 6749 §3.3: printable ASCII "
                 "without spaces, '\"' or '\\'; no empty ':' segment), so no token can carry it",
                 id="a scope no token can carry"),
    pytest.param(spec({"/pets/{id}.json": {"get": operation([])}}), "#/paths/~1pets~1{id}.json/get",
                 "the path cannot be matched exactly: segment '{id}.json' of '/pets/{id}.json' "
                 "mixes a parameter with text", id="a parameter beside text in a segment"),
    pytest.param(spec({"/pets/{id}": {"get": operation([])}, "/pets/{name}": {"get": operation([])}}),
                 "#/paths/~1pets~1{id}/get",
                 "no request can tell it from GET /pets/{name} (#/paths/~1pets~1{name}/get): the "
                 "paths differ only in their parameters' names", id="two operations one shape"),
    pytest.param(spec({"/Pets": {"get": operation([])}, "/pets": {"get": operation([])}}),
                 "#/paths/~1pets/get",
                 "path segments 'Pets' and 'pets' differ only in case: a case-insensitive router "
                 "cannot tell their routes apart", id="literals differing in case"),
    pytest.param(dict(spec({"/pets": {"$ref": "#/x-p", "get": operation([])}}),
                      **{"x-p": {"get": operation([{"oauth": ["admin"]}])}}),
                 "#/paths/~1pets/get",
                 "get is defined both beside the path item's $ref and in the path item it "
                 "references; OpenAPI leaves which one counts undefined", id="path item ref conflict"),
]


@pytest.mark.parametrize(("doc", "where", "message"), UNSUPPORTED)
def test_what_cannot_be_enforced_exactly_is_an_error_with_its_pointer(doc, where, message):
    with pytest.raises(UnsupportedError) as caught:
        import_openapi(doc)
    first = caught.value.unsupported[0]
    assert (first.where, first.message) == (where, message)
    assert caught.value.pointer == where and isinstance(caught.value, PolicyError)
    assert "--skip-unsupported" in first.fix


@pytest.mark.parametrize(("doc", "where", "message"), UNSUPPORTED)
def test_skip_unsupported_leaves_them_out_and_lists_them(doc, where, message):
    imported = import_openapi(doc, skip_unsupported=True)
    assert (imported.skipped[0].where, imported.skipped[0].message) == (where, message)
    skipped = {(o.method, o.path) for o in imported.skipped}
    assert not skipped & {(e["methods"][0], e["path"]) for e in imported.data["endpoints"]}


def test_every_unsupported_operation_is_listed_at_once():
    doc = spec({"/a": {"get": operation([{"cookie_key": []}]),
                       "put": operation([{"query_key": []}])},
                "/b": {"get": operation([{"oauth": ["admin"]}])}})
    with pytest.raises(UnsupportedError) as caught:
        import_openapi(doc)
    assert [o.rule for o in caught.value.unsupported] == ["GET /a", "PUT /a"]
    assert caught.value.message.endswith("(and 1 more operation)")


def test_an_unsupported_scheme_in_a_public_operation_changes_nothing():
    assert row(one([{"cookie_key": []}, {}])) == {"public": True}


# -- documents that cannot be read ---------------------------------------------------------------

INVALID = [
    pytest.param(dict(spec({"/a": {"$ref": "other.yaml#/paths/a"}})),
                 "$ref 'other.yaml#/paths/a' points outside this document; remote references are "
                 "not fetched", "#/paths/~1a", id="remote ref"),
    pytest.param(dict(spec({"/a": {"get": operation([])}}),
                      components={"schemas": {"Pet": {"$ref": "https://x.example/pet.json"}}}),
                 "$ref 'https://x.example/pet.json' points outside this document; remote "
                 "references are not fetched", "#/components/schemas/Pet", id="remote ref anywhere"),
    pytest.param(spec({"/a": {"$ref": "#/nowhere"}}),
                 "$ref '#/nowhere' points to nothing in this document", "#/paths/~1a",
                 id="dangling ref"),
    pytest.param(dict(spec({"/a": {"$ref": "#/x-a"}}), **{"x-a": {"$ref": "#/x-a"}}),
                 "$ref '#/x-a' leads back to itself (#/x-a -> #/x-a)", "#/x-a",
                 id="circular ref"),
    pytest.param({"swagger": "2.0", "paths": {}},
                 "this is a Swagger 2.0 document; only OpenAPI 3.0 and 3.1 are read",
                 "#/swagger", id="swagger 2"),
    pytest.param({"openapi": "3.2.0", "paths": {}},
                 "OpenAPI 3.2.0 is not supported; only 3.0.x and 3.1.x are read", "#/openapi",
                 id="openapi 3.2"),
    pytest.param({"info": {}}, "not an OpenAPI document: no `openapi` field", None,
                 id="not openapi"),
    pytest.param(one([{"nope": []}]),
                 "security scheme 'nope' is not defined in components.securitySchemes",
                 "#/paths/~1pets~1{id}/get/security/0", id="undefined scheme"),
    pytest.param(one({"oauth": ["admin"]}),
                 "`security` must be a list of security requirement objects",
                 "#/paths/~1pets~1{id}/get/security", id="security not a list"),
    pytest.param(one([{"oauth": "admin"}]),
                 "the requirement of scheme 'oauth' must be a list of names",
                 "#/paths/~1pets~1{id}/get/security/0", id="names not a list"),
    pytest.param(one(root=[{"nope": []}]),
                 "security scheme 'nope' is not defined in components.securitySchemes",
                 "#/security/0", id="undefined scheme at the root"),
    pytest.param(spec({"/a": {"get": operation([])}}, schemes={"x": {"type": "oauth"}}),
                 "security scheme 'x' has type 'oauth'; OpenAPI defines 'apiKey', 'http', "
                 "'oauth2', 'openIdConnect', 'mutualTLS'", "#/components/securitySchemes/x",
                 id="unknown scheme type"),
]


@pytest.mark.parametrize(("doc", "message", "where"), INVALID)
def test_documents_that_cannot_be_imported_say_why_and_where(doc, message, where):
    with pytest.raises(OpenAPIError) as caught:
        import_openapi(doc)
    assert not isinstance(caught.value, UnsupportedError)
    assert (caught.value.message, caught.value.pointer) == (message, where)


def test_scheme_scope_must_name_a_scheme_and_be_one_scope():
    with pytest.raises(OpenAPIError, match="names 'nope', which is no security scheme"):
        import_openapi(one([{"bearer": []}]), scheme_scopes={"nope": "x"})
    with pytest.raises(OpenAPIError, match="is not one scope token"):
        import_openapi(one([{"bearer": []}]), scheme_scopes={"bearer": "a b"})


# -- files: YAML and JSON, and what a file adds ---------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_yaml_and_json_files_import_alike(tmp_path, version):
    doc = spec({"/pets/{id}": {"get": operation([{"oauth": ["read:pets"]}, {"bearer": []}]),
                               "put": operation([{"oauth": ["write:pets", "read:pets"]}])}},
               version=version)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "a.json").write_text(json.dumps(doc, indent=2))
    from_yaml = import_openapi(tmp_path / "a.yaml")
    from_json = import_openapi(tmp_path / "a.json")
    assert from_yaml.data == from_json.data == import_openapi(doc).data
    assert from_yaml.toml().split("\n", 1)[1] == from_json.toml().split("\n", 1)[1]


REPEATED = [
    pytest.param("a.json", '{"openapi": "3.1.0", "paths": {"/a": {}, "/a": {}}}',
                 "key '/a' appears twice in one object; readers disagree on which one counts",
                 None, id="json"),
    pytest.param("a.yaml", "openapi: 3.1.0\npaths:\n  /a:\n    get: {}\n    get: {}\n",
                 "key 'get' appears twice in one mapping; readers disagree on which one counts",
                 5, id="yaml"),
]


@pytest.mark.parametrize(("name", "text", "message", "line"), REPEATED)
def test_a_repeated_key_is_refused(tmp_path, name, text, message, line):
    (tmp_path / name).write_text(text)
    with pytest.raises(OpenAPIError) as caught:
        import_openapi(tmp_path / name)
    assert (caught.value.message, caught.value.line) == (message, line)


def test_errors_in_a_file_carry_its_line(tmp_path):
    text = yaml.safe_dump(one([{"oauth": ["admin"]}, {"cookie_key": []}]), sort_keys=False)
    (tmp_path / "spec.yaml").write_text(text)
    with pytest.raises(UnsupportedError) as caught:
        import_openapi(tmp_path / "spec.yaml")
    lines = text.splitlines()
    assert lines[caught.value.line - 1].strip() == "responses:"  # the operation's first line
    assert lines[caught.value.line - 2].strip() == "get:"
    assert str(caught.value).startswith(
        f"{tmp_path / 'spec.yaml'}:{caught.value.line}: #/paths/~1pets~1{{id}}/get: GET /pets/{{id}}"
    )


# -- the TOML written ----------------------------------------------------------------------------


def test_the_policy_file_is_deterministic_loads_and_lints_clean(tmp_path, capsys):
    doc = spec({"/pets": {"get": operation([{"oauth": ["read:pets"]}, {"oauth": ["admin"]}]),
                          "post": operation([{"oauth": ["write:pets"]}], summary='Add "a" pet')},
                "/pets/{id}": {"get": operation([{"bearer": []}]), "delete": operation([])},
                "/store": {"get": operation()}})
    (tmp_path / "spec.json").write_text(json.dumps(doc))
    first = import_openapi(tmp_path / "spec.json").toml()
    assert import_openapi(tmp_path / "spec.json").toml() == first
    assert tomllib.loads(first) == import_openapi(doc).data
    (tmp_path / "policy.toml").write_text(first)
    policy = Policy.from_file(tmp_path / "policy.toml")
    assert [r.rule for r in policy.routes] == [
        "GET /pets", "POST /pets", "GET /pets/{id}", "DELETE /pets/{id}"]
    assert main(["lint", str(tmp_path / "policy.toml")]) == 0
    assert " S1" not in capsys.readouterr().out
    assert "#   GET /store (#/paths/~1store/get)" in first


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(texts)
def test_toml_strings_hold_any_text(text):
    """Any text written as a TOML string reads back as itself."""
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text


scope_names = st.sampled_from(["read:pets", "write:pets", "admin", "a.b", "https://x/y", "r:{id}"])
requirements = st.lists(
    st.dictionaries(st.sampled_from(["oauth", "bearer", "header_key"]),
                    st.lists(scope_names, max_size=3), max_size=2),
    max_size=3,
)
operations_ = st.dictionaries(
    st.sampled_from(["get", "put", "post", "delete"]),
    st.one_of(st.none(), requirements).map(lambda s: operation() if s is None else operation(s)),
    min_size=1,
)
documents = st.builds(
    lambda paths, root, version, title: {**spec(paths, version=version, security=root),
                                         "info": {"title": title, "version": "1"}},
    st.dictionaries(st.sampled_from(["/a", "/a/{id}", "/b/{id}/c", "/x-y/{id}"]), operations_,
                    min_size=1),
    st.one_of(st.just(MISSING), requirements),
    st.sampled_from(VERSIONS),
    texts,
)


@given(documents)
def test_imported_policies_load_from_their_toml_with_the_same_routes(doc):
    """For any document: the TOML reads back as the data, loads, and has one route per row."""
    imported = import_openapi(doc, public_by_default=True, skip_unsupported=True)
    text = imported.toml()
    assert tomllib.loads(text) == imported.data
    policy = Policy.from_toml(text)
    assert [r.rule for r in policy.routes] == [
        f"{e['methods'][0]} {e['path']}" for e in imported.data["endpoints"]]


# -- the command ---------------------------------------------------------------------------------


def write(tmp_path, doc, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False) if name.endswith(".yaml")
                    else json.dumps(doc))
    return str(path)


def test_command_writes_the_policy_and_lists_what_it_left_out(tmp_path, capsys):
    spec_file = write(tmp_path, spec({"/a": {"get": operation([{"bearer": []}]),
                                             "put": operation()}}))
    out_file = tmp_path / "policy.toml"
    assert main(["import-openapi", spec_file, "-o", str(out_file), "--scheme-scope",
                 "bearer=a:api"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith(": #/paths/~1a/put: left out PUT /a: no security requirement applies "
                        "(none on the operation, none on the document)\n")
    assert Policy.from_file(out_file).authorize("a:api", "GET", "/a").allowed
    assert main(["import-openapi", spec_file, "--public-by-default"]) == 0
    out, err = capsys.readouterr()
    assert tomllib.loads(out)["endpoints"][1] == {"methods": ["PUT"], "path": "/a", "public": True}
    assert err == ""


def test_command_exits_1_on_unsupported_operations_and_0_when_skipping(tmp_path, capsys):
    spec_file = write(tmp_path, one([{"cookie_key": []}]))
    out_file = tmp_path / "policy.toml"
    assert main(["import-openapi", spec_file, "-o", str(out_file)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and not out_file.exists()
    assert ": #/paths/~1pets~1{id}/get: GET /pets/{id}: security scheme 'cookie_key' is" in err
    assert err.endswith("1 operation cannot be enforced exactly; nothing written\n")
    assert main(["import-openapi", spec_file, "-o", str(out_file), "--skip-unsupported"]) == 0
    assert "skipped GET /pets/{id}: security scheme 'cookie_key'" in capsys.readouterr().err
    assert "# Left out by --skip-unsupported:" in out_file.read_text()


USAGE = [
    pytest.param(["import-openapi", "missing.yaml"], "missing.yaml: file not found", id="missing"),
    pytest.param(["import-openapi", "bad.yaml"], "bad.yaml:2: invalid YAML", id="bad yaml"),
    pytest.param(["import-openapi", "bad.json"], "bad.json:1: invalid JSON", id="bad json"),
    pytest.param(["import-openapi", "swagger.json"], "swagger.json: #/swagger: this is a Swagger",
                 id="swagger"),
    pytest.param(["import-openapi", "ok.json", "--scheme-scope", "bearer"],
                 "'bearer' is not SCHEME=SCOPE", id="scheme-scope without ="),
    pytest.param(["import-openapi", "ok.json", "--scheme-scope", "nope=x"],
                 "--scheme-scope names 'nope', which is no security scheme", id="unknown scheme"),
    pytest.param(["import-openapi"], "Missing argument 'SPEC'", id="no spec"),
    pytest.param(["import-openapi", "ok.json", "-o", "no/such/dir/p.toml"], "cannot write",
                 id="unwritable output"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE)
def test_command_usage_errors_exit_2_without_traceback(tmp_path, monkeypatch, capsys, argv,
                                                       message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("openapi: [unclosed\n")
    (tmp_path / "bad.json").write_text('{"openapi": ')
    (tmp_path / "swagger.json").write_text('{"swagger": "2.0"}')
    write(tmp_path, one([{"bearer": []}]), "ok.json")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_pointer_escapes_as_rfc_6901_says():
    assert pointer("paths", "/a~b/{id}", "get") == "#/paths/~1a~0b~1{id}/get"
