"""Alerts on constructed dates: the day a planned week ends, the day after a deadline, a
sighting after a removal; pure first, then on generated work orders in the store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from test_track_workorders import DEADLINE, Estate, build

from camsweep.store import Store
from camsweep.track.alerts import AlertFacts, alerts, alerts_for
from camsweep.track.workorders import generate_work_orders, list_work_orders

MONDAY = date(2027, 1, 4)


def facts(state: str = "scheduled", week: date | None = MONDAY, deadline: date | None = None,
          removed: datetime | None = None, seen: datetime | None = None) -> AlertFacts:
    return AlertFacts(7, state, "A-7", "S-1", week, deadline, removed, seen)


@pytest.mark.parametrize(("fact", "as_of", "expected"), [
    (facts(), MONDAY + timedelta(days=6), []),  # Sunday: the planned week is not over
    (facts(), MONDAY + timedelta(days=7), [("slipping", MONDAY + timedelta(days=7))]),
    (facts(state="identified"), date(2027, 3, 1), [("slipping", date(2027, 1, 11))]),
    (facts(week=None, deadline=date(2027, 3, 31)), date(2027, 3, 31), []),
    (facts(week=None, deadline=date(2027, 3, 31)), date(2027, 4, 1),
     [("past_deadline", date(2027, 4, 1))]),
    (facts(deadline=date(2027, 1, 8)), date(2027, 2, 1),
     [("past_deadline", date(2027, 1, 9)), ("slipping", date(2027, 1, 11))]),
    (facts(state="removed", deadline=date(2027, 1, 8)), date(2027, 2, 1), []),
    (facts(state="cancelled", deadline=date(2027, 1, 8)), date(2027, 2, 1), []),
    (facts(state="removed", removed=datetime(2027, 1, 5, 9), seen=datetime(2027, 1, 5, 8)),
     date(2027, 2, 1), []),
    (facts(state="verified", removed=datetime(2027, 1, 5, 9), seen=datetime(2027, 1, 20, 8)),
     date(2027, 2, 1), [("seen_again", date(2027, 1, 20))]),
    (facts(state="disposed", removed=datetime(2027, 1, 5, 9), seen=datetime(2027, 1, 20, 8)),
     date(2027, 1, 19), []),  # not yet seen on that day
])
def test_alert_boundaries(fact: AlertFacts, as_of: date, expected: list[tuple[str, date]]
                          ) -> None:
    got = alerts_for([fact], as_of)
    assert [(a.kind, a.since) for a in got] == expected
    for a in got:
        assert a.wo_id == 7 and "work order 7 (A-7)" in a.message and a.state == fact.state


def test_most_urgent_first() -> None:
    got = alerts_for([
        facts(week=date(2027, 1, 4)),
        AlertFacts(3, "removed", None, "S-2", None, None, datetime(2027, 1, 1),
                   datetime(2027, 1, 2)),
        AlertFacts(5, "scheduled", "A-5", "S-1", date(2026, 12, 28), date(2027, 1, 1), None,
                   None),
    ], date(2027, 2, 1))
    assert [(a.kind, a.wo_id) for a in got] == [
        ("seen_again", 3), ("past_deadline", 5), ("slipping", 5), ("slipping", 7)]
    assert "unregistered device at S-2" in got[0].message


@pytest.fixture
def estate(store: Store, tmp_path: Path) -> Estate:
    e = build(store, tmp_path)
    generate_work_orders(store, "planner", e.plan())
    return e


def test_alerts_from_the_store(estate: Estate) -> None:
    rows, _ = list_work_orders(estate.store)
    weeks = {r.asset_id: r.planned_week for r in rows}
    first = min(w for w in weeks.values() if w is not None)
    assert alerts(estate.store, first + timedelta(days=6)) == []
    due = alerts(estate.store, first + timedelta(days=7))
    assert sorted(a.asset_id or "" for a in due) == sorted(
        a for a, w in weeks.items() if w == first)
    assert {a.kind for a in due} == {"slipping"}

    estate.remove(str(due[0].asset_id))
    after = alerts(estate.store, first + timedelta(days=7))
    assert due[0].wo_id not in {a.wo_id for a in after}

    late = alerts(estate.store, DEADLINE + timedelta(days=1))
    past = {a.asset_id for a in late if a.kind == "past_deadline"}
    assert past == {a for a in weeks if a != due[0].asset_id}  # the identified one too
    home = estate.department("Home Office")
    scoped = alerts(estate.store, DEADLINE + timedelta(days=1), site_pks=home)
    assert {a.site_id for a in scoped} == {"S-1"} and len(scoped) < len(late)
    assert alerts(estate.store, DEADLINE + timedelta(days=1), site_pks=[]) == []
