"""The seeded year of events for the sample district: shape, mix, ground truth, determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal

from gis_core.sample_data.events import (
    COLUMNS,
    DEFECT_KINDS,
    SOURCES,
    generate_events,
    read_events,
    write_events,
)
from gis_core.spatial.crs import Projector, to_wgs84, valid_lonlat
from gis_core.spatial.io import read_layer
from gis_core.standards import event_classes

N = 20_000
TEXT_COLUMNS = [c for c in COLUMNS if c not in ("lon", "lat", "reported_at", "received_at")]


@pytest.fixture(scope="module")
def events(sample_dir: Path) -> pd.DataFrame:
    return generate_events(sample_dir, n=N)


@pytest.fixture(scope="module")
def outline(sample_dir: Path) -> shapely.Geometry:
    return shapely.union_all(read_layer(sample_dir / "districts.geojson").geometry.values)


@pytest.fixture(scope="module")
def buildings(sample_dir: Path) -> pd.DataFrame:
    b = read_layer(sample_dir / "buildings.geojson")
    cen = shapely.centroid(b.geometry.values)
    return pd.DataFrame(
        {"address": b["address"].to_numpy(), "lon": shapely.get_x(cen), "lat": shapely.get_y(cen)},
        index=b["building_id"].to_numpy(),
    )


@pytest.fixture(scope="module")
def resolved(events: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    """Where each record is, in WGS84: its coordinates converted, or its building's centroid."""
    lon = np.full(len(events), np.nan)
    lat = np.full(len(events), np.nan)
    for crs in ("wgs84", "gcj02", "bd09"):
        sel = (events["crs"] == crs).to_numpy()
        lon[sel], lat[sel] = to_wgs84(events["lon"][sel], events["lat"][sel], crs)
    by_building = events["building_id"].notna().to_numpy()
    ids = events["building_id"][by_building]
    lon[by_building] = buildings["lon"].reindex(ids).to_numpy()
    lat[by_building] = buildings["lat"].reindex(ids).to_numpy()
    valid = valid_lonlat(lon, lat)
    proj = Projector.for_lon(117.3)
    x, y = proj.to_metres(np.where(valid, lon, 0.0), np.where(valid, lat, 0.0))
    return pd.DataFrame({"lon": lon, "lat": lat, "x": x, "y": y, "valid": valid})


def share(mask: pd.Series | np.ndarray) -> float:
    return float(np.mean(mask))


# --- shape --------------------------------------------------------------------------------


def test_columns_and_dtypes(events: pd.DataFrame) -> None:
    assert list(events.columns) == list(COLUMNS)
    assert len(events) == N
    assert events["lon"].dtype == np.float64
    assert events["lat"].dtype == np.float64
    for c in ("reported_at", "received_at"):
        assert isinstance(events[c].dtype, pd.DatetimeTZDtype)
        assert str(events[c].dt.tz) == "Asia/Shanghai"
    for c in TEXT_COLUMNS:
        assert pd.api.types.is_string_dtype(events[c]), c
    assert events["reported_at"].is_monotonic_increasing
    assert (events["reported_at"].dt.year == 2025).all()
    assert (events["received_at"] >= events["reported_at"]).all()
    assert set(events["source"]) == set(SOURCES)
    assert set(events["priority"]) == {"normal", "urgent"}
    assert set(events["crs"].dropna()) == {"wgs84", "gcj02", "bd09"}
    assert events["category_code"].str.fullmatch(r"\d{5}").all()
    assert events["description"].notna().all()
    assert not events["description"].str.contains("nan|None|\\{").any()


