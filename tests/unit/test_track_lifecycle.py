"""The lifecycle state machine, pure: every move between every pair of states, the evidence
each needs, the reasons refusals give, and random sequences that must never leave it."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camsweep.errors import TransitionError
from camsweep.track.lifecycle import (
    CANCELLED,
    DISPOSED,
    IDENTIFIED,
    REMOVED,
    SCHEDULED,
    STATES,
    VERIFIED,
    Evidence,
    Situation,
    check,
    edges,
    next_states,
    refusal,
)

WEEK = date(2027, 1, 4)
PHOTO = "image/jpeg"

# Every legal move, with evidence that is enough for it on a camera.
LEGAL: dict[tuple[str, str], Evidence] = {
    (IDENTIFIED, SCHEDULED): Evidence(),
    (IDENTIFIED, REMOVED): Evidence(attachment_type=PHOTO),
    (IDENTIFIED, CANCELLED): Evidence(note="waived"),
    (SCHEDULED, IDENTIFIED): Evidence(note="no crew"),
    (SCHEDULED, REMOVED): Evidence(attachment_type=PHOTO),
    (SCHEDULED, CANCELLED): Evidence(note="waived"),
    (REMOVED, DISPOSED): Evidence(disposal_method="recycled"),
    (REMOVED, SCHEDULED): Evidence(note="wrong device"),
    (REMOVED, IDENTIFIED): Evidence(note="wrong device"),
    (DISPOSED, VERIFIED): Evidence(gone=True),
    (DISPOSED, SCHEDULED): Evidence(note="wrong device"),
    (DISPOSED, IDENTIFIED): Evidence(note="wrong device"),
    (VERIFIED, SCHEDULED): Evidence(note="seen again"),
    (VERIFIED, IDENTIFIED): Evidence(note="seen again"),
    (CANCELLED, IDENTIFIED): Evidence(note="finding back"),
    (CANCELLED, SCHEDULED): Evidence(note="finding back"),
}
FULL = Evidence(note="n", attachment_type=PHOTO, certificate_ref="C-1",
                disposal_method="destroyed", gone=True)


def at(state: str, device_type: str | None = "camera", week: date | None = WEEK) -> Situation:
    return Situation(12, state, device_type, week)


@pytest.mark.parametrize(("src", "dst"), sorted(LEGAL))
def test_every_legal_move_is_allowed_with_its_evidence(src: str, dst: str) -> None:
    assert refusal(at(src), dst, LEGAL[(src, dst)]) is None
    assert dst in edges(src)


@pytest.mark.parametrize(("src", "dst"),
                         [(a, b) for a in STATES for b in STATES if (a, b) not in LEGAL])
def test_every_other_move_is_refused_even_with_all_evidence(src: str, dst: str) -> None:
    reason = refusal(at(src), dst, FULL)
    assert reason is not None and "work order 12" in reason
    with pytest.raises(TransitionError, match="work order 12"):
        check(at(src), dst, FULL)


def test_reasons_name_the_state_and_what_is_missing() -> None:
    assert refusal(at(SCHEDULED), DISPOSED, FULL) == \
        "work order 12 is 'scheduled'; 'disposed' needs 'removed' first"
    assert refusal(at(IDENTIFIED), VERIFIED, FULL) == \
        "work order 12 is 'identified'; 'verified' needs 'disposed' first"
    assert refusal(at(REMOVED), REMOVED, FULL) == "work order 12 is already 'removed'"
    assert "past 'removed'; reopen it" in str(refusal(at(VERIFIED), REMOVED, FULL))
    assert "reinstate it first" in str(refusal(at(CANCELLED), REMOVED, FULL))
    assert "only work not yet done can be cancelled" in str(refusal(at(REMOVED), CANCELLED,
                                                                    FULL))
    assert "not a work-order state" in str(refusal(at(REMOVED), "gone", FULL))


@pytest.mark.parametrize(("src", "dst", "evidence", "message"), [
    (SCHEDULED, REMOVED, Evidence(), "needs a photo of the removed device"),
    (SCHEDULED, REMOVED, Evidence(attachment_type="application/pdf"),
     "the attachment is application/pdf"),
    (REMOVED, DISPOSED, Evidence(), "needs its method"),
    (REMOVED, DISPOSED, Evidence(disposal_method="buried"), "'buried' is not one of"),
    (DISPOSED, VERIFIED, Evidence(), "no later scan shows the device gone"),
    (DISPOSED, VERIFIED, Evidence(gone_problem="seen at 10:00"), "seen at 10:00"),
    (SCHEDULED, CANCELLED, Evidence(), "needs a note"),
    (REMOVED, SCHEDULED, Evidence(note="  "), "needs a note"),
    (CANCELLED, IDENTIFIED, Evidence(), "needs a note"),
])
def test_missing_evidence_is_refused(src: str, dst: str, evidence: Evidence,
                                     message: str) -> None:
    reason = refusal(at(src), dst, evidence)
    assert reason is not None and message in reason
    assert reason.startswith(f"work order 12 cannot become '{dst}'")


def test_scheduling_needs_a_planned_week() -> None:
    assert "no planned week" in str(refusal(at(IDENTIFIED, week=None), SCHEDULED, FULL))
    assert "no planned week" in str(refusal(at(REMOVED, week=None), SCHEDULED, FULL))
    assert SCHEDULED not in next_states(at(IDENTIFIED, week=None))
    assert next_states(at(IDENTIFIED)) == (SCHEDULED, REMOVED, CANCELLED)


@pytest.mark.parametrize("recorder", ["nvr", "dvr", "NVR"])
def test_recorders_need_sanitised_storage_and_a_certificate(recorder: str) -> None:
    sit = at(REMOVED, recorder)
    assert "certificate" in str(refusal(sit, DISPOSED, Evidence(disposal_method="wiped")))
    recycled = refusal(sit, DISPOSED, Evidence(disposal_method="recycled",
                                               certificate_ref="C-1"))
    assert "must be 'wiped' or 'destroyed'" in str(recycled)
    both = refusal(sit, DISPOSED, Evidence(disposal_method="returned"))
    assert both is not None and "must be 'wiped'" in both and "certificate" in both
    for method in ("wiped", "destroyed"):
        assert refusal(sit, DISPOSED, Evidence(disposal_method=method,
                                               certificate_ref="WIPE-2027-001")) is None
    # a camera (or a device of unknown type) only needs a method
    assert refusal(at(REMOVED, "camera"), DISPOSED, Evidence(disposal_method="recycled")) is None
    assert refusal(at(REMOVED, None), DISPOSED, Evidence(disposal_method="returned")) is None


# --- random sequences -------------------------------------------------------------------------

EVIDENCE = st.builds(
    Evidence,
    note=st.sampled_from([None, "", "why"]),
    attachment_type=st.sampled_from([None, PHOTO, "image/heic", "application/pdf"]),
    certificate_ref=st.sampled_from([None, "", "CERT-1"]),
    disposal_method=st.sampled_from([None, "wiped", "destroyed", "recycled", "returned", "x"]),
    gone=st.booleans(),
)
ATTEMPT = st.tuples(st.sampled_from([*STATES, "nonsense"]), EVIDENCE)


def _sound(was: str, to: str, ev: Evidence, device_type: str | None, week: date | None
           ) -> bool:
    """Independent statement of what a successful move must have had."""
    if (was, to) not in LEGAL or (to == SCHEDULED and week is None):
        return False
    if to == REMOVED and ev.attachment_type not in ("image/jpeg", "image/heic"):
        return False
    if to == DISPOSED:
        if ev.disposal_method not in ("wiped", "destroyed", "recycled", "returned"):
            return False
        if device_type in ("nvr", "dvr") and (
                ev.disposal_method not in ("wiped", "destroyed") or not ev.certificate_ref):
            return False
    if to == VERIFIED and not ev.gone:
        return False
    forward = {(IDENTIFIED, SCHEDULED), (IDENTIFIED, REMOVED), (SCHEDULED, REMOVED),
               (REMOVED, DISPOSED), (DISPOSED, VERIFIED)}
    return (was, to) in forward or bool(ev.note)


@given(device_type=st.sampled_from(["camera", "nvr", "dvr", None]),
       week=st.sampled_from([WEEK, None]),
       attempts=st.lists(ATTEMPT, max_size=40))
def test_random_sequences_never_leave_the_machine(device_type: str | None, week: date | None,
                                                  attempts: list[tuple[str, Evidence]]) -> None:
    state = IDENTIFIED
    path = [state]
    for to, ev in attempts:
        sit = Situation(1, state, device_type, week)
        reason = refusal(sit, to, ev)
        if reason is None:
            assert _sound(state, to, ev, device_type, week), (state, to, ev)
            state = to
            path.append(state)
        else:
            assert reason  # every refusal says why
        assert state in STATES
    for a, b in itertools.pairwise(path):
        assert b in edges(a)
        if b in (DISPOSED, VERIFIED):  # nothing skips the removal
            assert a in (REMOVED, DISPOSED)
