"""Scope strings in files: exact line:col per format, lists, fixes in place, policy files, config."""

from __future__ import annotations

import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopes import Policy, PolicyError
from scopes.lint.config import ConfigError, LintConfig, find_config
from scopes.lint.files import lint_file, lint_text
from scopes.lint.rules import rules_for
from scopes.lint.sources import SourceError

RULES = rules_for()
KEYS = ("scope", "scopes")


def placed(path: str, text: str, keys=KEYS) -> list[tuple[int, int, str]]:
    return [(f.line, f.column, f.diagnostic.code) for f in lint_text(path, textwrap.dedent(text), RULES, keys)]


# -- line and column, per format -------------------------------------------------------------------

def test_json_line_and_column():
    text = """\
    {
      "clients": [
        {"name": "web", "scope": "read:brand user_id:x"},
        {"scopes": ["user_id:x", "read:messages", "read:messages"]},
        {"scope": "user_id:x read:brands\\tx"},
        {"scope": "user_id:x \\u0072ead:brand"}
      ],
      "expires_in": "3600"
    }
    """
    assert placed("a.json", text) == [
        (3, 31, "S102"),
        (4, 48, "S200"),
        (5, 37, "S100"),  # the escape `\t` itself
        (6, 26, "S102"),  # `\u0072` spells the token's first character
        (8, 18, "S501"),
    ]


def test_yaml_line_and_column():
    pytest.importorskip("yaml")
    text = """\
    # a comment
    clients:
      - name: web
        scope: read:brand user_id:x
      - scopes:
          - user_id:x
          - "read:messages  read:brand"
        expires_in: 0
      - scope: 'user_id:x READ:BRANDS'
      - scope: >-
          user_id:x
          read:brand
    ---
    scope: read:messages
    """
    assert placed("a.yaml", text) == [
        (4, 12, "S102"),
        (7, 23, "S202"),
        (7, 25, "S102"),
        (8, 17, "S502"),
        (9, 23, "S102"),
        (10, 12, "S102"),  # folded text: the whole value, from its indicator
        (14, 8, "S105"),
    ]


def test_toml_line_and_column():
    text = """\
    [client]
    scope = "read:brand user_id:x"
    expires_in = "2 dayz"

    [[tokens]]
    scopes = ["user_id:x", 'read:messages', \"\"\"READ:BRANDS\"\"\"]

    [[tokens]]
    "scope" = "user_id:x read:brands  read:brands"
    inline = { scope = "user_id:<user-id> read:messages" }
    dotted.scope = 'user_id:x read:brand'
    """
    assert placed("a.toml", text) == [
        (2, 10, "S102"),
        (3, 15, "S500"),
        (6, 44, "S102"),
        (9, 33, "S202"),
        (9, 35, "S200"),
        (10, 21, "S204"),
        (11, 27, "S102"),
    ]


def test_scopes_file_line_and_column():
    text = "# tokens\n\nread:brands user_id:x\n  read:brand\n#read:brand\nuser_id:x read:messages read:messages\r\n"
    assert placed("a.scopes", text) == [(4, 1, "S202"), (4, 3, "S102"), (6, 25, "S200")]


def test_columns_count_characters_not_bytes():
    assert placed("a.json", '{"ñame": "ü", "scope": "read:brand"}') == [(1, 25, "S102")]
    assert placed("a.scopes", "read:brands 😀\n") == [(1, 13, "S100")]


def test_empty_string_points_at_the_closing_quote():
    assert placed("a.json", '{"scope": ""}') == [(1, 12, "S101")]


def test_configured_keys():
    text = '{"permissions": "read:brand", "scope": "read:brand"}'
    assert placed("a.json", text, keys=("permissions",)) == [(1, 18, "S102")]


def test_values_that_are_not_strings_are_ignored():
    assert placed("a.json", '{"scope": 3, "scopes": [null, {"a": 1}], "other": "read:brand"}') == []


def test_a_file_without_the_keys_is_not_parsed():
    assert placed("tsconfig.json", "{ // comments are not JSON\n}") == []


# -- unreadable files ---------------------------------------------------------------------------------

