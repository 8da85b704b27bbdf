"""The base reports of each source: people (hotlines, grid members, patrols, resident
apps) report classes by source habit; IoT sensors and AI cameras raise alarms at the
components they sit on, in storms and in bursts."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from .district import District
from .places import Hotspots, around, free_points, pick_components
from .rhythm import Storms, day_weights, report_times, storm_times
from .rows import Rows
from .tables import (
    AI_BURST_SHARE,
    AI_BURSTS,
    AI_WEIGHTS,
    CAMERA_CLASS,
    COMPONENT_FACTORS,
    COMPONENT_SHARE,
    COMPONENT_SOURCE_FACTORS,
    CONSUMER_COMPONENTS,
    CONSUMER_WEIGHTS,
    HOURS,
    IOT_KINDS,
    REPEAT_S,
    SOURCES,
    STORM_CATEGORIES,
    STORM_SHARE,
    STREET_FACTORS,
    STREET_OTHER,
    STREET_WEIGHTS,
)


def _class_weights(
    source: str, codes: np.ndarray, cmp_counts: dict[str, int], cmp_names: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Weights over all event classes: (street-level matters, component faults)."""
    street = np.zeros(len(codes))
    comp = np.zeros(len(codes))
    factors = STREET_FACTORS.get(source, {})
    default = factors.get("*", 1.0)
    for i, code in enumerate(codes):
        if int(code[:2]) >= 6:
            if source == "12315":
                street[i] = CONSUMER_WEIGHTS.get(code, 0.0)
            else:
                street[i] = STREET_WEIGHTS.get(code, STREET_OTHER) * factors.get(code, default)
        elif cmp_counts.get(code, 0) > 0:
            if source == "12315":
                comp[i] = 1.0 if code in CONSUMER_COMPONENTS else 0.0
                continue
            name = cmp_names.get(code, "")
            w = cmp_counts[code] ** 0.7
            for pattern, f in COMPONENT_FACTORS:
                if re.search(pattern, name):
                    w *= f
                    break
            for pattern, f in COMPONENT_SOURCE_FACTORS.get(source, ()):
                if re.search(pattern, name):
                    w *= f
            comp[i] = w
    return street, comp


def people_reports(
    source: str,
    k: int,
    d: District,
    hot: Hotspots,
    year: int,
    storms: Storms,
    rng: np.random.Generator,
    codes: np.ndarray,
) -> Rows:
    """Reports by people: hotlines, grid members, patrols, resident apps."""
    s = SOURCES.index(source)
    cmp_counts = d.cmp["class_code"].value_counts().to_dict()
    cmp_names = dict(zip(d.cmp["class_code"], d.cmp["class_name"], strict=False))
    street_w, comp_w = _class_weights(source, codes, cmp_counts, cmp_names)
    n_storm = round(k * STORM_SHARE.get(source, 0.0))
    rows = Rows.make(k, s)
    share = COMPONENT_SHARE[source] if comp_w.sum() > 0 else 0.0
    is_comp = rng.random(k - n_storm) < share
    cat = np.empty(k - n_storm, dtype=object)
    cat[is_comp] = codes[rng.choice(len(codes), int(is_comp.sum()), p=comp_w / comp_w.sum())]
    cat[~is_comp] = codes[
        rng.choice(len(codes), int((~is_comp).sum()), p=street_w / street_w.sum())
    ]
    storm_codes = np.array(sorted(STORM_CATEGORIES), dtype=object)
    sw = np.array([STORM_CATEGORIES[c] for c in storm_codes])
    rows.cat[: k - n_storm] = cat
    rows.cat[k - n_storm :] = storm_codes[rng.choice(len(sw), n_storm, p=sw / sw.sum())]
    rows.storm[k - n_storm :] = True
    rows.t[: k - n_storm] = report_times(source, cat, year, rng)
    rows.t[k - n_storm :] = storm_times(storms, n_storm, rng)
    _place_reports(rows, source, d, hot, rng)
    return rows


