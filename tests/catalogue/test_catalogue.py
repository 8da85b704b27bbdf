"""The matter catalogue: the generated sample's shape, file round trips, refusals naming
row and column, versions in the store (SQLite and PostGIS) and the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gis_core.catalogue import Catalogue, CatalogueError, parse_entries
from gis_core.catalogue.files import read_catalogue, write_catalogue
from gis_core.catalogue.sample import sample_catalogue
from gis_core.catalogue.versions import CatalogueNotFound
from gis_core.cli import app, register_commands
from gis_core.standards import event_classes
from gis_core.storage import Store

REPO = Path(__file__).resolve().parents[2]


def test_sample_has_baohe_shape_on_gbt_codes() -> None:
    entries = sample_catalogue()
    assert len(entries) == 118
    assert len({e.major_no for e in entries}) == 11
    known = set(event_classes()["code"])
    assert all(e.category_code in known for e in entries)
    assert len({e.category_code for e in entries}) == 118
    assert any(e.co_handling_required and e.co_unit_codes for e in entries)
    assert any(e.after_photo for e in entries) and any(e.measurement for e in entries)
    # the shipped file is this function's output
    assert read_catalogue(REPO / "data" / "sample_grids" / "catalogue.csv") == entries


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    entries = sample_catalogue()[:20]
    path = tmp_path / f"c.{suffix}"
    assert write_catalogue(entries, path) == 20
    assert read_catalogue(path) == entries


def test_bad_rows_are_refused_with_row_and_column(tmp_path: Path) -> None:
    good = sample_catalogue()[0].as_dict()
    cases = [
        ({"category_code": "99999"}, "category_code"),
        ({"major_no": "x"}, "major_no"),
        ({"handling_limit_value": "-3"}, "handling_limit_value"),
        ({"handling_limit_unit": "weeks"}, "handling_limit_unit"),
        ({"after_photo": "maybe"}, "after_photo"),
        ({"visibility": "secret"}, "visibility"),
        ({"name": "长" * 101}, "name"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        with pytest.raises(CatalogueError) as info:
            parse_entries([good, {**good, "category_code": "06001", **change}])
        assert info.value.field == f"entries[1].{field}", (change, info.value.field)
        assert "entry 2" in str(info.value)
    with pytest.raises(CatalogueError, match="second entry"):
        parse_entries([good, good])
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["category_code", "major_no", "major_name"])
        w.writerow(["06001", "1", "x"])
        w.writerow(["123", "1", "x"])
    with pytest.raises(CatalogueError, match="entry 2"):
        read_catalogue(path)
    with pytest.raises(CatalogueError, match=r"\.csv or \.xlsx"):
        read_catalogue(tmp_path / "c.txt")


def test_versions_and_area_specific_entries(store: Store) -> None:
    catalogue = Catalogue(store)
    with pytest.raises(CatalogueNotFound):
        catalogue.load()
    base = sample_catalogue()[0]
    local = parse_entries([{**base.as_dict(), "area_code": "340111001", "after_photo": False}])
    v1 = catalogue.save([base, *local], "tester", "first")
    v2 = catalogue.save([base], "tester", "second")
    assert v2 > v1
    meta, entries = catalogue.load()
    assert meta["version"] == v2 and meta["entry_count"] == 1 and entries == [base]
    assert [v["version"] for v in catalogue.versions()] == [v2, v1]
    with store.session(write=False) as s:
        in_street = catalogue.entry_for(s, v1, base.category_code, "340111001002003")
        elsewhere = catalogue.entry_for(s, v1, base.category_code, "340111005001001")
        assert in_street is not None and in_street.after_photo is False
        assert elsewhere == base
        assert catalogue.entry_for(s, v1, "06001", "340111001002003") is None
        assert catalogue.entry_for(s, None, base.category_code, None) is None


def test_cli_import_export(tmp_path: Path) -> None:
    register_commands()
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    with Store(url) as s:
        s.upgrade()
    out = tmp_path / "out.xlsx"
    r = runner.invoke(app, ["catalogue", "export", str(out), "--url", url])
    assert r.exit_code == 2 and "no catalogue" in r.output
    source = REPO / "data" / "sample_grids" / "catalogue.csv"
    r = runner.invoke(app, ["catalogue", "import", str(source), "--url", url, "--note", "样例"])
    assert r.exit_code == 0, r.output
    assert '"entries": 118' in r.output
    r = runner.invoke(app, ["catalogue", "export", str(out), "--url", url])
    assert r.exit_code == 0, r.output
    assert read_catalogue(out) == read_catalogue(source)
    bad = tmp_path / "bad.csv"
    bad.write_text("category_code,major_no,major_name\n99999,1,x\n", encoding="utf-8")
    r = runner.invoke(app, ["catalogue", "import", str(bad), "--url", url])
    assert r.exit_code == 2 and "99999" in r.output and "Traceback" not in r.output
