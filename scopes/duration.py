"""Durations such as "2 days" or 3600, read the way vercel/ms 2.1.3 reads them, as timedeltas."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from fractions import Fraction

__all__ = ["duration_seconds", "parse_duration"]


def __dir__() -> list[str]:
    return __all__


# Milliseconds per unit, built exactly as ms 2.1.3 builds them (`var y = d * 365.25`, ...). Every
# value is an integer a float holds exactly, so `n * factor` below is the very product ms computes.
_SECOND = 1000.0
_MINUTE = _SECOND * 60
_HOUR = _MINUTE * 60
_DAY = _HOUR * 24
_WEEK = _DAY * 7
_YEAR = _DAY * 365.25

# Every alias ms's regex accepts, lower-cased; the empty unit means milliseconds.
_UNITS: dict[str, float] = {
    **dict.fromkeys(("years", "year", "yrs", "yr", "y"), _YEAR),
    **dict.fromkeys(("weeks", "week", "w"), _WEEK),
    **dict.fromkeys(("days", "day", "d"), _DAY),
    **dict.fromkeys(("hours", "hour", "hrs", "hr", "h"), _HOUR),
    **dict.fromkeys(("minutes", "minute", "mins", "min", "m"), _MINUTE),
    **dict.fromkeys(("seconds", "second", "secs", "sec", "s"), _SECOND),
    **dict.fromkeys(("milliseconds", "millisecond", "msecs", "msec", "ms", ""), 1.0),
}

# ms 2.1.3 matches /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|...|y)?$/i. The same language,
# written for Python:
# - `-?\d*\.?\d+` becomes `-?(?:[0-9]*\.)?[0-9]+`: either digits, or digits-dot-digits.
# - The unit alternation becomes "any ASCII letters", looked up in _UNITS afterwards.
# - `[0-9]` and `[A-Za-z]`, never `\d`, `\w` or re.IGNORECASE: in Python those also match
#   Unicode digits ("١") and fold "ſ" to "s" and the Kelvin sign to "k"; in JS without the u flag,
#   `\d` is ASCII and /i never folds a non-ASCII character onto an ASCII one.
# - fullmatch, not `$`: Python's `$` also matches before a trailing newline, JS's does not.
# - Every quantifier is possessive: each run ends where its character class does, so a failed
#   match is not retried with shorter runs (linear time; ms's own 100-character limit applies too).
_SHAPE = re.compile(r"(-?(?:[0-9]*+\.)?[0-9]++) *+([A-Za-z]*+)")
_MAX_LENGTH = 100  # ms: `if (str.length > 100) return;` (length in UTF-16 code units)

_MIN_MICROSECONDS = timedelta.min // timedelta(microseconds=1)
_MAX_MICROSECONDS = timedelta.max // timedelta(microseconds=1)

_EXPECTED = (
    "expected a number and an optional unit, e.g. '2 days', '1.5h', '-30s' or '500' (milliseconds)"
)
_UNIT_ADVICE = "use ms, s, m, h, d, w or y (or a long form such as 'minutes'), e.g. '2 days'"
_RANGE = "a duration must lie within ±999999999 days (what a timedelta holds)"
_NUMBER_ADVICE = "pass e.g. 3600 (seconds) or '1h'"


def parse_duration(value: str | int | float) -> timedelta:
    """Read a duration as Courier's `expires_in` allows it: an ms string, or a number of seconds.

    A string means exactly what vercel/ms 2.1.3 makes of it, in milliseconds ("2 days", "1.5h",
    "-30s", ".5ms"; a bare "500" is 500 ms), rounded to timedelta's resolution: the nearest
    microsecond, a tie to the even one as timedelta itself rounds (".0625ms" is 62 µs). An int or
    float is seconds, likewise rounded. Where ms returns undefined, or the value lies
    beyond what a timedelta holds (ms would return a finite number there), raise ValueError, as
    for a bool, NaN, infinity or any other type.

        >>> parse_duration("2 days")
        datetime.timedelta(days=2)
        >>> parse_duration("1.5h") == parse_duration(5400)
        True
    """
    if isinstance(value, str):
        return _from_text(value)
    if isinstance(value, bool):  # bool is an int subclass; True is no duration
        raise ValueError(
            f"invalid duration {value!r}: a bool is not a number of seconds; {_NUMBER_ADVICE}"
        )
    if isinstance(value, int):
        seconds = int(value)
        delta = _to_timedelta(Fraction(seconds * 1_000_000))
        if delta is None:
            raise ValueError(
                f"invalid duration {_show_int(seconds)} seconds: too large; {_RANGE}; "
                f"{_NUMBER_ADVICE}"
            )
        return delta
    if isinstance(value, float):
        seconds_float = float(value)
        if not math.isfinite(seconds_float):
            raise ValueError(
                f"invalid duration {seconds_float!r}: a number of seconds must be finite; "
                f"{_NUMBER_ADVICE}"
            )
        delta = _to_timedelta(Fraction(seconds_float) * 1_000_000)
        if delta is None:
            raise ValueError(
                f"invalid duration {seconds_float!r} seconds: too large; {_RANGE}; "
                f"{_NUMBER_ADVICE}"
            )
        return delta
    raise ValueError(
        f"invalid duration of type {type(value).__name__}: expected a string such as '2 days' "
        "or a number of seconds such as 3600"
    )


def duration_seconds(value: str | int | float) -> float:
    """The seconds a duration means, read as `parse_duration` reads it, of any finite size: a
    duration beyond what a timedelta holds ("3000000 years", 1e300) is a large float (an int
    too large for one is infinity), for a caller that shortens it to a maximum rather than
    refusing it. ValueError for what is no duration (as `parse_duration`)."""
    if isinstance(value, str):
        return _text_milliseconds(value) / 1000
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
        if number.bit_length() > 1000:
            return math.inf if number > 0 else -math.inf
        return float(number)
    if isinstance(value, float) and math.isfinite(value):
        return float(value)
    return parse_duration(value).total_seconds()  # raises: the message names the problem


def _from_text(text: str) -> timedelta:
    """Follow ms's parse(): length limit, shape, unit, then `parseFloat(number) * unit`."""
    milliseconds = _text_milliseconds(text)
    delta = _to_timedelta(Fraction(milliseconds) * 1000)
    if delta is None:
        # ms itself returns a finite number here (at most ~3e109 ms in 100 characters).
        raise ValueError(
            f"invalid duration {_show_text(text)}: too large ({milliseconds:.6g} ms); {_RANGE}; "
            "write e.g. '2 days'"
        )
    return delta


