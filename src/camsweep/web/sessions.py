"""Server-side browser sessions: the cookie holds a random id, the store holds its hash.

Server-side so that logout, disabling an account and a password reset end a session at
once (a signed cookie stays valid until it expires). A session ends after `idle` without
a request or `lifetime` after sign-in, whichever comes first. Each session has its own
CSRF token, which every state-changing form must echo.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from camsweep.store import Store
from camsweep.store.bulk import utcnow
from camsweep.store.models import Department, User, WebSession
from camsweep.track.audit import append_audit
from camsweep.web.accounts import principal_of, user_view
from camsweep.web.credentials import digest, new_csrf
from camsweep.web.roles import Principal

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at precision: one write a minute, not per hit


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class ActiveSession:
    id: int
    principal: Principal
    csrf: str
    expires_at: datetime


def start_session(store: Store, user_id: int, client: str | None, user_agent: str | None,
                  policy: SessionPolicy) -> tuple[str, str]:
    """A new session: (cookie value, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = new_csrf()
    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(insert(WebSession).values(
            user_id=user_id, token_hash=digest(token), csrf_token=csrf,
            client=(client or "")[:64] or None, user_agent=(user_agent or "")[:300] or None,
            created_at=now, last_seen_at=now, expires_at=now + policy.lifetime,
            revoked_at=None))
    return token, csrf


def resolve_session(store: Store, token: str | None, policy: SessionPolicy
                    ) -> ActiveSession | None:
    if not token or len(token) > 200:
        return None
    now = utcnow()
    with store.session() as s:
        row = s.execute(
            select(WebSession.id, WebSession.csrf_token, WebSession.expires_at,
                   WebSession.last_seen_at, WebSession.revoked_at, User, Department.name)
            .join(User, WebSession.user_id == User.id)
            .outerjoin(Department, User.department_id == Department.id)
            .where(WebSession.token_hash == digest(token))).first()
        if row is None or row.revoked_at is not None or row[5].disabled:
            return None
        if row.expires_at <= now or now - row.last_seen_at > policy.idle:
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            s.execute(update(WebSession).where(WebSession.id == row.id)
                      .values(last_seen_at=now))
            s.commit()
        principal = principal_of(user_view(row[5], row[6]), via="session")
        return ActiveSession(row.id, principal, row.csrf_token, row.expires_at)


def end_session(store: Store, session_id: int, username: str, client: str | None) -> None:
    """Sign out: the session is revoked and the sign-out audited, together."""
    with store.engine.begin() as conn:
        conn.execute(update(WebSession).where(WebSession.id == session_id,
                                              WebSession.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))
        append_audit(conn, username, "logout", "user", username, {"client": client})
