"""The `scopes` command, called through main() on real files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scopes.cli import main

CHECKS = [
    pytest.param(["--scope", "read:brands", "GET", "/brands"], 0,
                 "allowed: GET /brands matches GET /brands; granted by read:brands\n", id="allowed"),
    pytest.param(["--scope", "read:brands:abc", "GET", "/brands/xyz"], 1,
                 "denied: GET /brands/xyz needs read:brands or read:brands:xyz; "
                 "the token has read:brands:abc\n", id="denied"),
    pytest.param(["--scope", "read::x", "GET", "/brands"], 1,
                 "denied: GET /brands: the token's scopes are malformed: empty segment after ':' "
                 "(at offset 5)\n", id="malformed-scope-is-a-deny"),
    pytest.param(["--scope", "read:messages user_id:u", "POST", "/client/q", "--body",
                  '{"query": "{ messages { id } }"}'], 0,
                 "allowed: POST /client/q matches POST /client/q; granted by read:messages\n",
                 id="graphql-body"),
]


@pytest.mark.parametrize(("args", "code", "out"), CHECKS)
def test_check(args, code, out, capsys):
    assert main(["check", *args]) == code
    assert capsys.readouterr().out == out


def test_check_json_has_the_same_exit_code(capsys):
    assert main(["check", "--json", "--scope", "read:brands:abc", "GET", "/brands/xyz"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["allowed"] is False
    assert result["reason"].startswith("denied: GET /brands/xyz needs")
    assert result["missing"] == "read:brands:xyz"


def test_check_body_from_file(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text('{"query": "{ messages { id } }"}')
    assert main(["check", "--scope", "read:messages", "POST", "/client/q", "--body", f"@{body}"]) == 1
    assert "needs read:messages + any user_id:<id>" in capsys.readouterr().out


USAGE = [
    pytest.param(["check", "GET", "/brands"], "give exactly one of --scope S or --token T",
                 id="no-scope"),
    pytest.param(["check", "--token", "x", "GET", "/brands"], "--token needs --jwks FILE|URL",
                 id="token-without-jwks"),
    pytest.param(["check", "--scope", "x", "--jwks", "k.json", "GET", "/"],
                 "--jwks, --audience and --issuer go with --token", id="jwks-without-token"),
    pytest.param(["check", "--scope", "x", "GET"], "Missing argument 'PATH'", id="no-path"),
    pytest.param(["check", "--scope", "x", "GET", "/", "--policy", "/does/not/exist.toml"],
                 "cannot load policy:\n/does/not/exist.toml: policy file not found", id="no-policy"),
    pytest.param(["check", "--scope", "x", "GET", "/", "--body", "@/does/not/exist"],
                 "cannot read body file '/does/not/exist'", id="no-body-file"),
    pytest.param(["nope"], "No such command 'nope'", id="unknown-command"),
]


@pytest.mark.parametrize(("args", "message"), USAGE)
def test_usage_errors_exit_2_without_traceback(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_broken_policy_exits_2_with_location(tmp_path, capsys):
    policy = tmp_path / "p.toml"
    policy.write_text('[[endpoints]]\nmethods = ["GET"]\npath = "/x"\nany_of = ["read:nope"]\n')
    for command in (["check", "--scope", "x", "GET", "/x"], ["routes"], ["explain", "--scope", "x", "GET", "/"]):
        assert main([*command, "--policy", str(policy)]) == 2
        err = capsys.readouterr().err
        assert f"{policy}:4: endpoints[0]: unknown scope 'read:nope'" in err


def test_explain(capsys):
    assert main(["explain", "--scope", "user_id:u1 read:preferences", "GET", "/users/u2/preferences"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "DENIED (insufficient-scope)"
    assert "  fix:     add user_id:u2" in out


def test_routes(tmp_path, capsys):
    assert main(["routes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 16
    assert lines[3].split() == ["GET", "/brands/{id}", "read:brands", "|", "read:brands:{id}"]
    assert main(["routes", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert {"method": "GET", "path": "/brands", "any_of": ["read:brands"]} in table


def test_routes_json_flags_authenticated_and_public_rows(tmp_path, capsys):
    """`any_of` holds scope strings: `authenticated = true` is the empty one, which every token
    meets, never display words a reader could take for scopes."""
    policy = tmp_path / "policy.toml"
    policy.write_text('version = 1\n[scopes.admin]\n'
                      '[[endpoints]]\nmethods = ["GET"]\npath = "/me"\nauthenticated = true\n'
                      '[[endpoints]]\nmethods = ["GET"]\npath = "/health"\npublic = true\n'
                      '[[endpoints]]\nmethods = ["GET"]\npath = "/admin"\nany_of = ["admin"]\n')
    assert main(["routes", "--policy", str(policy)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "GET     /me      any valid token", "GET     /health  (public)", "GET     /admin   admin"]
    assert main(["routes", "--json", "--policy", str(policy)]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"method": "GET", "path": "/me", "any_of": [""], "authenticated": True},
        {"method": "GET", "path": "/health", "any_of": [], "public": True},
        {"method": "GET", "path": "/admin", "any_of": ["admin"]},
    ]


def test_help_and_module_entry_point():
    assert main(["--help"]) == 0
    done = subprocess.run([sys.executable, "-m", "scopes", "check", "--scope", "read:brands", "GET", "/brands"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("allowed:")


_WITHOUT_GRAPHQL = """
import sys
sys.modules["graphql"] = None  # graphql-core not installed: `import graphql` raises ImportError
from scopes.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["check", "explain"])
def test_a_graphql_route_without_graphql_core_is_a_usage_error_that_says_what_to_install(command):
    args = [command, "--scope", "read:messages user_id:u", "POST", "/client/q",
            "--body", '{"query": "{ messages { id } }"}']
    done = subprocess.run([sys.executable, "-c", _WITHOUT_GRAPHQL, *args],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "Error: POST /client/q is a GraphQL route, decided by the request body, and GraphQL "
        "support is not installed: pip install 'scopes-policy[graphql]'\n"
    )
    # Other routes are decided as ever.
    rest = subprocess.run([sys.executable, "-c", _WITHOUT_GRAPHQL, "check", "--scope",
                           "read:brands", "GET", "/brands"], capture_output=True, text=True, timeout=60)
    assert (rest.returncode, rest.stdout) == (0, "allowed: GET /brands matches GET /brands; granted by read:brands\n")


