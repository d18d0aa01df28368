"""Policy files: schema errors name file, line and field; references are checked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import PolicyError
from camsweep.kb import load_kb
from camsweep.policy import (
    bundled_policies,
    default_policy_ids,
    load_policy_file,
    load_programme,
    load_vulnerabilities,
    merge_params,
    parse_param_args,
    prepare,
    resolve_policies,
)
from camsweep.policy.loader import load_policy_text
from camsweep.policy.schema import Duration
from camsweep.policy.yamlmarks import load_marked

runner = CliRunner()
MINIMAL = """\
id: test-policy
title: Test policy
version: 1.0.0
status: in_force
jurisdiction: GB
summary: A test.
legal_basis:
  kind: programme
  summary: test
  citations:
    - id: decision
      document: A decision
      url: https://example.org/decision
      date: 2024-01-01
effective:
  from: 2024-01-01
restricted_makers:
  any_of:
    - subject_to_prc_nil: true
rules:
  - id: remove-all
    title: Remove
    clause: Remove it.
    cite: [decision]
    action:
      type: remove
      deadline: 2025-01-01
examples:
  - name: Hikvision
    as_of: 2024-06-01
    device: {manufacturer_id: hikvision}
    expect:
      status: non_compliant
      findings:
        - {rule: remove-all, action: remove, deadline: 2025-01-01}
