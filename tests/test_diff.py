"""scopes diff: every finding kind, the laws of exact widening (held to `authorize`), and the
command's exit codes and formats on real files."""

from __future__ import annotations

import copy
import json
import re
import tomllib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scopes import Policy
from scopes.cli import main
from scopes.diff import KINDS, diff, fails
from tests import strategies

CATALOGUE = strategies.DRIFT_CATALOGUE
WIDENING = {kind for kind, severity in KINDS.items() if severity == "error"}


def policy(*endpoints: dict, graphql: list | None = None) -> Policy:
    data: dict = {"scopes": CATALOGUE, "endpoints": list(endpoints)}
    if graphql:
        data["graphql"] = graphql
    return Policy.from_dict(data)


def get(path: str, *any_of: str, **more: object) -> dict:
    endpoint: dict = {"methods": ["GET"], "path": path, **more}
    if any_of:
        endpoint["any_of"] = list(any_of)
    return endpoint


def found(old: Policy, new: Policy) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.rule, f.example) for f in diff(old, new)]


FINDINGS = [
    pytest.param([], [get("/t", "admin")], [("route-added", "GET /t", None)], id="route-added"),
    pytest.param([get("/t", "admin")], [], [("route-removed", "GET /t", None)],
                 id="route-removed"),
    pytest.param([get("/t", "admin read:things")], [get("/t", "admin")],
                 [("widened", "GET /t", "admin")], id="widened: a scope less"),
    pytest.param([get("/t", "admin")], [get("/t", "admin", "read:things write:things")],
                 [("widened", "GET /t", "read:things write:things")],
                 id="widened: an alternative more"),
    pytest.param([get("/t/{a}", "read:things")], [get("/t/{a}", "read:things:{a}")],
                 [("widened", "GET /t/{a}", "read:things:{a}")],
                 id="widened: a qualified scope where the bare one was needed"),
    pytest.param([get("/t/{a}", "read:things:lit")], [get("/t/{a}", "read:things:{a}")],
                 [("widened", "GET /t/{a}", "read:things:{a}"),
                  ("narrowed", "GET /t/{a}", "read:things:lit")],
                 id="widened and narrowed: a literal qualifier for a placeholder"),
    pytest.param([get("/t/{a}", "read:things:{a}")], [get("/t/{a}", "read:things")],
                 [("narrowed", "GET /t/{a}", "read:things:{a}")],
                 id="narrowed: read:things covers read:things:{a}, not the other way"),
    pytest.param([get("/t", "admin", "read:things")], [get("/t", "admin")],
                 [("narrowed", "GET /t", "read:things")], id="narrowed: an alternative less"),
    pytest.param([get("/t", public=True)], [get("/t", "admin")],
                 [("narrowed", "GET /t", None)], id="narrowed: no longer public"),
    pytest.param([get("/t", "admin")], [get("/t", public=True)],
                 [("became-public", "GET /t", None)], id="became-public"),
    pytest.param([get("/t", authenticated=True)], [get("/t", public=True)],
                 [("became-public", "GET /t", None)], id="became-public from authenticated"),
    pytest.param([get("/t", "admin")], [get("/t", authenticated=True)],
                 [("became-authenticated", "GET /t", "")], id="became-authenticated"),
    pytest.param([get("/t", "admin")], [get("/t", "admin", "read:things", authenticated=None)],
                 [("widened", "GET /t", "read:things")], id="widened, not authenticated"),
    pytest.param([get("/users/{u}/things/{a}", "admin", principal_param="u")],
                 [get("/users/{u}/things/{a}", "admin")],
                 [("principal-dropped", "GET /users/{u}/things/{a}", "admin")],
                 id="principal-dropped"),
    pytest.param([get("/users/{u}/things/{a}", "admin", principal_param="u")],
                 [get("/users/{u}/things/{a}", "admin", "read:things")],
                 [("principal-dropped", "GET /users/{u}/things/{a}", "admin"),
                  ("widened", "GET /users/{u}/things/{a}", "read:things")],
                 id="principal-dropped and widened"),
    pytest.param([get("/users/{u}/things/{a}", "notes user_id:alice")],
                 [get("/users/{u}/things/{a}", "notes")],
                 [("widened", "GET /users/{u}/things/{a}", "notes user_id:<id>")],
                 id="widened: any user id where alice's was needed"),
    pytest.param([get("/t/{a}", "read:things:{a}")], [get("/t/{b}", "read:things:{b}")], [],
                 id="a parameter renamed: nothing"),
    pytest.param([get("/t/{a}", "read:things")],
                 [get("/t/{a}", "read:things"), get("/t/export", public=True)],
                 [("route-added", "GET /t/export", None), ("became-public", "GET /t/export", None)],
                 id="a literal route takes a parameter's requests"),
    pytest.param([get("/t/{a}", "read:things"), get("/t/export", "admin")],
                 [get("/t/{a}", "read:things")],
                 [("route-removed", "GET /t/export", None),
                  ("widened", "GET /t/export", "read:things")],
                 id="a removed literal route gives its requests to a parameter"),
]