def _text_milliseconds(text: str) -> float:
    """ms's parse() of a string, as the float it returns; ValueError where it returns undefined."""
    shown = _show_text(text)
    if not text:
        raise ValueError(f"invalid duration {shown}: the string is empty; {_EXPECTED}")
    length = len(text) if len(text) > _MAX_LENGTH else _utf16_length(text)
    if length > _MAX_LENGTH:
        raise ValueError(
            f"invalid duration {shown}: {length} characters, at most {_MAX_LENGTH} are allowed; "
            f"{_EXPECTED}"
        )
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid duration {shown}: {_why_malformed(text)}{_EXPECTED}")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())  # `unit` is ASCII, so lower() is JS's toLowerCase()
    if factor is None:
        raise ValueError(f"invalid duration {shown}: unknown unit {unit!r}; {_UNIT_ADVICE}")
    # float() reads an ASCII decimal as parseFloat does: correctly rounded, "-0" gives -0.0.
    return float(number) * factor


def _to_timedelta(microseconds: Fraction) -> timedelta | None:
    """Round an exact amount to timedelta's resolution; None when no timedelta holds it."""
    rounded = round(microseconds)  # nearest; Fraction is exact, so no float error creeps in
    if not _MIN_MICROSECONDS <= rounded <= _MAX_MICROSECONDS:
        return None
    return timedelta(microseconds=rounded)


def _why_malformed(text: str) -> str:
    """Name the commonest reasons a string is no ms duration, to prefix the generic advice."""
    for char in text:
        if not char.isascii():
            return f"non-ASCII character {char!r} (U+{ord(char):04X}); "
        if not char.isprintable():
            return f"control character {char!r}; "
    if text[0] == " ":
        return "a space before the number; "
    return ""


def _utf16_length(text: str) -> int:
    # JS's `str.length` counts a character beyond the BMP twice (a surrogate pair).
    return len(text) + sum(1 for char in text if char > "\uffff")


def _show_text(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:30]!r}... ({len(text)} characters)"


def _show_int(number: int) -> str:
    if number.bit_length() > 10_000:  # str() of a huge int is slow and may hit Python's limit
        return f"an integer of {number.bit_length()} bits"
    digits = str(number)
    return digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits)} digits)"
