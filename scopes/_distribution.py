"""The distribution's name on PyPI, which is not the import name: `pip install scopes-policy`.

`scopes` on PyPI is an unrelated project; the import package and the command stay `scopes`.
Install hints name this distribution (tests/test_distribution.py checks every one).
"""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "install_hint"]

DISTRIBUTION = "scopes-policy"


def __dir__() -> list[str]:
    return __all__


def install_hint(extra: str) -> str:
    """The command that installs an extra: `pip install 'scopes-policy[graphql]'`."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