@pytest.mark.parametrize(("old", "new", "expected"), FINDINGS)
def test_each_finding_kind(old, new, expected):
    new = [{k: v for k, v in e.items() if v is not None} for e in new]
    assert found(policy(*old), policy(*new)) == expected


def test_messages_say_what_is_now_allowed_and_what_was_needed():
    (finding,) = diff(policy(get("/t/{a}", "read:things")), policy(get("/t/{a}", "read:things:{a}")))
    assert finding.message == (
        "now allowed with read:things:{a}, which was denied before (before: read:things; now: "
        "read:things:{a})")
    assert (finding.severity, finding.origin, finding.old_origin) == (
        "error", "endpoints[0]", "endpoints[0]")


def test_graphql_fields_are_compared_one_by_one():
    def q(**fields):
        return [{"path": "/q", "query": {k: {"any_of": v} for k, v in fields.items()}}]

    old = policy(graphql=q(messages=["notes"], me=["admin"]))
    new = policy(graphql=q(messages=["notes", "admin"], brands=["admin"]))
    assert found(old, new) == [
        ("widened", "POST /q (GraphQL query messages)", "admin"),
        ("route-added", "POST /q (GraphQL query brands)", None),
        ("route-removed", "POST /q (GraphQL query me)", None),
    ]


@pytest.mark.parametrize(("kinds", "fail_on", "expected"), [
    pytest.param([], "widen", False, id="nothing"),
    pytest.param(["route-added", "narrowed"], "widen", False, id="warnings do not widen"),
    pytest.param(["widened"], "widen", True, id="widened"),
    pytest.param(["route-removed"], "change", True, id="change: any finding"),
    pytest.param(["widened"], "never", False, id="never"),
])
def test_fail_on(kinds, fail_on, expected):
    from scopes.diff import Finding

    findings = [Finding(k, "GET /t", "m", None, None, None) for k in kinds]
    assert fails(findings, fail_on) is expected


# -- laws ----------------------------------------------------------------------------------------


@given(strategies.drift_policies())
def test_a_policy_against_itself_has_no_finding(data):
    """diff(P, P) is empty."""
    assert diff(Policy.from_dict(data), Policy.from_dict(data)) == []


def renamed(data: dict) -> dict:
    """The same policy with every path parameter renamed (a -> thing, u -> person)."""
    text = json.dumps(data)
    text = text.replace("{a}", "{thing}").replace("{u}", "{person}")
    text = text.replace('"principal_param": "u"', '"principal_param": "person"')
    return json.loads(text)


@given(strategies.drift_policies())
def test_a_pure_parameter_rename_is_no_finding(data):
    """Renaming parameters changes no request's requirement: no finding."""
    assert diff(Policy.from_dict(data), Policy.from_dict(renamed(data))) == []


