"""The token service: HTTP endpoints, rate limits, and the commands that run them."""