def _place_reports(
    rows: Rows, source: str, d: District, hot: Hotspots, rng: np.random.Generator
) -> None:
    major = np.array([int(c[:2]) for c in rows.cat], dtype=np.int64)
    faults = np.flatnonzero(major <= 5)
    comp = pick_components(d, rows.cat[faults], rng)
    ok = comp >= 0
    rows.comp[faults[ok]] = comp[ok]
    rows.x[faults[ok]], rows.y[faults[ok]] = around(
        d.cmp["x"].to_numpy()[comp[ok]], d.cmp["y"].to_numpy()[comp[ok]], 1.0, 6.0, rng
    )
    free = np.flatnonzero(rows.comp < 0)
    if source == "12315":
        shops = np.flatnonzero(d.bld["use"].to_numpy(object) == "商业")
        names = d.bld["name"].fillna("").to_numpy(str)[shops]
        w = np.where(np.char.find(names, "市场") >= 0, 4.0, 1.0)
        b = shops[rng.choice(len(shops), size=len(free), p=w / w.sum())]
        rows.x[free] = d.bld["x"].to_numpy()[b] + rng.normal(0, 20.0, len(free))
        rows.y[free] = d.bld["y"].to_numpy()[b] + rng.normal(0, 20.0, len(free))
    else:
        rows.x[free], rows.y[free] = free_points(d, hot, rows.cat[free], rng)


