"""JSON for machines: provenance, facts and tables keyed by name, rows as objects."""

from __future__ import annotations

import json
from typing import Any

from camsweep.report.model import Report, plain


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "report": report.kind,
        "title": report.title,
        "scope": report.scope,
        "public": report.public,
        "provenance": report.provenance.as_dict(),
        "facts": {f.key: {label: plain(value) for label, value in f.items}
                  for f in report.facts()},
        "tables": {
            t.key: {
                "title": t.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                "rows": [{k: plain(v) for k, v in r.items()} for r in t.records()],
                **({"note": t.note} if t.note else {}),
            }
            for t in report.tables()
        },
        "sign_off": [{"title": s.title, "signatories": s.signatories, "fields": list(s.fields)}
                     for s in report.sign_offs()],
    }


def render_json(report: Report) -> bytes:
    return (json.dumps(report_dict(report), indent=1, ensure_ascii=False) + "\n").encode()
