"""scopes: can this token call METHOD /path, and why. A scoped-token policy engine and validator."""

from scopes.decision import Decision
from scopes.duration import parse_duration
from scopes.errors import PolicyError, ScopeSyntaxError, TokenError
from scopes.evaluate import Policy, parse
from scopes.lint import Diagnostic, lint
from scopes.model import PermissionScope, PrincipalScope, Scope, ScopeSet, UnknownScope
from scopes.tokens import verify_token

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
    "TokenError",
    "UnknownScope",
    "lint",
    "parse",
    "parse_duration",
    "verify_token",
]
