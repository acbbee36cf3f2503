"""Retry delays: exponential backoff with a cap."""

from __future__ import annotations

import pytest

from app.jobs.queue import task
from app.jobs.retry import MAX_RETRY_DELAY, RetryPolicy


def test_delays_grow_exponentially_from_the_base_delay() -> None:
    policy = RetryPolicy(retries=5, backoff=2.0, base_delay=5.0)
    assert [policy.delay(retry) for retry in range(5)] == [5.0, 10.0, 20.0, 40.0, 80.0]


def test_delays_stop_growing_at_the_cap() -> None:
    policy = RetryPolicy(retries=20, backoff=3.0, base_delay=5.0)
    delays = [policy.delay(retry) for retry in range(20)]
    assert delays == sorted(delays)
    assert max(delays) == MAX_RETRY_DELAY == 15 * 60
    assert policy.delay(100_000) == MAX_RETRY_DELAY  # no overflow


def test_a_backoff_of_one_keeps_the_delay_fixed() -> None:
    policy = RetryPolicy(backoff=1.0, base_delay=0.01)
    assert {policy.delay(retry) for retry in range(5)} == {0.01}


@pytest.mark.parametrize(
    "options",
    [{"retries": -1}, {"backoff": 0.5}, {"base_delay": -1.0}],
)
def test_nonsense_retry_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        task(**options)  # type: ignore[arg-type]


def test_a_negative_retry_number_is_refused() -> None:
    with pytest.raises(ValueError, match="retry"):
        RetryPolicy().delay(-1)