def test_external_id_formats(events: pd.DataFrame) -> None:
    patterns = {
        "12345": r"12345-2025-\d{7}",
        "110": r"110-2025\d{4}-\d{5}",
        "12315": r"12315-2025\d{8}",
        "grid_member": r"GM2025\d{8}",
        "resident_app": r"APP2025\d{4}\d{7}",
        "iot": r"(WL|MC|SL|GB)-\d{4}-\d{6}",
        "ai_camera": r"AI-CAM-\d{4}-\d{6}",
        "patrol": r"XC-2025-\d{6}",
    }
    for source, pattern in patterns.items():
        ids = events.loc[events["source"] == source, "external_id"]
        assert ids.str.fullmatch(pattern).all(), source
    devices = events[events["source"].isin(["iot", "ai_camera"])]
    assert (devices["external_id"].str.removeprefix("AI-").str[:-7] == devices["device_id"]).all()
    assert events.loc[~events["source"].isin(["iot", "ai_camera"]), "device_id"].isna().all()


# --- mix ----------------------------------------------------------------------------------


def test_source_mix(events: pd.DataFrame) -> None:
    shares = events["source"].value_counts(normalize=True)
    assert shares["grid_member"] + shares["patrol"] > 0.4  # the bulk of 城管 cases
    assert 0.18 < shares["12345"] < 0.30
    for source in ("iot", "ai_camera", "110", "12315"):
        assert 0.01 < shares[source] < 0.10, source
    assert shares.idxmax() == "grid_member"


def test_category_mix(events: pd.DataFrame) -> None:
    classes = event_classes()
    valid = events[events["defect"] != "unknown_category"]
    assert valid["category_code"].isin(classes["code"]).all()
    counts = valid["category_code"].value_counts()
    top = counts.index[:10].str[:2].astype(int)
    assert (top[:3] >= 6).all() and (top >= 6).sum() >= 7, list(counts.index[:10])
    assert {"06010", "09006", "06036"} <= set(counts.index[:8])  # 暴露垃圾 占道经营 乱堆杂物
    faults = share(valid["category_code"].str[:2].astype(int) <= 5)
    assert 0.15 < faults < 0.40
    assert valid["category_code"].nunique() > 120

    def cats(source: str) -> set[str]:
        return set(valid.loc[valid["source"] == source, "category_code"])

    assert cats("ai_camera") <= {
        "09006", "09005", "06036", "06014", "09010", "06010", "09009", "06007", "06029"
    }  # fmt: skip
    iot = cats("iot")
    assert all(c == "06042" or int(c[:2]) <= 5 for c in iot)
    assert {"01004", "01037", "06042"} <= iot  # water level at inlets, lamps, bin fill
    consumer = valid.loc[valid["source"] == "12315", "category_code"].value_counts()
    assert consumer.index[0] == "09020"  # 农贸市场秩序问题
    noise = valid.loc[valid["category_code"] == "06028", "source"].value_counts(normalize=True)
    assert noise.reindex(["12345", "110"]).sum() > 0.6  # noise comes by phone


def test_priority(events: pd.DataFrame) -> None:
    urgent = events["priority"] == "urgent"
    assert 0.015 < share(urgent) < 0.05
    names = event_classes().set_index("code")["name"]
    cover = events["category_code"].map(names).fillna("").str.contains("井盖")
    assert share(urgent[cover]) > 2 * share(urgent[~cover])


def test_people_and_photos(events: pd.DataFrame, sample_dir: Path) -> None:
    callers = events["source"].isin(["12345", "110", "12315", "resident_app"])
    assert events.loc[callers, "reporter_phone"].str.fullmatch(r"1[3-9]\d\*{4}\d{4}").all()
    assert events.loc[callers, "reporter_name"].notna().all()
    assert events.loc[~callers, "reporter_phone"].isna().all()
    grids = read_layer(sample_dir / "grids.geojson")
    staff = {
        f"{code}-{k + 1:02d}": m["name"]
        for code, text in zip(grids["code"], grids["staff"], strict=True)
        for k, m in enumerate(json.loads(text))
    }
    gm = events[events["source"] == "grid_member"]
    assert gm["reporter_id"].notna().mean() > 0.99
    known = gm.dropna(subset=["reporter_id"])
    assert (known["reporter_id"].map(staff) == known["reporter_name"]).all()
    assert events.loc[events["source"] == "patrol", "reporter_id"].str.match(r"ZF\d{11}").all()
    with_photos = events["source"].isin(["grid_member", "patrol", "resident_app", "ai_camera"])
    assert events.loc[~with_photos, "photos"].isna().all()
    lists = events.loc[with_photos, "photos"].map(json.loads)
    assert lists.map(len).between(0, 3).all()
    assert lists.map(len).mean() > 1.0
    day = events.loc[with_photos, "reported_at"].dt.strftime("%Y/%m/%d")
    for paths, d in zip(lists, day, strict=True):
        for p in paths:
            assert re.fullmatch(rf"photos/{d}/[0-9a-f]{{12}}\.jpg", p)


