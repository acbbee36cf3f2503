"""Sign-in throttling per account and per network address.

Keys are stored as keyed hashes (HMAC with the app's secret), so the table holds no
login names or IP addresses. Unknown login names are throttled exactly like real ones.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import SignInThrottle, ThrottleScope
from app.core.config import Settings


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    secret: str
    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)

    def limit(self, scope: ThrottleScope) -> int:
        return self.account_failures if scope is ThrottleScope.ACCOUNT else self.address_failures


def throttle_rules(settings: Settings) -> ThrottleRules:
    return ThrottleRules(
        secret=settings.secret_key,
        account_failures=settings.throttle_account_failures,
        address_failures=settings.throttle_address_failures,
        window=timedelta(seconds=settings.throttle_window_seconds),
        lock=timedelta(seconds=settings.throttle_lock_seconds),
    )


def _key_hash(rules: ThrottleRules, scope: ThrottleScope, key: str) -> str:
    message = f"{scope.value}:{key}".encode()
    return hmac.new(rules.secret.encode(), message, hashlib.sha256).hexdigest()


def _row(
    session: Session, rules: ThrottleRules, scope: ThrottleScope, key: str
) -> SignInThrottle | None:
    return session.scalars(
        select(SignInThrottle).where(
            SignInThrottle.scope == scope, SignInThrottle.key_hash == _key_hash(rules, scope, key)
        )
    ).first()


def is_locked(
    session: Session, rules: ThrottleRules, scope: ThrottleScope, key: str, now: datetime
) -> bool:
    row = _row(session, rules, scope, key)
    return row is not None and row.locked_until is not None and row.locked_until > now


def register_failure(
    session: Session, rules: ThrottleRules, scope: ThrottleScope, key: str, now: datetime
) -> bool:
    """Count one failure; return True when this failure locks the key."""
    row = _row(session, rules, scope, key)
    if row is None:
        row = SignInThrottle(
            scope=scope, key_hash=_key_hash(rules, scope, key), failures=0, window_started_at=now
        )
        session.add(row)
    if now - row.window_started_at > rules.window:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    locked = row.failures >= rules.limit(scope)
    if locked:
        row.locked_until = now + rules.lock
        row.failures = 0
        row.window_started_at = now
    session.flush()
    return locked


def clear(session: Session, rules: ThrottleRules, scope: ThrottleScope, key: str) -> None:
    row = _row(session, rules, scope, key)
    if row is not None:
        session.delete(row)
        session.flush()
