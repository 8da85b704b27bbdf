"""What a record says and how urgent it is: a place phrase from the nearest building,
a class template or component fault, the source's own wording, device alarm texts."""

from __future__ import annotations

import re

import numpy as np

from gis_core.cases.deadlines import Priority
from gis_core.standards import event_classes

from .district import District
from .phrases import FAULT_ENDINGS, FAULTS, GENERIC, SPOTS, STORM_FAULTS, TEMPLATES, WRAP
from .rows import Rows
from .tables import SAFETY, SAFETY_CODES, SOURCES, URGENT_BASE, URGENT_SAFETY


def describe(
    rows: Rows, d: District, b: np.ndarray, missing: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Descriptions per row (``b``: nearest building), the device rows, and whether each
    device reading makes its alarm urgent."""
    place = _place_phrases(d, b, rng)
    place[missing] = ""
    body = _bodies(rows.cat, place, rows.storm, rng)
    description = body.copy()
    fault = rows.comp >= 0
    for name, (pre, post) in WRAP.items():
        sel = np.flatnonzero(rows.src == SOURCES.index(name))
        a = _choose(pre, rng.random(len(sel)))
        z = np.array(_choose(post, rng.random(len(sel))), dtype=object)
        zf = _choose(FAULT_ENDINGS.get(name, post), rng.random(len(sel)))
        z = np.where(fault[sel], zf, z)
        description[sel] = [f"{x}{y}{w}" for x, y, w in zip(a, body[sel], z, strict=True)]
    devices = np.flatnonzero(np.isin(rows.src, [SOURCES.index("iot"), SOURCES.index("ai_camera")]))
    classes = event_classes()
    ev_name = dict(zip(classes["code"], classes["name"], strict=True))
    what = np.array([ev_name.get(c, "") for c in rows.cat], dtype=object)
    dev_text, dev_urgent = _device_texts(rows, devices, place, what, rng)
    description[devices] = dev_text
    return description, devices, dev_urgent


def priorities(
    rows: Rows, devices: np.ndarray, dev_urgent: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """'urgent' or 'normal': safety classes, 110 calls and storms more often urgent."""
    classes = event_classes()
    names_by_code = dict(zip(classes["code"], classes["name"], strict=True))
    p_urgent = np.array(
        [
            URGENT_SAFETY
            if c in SAFETY_CODES or SAFETY.search(names_by_code.get(c, ""))
            else URGENT_BASE
            for c in rows.cat
        ]
    )
    p_urgent = np.where(rows.src == SOURCES.index("110"), 2 * p_urgent, p_urgent)
    p_urgent = np.where(rows.storm, np.maximum(p_urgent, 0.25), p_urgent)
    p_urgent[devices] = 0.002
    urgent = rng.random(len(rows)) < p_urgent
    urgent[devices] |= dev_urgent
    return np.where(urgent, Priority.URGENT.value, Priority.NORMAL.value).astype(object)


def _choose(options: tuple[str, ...], u: np.ndarray) -> list[str]:
    idx = (u * len(options)).astype(np.int64)
    return [options[i] for i in idx]


def _place_phrases(d: District, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A place phrase per row from its building: road and number, landmark, crossing."""
    road = d.bld["road"].to_numpy(object)[b]
    num = d.bld["num"].to_numpy(object)[b]
    mark = d.bld["landmark"].to_numpy(object)[b]
    cross = d.bld["cross"].to_numpy(object)[b]
    use = d.bld["use"].to_numpy(object)[b]
    v = rng.integers(0, 6, len(b))
    spot = _choose(SPOTS, rng.random(len(b)))
    out = np.empty(len(b), dtype=object)
    for i in range(len(b)):
        m = mark[i]
        vi = int(v[i]) if isinstance(m, str) else int(v[i]) % 3
        if vi == 0:
            out[i] = f"{road[i]}{num[i]}号{spot[i]}"
        elif vi == 1:
            out[i] = f"{road[i]}与{cross[i]}交口"
        elif vi == 2:
            out[i] = f"{road[i]}{num[i]}号"
        elif vi == 3 and use[i] == "住宅":
            out[i] = f"{m}小区内"
        elif vi == 4:
            out[i] = f"{road[i]}{m}{spot[i]}"
        else:
            out[i] = f"{m}{spot[i]}"
    return out


def _fault_phrases(name: str) -> tuple[str, ...]:
    for pattern, phrases in FAULTS:
        if re.search(pattern, name):
            return phrases
    return FAULTS[-1][1]


def _bodies(
    cat: np.ndarray, place: np.ndarray, storm: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    classes = event_classes()
    ev_name = dict(zip(classes["code"], classes["name"], strict=True))
    # per class and storm flag: (component name or None, phrases or templates)
    table: dict[tuple[str, bool], tuple[str | None, tuple[str, ...]]] = {}
    for code in set(cat.tolist()):
        name = ev_name.get(code, "")
        for st in (False, True):
            if int(code[:2]) <= 5:
                comp_name = name.removesuffix("异常").removesuffix("SOS")
                options = STORM_FAULTS.get(code, ()) if st else ()
                table[code, st] = (comp_name, options or _fault_phrases(comp_name))
            else:
                tpl = TEMPLATES.get(code, GENERIC)
                table[code, st] = (None, tuple(x.replace("{n}", name) for x in tpl))
    u = rng.random(len(cat))
    out = np.empty(len(cat), dtype=object)
    for i, (code, p, st, ui) in enumerate(
        zip(cat.tolist(), place.tolist(), storm.tolist(), u.tolist(), strict=True)
    ):
        comp_name, options = table[code, st]
        pick = options[int(ui * len(options))]
        out[i] = f"{p}{comp_name}{pick}" if comp_name is not None else pick.replace("{p}", p)
    return out


def _device_texts(
    rows: Rows, sel: np.ndarray, place: np.ndarray, body: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """IoT alarm and AI detection texts; also whether a reading makes the alarm urgent."""
    out = np.empty(len(sel), dtype=object)
    urgent = np.zeros(len(sel), dtype=bool)
    depth = np.where(
        rows.storm[sel], 11 + rng.gamma(2.0, 9.0, len(sel)), 10 + rng.gamma(1.2, 4.0, len(sel))
    )
    angle = rng.integers(5, 41, len(sel))
    fill = rng.integers(85, 101, len(sel))
    conf = rng.integers(70, 100, len(sel))
    for j, i in enumerate(sel):
        dev = rows.dev[i]
        kind = str(dev)[:2]
        if rows.src[i] == SOURCES.index("ai_camera"):
            out[j] = f"【AI识别】{dev}在{place[i]}识别到{body[i]}，置信度0.{conf[j]:02d}"
        elif kind == "WL":
            out[j] = f"【水位监测】{dev}报警：{place[i]}积水深度{depth[j]:.0f}cm，超过阈值10cm"
            urgent[j] = depth[j] >= 30
        elif kind == "MC":
            if angle[j] > 30:
                out[j] = f"【井盖监测】{dev}报警：{place[i]}井盖异常开启"
                urgent[j] = True
            else:
                out[j] = f"【井盖监测】{dev}报警：{place[i]}井盖倾斜{angle[j]}°"
        elif kind == "SL":
            out[j] = f"【智慧路灯】{dev}报警：{place[i]}路灯回路电流异常，疑似灯具故障"
        else:
            out[j] = f"【满溢监测】{dev}报警：{place[i]}垃圾箱满溢率{fill[j]}%"
    return out, urgent
