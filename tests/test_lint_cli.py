"""`scopes lint`: exit codes, the output formats, --fix, --policy and [tool.scopes], on real files."""

from __future__ import annotations

import io
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
    assert err == "scopes lint: 1 error, 1 warning; 1 fixable with --fix (--diff to preview)\n"


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
    assert (code, err) == (1, "scopes lint: 1 error\n")
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
    assert err == "a.toml: fixed 1 scope string(s)\nscopes lint: 1 error\n"
    assert (code, out) == (1, "a.toml:4:12: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n")


def test_fix_with_scope_prints_the_fixed_string_and_findings_on_stderr(capsys):
    code, out, err = run(capsys, "--fix", "--scope", " read:messages read:messages  READ:BRANDS")
    assert out == "read:messages read:brands\n"
    assert err == (
        "<scope>:1:1: S105 'read:messages' grants only together with a user_id: add "
        "'user_id:<id>' for the user the token acts for\n"
        "scopes lint: 1 error\n"
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
    pytest.param([], "give --scope S, one or more PATHs, or - for standard input", id="nothing-to-lint"),
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
    assert err == "scopes lint: missing.scopes: no such file\nscopes lint: 1 error\n"


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


# -- like ruff: directories, standard input, selection, suppression, statistics, --diff ---------


def test_a_directory_is_walked(tmp_path, capsys):
    (tmp_path / ".gitignore").write_text("generated/\n")
    for name in ["cfg/a.json", "generated/b.json", ".venv/c.json", "node_modules/d.json", "notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('{"scope": "read:brand"}\n')
    code, out, err = run(capsys, ".", "notes.txt")  # a file named on its own is linted, or refused
    assert code == 2
    assert out == "cfg/a.json:1:12: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n"
    assert err.startswith("scopes lint: notes.txt: cannot tell the format of this file")
    assert run(capsys, "generated/b.json")[1].startswith("generated/b.json:1:12: S102")  # named


def test_a_file_reached_twice_is_linted_once(tmp_path, capsys):
    (tmp_path / "a.scopes").write_text("read:brand\n")
    code, out, _ = run(capsys, ".", "a.scopes", "./a.scopes")
    assert out.count("S102") == 1


def test_a_directory_with_nothing_to_lint(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run(capsys, "empty") == (
        0, "", "scopes lint: warning: no files to lint under empty (it has no .json, .yaml, .yml, "
               ".toml or .scopes file that is not ignored)\n")
    assert run(capsys, "-q", "empty") == (0, "", "")


@pytest.fixture
def stdin(monkeypatch):
    def give(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
    return give


def test_standard_input_is_a_scopes_file_by_default(capsys, stdin):
    stdin("# a comment\nuser_id:x read:messages\nread:brand\n")
    code, out, _ = run(capsys, "-")
    assert (code, out) == (1, "<stdin>:3:1: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n")


def test_stdin_filename_names_standard_input_and_decides_its_format(tmp_path, capsys, stdin):
    stdin('{\n  "scope": "read:brand"\n}\n')
    code, out, _ = run(capsys, "--stdin-filename", "config/clients.json", "-")
    assert (code, out) == (1, "config/clients.json:2:13: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n")
    stdin("scope: read:brands\n")
    assert run(capsys, "--stdin-filename", "a.yaml") == (0, "", "")  # no PATH: standard input
    assert not (tmp_path / "config").exists()


def test_fix_on_standard_input_prints_the_fixed_text(capsys, stdin):
    stdin('scope = "read:brands  read:brands read:brand"  # web\n')
    code, out, err = run(capsys, "--fix", "--stdin-filename", "a.toml", "-")
    assert out == 'scope = "read:brands read:brand"  # web\n'
    assert err == ("a.toml:1:22: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n"
                   "scopes lint: 1 error\n")
    assert code == 1


SELECTIONS = [
    pytest.param([], ["S102", "S200", "S300"], id="default-every-code"),
    pytest.param(["--select", "S1"], ["S102"], id="select-prefix"),
    pytest.param(["--select", "S2,S3"], ["S200", "S300"], id="select-comma-list"),
    pytest.param(["--ignore", "S3", "--ignore", "S102"], ["S200"], id="ignore-repeated"),
    pytest.param(["--select", "ALL", "--ignore", "S"], [], id="ignore-everything"),
    pytest.param(["--ignore", "S2", "--extend-select", "S200"], ["S102", "S200", "S300"], id="extend-select-more-specific"),
    pytest.param(["--select", "s102"], ["S102"], id="case-insensitive"),
]


@pytest.mark.parametrize(("argv", "expected"), SELECTIONS)
def test_select_ignore_extend_select(tmp_path, capsys, argv, expected):
    (tmp_path / "a.scopes").write_text("read:brand read:brands read:brands inbox:read:messages\n")
    code, out, _ = run(capsys, *argv, "a.scopes")
    assert [line.split()[1] for line in out.splitlines()] == expected
    assert code == (1 if "S102" in expected else 0)  # an unselected error does not fail


def test_config_selection_and_the_command_line_over_it(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.scopes]\nselect = ["S1", "S2"]\nignore = ["S200"]\n')
    (tmp_path / "a.scopes").write_text("read:brand read:brands read:brands inbox:read:messages\n")
    assert [line.split()[1] for line in run(capsys, "a.scopes")[1].splitlines()] == ["S102"]
    # The command line's --select starts afresh, as ruff's does; its --extend-select adds.
    assert [line.split()[1] for line in run(capsys, "--select", "S3", "a.scopes")[1].splitlines()] == ["S300"]
    assert [line.split()[1] for line in run(capsys, "--extend-select", "S200", "a.scopes")[1].splitlines()] == ["S102", "S200"]


def test_per_file_ignores_relative_to_the_pyproject(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.scopes]\nextend-select = []\n[tool.scopes.per-file-ignores]\n'
        '"fixtures/**" = ["S1"]\n"*.scopes" = ["S300"]\n')
    (tmp_path / "fixtures" / "deep").mkdir(parents=True)
    (tmp_path / "fixtures" / "deep" / "a.scopes").write_text("read:brand inbox:read:messages read:brands read:brands\n")
    (tmp_path / "b.scopes").write_text("read:brand inbox:read:messages\n")
    code, out, _ = run(capsys, ".")
    assert (code, out) == (1, "b.scopes:1:1: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n"
                              "fixtures/deep/a.scopes:1:44: S200 duplicate scope 'read:brands'\n")
    monkeypatch.chdir(tmp_path / "fixtures")  # patterns stay relative to the pyproject.toml
    assert run(capsys, "deep/a.scopes")[1] == "deep/a.scopes:1:44: S200 duplicate scope 'read:brands'\n"


def test_noqa_on_the_command_line(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("- scope: read:brand  # scopes: noqa: S102\n- scope: read:brand\n")
    code, out, _ = run(capsys, "a.yaml")
    assert (code, out) == (1, "a.yaml:2:10: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n")


def test_exit_zero(tmp_path, capsys):
    assert run(capsys, "--exit-zero", "--scope", "read:brand")[0] == 0
    assert run(capsys, "--exit-zero", "missing.json")[0] == 2  # a usage error stays one


def test_statistics(tmp_path, capsys):
    (tmp_path / "a.scopes").write_text("read:brand read:brands read:brands\nread:brand\nuser_id:x\n")
    code, out, err = run(capsys, "--statistics", "a.scopes")
    assert (code, err) == (1, "")
    assert out == (
        "2\tS102\t[ ] unknown scope, with a did-you-mean from the catalogue\n"
        "1\tS200\t[*] duplicate scope\n"
        "1\tS203\t[ ] a principal alone grants nothing\n"
    )
    code, out, _ = run(capsys, "--statistics", "--format", "json", "a.scopes")
    assert json.loads(out)[:2] == [
        {"code": "S102", "severity": "error", "meaning": "unknown scope, with a did-you-mean from the catalogue",
         "count": 2, "fixable": False},
        {"code": "S200", "severity": "warning", "meaning": "duplicate scope", "count": 1, "fixable": True},
    ]


def test_quiet_prints_the_findings_only(tmp_path, capsys):
    (tmp_path / "a.toml").write_text('scope = "read:brands  read:brand"\n')
    code, out, err = run(capsys, "-q", "--fix", "a.toml")
    assert (code, out, err) == (1, "a.toml:1:22: S102 unknown scope 'read:brand'; did you mean 'read:brands'?\n", "")


def test_diff_previews_fix_and_changes_nothing(tmp_path, capsys):
    before = '[client]\nscope = "user_id:x  READ:BRANDS read:brands:acme"  # web\nother = 1\n'
    (tmp_path / "a.toml").write_text(before)
    (tmp_path / "clean.scopes").write_text("read:brands\n")
    code, out, err = run(capsys, "--diff", "a.toml", "clean.scopes", "--scope", "read:brand  read:brand")
    assert (tmp_path / "a.toml").read_text() == before
    assert out == (
        "--- <scope>\n+++ <scope>\n@@ -1 +1 @@\n-read:brand  read:brand\n\\ No newline at end of file\n"
        "+read:brand\n\\ No newline at end of file\n"
        "--- a.toml\n+++ a.toml\n@@ -1,3 +1,3 @@\n [client]\n"
        '-scope = "user_id:x  READ:BRANDS read:brands:acme"  # web\n'
        '+scope = "user_id:x read:brands"  # web\n'
        " other = 1\n"
    )
    assert err == "scopes lint: --fix would fix 2 scope string(s)\n"
    assert code == 1
    assert run(capsys, "--diff", "clean.scopes") == (0, "", "scopes lint: nothing to fix\n")
    assert run(capsys, "--diff", "-q", "--exit-zero", "a.toml")[::2] == (0, "")


def test_diff_applies_only_the_selected_fixes(tmp_path, capsys):
    (tmp_path / "a.scopes").write_text("read:brands  read:brands\n")
    code, out, _ = run(capsys, "--diff", "--ignore", "S202", "a.scopes")
    assert out.splitlines()[-2:] == ["-read:brands  read:brands", "+read:brands"]  # the duplicate's fix
    code, out, _ = run(capsys, "--diff", "--ignore", "S200", "a.scopes")
    assert out.splitlines()[-2:] == ["-read:brands  read:brands", "+read:brands read:brands"]


MORE_USAGE = [
    pytest.param(["--select", "S9", "--scope", "x"], "--select: 'S9' is not a code or a code prefix", id="bad-select"),
    pytest.param(["--ignore", "E501", "--scope", "x"], "--ignore: 'E501' is not a code", id="bad-ignore"),
    pytest.param(["-", "-"], "standard input (-) can be read once", id="stdin-twice"),
    pytest.param(["--stdin-filename", "a.json", "a.json"], "--stdin-filename names standard input", id="stdin-filename-without-dash"),
    pytest.param(["--stdin-filename", "a.txt", "-"], "scopes lint: a.txt: --stdin-filename decides the format", id="stdin-filename-unknown-format"),
    pytest.param(["--diff", "--format", "json", "--scope", "x"], "--diff prints a unified diff", id="diff-with-format"),
    pytest.param(["--statistics", "--format", "sarif", "--scope", "x"], "--statistics prints text or json", id="statistics-sarif"),
]


@pytest.mark.parametrize(("argv", "message"), MORE_USAGE)
def test_more_usage_errors(capsys, stdin, argv, message):
    stdin("read:brands\n")
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


BAD_SELECTION_CONFIG = [
    pytest.param('select = "S1"', "[tool.scopes] select must be a list of codes", id="not-a-list"),
    pytest.param('ignore = ["S9"]', "[tool.scopes] ignore: 'S9' is not a code or a code prefix", id="unknown-code"),
    pytest.param('per-file-ignores = ["x"]', "per-file-ignores must be a table", id="pfi-not-a-table"),
    pytest.param('per-file-ignores = {"x" = "S1"}', "per-file-ignores 'x' must be a list", id="pfi-codes-not-a-list"),
    pytest.param('per-file-ignores = {"x" = ["S9"]}', "per-file-ignores 'x': 'S9' is not a code", id="pfi-unknown-code"),
    pytest.param('per-file-ignores = {"\\\\" = ["S1"]}', "patterns are written as in .gitignore", id="pfi-bad-pattern"),
]


@pytest.mark.parametrize(("line", "message"), BAD_SELECTION_CONFIG)
def test_bad_selection_config_is_a_usage_error(tmp_path, capsys, line, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.scopes]\n{line}\n")
    code, out, err = run(capsys, "--scope", "read:brands")
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err
