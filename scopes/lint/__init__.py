"""The scope linter: `lint(text, policy=None)` for one string; files, fixes, reports beside it."""

from scopes.lint.codes import CODES, Code
from scopes.lint.diagnostic import Diagnostic
from scopes.lint.fixes import fix
from scopes.lint.rules import lint

__all__ = ["CODES", "Code", "Diagnostic", "fix", "lint"]
