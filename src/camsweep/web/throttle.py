"""Login throttling: failures counted per account name and per client address.

Per name stops guessing one account's password from many addresses; per address stops one
client spraying many names. A key that reaches its limit inside the window is locked for
the lock-out period, and while locked no password is even checked, so a correct guess
inside a lock-out teaches the attacker nothing. Unknown names are counted like known ones
so the answers never tell which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from camsweep.store.models import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    per_user: int = 5
    per_client: int = 30
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Count:
    failures: int
    window_start: datetime
    locked_until: datetime | None


def after_failure(current: Count | None, limit: int, policy: ThrottlePolicy,
                  now: datetime) -> Count:
    """The next state of one key after a failed attempt (pure)."""
    if current is None or now - current.window_start >= policy.window:
        current = Count(0, now, None)
    failures = current.failures + 1
    locked = now + policy.lockout if failures >= limit else current.locked_until
    return Count(failures, current.window_start, locked)


def user_key(username: str) -> str:
    return "user:" + username.strip().lower()[:150]


def client_key(client: str | None) -> str:
    return "client:" + (client or "unknown")[:150]


def locked_until(conn: Connection, keys: list[str], now: datetime) -> datetime | None:
    rows = conn.execute(select(LoginThrottle.locked_until)
                        .where(LoginThrottle.key.in_(keys),
                               LoginThrottle.locked_until > now)).scalars().all()
    return max((r for r in rows if r is not None), default=None)


def record_failure(conn: Connection, key: str, limit: int, policy: ThrottlePolicy,
                   now: datetime) -> Count:
    for _attempt in range(3):
        row = conn.execute(select(LoginThrottle.failures, LoginThrottle.window_start,
                                  LoginThrottle.locked_until)
                           .where(LoginThrottle.key == key)).first()
        state = after_failure(Count(*row) if row else None, limit, policy, now)
        values = {"failures": state.failures, "window_start": state.window_start,
                  "locked_until": state.locked_until}
        if row is not None:
            conn.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(**values))
            return state
        try:
            with conn.begin_nested():
                conn.execute(insert(LoginThrottle).values(key=key, **values))
        except IntegrityError:  # a concurrent failure created the row first: count on it
            continue
        return state
    return state


def clear(conn: Connection, key: str) -> None:
    conn.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
