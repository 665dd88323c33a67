"""Tests for scopes.duration: the documented table, properties, and a differential test with ms."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import tempfile
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scopes.duration
from scopes.duration import parse_duration

MS_VERSION = "2.1.3"
ORACLE = Path(__file__).with_name("ms_oracle.js")
MICROSECOND = timedelta(microseconds=1)
MIN_MICROSECONDS = timedelta.min // MICROSECOND
MAX_MICROSECONDS = timedelta.max // MICROSECOND

# The spec, restated independently of the module: every alias ms 2.1.3's regex accepts.
ALIASES: dict[str, timedelta] = {
    **dict.fromkeys(("years", "year", "yrs", "yr", "y"), timedelta(days=365.25)),
    **dict.fromkeys(("weeks", "week", "w"), timedelta(weeks=1)),
    **dict.fromkeys(("days", "day", "d"), timedelta(days=1)),
    **dict.fromkeys(("hours", "hour", "hrs", "hr", "h"), timedelta(hours=1)),
    **dict.fromkeys(("minutes", "minute", "mins", "min", "m"), timedelta(minutes=1)),
    **dict.fromkeys(("seconds", "second", "secs", "sec", "s"), timedelta(seconds=1)),
    **dict.fromkeys(
        ("milliseconds", "millisecond", "msecs", "msec", "ms"), timedelta(milliseconds=1)
    ),
}

EXPECTED = (
    "expected a number and an optional unit, e.g. '2 days', '1.5h', '-30s' or '500' (milliseconds)"
)
RANGE = "a duration must lie within ±999999999 days (what a timedelta holds)"
NUMBER_ADVICE = "pass e.g. 3600 (seconds) or '1h'"

VALID_TEXT = [
    *(pytest.param(f"2{alias}", 2 * unit, id=f"alias-{alias}") for alias, unit in ALIASES.items()),
    pytest.param("2 days", timedelta(days=2), id="space"),
    pytest.param("2    days", timedelta(days=2), id="many-spaces"),
    pytest.param("1 ", timedelta(milliseconds=1), id="trailing-space-no-unit"),
    pytest.param("5 DAYS", timedelta(days=5), id="upper"),
    pytest.param("1Hour", timedelta(hours=1), id="title"),
    pytest.param("3MsEcS", timedelta(milliseconds=3), id="mixed-case"),
    pytest.param("1YRS", timedelta(days=365.25), id="upper-yrs"),
    pytest.param("500", timedelta(milliseconds=500), id="unitless-is-ms"),
    pytest.param("1", timedelta(milliseconds=1), id="unitless-one"),
    pytest.param("007s", timedelta(seconds=7), id="leading-zeros"),
    pytest.param("1.5h", timedelta(minutes=90), id="decimal"),
    pytest.param(".5ms", timedelta(microseconds=500), id="decimal-no-integer-part"),
    pytest.param("-.5s", timedelta(milliseconds=-500), id="negative-decimal"),
    pytest.param("-1h", timedelta(hours=-1), id="negative"),
    pytest.param("-1.5 days", timedelta(hours=-36), id="negative-decimal-long-unit"),
    pytest.param("-0", timedelta(0), id="negative-zero"),
    pytest.param("0.0004", timedelta(0), id="rounds-down-to-microsecond"),
    pytest.param("0.0006", MICROSECOND, id="rounds-up-to-microsecond"),
    pytest.param(".0625ms", timedelta(microseconds=62), id="tie-to-even-down"),
    pytest.param(".1875ms", timedelta(microseconds=188), id="tie-to-even-up"),
    pytest.param("999999999d", timedelta(days=999999999), id="largest-whole-days"),
    pytest.param("-999999999d", timedelta.min, id="smallest"),
    pytest.param("0" * 97 + "1ms", timedelta(milliseconds=1), id="exactly-100-chars"),
]

VALID_NUMBERS = [
    pytest.param(0, timedelta(0), id="zero"),
    pytest.param(3600, timedelta(hours=1), id="int-seconds"),
    pytest.param(-5, timedelta(seconds=-5), id="negative-int"),
    pytest.param(1.5, timedelta(seconds=1.5), id="float-seconds"),
    pytest.param(0.1, timedelta(milliseconds=100), id="float-rounds-to-microsecond"),
    pytest.param(1 / 128, timedelta(microseconds=7812), id="float-tie-to-even"),
    pytest.param(5e-7, timedelta(0), id="float-just-under-half-microsecond"),
    pytest.param(-0.0, timedelta(0), id="negative-zero"),
    pytest.param(999999999 * 86400, timedelta(days=999999999), id="largest-whole-days"),
]

INVALID = [
    pytest.param("", f"invalid duration '': the string is empty; {EXPECTED}", id="empty"),
    pytest.param(
        "0" * 98 + "1ms",
        f"invalid duration '000000000000000000000000000000'... (101 characters): 101 characters, "
        f"at most 100 are allowed; {EXPECTED}",
        id="101-chars",
    ),
    pytest.param(
        "\U0001f600" * 51,
        f"invalid duration {chr(0x1F600) * 30!r}... (51 characters): 102 characters, "
        f"at most 100 are allowed; {EXPECTED}",
        id="length-counts-utf16-units",
    ),
    pytest.param("1e3", f"invalid duration '1e3': {EXPECTED}", id="exponent"),
    pytest.param("+1", f"invalid duration '+1': {EXPECTED}", id="plus-sign"),
    pytest.param("1.", f"invalid duration '1.': {EXPECTED}", id="trailing-dot"),
    pytest.param("--1", f"invalid duration '--1': {EXPECTED}", id="double-minus"),
    pytest.param("1.2.3", f"invalid duration '1.2.3': {EXPECTED}", id="two-dots"),
    pytest.param("ms", f"invalid duration 'ms': {EXPECTED}", id="unit-only"),
    pytest.param("1 - h", f"invalid duration '1 - h': {EXPECTED}", id="junk-between"),
    pytest.param(
        " 1", f"invalid duration ' 1': a space before the number; {EXPECTED}", id="leading-space"
    ),
    pytest.param(
        "1\n",
        f"invalid duration '1\\n': control character '\\n'; {EXPECTED}",
        id="trailing-newline",
    ),
    pytest.param(
        "1ms\n",
        f"invalid duration '1ms\\n': control character '\\n'; {EXPECTED}",
        id="unit-trailing-newline",
    ),
    pytest.param(
        "1\tms", f"invalid duration '1\\tms': control character '\\t'; {EXPECTED}", id="tab"
    ),
    pytest.param(
        "\u0661",
        f"invalid duration '\u0661': non-ASCII character '\u0661' (U+0661); {EXPECTED}",
        id="arabic-indic-digit",
    ),
    pytest.param(
        "\uff11s",
        f"invalid duration '\uff11s': non-ASCII character '\uff11' (U+FF11); {EXPECTED}",
        id="fullwidth-digit",
    ),
    pytest.param(
        "1\u017fec",
        f"invalid duration '1\u017fec': non-ASCII character '\u017f' (U+017F); {EXPECTED}",
        id="long-s-does-not-fold-to-s",
    ),
    pytest.param(
        "1m\u0131ns",
        f"invalid duration '1m\u0131ns': non-ASCII character '\u0131' (U+0131); {EXPECTED}",
        id="dotless-i-does-not-fold-to-i",
    ),
    pytest.param(
        "1\u212a",
        f"invalid duration '1\u212a': non-ASCII character '\u212a' (U+212A); {EXPECTED}",
        id="kelvin-sign",
    ),
    pytest.param(
        "1\u00a0ms",
        f"invalid duration '1\\xa0ms': non-ASCII character '\\xa0' (U+00A0); {EXPECTED}",
        id="no-break-space",
    ),
    pytest.param(
        "1 fortnight",
        "invalid duration '1 fortnight': unknown unit 'fortnight'; use ms, s, m, h, d, w or y "
        "(or a long form such as 'minutes'), e.g. '2 days'",
        id="unknown-unit",
    ),
    pytest.param(
        "2 mss",
        "invalid duration '2 mss': unknown unit 'mss'; use ms, s, m, h, d, w or y "
        "(or a long form such as 'minutes'), e.g. '2 days'",
        id="plural-of-ms",
    ),
    pytest.param(
        "1000000000d",
        f"invalid duration '1000000000d': too large (8.64e+16 ms); {RANGE}; write e.g. '2 days'",
        id="too-large-days",
    ),
    pytest.param(
        "-1000000000d",
        f"invalid duration '-1000000000d': too large (-8.64e+16 ms); {RANGE}; write e.g. '2 days'",
        id="too-large-negative",
    ),
    pytest.param(
        "9" * 99 + "y",
        f"invalid duration '999999999999999999999999999999'... (100 characters): too large "
        f"(3.15576e+109 ms); {RANGE}; write e.g. '2 days'",
        id="too-large-100-chars",
    ),
    pytest.param(
        True,
        f"invalid duration True: a bool is not a number of seconds; {NUMBER_ADVICE}",
        id="true",
    ),
    pytest.param(
        False,
        f"invalid duration False: a bool is not a number of seconds; {NUMBER_ADVICE}",
        id="false",
    ),
    pytest.param(
        math.nan,
        f"invalid duration nan: a number of seconds must be finite; {NUMBER_ADVICE}",
        id="nan",
    ),
    pytest.param(
        -math.inf,
        f"invalid duration -inf: a number of seconds must be finite; {NUMBER_ADVICE}",
        id="negative-infinity",
    ),
    pytest.param(
        10**20,
        f"invalid duration 100000000000000000000 seconds: too large; {RANGE}; {NUMBER_ADVICE}",
        id="too-large-int",
    ),
    pytest.param(
        10**50,
        "invalid duration 10000000000000000000... (51 digits) seconds: too large; "
        f"{RANGE}; {NUMBER_ADVICE}",
        id="too-large-long-int",
    ),
    pytest.param(
        1 << 20_000,
        f"invalid duration an integer of 20001 bits seconds: too large; {RANGE}; {NUMBER_ADVICE}",
        id="too-large-huge-int",
    ),
    pytest.param(
        -1e300,
        f"invalid duration -1e+300 seconds: too large; {RANGE}; {NUMBER_ADVICE}",
        id="too-large-float",
    ),
    *(
        pytest.param(
            value,
            f"invalid duration of type {type(value).__name__}: expected a string such as "
            "'2 days' or a number of seconds such as 3600",
            id=f"type-{type(value).__name__}",
        )
        for value in (None, [], {}, b"1s", Decimal("1"), Fraction(1, 2), 1j, object())
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID_TEXT)
def test_strings_read_as_ms_reads_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("value", "expected"), VALID_NUMBERS)
def test_numbers_are_seconds(value: float, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(("value", "message"), INVALID)
def test_invalid_values_raise_value_error_that_explains(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_module_exports_its_two_readers() -> None:
    assert scopes.duration.__all__ == ["duration_seconds", "parse_duration"]
    assert dir(scopes.duration) == ["duration_seconds", "parse_duration"]


# --- Properties ---------------------------------------------------------------------------------

_unit_spellings = st.sampled_from(sorted(ALIASES) + [""]).flatmap(
    lambda unit: st.sampled_from([unit, unit.upper(), unit.title()])
)
near_durations = st.tuples(
    st.from_regex(r"-?[0-9]{0,60}\.?[0-9]{0,40}", fullmatch=True),
    st.text(" \t\n\u00a0", max_size=3),
    _unit_spellings,
    st.sampled_from(["", " ", "\n", "x", "\u017f"]),
).map("".join)
anything = st.one_of(
    st.text(),
    near_durations,
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.binary(),
    st.decimals(),
    st.fractions(),
    st.complex_numbers(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(value=anything)
def test_returns_timedelta_or_raises_value_error(value: object) -> None:
    """Law: whatever it is given, parse_duration returns a timedelta or raises ValueError."""
    try:
        result = parse_duration(value)  # type: ignore[arg-type]
    except ValueError:
        return
    assert isinstance(result, timedelta)


@given(seconds=st.integers(min_value=-(10**12), max_value=10**12))
def test_whole_seconds_agree_as_number_and_string(seconds: int) -> None:
    """Law: an int n, the string f"{n}s" and f"{n * 1000}" all mean n seconds."""
    expected = timedelta(seconds=seconds)
    assert parse_duration(seconds) == expected
    assert parse_duration(f"{seconds}s") == expected
    assert parse_duration(str(seconds * 1000)) == expected


# --- Differential test against the real vercel/ms ------------------------------------------------

_NUMBERS = (
    *("0", "1", "2", "7", "10", "42", "007", "-1", "-0", "-007", "-42", ".5", "-.5", "0.5"),
    *("1.5", "-1.5", "12.75", "0.0625", ".1875", "0.0000005", "0.0000015", "3.14159265358979"),
    *("123456789.123456789", "9007199254740993", "0.1", "100", "365.25", "1e3", "1E-3", "1."),
    *(".", "-", "-.", "..5", "1..5", "1.2.3", "--1", "+1", "-+1", "0x1F", "0b1", "Infinity"),
    *("NaN", "1_000", "1,5", "1 000", "\u0661", "\uff11", "\U0001d7cf", "\u00b2", "\u00bd"),
    *("\u0663.\u0665", "\u2212" + "1", "\uff0e5"),
)
_SPACES = ("", "", "", "", " ", " ", "  ", "     ", "\t", "\u00a0", "\u3000", "\n", "\u2009", " \t")
_JUNK_UNITS = (
    *("mss", "secss", "minss", "hourss", "yrss", "dayss", "weekss", "mil", "milli", "millisecs"),
    *("sx", "fortnight", "mo", "month", "months", "ns", "us", "\u00b5s", "\u03bcs", "\u017f"),
    *("\u017fec", "m\u017f", "\u017fecs", "m\u0131ns", "m\u0130ns", "\uff4d\uff53", "\u212a"),
    *("h1", "m s", "d.", "-d", "ms2", "hr\u0073", "minute\u017f", "day\u0455"),
)
_PREFIXES = ("", "", "", "", "", "", " ", "\n", "\t", "+", "-", "\ufeff", "x", "\u200b")
_SUFFIXES = ("", "", "", "", "", "", " ", "  ", "\n", "\r\n", "\r", "\x00", "s", ".", "1", "\u200b")
_LOOKALIKES = {
    "s": "\u017f",  # LATIN SMALL LETTER LONG S: Python's re.IGNORECASE folds it to "s"
    "i": "\u0131",  # LATIN SMALL LETTER DOTLESS I
    "k": "\u212a",  # KELVIN SIGN
    "1": "\uff11",  # FULLWIDTH DIGIT ONE
    "0": "\u0660",  # ARABIC-INDIC DIGIT ZERO
    "m": "\uff4d",  # FULLWIDTH LATIN SMALL LETTER M
    ".": "\uff0e",  # FULLWIDTH FULL STOP
    "-": "\u2212",  # MINUS SIGN
    " ": "\u00a0",  # NO-BREAK SPACE
    "e": "\u0435",  # CYRILLIC SMALL LETTER IE
    "y": "\u0443",  # CYRILLIC SMALL LETTER U
}
_BOUNDARY = (
    *("999999999d", "1000000000d", "-999999999d", "-1000000000d", "999999999.99999999d"),
    *("86399999999999999", "86399999999999998", "86399999999999", "-86399999913600000"),
    *("-86399999913600001", "2739726y", "2739727.1y", "142857142w", "142857143w"),
    *("23999999999h", "24000000000h", "1439999999999m", "1440000000000m", "-2739726.5y"),
)
_RANDOM_STRINGS = 600


def _spell(unit: str, rng: random.Random) -> str:
    style = rng.choice(("lower", "lower", "upper", "title", "mixed"))
    if style == "upper":
        return unit.upper()
    if style == "title":
        return unit.title()
    if style == "mixed":
        return "".join(ch.upper() if rng.random() < 0.5 else ch for ch in unit)
    return unit


def _random_duration(rng: random.Random) -> str:
    unit = rng.choice((*ALIASES, "", "", "", "", *_JUNK_UNITS))
    text = "".join(
        (
            rng.choice(_PREFIXES),
            rng.choice(_NUMBERS),
            rng.choice(_SPACES),
            _spell(unit, rng),
            rng.choice(_SUFFIXES),
        )
    )
    if rng.random() < 0.15:
        spots = [i for i, ch in enumerate(text) if ch.lower() in _LOOKALIKES]
        if spots:
            i = rng.choice(spots)
            text = text[:i] + _LOOKALIKES[text[i].lower()] + text[i + 1 :]
    if rng.random() < 0.1:  # stretch the number part to the 100-character limit and around it
        number_end = len(text) - len(text.lstrip("-0123456789."))
        target = rng.choice((99, 100, 101))
        text = text[:number_end] + "0" * max(0, target - len(text)) + text[number_end:]
    return text


def _length_edges() -> list[str]:
    edges = []
    for target in (99, 100, 101):
        for tail in ("", "ms", " days", "y", "  h", "S", "\n"):
            width = target - len(tail)
            edges += [
                "1".rjust(width, "0") + tail,
                "-" + "1".rjust(width - 1, "0") + tail,
                "0." + "1".rjust(width - 2, "0") + tail,
                "1" + " " * (width - 1) + tail,
                "9" * width + tail,
            ]
        edges.append("\U0001f600" * (target // 2) + "1" * (target % 2))
        edges.append("1" + "\u00e9" * (target - 1))
    return edges


def differential_corpus() -> list[str]:
    """The documented cases, hand-picked traps and fixed-seed random strings, without repeats."""
    documented = [p.values[0] for p in (*VALID_TEXT, *INVALID) if isinstance(p.values[0], str)]
    rng = random.Random(20_250_521)  # fixed seed: every run checks the same corpus
    generated = [_random_duration(rng) for _ in range(_RANDOM_STRINGS)]
    picked = [
        *documented,
        *_BOUNDARY,
        *(f"{n}{s}{u}" for n in ("1", "-2.5") for s in ("", " ") for u in ALIASES),
        *(f"3 {_spell(u, rng)}" for u in (*ALIASES, *_JUNK_UNITS)),
        *(f"{n}{s}" for n in _NUMBERS for s in ("", "ms", " s")),
    ]
    return list(dict.fromkeys([*picked, *_length_edges(), *generated]))


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "scopes-test-ms"


def _installed_version(prefix: Path) -> str | None:
    try:
        manifest = (prefix / "node_modules" / "ms" / "package.json").read_text(encoding="utf-8")
        return json.loads(manifest)["version"]
    except (OSError, ValueError, KeyError):
        return None


def _require(program: str) -> str:
    found = shutil.which(program)
    if found is None:  # not a skip: CI installs Node.js, and a skipped oracle proves nothing
        pytest.fail(f"{program} is not on PATH; the differential test against ms needs Node.js")
    return found


@pytest.fixture(scope="session")
def ms_prefix() -> Path:
    """Install the real ms@2.1.3 once, into a cache directory kept between runs."""
    _require("node")
    prefix = _cache_dir() / f"ms-{MS_VERSION}"
    if _installed_version(prefix) == MS_VERSION:
        return prefix
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    # Install beside it, then rename: a concurrent run sees no install or a complete one.
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=prefix.parent))
    command = [
        _require("npm"),
        *("install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund"),
        *("--ignore-scripts", "--prefix", str(staging), f"ms@{MS_VERSION}"),
    ]
    environment = {**os.environ, "NPM_CONFIG_UPDATE_NOTIFIER": "false"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, env=environment
    )
    if done.returncode != 0 or _installed_version(staging) != MS_VERSION:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"`{' '.join(command)}` failed:\n{done.stdout}\n{done.stderr}")
    try:
        staging.rename(prefix)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return prefix


@pytest.fixture(scope="module")
def ms_verdicts(ms_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """What ms@2.1.3 says about each string of the corpus, evaluated in one node process."""
    corpus = differential_corpus()
    corpus_file = tmp_path_factory.mktemp("ms-oracle") / "corpus.json"
    # ensure_ascii: lone surrogates and astral characters travel as \u escapes, intact.
    corpus_file.write_text(json.dumps(corpus, ensure_ascii=True), encoding="ascii")
    done = subprocess.run(
        [_require("node"), str(ORACLE), str(ms_prefix), str(corpus_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{ORACLE.name} failed:\n{done.stderr}")
    answer = json.loads(done.stdout)
    assert answer["version"] == MS_VERSION
    return dict(zip(corpus, answer["results"], strict=True))


def _too_large_for_timedelta(milliseconds: float) -> bool:
    return not MIN_MICROSECONDS <= round(Fraction(milliseconds) * 1000) <= MAX_MICROSECONDS


def test_corpus_covers_the_interesting_cases(ms_verdicts: dict[str, dict]) -> None:
    kinds = [verdict["kind"] for verdict in ms_verdicts.values()]
    numbers = [v["value"] for v in ms_verdicts.values() if v["kind"] == "number"]
    assert len(ms_verdicts) >= 500
    assert set(kinds) == {"number", "undefined", "throw"}  # "throw": ms("") throws
    assert kinds.count("number") >= 200
    assert kinds.count("undefined") >= 200
    assert sum(map(_too_large_for_timedelta, numbers)) >= 10
    lengths = {len(text) for text in ms_verdicts}
    assert {99, 100, 101} <= lengths


def test_agrees_with_ms(ms_verdicts: dict[str, dict]) -> None:
    """Same validity as ms; for valid strings the same milliseconds, to the microsecond."""
    disagreements = []
    for text, verdict in ms_verdicts.items():
        try:
            ours: timedelta | str = parse_duration(text)
        except ValueError as error:
            ours = f"ValueError: {error}"
        if verdict["kind"] != "number":
            if not isinstance(ours, str) or "too large" in ours:
                disagreements.append((text, verdict, ours))
            continue
        if _too_large_for_timedelta(verdict["value"]):
            continue  # the one documented difference, see test_too_large_is_the_only_difference
        exact = Fraction(verdict["value"]) * 1000  # ms's result, in microseconds
        if isinstance(ours, str) or abs(ours // MICROSECOND - exact) > Fraction(1, 2):
            disagreements.append((text, verdict, ours))
    assert disagreements == []


def test_too_large_is_the_only_difference(ms_verdicts: dict[str, dict]) -> None:
    """ms returns a finite number of milliseconds that no timedelta holds: we raise instead."""
    too_large = {
        text: verdict["value"]
        for text, verdict in ms_verdicts.items()
        if verdict["kind"] == "number" and _too_large_for_timedelta(verdict["value"])
    }
    assert too_large
    for text, milliseconds in too_large.items():
        assert math.isfinite(milliseconds)
        with pytest.raises(ValueError, match="too large"):
            parse_duration(text)


# -- duration_seconds: any finite size, for a caller that shortens ---------------------------

@pytest.mark.parametrize(("value", "seconds"), [
    ("3000000 years", 3_000_000 * 365.25 * 86400),
    (1e300, 1e300),
    (10**400, math.inf),
    (-(10**400), -math.inf),
    ("2 days", 172800.0),
    (3600, 3600.0),
])
def test_duration_seconds_reads_durations_of_any_finite_size(value, seconds):
    assert scopes.duration.duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["", "1e3", "soon", True, None, math.nan, math.inf, [1]])
def test_duration_seconds_refuses_what_parse_duration_refuses_for_its_shape(value):
    with pytest.raises(ValueError):
        scopes.duration.duration_seconds(value)


@given(st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False)))
def test_duration_seconds_agrees_with_parse_duration_wherever_a_timedelta_holds_it(value):
    try:
        delta = parse_duration(value)
    except ValueError:
        return
    assert math.isclose(scopes.duration.duration_seconds(value), delta.total_seconds(),
                        rel_tol=1e-9, abs_tol=1e-6)
