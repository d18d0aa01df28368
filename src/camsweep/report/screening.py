"""A screening case file for the procurement unit: subject, screening results with their
explanations, the evidence list with content hashes, decisions, exclusions and the audit trail.

It reads the case through `screen.cases.get_case`, the same view the CSV and JSON exports
use, so the PDF says what they say. Who may see a case is decided by the caller (the CLI
requires the procurement role and logs the export).
"""

from __future__ import annotations

from typing import Any

from camsweep.report.model import Column, Facts, Provenance, Report, Section, Table, slug
from camsweep.report.provenance import now
from camsweep.screen.cases import CaseDetail, get_case
from camsweep.store import Store


def _screenings(detail: CaseDetail) -> tuple[Table, Table]:
    results, lines = [], []
    for e in detail.evidence:
        if e.kind != "screening" or not isinstance(e.content, dict):
            continue
        c: dict[str, Any] = e.content
        results.append([e.id, e.added_at, c.get("query"), c.get("match"), c.get("entity"),
                        c.get("entity_id"), c.get("relation"), c.get("score"),
                        c.get("matched_name"), c.get("algorithm"), c.get("data_version")])
        lines += [[e.id, n, text] for n, text in enumerate(c.get("explanation") or [], 1)]
        lines += [[e.id, None, f"listed: {listing.get('name') or listing}"
                   + (f" ({listing.get('date')})" if isinstance(listing, dict)
                      and listing.get("date") else "")]
                  for listing in c.get("listings") or []]
    return (
        Table("screening_results", "Screening results",
              [Column("evidence", "Evidence", "int"), Column("at", "Screened at (UTC)"),
               Column("query", "Name screened"), Column("match", "Match"),
               Column("entity", "Entity"), Column("entity_id", "Entity id"),
               Column("relation", "Relation"), Column("score", "Score", "float"),
               Column("matched_name", "Matched name"), Column("algorithm", "Algorithm"),
               Column("data_version", "Data version")], results),
        Table("screening_explanations", "Why: each result's explanation",
              [Column("evidence", "Evidence", "int"), Column("step", "Step", "int"),
               Column("line", "Explanation")], lines),
    )


def build_screening(store: Store, ref: str | None) -> Report:
    from camsweep.errors import ReportError

    if not ref or not ref.strip():
        raise ReportError("a screening report needs a case reference (e.g. CASE-000001)")
    detail = get_case(store, ref)
    c = detail.case
    case_facts = Facts("case", "Case", [
        ("Reference", c.ref), ("Title", c.title), ("Subject", c.subject),
        ("Country", (c.subject_country or "").upper() or None), ("Status", c.status),
        ("Linked entity", f"{c.entity} [{c.entity_id}]" if c.entity_id else None),
        ("Relation", c.relation), ("Score", f"{c.score:.2f}" if c.score is not None else None),
        ("Opened", f"{c.opened_at[:19]} by {c.opened_by}"), ("Last updated", c.updated_at[:19]),
    ])
    results, explanations = _screenings(detail)
    evidence = Table(
        "evidence", "Evidence",
        [Column("id", "Id", "int"), Column("kind", "Kind"), Column("what", "File or note"),
         Column("media_type", "Type"), Column("size", "Bytes", "int"),
         Column("sha256", "sha256", "hash"), Column("added_by", "Added by"),
         Column("added_at", "Added at (UTC)")],
        [[e.id, e.kind, e.filename or e.description or (e.content or {}).get("text"),
          e.media_type, e.size, e.sha256, e.added_by, e.added_at[:19]]
         for e in detail.evidence],
        note="Documents are stored by their sha256; recompute it to check a copy is the one "
             "attached.")
    decisions = Table(
        "decisions", "Decisions",
        [Column("id", "Id", "int"), Column("decision", "Decision"), Column("reasons", "Reasons"),
         Column("decided_by", "Decided by"), Column("decided_on", "Decided on"),
         Column("effective_from", "Effective from"), Column("effective_to", "Effective to"),
         Column("review_on", "Review on"), Column("recorded_by", "Recorded by")],
        [[d.id, d.decision, d.reasons, d.decided_by, d.decided_on, d.effective_from,
          d.effective_to or "open-ended", d.review_on, d.recorded_by]
         for d in detail.decisions])
    exclusions = Table(
        "exclusions", "Exclusions",
        [Column("supplier", "Supplier"), Column("country", "Country"),
         Column("from", "From"), Column("to", "To"), Column("status", "Status"),
         Column("decided_by", "Decided by"), Column("reason", "Reason")],
        [[x.supplier, (x.supplier_country or "").upper() or None, x.effective_from,
          x.effective_to or "open-ended", x.status, x.decided_by, x.reason]
         for x in detail.exclusions])
    audit = Table(
        "audit", "Audit-log entries",
        [Column("seq", "Seq", "int"), Column("at", "At (UTC)"), Column("actor", "Actor"),
         Column("action", "Action"), Column("details", "Details"),
         Column("hash", "Entry hash", "hash")],
        [[a["seq"], str(a["at"])[:19], a["actor"], a["action"], _details(a["details"]),
          a["hash"]] for a in detail.audit])
    versions = sorted({f"{e.content.get('algorithm')} / data {e.content.get('data_version')}"
                       for e in detail.evidence
                       if e.kind == "screening" and isinstance(e.content, dict)})
    provenance = Provenance(generated_at=now(), kinds=(), extra=[
        ("Case data as of", c.updated_at[:19]),
        ("Screening algorithm and data", "; ".join(versions) or "no screening recorded"),
    ])
    sections = [
        Section("Case", [case_facts]),
        Section("Screening", [results, explanations]),
        Section("Evidence", [evidence]),
        Section("Decisions and exclusions", [decisions, exclusions]),
        Section("Audit trail", [audit]),
    ]
    return Report("screening", f"Case file {c.ref}: {c.subject}", "Procurement: case file",
                  provenance, sections, f"case-{slug(c.ref)}")


def _details(details: dict[str, Any]) -> str:
    import json

    return json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
