"""The hash-chained audit log: append, verify, and every kind of tampering detected."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import CamsweepError, StoreError
from camsweep.store import Store
from camsweep.store.models import AuditLog
from camsweep.track.audit import GENESIS, append_audit, entry_hash, head, iter_audit, verify_audit


def _fill(store: Store, n: int = 4) -> None:
    for i in range(n):
        with store.engine.begin() as conn:
            append_audit(conn, "alice", "case.open", "case", f"CASE-{i:06d}",
                         {"n": i, "on": date(2026, 1, i + 1), "nested": {"b": [1, 2]}})


def test_chain_links_and_verifies(store: Store) -> None:
    _fill(store)
    entries = list(iter_audit(store))
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    e = entries[2]
    assert e.hash == entry_hash(e.seq, e.at, e.actor, e.action, e.object_type, e.object_id,
                                e.details, e.prev_hash)
    assert e.details["on"] == "2026-01-03"  # dates stored as they read back
    assert verify_audit(store) == []
    last = head(store)
    assert last is not None and verify_audit(store, expect_head=entries[1].hash) == []


def test_altered_entry_is_detected(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(update(AuditLog).where(AuditLog.seq == 2).values(actor="mallory"))
    problems = verify_audit(store)
    assert any("seq 2: content does not match" in p for p in problems)


def test_deleted_entry_is_detected(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(delete(AuditLog).where(AuditLog.seq == 3))
    problems = verify_audit(store)
    assert any("missing" in p for p in problems)
    assert any("seq 4: prev_hash" in p for p in problems)


def test_truncated_tail_is_detected_with_a_recorded_head(store: Store) -> None:
    _fill(store)
    recorded = head(store)
    assert recorded is not None
    with store.engine.begin() as conn:
        conn.execute(delete(AuditLog).where(AuditLog.seq == 4))
    assert verify_audit(store) == []  # a chain alone cannot see a cut tail ...
    assert verify_audit(store, expect_head=recorded.hash)  # ... a recorded head can


def test_chain_cannot_fork(store: Store) -> None:
    _fill(store, 1)
    first = head(store)
    assert first is not None
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(AuditLog).values(
            seq=99, at=first.at, actor="x", action="y", object_type="z", object_id="1",
            details={}, prev_hash=first.prev_hash, hash="f" * 64))


def test_actor_is_required(store: Store) -> None:
    with pytest.raises(StoreError, match="actor"), store.engine.begin() as conn:
        append_audit(conn, " ", "a", "b", "c", {})


def test_cli_verify(tmp_path: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path}/a.db"  # type: ignore[operator]
    res = runner.invoke(app, ["--db", db, "audit", "verify", "--json"])
    assert res.exit_code == 0 and '"ok": true' in res.stdout
    from camsweep.store import open_store

    s = open_store(db)
    try:
        _fill(s, 2)
        with s.engine.begin() as conn:
            conn.execute(update(AuditLog).where(AuditLog.seq == 1).values(action="case.close"))
    finally:
        s.dispose()
    res = runner.invoke(app, ["--db", db, "audit", "verify"])
    assert isinstance(res.exception, CamsweepError) and res.exception.exit_code == 3
    assert "content does not match" in res.output
    res = runner.invoke(app, ["--db", db, "audit", "show", "--json"])
    assert res.exit_code == 0 and "case.close" in res.stdout
