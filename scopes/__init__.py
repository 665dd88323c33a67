"""scopes: can this token call METHOD /path, and why. A scoped-token policy engine and validator."""

from scopes.decision import Decision
from scopes.duration import parse_duration
from scopes.errors import PolicyError, ScopeSyntaxError
from scopes.evaluate import Policy, parse
from scopes.lint import Diagnostic, lint
from scopes.model import PermissionScope, PrincipalScope, Scope, ScopeSet, UnknownScope

__all__ = [
    "Decision",
    "Diagnostic",
    "PermissionScope",
    "Policy",
    "PolicyError",
    "PrincipalScope",
    "Scope",
    "ScopeSet",
    "ScopeSyntaxError",
    "UnknownScope",
    "lint",
    "parse",
    "parse_duration",
]
