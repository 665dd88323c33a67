"""examples/mattr stays true: its policy is what importing its OpenAPI document gives, byte for
byte, and its README's walkthrough prints what it shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from scopes import Policy
from scopes.cli import main
from tests.test_docs_examples import _run, _steps

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mattr"
MAPPING = "bearerAuthOpenIdCredentials=openid-credentials"


def test_the_checked_in_policy_is_the_imported_one(tmp_path):
    shutil.copy(EXAMPLE / "openapi.yaml", tmp_path / "openapi.yaml")
    out = tmp_path / "policy.toml"
    assert main(["import-openapi", str(tmp_path / "openapi.yaml"), "--scheme-scope", MAPPING,
                 "-o", str(out)]) == 0
    assert out.read_bytes() == (EXAMPLE / "policy.toml").read_bytes()


def test_the_policy_needs_the_mapped_scope_on_every_offer_route():
    policy = Policy.from_file(EXAMPLE / "policy.toml")
    assert [(r.rule, [a.text for a in r.alternatives]) for r in policy.routes] == [
        ("POST /v1/openid/offers", ["openid-credentials"]),
        ("POST /v1/openid/offers/pre-authorized", ["openid-credentials"]),
        ("DELETE /v1/openid/offers/pre-authorized/{id}", ["openid-credentials"]),
    ]


def test_the_readme_walkthrough_prints_what_it_shows(tmp_path):
    """Its console block, run from a copy of this directory as tests/test_docs_examples.py runs
    the docs' blocks: each command prints what it shows, `echo $?` the status before it."""
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    body = re.search(r"```console\n(.+?)```", readme, re.DOTALL).group(1)
    shutil.copy(EXAMPLE / "openapi.yaml", tmp_path / "openapi.yaml")  # import writes policy.toml
    status = 0
    for command, shown in _steps(body):
        if command == "echo $?":
            assert shown == [str(status)]
            continue
        status, printed = _run(command, tmp_path)
        assert printed == shown, f"$ {command}"
    assert (tmp_path / "policy.toml").read_bytes() == (EXAMPLE / "policy.toml").read_bytes()
