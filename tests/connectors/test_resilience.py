from __future__ import annotations

import time

import pytest

from connectors.errors import CircuitOpen
from connectors.resilience import CircuitBreaker, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_and_half_opens_after_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker("tax", threshold=3, cool_down=5, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(5)
    clock.now += 5
    assert breaker.state == "half-open"
    breaker.before_call()  # the one trial call
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # no second call while the trial runs
    breaker.record_success()
    assert breaker.state == "closed"


def test_failed_trial_reopens_at_once() -> None:
    clock = Clock()
    breaker = CircuitBreaker("tax", threshold=2, cool_down=1, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 1
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker("tax", threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


@pytest.mark.parametrize(("threshold", "cool_down"), [(0, 1.0), (1, 0.0)])
def test_breaker_refuses_nonsense(threshold: int, cool_down: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker("tax", threshold, cool_down)


@pytest.mark.anyio
async def test_rate_limiter_spaces_calls_after_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=2, clock=clock)
    await limiter.acquire()
    await limiter.acquire()
    clock.now += 0.15  # one and a half tokens refill
    await limiter.acquire()
    assert limiter._tokens == pytest.approx(0.5)


@pytest.mark.anyio
async def test_rate_limiter_waits_in_real_time() -> None:
    limiter = RateLimiter(rate=20, burst=1)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire()
    assert time.monotonic() - started >= 0.09
