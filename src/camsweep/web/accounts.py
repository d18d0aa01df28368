"""Local accounts and API tokens (store-facing; the CLI and the web app both call these).

Every change is appended to the hash-chained audit log in the same transaction as the
change itself, so the log can never claim a change that did not happen, or miss one.
Disabling an account or resetting its password ends its sessions and API tokens at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from camsweep.errors import AccountError
from camsweep.store import Store
from camsweep.store.bulk import utcnow
from camsweep.store.models import ApiToken, Department, User, WebSession
from camsweep.track.audit import append_audit
from camsweep.web.credentials import (
    DEFAULT_HASHER,
    check_password_policy,
    digest,
    hash_password,
    needs_rehash,
    new_token,
    verify_password,
)
from camsweep.web.roles import Principal, Role, parse_role
from camsweep.web.throttle import (
    ThrottlePolicy,
    clear,
    client_key,
    locked_until,
    record_failure,
    user_key,
)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")
LOGIN_TOKEN_NAME = "sign-in"


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    department_id: int | None
    department: str | None
    procurement: bool
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "department": self.department,
                "procurement": self.procurement, "disabled": self.disabled,
                "created_at": self.created_at.isoformat(),
                "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None}


@dataclass(frozen=True)
class TokenView:
    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None
                                            or self.expires_at > utcnow())

    def as_dict(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {"id": self.id, "username": self.username, "name": self.name,
                "prefix": self.prefix, "created_at": iso(self.created_at),
                "expires_at": iso(self.expires_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at), "active": self.active}


def normalise_username(name: str) -> str:
    clean = (name or "").strip().lower()
    if not USERNAME.match(clean):
        raise AccountError(f"user name {name!r} is not valid: 2-100 characters, letters, digits "
                           "and . _ @ - only, starting with a letter or digit")
    return clean


def _user_query() -> Any:
    return select(User, Department.name).outerjoin(Department,
                                                   User.department_id == Department.id)


def user_view(user: User, department: str | None) -> UserView:
    return UserView(user.id, user.username, user.role, user.department_id, department,
                    user.procurement, user.disabled, user.created_at, user.last_login_at)


def principal_of(user: UserView, via: str = "session") -> Principal:
    role = parse_role(user.role)
    if role is None:  # only possible if someone edited the table by hand
        raise AccountError(f"user {user.username!r} has an unknown role {user.role!r}")
    return Principal(user.id, user.username, role, user.department_id, user.department,
                     user.procurement, via)


@contextmanager
def _tx(store: Store) -> Iterator[tuple[Session, Connection]]:
    """One transaction for the change and its audit entry."""
    with store.session() as session, session.begin():
        yield session, session.connection()


def _department_id(conn: Connection, name: str, create: bool) -> int:
    clean = name.strip()
    found = conn.execute(select(Department.id).where(Department.name == clean)).scalar()
    if found is not None:
        return int(found)
    if not create:
        known = conn.execute(select(Department.name).order_by(Department.name)).scalars().all()
        hint = f"known: {', '.join(known)}" if known else "no departments are known yet"
        raise AccountError(f"no department {clean!r} ({hint}); import its site list first or "
                           "pass --create-department")
    return int(conn.execute(insert(Department).values(name=clean)
                            .returning(Department.id)).scalar_one())


def _load(session: Session, username: str) -> UserView:
    row = session.execute(_user_query().where(User.username == username)
                          .execution_options(populate_existing=True)).first()
    if row is None:
        raise AccountError(f"no user {username!r} (see `camsweep user list`)")
    return user_view(row[0], row[1])


def find_user(store: Store, username: str) -> UserView | None:
    try:
        name = normalise_username(username)
    except AccountError:
        return None
    with store.session() as s:
        row = s.execute(_user_query().where(User.username == name)).first()
        return user_view(row[0], row[1]) if row else None


def list_users(store: Store, department_id: int | None = None, *,
               all_departments: bool = True) -> list[UserView]:
    """Every account, or (when `all_departments` is false) only those of one department."""
    query = _user_query().order_by(User.username)
    if not all_departments:
        query = query.where(User.department_id == department_id)
    with store.session() as s:
        return [user_view(u, d) for u, d in s.execute(query).all()]


def add_user(store: Store, actor: str, username: str, role: str, password: str, *,
             department: str | None = None, procurement: bool = False,
             create_department: bool = False, hasher: PasswordHasher = DEFAULT_HASHER
             ) -> UserView:
    name = normalise_username(username)
    parsed = parse_role(role)
    if parsed is None:
        raise AccountError(f"role {role!r} is not one of: "
                           f"{', '.join(r.value for r in Role)}")
    if parsed is Role.CENTRAL_ADMIN and department:
        raise AccountError("a central admin sees every department: leave out --department")
    if parsed is not Role.CENTRAL_ADMIN and not (department and department.strip()):
        raise AccountError(f"a {parsed.value} belongs to one department: pass --department NAME")
    check_password_policy(password, name)
    hashed = hash_password(password, hasher)
    now = utcnow()
    with _tx(store) as (session, conn):
        if conn.execute(select(User.id).where(User.username == name)).first():
            raise AccountError(f"user {name!r} already exists (use `camsweep user reset` to "
                               "set a new password)")
        dept_id = _department_id(conn, department, create_department) if department else None
        conn.execute(insert(User).values(
            username=name, password_hash=hashed, role=parsed.value, department_id=dept_id,
            procurement=procurement, disabled=False, created_at=now, updated_at=now,
            password_changed_at=now, last_login_at=None))
        append_audit(conn, actor, "user.add", "user", name,
                     {"role": parsed.value, "department": department.strip() if department
                      else None, "procurement": procurement})
        return _load(session, name)


def _end_access(conn: Connection, user_id: int, now: datetime, tokens: bool) -> None:
    conn.execute(update(WebSession).where(WebSession.user_id == user_id,
                                          WebSession.revoked_at.is_(None))
                 .values(revoked_at=now))
    if tokens:
        conn.execute(update(ApiToken).where(ApiToken.user_id == user_id,
                                            ApiToken.revoked_at.is_(None))
                     .values(revoked_at=now))


def set_disabled(store: Store, actor: str, username: str, disabled: bool) -> UserView:
    """Disabling ends every session and revokes every token: access stops now, not later."""
    name = normalise_username(username)
    now = utcnow()
    with _tx(store) as (session, conn):
        user = _load(session, name)
        conn.execute(update(User).where(User.id == user.id)
                     .values(disabled=disabled, updated_at=now))
        if disabled:
            _end_access(conn, user.id, now, tokens=True)
        append_audit(conn, actor, "user.disable" if disabled else "user.enable", "user", name,
                     {"was_disabled": user.disabled})
        return _load(session, name)


def reset_password(store: Store, actor: str, username: str, password: str, *,
                   hasher: PasswordHasher = DEFAULT_HASHER) -> UserView:
    """A new password ends the account's sessions (tokens stay: automation is separate)."""
    name = normalise_username(username)
    check_password_policy(password, name)
    hashed = hash_password(password, hasher)
    now = utcnow()
    with _tx(store) as (session, conn):
        user = _load(session, name)
        conn.execute(update(User).where(User.id == user.id).values(
            password_hash=hashed, password_changed_at=now, updated_at=now))
        _end_access(conn, user.id, now, tokens=False)
        append_audit(conn, actor, "user.reset", "user", name, {})
        return _load(session, name)


