"""`scopes test`: the `[[tests]]` a policy carries, run through main() on real files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from scopes import Policy
from scopes.cli import main

ROOT = Path(__file__).resolve().parent.parent
COURIER_FILE = ROOT / "scopes" / "policy" / "courier.toml"

POLICY = """\
version = 1
[scopes."read:things"]
qualifier = "id"

[[endpoints]]
methods = ["GET"]
path = "/things/{id}"
any_of = ["read:things", "read:things:{id}"]

[[tests]]
name = "one thing"
scope = "read:things:t1"
request = "GET /things/t1"
expect = "allow"

[[tests]]
name = "another thing"
scope = "read:things:t1"
request = "GET /things/t2"
expect = "allow"

[[tests]]
scope = "read:things"
request = "GET /nothing"
expect = "deny"
code = "insufficient-scope"

[[tests]]
scope = "read:things"
request = "GET /things/t1"
expect = "deny"
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_bundled_courier_policy_passes_its_own_tests(capsys):
    assert main(["test", str(COURIER_FILE)]) == 0
    assert capsys.readouterr().out == "86 passed, 0 failed\n"


def test_the_bundled_tests_are_the_decision_table():
    """scopes/policy/courier.toml carries tests/data/courier_decisions.toml as `[[tests]]`:
    the same cases in the same order (the data file also pins reasons, granted, needed)."""
    table = tomllib.loads((ROOT / "tests" / "data" / "courier_decisions.toml").read_text())["case"]
    carried = Policy.courier().model.tests
    assert [
        (c.scope, c.request, c.body, c.expect, c.code) for c in carried
    ] == [
        (case["scopes"], f"{case['method']} {case['path']}", case.get("body"),
         "allow" if case["allowed"] else "deny", case.get("code")) for case in table
    ]


def test_failing_cases_are_named_at_their_line(tmp_path, capsys):
    path = _write(tmp_path, "policy.toml", POLICY)
    assert main(["test", str(path)]) == 1
    assert capsys.readouterr().out == (
        f"{path}:16: another thing: expected allow, got deny: denied: GET /things/t2 needs "
        "read:things or read:things:t2; the token has read:things:t1\n"
        f"{path}:22: tests[2]: expected deny (insufficient-scope), got deny (no-route): denied: "
        "GET /nothing: no rule in the policy matches this path\n"
        f"{path}:28: tests[3]: expected deny, got allow: allowed: GET /things/t1 matches "
        "GET /things/{id}; granted by read:things\n"
        "1 passed, 3 failed\n"
    )


TEST_FILES = [
    pytest.param("checks/api.tests.toml", 'policy = "../policies/api.toml"\n\n'
                 '[[tests]]\nscope = "read:things:t1"\nrequest = "GET /things/t1"\nexpect = "allow"\n\n'
                 '[[tests]]\nscope = ""\nrequest = "GET /things/t1?x=1"\nexpect = "deny"\n'
                 'code = "insufficient-scope"\n', id="relative-to-itself"),
    pytest.param("courier.tests.toml", f'policy = "{COURIER_FILE}"\n\n'
                 '[[tests]]\nname = "messages by a table"\nscope = "user_id:u read:messages"\n'
                 'request = "POST /client/q"\nbody = { query = "{ messages { id } }" }\nexpect = "allow"\n\n'
                 '[[tests]]\nname = "a raw space"\nscope = "read:brands"\nrequest = "GET /brands/a b"\n'
                 'expect = "deny"\ncode = "bad-path"\n', id="body-table-and-spaces"),
]


@pytest.mark.parametrize(("name", "text"), TEST_FILES)
def test_a_test_file_runs_against_the_policy_it_names(name, text, tmp_path, capsys):
    """`policy` is relative to the test file (an absolute path stays one); a body may be a
    table; a request's target keeps its spaces, for the engine to judge."""
    _write(tmp_path, "policies/api.toml", POLICY.split("[[tests]]")[0])
    tests = _write(tmp_path, name, text)
    assert main(["test", str(tests)]) == 0
    assert capsys.readouterr().out == "2 passed, 0 failed\n"


