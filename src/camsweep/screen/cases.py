"""Investigation cases and the exclusion register (store-facing).

A case is opened on a supplier, usually from a screening hit; evidence is attached (documents,
size- and type-checked and stored by sha256 under a configurable folder; screening results;
notes); decisions are recorded (exclude / do not exclude / monitor) with reasons, dates and
the deciding person. An `exclude` decision puts the supplier on the exclusion register for
an effective period; a later `do_not_exclude` ends it. Every change, and every export, is
appended to the hash-chained audit log in the same transaction.

Access is limited to the procurement role: every function takes an `Actor`, and
`require_actor` refuses anyone else.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from camsweep.errors import ScreenError
from camsweep.files import sha256_file
from camsweep.store import Store
from camsweep.store.models import Case, CaseDecision, CaseEvidence, Exclusion
from camsweep.track.attachments import SNIFF_BYTES, EvidenceStore, sniff
from camsweep.track.audit import append_audit, iter_audit

DECISIONS = ("exclude", "do_not_exclude", "monitor")
PROCUREMENT_ROLES = frozenset({"procurement"})

# extension -> (media type, how the content must look)
DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    ".pdf": ("application/pdf", "pdf"),
    ".png": ("image/png", "png"),
    ".jpg": ("image/jpeg", "jpeg"),
    ".jpeg": ("image/jpeg", "jpeg"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "ooxml"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ooxml"),
    ".txt": ("text/plain", "text"),
    ".csv": ("text/csv", "text"),
    ".md": ("text/markdown", "text"),
    ".json": ("application/json", "json"),
    ".eml": ("message/rfc822", "text"),
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = "procurement"


def require_actor(name: str | None, role: str | None = None) -> Actor:
    """The person acting, from --actor / CAMSWEEP_ACTOR; only the procurement role may act."""
    if not name or not name.strip():
        raise ScreenError("cases and the exclusion register need to know who is acting: "
                          "pass --actor NAME or set CAMSWEEP_ACTOR")
    role = (role or "procurement").strip().lower()
    if role not in PROCUREMENT_ROLES:
        raise ScreenError(f"role '{role}' may not use cases or the exclusion register "
                          f"(access is limited to: {', '.join(sorted(PROCUREMENT_ROLES))})")
    return Actor(name.strip(), role)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _check_content(path: Path, expect: str, head: bytes) -> str | None:
    """None when the bytes look like the extension says, else what is wrong."""
    if expect == "pdf":
        return None if sniff(head) == "application/pdf" else "not a PDF (no %PDF- header)"
    if expect == "png":
        return None if sniff(head) == "image/png" else "not a PNG image"
    if expect == "jpeg":
        return None if sniff(head) == "image/jpeg" else "not a JPEG image"
    if expect == "ooxml":
        if not head.startswith(b"PK\x03\x04"):
            return "not an Office Open XML file (not a ZIP container)"
        try:
            with zipfile.ZipFile(path) as z:
                if "[Content_Types].xml" not in z.namelist():
                    return "a ZIP file, but not an Office document"
        except zipfile.BadZipFile:
            return "a damaged ZIP container"
        return None
    data = path.read_bytes()
    if b"\x00" in data:
        return "binary content in a text file"
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if expect == "json":
        try:
            json.loads(decoded)
        except json.JSONDecodeError as exc:
            return f"not valid JSON ({exc.msg}, line {exc.lineno})"
    return None


def store_document(evidence: EvidenceStore, path: Path) -> tuple[str, str, int, Path]:
    """Check a document and copy it in by content hash: (sha256, media type, size, stored)."""
    if not path.is_file():
        raise ScreenError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise ScreenError(f"{path}: empty file")
    if size > evidence.max_bytes:
        raise ScreenError(f"{path}: {size:,} bytes is over the {evidence.max_bytes:,}-byte limit "
                          "for evidence (CAMSWEEP_EVIDENCE_MAX_BYTES)")
    ext = path.suffix.lower()
    kind = DOCUMENT_TYPES.get(ext)
    if kind is None:
        raise ScreenError(f"{path}: type '{ext or '(none)'}' is not accepted as evidence; "
                          f"accepted: {', '.join(sorted(DOCUMENT_TYPES))}")
    media_type, expect = kind
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    problem = _check_content(path, expect, head)
    if problem:
        raise ScreenError(f"{path}: {problem}; the file was not attached")
    sha = sha256_file(path)
    return sha, media_type, size, evidence.put_file(path, sha, ext)


# --- views ------------------------------------------------------------------------------


@dataclass
class CaseView:
    ref: str
    title: str
    subject: str
    subject_country: str | None
    entity_id: str | None
    entity: str | None
    relation: str | None
    score: float | None
    status: str
    opened_by: str
    opened_at: str
    updated_at: str


@dataclass
class EvidenceView:
    id: int
    kind: str
    filename: str | None
    media_type: str | None
    size: int | None
    sha256: str | None
    stored_path: str | None
    description: str | None
    content: dict[str, Any] | None
    added_by: str
    added_at: str


@dataclass
class DecisionView:
    id: int
    decision: str
    reasons: str
    decided_by: str
    decided_on: str
    effective_from: str
    effective_to: str | None
    review_on: str | None
    recorded_by: str
    recorded_at: str


@dataclass
class ExclusionView:
    id: int
    case: str
    supplier: str
    supplier_country: str | None
    entity_id: str | None
    reason: str
    effective_from: str
    effective_to: str | None
    status: str
    decided_by: str
    decided_on: str


@dataclass
class CaseDetail:
    case: CaseView
    evidence: list[EvidenceView] = field(default_factory=list)
    decisions: list[DecisionView] = field(default_factory=list)
    exclusions: list[ExclusionView] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _case_view(c: Case) -> CaseView:
    return CaseView(c.ref, c.title, c.subject, c.subject_country, c.entity_id, c.entity,
                    c.relation, c.score, c.status, c.opened_by, c.opened_at.isoformat(),
                    c.updated_at.isoformat())


def _evidence_view(e: CaseEvidence) -> EvidenceView:
    return EvidenceView(e.id, e.kind, e.filename, e.media_type, e.size, e.sha256, e.stored_path,
                        e.description, e.content, e.added_by, e.added_at.isoformat())


def _decision_view(d: CaseDecision) -> DecisionView:
    return DecisionView(d.id, d.decision, d.reasons, d.decided_by, d.decided_on.isoformat(),
                        d.effective_from.isoformat(), _iso(d.effective_to), _iso(d.review_on),
                        d.recorded_by, d.recorded_at.isoformat())


def _exclusion_status(x: Exclusion, as_of: date) -> str:
    if x.effective_from > as_of:
        return "future"
    if x.effective_to is not None and x.effective_to <= as_of:
        return "ended"
    return "active"


def _exclusion_view(x: Exclusion, case_ref: str, d: CaseDecision, as_of: date) -> ExclusionView:
    return ExclusionView(x.id, case_ref, x.supplier, x.supplier_country, x.entity_id, x.reason,
                         x.effective_from.isoformat(), _iso(x.effective_to),
                         _exclusion_status(x, as_of), d.decided_by, d.decided_on.isoformat())


def _get(session: Session, ref: str) -> Case:
    case = session.scalars(select(Case).where(Case.ref == ref.strip().upper())).first()
    if case is None:
        raise ScreenError(f"no case '{ref}' (see `camsweep case list`)")
    return case


# --- operations -------------------------------------------------------------------------


def open_case(store: Store, actor: Actor, subject: str, *, country: str | None = None,
              title: str | None = None, screening: dict[str, Any] | None = None) -> CaseView:
    """Open a case on `subject`; `screening` (a screening result) becomes its first evidence."""
    subject = subject.strip()
    if not subject:
        raise ScreenError("a case needs a subject: the supplier's name")
    if country is not None and len(country.strip()) != 2:
        raise ScreenError(f"country '{country}' must be a two-letter ISO code")
    now = _now()
    with store.session() as session, session.begin():
        case = Case(
            ref=f"NEW-{hashlib.sha256(os.urandom(8)).hexdigest()[:12]}",
            title=(title or f"Screening of {subject}").strip(), subject=subject,
            subject_country=country.strip().lower() if country else None,
            entity_id=(screening or {}).get("entity_id"), entity=(screening or {}).get("entity"),
            relation=(screening or {}).get("relation"), score=(screening or {}).get("score"),
            status="open", opened_by=actor.name, opened_at=now, updated_at=now,
            screening=screening,
        )
        session.add(case)
        session.flush()
        case.ref = f"CASE-{case.id:06d}"
        if screening is not None:
            session.add(CaseEvidence(case_id=case.id, kind="screening",
                                     description="screening result that opened the case",
                                     content=screening, added_by=actor.name, added_at=now))
        session.flush()
        append_audit(session.connection(), actor.name, "case.open", "case", case.ref,
                     {"subject": subject, "country": case.subject_country,
                      "entity_id": case.entity_id, "relation": case.relation,
                      "score": case.score, "title": case.title}, at=now)
        return _case_view(case)


def attach_document(store: Store, actor: Actor, ref: str, path: Path, evidence: EvidenceStore,
                    description: str | None = None) -> EvidenceView:
    sha, media_type, size, stored = store_document(evidence, path)
    now = _now()
    with store.session() as session, session.begin():
        case = _get(session, ref)
        row = CaseEvidence(case_id=case.id, kind="document", filename=path.name,
                           media_type=media_type, size=size, sha256=sha,
                           stored_path=str(stored), description=description,
                           added_by=actor.name, added_at=now)
        session.add(row)
        case.updated_at = now
        session.flush()
        append_audit(session.connection(), actor.name, "case.attach", "case", case.ref,
                     {"evidence_id": row.id, "kind": "document", "filename": path.name,
                      "sha256": sha, "size": size, "media_type": media_type,
                      "description": description}, at=now)
        return _evidence_view(row)


def attach_record(store: Store, actor: Actor, ref: str, kind: str, content: dict[str, Any],
                  description: str | None = None) -> EvidenceView:
    """Attach a screening result (`kind="screening"`) or a note (`kind="note"`)."""
    if kind not in ("screening", "note"):
        raise ScreenError(f"evidence kind '{kind}' must be screening or note")
    now = _now()
    with store.session() as session, session.begin():
        case = _get(session, ref)
        row = CaseEvidence(case_id=case.id, kind=kind, content=content, description=description,
                           added_by=actor.name, added_at=now)
        session.add(row)
        case.updated_at = now
        session.flush()
        append_audit(session.connection(), actor.name, "case.attach", "case", case.ref,
                     {"evidence_id": row.id, "kind": kind, "description": description,
                      "sha256": hashlib.sha256(json.dumps(content, sort_keys=True,
                                                          default=str).encode()).hexdigest()},
                     at=now)
        return _evidence_view(row)


def decide(store: Store, actor: Actor, ref: str, decision: str, reasons: str, *,
           decided_by: str | None = None, decided_on: date | None = None,
           effective_from: date | None = None, effective_to: date | None = None,
           review_on: date | None = None) -> DecisionView:
    """Record a decision. `exclude` puts the subject on the register from `effective_from`
    (default: the decision date) to `effective_to` (open-ended when None); `do_not_exclude`
    ends any exclusion of this case from `effective_from`; `monitor` changes no exclusion."""
    decision = decision.strip().lower().replace("-", "_").replace(" ", "_")
    if decision not in DECISIONS:
        raise ScreenError(f"decision '{decision}' must be one of: {', '.join(DECISIONS)}")
    if not reasons or not reasons.strip():
        raise ScreenError("a decision needs its reasons (--reason TEXT)")
    today = datetime.now(UTC).date()
    on = decided_on or today
    if on > today:
        raise ScreenError(f"decision date {on} is in the future")
    start = effective_from or on
    if effective_to is not None and effective_to <= start:
        raise ScreenError(f"the effective period is empty: {start} to {effective_to}")
    if decision == "monitor" and review_on is None:
        raise ScreenError("a monitor decision needs a review date (--review-on YYYY-MM-DD)")
    now = _now()
    with store.session() as session, session.begin():
        case = _get(session, ref)
        row = CaseDecision(case_id=case.id, decision=decision, reasons=reasons.strip(),
                           decided_by=(decided_by or actor.name).strip(), decided_on=on,
                           effective_from=start, effective_to=effective_to, review_on=review_on,
                           recorded_by=actor.name, recorded_at=now)
        session.add(row)
        session.flush()
        ended: list[int] = []
        if decision in ("exclude", "do_not_exclude"):
            open_rows = session.scalars(select(Exclusion).where(
                Exclusion.case_id == case.id, Exclusion.ended_by_decision_id.is_(None))).all()
            for x in open_rows:
                if x.effective_to is None or x.effective_to > start:
                    x.effective_to = max(start, x.effective_from)
                    x.ended_by_decision_id = row.id
                    ended.append(x.id)
        created: int | None = None
        if decision == "exclude":
            x = Exclusion(case_id=case.id, decision_id=row.id, supplier=case.subject,
                          supplier_country=case.subject_country, entity_id=case.entity_id,
                          reason=row.reasons, effective_from=start, effective_to=effective_to,
                          created_at=now)
            session.add(x)
            session.flush()
            created = x.id
        case.status = {"exclude": "decided", "do_not_exclude": "decided",
                       "monitor": "monitoring"}[decision]
        case.updated_at = now
        append_audit(session.connection(), actor.name, "case.decide", "case", case.ref,
                     {"decision_id": row.id, "decision": decision, "reasons": row.reasons,
                      "decided_by": row.decided_by, "decided_on": on.isoformat(),
                      "effective_from": start.isoformat(),
                      "effective_to": _iso(effective_to), "review_on": _iso(review_on),
                      "exclusion_created": created, "exclusions_ended": ended}, at=now)
        return _decision_view(row)


def get_case(store: Store, ref: str, as_of: date | None = None) -> CaseDetail:
    day = as_of or datetime.now(UTC).date()
    with store.session() as session:
        case = _get(session, ref)
        evidence = session.scalars(select(CaseEvidence).where(CaseEvidence.case_id == case.id)
                                   .order_by(CaseEvidence.id)).all()
        decisions = session.scalars(select(CaseDecision).where(CaseDecision.case_id == case.id)
                                    .order_by(CaseDecision.id)).all()
        by_id = {d.id: d for d in decisions}
        excl = session.scalars(select(Exclusion).where(Exclusion.case_id == case.id)
                               .order_by(Exclusion.id)).all()
        detail = CaseDetail(
            _case_view(case),
            [_evidence_view(e) for e in evidence],
            [_decision_view(d) for d in decisions],
            [_exclusion_view(x, case.ref, by_id[x.decision_id], day) for x in excl],
        )
    detail.audit = [
        {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
         "details": e.details, "hash": e.hash}
        for e in iter_audit(store, "case", detail.case.ref)
    ]
    return detail


def list_cases(store: Store, status: str | None = None) -> list[CaseView]:
    with store.session() as session:
        query = select(Case).order_by(Case.id)
        if status:
            query = query.where(Case.status == status)
        return [_case_view(c) for c in session.scalars(query)]


def list_exclusions(store: Store, as_of: date | None = None, include_ended: bool = False
                    ) -> list[ExclusionView]:
    """The register as of a date: active ones (and future, ended ones when asked)."""
    day = as_of or datetime.now(UTC).date()
    with store.session() as session:
        rows = session.execute(
            select(Exclusion, Case.ref, CaseDecision)
            .join(Case, Case.id == Exclusion.case_id)
            .join(CaseDecision, CaseDecision.id == Exclusion.decision_id)
            .order_by(Exclusion.effective_from, Exclusion.id)
        ).all()
        views = [_exclusion_view(x, ref, d, day) for x, ref, d in rows]
    return [v for v in views if include_ended or v.status != "ended"]


def record_export(store: Store, actor: Actor, object_type: str, object_id: str,
                  fmt: str, rows: int) -> None:
    """Exports leave the system: each one is logged."""
    with store.engine.begin() as conn:
        append_audit(conn, actor.name, f"{object_type}.export", object_type, object_id,
                     {"format": fmt, "rows": rows})


# --- exports ----------------------------------------------------------------------------

EXCLUSION_COLUMNS = ("case", "supplier", "supplier_country", "entity_id", "reason",
                     "effective_from", "effective_to", "status", "decided_by", "decided_on")


def exclusions_csv(rows: Sequence[ExclusionView]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXCLUSION_COLUMNS)
    for r in rows:
        d = asdict(r)
        writer.writerow(["" if d[c] is None else d[c] for c in EXCLUSION_COLUMNS])
    return out.getvalue()


def exclusions_json(rows: Sequence[ExclusionView]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n"


def case_csv(detail: CaseDetail) -> str:
    """The case as a timeline: one row per event."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("case", "at", "event", "by", "summary"))
    c = detail.case
    writer.writerow((c.ref, c.opened_at, "opened", c.opened_by,
                     f"{c.subject} ({c.subject_country or '-'}); {c.relation or 'no'} link to "
                     f"{c.entity or '-'}; score {c.score if c.score is not None else '-'}"))
    for e in detail.evidence:
        what = e.filename or e.description or e.kind
        writer.writerow((c.ref, e.added_at, f"evidence:{e.kind}", e.added_by,
                         f"{what}" + (f" sha256={e.sha256}" if e.sha256 else "")))
    for d in detail.decisions:
        period = f"{d.effective_from} to {d.effective_to or 'open-ended'}"
        writer.writerow((c.ref, d.recorded_at, f"decision:{d.decision}", d.decided_by,
                         f"{d.reasons} (decided {d.decided_on}; effective {period})"))
    for x in detail.exclusions:
        writer.writerow((c.ref, x.effective_from, f"exclusion:{x.status}", x.decided_by,
                         f"{x.supplier} excluded {x.effective_from} to "
                         f"{x.effective_to or 'open-ended'}"))
    return out.getvalue()


def case_json(detail: CaseDetail) -> str:
    return json.dumps(detail.as_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
