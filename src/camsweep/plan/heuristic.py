"""Fast constructive schedules: the CP-SAT hint, its fallback, and the final polish.

`list_schedule` plans a region segment by segment (a budget period, or a quarter): it first
chooses what to do in the segment, then packs that into the segment's weeks. It respects every
hard limit (weekly capacity, the region's budget per period, blackouts, each site's order).

`improve` moves chunks to earlier weeks (or into the plan, if they were left out) whenever
capacity, budget and the site's order allow and the objective drops: the refinement step after
the regions are solved and the leftover national budget is known.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from camsweep.plan.problem import NO_DEADLINE, Chunk, Weights
from camsweep.plan.resources import Segment

PRICES = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)  # money's weight against crew time when choosing


def list_schedule(
    chunks: Sequence[Chunk],
    capacity: Sequence[int],
    budget: dict[int, int],
    segments: Sequence[Segment],
) -> list[int | None]:
    """A week per chunk (None = not placed).

    The choice for a segment first takes, earliest deadline first, the work that the capacity
    after the segment cannot absorb before its deadline; then work whose deadline had passed
    before the plan started; then the most risk per unit of the resources it uses (devices, and
    money weighed at a few prices against crew time), keeping whichever price removes the most
    risk. Packing puts work due in the segment first, then overdue work, then the riskiest per
    device, each chunk in its earliest week with room.
    """
    room = list(capacity)
    money = dict(budget)
    placed: list[int | None] = [None] * len(chunks)
    suffix = _suffix(room)
    for seg in segments:
        weeks = [w for w in range(seg.first, seg.stop) if room[w] > 0]
        if not weeks:
            continue
        limit = None if seg.budget is None else max(0, money.get(seg.budget, 0))
        chosen = _choose(chunks, placed, weeks, room, limit, suffix, seg.stop)
        spent = _pack(chunks, chosen, weeks, room, placed, seg.stop)
        if seg.budget is not None:
            money[seg.budget] = money.get(seg.budget, 0) - spent
    return placed


def _choose(
    chunks: Sequence[Chunk],
    placed: Sequence[int | None],
    weeks: Sequence[int],
    room: Sequence[int],
    limit: int | None,
    suffix: Sequence[int],
    stop: int,
) -> list[int]:
    """Chunks to remove in this segment."""
    first, last = weeks[0], weeks[-1]
    biggest = max(room[w] for w in weeks)
    capacity = sum(room[w] for w in weeks)

    def usable(c: int) -> bool:
        ch = chunks[c]
        return ch.n <= biggest and ch.lb <= last and ch.ub >= first

    heads = [
        c for c, ch in enumerate(chunks)
        if placed[c] is None and (ch.prev is None or placed[ch.prev] is not None) and usable(c)
    ]
    forced = _forced(chunks, placed, suffix, stop)
    best: list[int] = []
    best_risk = -1
    for price in PRICES if limit is not None else (0.0,):
        beta = price * capacity / max(1, limit or 0)
        picked = _greedy(chunks, heads, usable, capacity, limit, forced, beta)
        risk = sum(chunks[c].risk for c in picked)
        if risk > best_risk:
            best, best_risk = picked, risk
    return best


def _greedy(
    chunks: Sequence[Chunk],
    heads: Sequence[int],
    usable: Callable[[int], bool],
    capacity: int,
    limit: int | None,
    forced: int,
    beta: float,
) -> list[int]:
    """Earliest deadline first until `forced` devices, then work already overdue (earliest
    first), then most risk per resource used."""
    picked: list[int] = []
    left_n, left_money = capacity, limit
    urgent: list[tuple[int, float, int, int]] = []
    overdue: list[tuple[int, float, int, int]] = []
    normal: list[tuple[float, int, int]] = []

    def push(c: int) -> None:  # ties go the way the current plan had them: fewer changes
        ch = chunks[c]
        key = (ch.due, -_density(ch), ch.preferred, c)
        if ch.due < 0:
            heapq.heappush(overdue, key)
        elif ch.due != NO_DEADLINE:
            heapq.heappush(urgent, key)
        heapq.heappush(normal, (-ch.risk / (ch.n + beta * ch.cost), ch.preferred, c))

    for c in heads:
        push(c)
    seen: set[int] = set()
    taken_forced = 0
    while left_n > 0:
        if taken_forced < forced and urgent:
            c = heapq.heappop(urgent)[-1]
        elif overdue:
            c = heapq.heappop(overdue)[-1]
        elif normal:
            c = heapq.heappop(normal)[-1]
        else:
            break
        if c in seen:
            continue
        seen.add(c)
        ch = chunks[c]
        if ch.n > left_n or (left_money is not None and ch.cost > left_money):
            continue
        picked.append(c)
        left_n -= ch.n
        if left_money is not None:
            left_money -= ch.cost
        if taken_forced < forced:
            taken_forced += ch.n
        if ch.next is not None and usable(ch.next):
            push(ch.next)
    return picked


def _forced(
    chunks: Sequence[Chunk], placed: Sequence[int | None], suffix: Sequence[int], stop: int
) -> int:
    """Devices this segment must take: work due by D beyond what weeks stop..D can hold
    (deadlines already past when the plan starts cannot be met and do not count)."""
    due: dict[int, int] = {}
    for c, ch in enumerate(chunks):
        if placed[c] is None and 0 <= ch.due != NO_DEADLINE:
            due[ch.due] = due.get(ch.due, 0) + ch.n
    weeks = len(suffix) - 1
    need = demand = 0
    for d in sorted(due):
        demand += due[d]
        later = suffix[stop] - suffix[min(weeks, d + 1)] if d >= stop else 0
        need = max(need, demand - later)
    return need


def _pack(
    chunks: Sequence[Chunk],
    chosen: Sequence[int],
    weeks: Sequence[int],
    room: list[int],
    placed: list[int | None],
    stop: int,
) -> int:
    """Put the chosen chunks in their earliest week with room; returns the cents spent."""
    chosen_set = set(chosen)
    ready: list[tuple[int, int, float, int, int]] = []

    def push(c: int) -> None:
        ch = chunks[c]  # due in this segment (earliest first), then overdue, then the rest
        phase = 0 if 0 <= ch.due < stop else 1 if ch.due < 0 else 2
        heapq.heappush(ready, (phase, ch.due if phase < 2 else 0, -_density(ch), ch.preferred, c))

    for c in chosen:
        prev = chunks[c].prev
        if prev is None or prev not in chosen_set:
            push(c)
    spent = 0
    while ready:
        c = heapq.heappop(ready)[-1]
        ch = chunks[c]
        low = ch.lb
        if ch.prev is not None:
            before = placed[ch.prev]
            if before is None:
                continue
            low = max(low, before)
        week = next((w for w in weeks if low <= w <= ch.ub and room[w] >= ch.n), None)
        if week is None:
            continue
        placed[c] = week
        room[week] -= ch.n
        spent += ch.cost
        if ch.next is not None and ch.next in chosen_set:
            push(ch.next)
    return spent


def keep_current(
    chunks: Sequence[Chunk],
    capacity: Sequence[int],
    budget: dict[int, int],
    budget_of_week: Sequence[int | None],
    weights: Weights,
) -> list[int | None]:
    """The current plan's weeks where they still fit, then `improve` for the rest.

    Re-planning starts from this when it scores no worse than a fresh `list_schedule`, so
    an unchanged estate is not reshuffled for nothing.
    """
    room = list(capacity)
    money = dict(budget)
    weeks: list[int | None] = [None] * len(chunks)
    order = sorted(range(len(chunks)), key=lambda c: (chunks[c].preferred, c))
    for c in order:
        ch = chunks[c]
        w = ch.preferred
        if not ch.lb <= w <= min(ch.ub, len(room) - 1) or room[w] < ch.n:
            continue
        if ch.prev is not None:
            before = weeks[ch.prev]
            if before is None or before > w:
                continue
        period = budget_of_week[w]
        if period is not None and money.get(period, 0) < ch.cost:
            continue
        weeks[c] = w
        _move(ch, None, w, room, money, budget_of_week)
    improve(chunks, weeks, room, money, budget_of_week, weights)
    return weeks


def _density(chunk: Chunk) -> float:
    return chunk.risk / chunk.n


def _suffix(room: Sequence[int]) -> list[int]:
    """suffix[w] = capacity in weeks w and later."""
    out = [0] * (len(room) + 1)
    for w in range(len(room) - 1, -1, -1):
        out[w] = out[w + 1] + room[w]
    return out


def improve(
    chunks: Sequence[Chunk],
    weeks: list[int | None],
    room: list[int],
    money: dict[int, int],
    budget_of_week: Sequence[int | None],
    weights: Weights,
    *,
    passes: int = 2,
) -> int:
    """Move chunks earlier (or into the plan) where that lowers the objective; returns moves.

    `room` and `money` are what is still free (capacity per week, cents per budget period)
    and are updated in place, so regions can share the national budget's leftovers.
    """
    order = sorted(range(len(chunks)), key=lambda c: (-_density(chunks[c]), chunks[c].due, c))
    moves = 0
    for _ in range(passes):
        changed = 0
        for c in order:
            ch = chunks[c]
            current = weeks[c]
            low = ch.lb
            if ch.prev is not None:
                prev_week = weeks[ch.prev]
                if prev_week is None:
                    continue
                low = max(low, prev_week)
            high = min(ch.ub, len(room) - 1) if current is None else min(ch.ub, current - 1)
            if high < low:
                continue
            target = _first_fit(ch, low, high, room, money, budget_of_week, current)
            if target is None:
                continue
            if current is not None and ch.objective(target, weights) >= ch.objective(
                current, weights
            ):
                continue
            _move(ch, current, target, room, money, budget_of_week)
            weeks[c] = target
            changed += 1
        moves += changed
        if not changed:
            break
    return moves


def _first_fit(
    ch: Chunk,
    low: int,
    high: int,
    room: Sequence[int],
    money: dict[int, int],
    budget_of_week: Sequence[int | None],
    current: int | None,
) -> int | None:
    current_period = None if current is None else budget_of_week[current]
    for w in range(low, high + 1):
        if room[w] < ch.n:
            continue
        period = budget_of_week[w]
        if period is not None and period != current_period and money.get(period, 0) < ch.cost:
            continue
        return w
    return None


def _move(
    ch: Chunk,
    current: int | None,
    target: int,
    room: list[int],
    money: dict[int, int],
    budget_of_week: Sequence[int | None],
) -> None:
    room[target] -= ch.n
    new_period = budget_of_week[target]
    if current is not None:
        room[current] += ch.n
        old_period = budget_of_week[current]
        if old_period is not None:
            money[old_period] = money.get(old_period, 0) + ch.cost
    if new_period is not None:
        money[new_period] = money.get(new_period, 0) - ch.cost
