"""The typed shape of a policy file, a programme file and the vulnerability list.

A policy is a versioned, cited rule set: who it applies to (scope), which makers it
restricts (by named entity, by jurisdiction, by public listing), what it requires (rules
with actions and deadlines), who is let off (exemptions, waivers) and how urgent it is
(priority weights). Unknown keys are errors, so a typo never silently drops a rule.
See docs/policies.md for the writing guide.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from camsweep.domain import DeviceType
from camsweep.kb.schema import ListingName

ID_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
PolicyId = Annotated[str, Field(pattern=ID_PATTERN, min_length=2, max_length=60)]
RuleId = Annotated[str, Field(pattern=ID_PATTERN, min_length=2, max_length=60)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=2, max_length=40)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Url = Annotated[str, Field(pattern=r"^https?://\S+$")]
SemVer = Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
DeviceTypeName = Literal["camera", "nvr", "dvr", "encoder", "intercom", "access_control", "other"]
Status = Literal["non_compliant", "compliant", "needs_survey", "exempt"]
STATUSES: tuple[str, ...] = ("non_compliant", "needs_survey", "exempt", "compliant")
ACTIONS = ("remove", "disconnect", "replace_at_end_of_life", "block_egress", "report", "survey")
assert set(DeviceTypeName.__args__) == {t.value for t in DeviceType}  # type: ignore[attr-defined]

_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$")


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 calendar duration (`P7Y`, `P18M`, `P2W`, `P30D`): years and months are
    calendar steps (a year after 29 Feb is 28 Feb), weeks and days are exact."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        m = _DURATION.match(text.strip().upper())
        if not m or text.strip().upper() == "P":
            raise ValueError(f"'{text}' is not an ISO 8601 duration such as P7Y, P18M or P30D")
        weeks = int(m["w"] or 0)
        return cls(int(m["y"] or 0), int(m["m"] or 0), int(m["d"] or 0) + 7 * weeks)

    def add_to(self, start: date) -> date:
        month_index = start.year * 12 + start.month - 1 + self.years * 12 + self.months
        year, month = divmod(month_index, 12)
        day = min(start.day, _month_days(year, month + 1))
        return date(year, month + 1, day) + timedelta(days=self.days)

    def polars_offset(self) -> str:
        """The same step as a Polars `dt.offset_by` string (calendar-aware, day clamped)."""
        parts = [f"{self.years}y" if self.years else "", f"{self.months}mo" if self.months else ""]
        return "".join(parts) or "0mo"

    def __str__(self) -> str:
        body = "".join(f"{n}{u}" for n, u in ((self.years, "Y"), (self.months, "M"),
                                                (self.days, "D")) if n)
        return "P" + (body or "0D")


def _month_days(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _to_duration(value: Any) -> Any:
    if isinstance(value, Duration):
        return value
    if isinstance(value, str):
        return Duration.parse(value)
    raise ValueError("a duration is a string such as P7Y, P18M or P30D")


DurationField = Annotated[Duration, BeforeValidator(_to_duration), PlainSerializer(str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- references, dates and deadlines -------------------------------------------------


class ParamRef(_Strict):
    """A value supplied at assessment time (`--param NAME=VALUE` or a programme file)."""

    param: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


DateRef = date | ParamRef
Event = Literal["install", "recorded", "effective", "as_of"]


class RelativeDeadline(_Strict):
    """A deadline counted from an event: `{after: install, within: P7Y}`.

    `install` is the device's install date, `recorded` the day the store first recorded it,
    `effective` the policy's effective date, `as_of` the assessment date.
    """

    after: Event
    within: DurationField | None = None
    within_business_days: Annotated[int, Field(ge=1, le=365)] | None = None
    not_later_than: DateRef | None = None

    @model_validator(mode="after")
    def _one_step(self) -> RelativeDeadline:
        if (self.within is None) == (self.within_business_days is None):
            raise ValueError("give exactly one of 'within' (a duration) or 'within_business_days'")
        return self


DeadlineSpec = date | ParamRef | RelativeDeadline


# --- scope, conditions and maker criteria --------------------------------------------


class Scope(_Strict):
    """Where a policy applies; an empty list means 'any'."""

    sensitivity: list[str] = Field(default_factory=list)
    organisation_types: list[str] = Field(default_factory=list)
    device_types: list[DeviceTypeName] = Field(default_factory=list)


class When(_Strict):
    """Extra conditions a rule needs, all of which must hold."""

    sensitivity: list[str] | None = None
    organisation_types: list[str] | None = None
    device_types: list[DeviceTypeName] | None = None
    installed_on_or_after: DateRef | None = None
    installed_before: DateRef | None = None
    calls_home: bool | None = None
    internet_exposed: bool | None = None
    on_core_network: bool | None = None
    vulnerable: bool | None = None


class MakerCriterion(_Strict):
    """One way of naming restricted makers; a policy restricts makers matching any of them."""

    subject_to_prc_nil: Literal[True] | None = None
    entities: list[Slug] | None = None
    listed_on: list[ListingName] | None = None
    jurisdictions: list[Country] | None = None
    include: list[Literal["subsidiaries", "affiliates", "brands"]] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MakerCriterion:
        given = [n for n in ("subject_to_prc_nil", "entities", "listed_on", "jurisdictions")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a criterion names exactly one of subject_to_prc_nil, entities, "
                             f"listed_on, jurisdictions (got {given or 'none'})")
        if self.include and self.entities is None:
            raise ValueError("'include' applies to 'entities' only")
        return self


class RestrictedMakers(_Strict):
    any_of: list[MakerCriterion] = Field(min_length=1)


# --- actions --------------------------------------------------------------------------


class RemoveAction(_Strict):
    """Remove (and replace) the device by the deadline."""

    type: Literal["remove"]
    deadline: DeadlineSpec | None = None


class DisconnectAction(_Strict):
    """Disconnect or isolate the device from the named network."""

    type: Literal["disconnect"]
    network: Literal["core"] = "core"
    deadline: DeadlineSpec | None = None


class NoNewInstallAction(_Strict):
    """No installs on or after `from`; a device installed since then gets `remedy`."""

    type: Literal["no_new_install"]
    from_: DateRef = Field(alias="from")
    remedy: Literal["remove", "disconnect", "survey"] = "remove"
    deadline: DeadlineSpec | None = None


class ReplaceAtEndOfLifeAction(_Strict):
    """Replace at the end of service life: install date + `service_life` per device type."""

    type: Literal["replace_at_end_of_life"]
    service_life: dict[str, DurationField]
    not_later_than: DateRef | None = None

    @model_validator(mode="after")
    def _has_default(self) -> ReplaceAtEndOfLifeAction:
        if "default" not in self.service_life:
            raise ValueError("service_life needs a 'default' entry (e.g. default: P7Y)")
        unknown = set(self.service_life) - {"default", *DeviceTypeName.__args__}  # type: ignore[attr-defined]
        if unknown:
            raise ValueError(f"service_life: unknown device type(s) {sorted(unknown)}")
        return self


class BlockEgressAction(_Strict):
    """Block the device's traffic to vendor clouds and P2P services (devices that call home)."""

    type: Literal["block_egress"]
    deadline: DeadlineSpec | None = None


