"""Register import on SQLite and PostgreSQL: mapping, normalising, all-or-nothing, history."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from camsweep.errors import InputError
from camsweep.inventory.importer import import_file
from camsweep.store import Store
from camsweep.store import models as m

SITES = (
    "site_id,name,department,region,sensitivity,postcode\n"
    "HO-0001,Home Office Marsham Street,Home Office,london,sensitive,SW1P 4DF\n"
    "MOJ-0001,Leeds Crown Court,Ministry of Justice,yorkshire,Standard,ls1 3bg\n"
)
ASSETS = (
    "Asset Tag,Location,Type,Make,Model No,Serial,MAC Address,IP,Firmware,Install Date\n"
    "A-1,HO-0001,IP Camera,Hikvision,DS-2CD2143G2-I,S1,44-19-B6-12-34-56,192.0.2.10,"
    "V5.7.15 build 230313,04/03/2021\n"
    "A-2,HO-0001,NVR 16ch,dahau,,S2,,,,2021-03-04\n"
    "A-3,MOJ-0001,bullet cam,Axis,P3265-LVE,,accc8e.010203,,,\n"
)


def write(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp / name
    p.write_bytes(text.encode(encoding))
    return p


def count(store: Store, model: type[m.Base]) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def snapshot(store: Store) -> dict[str, int]:
    return {t.__tablename__: count(store, t)
            for t in (m.Source, m.Department, m.Site, m.Device, m.FieldHistory)}


@pytest.fixture
def sites_loaded(store: Store, tmp_path: Path) -> Store:
    import_file(store, write(tmp_path, "sites.csv", SITES), "sites")
    return store


def test_import_maps_synonyms_and_normalises(sites_loaded: Store, tmp_path: Path) -> None:
    res = import_file(sites_loaded, write(tmp_path, "assets.csv", ASSETS), "assets")
    assert (res.created, res.updated, res.unchanged) == (3, 0, 0)
    assert dict(res.mapping)["Make"] == "brand"
    with sites_loaded.session() as s:
        devs = {d.asset_id: d for d in s.scalars(select(m.Device))}
        site = s.scalar(select(m.Site).where(m.Site.site_id == "MOJ-0001"))
    assert devs["A-1"].mac == "44:19:b6:12:34:56"
    assert devs["A-1"].install_date == date(2021, 3, 4)
    assert devs["A-2"].install_date == date(2021, 3, 4)
    assert devs["A-1"].device_type == "camera" and devs["A-2"].device_type == "nvr"
    assert devs["A-3"].mac == "ac:cc:8e:01:02:03"
    assert devs["A-2"].model is None
    assert site is not None and site.sensitivity == "standard" and site.postcode == "LS1 3BG"


def test_reimport_same_file_changes_nothing(sites_loaded: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "assets.csv", ASSETS)
    import_file(sites_loaded, path, "assets")
    with sites_loaded.session() as s:
        before = [(d.id, d.updated_at, d.brand) for d in s.scalars(select(m.Device))]
    hist = count(sites_loaded, m.FieldHistory)
    res = import_file(sites_loaded, path, "assets")
    assert (res.created, res.updated, res.unchanged, res.changes) == (0, 0, 3, 0)
    with sites_loaded.session() as s:
        after = [(d.id, d.updated_at, d.brand) for d in s.scalars(select(m.Device))]
    assert before == after
    assert count(sites_loaded, m.FieldHistory) == hist


def test_reimport_edited_file_updates_changed_fields_with_history(
        sites_loaded: Store, tmp_path: Path) -> None:
    first = import_file(sites_loaded, write(tmp_path, "a.csv", ASSETS), "assets")
    edited = ASSETS.replace("DS-2CD2143G2-I", "DS-2CD2143G2-IS").replace(",dahau,", ",Dahua,")
    edited += "A-4,MOJ-0001,camera,Bosch,FLEXIDOME IP 5000i,,,,,\n"
    res = import_file(sites_loaded, write(tmp_path, "b.csv", edited), "assets")
    assert (res.created, res.updated, res.unchanged, res.changes) == (1, 2, 1, 2)
    with sites_loaded.session() as s:
        hist = s.scalars(select(m.FieldHistory).order_by(m.FieldHistory.field)).all()
        a1 = s.scalar(select(m.Device).where(m.Device.asset_id == "A-1"))
    assert [(h.field, h.old_value, h.new_value) for h in hist] == [
        ("brand", "dahau", "Dahua"), ("model", "DS-2CD2143G2-I", "DS-2CD2143G2-IS")]
    assert all(h.source_id == res.source_id for h in hist)
    assert a1 is not None and a1.model == "DS-2CD2143G2-IS"
    assert a1.source_id == first.source_id  # created by the first import


def test_blank_cell_does_not_clear_a_value(sites_loaded: Store, tmp_path: Path) -> None:
    import_file(sites_loaded, write(tmp_path, "a.csv", ASSETS), "assets")
    blanked = ASSETS.replace("DS-2CD2143G2-I", "")
    res = import_file(sites_loaded, write(tmp_path, "b.csv", blanked), "assets")
    assert res.updated == 0
    with sites_loaded.session() as s:
        assert s.scalar(select(m.Device.model).where(m.Device.asset_id == "A-1")) == \
            "DS-2CD2143G2-I"


def test_every_error_is_listed_and_nothing_written(sites_loaded: Store, tmp_path: Path) -> None:
    bad = (
        "asset_id,site_id,mac,ip,install_date\n"
        "B-1,HO-0001,44:19:b6:12:34,192.0.2.1,01/01/2020\n"
        "B-2,NOPE-9,,192.0.2.300,\n"
        "B-3,HO-0001,,,31/02/2020\n"
        "B-1,HO-0001,,,\n"
        ",HO-0001,,,\n"
        "B-5,,,,\n"
    )
    before = snapshot(sites_loaded)
    with pytest.raises(InputError) as info:
        import_file(sites_loaded, write(tmp_path, "bad.csv", bad), "assets")
    got = {(e.row, e.column) for e in info.value.errors}
    assert got == {(2, "mac"), (3, "site_id"), (3, "ip"), (4, "install_date"), (5, "asset_id"),
                   (6, "asset_id"), (7, "site_id")}
    assert all(e.file.endswith("bad.csv") for e in info.value.errors)
    assert "nothing was imported" in str(info.value)
    assert snapshot(sites_loaded) == before


def test_dry_run_reports_and_writes_nothing(sites_loaded: Store, tmp_path: Path) -> None:
    before = snapshot(sites_loaded)
    res = import_file(sites_loaded, write(tmp_path, "a.csv", ASSETS), "assets", dry_run=True)
    assert res.created == 3 and not res.errors
    bad = import_file(sites_loaded, write(tmp_path, "b.csv", ASSETS.replace("HO-0001", "X-1")),
                      "assets", dry_run=True)
    assert {e.column for e in bad.errors} == {"site_id"}
    assert snapshot(sites_loaded) == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_and_semicolons(store: Store, tmp_path: Path, encoding: str) -> None:
    text = SITES.replace(",", ";").replace("Leeds Crown Court", "Café Pâtisserie Court")
    res = import_file(store, write(tmp_path, "s.csv", text, encoding), "sites")
    assert res.created == 2
    with store.session() as s:
        names = set(s.scalars(select(m.Site.name)))
    assert "Café Pâtisserie Court" in names


def test_chinese_brand_survives_utf8(sites_loaded: Store, tmp_path: Path) -> None:
    text = "asset_id,site_id,brand,model\nC-1,HO-0001,海康威视,DS-2CD2143G2-I\n"
    import_file(sites_loaded, write(tmp_path, "zh.csv", text), "assets")
    with sites_loaded.session() as s:
        assert s.scalar(select(m.Device.brand)) == "海康威视"


def test_map_override_and_missing_column(sites_loaded: Store, tmp_path: Path) -> None:
    text = "Tag,Where,Cam Maker\nT-1,HO-0001,Hikvision\n"
    with pytest.raises(InputError) as info:
        import_file(sites_loaded, write(tmp_path, "o.csv", text), "assets")
    assert {e.reason.split(" (")[0] for e in info.value.errors} >= {
        "no column for required field 'site_id'"}
    res = import_file(sites_loaded, tmp_path / "o.csv", "assets",
                      overrides={"Where": "site_id", "Cam Maker": "brand"})
    assert res.created == 1


def test_xlsx_first_sheet_and_named_sheet(sites_loaded: Store, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Notes"
    ws.append(["nothing here"])
    reg = wb.create_sheet("Register")
    reg.append(["Asset No", "Site Code", "Manufacturer", "Model Number", "MAC", "Date Installed"])
    reg.append([1001, "HO-0001", "Hikvision", "DS-7608NI-K2", "4419B6ABCDEF", date(2019, 5, 6)])
    reg.append(["1002", "HO-0001", "Axis", "P3265-LVE", None, "06/05/2019"])
    path = tmp_path / "reg.xlsx"
    wb.save(path)
    with pytest.raises(InputError):
        import_file(sites_loaded, path, "assets")  # first sheet has no asset columns
    res = import_file(sites_loaded, path, "assets", sheet="Register")
    assert res.created == 2
    with sites_loaded.session() as s:
        devs = {d.asset_id: d for d in s.scalars(select(m.Device))}
    assert devs["1001"].install_date == devs["1002"].install_date == date(2019, 5, 6)
    assert devs["1001"].mac == "44:19:b6:ab:cd:ef"
    with pytest.raises(InputError, match="no sheet 'Nope'"):
        import_file(sites_loaded, path, "assets", sheet="Nope")


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("empty.csv", b"", "file is empty"),
    ("blank.csv", b"\n\n  \n", "file is empty"),
    ("binary.csv", bytes(range(256)) * 10, "binary"),
    ("header-only.csv", b"asset_id,site_id\n", "no data rows"),
])
def test_bad_files_fail_cleanly(sites_loaded: Store, tmp_path: Path, name: str, content: bytes,
                                reason: str) -> None:
    before = snapshot(sites_loaded)
    with pytest.raises(InputError, match=reason):
        import_file(sites_loaded, write(tmp_path, name, "") if not content else
                    _bytes(tmp_path, name, content), "assets")
    assert snapshot(sites_loaded) == before


def _bytes(tmp: Path, name: str, content: bytes) -> Path:
    p = tmp / name
    p.write_bytes(content)
    return p


def test_truncated_csv_names_the_row(sites_loaded: Store, tmp_path: Path) -> None:
    full = ASSETS.encode()
    cut = _bytes(tmp_path, "cut.csv", full[: full.rindex(b"P3265")])
    with pytest.raises(InputError) as info:
        import_file(sites_loaded, cut, "assets")
    assert [e.row for e in info.value.errors] == [4]
    assert "truncated" in info.value.errors[0].reason
    quote = _bytes(tmp_path, "quote.csv", b'asset_id,site_id\nA-1,"HO-0001\n')
    with pytest.raises(InputError, match=r"malformed CSV|fields"):
        import_file(sites_loaded, quote, "assets")


def test_truncated_xlsx(sites_loaded: Store, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["asset_id", "site_id"])
    ws.append(["A-1", "HO-0001"])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a readable XLSX"):
        import_file(sites_loaded, path, "assets")
    assert zipfile.is_zipfile(tmp_path / "t.xlsx") is False


def test_huge_cell_is_refused(sites_loaded: Store, tmp_path: Path) -> None:
    text = "asset_id,site_id,model\nA-1,HO-0001," + "X" * 50_000 + "\n"
    with pytest.raises(InputError, match="longer than"):
        import_file(sites_loaded, write(tmp_path, "huge.csv", text), "assets")


def test_long_value_over_column_limit(sites_loaded: Store, tmp_path: Path) -> None:
    text = "asset_id,site_id,brand\nA-1,HO-0001," + "B" * 400 + "\n"
    with pytest.raises(InputError) as info:
        import_file(sites_loaded, write(tmp_path, "long.csv", text), "assets")
    assert info.value.errors[0].column == "brand"


def test_duplicate_and_ambiguous_headers(sites_loaded: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header"):
        import_file(sites_loaded, write(tmp_path, "d.csv", "asset_id,site_id,asset_id\n1,2,3\n"),
                    "assets")
    with pytest.raises(InputError) as info:
        import_file(sites_loaded, write(tmp_path, "d2.csv", "asset_id,site_id,Make,Brand\n"
                                        "1,HO-0001,a,b\n"), "assets", overrides={"Make": "brand"})
    assert any("maps to 'brand'" in e.reason for e in info.value.errors)


def test_sites_reimport_changes_department(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path, "s.csv", SITES), "sites")
    moved = SITES.replace("Leeds Crown Court,Ministry of Justice", "Leeds Crown Court,HMCTS")
    res = import_file(store, write(tmp_path, "s2.csv", moved), "sites")
    assert (res.updated, res.changes) == (1, 1)
    with store.session() as s:
        h = s.scalars(select(m.FieldHistory)).one()
        assert (h.entity, h.field, h.old_value, h.new_value) == (
            "site", "department", "Ministry of Justice", "HMCTS")
        assert s.scalar(select(func.count()).select_from(m.Department)) == 3


def test_bulk_path_restores_foreign_keys(sites_loaded: Store, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from camsweep.store import bulk

    monkeypatch.setattr(bulk, "BIG_LOAD", 1)  # take the bulk path on a small file
    res = import_file(sites_loaded, write(tmp_path, "a.csv", ASSETS), "assets")
    assert res.created == 3
    with sites_loaded.engine.connect() as conn:
        if sites_loaded.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            names = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='devices'")}
            assert {"ix_devices_asset_id", "ix_devices_mac", "ix_devices_ip"} <= names
    with pytest.raises(InputError):  # and a duplicate asset id is still refused
        import_file(sites_loaded, write(tmp_path, "b.csv", ASSETS + ASSETS.splitlines()[1]
                                        + "\n"), "assets")
