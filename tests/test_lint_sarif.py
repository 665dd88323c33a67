"""`--format sarif`: valid SARIF 2.1.0 (the official schema), with the codes as rules and exact regions."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from scopes.cli import main
from scopes.lint.codes import CODES
from scopes.lint.diagnostic import Diagnostic
from scopes.lint.report import Finding
from scopes.lint.sarif import SARIF_SCHEMA, sarif_log

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text("utf-8"))


def validate(log: dict) -> None:
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def lint_sarif(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["lint", "--format", "sarif", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def test_the_schema_is_the_one_the_log_names():
    assert SCHEMA["id"] == SARIF_SCHEMA
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_a_log_with_findings(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    line = '  - {name: "\U0001f426 pigeon", scope: "read:brand user_id:x  read:brands read:brands"}'
    (tmp_path / "config" / "clients one.yaml").write_text(f"clients:\n{line}\n", encoding="utf-8")
    code, log = lint_sarif(capsys, "config", "--scope", "inbox:read:messages")
    assert code == 1
    validate(log)
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "scopes"
    # informationUri comes from [project.urls], which the project has none of yet.
    import tomllib
    urls = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"].get("urls")
    assert ("informationUri" in driver) == bool(urls)
    assert [rule["id"] for rule in driver["rules"]] == list(CODES)
    s102 = driver["rules"][list(CODES).index("S102")]
    assert s102 == {
        "id": "S102",
        "shortDescription": {"text": CODES["S102"].meaning},
        "help": {"text": f"{CODES['S102'].meaning}. Example: read:brand. --fix: {CODES['S102'].fix}."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["error"]},
    }
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}
    assert run["invocations"] == [{"executionSuccessful": True}]
    scope, unknown, spacing, duplicate = run["results"]
    assert scope == {  # a --scope string has no file
        "ruleId": "S300", "ruleIndex": list(CODES).index("S300"), "level": "note",
        "message": {"text": "'inbox:read:messages' grants no endpoint of policy 'courier': no "
                            "requirement mentions it"},
    }
    # Columns count code points (the bird is one column, two UTF-16 units), as the text does.
    column = line.index("read:brand ") + 1
    assert unknown["ruleId"] == "S102" and unknown["level"] == "error"
    assert unknown["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "config/clients%20one.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2, "startColumn": column, "endLine": 2, "endColumn": column + 10},
    }}]
    column = line.index("  read:brands") + 1
    assert (spacing["ruleId"], spacing["locations"][0]["physicalLocation"]["region"]) == (
        "S202", {"startLine": 2, "startColumn": column, "endLine": 2, "endColumn": column + 2})
    assert (duplicate["ruleId"], duplicate["level"], duplicate["properties"]) == (
        "S200", "warning", {"fix": ""})


def test_an_unreadable_file_makes_the_invocation_unsuccessful(tmp_path, capsys):
    (tmp_path / "broken.json").write_text('{"scope": ')
    code = main(["lint", "--format", "sarif", "broken.json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("scopes lint: broken.json:1:11: invalid JSON")
    log = json.loads(out)
    validate(log)
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"].startswith("invalid JSON")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.json"


def test_nothing_found_is_a_valid_log_with_no_results(capsys):
    code, log = lint_sarif(capsys, "--scope", "user_id:x read:messages")
    assert code == 0
    validate(log)
    assert log["runs"][0]["results"] == []


def test_paths_outside_the_current_directory_are_file_uris(tmp_path):
    finding = Finding("/elsewhere/a.json", 1, 2, 1, 3, Diagnostic("S102", "error", "m", 1, 2))
    log = sarif_log([finding], version="1", base=tmp_path, information_uri="https://example.org/")
    validate(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "file:///elsewhere/a.json"}
    assert log["runs"][0]["tool"]["driver"]["informationUri"] == "https://example.org/"


def test_the_broken_log_is_rejected_by_the_schema():
    """The schema check bites: a result level SARIF does not have is refused."""
    log = sarif_log([Finding("a.json", 1, 1, 1, 2, Diagnostic("S102", "error", "m", 0, 1))], version="1")
    log["runs"][0]["results"][0]["level"] = "info"
    with pytest.raises(jsonschema.ValidationError):
        validate(log)