def concrete(scopes: str, path: str, values: dict[str, str], bound: bool) -> tuple[str, str]:
    """A scope string and a path with their placeholders filled in, and a user id added where
    a scope needs one (the least token of an alternative, for that request)."""
    fill = lambda text: re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)
    words = fill(scopes).split()
    if bound:
        words.append(f"user_id:{values['u']}")
    if "notes" in words and not any(w.startswith("user_id:") for w in words):
        words.append("user_id:someone")
    return " ".join(words), fill(path)


@given(strategies.drift_policies(), st.data())
def test_adding_an_alternative_to_a_route_is_widening(data, draw):
    """Adding an alternative to a route's `any_of` is reported as widening that route (or as
    dropping its binding) exactly when the route denied the alternative's least token before:
    with "extra", which no route mentions, always, unless the route already let in the user id
    its binding puts in that token (`any_of = ["user_id:{u}"]`, bound)."""
    routes = [i for i, e in enumerate(data["endpoints"]) if "any_of" in e]
    if not routes:
        return
    index = draw.draw(st.sampled_from(routes))
    new = copy.deepcopy(data)
    endpoint = new["endpoints"][index]
    added = draw.draw(st.one_of(st.just("extra"), strategies.drift_scopes(endpoint["path"])))
    endpoint["any_of"].append(added)
    old, wider = Policy.from_dict(data), Policy.from_dict(new)
    kinds = {f.kind for f in diff(old, wider) if f.origin == f"endpoints[{index}]"}
    token, path = concrete(added, endpoint["path"], {"a": "x1", "u": "x2"},
                           "principal_param" in endpoint)
    assert wider.authorize(token, "GET" if "GET" in endpoint["methods"] else "PUT", path)
    denied_before = not old.authorize(token, endpoint["methods"][0], path)
    assert (kinds & WIDENING != set()) is denied_before
    assert kinds <= WIDENING
    if added == "extra":
        binding_alone, _ = concrete("", endpoint["path"], {"a": "x1", "u": "x2"},
                                    "principal_param" in endpoint)
        assert denied_before is not old.authorize(binding_alone, endpoint["methods"][0], path)


VALUES = {"a": ["v1", "export", "lit"], "u": ["alice", "bob"]}
TOKENS = ["read:things", "write:things", "admin", "notes", "read:things:v1", "read:things:lit",
          "read:things:export", "write:things:v1", "user_id:alice", "user_id:bob", "extra"]


@given(strategies.drift_policies(), strategies.drift_policies(), st.data())
def test_findings_agree_with_authorize(old_data, new_data, draw):
    """What `authorize` newly allows is reported, and what is reported `authorize` newly
    allows: a request NEW allows and OLD denies to a token has a widening finding at NEW's
    route (or, where OLD had no route, a route-added one); each widening example, its
    placeholders filled, is allowed by NEW and denied by OLD on that route's request."""
    old, new = Policy.from_dict(old_data), Policy.from_dict(new_data)
    findings = diff(old, new)
    for route in new.routes:
        values = {name: draw.draw(st.sampled_from(VALUES[name])) for name, _ in route.params}
        path = re.sub(r"\{(\w+)\}", lambda m, values=values: values[m.group(1)], route.template)
        token = " ".join(draw.draw(st.sets(st.sampled_from(TOKENS), max_size=4)))
        now, before = new.authorize(token, route.method, path), old.authorize(token, route.method, path)
        if not now or before or now.rule != route.rule:
            continue
        if before.code in ("no-route", "method-not-allowed"):
            assert any(f.kind == "route-added" and f.origin == route.origin for f in findings)
        else:
            assert any(f.kind in WIDENING and f.origin == route.origin for f in findings), (
                token, path)
    for finding in findings:
        if finding.kind not in WIDENING - {"became-public"} or finding.origin is None:
            continue
        method, template = finding.rule.split(" ")[:2]  # the requests it is about
        (route,) = [r for r in new.routes if r.origin == finding.origin and r.method == method]
        if route.graphql is not None:
            continue
        segments = [s if not s.startswith("{") else f"x{i}"
                    for i, s in enumerate(template[1:].split("/"))]
        path = "/" + "/".join(segments)
        at = {name: segments[index] for name, index in route.params}  # NEW's names
        token = re.sub(r"\{(\w+)\}", lambda m, at=at: at[m.group(1)], finding.example)
        token = token.replace("user_id:<id>", "user_id:someone")
        assert new.authorize(token, method, path).allowed, (finding, token, path)
        assert not old.authorize(token, method, path).allowed, (finding, token, path)


