"""Known exploited vulnerabilities for these makers' devices, matched on firmware.

Firmware grammars differ by maker, and so do the advisories' ranges: Hikvision states
ranges as version + build (`V5.4.0 build 160530`); Dahua states them as a build date
("Buildtime before June, 2021"). A device whose firmware falls in a range is `affected`;
one the advisory may cover but the data cannot settle (model unknown, no build date in
the string, a platform-specific fix) is `check`; no firmware at all is `firmware_unknown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from camsweep.policy.schema import AffectedRange, Vulnerability, VulnerabilityFile

_HIK = re.compile(
    r"V?(?P<a>\d{1,2})\.(?P<b>\d{1,3})\.(?P<c>\d{1,4})"  # version a.b.c
    r"\s*[_ ,]?\s*(?:build|b)?\s*[_ ]?(?P<build>\d{6})\b",  # build yymmdd
    re.IGNORECASE,
)
_HIK_VERSION = re.compile(r"V?(?P<a>\d{1,2})\.(?P<b>\d{1,3})\.(?P<c>\d{1,4})\b", re.IGNORECASE)
_DAHUA_DATE = re.compile(r"build\s*date\s*[:=]?\s*(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})",
                         re.IGNORECASE)
_DAHUA_TAIL = re.compile(r"\.R\.(?P<stamp>\d{6}|\d{8})\b", re.IGNORECASE)
_DAHUA_VERSION = re.compile(r"V?\d\.\d{3}\.\d{4,7}\.\d{1,3}\.R", re.IGNORECASE)

RANK = {"affected": 3, "check": 2, "firmware_unknown": 1, "not_affected": 0}


@dataclass(frozen=True)
class HikFirmware:
    version: tuple[int, int, int]
    build: int | None  # yymmdd as an int, e.g. 190725
    key: tuple[int, int, int, int]  # (version, build) for range comparisons
    build_date: date | None

    @classmethod
    def of(cls, version: tuple[int, int, int], build: int | None) -> HikFirmware:
        return cls(version, build, (*version, build if build is not None else -1),
                   _yymmdd(build) if build is not None else None)


def _yymmdd(value: int) -> date | None:
    yy, mm, dd = value // 10000, value // 100 % 100, value % 100
    try:
        return date(2000 + yy, mm, dd)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def parse_hikvision(text: str) -> HikFirmware | None:
    m = _HIK.search(text)
    if m:
        return HikFirmware.of((int(m["a"]), int(m["b"]), int(m["c"])), int(m["build"]))
    v = _HIK_VERSION.search(text)
    if v:
        return HikFirmware.of((int(v["a"]), int(v["b"]), int(v["c"])), None)
    return None


@lru_cache(maxsize=65536)
def parse_dahua_build(text: str) -> tuple[bool, date | None]:
    """(looks like Dahua firmware, build date if the string carries one)."""
    m = _DAHUA_DATE.search(text)
    if m:
        try:
            return True, date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            return True, None
    t = _DAHUA_TAIL.search(text)
    if t:
        stamp = t["stamp"]
        if len(stamp) == 8:
            try:
                return True, date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
            except ValueError:
                return True, None
        return True, _yymmdd(int(stamp))
    return bool(_DAHUA_VERSION.search(text)), None


@dataclass(frozen=True)
class _Range:
    """An affected range compiled once: version bounds parsed, model test already applied."""

    index: int
    rng: AffectedRange
    low: HikFirmware | None
    high: HikFirmware | None
    model_unknown: bool


def _range_status(r: _Range, firmware: str) -> str:
    rng = r.rng
    if rng.grammar == "hikvision":
        fw = parse_hikvision(firmware)
        if fw is None:
            return "check"
        low, high = r.low, r.high
        if low is not None or high is not None:
            if fw.build is None:
                inside = (low is None or fw.version >= low.version) and \
                         (high is None or fw.version <= high.version)
                return "check" if inside else "not_affected"
            if (low is not None and fw.key < low.key) or (high is not None and fw.key > high.key):
                return "not_affected"
        built = fw.build_date
        if rng.build_from or rng.build_before:
            if built is None:
                return "check"
            if (rng.build_from and built < rng.build_from) or \
                    (rng.build_before and built >= rng.build_before):
                return "not_affected"
    else:
        looks, built = parse_dahua_build(firmware)
        if rng.build_from or rng.build_before:
            if built is None:
                return "check" if looks or firmware else "not_affected"
            if (rng.build_from and built < rng.build_from) or \
                    (rng.build_before and built >= rng.build_before):
                return "not_affected"
    if r.model_unknown:
        return "check"
    return rng.status


@dataclass(frozen=True)
class VulnMatch:
    cve: str
    status: str  # affected | check | firmware_unknown
    range_index: int  # -1 when no range decided it


VulnKey = tuple[VulnMatch, ...]


class VulnerabilityIndex:
    """The bundled list, compiled: per maker, the vulnerabilities to check."""

    def __init__(self, data: VulnerabilityFile, file: str = "vulnerabilities.yaml") -> None:
        self.data = data
        self.file = file
        self.by_cve: dict[str, Vulnerability] = {v.cve: v for v in data.vulnerabilities}
        self._regex: dict[tuple[str, int], re.Pattern[str]] = {}
        self._bounds: dict[tuple[str, int], tuple[HikFirmware | None, HikFirmware | None]] = {}
        self._plans: dict[tuple[str, str | None, str | None],
                          tuple[tuple[Vulnerability, tuple[_Range, ...]], ...]] = {}
        self.by_maker: dict[str, list[Vulnerability]] = {}
        for vuln in data.vulnerabilities:
            for i, rng in enumerate(vuln.affected):
                if rng.models:
                    self._regex[(vuln.cve, i)] = re.compile(rng.models, re.IGNORECASE)
                self._bounds[(vuln.cve, i)] = (
                    parse_hikvision(rng.version_from) if rng.version_from else None,
                    parse_hikvision(rng.version_to) if rng.version_to else None)
            for maker in vuln.makers:
                self.by_maker.setdefault(maker, []).append(vuln)
        self._cache: dict[tuple[str | None, str | None, str | None, str | None], VulnKey] = {}

    @property
    def makers(self) -> frozenset[str]:
        return frozenset(self.by_maker)

    def _plan(self, maker: str, device_type: str | None, model: str | None
              ) -> tuple[tuple[Vulnerability, tuple[_Range, ...]], ...]:
        """The vulnerabilities and ranges that can apply to this maker, type and model."""
        key = (maker, device_type, model)
        hit = self._plans.get(key)
        if hit is not None:
            return hit
        plan = []
        upper = model.upper() if model else None
        for vuln in self.by_maker[maker]:
            if vuln.device_types is not None and device_type is not None \
                    and device_type not in vuln.device_types:
                continue
            ranges = []
            for i, rng in enumerate(vuln.affected):
                if rng.device_types is not None and device_type is not None \
                        and device_type not in rng.device_types:
                    continue
                regex = self._regex.get((vuln.cve, i))
                if regex is not None and upper is not None and not regex.search(upper):
                    continue
                ranges.append(_Range(i, rng, self._bounds[(vuln.cve, i)][0],
                                     self._bounds[(vuln.cve, i)][1],
                                     regex is not None and upper is None))
            plan.append((vuln, tuple(ranges)))
        result = tuple(plan)
        self._plans[key] = result
        return result

    def match(self, maker: str | None, device_type: str | None, model: str | None,
              firmware: str | None) -> VulnKey:
        """Every listed vulnerability that may apply, with its status; () when none can."""
        if maker is None or maker not in self.by_maker:
            return ()
        key = (maker, device_type, model, firmware)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: list[VulnMatch] = []
        fw = (firmware or "").strip()
        for vuln, ranges in self._plan(maker, device_type, model):
            if not fw:
                out.append(VulnMatch(vuln.cve, "firmware_unknown", -1))
                continue
            if not vuln.affected:
                out.append(VulnMatch(vuln.cve, vuln.no_range, -1))
                continue
            best, best_i = "not_affected", -1
            for r in ranges:
                status = _range_status(r, fw)
                if RANK[status] > RANK[best]:
                    best, best_i = status, r.index
            if best != "not_affected":
                out.append(VulnMatch(vuln.cve, best, best_i))
        result = tuple(out)
        if len(self._cache) < 200_000:
            self._cache[key] = result
        return result

    def worst(self, key: VulnKey) -> str | None:
        if not key:
            return None
        return max((m.status for m in key), key=lambda s: RANK[s])

    def reasons(self, key: VulnKey) -> list[str]:
        """One line per vulnerability that matters, naming the KEV entry and the range."""
        lines: list[str] = []
        unknown = [m.cve for m in key if m.status == "firmware_unknown"]
        for m in key:
            if m.status == "firmware_unknown":
                continue
            vuln = self.by_cve[m.cve]
            kev = (f"CISA KEV since {vuln.kev.date_added.isoformat()}, federal due date "
                   f"{vuln.kev.due_date.isoformat()}")
            if m.range_index >= 0:
                rng = vuln.affected[m.range_index]
                what = ("firmware is in the affected range" if m.status == "affected"
                        else "firmware may be affected; verify against the advisory")
                lines.append(f"{m.cve} {vuln.name} ({kev}): {what}: {rng.note}")
            else:
                lines.append(f"{m.cve} {vuln.name} ({kev}): listed for this maker; the "
                             "bundled data has no firmware range, so verify the firmware")
        if unknown:
            lines.append(f"firmware unknown: {len(unknown)} advisory range(s) listed for this "
                         "maker cannot be checked until the firmware version is recorded "
                         "(camsweep policy vulns lists them)")
        return lines


def self_test(index: VulnerabilityIndex) -> list[str]:
    """Run every example in the list; return one line per failure."""
    failures: list[str] = []
    for vuln in index.data.vulnerabilities:
        for ex in vuln.examples:
            key = index.match(ex.maker, ex.device_type, ex.model, ex.firmware)
            got = next((m.status for m in key if m.cve == vuln.cve), "not_affected")
            if got != ex.expect:
                failures.append(f"{index.file}: {vuln.cve} example {ex.model or ''} "
                                f"{ex.firmware!r}: expected {ex.expect}, got {got}")
    return failures