def _token_view(t: Any, username: str) -> TokenView:
    return TokenView(t.id, username, t.name, t.prefix, t.created_at, t.expires_at,
                     t.last_used_at, t.revoked_at)


def _load_token(conn: Connection, token_id: int, username: str) -> TokenView:
    row = conn.execute(select(*ApiToken.__table__.columns).where(ApiToken.id == token_id)).one()
    return _token_view(row, username)


def create_token(store: Store, actor: str, username: str, name: str, *,
                 expires_in: timedelta | None = None, audit_action: str = "token.create"
                 ) -> tuple[str, TokenView]:
    """A new API token: the secret is returned once and only its hash is kept."""
    label = (name or "").strip()
    if not label or len(label) > 100:
        raise AccountError("a token needs a name of 1-100 characters (what it is for)")
    user_name = normalise_username(username)
    secret = new_token()
    now = utcnow()
    with _tx(store) as (session, conn):
        user = _load(session, user_name)
        if user.disabled:
            raise AccountError(f"user {user_name!r} is disabled; enable it first")
        token_id = conn.execute(insert(ApiToken).values(
            user_id=user.id, name=label, token_hash=digest(secret), prefix=secret[:12],
            created_at=now, expires_at=now + expires_in if expires_in else None,
            last_used_at=None, revoked_at=None).returning(ApiToken.id)).scalar_one()
        append_audit(conn, actor, audit_action, "api_token", str(token_id),
                     {"user": user_name, "name": label, "prefix": secret[:12],
                      "expires_at": (now + expires_in).isoformat() if expires_in else None})
        return secret, _load_token(conn, token_id, user_name)


def list_tokens(store: Store, username: str | None = None, *,
                include_sign_in: bool = False) -> list[TokenView]:
    query = (select(ApiToken, User.username).join(User, ApiToken.user_id == User.id)
             .order_by(ApiToken.id))
    if username is not None:
        query = query.where(User.username == normalise_username(username))
    if not include_sign_in:
        query = query.where(ApiToken.name != LOGIN_TOKEN_NAME)
    with store.session() as s:
        return [_token_view(t, u) for t, u in s.execute(query).all()]


