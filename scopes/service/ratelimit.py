"""In-process rate limits for the token endpoints: a token bucket per key (client, address)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimit", "RateLimiter"]

MAX_TRACKED_KEYS = 100_000  # least recently seen keys are forgotten past this (bounded memory)


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`N/s` or `N/min`: N requests per period, in bursts of up to N. `0` turns limits off."""

    requests: int
    per_seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """`"20/s"`, `"600/min"`; `"0"` (or `"0/s"`) means no limit and returns None."""
        value = text.strip()
        if value == "0":
            return None
        count, slash, unit = value.partition("/")
        periods = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0}
        if not slash or unit not in periods or not count.isdigit():
            raise ValueError(f"rate limit {text!r} must look like '20/s' or '600/min' (or 0: off)")
        requests = int(count)
        if requests == 0:
            return None
        return cls(requests, periods[unit])

    def __str__(self) -> str:
        return f"{self.requests}/{'s' if self.per_seconds == 1 else 'min'}"


class RateLimiter:
    """Token buckets keyed by any string; `check(key)` returns 0 when allowed, else the
    whole seconds to wait (the `Retry-After` value). Thread-safe, bounded in memory."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = limit.requests / limit.per_seconds  # tokens per second
        self._burst = float(limit.requests)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def check(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0
            else:
                self._buckets[key] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self._rate))
            if len(self._buckets) > MAX_TRACKED_KEYS:
                self._buckets.popitem(last=False)
            return wait
