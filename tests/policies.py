"""Policy files the tests write and edit while servers run (reloads)."""

from __future__ import annotations

from pathlib import Path

COURIER = Path(__file__).resolve().parents[1] / "scopes" / "policy" / "courier.toml"

# What a reload adds: a scope no token layer or verifier cache has heard of, and a route needing it.
LABELS = """
[scopes."read:labels"]
description = "Read labels."

[[endpoints]]
methods = ["GET"]
path = "/labels"
any_of = ["read:labels"]
"""


def courier_text(*, labels: bool = False) -> str:
    """The bundled Courier policy's text, with the labels scope and route when asked."""
    text = COURIER.read_text(encoding="utf-8")
    return text + LABELS if labels else text
