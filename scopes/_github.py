"""GitHub Actions workflow commands ("Setting an error message"), escaped as they require."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["annotation"]


def __dir__() -> list[str]:
    return __all__


def annotation(level: str, properties: Mapping[str, object], message: str) -> str:
    """`::LEVEL name=value,...::message`; properties whose value is None are left out."""
    shown = ",".join(
        f"{name}={_escape(str(value), True)}" for name, value in properties.items() if value is not None
    )
    return f"::{level} {shown}::{_escape(message, False)}"


def _escape(text: str, is_property: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text