BROKEN = [
    pytest.param("a.json", '{"scope": "x",}', "invalid JSON: Expecting property name enclosed in double quotes", 1, 15, id="json"),
    pytest.param("a.toml", 'scope = "x\n', "invalid TOML: Illegal character '\\n' (at line 1, column 11)", 1, 11, id="toml"),
    pytest.param("a.yaml", "scope: [x\n", "invalid YAML: ", 2, 1, id="yaml"),
]


@pytest.mark.parametrize(("name", "text", "message", "line", "column"), BROKEN)
def test_a_file_that_does_not_parse_is_a_source_error(name, text, message, line, column):
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    with pytest.raises(SourceError) as caught:
        lint_text(name, text, RULES, KEYS)
    assert caught.value.message.startswith(message)  # PyYAML's C and Python parsers word it apart
    assert (caught.value.line, caught.value.column) == (line, column)
    if not name.endswith(".yaml"):
        assert caught.value.message == message


def test_unknown_file_type_is_a_source_error():
    with pytest.raises(SourceError, match="cannot tell the format of this file; name it .json, .scopes, .toml, .yaml, .yml"):
        lint_text("a.txt", "read:brands", RULES, KEYS)


def test_yaml_without_pyyaml_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now raises ImportError
    with pytest.raises(SourceError, match=r"reading YAML needs PyYAML: pip install 'scopes-policy\[yaml\]'"):
        lint_text("a.yaml", "scope: read:brands\n", RULES, KEYS)


def test_unreadable_files(tmp_path):
    (tmp_path / "latin1.json").write_bytes(b'{"scope": "\xe9"}')
    with pytest.raises(SourceError, match="not UTF-8"):
        lint_file(str(tmp_path / "latin1.json"), RULES, KEYS)
    with pytest.raises(SourceError, match="no such file"):
        lint_file(str(tmp_path / "missing.json"), RULES, KEYS)


# -- fixing in place -------------------------------------------------------------------------------------

FIXES = [
    pytest.param(
        "a.json",
        '{\n  "scope": "READ:BRANDS  read:brands:x",\n  "scopes": ["user_id:x", "read:messages read:messages"],\n  "x": "read:brands read:brands"\n}\n',
        '{\n  "scope": "read:brands",\n  "scopes": ["user_id:x", "read:messages"],\n  "x": "read:brands read:brands"\n}\n',
        2,
        id="json",
    ),
    pytest.param(
        "a.yaml",
        "# keep me\nscope: read:brands  read:brands   # and me\nlist:\n  - scopes: ['READ:BRANDS', \"user_id:x  \"]\n",
        "# keep me\nscope: read:brands   # and me\nlist:\n  - scopes: ['read:brands', \"user_id:x\"]\n",
        3,
        id="yaml",
    ),
    pytest.param(
        "a.toml",
        '# keep\nscope = "read:brands  read:brands" # me\n[t]\nscopes = [\'READ:BRANDS\', "user_id:x  user_id:x"]\n',
        '# keep\nscope = "read:brands" # me\n[t]\nscopes = [\'read:brands\', "user_id:x"]\n',
        3,
        id="toml",
    ),
    pytest.param(
        "a.scopes",
        "# keep\r\n  read:brands  read:brands\r\n\r\nread:brand\r\n",
        "# keep\r\nread:brands\r\n\r\nread:brand\r\n",
        1,
        id="scopes-crlf",
    ),
]


@pytest.mark.parametrize(("name", "before", "after", "count"), FIXES)
def test_fix_rewrites_strings_in_place_and_keeps_the_rest(tmp_path, name, before, after, count):
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    path = tmp_path / name
    path.write_bytes(before.encode())
    report = lint_file(str(path), RULES, KEYS, fix=True)
    assert path.read_bytes().decode() == after
    assert report.fixed == count
    assert not [f for f in report.findings if f.diagnostic.fix is not None and f.diagnostic.code != "S200"]
    again = lint_file(str(path), RULES, KEYS, fix=True)
    assert again.fixed == 0 and path.read_bytes().decode() == after


def test_fix_keeps_a_byte_order_mark(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'\xef\xbb\xbf{"scope": "read:brands read:brands"}')
    lint_file(str(path), RULES, KEYS, fix=True)
    assert path.read_bytes() == b'\xef\xbb\xbf{"scope": "read:brands"}'


