"""Per-department protection for the departments and for us: a circuit breaker, a rate limiter.

Both are plain asyncio objects owned by one connector instance (one per
department per process). Clocks are injectable so tests can step time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from connectors.errors import CircuitOpen

Clock = Callable[[], float]


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; one trial call after `cool_down` seconds.

    While open, calls fail at once with `CircuitOpen` instead of piling more
    load on a department that is already failing.
    """

    def __init__(
        self, source: str, threshold: int = 5, cool_down: float = 5.0, clock: Clock = time.monotonic
    ) -> None:
        if threshold < 1 or cool_down <= 0:
            raise ValueError("threshold must be >= 1 and cool_down > 0")
        self.source = source
        self.threshold = threshold
        self.cool_down = cool_down
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.cool_down else "open"

    def before_call(self) -> None:
        if self._opened_at is None:
            return
        waited = self._clock() - self._opened_at
        if waited < self.cool_down or self._trial_running:
            raise CircuitOpen(self.source, max(self.cool_down - waited, 0.1))
        self._trial_running = True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial_running = False


class RateLimiter:
    """A token bucket: at most `rate` calls per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)