class ReportAction(_Strict):
    """Report the device to an authority, with the listed fields, by the deadline."""

    type: Literal["report"]
    to: str
    fields: list[str] = Field(default_factory=list)
    deadline: DeadlineSpec | None = None


Action = Annotated[
    RemoveAction | DisconnectAction | NoNewInstallAction | ReplaceAtEndOfLifeAction
    | BlockEgressAction | ReportAction,
    Field(discriminator="type"),
]


# --- legal basis ----------------------------------------------------------------------


class Citation(_Strict):
    id: RuleId
    document: str
    url: Url
    date: _dt.date | None = None
    publisher: str | None = None
    quote: str | None = None
    note: str | None = None


class LegalBasis(_Strict):
    kind: Literal["statute", "regulation", "ministerial_instruction", "administrative",
                  "guidance", "programme"]
    summary: str
    citations: list[Citation] = Field(min_length=1)


class Effective(_Strict):
    from_: date = Field(alias="from")
    to: date | None = None


# --- rules, exemptions, waivers, priority --------------------------------------------


class Rule(_Strict):
    id: RuleId
    title: str
    clause: str
    cite: list[str] = Field(min_length=1)
    mandatory: bool = True
    when: When = Field(default_factory=When)
    action: Action
    priority: Annotated[int, Field(ge=-50, le=50)] = 0