NOT_FIXED = [
    pytest.param("a.json", '{"scope": "read:brands \\u0072ead:brands"}', id="json-escape"),
    pytest.param("a.yaml", "scope: >-\n  read:brands\n  read:brands\n", id="yaml-folded"),
    pytest.param("a.yaml", 'scope: "read:brands \\x72ead:brands"\n', id="yaml-escape"),
    pytest.param("a.yaml", "scope: read:brands:x [x read:brands\n", id="yaml-would-become-a-flow-sequence"),
    pytest.param("a.toml", 'scope = "read:brands \\u0072ead:brands"\n', id="toml-escape"),
    pytest.param("a.toml", 'scope = """\nread:brands read:brands"""\n', id="toml-multiline"),
    pytest.param("a.scopes", "  #x read:brands\n", id="scopes-line-would-become-a-comment"),
]


@pytest.mark.parametrize(("name", "before"), NOT_FIXED)
def test_fix_leaves_values_it_cannot_rewrite_exactly(tmp_path, name, before):
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    path = tmp_path / name
    path.write_text(before)
    report = lint_file(str(path), RULES, KEYS, fix=True)
    assert path.read_text() == before
    assert report.fixed == 0
    assert report.findings  # still reported


def test_a_rewrite_that_fails_does_not_block_the_others(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "a.yaml"
    path.write_text("a:\n  scope: read:brands:x [x read:brands\nb:\n  scope: read:brands  read:brands\n")
    report = lint_file(str(path), RULES, KEYS, fix=True)
    assert report.fixed == 1
    assert path.read_text() == "a:\n  scope: read:brands:x [x read:brands\nb:\n  scope: read:brands\n"


# -- policy files ----------------------------------------------------------------------------------------

POLICY = """\
version = 1
name = "demo"

[scopes."read:brands"]
qualifier = "brand_id"

[scopes."unused:thing"]

[roles]
reader = "read:brands  read:brand"

[[endpoints]]
methods = ["GET"]
path = "/brands/{id}"
any_of = ["read:brands", "read:brands:{id}", "read:brand"]

[[endpoints]]
methods = ["GET", "PUT"]
path = "/brands/export"
any_of = ["read:brands"]

[[endpoints]]
methods = ["GET"]
path = "/brands/{brand}"
any_of = ["read:brands"]
"""


def test_policy_file_scope_strings_and_routes():
    assert placed("policy.toml", POLICY) == [
        (10, 22, "S202"),
        (10, 24, "S102"),
        (14, 9, "S402"),
        (14, 9, "S404"),
        (15, 47, "S102"),
        (24, 9, "S403"),
    ]
    messages = [f.diagnostic.message for f in lint_text("policy.toml", POLICY, RULES, KEYS)]
    assert messages[2] == (
        "GET /brands/{id} never serves /brands/export: GET /brands/export takes it "
        "(a literal segment wins over a parameter)"
    )
    assert messages[3] == (
        "GET /brands/{id}: a value of {id} that is 'export' in another case (e.g. 'EXPORT') "
        "is denied: a case-insensitive router would run GET /brands/export instead"
    )
    assert messages[5] == (
        "endpoints[2]: route GET /brands/{brand} is declared twice (also by endpoints[0]); the two "
        "would match the same requests; merge them or remove one"
    )


def test_policy_file_that_loads_reports_unused_catalogue_entries():
    fixed = POLICY.replace(', "read:brand"]', "]").replace("  read:brand", "").replace("{brand}", "{brand}/x")
    assert placed("policy.toml", fixed) == [(7, 10, "S401"), (14, 9, "S402"), (14, 9, "S404")]
    Policy.from_toml(fixed)  # it loads


def test_policy_file_load_error_is_placed_at_the_loaders_line():
    broken = POLICY.replace(', "read:brand"]', "]").replace("  read:brand", "")
    broken = broken.replace('methods = ["GET", "PUT"]', 'methods = ["get"]')
    findings = lint_text("policy.toml", broken, RULES, KEYS)
    s400 = [f for f in findings if f.diagnostic.code == "S400"]
    assert [(f.line, f.column, f.diagnostic.message) for f in s400] == [
        (17, 1, "endpoints[1]: method 'get' is not upper case; methods are case-sensitive; did you mean 'GET'?")
    ]


def test_the_loader_is_not_repeated_where_a_scope_string_already_failed():
    # The loader stops at its first error, `read:brand` in endpoints[0], which S102 reports
    # precisely; the bad method of endpoints[1] shows once the scopes are fixed.
    broken = POLICY.replace('methods = ["GET", "PUT"]', 'methods = ["get"]')
    assert "S400" not in [f.diagnostic.code for f in lint_text("policy.toml", broken, RULES, KEYS)]


def test_policy_schema_error():
    findings = lint_text("policy.toml", '[[endpoints]]\nmethods = ["GET"]\npath = "/a"\nanyof = ["x"]\n', RULES, KEYS)
    assert [(f.line, f.diagnostic.code) for f in findings] == [(1, "S400")]
    assert "unknown key 'anyof'" in findings[0].diagnostic.message


def test_the_bundled_policy_lints_clean_but_for_its_inbox_scopes():
    from importlib import resources

    text = resources.files("scopes.policy").joinpath("courier.toml").read_text()
    codes = [(f.diagnostic.code, f.diagnostic.message.split("'")[1]) for f in lint_text("courier.toml", text, RULES, KEYS)]
    assert codes == [("S401", "inbox:read:messages"), ("S401", "inbox:write:events")]


def test_policy_strings_are_fixed_in_place(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    report = lint_file(str(path), RULES, KEYS, fix=True)
    assert report.fixed == 1
    assert 'reader = "read:brands read:brand"' in path.read_text()


def test_a_toml_data_file_is_not_a_policy():
    assert placed("a.toml", 'scopes = "read:brand"\n[scopes2]\nscope = "x"\n') == [(1, 11, "S102"), (3, 10, "S102")]
    assert placed("b.toml", '[scopes]\nweb = "read:brand"\n') == []  # `web` is no lint key


def test_the_cases_of_a_policy_test_file_are_tokens_under_test():
    """`scope = "read::x"` in a test file's `[[tests]]` is a malformed token on purpose, as in a
    policy's own `[[tests]]`; a scope key elsewhere in the file, or in data that names no
    policy, is still linted."""
    tests = 'policy = "p.toml"\n[[tests]]\nscope = "read::x"\nrequest = "GET /"\nexpect = "deny"\n'
    assert placed("p.tests.toml", tests) == []
    assert placed("p.tests.toml", tests + '[other]\nscope = "read:brand"\n') == [(7, 10, "S102")]
    assert placed("data.toml", tests.replace('policy = "p.toml"\n', "")) == [(2, 15, "S100")]


# -- [tool.scopes] ------------------------------------------------------------------------------------


def test_config_is_read_from_the_nearest_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.scopes]\nlint-keys = ["permissions"]\npolicy = "p.toml"\n')
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    config = find_config(deeper)
    assert config.keys == ("permissions",)
    assert config.policy == str(tmp_path.resolve() / "p.toml")


def test_config_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config(tmp_path) == LintConfig(source=str(tmp_path.resolve() / "pyproject.toml"))


BAD_CONFIG = [
    pytest.param('[tool.scopes]\nlint_keys = ["x"]\n', "unknown key 'lint_keys' in [tool.scopes]", id="unknown-key"),
    pytest.param('[tool.scopes]\nlint-keys = "scope"\n', "lint-keys must be a non-empty list", id="not-a-list"),
    pytest.param('[tool.scopes]\nlint-keys = []\n', "lint-keys must be a non-empty list", id="empty"),
    pytest.param("[tool.scopes]\npolicy = 3\n", "policy must be a path", id="policy"),
    pytest.param("[tool.scopes\n", "cannot read [tool.scopes]", id="broken-toml"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIG)
def test_bad_config(tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        find_config(tmp_path)


# -- the scanners agree with the parsers ------------------------------------------------------------


from scopes.lint._scan import scan_json, scan_toml, scan_yaml
from tests import strategies


def _at(data, path):
    for step in path:
        data = data[step]
    return data


def _check_found(found, text, data):
    for f in found:
        if f.kind in ("str", "other"):
            assert _at(data, f.path) == f.value
        if f.exact:
            assert text[f.start : f.end] == f.value
        if f.offsets is not None:
            assert len(f.offsets) == len(f.value) + 1


def _toml_key(key: str, rnd) -> str:
    import re

    if re.fullmatch(r"[A-Za-z0-9_-]+", key) and rnd.random() < 0.7:
        return key
    if "'" not in key and "\n" not in key and key.isprintable() and rnd.random() < 0.5:
        return f"'{key}'"
    return _toml_basic(key, False)


def _toml_basic(text: str, ascii_only: bool) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f" or (ascii_only and not ch.isascii()):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value, rnd) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        choice = rnd.random()
        if "'" not in value and "\n" not in value and value.isprintable() and choice < 0.3:
            return f"'{value}'"
        if "'''" not in value and not value.endswith("'") and value.isprintable() and choice < 0.4:
            return f"'''{value}'''"
        if '"' not in value and "\\" not in value and value.isprintable() and choice < 0.5:
            return f'"""{value}"""'
        return _toml_basic(value, rnd.random() < 0.3)
    if isinstance(value, list):
        sep = rnd.choice([", ", ",\n  ", " ,", ",  # c\n"])
        trailing = rnd.choice(["", ",", "\n"]) if value else ""
        return "[" + sep.join(_toml_value(v, rnd) for v in value) + trailing + "]"
    return "{" + ", ".join(f"{_toml_key(k, rnd)} = {_toml_value(v, rnd)}" for k, v in value.items()) + "}"


def _toml(data: dict, rnd, prefix: str = "") -> str:
    """TOML for `data`, choosing tables, arrays of tables, inline tables and string styles."""
    lines, later = [], []
    for key, value in data.items():
        spelled = _toml_key(key, rnd)
        if isinstance(value, dict) and rnd.random() < 0.6:
            later.append((f"[{prefix}{spelled}]", value, f"{prefix}{spelled}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and rnd.random() < 0.6:
            for item in value:
                later.append((f"[[{prefix}{spelled}]]", item, f"{prefix}{spelled}."))
        else:
            lines.append(f"{spelled} = {_toml_value(value, rnd)}" + rnd.choice(["", "  # note"]))
    text = "\n".join(lines) + "\n"
    for header, table, inner in later:
        text += f"\n{header}\n" + _toml(table, rnd, inner)
    return text


@given(strategies.documents, st.randoms(use_true_random=False))
def test_toml_scanner_agrees_with_tomllib(data, rnd):
    """Every value scan_toml reports is the value tomllib reads at its path, spelled at its place."""
    import tomllib

    text = _toml(data, rnd)
    decoded = tomllib.loads(text)
    assert decoded == data
    found, _ = scan_toml(text, None)
    _check_found(found, text, decoded)
    assert len([f for f in found if f.kind in ("str", "other")]) == _leaves(data)


@given(strategies.documents, st.sampled_from([None, 0, 2]), st.booleans())
def test_json_scanner_agrees_with_json(data, indent, ascii_only):
    """Every value scan_json reports is the value json reads at its path, spelled at its place."""
    import json

    text = json.dumps(data, indent=indent, ensure_ascii=ascii_only)
    found = scan_json(text, None)
    _check_found(found, text, data)
    assert len([f for f in found if f.kind in ("str", "other")]) == _leaves(data)


@given(strategies.documents, st.sampled_from([None, True, False]), st.sampled_from([None, "'", '"']))
def test_yaml_scanner_agrees_with_pyyaml(data, flow, style):
    """Every value scan_yaml reports is the value PyYAML reads at its path, spelled at its place."""
    yaml = pytest.importorskip("yaml")
    text = yaml.safe_dump(data, default_flow_style=flow, default_style=style, allow_unicode=True)
    found = scan_yaml(text, None)
    _check_found(found, text, [yaml.safe_load(text)])


def _leaves(value) -> int:
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1


# -- one table per file rule: fires on the bad example, silent on the good one --------------------

from scopes.lint.durations import lint_duration

DURATIONS = [
    pytest.param("S500", "2 dayz", "2 days", id="S500-unknown-unit"),
    pytest.param("S500", True, 3600, id="S500-bool"),
    pytest.param("S500", float("nan"), 1.5, id="S500-nan"),
    pytest.param("S500", "", "1h", id="S500-empty"),
    pytest.param("S501", "3600", 3600, id="S501-unit-less-string"),
    pytest.param("S501", "1.5", "1.5s", id="S501-unit-less-decimal"),
    pytest.param("S502", "-5m", "5m", id="S502-negative"),
    pytest.param("S502", 0, 1, id="S502-zero"),
    pytest.param("S502", "500ms", "1000ms", id="S502-under-a-second"),
    pytest.param("S502", 0.5, "1s", id="S502-half-a-second"),
]


@pytest.mark.parametrize(("code", "bad", "good"), DURATIONS)
def test_each_duration_rule_fires_on_its_example_and_not_on_the_near_miss(code, bad, good):
    assert code in [d.code for d in lint_duration(bad, 0, 4)]
    assert lint_duration(good, 0, 4) == []


def test_duration_messages():
    assert [(d.code, d.message) for d in lint_duration("3600", 10, 14)] == [
        ("S501", ("'3600' has no unit, so it means 3600 milliseconds (3.6 s), not seconds; write the "
                 "number 3600 for seconds, or add a unit such as '3600s'")),
    ]
    assert [(d.code, d.message, d.start, d.end) for d in lint_duration(-1, 3, 5)] == [
        ("S502", "-1 is not a positive duration; a token must live at least one second", 3, 5),
    ]


_POLICY_BASE = '[scopes."read:brands"]\nqualifier = "brand_id"\n'


def _endpoint(path: str, need: str = "read:brands", methods: str = '"GET"') -> str:
    return f'[[endpoints]]\nmethods = [{methods}]\npath = "{path}"\nany_of = ["{need}"]\n'


POLICY_RULES = [
    pytest.param("S400", _endpoint("/a", methods='"get"'), _endpoint("/a"), id="S400-does-not-load"),
    pytest.param("S401", '[scopes."x"]\n' + _endpoint("/a"), _endpoint("/a"), id="S401-unused"),
    pytest.param("S402", _endpoint("/b/{id}") + _endpoint("/b/export"), _endpoint("/b/{id}") + _endpoint("/c/export"),
                 id="S402-shadowed"),
    pytest.param("S403", _endpoint("/b/{id}") + _endpoint("/b/{other}"), _endpoint("/b/{id}") + _endpoint("/b/{id}/x"),
                 id="S403-duplicate"),
    pytest.param("S102", _endpoint("/a", "read:brand"), _endpoint("/a"), id="S102-in-a-requirement"),
]


@pytest.mark.parametrize(("code", "bad", "good"), POLICY_RULES)
def test_each_policy_rule_fires_on_its_example_and_not_on_the_near_miss(code, bad, good):
    def found(text):
        return [f.diagnostic.code for f in lint_text("policy.toml", _POLICY_BASE + text, RULES, KEYS)]

    assert code in found(bad)
    assert found(good) == []


@pytest.mark.parametrize("entry", ["read:brands,write:brands", "  "], ids=["comma-list", "empty"])
def test_the_linter_and_the_loader_say_the_same(entry):
    text = f'[scopes."read:brands"]\n[scopes."write:brands"]\n[[endpoints]]\nmethods = ["GET"]\npath = "/b"\nany_of = ["{entry}"]\n'
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(text)
    [finding] = [f for f in lint_text("policy.toml", text, RULES, KEYS) if f.diagnostic.is_error]
    assert finding.diagnostic.message.startswith(caught.value.message)


@given(st.lists(st.sampled_from(["", "# a comment"]), max_size=4),
       st.lists(st.sampled_from(["", "# a comment", "   "]), max_size=3),
       st.sampled_from(["read:brand", "READ:BRANDS", "read:brandz"]))
def test_the_loader_and_the_linter_name_the_same_line_for_an_unknown_scope(before, between,
                                                                            unknown):
    """Wherever `any_of` sits in its entry, the load error's line is the line S102 reports."""
    lines = ['[scopes."read:brands"]', 'qualifier = "brand_id"', "", "[[endpoints]]",
             'methods = ["GET"]', *before, 'path = "/brands/{id}"', *between,
             f'any_of = ["read:brands:{{id}}", "{unknown}"]']
    text = "\n".join(lines) + "\n"
    with pytest.raises(PolicyError) as loading:
        Policy.from_toml(text)
    s102 = [f.line for f in lint_text("policy.toml", text, RULES, KEYS)
            if f.diagnostic.code == "S102"]
    assert s102 == [loading.value.line] == [len(lines)]