def _completion_lines() -> list[str]:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```sh\n(.+?)```", readme, re.S) if "_SCOPES_COMPLETE" in b]
    return block.splitlines()


@pytest.mark.parametrize(("shell", "marker"), [
    pytest.param("bash", "complete -o nosort -F _scopes_completion scopes", id="bash"),
    pytest.param("zsh", "#compdef scopes", id="zsh"),
    pytest.param("fish", "complete --no-files --command scopes", id="fish"),
])
def test_the_documented_completion_scripts_are_produced(shell, marker):
    import os
    import shutil

    [line] = [line for line in _completion_lines() if f"={shell}_source" in line]
    assert f"_SCOPES_COMPLETE={shell}_source scopes" in line
    scopes = shutil.which("scopes", path=os.path.dirname(sys.executable)) or shutil.which("scopes")
    done = subprocess.run([scopes], env={**os.environ, "_SCOPES_COMPLETE": f"{shell}_source"},
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert marker in done.stdout


def test_completion_completes_commands_and_choices():
    import os

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_SCOPES_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        done = subprocess.run([sys.executable, "-m", "scopes"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("scopes li") == ["plain,lint"]
    assert complete("scopes lint --format ") == ["plain,text", "plain,json", "plain,github", "plain,sarif"]


def test_a_lower_case_method_is_denied_with_the_method_it_likely_meant(capsys):
    assert main(["check", "--scope", "read:brands", "get", "/brands"]) == 1
    out = capsys.readouterr().out
    assert out == ("denied: get /brands: the policy allows only DELETE, GET, PUT on this path; "
                   "methods are case-sensitive: did you mean 'GET'?\n")
