"""scopes: a scoped-token policy engine and validator."""