# --- ground truth -------------------------------------------------------------------------


def test_retries_are_exact_resends(events: pd.DataFrame) -> None:
    retry = events[events["defect"] == "retry"]
    first = events[events["defect"] != "retry"]
    assert not first.duplicated(["source", "external_id"]).any()
    assert set(retry["source"]) == {"12345", "iot"}
    sources = events["source"].isin(["12345", "iot"])
    assert 0.01 < len(retry) / sources.sum() < 0.02
    orig = first.set_index(["source", "external_id"]).loc[
        list(zip(retry["source"], retry["external_id"], strict=True))
    ]
    payload = [c for c in COLUMNS if c not in ("source", "external_id", "received_at", "defect")]
    assert_frame_equal(
        orig.reset_index(drop=True)[payload],
        retry.reset_index(drop=True)[payload],
        check_index_type=False,
    )
    assert orig["defect"].isna().all()
    late = (retry["received_at"].to_numpy() - orig["received_at"].to_numpy()) / np.timedelta64(
        1, "s"
    )
    assert late.min() >= 5 and late.max() <= 30 * 60


def test_near_duplicates(events: pd.DataFrame, resolved: pd.DataFrame) -> None:
    dup = np.flatnonzero(events["near_duplicate_of"].notna().to_numpy())
    assert 0.02 < len(dup) / len(events) < 0.04
    first = events["defect"].ne("retry").to_numpy()
    row_of = pd.Series(np.flatnonzero(first), index=events["external_id"][first].to_numpy())
    assert row_of.index.is_unique
    orig = row_of.reindex(events["near_duplicate_of"].iloc[dup]).to_numpy()
    assert not np.isnan(orig).any()
    orig = orig.astype(np.int64)
    assert (events["source"].to_numpy()[orig] != events["source"].to_numpy()[dup]).all()
    assert (
        events["category_code"].to_numpy()[orig] == events["category_code"].to_numpy()[dup]
    ).all()
    dt = events["reported_at"].to_numpy()[dup] - events["reported_at"].to_numpy()[orig]
    assert (dt > np.timedelta64(0, "s")).all() and (dt <= np.timedelta64(2, "h")).all()
    assert resolved["valid"].to_numpy()[dup].all() and resolved["valid"].to_numpy()[orig].all()
    dist = np.hypot(
        resolved["x"].to_numpy()[dup] - resolved["x"].to_numpy()[orig],
        resolved["y"].to_numpy()[dup] - resolved["y"].to_numpy()[orig],
    )
    assert dist.max() <= 50.0
    assert (
        events["defect"].iloc[dup].isin(["retry"]).sum() == events["defect"].iloc[dup].notna().sum()
    )
    assert events["crs"].iloc[dup].isin(["gcj02", "bd09"]).any()  # CRSs mix across a pair


def test_defects(events: pd.DataFrame, resolved: pd.DataFrame) -> None:
    classes = set(event_classes()["code"])
    kinds = events["defect"].value_counts()
    assert set(kinds.index) == {*DEFECT_KINDS, "retry"}
    for kind in DEFECT_KINDS:
        assert 0.002 < kinds[kind] / len(events) < 0.008, kind
    assert 0.008 < kinds[list(DEFECT_KINDS)].sum() / len(events) < 0.02
    bad = events[events["defect"] == "unknown_category"]
    assert not bad["category_code"].isin(classes).any()
    assert bad["component_id"].isna().all()
    oor = events["defect"] == "out_of_range"
    assert not valid_lonlat(events["lon"][oor], events["lat"][oor]).any()
    assert events.loc[oor, "crs"].notna().all()
    missing = events[events["defect"] == "missing_location"]
    assert (
        missing[["lon", "lat", "crs", "address", "building_id", "component_id"]].isna().all().all()
    )
    good = events["defect"].isna() | (events["defect"] == "retry")
    assert events.loc[good, "category_code"].isin(classes).all()
    assert resolved["valid"][good.to_numpy()].all()


