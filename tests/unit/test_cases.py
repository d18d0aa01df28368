"""Investigation cases and the exclusion register, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import ScreenError
from camsweep.screen import Screener
from camsweep.screen.cases import (
    EvidenceStore,
    attach_document,
    attach_record,
    case_csv,
    case_json,
    decide,
    exclusions_csv,
    exclusions_json,
    get_case,
    list_cases,
    list_exclusions,
    open_case,
    record_export,
    require_actor,
)
from camsweep.store import Store
from camsweep.track.audit import iter_audit, verify_audit

ACTOR = require_actor("j.smith")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.bundled()


def test_role_and_actor_are_required() -> None:
    with pytest.raises(ScreenError, match="--actor"):
        require_actor(None)
    with pytest.raises(ScreenError, match="procurement"):
        require_actor("bob", "viewer")
    assert require_actor(" ann ", "Procurement").name == "ann"


def test_case_lifecycle(store: Store, tmp_path: Path, screener: Screener) -> None:
    hit = screener.screen("Hikvision UK Ltd", country="GB").as_dict()
    case = open_case(store, ACTOR, "Hikvision UK Ltd", country="GB", screening=hit)
    assert case.ref == "CASE-000001" and case.status == "open"
    assert (case.entity_id, case.relation) == ("cs-hikvision", "subsidiary")

    doc = tmp_path / "companies-house-extract.pdf"
    doc.write_bytes(PDF)
    evidence = EvidenceStore(tmp_path / "evidence")
    row = attach_document(store, ACTOR, case.ref, doc, evidence, "register extract")
    assert row.sha256 and Path(str(row.stored_path)).read_bytes() == PDF
    again = attach_document(store, ACTOR, case.ref, doc, evidence)
    assert again.stored_path == row.stored_path  # stored once, by content
    attach_record(store, ACTOR, case.ref, "note", {"text": "called the supplier"})

    start = date.today() - timedelta(days=1)
    d = decide(store, ACTOR, case.ref, "exclude", "subsidiary of a listed maker",
               decided_by="Head of Procurement", effective_from=start)
    assert d.decision == "exclude" and d.decided_by == "Head of Procurement"
    active = list_exclusions(store)
    assert [(x.case, x.supplier, x.status) for x in active] == [
        (case.ref, "Hikvision UK Ltd", "active")]
    assert active[0].entity_id == "cs-hikvision"

    lift = date.today() + timedelta(days=30)
    decide(store, ACTOR, case.ref, "do-not-exclude", "remediation verified",
           effective_from=lift)
    assert next(iter(list_exclusions(store))).effective_to == lift.isoformat()
    assert list_exclusions(store, as_of=lift + timedelta(days=1)) == []
    assert len(list_exclusions(store, as_of=lift + timedelta(days=1), include_ended=True)) == 1

    detail = get_case(store, case.ref)
    assert [e.kind for e in detail.evidence] == ["screening", "document", "document", "note"]
    assert [x.decision for x in detail.decisions] == ["exclude", "do_not_exclude"]
    actions = [a["action"] for a in detail.audit]
    assert actions == ["case.open", "case.attach", "case.attach", "case.attach",
                       "case.decide", "case.decide"]
    assert verify_audit(store) == []
    assert [c.ref for c in list_cases(store, "decided")] == [case.ref]

    as_json = json.loads(case_json(detail))
    assert as_json["case"]["ref"] == case.ref and len(as_json["audit"]) == 6
    rows = list(csv.DictReader(io.StringIO(case_csv(detail))))
    assert rows[0]["event"] == "opened" and rows[-1]["event"].startswith("exclusion:")
    register = list_exclusions(store, include_ended=True)
    first = next(iter(csv.DictReader(io.StringIO(exclusions_csv(register)))))
    assert first["supplier"] == "Hikvision UK Ltd"
    assert json.loads(exclusions_json(register))[0]["case"] == case.ref
    record_export(store, ACTOR, "exclusions", "register", "csv", len(register))
    assert next(iter(iter_audit(store, "exclusions"))).action == "exclusions.export"


def test_monitor_needs_review_date_and_keeps_register(store: Store) -> None:
    case = open_case(store, ACTOR, "Acme Cameras Ltd")
    with pytest.raises(ScreenError, match="review date"):
        decide(store, ACTOR, case.ref, "monitor", "watch the parent")
    decide(store, ACTOR, case.ref, "monitor", "watch the parent",
           review_on=date.today() + timedelta(days=90))
    assert get_case(store, case.ref).case.status == "monitoring"
    assert list_exclusions(store) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decision": "ban", "reasons": "x"}, "must be one of"),
        ({"decision": "exclude", "reasons": "  "}, "reasons"),
        ({"decision": "exclude", "reasons": "x", "decided_on": date.today() + timedelta(2)},
         "future"),
        ({"decision": "exclude", "reasons": "x", "effective_from": date(2026, 5, 1),
          "effective_to": date(2026, 4, 1)}, "empty"),
    ],
)
def test_bad_decisions_are_refused(store: Store, kwargs: dict[str, object],
                                   message: str) -> None:
    case = open_case(store, ACTOR, "Some Supplier")
    with pytest.raises(ScreenError, match=message):
        decide(store, ACTOR, case.ref, **kwargs)  # type: ignore[arg-type]
    assert get_case(store, case.ref).decisions == []


def test_documents_are_type_and_size_checked(store: Store, tmp_path: Path) -> None:
    case = open_case(store, ACTOR, "Some Supplier")
    evidence = EvidenceStore(tmp_path / "ev", max_bytes=150)
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    big = tmp_path / "big.txt"
    big.write_text("x" * 300)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    bad_json = tmp_path / "x.json"
    bad_json.write_text("{oops")
    bad_docx = tmp_path / "x.docx"
    with zipfile.ZipFile(bad_docx, "w") as z:
        z.writestr("hello.txt", "hi")
    for path, message in ((fake, "not a PDF"), (exe, "not accepted"), (big, "over the"),
                          (empty, "empty"), (bad_json, "not valid JSON"),
                          (bad_docx, "not an Office document"),
                          (tmp_path / "missing.pdf", "no such file")):
        with pytest.raises(ScreenError, match=message):
            attach_document(store, ACTOR, case.ref, path, evidence)
    with pytest.raises(ScreenError, match="no case"):
        attach_record(store, ACTOR, "CASE-999999", "note", {"text": "x"})
    assert get_case(store, case.ref).evidence == []


def test_case_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("CAMSWEEP_EVIDENCE_DIR", str(tmp_path / "evidence"))
    res = runner.invoke(app, ["--db", db, "case", "list"])
    assert res.exception is not None and "--actor" in str(res.exception)
    monkeypatch.setenv("CAMSWEEP_ACTOR", "ann")
    res = runner.invoke(app, ["--db", db, "case", "open", "Dahua Technology UK Ltd",
                              "--country", "GB", "--json"])
    assert res.exit_code == 0, res.output
    ref = json.loads(res.stdout)["ref"]
    assert json.loads(res.stdout)["relation"] == "subsidiary"
    doc = tmp_path / "letter.txt"
    doc.write_text("Dear supplier ...")
    res = runner.invoke(app, ["--db", db, "case", "attach", ref, str(doc), "--note", "called",
                              "--screening", "Zhejiang Dahua Technology"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", db, "case", "decide", ref, "--decision", "exclude",
                              "--reason", "subsidiary of Dahua", "--by", "Director"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", db, "exclusions", "list", "--json"])
    assert json.loads(res.stdout)[0]["supplier"] == "Dahua Technology UK Ltd"
    out = tmp_path / "register.csv"
    res = runner.invoke(app, ["--db", db, "exclusions", "export", "--format", "csv",
                              "--out", str(out)])
    assert res.exit_code == 0 and "Dahua Technology UK Ltd" in out.read_text()
    res = runner.invoke(app, ["--db", db, "case", "export", ref, "--format", "csv"])
    assert res.exit_code == 0 and "decision:exclude" in res.stdout
    res = runner.invoke(app, ["--db", db, "case", "show", ref])
    assert res.exit_code == 0 and "letter.txt" in res.stdout
    res = runner.invoke(app, ["--db", db, "audit", "verify", "--json"])
    assert json.loads(res.stdout)["ok"] is True
    assert json.loads(res.stdout)["entries"] == 7
    res = runner.invoke(app, ["--db", db, "case", "list", "--role", "viewer"])
    assert res.exception is not None and "procurement" in str(res.exception)
