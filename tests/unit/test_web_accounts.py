"""Accounts, tokens, sessions and throttling in the store (SQLite and PostgreSQL), and the
`camsweep user` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner
from web_estate import FAST_HASHER, PASSWORD

from camsweep.cli.app import app
from camsweep.errors import AccountError
from camsweep.store import Store
from camsweep.store.bulk import utcnow
from camsweep.store.models import ApiToken, LoginThrottle, User, WebSession
from camsweep.track.audit import iter_audit, verify_audit
from camsweep.web.accounts import (
    add_user,
    authenticate,
    create_token,
    list_tokens,
    reset_password,
    resolve_token,
    revoke_token,
    set_disabled,
)
from camsweep.web.credentials import digest
from camsweep.web.roles import Cap, Role
from camsweep.web.sessions import SessionPolicy, end_session, resolve_session, start_session
from camsweep.web.throttle import ThrottlePolicy

runner = CliRunner()


def user(store: Store, name: str = "alice", role: str = "viewer", dept: str | None = "Ops",
         **kw: object) -> None:
    add_user(store, "admin", name, role, PASSWORD, department=dept, create_department=True,
             hasher=FAST_HASHER, **kw)  # type: ignore[arg-type]


def test_add_user_validates_and_hashes(store: Store) -> None:
    user(store)
    with store.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored and stored.startswith("$argon2id$") and PASSWORD not in stored
    problems = {
        "bad name": lambda: add_user(store, "a", "x y", "viewer", PASSWORD, department="Ops"),
        "bad role": lambda: add_user(store, "a", "bob", "king", PASSWORD, department="Ops"),
        "central with dept": lambda: add_user(store, "a", "bob", "central_admin", PASSWORD,
                                              department="Ops"),
        "no dept": lambda: add_user(store, "a", "bob", "surveyor", PASSWORD),
        "unknown dept": lambda: add_user(store, "a", "bob", "viewer", PASSWORD,
                                         department="Nowhere"),
        "short password": lambda: add_user(store, "a", "bob", "viewer", "short",
                                           department="Ops"),
        "name as password": lambda: add_user(store, "a", "bobbybobbybob", "viewer",
                                             "BobbyBobbyBob", department="Ops"),
        "duplicate": lambda: add_user(store, "a", "ALICE", "viewer", PASSWORD, department="Ops"),
    }
    messages = {}
    for label, call in problems.items():
        with pytest.raises(AccountError) as err:
            call()
        messages[label] = str(err.value)
    assert "known: Ops" in messages["unknown dept"]
    assert "already exists" in messages["duplicate"]
    assert [e.action for e in iter_audit(store, "user")] == ["user.add"]


def test_authenticate_audits_every_outcome(store: Store) -> None:
    user(store)
    ok = authenticate(store, "Alice", PASSWORD, "192.0.2.1", hasher=FAST_HASHER)
    assert ok.user is not None and ok.user.username == "alice"
    bad = authenticate(store, "alice", "not the password", "192.0.2.1", hasher=FAST_HASHER)
    ghost = authenticate(store, "ghost", PASSWORD, "192.0.2.1", hasher=FAST_HASHER)
    assert bad.user is None and ghost.user is None and bad.locked_until is None
    set_disabled(store, "admin", "alice", True)
    disabled = authenticate(store, "alice", PASSWORD, "192.0.2.1", hasher=FAST_HASHER)
    assert disabled.user is None
    entries = [e for e in iter_audit(store) if e.action.startswith("login")]
    assert [(e.action, e.details.get("reason")) for e in entries] == [
        ("login", None), ("login.failed", "bad password"), ("login.failed", "unknown user"),
        ("login.failed", "disabled")]
    assert verify_audit(store) == []


def test_throttle_locks_then_lets_go(store: Store) -> None:
    user(store)
    policy = ThrottlePolicy(per_user=3, per_client=100)
    for _ in range(2):
        assert authenticate(store, "alice", "wrong", "c1", policy=policy,
                            hasher=FAST_HASHER).locked_until is None
    third = authenticate(store, "alice", "wrong", "c1", policy=policy, hasher=FAST_HASHER)
    assert third.locked_until is not None and third.locked_until > utcnow()
    right = authenticate(store, "alice", PASSWORD, "c2", policy=policy, hasher=FAST_HASHER)
    assert right.user is None and right.locked_until is not None  # locked from anywhere
    with store.engine.begin() as conn:  # the lock-out period passes
        conn.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1),
                                                  window_start=utcnow() - timedelta(hours=1)))
    assert authenticate(store, "alice", PASSWORD, "c2", policy=policy,
                        hasher=FAST_HASHER).user is not None
    with store.session() as s:
        assert s.scalar(select(LoginThrottle.id).where(LoginThrottle.key == "user:alice")) \
            is None  # a success clears the name's count


def test_tokens_are_hashed_revocable_and_expire(store: Store) -> None:
    user(store)
    secret, view = create_token(store, "admin", "alice", "nightly export")
    assert secret.startswith("csw_") and len(secret) > 40
    with store.session() as s:
        stored = s.scalar(select(ApiToken.token_hash).where(ApiToken.id == view.id))
    assert stored == digest(secret) and secret not in (stored or "")
    found = resolve_token(store, secret)
    assert found is not None and found.username == "alice" and found.role is Role.VIEWER
    assert found.may(Cap.READ) and not found.may(Cap.RECORD_WORK)
    assert resolve_token(store, secret + "x") is None
    short, short_view = create_token(store, "admin", "alice", "temp",
                                     expires_in=timedelta(days=1))
    with store.engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == short_view.id)
                     .values(expires_at=utcnow() - timedelta(minutes=1)))
    assert resolve_token(store, short) is None
    revoke_token(store, "admin", view.id)
    assert resolve_token(store, secret) is None
    with pytest.raises(AccountError):
        revoke_token(store, "bob", view.id, owner="bob")
    names = [t.name for t in list_tokens(store, "alice")]
    assert names == ["nightly export", "temp"]
    actions = [e.action for e in iter_audit(store, "api_token")]
    assert actions == ["token.create", "token.create", "token.revoke"]


def test_disable_and_reset_end_access(store: Store) -> None:
    user(store)
    policy = SessionPolicy()
    with store.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "alice"))
    assert uid is not None
    cookie, csrf = start_session(store, uid, "c", "ua", policy)
    active = resolve_session(store, cookie, policy)
    assert active is not None and active.csrf == csrf
    reset_password(store, "admin", "alice", "another fine password", hasher=FAST_HASHER)
    assert resolve_session(store, cookie, policy) is None
    secret, _ = create_token(store, "admin", "alice", "job")
    assert resolve_token(store, secret) is not None  # a reset keeps automation running
    cookie2, _ = start_session(store, uid, "c", "ua", policy)
    set_disabled(store, "admin", "alice", True)
    assert resolve_session(store, cookie2, policy) is None
    assert resolve_token(store, secret) is None
    with pytest.raises(AccountError, match="disabled"):
        create_token(store, "admin", "alice", "again")


def test_sessions_idle_and_lifetime(store: Store) -> None:
    user(store)
    with store.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "alice"))
    assert uid is not None
    policy = SessionPolicy(lifetime=timedelta(hours=1), idle=timedelta(minutes=10))
    idle, _ = start_session(store, uid, None, None, policy)
    old, _ = start_session(store, uid, None, None, policy)
    gone, _ = start_session(store, uid, None, None, policy)
    with store.engine.begin() as conn:
        conn.execute(update(WebSession).where(WebSession.token_hash == digest(idle))
                     .values(last_seen_at=utcnow() - timedelta(minutes=11)))
        conn.execute(update(WebSession).where(WebSession.token_hash == digest(old))
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert resolve_session(store, idle, policy) is None
    assert resolve_session(store, old, policy) is None
    active = resolve_session(store, gone, policy)
    assert active is not None
    end_session(store, active.id, "alice", None)
    assert resolve_session(store, gone, policy) is None
    assert resolve_session(store, "nonsense", policy) is None


def test_user_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("CAMSWEEP_PASSWORD", PASSWORD)
    monkeypatch.setenv("CAMSWEEP_ACTOR", "ops-lead")
    res = runner.invoke(app, ["--db", db, "user", "add", "carol", "--role", "surveyor",
                              "--department", "Ops", "--create-department", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["department"] == "Ops"
    res = runner.invoke(app, ["--db", db, "user", "token", "create", "carol", "--name", "ci",
                              "--expires-days", "7", "--json"])
    token = json.loads(res.stdout)
    assert token["token"].startswith("csw_") and token["expires_at"]
    listed = json.loads(runner.invoke(app, ["--db", db, "user", "token", "list", "--json"]
                                      ).stdout)
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    assert runner.invoke(app, ["--db", db, "user", "token", "revoke", str(token["id"])]
                         ).exit_code == 0
    assert runner.invoke(app, ["--db", db, "user", "disable", "carol"]).exit_code == 0
    users = json.loads(runner.invoke(app, ["--db", db, "user", "list", "--json"]).stdout)
    assert users[0]["username"] == "carol" and users[0]["disabled"] is True
    audit = json.loads(runner.invoke(app, ["--db", db, "audit", "show", "--json"]).stdout)
    assert {e["actor"] for e in audit} == {"ops-lead"}
    assert [e["action"] for e in audit] == ["user.add", "token.create", "token.revoke",
                                            "user.disable"]


def test_user_cli_errors_without_traceback(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'e.db'}"
    env = {"PATH": "/usr/bin:/bin", "CAMSWEEP_DB": db}
    done = subprocess.run([sys.executable, "-m", "camsweep", "user", "add", "dave", "--role",
                           "viewer", "--department", "Ops"], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert done.returncode == 1
    assert "CAMSWEEP_PASSWORD" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "camsweep", "user", "add", "dave", "--role",
                           "viewer", "--department", "Ops"], capture_output=True, text=True,
                          env={**env, "CAMSWEEP_PASSWORD": PASSWORD}, timeout=120, check=False)
    assert done.returncode == 1 and "no department 'Ops'" in done.stderr