def test_address_only_records(events: pd.DataFrame, buildings: pd.DataFrame) -> None:
    by_address = events[events["building_id"].notna()]
    assert by_address["lon"].isna().all() and by_address["crs"].isna().all()
    assert (
        by_address["address"] == buildings["address"].reindex(by_address["building_id"]).to_numpy()
    ).all()
    hotline = events[events["source"] == "12345"]
    assert 0.5 < hotline["building_id"].notna().mean() < 0.9  # hotlines often give no point
    assert events.loc[events["lon"].isna() & events["defect"].isna(), "building_id"].notna().all()
    handheld = events["source"].isin(["grid_member", "patrol", "iot", "ai_camera"])
    assert (events.loc[handheld & events["lon"].notna(), "crs"] == "wgs84").all()
    app = events.loc[events["source"] == "resident_app", "crs"].value_counts(normalize=True)
    assert app["gcj02"] > app["bd09"] > 0.1


# --- time ---------------------------------------------------------------------------------


def test_daily_weekly_and_seasonal_rhythm(events: pd.DataFrame) -> None:
    hour = events["reported_at"].dt.hour
    day_ = hour.between(9, 10).sum()
    night = hour.between(2, 3).sum()
    assert day_ > 5 * night
    afternoon = hour.between(14, 16).sum() / 3
    lunch = (hour == 12).sum()
    assert afternoon > 1.5 * lunch
    iot_hour = hour[events["source"] == "iot"]
    assert iot_hour.between(2, 3).sum() > 0.3 * iot_hour.between(9, 10).sum()  # sensors at night

    weekday = events["reported_at"].dt.day_of_week
    for source in ("grid_member", "patrol"):
        w = weekday[events["source"] == source].value_counts()
        assert w[6] < 0.7 * w[:5].mean(), source
    w = weekday[events["source"] == "12345"].value_counts()
    assert w[6] > 0.85 * w[:5].mean()

    month = events["reported_at"].dt.month
    summer = month.between(6, 8)
    for code in ("01004", "06010"):  # 积水 at blocked inlets, 暴露垃圾
        is_code = events["category_code"] == code
        assert share(is_code[summer]) > 1.1 * share(is_code[~summer]), code
    snow = events.loc[events["category_code"] == "10001", "reported_at"].dt.month
    assert snow.isin([1, 2, 12]).all()


def test_storm_bursts(events: pd.DataFrame) -> None:
    iot = events[events["source"] == "iot"]
    per_day = iot.groupby(iot["reported_at"].dt.date).size()
    storm_day = per_day.idxmax()
    assert per_day.max() > 8 * per_day.median()
    assert 6 <= storm_day.month <= 8
    on_day = iot[iot["reported_at"].dt.date == storm_day]
    assert on_day["category_code"].isin(["01004", "01003", "01001", "01002"]).mean() > 0.8
    assert on_day["device_id"].str.startswith("WL").mean() > 0.5


# --- space --------------------------------------------------------------------------------


def test_component_faults_sit_at_their_component(
    events: pd.DataFrame, resolved: pd.DataFrame, sample_dir: Path
) -> None:
    comps = read_layer(sample_dir / "components.geojson").set_index("component_id")
    major = events["category_code"].str[:2].astype(int)
    good = events["defect"].isna() | (events["defect"] == "retry")
    assert events.loc[(major <= 5) & good, "component_id"].notna().all()
    assert events.loc[major >= 6, "component_id"].isna().all()
    has = events["component_id"].notna()
    assert (
        comps["class_code"].reindex(events.loc[has, "component_id"]).to_numpy()
        == events.loc[has, "category_code"].to_numpy()
    ).all()
    at = (has & events["lon"].notna() & good).to_numpy()
    geom = comps.geometry.reindex(events["component_id"][at]).to_numpy()
    proj = Projector.for_lon(117.3)
    cx, cy = proj.to_metres(shapely.get_x(geom), shapely.get_y(geom))
    dist = np.hypot(cx - resolved["x"].to_numpy()[at], cy - resolved["y"].to_numpy()[at])
    assert dist.max() <= 10.0
    assert at.sum() > 0.1 * len(events)


