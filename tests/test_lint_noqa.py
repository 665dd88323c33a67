"""`# scopes: noqa` directives: where they are read, what they suppress, on which line."""

from __future__ import annotations

import textwrap

import pytest

from scopes.lint.files import lint_file, lint_text
from scopes.lint.noqa import directives, strip_directive
from scopes.lint.rules import rules_for

RULES = rules_for()
KEYS = ("scope", "scopes")

DIRECTIVES = [
    pytest.param("a: x  # scopes: noqa: S102", "yaml", {1: {"S102"}}, id="yaml-one-code"),
    pytest.param("a: x # scopes: noqa: S102, S200 s300", "yaml", {1: {"S102", "S200", "S300"}},
                 id="commas-spaces-and-case"),
    pytest.param("a: x  # SCOPES: NOQA", "yaml", {1: None}, id="bare-is-every-code"),
    pytest.param("a: x#scopes: noqa", "yaml", {}, id="yaml-needs-space-before-hash"),
    pytest.param('a = "x"# scopes: noqa', "toml", {1: None}, id="toml-needs-none"),
    pytest.param("a: x  # scopes: noqa-like", "yaml", {}, id="a-longer-word-is-no-directive"),
    pytest.param("a: x  # noqa: S102", "yaml", {}, id="flake8-noqa-is-not-ours"),
    pytest.param('{"scope": "x"}  # scopes: noqa', "json", {}, id="json-has-no-comments"),
    pytest.param("read:brand  # scopes: noqa", "scopes", {1: None}, id="scopes-trailing"),
    pytest.param("read:brand#scopes:noqa", "scopes", {}, id="scopes-needs-space-before-hash"),
    pytest.param("a\nb\n  c  # scopes: noqa: S200\n", "yaml", {3: {"S200"}}, id="line-numbers"),
]


@pytest.mark.parametrize(("text", "fmt", "expected"), DIRECTIVES)
def test_directives(text, fmt, expected):
    assert directives(text, fmt) == {k: None if v is None else frozenset(v) for k, v in expected.items()}


@pytest.mark.parametrize(("line", "expected"), [
    pytest.param("read:brand  # scopes: noqa: S102", "read:brand", id="directive-and-spaces-go"),
    pytest.param("read:brand # x", "read:brand # x", id="other-text-stays"),
    pytest.param("read:brand#scopes: noqa", "read:brand#scopes: noqa", id="no-space-no-directive"),
    pytest.param("  # scopes: noqa", "", id="only-a-directive"),
])
def test_strip_directive(line, expected):
    assert strip_directive(line) == expected


def codes(path: str, text: str) -> list[tuple[int, str]]:
    return [(f.line, f.diagnostic.code) for f in lint_text(path, textwrap.dedent(text), RULES, KEYS)]


def test_yaml_directive_suppresses_its_codes_on_its_line_only():
    text = """\
    - scope: read:brand read:brand  # scopes: noqa: S102
    - scope: read:brand             # scopes: noqa
    - scope: read:brand
    - scope: >-
        read:brand   # scopes: noqa
    """
    # Line 1 keeps its duplicate. In the block scalar, line 5's "# scopes: noqa" is text of the
    # value (its `scopes:` an empty segment), and the finding is placed at the value's start.
    assert codes("a.yaml", text) == [(1, "S200"), (3, "S102"), (4, "S100")]


def test_toml_directive():
    text = """\
    scope = "read:brand"  # scopes: noqa: S102
    scopes = ["read:brand", "read:brands"]  # scopes: noqa: S200
    """
    assert codes("a.toml", text) == [(2, "S102")]


def test_scopes_file_directive_is_a_comment_not_part_of_the_string():
    text = """\
    read:brand  # scopes: noqa: S102
    user_id:x read:messages read:messages  # scopes: noqa: S102
    read:brand # scopes: noqa
    """
    # Without the directive cut off, line 1 would be three tokens and a syntax error.
    assert codes("a.scopes", text) == [(2, "S200")]


def test_json_cannot_suppress():
    assert codes("a.json", '{"scope": "read:brand"}') == [(1, "S102")]


def test_policy_file_findings_are_suppressed_on_their_line():
    text = """\
    [scopes."read:brands"]
    [scopes."old"]  # scopes: noqa: S401
    [[endpoints]]
    methods = ["GET"]
    path = "/brands"
    any_of = ["read:brands read:brands"]  # scopes: noqa: S200
    """
    assert codes("policy.toml", text) == []


def test_a_suppressed_finding_is_not_fixed(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a:\n  scope: read:brands  read:brands  # scopes: noqa: S200\n")
    report = lint_file(str(path), RULES, KEYS, fix=True)
    # The duplicate stays (suppressed); the spacing, not suppressed, is fixed.
    assert path.read_text() == "a:\n  scope: read:brands read:brands  # scopes: noqa: S200\n"
    assert (report.fixed, report.findings) == (1, [])