class Selector(_Strict):
    """Which devices an exemption or waiver covers: any listed id, and all `when` conditions."""

    asset_ids: list[str] = Field(default_factory=list)
    site_ids: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    when: When | None = None

    @property
    def has_ids(self) -> bool:
        return bool(self.asset_ids or self.site_ids or self.departments or self.regions)


class Exemption(_Strict):
    """A class of devices the measure itself leaves out, optionally until a date."""

    id: RuleId
    reason: str
    cite: list[str] = Field(default_factory=list)
    applies_to: Selector
    rules: list[str] | None = None
    expires: date | None = None

    @model_validator(mode="after")
    def _selects(self) -> Exemption:
        if not self.applies_to.has_ids and self.applies_to.when is None:
            raise ValueError("applies_to selects nothing: give ids or 'when' conditions")
        return self


class Waiver(_Strict):
    """A decision by a named authority to let specific devices or sites off, until a date."""

    reference: str
    policy: PolicyId | None = None
    rules: list[str] | None = None
    asset_ids: list[str] = Field(default_factory=list)
    site_ids: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    granted_by: str
    granted_on: date | None = None
    expires: date | None = None
    reason: str

    @model_validator(mode="after")
    def _selects(self) -> Waiver:
        if not (self.asset_ids or self.site_ids or self.departments):
            raise ValueError("a waiver names asset_ids, site_ids or departments")
        return self


class WaiverLimit(_Strict):
    """The latest date any waiver under this policy may run to (a statutory cap)."""

    latest_expiry: date
    cite: list[str] = Field(default_factory=list)
    note: str | None = None


class ExposureWeights(_Strict):
    internet_exposed: int = 20
    on_core_network: int = 10
    calls_home: int = 15


class VulnerabilityWeights(_Strict):
    affected: int = 25
    check: int = 10
    firmware_unknown: int = 5


class PriorityWeights(_Strict):
    """Algorithm `priority-v1`: the sum of the weights that apply, clamped to 0..100.

    Advisory findings are scaled by `advisory_factor`; `overdue` is added when the
    deadline has passed on the assessment date.
    """

    model: Literal["priority-v1"] = "priority-v1"
    policy: Annotated[int, Field(ge=0, le=100)] = 20
    sensitivity: dict[str, int] = Field(default_factory=lambda: {"sensitive": 30})
    device_type: dict[str, int] = Field(default_factory=lambda: {"nvr": 10, "dvr": 10})
    exposure: ExposureWeights = Field(default_factory=ExposureWeights)
    vulnerability: VulnerabilityWeights = Field(default_factory=VulnerabilityWeights)
    overdue: int = 10
    advisory_factor: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5


class Parameter(_Strict):
    type: Literal["date", "number", "integer", "string", "duration"]
    description: str
    default: Any = None


class Milestone(_Strict):
    """A programme-level target (a share of in-scope sites clear by a date); reported, not
    evaluated per device."""

    by: date
    share_of_sites: Annotated[float, Field(gt=0.0, le=1.0)]
    description: str
    cite: list[str] = Field(default_factory=list)


# --- supply-chain depth ---------------------------------------------------------------


class ComponentMatch(_Strict):
    makers: list[Slug] | None = None
    subject_to_prc_nil: Literal[True] | None = None
    countries: list[Country] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ComponentMatch:
        given = [n for n in ("makers", "subject_to_prc_nil", "countries")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a component match names exactly one of makers, "
                             "subject_to_prc_nil, countries")
        return self


class ComponentRule(_Strict):
    id: RuleId
    title: str
    clause: str
    cite: list[str] = Field(min_length=1)
    match: ComponentMatch
    mandatory: bool = False
    action: Action
    priority: Annotated[int, Field(ge=-50, le=50)] = 0


class Components(_Strict):
    """Rules over hardware bills of materials; `max_depth` answers "where do you stop?":
    1 = the device's direct parts, 2 = their parts, and so on."""

    max_depth: Annotated[int, Field(ge=1, le=20)] | ParamRef
    rules: list[ComponentRule] = Field(min_length=1)


# --- self-test examples ---------------------------------------------------------------


