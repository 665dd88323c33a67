"""No traceback anywhere a user can reach: every subcommand, given missing, unreadable or
malformed input, or an output it cannot write, says what is wrong in plain words and exits
with the documented code (2: usage, unreadable or broken input; 1: denied, lint errors)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FILES = {
    "not-json.json": '{"scope": ',
    "not-toml.toml": "[[routes]\nmethod = ",
    "wrong-shape.toml": '[[route]]\nmethod = "GET"\n',
    "empty.toml": "",
    "binary.json": b"\xff\xfe\x00garbage",
    "a-file": "just text\n",
    "jwks.json": '{"keys": "none"}',
    "good.json": '{"scope": "read:brands"}',
    "spec.yaml": (
        'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get:\n'
        '      security: [{bearer: []}]\n      responses: {"200": {description: ok}}\n'
        "components:\n  securitySchemes:\n    bearer: {type: http, scheme: bearer}\n"
    ),
}

# (arguments, exit code, words the message must contain); {tmp} is the directory of FILES.
CASES = [
    # a policy that cannot be used, for every command that reads one
    (["check", "GET", "/brands", "--scope", "read:brands", "--policy", "{tmp}/missing.toml"], 2,
     "policy file not found"),
    (["check", "GET", "/brands", "--scope", "read:brands", "--policy", "{tmp}"], 2,
     "policy path is a directory"),
    (["check", "GET", "/brands", "--scope", "read:brands", "--policy", "{tmp}/not-toml.toml"], 2,
     "invalid TOML"),
    (["explain", "GET", "/brands", "--scope", "read:brands", "--policy",
      "{tmp}/wrong-shape.toml"], 2, "unknown key 'route'"),
    (["routes", "--policy", "{tmp}/binary.json"], 2, "cannot load policy"),
    (["lint", "--policy", "{tmp}/not-toml.toml", "{tmp}/good.json"], 2, "invalid TOML"),
    (["clients", "create", "--scope", "read:brands", "--policy", "{tmp}/not-toml.toml",
      "--db", "{tmp}/c.db"], 2, "invalid TOML"),
    (["serve", "--policy", "{tmp}/not-toml.toml", "--db", "{tmp}/s.db"], 2, "invalid TOML"),
    # inputs of check
    (["check", "GET", "/brands", "--token", "x", "--jwks", "{tmp}/missing.json"], 2,
     "cannot read: No such file or directory"),
    (["check", "GET", "/brands", "--token", "x", "--jwks", "{tmp}/jwks.json"], 2,
     "'keys' must be a list of JWKs"),
    (["check", "GET", "/brands", "--token", "x"], 2, "--token needs --jwks"),
    (["check", "POST", "/client/q", "--scope", "read:brands", "--body", "@{tmp}/missing"], 2,
     "cannot read body file"),
    (["check", "POST", "/client/q", "--scope", "read:brands", "--body", "@{tmp}/binary.json"], 2,
     "is not UTF-8 text"),
    (["check", "GET", "/brands", "--scope", "read:brands:"], 1, "denied"),
    (["check", "get", "/brands", "--scope", "read:brands"], 1, "did you mean 'GET'?"),
    # lint inputs
    (["lint", "{tmp}/missing.json"], 2, "no such file"),
    (["lint", "{tmp}/not-json.json"], 2, "not-json.json:1:11: invalid JSON"),
    (["lint", "{tmp}/binary.json"], 2, "binary.json: not UTF-8"),
    # analysis and policy tests
    (["minimal", "GET /brands/x", "--policy", "{tmp}/not-toml.toml"], 2, "invalid TOML"),
    (["minimal", "nonsense"], 2, "a call is 'METHOD /path'"),
    (["minimal", "--from-log", "{tmp}/missing.jsonl"], 2,
     "cannot read decision log {tmp}/missing.jsonl: No such file or directory"),
    (["can", "--scope", "read:brands", "--policy", "{tmp}/wrong-shape.toml"], 2,
     "unknown key 'route'"),
    (["can", "--scope", "read:brands::"], 2, "--scope is not a scope string"),
    (["test", "{tmp}/missing.toml"], 2, "no such file or directory"),
    (["test", "{tmp}/not-toml.toml"], 2, "does not load: invalid TOML"),
    (["test", "{tmp}/a-file"], 2, "does not load: invalid TOML"),
    # the registry and the keys
    (["clients", "list", "--db", "{tmp}/a-file"], 2, "file is not a database"),
    (["clients", "show", "cl_x", "--db", "{tmp}/none.db"], 2, "no client store at"),
    (["clients", "revoke", "cl_x", "--db", "{tmp}/none.db"], 2, "no client store at"),
    (["clients", "create", "--scope", "read:brands", "--db", "{tmp}/typo/c.db"], 2,
     "does not exist; create it first"),
    (["clients", "create", "--scope", "read:brandz", "--db", "{tmp}/c.db"], 2,
     "did you mean 'read:brands'?"),
    (["clients", "create", "--scope", "read:brands", "--lifetime", "soon", "--db",
      "{tmp}/c.db"], 2, "invalid duration 'soon'"),
    (["keys", "list", "--keys", "{tmp}/a-file"], 2, "cannot open the key directory"),
    (["keys", "rotate", "--keys", "{tmp}/a-file"], 2, "exists and is not a directory"),
    (["serve", "--keys", "{tmp}/a-file", "--db", "{tmp}/s.db"], 2,
     "exists and is not a directory"),
    (["serve", "--authz-only", "--jwks", "{tmp}/jwks.json", "--audience", "x"], 2,
     "cannot load --jwks"),
    (["serve", "--rate-limit", "lots"], 2, "must look like '20/s'"),
    # import-openapi: the document, and where the policy goes
    (["import-openapi", "{tmp}/missing.yaml"], 2, "missing.yaml: file not found"),
    (["import-openapi", "{tmp}/not-json.json"], 2, "not-json.json:1: invalid JSON"),
    (["import-openapi", "{tmp}/binary.json"], 2, "binary.json: the file is not UTF-8"),
    (["import-openapi", "{tmp}/a-file"], 2, "an OpenAPI document is a mapping at the top"),
    (["import-openapi", "{tmp}"], 2, "is a directory"),
    (["import-openapi", "{tmp}/spec.yaml", "--scheme-scope", "nope=x"], 2,
     "--scheme-scope names 'nope', which is no security scheme"),
    (["import-openapi", "{tmp}/spec.yaml", "-o", "{tmp}/typo/policy.toml"], 2, "cannot write"),
    # diff: either side, policy or document
    (["diff", "{tmp}/missing.toml", "{tmp}/empty.toml"], 2, "missing.toml: file not found"),
    (["diff", "{tmp}/empty.toml", "{tmp}/not-toml.toml"], 2, "invalid TOML"),
    (["diff", "{tmp}/wrong-shape.toml", "{tmp}/empty.toml"], 2, "unknown key 'route'"),
    (["diff", "{tmp}/empty.toml", "{tmp}/binary.json"], 2, "binary.json: the file is not UTF-8"),
    (["diff", "{tmp}/not-json.json", "{tmp}/empty.toml"], 2, "not-json.json:1: invalid JSON"),
    (["diff", "{tmp}", "{tmp}/empty.toml"], 2, "is a directory"),
    (["diff", "--format", "xml", "{tmp}/empty.toml", "{tmp}/empty.toml"], 2,
     "Invalid value for '--format'"),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("inputs")
    for name, content in FILES.items():
        path = tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tmp


def _run(args: list[str], cwd: Path, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scopes", *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=60, check=False,
                          env={**os.environ, "SCOPES_KEYS": str(cwd / "default-keys")})


@pytest.mark.parametrize(("args", "code", "words"), CASES,
                         ids=[" ".join(case[0][:3]) + f"-{n}" for n, case in enumerate(CASES)])
def test_every_subcommand_says_what_is_wrong_without_a_traceback(inputs, args, code, words):
    done = _run([arg.replace("{tmp}", str(inputs)) for arg in args], inputs)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == code, output
    assert words.replace("{tmp}", str(inputs)) in output, output
    assert not (inputs / "typo").exists() and not (inputs / "none.db").exists()


@pytest.mark.parametrize("args", [
    ["--help"], ["--version"], ["routes"], ["schema"],
    ["check", "GET", "/brands/acme", "--scope", "read:brands"],
    ["check", "GET", "/brands/acme", "--scope", "read:brands", "--json"],
    ["explain", "GET", "/brands/acme", "--scope", "read:lists"],
    ["lint", "--format", "json", "{tmp}/not-json.json"],
    ["lint", "--format", "sarif", "{tmp}/good.json"],
    ["keys", "list", "--keys", "{tmp}/ring"],
    ["import-openapi", "{tmp}/spec.yaml"],
    ["diff", "{tmp}/spec.yaml", "{tmp}/empty.toml"],
    ["diff", "--format", "json", "{tmp}/spec.yaml", "{tmp}/empty.toml"],
    ["minimal", "GET /brands/acme"],
    ["can", "--scope", "read:brands"],
    ["test", "{tmp}/courier.toml"],
], ids=lambda args: " ".join(args[:2]))
def test_output_to_a_full_disk_is_a_message_not_a_traceback(inputs, args):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    if "keys" in args:
        _run(["keys", "rotate", "--keys", str(inputs / "ring")], inputs)
    if "test" in args:
        shutil.copy(Path(__file__).parent.parent / "scopes" / "policy" / "courier.toml",
                    inputs / "courier.toml")
    with open("/dev/full", "w") as full:
        done = _run([arg.replace("{tmp}", str(inputs)) for arg in args], inputs, stdout=full)
    assert "Traceback" not in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    assert "scopes: cannot write the output: No space left on device" in done.stderr