# -- the command ---------------------------------------------------------------------------------

OLD_POLICY = """version = 1
name = "things"

[scopes."read:things"]
qualifier = "thing_id"

[scopes.admin]

[[endpoints]]
methods = ["GET"]
path = "/things/{id}"
any_of = ["read:things:{id}"]

[[endpoints]]
methods = ["DELETE"]
path = "/things/{id}"
any_of = ["admin"]
"""
NEW_POLICY = OLD_POLICY.replace('any_of = ["read:things:{id}"]', 'any_of = ["read:things"]')
WIDER_POLICY = OLD_POLICY.replace('any_of = ["admin"]', "authenticated = true")


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.toml").write_text(OLD_POLICY)
    (tmp_path / "new.toml").write_text(NEW_POLICY)
    (tmp_path / "wider.toml").write_text(WIDER_POLICY)
    spec = {"openapi": "3.1.0", "info": {"title": "things", "version": "1"},
            "paths": {"/things/{id}": {
                "get": {"security": [{"oauth": ["read:things:{id}"]}], "responses": {}},
                "delete": {"security": [{"bearer": []}], "responses": {}}}},
            "components": {"securitySchemes": {
                "oauth": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": "https://a.example/t", "scopes": {"read:things": "Read"}}}},
                "bearer": {"type": "http", "scheme": "bearer"}}}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_and_exit_codes(files, capsys):
    assert run(capsys, "old.toml", "old.toml") == (0, "no difference in access\n", "")
    assert run(capsys, "old.toml", "new.toml") == (
        0, ("new.toml:11: info: narrowed: GET /things/{id}: no longer allowed with "
            "read:things:{id} (before: read:things:{id}; now: read:things)\n0 errors, 0 warnings, "
            "1 info\n"), "")
    code, out, _ = run(capsys, "old.toml", "wider.toml")
    assert code == 1
    assert out.splitlines()[0] == (
        "wider.toml:16: error: became-authenticated: DELETE /things/{id}: now any valid token "
        "may call it, even one with no scopes (before: admin)")


@pytest.mark.parametrize(("fail_on", "pair", "code"), [
    pytest.param("widen", ("old.toml", "new.toml"), 0, id="widen: a narrowing passes"),
    pytest.param("change", ("old.toml", "new.toml"), 1, id="change: a narrowing fails"),
    pytest.param("change", ("old.toml", "old.toml"), 0, id="change: nothing passes"),
    pytest.param("never", ("old.toml", "wider.toml"), 0, id="never"),
    pytest.param("widen", ("old.toml", "wider.toml"), 1, id="widen: widening fails"),
])
def test_fail_on_exit_codes(files, capsys, fail_on, pair, code):
    assert run(capsys, "--fail-on", fail_on, *pair)[0] == code


def test_json_output(files, capsys):
    code, out, _ = run(capsys, "--format", "json", "old.toml", "wider.toml")
    assert code == 1
    assert json.loads(out) == [{
        "kind": "became-authenticated", "severity": "error", "rule": "DELETE /things/{id}",
        "message": "now any valid token may call it, even one with no scopes (before: admin)",
        "example": "", "file": "wider.toml", "line": 16}]


def test_github_output_annotates_news_line(files, capsys):
    code, out, _ = run(capsys, "--format", "github", "old.toml", "wider.toml")
    assert (code, out) == (1, (
        "::error file=wider.toml,line=16,title=scopes diff%3A became-authenticated::DELETE "
        "/things/{id}: now any valid token may call it, even one with no scopes (before: admin)\n"))


def test_a_removed_route_is_shown_at_olds_line(files, capsys):
    (files / "less.toml").write_text(OLD_POLICY.split('[[endpoints]]\nmethods = ["DELETE"]')[0])
    code, out, _ = run(capsys, "--format", "github", "old.toml", "less.toml")
    assert (code, out) == (0, ("::notice file=old.toml,line=16,title=scopes diff%3A "
                               "route-removed::DELETE /things/{id}: route removed\n"))


def test_openapi_and_policy_in_any_mix(files, capsys):
    assert main(["import-openapi", "spec.yaml", "-o", "imported.toml"]) == 0
    capsys.readouterr()
    assert run(capsys, "spec.yaml", "imported.toml") == (0, "no difference in access\n", "")
    assert run(capsys, "imported.toml", "spec.yaml") == (0, "no difference in access\n", "")
    code, out, _ = run(capsys, "old.toml", "spec.yaml")
    assert code == 1
    assert out.startswith("spec.yaml:13: error: became-authenticated: DELETE /things/{id}:")
    code, out, _ = run(capsys, "--scheme-scope", "bearer=admin", "old.toml", "spec.yaml")
    assert (code, out) == (0, "no difference in access\n")


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(["missing.toml", "old.toml"], "missing.toml: file not found", id="missing"),
    pytest.param(["old.toml", "broken.toml"], "broken.toml:1: invalid TOML", id="broken toml"),
    pytest.param(["old.toml", "bad.toml"], "bad.toml:1: endpoints[0]: `methods` must not be empty",
                 id="policy that does not load"),
    pytest.param(["old.toml", "bad.yaml"], "bad.yaml:5: #/paths/~1a/get/security: `security` must",
                 id="openapi that does not import"),
    pytest.param(["--format", "xml", "old.toml", "old.toml"], "Invalid value for '--format'",
                 id="bad format"),
    pytest.param(["--fail-on", "always", "old.toml", "old.toml"], "Invalid value for '--fail-on'",
                 id="bad fail-on"),
    pytest.param(["old.toml"], "Missing argument 'NEW'", id="one file"),
])
def test_usage_errors_exit_2_without_traceback(files, capsys, argv, message):
    (files / "broken.toml").write_text("version = \n")
    (files / "bad.toml").write_text('[[endpoints]]\nmethods = []\npath = "/a"\npublic = true\n')
    (files / "bad.yaml").write_text("openapi: 3.1.0\npaths:\n  /a:\n    get:\n      security: 1\n")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


