"""`python -m scopes`: the same as the `scopes` command."""

from scopes.cli import main

raise SystemExit(main())