def test_points_inside_the_district_and_a_few_outside(
    events: pd.DataFrame, resolved: pd.DataFrame, outline: shapely.Geometry
) -> None:
    valid = resolved["valid"].to_numpy()
    lon, lat = resolved["lon"].to_numpy(), resolved["lat"].to_numpy()
    inside = np.zeros(len(events), dtype=bool)
    inside[valid] = shapely.contains_xy(outline, lon[valid], lat[valid])
    rate = inside[valid].mean()
    assert 0.95 < rate < 0.995
    out = valid & ~inside
    proj = Projector.for_lon(117.3)
    edge = shapely.transform(
        shapely.boundary(outline), lambda c: np.column_stack(proj.to_metres(c[:, 0], c[:, 1]))
    )
    gap = shapely.distance(edge, shapely.points(resolved["x"][out], resolved["y"][out]))
    assert gap.max() < 1500.0  # just outside: events near the boundary
    # hotspots: more clustered than uniform (the densest 1 % of 200 m cells hold > 10 %)
    cells = pd.Series(
        list(
            zip(
                (resolved["x"][valid] // 200).astype(int),
                (resolved["y"][valid] // 200).astype(int),
                strict=True,
            )
        )
    ).value_counts()
    top = cells.iloc[: max(1, len(cells) // 100)].sum()
    assert top / valid.sum() > 0.10


def test_gcj02_and_bd09_convert_back_inside_at_the_same_rate(
    events: pd.DataFrame, resolved: pd.DataFrame, outline: shapely.Geometry
) -> None:
    valid = resolved["valid"].to_numpy()
    free = events["component_id"].isna().to_numpy() & events["device_id"].isna().to_numpy()
    inside = np.zeros(len(events), dtype=bool)
    inside[valid] = shapely.contains_xy(
        outline, resolved["lon"].to_numpy()[valid], resolved["lat"].to_numpy()[valid]
    )
    rates = {}
    for crs in ("wgs84", "gcj02", "bd09"):
        sel = (events["crs"] == crs).to_numpy() & valid & free
        assert sel.sum() > 100, crs
        rates[crs] = inside[sel].mean()
    assert abs(rates["gcj02"] - rates["wgs84"]) < 0.02
    assert abs(rates["bd09"] - rates["wgs84"]) < 0.03
    # and unconverted they would be hundreds of metres off
    gcj = (events["crs"] == "gcj02").to_numpy() & valid
    proj = Projector.for_lon(117.3)
    rx, ry = proj.to_metres(events["lon"][gcj], events["lat"][gcj])
    assert np.median(np.hypot(rx - resolved["x"][gcj], ry - resolved["y"][gcj])) > 100


# --- determinism --------------------------------------------------------------------------


def test_same_seed_same_frame_and_bytes(sample_dir: Path, tmp_path: Path) -> None:
    a = generate_events(sample_dir, n=3_000, seed=7)
    b = generate_events(sample_dir, n=3_000, seed=7)
    assert_frame_equal(a, b)
    c = generate_events(sample_dir, n=3_000, seed=8)
    assert not a["external_id"].equals(c["external_id"])
    write_events(a, tmp_path / "a.parquet")
    write_events(b, tmp_path / "b" / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b" / "b.parquet").read_bytes()
    assert_frame_equal(read_events(tmp_path / "a.parquet"), a)


def test_small_n(sample_dir: Path) -> None:
    df = generate_events(sample_dir, n=200, seed=3)
    assert len(df) == 200
    assert df["reported_at"].is_monotonic_increasing
    with pytest.raises(ValueError):
        generate_events(sample_dir, n=0)