def test_directories_are_searched_for_files_holding_tests(tmp_path, capsys, monkeypatch):
    _write(tmp_path, "a/policy.toml", POLICY)
    _write(tmp_path, "a/b/courier.toml", COURIER_FILE.read_text())
    _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')  # holds no tests: not read
    _write(tmp_path, "broken.toml", "this is [ not toml\n")  # holds no tests: not read
    _write(tmp_path, ".venv/lib/courier.toml", POLICY.replace("t2", "t9"))  # hidden: passed over
    _write(tmp_path, "env/pyvenv.cfg", "")
    _write(tmp_path, "env/lib/courier.toml", POLICY)  # a virtual environment: passed over
    monkeypatch.chdir(tmp_path)
    assert main(["test"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "87 passed, 3 failed"
    assert {line.split(":")[0] for line in out.splitlines()[:-1]} == {"a/policy.toml"}


BROKEN = [
    pytest.param("tests = [\n",
                 "x.toml:1: does not load: invalid TOML: Invalid value (at end of document)\n"
                 "    fix: fix the TOML syntax", id="toml"),
    pytest.param(POLICY.replace('expect = "allow"', 'expect = "allow"\nexpected = "allow"', 1),
                 "x.toml:10: does not load: tests[0]: unknown key 'expected'\n"
                 "    fix: remove it or correct its spelling (`scopes schema` prints the policy "
                 'format; README.md, "Policy files", shows it)', id="unknown-key"),
    pytest.param(POLICY.replace('expect = "allow"', 'expect = "alow"', 1),
                 "x.toml:10: does not load: tests[0]: `expect` must be 'allow' or 'deny', not "
                 "'alow'\n    fix: `scopes schema` prints the policy format; README.md, \"Policy "
                 'files", shows it', id="expect"),
    pytest.param(POLICY.replace('code = "insufficient-scope"', 'code = "insufficent-scope"'),
                 "x.toml:22: does not load: tests[2]: unknown deny code 'insufficent-scope'; did "
                 "you mean 'insufficient-scope'?\n    fix: use one of insufficient-scope, no-route, "
                 "method-not-allowed, bad-path, malformed-scopes, bad-scopes, bad-method, "
                 "body-required, bad-graphql, field-not-allowed, operation-not-allowed, "
                 "graphql-in-query-string, internal-error, or leave `code` out", id="unknown-code"),
    pytest.param(POLICY.replace('request = "GET /nothing"', 'request = "/nothing"'),
                 "x.toml:22: does not load: tests[2]: `request` must be \"METHOD /path\", not "
                 "'/nothing'\n    fix: write e.g. request = \"GET /brands\"", id="request"),
    pytest.param(POLICY.replace('expect = "deny"\ncode', 'expect = "allow"\ncode'),
                 "x.toml:22: does not load: tests[2]: `code` names why a request is denied: drop "
                 "it, or expect = \"deny\"\n    fix: `scopes schema` prints the policy format; "
                 'README.md, "Policy files", shows it', id="code-with-allow"),
    pytest.param(POLICY.replace('"read:things", "read:things:{id}"', '"read:thing"'),
                 "x.toml:8: does not load: endpoints[0]: unknown scope 'read:thing'; did you mean "
                 "'read:things'?", id="policy"),
    pytest.param('policy = "missing.toml"\n[[tests]]\nscope = ""\nrequest = "GET /"\nexpect = "deny"\n',
                 "x.toml:1: does not load: its policy 'missing.toml' does not load: missing.toml: "
                 "policy file not found\n    fix: check the path", id="missing-policy"),
    pytest.param('policy = "x.toml"\n[[tests]]\nscope = ""\nrequest = "GET /"\nexpect = "deny"\n',
                 "x.toml:1: does not load: its policy 'x.toml' does not load: x.toml:1: unknown "
                 "key 'policy'\n    fix: remove it or correct its spelling (`scopes schema` prints "
                 'the policy format; README.md, "Policy files", shows it)', id="policy-is-itself"),
    pytest.param('policy = "p.toml"\n[[tests]]\nscope = ""\nexpect = "deny"\n',
                 "x.toml:2: does not load: tests[0]: missing required key 'request'\n"
                 "    fix: add `request = ...`", id="test-file-schema"),
    pytest.param('policy = "p.toml"\nendpoints = []\n',
                 "x.toml:2: does not load: unknown key 'endpoints'\n    fix: remove it or correct "
                 'its spelling (`scopes schema` prints the policy format; README.md, "Policy '
                 'files", shows it)', id="test-file-unknown-key"),
    pytest.param(b"tests = [\xff]\n", "x.toml: does not load: test file is not UTF-8 (invalid "
                 "start byte at byte 9)\n    fix: save the file as UTF-8", id="not-utf8"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_a_file_that_does_not_load_exits_2(text, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if isinstance(text, bytes):
        (tmp_path / "x.toml").write_bytes(text)
    else:
        _write(tmp_path, "x.toml", text)
    assert main(["test", "x.toml"]) == 2
    captured = capsys.readouterr()
    if "endpoints[0]" in message:  # the loader's own fix, whatever it says, follows
        assert captured.err.startswith(f"scopes test: {message}\n    fix: "), captured.err
    else:
        assert captured.err == f"scopes test: {message}\n"
    assert captured.out == "0 passed, 0 failed\n"


def test_other_files_still_run_beside_one_that_does_not_load(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "bad.toml", "tests = [\n")
    _write(tmp_path, "good.toml", POLICY.split("[[tests]]\nname = \"another")[0])
    assert main(["test", "bad.toml", "good.toml"]) == 2
    assert capsys.readouterr().out == "1 passed, 0 failed\n"


def test_a_path_that_does_not_exist_is_a_usage_error(capsys):
    assert main(["test", "/does/not/exist"]) == 2
    assert "no such file or directory: /does/not/exist" in capsys.readouterr().err


def test_json_format(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "p.toml", POLICY)
    _write(tmp_path, "bad.toml", "tests = [\n")
    assert main(["test", "--format", "json", "p.toml", "bad.toml"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert (document["passed"], document["failed"], document["files"]) == (1, 3, ["p.toml", "bad.toml"])
    assert document["errors"][0]["file"] == "bad.toml" and document["errors"][0]["line"] == 1
    assert document["results"][1] == {
        "file": "p.toml", "line": 16, "name": "another thing", "scope": "read:things:t1",
        "request": "GET /things/t2", "expect": "allow", "code": None, "got": "deny",
        "got_code": "insufficient-scope", "passed": False,
        "reason": "denied: GET /things/t2 needs read:things or read:things:t2; the token has read:things:t1",
    }


def test_github_format(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "p.toml", POLICY)
    _write(tmp_path, "bad.toml", "tests = [\n")
    assert main(["test", "--format", "github", "p.toml", "bad.toml"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "::error file=p.toml,line=16,title=scopes test::another thing: expected allow, got deny: "
        "denied: GET /things/t2 needs read:things or read:things:t2; the token has read:things:t1"
    )
    assert lines[3].startswith("::error file=bad.toml,line=1,title=scopes test::does not load: invalid TOML")
    assert lines[-1] == "1 passed, 3 failed"


def test_the_loader_ignores_tests_for_routing():
    with_tests = Policy.from_toml(POLICY)
    without = Policy.from_toml(POLICY.split("[[tests]]")[0])
    assert [r.rule for r in with_tests.routes] == [r.rule for r in without.routes]
    assert len(with_tests.model.tests) == 4 and not without.model.tests


def test_inline_tests_and_ignored_files(tmp_path, capsys, monkeypatch):
    """An inline `tests = [...]` array of tables is found (its failures at the `tests` line); a
    `tests = ["pytest"]` list of strings is not ours; .gitignore'd files are passed over."""
    inline = 'tests = [\n  { scope = "", request = "GET /things/t1", expect = "allow" },\n]\n' + (
        POLICY.split("[[tests]]")[0]
    )
    _write(tmp_path, "inline.toml", inline)
    _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\ntests = ["pytest"]\n')
    _write(tmp_path, "deps.toml", 'tests = ["pytest"]\n')
    _write(tmp_path, ".gitignore", "scratch/\n")
    _write(tmp_path, "scratch/policy.toml", POLICY)
    monkeypatch.chdir(tmp_path)
    assert main(["test"]) == 1
    assert capsys.readouterr().out == (
        "inline.toml:1: tests[0]: expected allow, got deny: denied: GET /things/t1 needs "
        "read:things or read:things:t1; the token has no scopes\n"
        "0 passed, 1 failed\n"
    )


def test_nothing_to_run_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert main(["test"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("0 passed, 0 failed\n", "scopes test: no file holds [[tests]] (.)\n")


def test_an_unknown_format_is_a_usage_error(tmp_path, capsys):
    assert main(["test", "--format", "xml", str(tmp_path)]) == 2
    assert "'xml' is not one of 'text', 'json', 'github'" in capsys.readouterr().err


def test_github_annotations_escape_what_workflow_commands_require(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "a,b:c.toml", POLICY.replace('name = "another thing"', 'name = "100% of\\nthings"'))
    assert main(["test", "--format", "github", "a,b:c.toml"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "::error file=a%2Cb%3Ac.toml,line=16,title=scopes test::100%25 of%0Athings: expected "
        "allow, got deny: denied: GET /things/t2 needs read:things or read:things:t2; the token "
        "has read:things:t1"
    )


def test_a_policy_whose_tests_do_not_read_does_not_load():
    """The tests are part of the file: a server refuses the policy as `scopes test` does."""
    from scopes.errors import PolicyError

    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(POLICY.replace('request = "GET /nothing"', 'request = "GET"'), file="p.toml")
    assert str(caught.value) == (
        "p.toml:22: tests[2]: `request` must be \"METHOD /path\", not 'GET'\n"
        "    fix: write e.g. request = \"GET /brands\""
    )
