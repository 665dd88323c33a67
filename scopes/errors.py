"""The errors users see: scope syntax errors with a caret, and policy errors with a location."""

from __future__ import annotations

__all__ = ["PolicyError", "ScopeSyntaxError", "TokenError"]

_WINDOW = 60  # characters of context shown on each side of a long input's error


def __dir__() -> list[str]:
    return __all__


def _visible(ch: str) -> str:
    """One character as it should appear in a one-line excerpt: tabs, NULs and such escaped."""
    if ch == "\t":
        return "\\t"
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if not ch.isprintable():
        return ascii(ch)[1:-1]
    return ch


class ScopeSyntaxError(ValueError):
    """A scope string that RFC 6749 §3.3 (as DESIGN.md reads it) does not allow.

    `position` is the 0-based offset of the first character at which the text can no longer
    begin a valid scope string (`len(text)` when the input ends too early).
    """

    def __init__(self, message: str, text: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.position = position

    def __reduce__(self) -> tuple[type[ScopeSyntaxError], tuple[str, str, int]]:
        # Keep pickling (multiprocessing, caches) working with three arguments.
        return (type(self), (self.message, self.text, self.position))

    def __str__(self) -> str:
        start = max(0, self.position - _WINDOW)
        end = min(len(self.text), self.position + _WINDOW)
        shown = [_visible(ch) for ch in self.text[start:end]]
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(self.text) else ""
        column = len(prefix) + sum(map(len, shown[: self.position - start]))
        excerpt = prefix + "".join(shown) + suffix
        return f"{self.message}\n    {excerpt}\n    {' ' * column}^"


class PolicyError(ValueError):
    """A policy that cannot be loaded: says where (file, line, entry) and how to fix it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        entry: str | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.entry = entry
        self.fix = fix

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (_rebuild_policy_error, (self.message, self.file, self.line, self.entry, self.fix))

    def __str__(self) -> str:
        where = self.file or "<policy>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: "
        if self.entry:
            text += f"{self.entry}: "
        text += self.message
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


def _rebuild_policy_error(
    message: str, file: str | None, line: int | None, entry: str | None, fix: str | None
) -> PolicyError:
    return PolicyError(message, file=file, line=line, entry=entry, fix=fix)


class TokenError(ValueError):
    """An access token that does not verify; `reason` names why, as one of `REASONS`.

    The message never contains the token. Values copied from the token are clipped and reduced
    to printable ASCII without `"` or `\\`, so `str(error)` can go into a log line or a
    `WWW-Authenticate: Bearer error_description="..."` (RFC 6750 §3) as it is.
    """

    REASONS = frozenset(
        {
            "malformed",  # not a compact JWS of JSON objects, too long, not a string
            "algorithm-not-allowed",  # alg outside the allow-list, or not the one of its key
            "wrong-type",  # typ is not at+jwt (RFC 9068 §4)
            "unknown-kid",  # no published key has the header's kid
            "bad-signature",
            "missing-claim",
            "wrong-issuer",
            "wrong-audience",
            "expired",
            "not-yet-valid",  # iat or nbf later than now plus the leeway
            "malformed-scope",  # the scope claim is not a valid scope string
            "keys-unavailable",  # no keys to verify with (a JWKS URL never answered)
        }
    )

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (_rebuild_token_error, (self.message, self.reason))

    def __str__(self) -> str:
        return self.message


def _rebuild_token_error(message: str, reason: str) -> TokenError:
    return TokenError(message, reason=reason)
