"""Code selection as ruff does it: prefixes, ALL, layers, specificity; per-file-ignores' patterns."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopes.lint.codes import CODES
from scopes.lint.select import (
    PerFileIgnores,
    RuleSelection,
    SelectorError,
    enabled_codes,
    parse_selectors,
)

EVERY = frozenset(CODES)


def codes(*prefixes: str) -> frozenset[str]:
    return frozenset(c for c in CODES if any(c.startswith(p) for p in prefixes))


LAYERS = [
    pytest.param([], EVERY, id="nothing-selected-is-everything"),
    pytest.param([RuleSelection(select=("S1",))], codes("S1"), id="a-prefix"),
    pytest.param([RuleSelection(select=("ALL",), ignore=("S3", "S401"))],
                 EVERY - codes("S3", "S401"), id="all-but"),
    pytest.param([RuleSelection(select=("S1",), ignore=("S102",))], codes("S1") - {"S102"},
                 id="ignore-more-specific-wins"),
    pytest.param([RuleSelection(select=("S102",), ignore=("S1",))], {"S102"},
                 id="select-more-specific-wins"),
    pytest.param([RuleSelection(select=("S102",), ignore=("S102",))], frozenset(),
                 id="a-tie-goes-to-ignore"),
    pytest.param([RuleSelection(ignore=("S2",)), RuleSelection(extend_select=("S202",))],
                 EVERY - codes("S2") | {"S202"}, id="cli-extends-config"),
    pytest.param([RuleSelection(select=("S1",)), RuleSelection(select=("S2",))], codes("S2"),
                 id="cli-select-replaces-config-select"),
    pytest.param([RuleSelection(select=("S1",)), RuleSelection(ignore=("S10",))],
                 codes("S1") - codes("S10"), id="cli-ignore-narrows-config-select"),
    pytest.param([RuleSelection(ignore=("S3",)), RuleSelection(select=("ALL",))], EVERY,
                 id="cli-select-starts-afresh"),
    pytest.param([RuleSelection(select=("S",), extend_select=("S5",), ignore=("S",))], codes("S5"),
                 id="extend-select-counts-as-select"),
]


@pytest.mark.parametrize(("layers", "expected"), LAYERS)
def test_enabled_codes(layers, expected):
    assert enabled_codes(layers) == expected


PARSED = [
    pytest.param(["S102"], ("S102",), id="one"),
    pytest.param(["S1,S2", "s300"], ("S1", "S2", "S300"), id="commas-repeats-and-case"),
    pytest.param([" S1 , ,all "], ("S1", "ALL"), id="spaces-and-empty-pieces"),
    pytest.param(["S"], ("S",), id="every-code-prefix"),
]


@pytest.mark.parametrize(("values", "expected"), PARSED)
def test_parse_selectors(values, expected):
    assert parse_selectors(values, "--select") == expected


@pytest.mark.parametrize("value", [
    pytest.param("S9", id="no-such-group"),
    pytest.param("S1020", id="longer-than-a-code"),
    pytest.param("E501", id="another-linter"),
    pytest.param("S-1", id="not-a-prefix"),
])
def test_a_selector_that_names_no_code_is_refused(value):
    with pytest.raises(SelectorError) as raised:
        parse_selectors([value], "--ignore")
    assert str(raised.value) == (
        f"--ignore: {value!r} is not a code or a code prefix; codes run from {min(CODES)} to "
        f"{max(CODES)} (prefixes such as S1 or S10 select groups, ALL selects every code; see "
        "docs/lint.md)"
    )


_prefixes = sorted({c[:n] for c in CODES for n in range(1, 5)} | {"ALL"})
_selectors = st.lists(st.sampled_from(_prefixes), max_size=4).map(tuple)
_layer = st.builds(RuleSelection, select=st.none() | _selectors, extend_select=_selectors,
                   ignore=_selectors)


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def _names(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


@given(layer=_layer)
def test_the_most_specific_selector_decides_and_a_tie_goes_to_ignore(layer):
    """Within one layer, a code is reported iff the most specific selector naming it is a
    select (or extend-select) and no ignore is as specific; a code no selector names keeps
    the default (every code) unless the layer has `select`, which starts from none."""
    enabled = enabled_codes([layer])
    adds = (*(layer.select or ()), *layer.extend_select)
    for code in CODES:
        best_add = max((_specificity(s) for s in adds if _names(s, code)), default=-1)
        best_ignore = max((_specificity(s) for s in layer.ignore if _names(s, code)), default=-1)
        if best_add == best_ignore == -1:
            assert (code in enabled) == (layer.select is None)
        else:
            assert (code in enabled) == (best_add > best_ignore)


@given(first=_layer, second=_layer)
def test_a_later_layer_without_select_only_adds_and_removes_what_it_names(first, second):
    """Layers stack: the command line changes only the codes its selectors name."""
    assume_no_select = RuleSelection(extend_select=second.extend_select, ignore=second.ignore)
    before = enabled_codes([first])
    after = enabled_codes([first, assume_no_select])
    named = {c for c in CODES for s in (*second.extend_select, *second.ignore) if _names(s, c)}
    assert before - named == after - named


def test_per_file_ignores_patterns_are_gitignore_patterns(tmp_path):
    ignores = PerFileIgnores(tmp_path, {"fixtures/**": ("S1",), "*.scopes": ("S300",),
                                        "/top.json": ("S2",)})
    (tmp_path / "fixtures" / "deep").mkdir(parents=True)
    assert ignores.selectors_for(str(tmp_path / "fixtures" / "deep" / "a.json")) == ("S1",)
    assert ignores.selectors_for(str(tmp_path / "src" / "fixtures.json")) == ()
    assert ignores.selectors_for(str(tmp_path / "a" / "b" / "t.scopes")) == ("S300",)
    assert ignores.selectors_for(str(tmp_path / "top.json")) == ("S2",)
    assert ignores.selectors_for(str(tmp_path / "a" / "top.json")) == ()  # anchored
    assert ignores.selectors_for(str(Path("/elsewhere/x.scopes"))) == ()  # outside the root


def test_per_file_ignores_take_paths_relative_to_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    ignores = PerFileIgnores(tmp_path.resolve(), {"sub/*.json": ("S1",)})
    assert ignores.selectors_for("a.json") == ("S1",)
    assert ignores.selectors_for("../sub/a.json") == ("S1",)
