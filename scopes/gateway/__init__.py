"""Verifying bearer tokens where requests arrive: forward-auth for gateways, and the core the
ASGI middleware shares with it."""
