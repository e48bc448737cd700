"""The in-process sign-in limiter: a sliding window per key."""

from accounts.ratelimit import SlidingWindowLimiter


def test_sliding_window_allows_the_limit_then_says_how_long_to_wait() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    now[0] = 10.0
    assert limiter.hit("a") == 50.0
    assert limiter.hit("b") is None  # keys are independent
    now[0] = 60.0  # the first attempt left the window
    assert limiter.hit("a") is None


def test_memory_stays_bounded() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(1, 60.0, clock=lambda: now[0], max_keys=10)
    for i in range(100):
        now[0] = float(i)
        limiter.hit(f"k{i}")
    assert len(limiter._hits) <= 10
