"""`--fix`: apply the safe rewrites (duplicates, redundancy, spacing, a unique case fix)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scopes.evaluate import Policy
from scopes.lint.diagnostic import Diagnostic
from scopes.lint.rules import Rules, rules_for

__all__ = ["apply_fixes", "fix", "fix_with"]

# A round can reveal work for the next (`READ:BRANDS read:brands` becomes a duplicate once the
# case is fixed), and every round removes a scope or fixes a case, so few rounds suffice.
_MAX_ROUNDS = 8
_UNFIXABLE = frozenset({"S100", "S101"})  # no tokens to rewrite


def __dir__() -> list[str]:
    return __all__


def apply_fixes(
    text: str, diagnostics: Iterable[Diagnostic], keep: Callable[[str], bool] | None = None
) -> str:
    """Apply every diagnostic's fix once; spaces left behind by a removal become single spaces.

    A string with a syntax error, or an empty one, is returned unchanged. With `keep`, only
    the fixes of the codes it keeps are applied (deselected and suppressed codes are not).
    """
    diagnostics = list(diagnostics)
    if any(d.code in _UNFIXABLE for d in diagnostics):
        return text
    edits = sorted((d.start, d.end, d.fix) for d in diagnostics
                   if d.fix is not None and (keep is None or keep(d.code)))
    if not edits:
        return text
    pieces: list[str] = []
    position = 0
    for start, end, replacement in edits:
        if start < position:  # rules never overlap; stay safe if one ever does
            continue
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return " ".join(word for word in "".join(pieces).split(" ") if word)


def fix_with(
    rules: Rules, text: str, *, token: bool = True, keep: Callable[[str], bool] | None = None
) -> str:
    """Rewrite until nothing changes, so `fix(fix(s)) == fix(s)`; `keep` as for apply_fixes."""
    for _ in range(_MAX_ROUNDS):
        fixed = apply_fixes(text, rules.lint(text, token=token), keep)
        if fixed == text:
            break
        text = fixed
    return text


def fix(text: str, policy: Policy | None = None) -> str:
    """The scope string with every safe fix applied; meaning is kept.

    Duplicates and redundant scopes go, spacing becomes single spaces, and a scope whose name
    differs from a catalogue name only in case, and from no other, gets that name's case
    (`READ:BRANDS` grants nothing; `read:brands` is what it was written for).

    >>> fix("  read:brands read:brands:acme  READ:MESSAGES user_id:x")
    'read:brands read:messages user_id:x'
    """
    return fix_with(rules_for(policy), text)
