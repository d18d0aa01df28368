"""The removal lifecycle as a pure state machine: which moves exist, what evidence each needs,
and the reason a refused move is refused.

    identified -> scheduled -> removed -> disposed -> verified

`identified` is a device the plan knows must go but could not (yet) place in a week;
`scheduled` has a planned week. A removal is recorded with a photo, from either state (a crew
that takes a device out ahead of plan is recording the truth). Disposal names its method;
recorders (NVR/DVR) hold footage, so theirs must be a storage wipe or destruction with a
certificate reference. `verified` needs evidence from a later scan that the device is gone.

Side moves always carry a note saying why: a plan can unschedule (`scheduled -> identified`),
a work order whose finding went away is `cancelled` (and reinstated if it comes back), and a
removal recorded against the wrong device is reopened (`removed | disposed | verified ->
scheduled | identified`). Nothing else moves a work order; a sighting after removal is an
alert, never a silent state change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from camsweep.errors import TransitionError
from camsweep.track.attachments import PHOTO_TYPES

IDENTIFIED, SCHEDULED, REMOVED, DISPOSED, VERIFIED, CANCELLED = (
    "identified", "scheduled", "removed", "disposed", "verified", "cancelled")
STATES: tuple[str, ...] = (IDENTIFIED, SCHEDULED, REMOVED, DISPOSED, VERIFIED, CANCELLED)
OPEN_STATES = frozenset({IDENTIFIED, SCHEDULED})
DONE_STATES = frozenset({REMOVED, DISPOSED, VERIFIED})

RECORDER_TYPES = frozenset({"nvr", "dvr"})

# How the storage in a removed device was dealt with; the first two sanitise it (the "purge"
# and "destroy" outcomes of NIST SP 800-88 Rev. 1, section 2.5, doi:10.6028/NIST.SP.800-88r1).
DISPOSAL_METHODS: Mapping[str, str] = {
    "wiped": "storage securely wiped (purged) and verified",
    "destroyed": "storage or device physically destroyed",
    "recycled": "sent for WEEE recycling without storage sanitisation",
    "returned": "returned to the supplier",
}
SANITISING_METHODS = frozenset({"wiped", "destroyed"})

# Forward moves: the lifecycle proper. Each state lists the states it may come from.
FORWARD: Mapping[str, frozenset[str]] = {
    SCHEDULED: frozenset({IDENTIFIED}),
    REMOVED: frozenset({IDENTIFIED, SCHEDULED}),
    DISPOSED: frozenset({REMOVED}),
    VERIFIED: frozenset({DISPOSED}),
}
# Side moves: each needs a note saying why.
SIDE: Mapping[str, frozenset[str]] = {
    IDENTIFIED: frozenset({SCHEDULED, REMOVED, DISPOSED, VERIFIED, CANCELLED}),
    SCHEDULED: frozenset({REMOVED, DISPOSED, VERIFIED, CANCELLED}),
    CANCELLED: frozenset({IDENTIFIED, SCHEDULED}),
}
_CHAIN = (IDENTIFIED, SCHEDULED, REMOVED, DISPOSED, VERIFIED)


@dataclass(frozen=True)
class Situation:
    """What the machine needs to know of a work order."""

    wo_id: int
    state: str
    device_type: str | None = None
    planned_week: date | None = None


@dataclass(frozen=True)
class Evidence:
    """What comes with a requested move. `attachment_type` is the media type the content was
    found to be (not what the uploader claimed); `gone` is a later scan's finding that the
    device is no longer there (None: no such finding, with `gone_problem` saying why)."""

    note: str | None = None
    attachment_type: str | None = None
    certificate_ref: str | None = None
    disposal_method: str | None = None
    gone: bool = False
    gone_problem: str | None = None


def is_recorder(device_type: str | None) -> bool:
    return (device_type or "").strip().lower() in RECORDER_TYPES


def edges(state: str) -> frozenset[str]:
    """Every state reachable from `state` in one move (given the evidence)."""
    forward = {to for to, sources in FORWARD.items() if state in sources}
    side = {to for to, sources in SIDE.items() if state in sources}
    return frozenset(forward | side)


def next_states(s: Situation) -> tuple[str, ...]:
    """The moves worth offering a user now, in lifecycle order (evidence still to be given)."""
    return tuple(to for to in STATES if to in edges(s.state)
                 and not (to == SCHEDULED and s.planned_week is None))


def _order_problem(s: Situation, to: str) -> str | None:
    name = f"work order {s.wo_id}"
    if to not in STATES:
        return f"'{to}' is not a work-order state (states: {', '.join(STATES)})"
    if s.state not in STATES:
        return f"{name} is in an unknown state '{s.state}'"
    if to == s.state:
        return f"{name} is already '{to}'"
    if to in edges(s.state):
        return None
    if s.state == CANCELLED:
        return (f"{name} is 'cancelled'; reinstate it first (to '{IDENTIFIED}' or "
                f"'{SCHEDULED}', with a note)")
    if to == CANCELLED:
        return (f"{name} is '{s.state}'; only work not yet done can be cancelled "
                "(reopen it first, with a note)")
    if _CHAIN.index(to) > _CHAIN.index(s.state):
        needed = " or ".join(f"'{p}'" for p in _CHAIN if p in FORWARD[to])
        return f"{name} is '{s.state}'; '{to}' needs {needed} first"
    return (f"{name} is '{s.state}', past '{to}'; reopen it (to '{SCHEDULED}' or "
            f"'{IDENTIFIED}', with a note) and record the lifecycle again")


def _evidence_problems(s: Situation, to: str, ev: Evidence) -> list[str]:
    problems: list[str] = []
    forward = s.state in FORWARD.get(to, frozenset())
    if not forward and not (ev.note and ev.note.strip()):
        problems.append(f"moving from '{s.state}' to '{to}' needs a note saying why")
    if to == SCHEDULED and s.planned_week is None:
        problems.append("it has no planned week: re-plan and generate work orders to "
                        "schedule it")
    if to == REMOVED:
        if ev.attachment_type is None:
            problems.append("a removal needs a photo of the removed device (JPEG, PNG, WebP "
                            "or HEIC)")
        elif ev.attachment_type not in PHOTO_TYPES:
            problems.append(f"a removal needs a photo; the attachment is {ev.attachment_type}")
    if to == DISPOSED:
        method = (ev.disposal_method or "").strip().lower()
        if not method:
            problems.append(f"a disposal needs its method ({', '.join(DISPOSAL_METHODS)})")
        elif method not in DISPOSAL_METHODS:
            problems.append(f"disposal method '{method}' is not one of: "
                            f"{', '.join(DISPOSAL_METHODS)}")
        if is_recorder(s.device_type):
            if method and method in DISPOSAL_METHODS and method not in SANITISING_METHODS:
                problems.append(f"a recorder ({s.device_type}) holds footage: its storage must "
                                f"be 'wiped' or 'destroyed', not '{method}'")
            if not (ev.certificate_ref and ev.certificate_ref.strip()):
                problems.append(f"a recorder ({s.device_type}) needs the reference of its "
                                "wipe or destruction certificate")
    if to == VERIFIED and not ev.gone:
        problems.append(ev.gone_problem or "no later scan shows the device gone")
    return problems


def refusal(s: Situation, to: str, ev: Evidence) -> str | None:
    """Why the move is refused, or None when it is allowed."""
    order = _order_problem(s, to)
    if order is not None:
        return order
    problems = _evidence_problems(s, to, ev)
    if problems:
        return f"work order {s.wo_id} cannot become '{to}': " + "; ".join(problems)
    return None


def check(s: Situation, to: str, ev: Evidence) -> None:
    reason = refusal(s, to, ev)
    if reason is not None:
        raise TransitionError(reason)


def normalise_state(value: str) -> str:
    return value.strip().lower()


def normalise_method(value: str | None) -> str | None:
    method = (value or "").strip().lower()
    return method or None