# -- the benchmark measures what it says --------------------------------------------------------

def test_the_benchmark_inputs_are_what_it_says():
    """bench_openapi's document has the operations it counts, of every requirement kind, and
    its changed policy differs in every kind of change it names, parameter renames aside."""
    import collections
    import sys
    from pathlib import Path

    from scopes.openapi import import_openapi

    benchmarks = str(Path(__file__).resolve().parent.parent / "benchmarks")
    sys.path.insert(0, benchmarks)
    try:
        import bench_openapi
    finally:
        sys.path.remove(benchmarks)
    rows = import_openapi(bench_openapi.generated_document(100)).data["endpoints"]
    kinds = collections.Counter(
        "public" if "public" in row else "authenticated" if "authenticated" in row
        else "all_of" if " " in row["any_of"][0] else "any_of"
        for row in rows)
    assert (len(rows), set(kinds)) == (100, {"any_of", "all_of", "authenticated", "public"})
    old = Policy.from_dict(bench_openapi.generated_policy_data(500))
    new = Policy.from_dict(bench_openapi.generated_policy_data(500, changed=True))
    assert collections.Counter(f.kind for f in diff(old, new)) == {
        "widened": 5, "narrowed": 5, "principal-dropped": 5, "became-authenticated": 5,
        "route-added": 1, "route-removed": 1}
    from scopes.openapi.render import data_toml  # what it writes the policy files with

    data = bench_openapi.generated_policy_data(50, changed=True)
    assert tomllib.loads(data_toml(data)) == data
