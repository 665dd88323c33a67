"""A JWKS URL's keys as an event loop sees them: what was fetched, never a fetch.

Forward-auth and the middleware verify tokens on the event loop. Fetching a key set is blocking
network I/O, so here it only ever runs in one worker thread of its own, and no request waits
for it longer than the fetch deadline (the whole fetch, not one read): a key server that hangs
or trickles bytes stalls nobody. Requests read the last key set; while there has never been one,
`available()` is False and token checks are an outage (503), not `invalid_token`.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future, ThreadPoolExecutor

from scopes.errors import TokenError
from scopes.tokens._jose import KeySet, VerificationKey
from scopes.tokens.jwks import PublicKeys

__all__ = ["CHECK_SECONDS", "LoopKeys", "for_the_loop"]

CHECK_SECONDS = 1.0  # the URL's own schedule is looked at (in the worker thread) this often


def __dir__() -> list[str]:
    return __all__


def for_the_loop(keys: PublicKeys) -> PublicKeys:
    """`keys` wrapped for the event loop when they come from a URL; as they are when reading
    them never blocks (a dict, a file, a key directory)."""
    if getattr(keys, "url", None) is None or isinstance(keys, LoopKeys):
        return keys
    return LoopKeys(keys)


class LoopKeys(PublicKeys):
    """The keys of `remote` (a JWKS URL's), refreshed in a worker thread on its own schedule.

    `catch_up` starts a refresh when one is due (at most once a CHECK_SECONDS, or when a token
    named an unknown kid) and waits for it only when there is something to wait for: no keys
    yet, or a kid the token named; never longer than the deadline. One fetch at a time: a
    fetch that hangs is not joined by another.
    """

    def __init__(self, remote: PublicKeys, *, deadline: float | None = None) -> None:
        self.remote = remote
        self.source = remote.source
        self.skipped = ()
        timeout = getattr(remote, "timeout", 5.0)
        self.deadline: float = deadline if deadline is not None else float(timeout)
        self._latest: KeySet | None = None
        self._checked = float("-inf")  # time.monotonic() of the last catch-up
        self._unknown: str | None = None  # a kid a token named that the set does not have
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scopes-jwks")
        self._inflight: Future[None] | None = None
        self.error: str | None = None  # why the last fetch failed (for the server's own log)

    def __repr__(self) -> str:
        return f"LoopKeys(source={self.source!r})"

    def available(self) -> bool:
        """Whether there are keys to verify with (never fetches)."""
        return self._latest is not None

    def key_set(self) -> KeySet:
        current = self._latest
        if current is None:
            raise TokenError("signing keys unavailable", reason="keys-unavailable")
        return current

    def get(self, kid: str) -> VerificationKey | None:
        key = self.key_set().by_kid.get(kid)
        if key is None:
            self._unknown = kid
        return key

    def refresh(self) -> bool:
        changed = self.remote.refresh()
        self._latest = self.remote.key_set()
        return changed

    def due(self) -> bool:
        return self._latest is None or time.monotonic() - self._checked >= CHECK_SECONDS

    def missed(self) -> bool:
        """Whether a token named a kid the set does not have since the last catch-up."""
        return self._unknown is not None

    async def catch_up(self, *, wait: bool | None = None) -> None:
        """Let the URL's keys refresh off the loop; wait (at most the deadline) only when there
        are no keys yet or a token named an unknown kid (unless `wait` says otherwise)."""
        self._checked = time.monotonic()
        if wait is None:
            wait = self._latest is None or self._unknown is not None
        future = self._inflight
        if future is None or future.done():
            future = self._inflight = self._worker.submit(self._sync)
        if not wait:
            return
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.deadline)
        except TimeoutError:
            self.error = f"the JWKS at {self.source} took longer than {self.deadline:g}s"

    def _sync(self) -> None:
        unknown, self._unknown = self._unknown, None
        try:
            if unknown is not None:
                self.remote.get(unknown)  # fetches unless the URL fetched for a kid lately
            self._latest = self.remote.key_set()
            self.error = getattr(self.remote, "last_error", None)
        except TokenError as error:  # never fetched: kept for the server's log, never a client's
            self.error = str(error)