def revoke_token(store: Store, actor: str, token_id: int, *,
                 owner: str | None = None) -> TokenView:
    """Revoke a token; with `owner`, only one of that user's (anything else: not found)."""
    now = utcnow()
    with _tx(store) as (_session, conn):
        query = (select(ApiToken.id, ApiToken.revoked_at, User.username)
                 .join(User, ApiToken.user_id == User.id).where(ApiToken.id == token_id))
        if owner is not None:
            query = query.where(User.username == normalise_username(owner))
        row = conn.execute(query).first()
        if row is None:
            raise AccountError(f"no API token {token_id} (see `camsweep user token list`)")
        if row.revoked_at is None:
            conn.execute(update(ApiToken).where(ApiToken.id == token_id)
                         .values(revoked_at=now))
            append_audit(conn, actor, "token.revoke", "api_token", str(token_id),
                         {"user": row.username})
        return _load_token(conn, token_id, row.username)


def resolve_token(store: Store, secret: str, *, touch_every: timedelta = timedelta(minutes=1)
                  ) -> Principal | None:
    """The principal behind a bearer token, or None (unknown, revoked, expired, disabled)."""
    if not secret.startswith("csw_") or len(secret) > 200:
        return None
    now = utcnow()
    with store.session() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at,
                   User, Department.name)
            .join(User, ApiToken.user_id == User.id)
            .outerjoin(Department, User.department_id == Department.id)
            .where(ApiToken.token_hash == digest(secret))).first()
        if row is None or row.revoked_at is not None or row[4].disabled:
            return None
        if row.expires_at is not None and row.expires_at <= now:
            return None
        if row.last_used_at is None or now - row.last_used_at >= touch_every:
            session.execute(update(ApiToken).where(ApiToken.id == row.id)
                            .values(last_used_at=now))
            session.commit()
        return principal_of(user_view(row[4], row[5]), via="token")


@dataclass(frozen=True)
class LoginOutcome:
    user: UserView | None
    locked_until: datetime | None = None


def authenticate(store: Store, username: str, password: str, client: str | None, *,
                 policy: ThrottlePolicy | None = None,
                 hasher: PasswordHasher = DEFAULT_HASHER, channel: str = "web") -> LoginOutcome:
    """Check a password under throttling; every outcome is audited."""
    policy = policy or ThrottlePolicy()
    now = utcnow()
    raw_name = (username or "").replace("\x00", "").strip().lower()[:100]
    keys = [user_key(raw_name), client_key(client)]
    audit_id = raw_name or "(blank)"
    with _tx(store) as (session, conn):
        until = locked_until(conn, keys, now)
        if until is not None:
            append_audit(conn, "anonymous", "login.locked", "user", audit_id,
                         {"client": client, "channel": channel,
                          "locked_until": until.isoformat()})
            return LoginOutcome(None, until)
    try:
        name = normalise_username(username or "")  # a NUL makes it invalid, not another name
    except AccountError:
        name = ""
    found = None
    if name:
        with store.session() as session:
            found = session.execute(select(User.id, User.password_hash, User.disabled)
                                 .where(User.username == name)).first()
    ok = verify_password(found.password_hash if found else None, password or "", hasher)
    with _tx(store) as (session, conn):
        if ok and found is not None and not found.disabled:
            values: dict[str, Any] = {"last_login_at": now}
            if needs_rehash(found.password_hash, hasher):
                values["password_hash"] = hash_password(password, hasher)
            conn.execute(update(User).where(User.id == found.id).values(**values))
            clear(conn, keys[0])
            append_audit(conn, name, "login", "user", name,
                         {"client": client, "channel": channel})
            return LoginOutcome(_load(session, name))
        user_state = record_failure(conn, keys[0], policy.per_user, policy, now)
        client_state = record_failure(conn, keys[1], policy.per_client, policy, now)
        reason = ("disabled" if found is not None and found.disabled and ok else
                  "bad password" if found is not None else "unknown user")
        append_audit(conn, "anonymous", "login.failed", "user", audit_id,
                     {"client": client, "channel": channel, "reason": reason,
                      "failures": user_state.failures})
        until = max((t for t in (user_state.locked_until, client_state.locked_until)
                     if t is not None and t > now), default=None)
        return LoginOutcome(None, until)


def check_password(store: Store, username: str, password: str, *,
                   policy: ThrottlePolicy | None = None,
                   hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Re-authentication for a sensitive change by a signed-in user; failures count towards
    the same lock-out as sign-in, so a stolen session cannot guess the password either."""
    policy = policy or ThrottlePolicy()
    key = user_key(username)
    now = utcnow()
    with _tx(store) as (_session, conn):
        if locked_until(conn, [key], now) is not None:
            return False
        stored = conn.execute(select(User.password_hash).where(
            User.username == username, User.disabled.is_(False))).scalar()
    if verify_password(stored, password, hasher):
        return True
    with _tx(store) as (_session, conn):
        record_failure(conn, key, policy.per_user, policy, now)
        append_audit(conn, username, "password.check_failed", "user", username, {})
    return False
