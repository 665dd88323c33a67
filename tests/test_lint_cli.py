"""`scopes lint`: exit codes, the output formats, --fix, --policy and [tool.scopes], on real files."""

from __future__ import annotations

import json

import pytest

from scopes.cli import main


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no pyproject.toml of ours in the way


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["lint", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_scope_with_an_error_exits_1_and_prints_path_line_col_code(capsys):
    code, out, err = run(capsys, "--scope", "user_id:x  read:brand")
    assert code == 1
    assert out == (
        "<scope>:1:10: S202 2 spaces between scopes; use one\n"
        "<scope>:1:12: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n"
    )
    assert err == ""


def test_warnings_and_info_alone_exit_0(capsys):
    code, out, _ = run(capsys, "--scope", "read:brands read:brands inbox:read:messages")
    assert code == 0
    assert out == (
        "<scope>:1:13: S200 duplicate scope 'read:brands'\n"
        "<scope>:1:25: S300 'inbox:read:messages' grants no endpoint of policy 'courier': no "
        "requirement mentions it\n"
    )


def test_a_clean_scope_prints_nothing(capsys):
    assert run(capsys, "--scope", "user_id:x read:messages") == (0, "", "")


def test_a_syntax_error_in_a_scope_keeps_line_1(capsys):
    code, out, _ = run(capsys, "--scope", "read:brands\nuser_id:x")
    assert (code, out) == (
        1,
        "<scope>:1:12: S100 newline is not allowed; a scope string is one line, scopes separated by spaces\n",
    )


def test_files(tmp_path, capsys):
    (tmp_path / "good.json").write_text('{"scope": "user_id:x read:messages"}\n')
    (tmp_path / "bad.scopes").write_text("# a comment\n\nuser_id:x read:brand\n")
    code, out, err = run(capsys, "good.json", "bad.scopes")
    assert (code, err) == (1, "")
    assert out == "bad.scopes:3:11: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n"
    assert run(capsys, "good.json") == (0, "", "")


def test_json_format(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("scope: read:brand\n")
    code, out, _ = run(capsys, "--format", "json", "a.yaml", "--scope", "READ:BRANDS")
    assert code == 1
    assert json.loads(out) == [
        {
            "path": "<scope>", "line": 1, "column": 1, "end_line": 1, "end_column": 12,
            "code": "S102", "severity": "error",
            "message": "unknown scope 'READ:BRANDS'; did you mean 'read:brands'?", "fix": "read:brands",
        },
        {
            "path": "a.yaml", "line": 1, "column": 8, "end_line": 1, "end_column": 18,
            "code": "S102", "severity": "error",
            "message": "unknown scope 'read:brand'; did you mean 'read:brands'?", "fix": None,
        },
    ]


def test_json_format_with_nothing_found_is_an_empty_array(capsys):
    assert run(capsys, "--format", "json", "--scope", "user_id:x read:messages") == (0, "[]\n", "")


def test_github_format(tmp_path, capsys):
    (tmp_path / "a.json").write_text('{\n  "scope": "read:brands read:brands inbox:read:messages,x"\n}\n')
    code, out, _ = run(capsys, "--format", "github", "a.json")
    assert code == 1
    assert out.splitlines() == [
        "::warning file=a.json,line=2,col=25,endLine=2,endColumn=36,title=S200::duplicate scope 'read:brands'",
        "::error file=a.json,line=2,col=37,endLine=2,endColumn=58,title=S106::'inbox:read:messages,x' looks "
        "like part of a comma-separated list; scopes are separated by single spaces: write "
        "'inbox:read:messages x'",
    ]
    code, out, _ = run(capsys, "--format", "github", "--scope", "inbox:read:messages")
    assert out.startswith("::notice file=<scope>,line=1,col=1,endLine=1,endColumn=20,title=S300::")


def test_fix_rewrites_files_and_reports_what_remains(tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text('[client]\nscope = "user_id:x  READ:BRANDS read:brands:acme"  # web\nother = "read:brand"\nscopes = ["read:brand"]\n')
    code, out, err = run(capsys, "--fix", "a.toml")
    assert path.read_text() == '[client]\nscope = "user_id:x read:brands"  # web\nother = "read:brand"\nscopes = ["read:brand"]\n'
    assert err == "a.toml: fixed 1 scope string(s)\n"
    assert (code, out) == (1, "a.toml:4:12: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n")


def test_fix_with_scope_prints_the_fixed_string_and_findings_on_stderr(capsys):
    code, out, err = run(capsys, "--fix", "--scope", " read:messages read:messages  READ:BRANDS")
    assert out == "read:messages read:brands\n"
    assert err == (
        "<scope>:1:1: S105 'read:messages' grants only together with a user_id: add "
        "'user_id:<id>' for the user the token acts for\n"
    )
    assert code == 1


def test_policy_option_gives_the_catalogue(tmp_path, capsys):
    (tmp_path / "p.toml").write_text('[scopes."admin"]\n[[endpoints]]\nmethods = ["GET"]\npath = "/a"\nany_of = ["admin"]\n')
    assert run(capsys, "--policy", "p.toml", "--scope", "admin")[0] == 0
    code, out, _ = run(capsys, "--policy", "p.toml", "--scope", "read:brands")
    assert (code, out) == (1, "<scope>:1:1: S102 unknown scope 'read:brands'\n")


def test_config_keys_and_policy(tmp_path, capsys):
    (tmp_path / "p.toml").write_text('[scopes."admin"]\n[[endpoints]]\nmethods = ["GET"]\npath = "/a"\nany_of = ["admin"]\n')
    (tmp_path / "pyproject.toml").write_text('[tool.scopes]\nlint-keys = ["permissions"]\npolicy = "p.toml"\n')
    (tmp_path / "a.json").write_text('{"permissions": "admin amdin", "scope": "not-checked"}')
    code, out, _ = run(capsys, "a.json")
    assert (code, out) == (1, "a.json:1:24: S102 unknown scope 'amdin'; did you mean 'admin'?\n")


USAGE = [
    pytest.param([], "give --scope S or one or more FILEs", id="nothing-to-lint"),
    pytest.param(["missing.json"], "scopes lint: missing.json: no such file", id="missing-file"),
    pytest.param(["a.txt"], "scopes lint: a.txt: cannot tell the format of this file", id="unknown-format"),
    pytest.param(["broken.json"], "scopes lint: broken.json:1:11: invalid JSON: Expecting value", id="broken-json"),
    pytest.param(["--policy", "nope.toml", "--scope", "x"], "cannot load policy", id="missing-policy"),
    pytest.param(["--format", "xml", "--scope", "x"], "Invalid value for '--format'", id="bad-format"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE)
def test_usage_errors_exit_2_with_a_message_and_no_traceback(tmp_path, capsys, argv, message):
    (tmp_path / "a.txt").write_text("read:brands")
    (tmp_path / "broken.json").write_text('{"scope": }')
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_an_unreadable_file_exits_2_but_the_others_are_still_reported(tmp_path, capsys):
    (tmp_path / "bad.scopes").write_text("read:brand\n")
    code, out, err = run(capsys, "missing.scopes", "bad.scopes")
    assert code == 2
    assert out == "bad.scopes:1:1: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n"
    assert err == "scopes lint: missing.scopes: no such file\n"


def test_bad_config_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text("[tool.scopes]\nkeys = []\n")
    code, _, err = run(capsys, "--scope", "read:brands")
    assert code == 2
    assert "unknown key 'keys' in [tool.scopes]" in err


def test_yaml_without_pyyaml_is_a_usage_error(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)
    (tmp_path / "a.yml").write_text("scope: read:brands\n")
    code, _, err = run(capsys, "a.yml")
    assert code == 2
    assert err == "scopes lint: a.yml: reading YAML needs PyYAML: pip install 'scopes-policy[yaml]'\n"


def test_policy_file_findings(tmp_path, capsys):
    (tmp_path / "policy.toml").write_text(
        '[scopes."read:brands"]\nqualifier = "brand_id"\n[scopes."old"]\n'
        '[[endpoints]]\nmethods = ["GET"]\npath = "/brands/{id}"\nany_of = ["read:brands:{id}", "read:brand"]\n'
    )
    code, out, _ = run(capsys, "policy.toml")
    assert (code, out) == (1, "policy.toml:7:32: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n")
    (tmp_path / "policy.toml").write_text(
        '[scopes."read:brands"]\nqualifier = "brand_id"\n[scopes."old"]\n'
        '[[endpoints]]\nmethods = ["GET"]\npath = "/brands/{id}"\nany_of = ["read:brands:{id}"]\n'
    )
    code, out, _ = run(capsys, "policy.toml")
    assert (code, out) == (
        0,
        "policy.toml:3:10: S401 scope 'old' is in the catalogue, but no endpoint requires it: a token "
        "with it can call nothing more\n",
    )
