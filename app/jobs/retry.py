"""How long a failed job waits before its next attempt: exponential backoff, capped."""

from __future__ import annotations

from dataclasses import dataclass

MAX_RETRY_DELAY = 15 * 60.0  # seconds; no retry waits longer than this


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``retries`` further attempts after the first, the n-th (from 0) after
    ``base_delay * backoff ** n`` seconds, never more than ``cap``."""

    retries: int = 5
    backoff: float = 2.0
    base_delay: float = 5.0
    cap: float = MAX_RETRY_DELAY

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be zero or more")
        if self.backoff < 1:
            raise ValueError("backoff must be at least 1 (delays never shrink)")
        if self.base_delay < 0 or self.cap < 0:
            raise ValueError("delays must be zero or more")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        if retry < 0:
            raise ValueError("retry must be zero or more")
        try:
            return min(self.cap, self.base_delay * self.backoff**retry)
        except OverflowError:
            return self.cap