class ExampleComponent(_Strict):
    name: str
    supplier: str | None = None
    maker: Slug | None = None
    country: Country | None = None
    depth: Annotated[int, Field(ge=1)] = 1


class ExampleDevice(_Strict):
    asset_id: str = "EX-1"
    site_id: str | None = "SITE-1"
    department: str | None = "Example Department"
    region: str | None = "example"
    sensitivity: str | None = "standard"
    organisation_type: str | None = None
    device_type: DeviceTypeName | None = "camera"
    manufacturer_id: str | None = None
    oem_of: str | None = None
    restricted: bool | None = None
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    brand: str | None = None
    model: str | None = None
    firmware: str | None = None
    install_date: date | None = None
    recorded_date: date | None = None
    calls_home: bool | None = None
    on_core_network: bool | None = None
    internet_exposed: bool | None = None
    components: list[ExampleComponent] | None = None


class ExpectedFinding(_Strict):
    rule: str
    action: str
    deadline: date | Literal["none"] | None = None
    priority: Annotated[int, Field(ge=0, le=100)] | None = None
    priority_at_least: Annotated[int, Field(ge=0, le=100)] | None = None
    reason_contains: str | None = None


class ExampleExpect(_Strict):
    status: Status
    findings: list[ExpectedFinding] | None = None
    advisory: list[ExpectedFinding] | None = None


class Example(_Strict):
    name: str
    as_of: date
    params: dict[str, Any] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)
    device: ExampleDevice
    expect: ExampleExpect


# --- the policy -----------------------------------------------------------------------


class Policy(_Strict):
    id: PolicyId
    title: str
    version: SemVer
    status: Literal["in_force", "advisory", "template", "superseded"]
    jurisdiction: Annotated[str, Field(pattern=r"^(?:[A-Z]{2}|\*)$")]
    summary: str
    legal_basis: LegalBasis
    effective: Effective
    scope: Scope = Field(default_factory=Scope)
    restricted_makers: RestrictedMakers
    parameters: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Parameter] = Field(
        default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    components: Components | None = None
    exemptions: list[Exemption] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    waiver_limit: WaiverLimit | None = None
    priority: PriorityWeights = Field(default_factory=PriorityWeights)
    milestones: list[Milestone] = Field(default_factory=list)
    examples: list[Example] = Field(min_length=1)


# --- programme file -------------------------------------------------------------------


class ProgrammeInfo(_Strict):
    name: str
    owner: str | None = None
    description: str | None = None


class Programme(_Strict):
    """An organisation's own settings: which policies, parameter values, departments'
    organisation types, and waivers it has granted."""

    programme: ProgrammeInfo
    policies: list[str] = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    organisation_types: dict[str, str] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)


# --- known exploited vulnerabilities --------------------------------------------------

VulnStatus = Literal["affected", "check", "not_affected", "firmware_unknown"]


class KevEntry(_Strict):
    date_added: date
    due_date: date
    required_action: str
    source: str = Field(min_length=8)


class AffectedRange(_Strict):
    """Firmware that is affected. Hikvision firmware compares as (version, build);
    Dahua firmware by build date, as their advisories state ranges."""

    grammar: Literal["hikvision", "dahua"]
    device_types: list[DeviceTypeName] | None = None
    models: str | None = None
    version_from: str | None = None
    version_to: str | None = None
    build_from: date | None = None
    build_before: date | None = None
    status: Literal["affected", "check"] = "affected"
    note: str


class VulnExample(_Strict):
    maker: Slug
    device_type: DeviceTypeName | None = None
    model: str | None = None
    firmware: str | None = None
    expect: VulnStatus


class Vulnerability(_Strict):
    cve: Annotated[str, Field(pattern=r"^CVE-\d{4}-\d{4,}$")]
    name: str
    makers: list[Slug] = Field(min_length=1)
    device_types: list[DeviceTypeName] | None = None
    cvss: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    kev: KevEntry
    sources: list[str] = Field(min_length=1)
    affected: list[AffectedRange] = Field(default_factory=list)
    no_range: Literal["check", "affected"] = "check"
    examples: list[VulnExample] = Field(min_length=1)


class VulnerabilityFile(_Strict):
    source: str
    catalog_version: str
    retrieved: date
    min_count: Annotated[int, Field(ge=1)]
    vulnerabilities: list[Vulnerability]
