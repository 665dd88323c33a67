"""A small thread-safe pool of database connections that never carries one across a fork."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from scopes.store.base import StoreError, StoreUnavailable

__all__ = ["Pool"]

C = TypeVar("C")


class Pool(Generic[C]):
    """Hand out connections one caller at a time; keep up to `max_idle` for reuse.

    A connection is never shared by two threads at once, yet any thread may use any connection in
    turn, so threads that come and go leave nothing behind. `max_open` bounds the connections in
    use at once; a caller that finds them all busy for `wait` seconds gets `StoreUnavailable`
    rather than waiting forever.

    After a fork the child must not touch the parent's connections, not even to close them (that
    would end the parent's session): the child drops them from the pool but keeps a reference,
    so that no finalizer runs on them, and opens its own.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        *,
        max_idle: int,
        max_open: int | None = None,
        wait: float = 5.0,
    ) -> None:
        self._connect = connect
        self._close = close
        self._max_idle = max_idle
        self._max_open = max_open
        self._wait = wait
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_open) if max_open else None
        self._idle: list[C] = []
        self._inherited: list[C] = []
        self._pid = os.getpid()
        self._closed = False

    def acquire(self) -> tuple[C, bool]:
        """A connection, and whether it was used before (and so may have gone stale)."""
        if self._pid != os.getpid():
            with self._lock:
                self._forget_after_fork()
        if self._slots is not None and not self._slots.acquire(timeout=self._wait):
            raise StoreUnavailable(
                f"all {self._max_open} database connections stayed busy for {self._wait:g}s"
            )
        try:
            with self._lock:
                if self._closed:
                    raise StoreError("the client store is closed")
                self._forget_after_fork()
                if self._idle:
                    return self._idle.pop(), True
            return self._connect(), False
        except BaseException:
            self._free_slot()
            raise

    def release(self, conn: C) -> None:
        """Give back a healthy connection."""
        with self._lock:
            keep = (
                not self._closed and self._pid == os.getpid() and len(self._idle) < self._max_idle
            )
            if keep:
                self._idle.append(conn)
        if not keep:
            self._close_quietly(conn)
        self._free_slot()

    def discard(self, conn: C, *, idle_too: bool = False) -> None:
        """Close a connection that failed; with `idle_too`, also the idle ones (the server went
        away, so they are dead as well)."""
        dropped: list[C] = []
        if idle_too:
            with self._lock:
                dropped, self._idle = self._idle, []
        for each in [conn, *dropped]:
            self._close_quietly(each)
        self._free_slot()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close_quietly(conn)

    def _forget_after_fork(self) -> None:
        if self._pid != os.getpid():
            # Only the forking thread lives on in the child: slots held by the others are free.
            self._inherited.extend(self._idle)
            self._idle = []
            self._pid = os.getpid()
            if self._max_open:
                self._slots = threading.BoundedSemaphore(self._max_open)

    def _close_quietly(self, conn: C) -> None:
        if self._pid != os.getpid():
            self._inherited.append(conn)
            return
        try:
            self._close(conn)
        except Exception:  # a dead connection may fail to close; it is gone either way
            pass

    def _free_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()
