"""Questions about a policy as a whole: least privilege for a set of calls, and what a token can do."""