"""


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_policy_loads_and_runs(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL)
    lp = load_policy_file(path)
    assert lp.id == "test-policy" and lp.file == str(path)
    res = runner.invoke(app, ["policy", "test", str(path)])
    assert res.exit_code == 0, res.output
    assert "1 passed, 0 failed" in res.output


@pytest.mark.parametrize(("old", "new", "field", "needle"), [
    ("      type: remove\n", "      type: demolish\n", "rules.0.action.type", "type: demolish"),
    ("version: 1.0.0", "version: one", "version", "version: one"),
    ("      deadline: 2025-01-01\n", "      deadline: {after: install}\n",
     "rules.0.action", "deadline: {after: install}"),
    ("    cite: [decision]\n", "    cite: [decision]\n    colour: red\n", "rules.0.colour",
     "colour: red"),
])
def test_schema_error_names_file_line_and_field(tmp_path: Path, old: str, new: str,
                                                field: str, needle: str) -> None:
    text = MINIMAL.replace(old, new)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{_line_of(text, needle)}: field '{field}")


def test_missing_field_points_at_enclosing_mapping(tmp_path: Path) -> None:
    text = MINIMAL.replace("    clause: Remove it.\n", "")
    with pytest.raises(PolicyError) as err:
        load_policy_text(text, "x.yaml")
    assert str(err.value).startswith(f"x.yaml:{_line_of(text, '- id: remove-all')}: "
                                     "field 'rules.0.clause'")


@pytest.mark.parametrize(("old", "new", "expect"), [
    ("    cite: [decision]", "    cite: [nowhere]", "unknown citation 'nowhere'"),
    ("      deadline: 2025-01-01", "      deadline: {param: no_such_param}",
     "unknown parameter 'no_such_param'"),
    ("        - {rule: remove-all,", "        - {rule: remove-none,", "unknown rule 'remove-none'"),
    ("  - id: remove-all", "  - id: survey", "rule id 'survey' is reserved"),
])
def test_reference_errors_are_located(old: str, new: str, expect: str) -> None:
    text = MINIMAL.replace(old, new)
    with pytest.raises(PolicyError) as err:
        load_policy_text(text, "refs.yaml")
    assert expect in str(err.value)
    assert str(err.value).startswith(f"refs.yaml:{_line_of(text, new.strip()[:12])}:")


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(PolicyError, match=r"^y\.yaml:3: not valid YAML"):
        load_policy_text("id: x\ntitle: y\n  bad: [\n", "y.yaml")


def test_unknown_kb_maker_is_reported_when_compiled() -> None:
    text = MINIMAL.replace("    - subject_to_prc_nil: true", "    - entities: [nosuchmaker]")
    lp = load_policy_text(text, "kb.yaml")
    with pytest.raises(PolicyError, match=r"kb\.yaml:\d+: field 'restricted_makers.any_of.0."
                                          r"entities.0': 'nosuchmaker' is not a maker"):
        prepare([lp], load_kb(), load_vulnerabilities(), date(2024, 6, 1))


def test_marks_follow_paths() -> None:
    data, marks = load_marked("a:\n  b:\n    - x\n    - y: 1\n")
    assert data == {"a": {"b": ["x", {"y": 1}]}}
    assert marks.line(("a", "b", 1, "y")) == 4
    assert marks.line(("a", "b", 1, "zzz")) == 4
    assert marks.line(("a", "missing", "deeper")) == 1


def test_params_are_typed_and_checked() -> None:
    policies = resolve_policies(["uk-wms-2022"])
    values = merge_params(policies, {"programme_deadline": "2027-12-31"},
                          parse_param_args(["min_confidence=0.8"]))
    assert values == {"programme_deadline": date(2027, 12, 31), "min_confidence": 0.8}
    with pytest.raises(PolicyError, match="unknown parameter 'programme_deadlin'"):
        merge_params(policies, {"programme_deadlin": "2027-12-31"})
    with pytest.raises(PolicyError, match="not a valid date"):
        merge_params(policies, {"programme_deadline": "soon"})
    with pytest.raises(PolicyError, match="NAME=VALUE"):
        parse_param_args(["programme_deadline"])


def test_resolution_of_ids_and_files(tmp_path: Path) -> None:
    assert "programme-template" not in default_policy_ids()
    assert set(default_policy_ids()) < set(bundled_policies())
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL)
    got = resolve_policies(["uk-wms-2022", str(path)])
    assert [lp.id for lp in got] == ["uk-wms-2022", "test-policy"]
    with pytest.raises(PolicyError, match="unknown policy 'nope'"):
        resolve_policies(["nope"])
    with pytest.raises(PolicyError, match="selected twice"):
        resolve_policies(["uk-wms-2022", "uk-wms-2022"])


def test_programme_file(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(MINIMAL)
    prog = tmp_path / "programme.yaml"
    prog.write_text("programme: {name: Test programme}\n"
                    "policies: [uk-wms-2022, mine.yaml]\n"
                    "params: {programme_deadline: 2027-03-31}\n"
                    "organisation_types: {Home Office: central_government}\n"
                    "waivers:\n"
                    "  - {reference: W-1, policy: uk-wms-2022, asset_ids: [A-1],\n"
                    "     granted_by: DSO, reason: test, expires: 2026-01-01}\n")
    loaded = load_programme(prog)
    assert [lp.id for lp in loaded.policies] == ["uk-wms-2022", "test-policy"]
    prog.write_text(prog.read_text().replace("policy: uk-wms-2022", "policy: us-ndaa-889"))
    with pytest.raises(PolicyError, match=r"programme\.yaml:6: field 'waivers.0.policy'"):
        load_programme(prog)


def test_durations() -> None:
    assert Duration.parse("P7Y").add_to(date(2016, 2, 29)) == date(2023, 2, 28)
    assert Duration.parse("P1M").add_to(date(2024, 1, 31)) == date(2024, 2, 29)
    assert Duration.parse("P2W").add_to(date(2024, 1, 1)) == date(2024, 1, 15)
    assert str(Duration.parse("P1Y6M3D")) == "P1Y6M3D"
    for bad in ("P", "7Y", "P1H"):
        with pytest.raises(ValueError, match="ISO 8601"):
            Duration.parse(bad)


def test_cli_validate_and_show(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("version: 1.0.0", "version: one"))
    res = runner.invoke(app, ["policy", "validate", str(good)])
    assert res.exit_code == 0 and "ok" in res.output
    res = runner.invoke(app, ["policy", "validate", str(good), str(bad)])
    assert res.exit_code != 0
    assert isinstance(res.exception, PolicyError)
    assert f"{bad}:3: field 'version'" in str(res.exception)
    for ref in ("uk-wms-2022", "programme-template", str(good)):
        res = runner.invoke(app, ["policy", "show", ref])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["policy", "show", "us-ndaa-889"])
    assert "hikvision" in res.output and "FAR 52.204-25" in res.output
    res = runner.invoke(app, ["policy", "list", "--json"])
    assert res.exit_code == 0 and '"uk-wms-2022"' in res.output
    res = runner.invoke(app, ["policy", "vulns"])
    assert res.exit_code == 0 and "CVE-2021-36260" in res.output
