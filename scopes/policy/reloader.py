"""PolicyReloader: the policy in force, loaded again when its file changes or on SIGHUP.

Servers (forward-auth, the token service, the ASGI middleware) ask `current()` on every request
and decide with what it returns, so an edit takes effect on the next request after it is seen
(DESIGN.md, "Gateway contract": a broken policy keeps the old one and logs why).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable

from scopes.errors import PolicyError
from scopes.evaluate import Policy

__all__ = ["PolicyReloader"]

log = logging.getLogger("scopes.policy")


def __dir__() -> list[str]:
    return __all__


class PolicyReloader:
    """The policy of the file at `path` (the bundled Courier policy when `path` is None).

    `current()` looks at the file's modification time and size at most once per
    `check_interval` seconds and loads it again when they changed; `reload()` loads it now (what
    SIGHUP does, once `reload_on_sighup()` is installed). A new policy that does not load is
    logged with its reason (also in `last_error`) and the previous one keeps serving.
    `last_good` is the policy text checked when the server started: a worker that starts after
    the file broke serves that instead of failing.
    """

    def __init__(
        self,
        path: str | None,
        *,
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        last_good: str | None = None,
    ) -> None:
        self.path = path
        self.last_error: str | None = None
        self.policy = self._first_policy(path, last_good)
        self._interval = check_interval
        self._clock = clock
        self._next_check = clock() + check_interval
        self._stamp = self._file_stamp()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PolicyReloader({self.path!r}, policy={self.policy!r})"

    def current(self) -> Policy:
        """The policy to decide with; looks at the file at most once per check interval."""
        if self.path is not None:
            now = self._clock()
            if now >= self._next_check:
                self._next_check = now + self._interval
                stamp = self._file_stamp()
                if stamp is not None and stamp != self._stamp:
                    self._stamp = stamp
                    self.reload()
        return self.policy

    def reload(self) -> bool:
        """Load the file again; on failure keep the old policy and say why in the log."""
        if not self.path:
            return False
        with self._lock:
            try:
                fresh = Policy.from_file(self.path)
            except PolicyError as error:
                self.last_error = str(error)
                log.error(json.dumps({"event": "policy-reload-failed", "file": self.path,
                                      "error": str(error), "kept": "the previous policy"}))
                return False
            self.policy = fresh
            self._stamp = self._file_stamp()
            self.last_error = None
            log.warning(json.dumps({"event": "policy-reloaded", "file": self.path,
                                    "routes": len(fresh.routes)}))
            return True

    def reload_on_sighup(self) -> None:
        """Install a SIGHUP handler that reloads the policy (main thread only: ValueError else)."""
        signal.signal(signal.SIGHUP, lambda signum, frame: self.reload())

    def _first_policy(self, path: str | None, last_good: str | None) -> Policy:
        """The file's policy; if it broke since `scopes serve` checked it (a worker restarted
        after an edit), the text that loaded then, and the reason in the log."""
        if not path:
            return Policy.courier()
        try:
            return Policy.from_file(path)
        except PolicyError as error:
            if last_good is None:
                raise
            self.last_error = str(error)
            log.error(json.dumps({"event": "policy-load-failed", "file": path,
                                  "error": str(error), "kept": "the policy checked at start"}))
            return Policy.from_toml(last_good, file=path)

    def _file_stamp(self) -> tuple[float, int] | None:
        if not self.path:
            return None
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)