def _iot_devices(d: District, rng: np.random.Generator) -> pd.DataFrame:
    """IoT sensors installed on sample components: id, kind, component row, alarm rate."""
    frames = []
    classes = d.cmp["class_code"].to_numpy(object)
    for prefix, on, _event, _share, _storm, count in IOT_KINDS:
        cand = np.flatnonzero(np.isin(classes, on) & (d.cmp["status"] != "移除").to_numpy())
        chosen = np.sort(rng.choice(cand, size=min(count, len(cand)), replace=False))
        frames.append(
            pd.DataFrame(
                {
                    "device_id": [f"{prefix}-{i + 1:04d}" for i in range(len(chosen))],
                    "kind": prefix,
                    "comp": chosen,
                    "rate": rng.gamma(0.6, 1.0, len(chosen)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _repeats(rows: Rows) -> np.ndarray:
    """Rows whose device already reported the same class less than 2 h before."""
    order = np.lexsort((np.arange(len(rows)), rows.t, rows.cat, rows.dev.astype(str)))
    dev, cat, t = rows.dev[order], rows.cat[order], rows.t[order]
    same = (dev[1:] == dev[:-1]) & (cat[1:] == cat[:-1]) & (np.diff(t) < REPEAT_S)
    return np.sort(order[1:][same])


def _spread_repeats(rows: Rows, assign: Callable[..., None]) -> None:
    """Give repeats another device (bursts stay bursts), as a device alarms once per problem:
    the dedup ground truth is about different sources, not one sensor's chatter."""
    for _ in range(50):
        again = _repeats(rows)
        if not len(again):
            return
        assign(again, uniform=True)
    again = _repeats(rows)
    while len(again):  # rare: more alarms than devices in a burst; move them 2 h on
        rows.t[again] += REPEAT_S
        again = _repeats(rows)


def iot_reports(k: int, d: District, year: int, storms: Storms, rng: np.random.Generator) -> Rows:
    s = SOURCES.index("iot")
    rows = Rows.make(k, s)
    dev = _iot_devices(d, rng)
    n_storm = round(k * STORM_SHARE["iot"])
    kinds = np.array([kd[0] for kd in IOT_KINDS], dtype=object)
    normal = np.array([kd[3] for kd in IOT_KINDS])
    stormy = np.array([kd[4] for kd in IOT_KINDS])
    kind = np.empty(k, dtype=object)
    kind[: k - n_storm] = kinds[rng.choice(len(kinds), k - n_storm, p=normal / normal.sum())]
    kind[k - n_storm :] = kinds[rng.choice(len(kinds), n_storm, p=stormy / stormy.sum())]
    present = set(dev["kind"])
    kind[~np.isin(kind, list(present))] = "MC" if "MC" in present else sorted(present)[0]
    rows.storm[k - n_storm :] = True
    ordinary = np.arange(k - n_storm)
    profile_cat = np.where(kind[ordinary] == "WL", "01004", "00000")
    rows.t[ordinary] = report_times("iot", profile_cat, year, rng)
    rows.t[k - n_storm :] = storm_times(storms, n_storm, rng)
    classes = d.cmp["class_code"].to_numpy(object)
    cmp_x, cmp_y = d.cmp["x"].to_numpy(), d.cmp["y"].to_numpy()

    def assign(sel: np.ndarray, uniform: bool = False) -> None:
        for prefix, _on, event, *_ in IOT_KINDS:
            part = sel[kind[sel] == prefix]
            cand = dev[dev["kind"] == prefix]
            if not len(part) or not len(cand):
                continue
            p = np.ones(len(cand)) if uniform else cand["rate"].to_numpy() + 0.05
            pick = rng.choice(len(cand), size=len(part), p=p / p.sum())
            comp = cand["comp"].to_numpy()[pick]
            rows.dev[part] = cand["device_id"].to_numpy(object)[pick]
            if event is None:
                rows.cat[part] = classes[comp]
                rows.comp[part] = comp
                r = (1.0, 4.0)
            else:
                rows.cat[part] = event
                r = (0.5, 3.0)
            rows.x[part], rows.y[part] = around(cmp_x[comp], cmp_y[comp], *r, rng)

    assign(np.arange(k))
    _spread_repeats(rows, assign)
    return rows


def _camera_devices(d: District, rng: np.random.Generator) -> pd.DataFrame:
    cand = np.flatnonzero((d.cmp["class_code"] == CAMERA_CLASS).to_numpy())
    if not len(cand):  # a sample without cameras: mount them on lamp posts
        cand = np.flatnonzero((d.cmp["class_code"] == "01037").to_numpy())[:60]
    return pd.DataFrame(
        {
            "device_id": [f"CAM-{i + 1:04d}" for i in range(len(cand))],
            "comp": cand,
            "rate": rng.gamma(0.7, 1.0, len(cand)),
        }
    )


def camera_reports(k: int, d: District, year: int, rng: np.random.Generator) -> Rows:
    s = SOURCES.index("ai_camera")
    rows = Rows.make(k, s)
    cam = _camera_devices(d, rng)
    codes = np.array(sorted(AI_WEIGHTS), dtype=object)
    w = np.array([AI_WEIGHTS[c] for c in codes])
    rows.cat[:] = codes[rng.choice(len(codes), k, p=w / w.sum())]
    # Bursts: enforcement campaigns and re-tuned models flag many cameras for two hours.
    in_burst = rng.random(k) < AI_BURST_SHARE
    nb = int(in_burst.sum())
    days = day_weights("ai_camera", "flat", year)
    bday = rng.choice(len(days), size=AI_BURSTS, p=days)
    hw = np.asarray(HOURS["camera"])
    bhour = rng.choice(24, size=AI_BURSTS, p=hw / hw.sum())
    b = rng.integers(0, AI_BURSTS, nb)
    rows.t[in_burst] = bday[b] * 86400 + bhour[b] * 3600 + rng.integers(0, 7200, nb)
    rows.t[~in_burst] = report_times("ai_camera", rows.cat[~in_burst], year, rng)
    cmp_x, cmp_y = d.cmp["x"].to_numpy(), d.cmp["y"].to_numpy()

    def assign(sel: np.ndarray, uniform: bool = False) -> None:
        p = np.ones(len(cam)) if uniform else cam["rate"].to_numpy() + 0.05
        pick = rng.choice(len(cam), size=len(sel), p=p / p.sum())
        rows.dev[sel] = cam["device_id"].to_numpy(object)[pick]
        comp = cam["comp"].to_numpy()[pick]
        rows.x[sel], rows.y[sel] = around(cmp_x[comp], cmp_y[comp], 10.0, 60.0, rng)

    assign(np.arange(k))
    _spread_repeats(rows, assign)
    return rows
