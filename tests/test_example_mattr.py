"""examples/mattr stays true: its policy is what importing its OpenAPI document gives, byte for
byte, and its README's walkthrough prints what it shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from scopes import Policy
from scopes.cli import main

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
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    session = re.search(r"```console\n(.+?)```", readme, re.DOTALL).group(1)
    commands = [line[2:] for line in session.splitlines() if line.startswith("$ ")]
    expected = "".join(line + "\n" for line in session.splitlines() if not line.startswith("$ "))
    shutil.copy(EXAMPLE / "openapi.yaml", tmp_path / "openapi.yaml")  # import writes policy.toml
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", "exec 2>&1\n" + "\n".join(commands)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout == expected
    assert (tmp_path / "policy.toml").read_bytes() == (EXAMPLE / "policy.toml").read_bytes()
