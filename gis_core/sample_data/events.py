"""A seeded year of reported events (事件) for the sample district, as intake records.

``generate_events()`` makes one row per record that the intake receives from the eight
sources a district centre hears from (12345 hotline, 110 non-police calls, 12315, grid
members' handhelds, resident apps, IoT sensors, AI cameras, 城管 patrols), for the sample
district in ``data/sample_grids`` (包河区). Volumes follow what Baohe reports (about 250,000
reports a year); every place, person, device and number in them is synthetic.

What the rows carry, and what is only ground truth for tests:

- the payload as the source sends it: ids in the source's own format, the event class
  (5-digit code of ``gis_core.standards.event_classes()``), a Chinese description naming a
  road or landmark of the sample buildings, coordinates in the CRS the source uses (WGS84
  from handhelds and devices, GCJ-02 or BD-09 from resident apps, often only an address of
  a sample building from the hotlines), reporter, photos, priority;
- ground truth the intake must not read: ``near_duplicate_of`` (the ``external_id`` of the
  first report of the same problem, ~3 % of rows), ``defect`` (deliberately bad records:
  ``unknown_category``, ``out_of_range``, ``missing_location``, ~0.4 % each; ``retry`` for
  exact re-sends of 12345 and IoT records, ~1.5 % of those sources).

Places cluster around ~40 hotspots taken from the sample data (markets, schools, big
residential compounds, points near the district edge such as transport hubs) over a
uniform background; a few percent land just outside the outline. Times follow a daily,
weekly and seasonal rhythm (2025 public holidays for ``year=2025``) with summer storms that
set off IoT water-level and manhole alarms, and bursts of AI-camera detections.

Everything is drawn from ``config.stream(seed, "events.<stage>")`` streams, vectorised
with numpy, so the same seed and ``n`` give the same frame, and 250,000 rows take seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.crs import Projector, from_wgs84
from gis_core.spatial.io import read_layer
from gis_core.standards import event_classes

from . import names as _names
from .config import stream
from .generate import _progress, _stepper

DEFAULT_SEED = 20260702
DEFAULT_N = 250_000
TIMEZONE = "Asia/Shanghai"

SOURCES = ("12345", "110", "12315", "grid_member", "resident_app", "iot", "ai_camera", "patrol")
"""Same names and order as ``gis_core.storage.models.EVENT_SOURCES``."""

SOURCE_SHARES = {
    "12345": 0.24,
    "110": 0.04,
    "12315": 0.03,
    "grid_member": 0.36,
    "resident_app": 0.10,
    "iot": 0.05,
    "ai_camera": 0.06,
    "patrol": 0.12,
}
NEAR_DUPLICATE_SHARE = 0.03
RETRY_SHARE = 0.015
"""Of the 12345 and IoT records."""
RETRY_SOURCES = ("12345", "iot")
DEFECT_SHARE = 0.004
"""Of all records, for each of the three defect kinds."""
DEFECT_KINDS = ("unknown_category", "out_of_range", "missing_location")
RETRY = "retry"
UNKNOWN_CODES = ("99001", "99002", "06031", "07005", "09007", "01016", "05001", "10003")
"""Codes that are not event classes: invented ones and codes missing from the table."""

COLUMNS = (
    "source",
    "external_id",
    "reported_at",
    "received_at",
    "category_code",
    "description",
    "lon",
    "lat",
    "crs",
    "address",
    "building_id",
    "component_id",
    "device_id",
    "priority",
    "reporter_id",
    "reporter_name",
    "reporter_phone",
    "photos",
    "near_duplicate_of",
    "defect",
)
_FLOAT_COLUMNS = ("lon", "lat")
_TIME_COLUMNS = ("reported_at", "received_at")
TIME_DTYPE = pd.DatetimeTZDtype("us", TIMEZONE)

BACKGROUND_SHARE = 0.28
"""Of freely placed events (not at a component, device or shop): uniform over the district."""
OUTSIDE_SHARE = 0.02
"""Of freely placed events: just outside the outline (the routing sends them to the centre)."""
N_HOTSPOTS = {"market": 12, "school": 10, "residential": 12, "hub": 6}

# --- how each source reports -------------------------------------------------------------

_ADDRESS_ONLY = {"12345": 0.70, "110": 0.60, "12315": 0.85}
"""Share of records with an address (a sample building) and no coordinates."""
_COORD_CRS = {"12345": "gcj02", "110": "wgs84", "12315": "gcj02"}
"""CRS of the coordinates a source sends (resident apps: GCJ-02 70 %, BD-09 30 %)."""
_APP_BD09 = 0.30
_ADDRESS_WITH_COORDS = {"grid_member": 0.5, "patrol": 0.5, "resident_app": 0.4}
"""Share of coordinate records that also carry a (reverse-geocoded) address."""
_PHOTOS = {
    "grid_member": (0.05, 0.45, 0.35, 0.15),
    "patrol": (0.10, 0.50, 0.30, 0.10),
    "resident_app": (0.30, 0.40, 0.20, 0.10),
    "ai_camera": (0.0, 0.6, 0.4, 0.0),
}
"""Probability of 0, 1, 2, 3 photos; other sources send no attachments (null)."""
_COMPONENT_SHARE = {
    "12345": 0.30,
    "110": 0.20,
    "12315": 0.08,
    "grid_member": 0.28,
    "resident_app": 0.30,
    "patrol": 0.10,
}
"""Share of component faults (majors 01-05) among a source's ordinary reports."""
_STORM_SHARE = {"12345": 0.02, "110": 0.02, "resident_app": 0.02, "grid_member": 0.005, "iot": 0.15}
_DUP_SOURCE = {
    "12345": 3.0,
    "110": 0.5,
    "12315": 0.2,
    "grid_member": 3.0,
    "resident_app": 2.0,
    "iot": 0.0,
    "ai_camera": 0.0,
    "patrol": 1.5,
}
"""Who reports a problem a second time (never the reporter of the first report)."""
_RECEIVE_DELAY_S = {
    "12345": (60.0, 1800.0),
    "110": (60.0, 600.0),
    "12315": (600.0, 7200.0),
    "grid_member": (2.0, 90.0),
    "resident_app": (1.0, 10.0),
    "iot": (0.2, 3.0),
    "ai_camera": (1.0, 15.0),
    "patrol": (2.0, 90.0),
}
"""Seconds between the report and its arrival at the intake (log-uniform)."""

# --- what is reported ----------------------------------------------------------------------

_STREET_WEIGHTS = {
    "06010": 14.0,  # 暴露垃圾
    "06036": 10.0,  # 乱堆杂物 (乱堆物堆料)
    "09006": 10.0,  # 占道经营
    "09010": 8.0,  # 非机动车乱停放
    "09005": 7.0,  # 店外经营
    "07001": 7.0,  # 非法小广告
    "06001": 5.0,  # 私搭乱建 (违法建设)
    "09009": 4.0,  # 机动车乱停放
    "06012": 4.0,  # 道路不洁
    "06011": 3.0,  # 积存垃圾渣土
    "06042": 3.0,  # 垃圾站（箱）满溢
    "09011": 3.0,  # 共享单车乱象
    "09001": 2.5,  # 无照经营游商
    "06007": 2.0,  # 沿街晾挂
    "08002": 2.0,  # 施工占道
    "06013": 2.0,  # 道路破损
    "06017": 1.5,  # 绿地脏乱
    "06014": 1.5,  # 道路遗撒
    "07003": 1.2,  # 违规户外广告
    "06041": 1.2,  # 垃圾未分类
    "07006": 1.0,  # 违规牌匾标识
    "06035": 1.0,  # 废弃家具设备
    "06034": 0.8,  # 废弃车辆
    "08005": 0.8,  # 施工废弃料
    "08006": 0.8,  # 施工物料乱堆放
    "08004": 0.8,  # 工地扬尘
    "06045": 0.8,  # 非法占绿毁绿
    "06029": 0.8,  # 露天烧烤
    "06040": 0.6,  # 私设地锁、阻车桩
    "09012": 0.6,  # 占用消防通道
    "06027": 0.5,  # 油烟污染
    "08007": 0.5,  # 施工工地围挡问题
    "09022": 0.5,  # 占道促销宣传
    "06020": 0.4,  # 焚烧垃圾、树叶
    "09021": 0.4,  # 占道洗车
    "07002": 0.4,  # 街头散发广告
    "06050": 0.4,  # 路缘石缺损
    "06004": 0.4,  # 建筑物外立面污损
    "06030": 0.4,  # 乱倒乱排污水、废水
    "08012": 0.4,  # 施工工地车轮夹带
    "08001": 0.3,  # 施工扰民
    "06028": 0.3,  # 噪声扰民
    "06049": 0.3,  # 台阶破损
    "06051": 0.3,  # 盲道缺损
    "06008": 0.3,  # 擅自架设管线、杆线设施
    "06043": 0.3,  # 遮阳篷（棚、伞）破损
    "06037": 0.3,  # 动物尸体
    "09004": 0.3,  # 废品收购乱象
    "09002": 0.3,  # 早（夜）市管理问题
    "08011": 0.3,  # 渣土运输车辆未安装密闭装置
    "06025": 0.3,  # 水域不洁
    "10002": 0.3,  # 架空线缆脱落
    "06009": 0.2,  # 空调室外机低挂
    "06026": 0.2,  # 河道污染
    "09003": 0.2,  # 流浪乞讨
    "10001": 0.2,  # 道路积雪、结冰 (winter only)
}
_STREET_OTHER = 0.05
"""Weight of every street-level class not listed (rare, but present)."""
_STREET_FACTORS: dict[str, dict[str, float]] = {
    "12345": {
        "06028": 25.0,
        "06027": 8.0,
        "08001": 12.0,
        "09009": 2.0,
        "09012": 4.0,
        "06001": 1.5,
        "06029": 4.0,
        "06042": 2.0,
        "06013": 2.0,
        "08004": 2.0,
        "07001": 0.3,
        "09010": 0.5,
        "09005": 0.5,
        "06036": 0.6,
    },
    "110": {
        "06028": 30.0,
        "09009": 3.0,
        "09012": 5.0,
        "09003": 10.0,
        "06037": 6.0,
        "06020": 5.0,
        "06034": 3.0,
        "10002": 10.0,
        "06029": 5.0,
        "08001": 8.0,
        "*": 0.3,
    },
    "patrol": {
        "09006": 1.8,
        "09005": 1.8,
        "09001": 2.0,
        "06001": 1.6,
        "07003": 1.8,
        "07006": 1.5,
        "08002": 1.5,
        "08004": 1.5,
        "06014": 1.5,
        "06041": 0.5,
    },
    "resident_app": {
        "09011": 3.0,
        "09009": 2.0,
        "09012": 2.0,
        "06013": 2.0,
        "06028": 4.0,
        "06042": 1.5,
        "09005": 0.6,
    },
}
_CONSUMER_WEIGHTS = {
    "09020": 40.0,  # 农贸市场秩序问题
    "09015": 15.0,  # 无证餐饮
    "09001": 8.0,  # 无照经营游商
    "09022": 8.0,  # 占道促销宣传
    "09005": 6.0,  # 店外经营
    "07004": 5.0,  # 广告语言文字不规范
    "06027": 4.0,  # 油烟污染
    "09008": 3.0,  # 非法出版物销售
    "07006": 3.0,  # 违规牌匾标识
}
"""12315 hands over market and consumer matters; only these street-level classes."""
_CONSUMER_COMPONENTS = ("01045", "01075", "01053", "01054", "01044")
"""Consumer-facing devices 12315 hears about: vending machines, parcel lockers, kiosks."""
_AI_WEIGHTS = {
    "09006": 30.0,
    "09005": 15.0,
    "06036": 18.0,
    "06014": 10.0,
    "09010": 10.0,
    "06010": 8.0,
    "09009": 4.0,
    "06007": 3.0,
    "06029": 2.0,
}
"""What AI cameras recognise: shop-front and street trading, piles, spillage, parking."""

_STORM_CATEGORIES = {"01004": 40.0, "01003": 15.0, "04002": 25.0, "10002": 10.0, "06013": 10.0}
"""积水 (blocked inlets), lifted covers, fallen trees, fallen cables, collapsed road."""
_STORM_INTENSITY = (1.0, 0.5, 0.35, 0.25)

_COMPONENT_FACTORS: tuple[tuple[str, float], ...] = (
    ("井盖|箅子|盖板", 2.0),
    ("^路灯$", 3.0),
    ("^垃圾箱$", 1.5),
    ("^行道树$", 0.5),
    ("信号灯", 2.0),
)
_COMPONENT_SOURCE_FACTORS: dict[str, tuple[tuple[str, float], ...]] = {
    "12345": (("^路灯$", 2.5), ("井盖", 1.5)),
    "110": (("井盖", 2.0), ("^交通信号灯$", 4.0)),
    "resident_app": (("^户外健身设施$", 4.0), ("^路灯$", 2.0)),
}
_STATUS_WEIGHT = {"完好": 1.0, "破损": 4.0, "丢失": 4.0, "废弃": 0.5, "移除": 0.0}

# IoT device kinds: prefix, component classes they sit on, event class (None: the class's
# own fault), share of ordinary alarms, share of storm alarms, devices installed.
_IOT_KINDS = (
    ("WL", ("01004",), None, 0.10, 0.70, 400),  # water level at a rain inlet: 积水
    ("MC", ("01001", "01002", "01003", "01005", "01007", "01011"), None, 0.35, 0.30, 300),
    ("SL", ("01037",), None, 0.30, 0.0, 200),  # smart street-lamp controller
    ("GB", ("03005",), "06042", 0.25, 0.0, 150),  # bin fill sensor: 垃圾箱满溢
)
_CAMERA_CLASS = "01050"
_REPEAT_S = 7200
_AI_BURSTS = 80
_AI_BURST_SHARE = 0.4

# --- when ----------------------------------------------------------------------------------

_HOURS = {
    "office": (
        0.1, 0.05, 0.03, 0.03, 0.05, 0.2, 0.6, 1.5, 3.5, 5.5, 5.5, 3.5,
        1.2, 1.5, 4.0, 5.0, 5.0, 4.0, 1.5, 0.8, 0.5, 0.3, 0.2, 0.1,
    ),
    "hotline": (
        0.4, 0.25, 0.15, 0.12, 0.12, 0.2, 0.5, 1.5, 3.5, 4.5, 4.5, 3.5,
        2.2, 2.5, 3.8, 4.0, 3.8, 3.2, 2.5, 2.5, 2.2, 1.8, 1.2, 0.7,
    ),
    "police": (
        1.5, 1.2, 0.9, 0.7, 0.6, 0.6, 0.8, 1.2, 1.8, 2.0, 2.0, 2.0,
        1.8, 1.8, 2.0, 2.0, 2.1, 2.3, 2.6, 2.9, 3.0, 3.0, 2.6, 2.0,
    ),
    "consumer": (
        0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.1, 0.8, 3.5, 4.5, 4.5, 3.0,
        1.0, 2.0, 4.0, 4.2, 4.0, 2.5, 0.6, 0.3, 0.2, 0.1, 0.05, 0.03,
    ),
    "app": (
        0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.6, 2.8, 3.2, 3.0, 2.6,
        2.2, 2.4, 2.8, 2.9, 2.8, 2.6, 2.6, 2.8, 2.8, 2.2, 1.4, 0.7,
    ),
    "sensor": (
        0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.2, 1.2, 1.2,
        1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.3, 1.3, 1.2, 1.1, 1.0, 0.9,
    ),
    "camera": (
        0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1.2, 2.2, 3.0, 3.2, 3.4, 3.2,
        2.8, 2.6, 2.8, 3.0, 3.4, 3.8, 3.8, 3.4, 2.6, 1.6, 0.8, 0.4,
    ),
    "night": (
        2.0, 1.5, 0.8, 0.4, 0.3, 0.3, 0.5, 0.8, 1.0, 1.2, 1.2, 1.2,
        1.2, 1.2, 1.2, 1.3, 1.4, 1.6, 2.0, 2.6, 3.2, 3.6, 3.6, 3.0,
    ),
}  # fmt: skip
_SOURCE_HOURS = {
    "12345": "hotline",
    "110": "police",
    "12315": "consumer",
    "grid_member": "office",
    "resident_app": "app",
    "iot": "sensor",
    "ai_camera": "camera",
    "patrol": "office",
}
_NIGHT_CATEGORIES = frozenset({"06028", "06029", "08001"})
_NIGHT_SOURCES = frozenset({"12345", "110", "resident_app"})
_WEEKLY = {
    "12345": (1.0, 1.0, 1.0, 1.0, 1.0, 0.97, 0.97),
    "110": (1.0, 1.0, 1.0, 1.0, 1.05, 1.0, 0.85),
    "12315": (1.1, 1.1, 1.1, 1.1, 1.05, 0.5, 0.3),
    "grid_member": (1.05, 1.05, 1.05, 1.05, 1.0, 0.7, 0.45),
    "resident_app": (1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.8),
    "iot": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "ai_camera": (1.0, 1.0, 1.0, 1.0, 1.05, 1.0, 0.85),
    "patrol": (1.05, 1.05, 1.05, 1.05, 1.0, 0.75, 0.5),
}
"""Monday..Sunday: fewer on Sundays, except the always-staffed 12345 (and sensors)."""
_HOLIDAY_FACTOR = {
    "12345": 0.85,
    "110": 1.0,
    "12315": 0.3,
    "grid_member": 0.4,
    "resident_app": 0.85,
    "iot": 1.0,
    "ai_camera": 0.9,
    "patrol": 0.45,
}
_HOLIDAYS = {
    2025: (
        ("01-01", "01-01"),
        ("01-28", "02-04"),
        ("04-04", "04-06"),
        ("05-01", "05-05"),
        ("05-31", "06-02"),
        ("10-01", "10-08"),
    )
}
_WORKING_WEEKENDS = {2025: ("01-26", "02-08", "04-27", "09-28", "10-11")}
"""调休: weekend days worked instead of holidays; they count as Mondays."""

_SEASON = {
    # rain season (梅雨, mid-June to mid-July) and summer storms: 积水, drains, banks
    **dict.fromkeys(("01004", "01003", "01072", "01067", "01073", "06023", "06048"), "rain"),
    **dict.fromkeys(
        ("06010", "06011", "06042", "06029", "06027", "06028", "06021", "06017", "06037"),
        "summer",
    ),
    **dict.fromkeys(("06030", "09021", "09002", "04002", "04003", "04001"), "summer"),
    "10001": "winter",
}
"""Season profile per class; 08xxx (construction) have their own, everything else is flat."""

# --- what the descriptions say -------------------------------------------------------------

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "06001": ("{p}有人私搭乱建彩钢棚", "{p}楼顶疑似违法搭建", "{p}一楼住户私自扩建院墙"),
    "06004": ("{p}建筑物外立面污损严重", "{p}外墙被乱涂乱画"),
    "06007": ("{p}沿街晾晒衣物", "{p}在行道树上拉绳晾挂被褥"),
    "06008": ("{p}擅自架设线缆，杂乱无章",),
    "06009": ("{p}空调外机安装过低，滴水影响行人",),
    "06010": (
        "{p}有暴露垃圾未清运",
        "{p}垃圾堆放在路边，无人清理",
        "{p}生活垃圾散落地面，气味难闻",
        "{p}路边有成堆垃圾袋",
    ),
    "06011": ("{p}积存大量建筑渣土", "{p}垃圾渣土长期堆积未清理"),
    "06012": ("{p}路面脏污，有油污和泥土", "{p}道路不洁，落叶纸屑较多"),
    "06013": ("{p}路面出现坑洼", "{p}人行道地砖松动破损", "{p}路面塌陷，存在安全隐患"),
    "06014": ("{p}有车辆抛洒泥土", "{p}路面遗撒渣土，影响通行", "{p}路面有抛洒物"),
    "06017": ("{p}绿地内垃圾较多", "{p}绿化带内有杂物堆放"),
    "06020": ("{p}有人焚烧垃圾，烟雾较大", "{p}有人焚烧树叶"),
    "06025": ("{p}水面漂浮垃圾较多",),
    "06026": ("{p}河道水体发黑发臭",),
    "06027": ("{p}餐饮店油烟直排，影响居民", "{p}饭店油烟扰民"),
    "06028": ("{p}夜间噪音扰民", "{p}广场舞音响声音过大", "{p}商铺高音喇叭招揽顾客，噪音扰民"),
    "06029": ("{p}有露天烧烤摊点，烟雾扰民", "{p}夜间占道露天烧烤"),
    "06030": ("{p}有商户向雨水口倾倒污水", "{p}污水外溢流到路面"),
    "06034": ("{p}有一辆废弃车辆长期停放", "{p}僵尸车长期占用车位"),
    "06035": ("{p}有废弃沙发床垫堆放", "{p}路边丢弃旧家具"),
    "06036": ("{p}乱堆物堆料", "{p}商户门口堆放杂物", "{p}楼道口堆放杂物，影响通行"),
    "06037": ("{p}路边有动物尸体",),
    "06040": ("{p}有人私设地锁占用车位", "{p}私自安装阻车桩"),
    "06041": ("{p}垃圾投放点未分类投放", "{p}垃圾桶内垃圾混装"),
    "06042": ("{p}垃圾桶已满溢，未及时清运", "{p}垃圾站满溢，周边散落垃圾"),
    "06045": ("{p}有人毁绿种菜", "{p}绿地被占用停车"),
    "06049": ("{p}台阶破损，容易绊倒行人",),
    "06050": ("{p}路缘石缺损",),
    "06051": ("{p}盲道缺损，被占用",),
    "07001": ("{p}墙面张贴非法小广告", "{p}电线杆上有小广告", "{p}有人喷涂办证小广告"),
    "07002": ("{p}有人散发小广告传单",),
    "07003": ("{p}擅自设置户外广告牌", "{p}商户门口摆放广告展架"),
    "07004": ("{p}商户广告用语不规范，涉嫌虚假宣传",),
    "07006": ("{p}店招破损，存在坠落隐患", "{p}商户擅自设置牌匾"),
    "08001": ("{p}工地夜间施工噪音扰民", "{p}工地超时施工"),
    "08002": ("{p}施工占用人行道", "{p}施工围挡占道"),
    "08004": ("{p}工地扬尘较大，未采取降尘措施", "{p}工地裸土未覆盖"),
    "08005": ("{p}装修垃圾随意堆放", "{p}有施工废料未清运"),
    "08006": ("{p}施工材料占道堆放",),
    "08007": ("{p}工地围挡破损倾斜",),
    "08011": ("{p}渣土车未密闭，沿途撒漏",),
    "08012": ("{p}渣土车带泥上路",),
    "09001": ("{p}有流动摊贩兜售", "{p}游商占道摆摊"),
    "09002": ("{p}夜市摊点经营秩序混乱",),
    "09003": ("{p}有流浪乞讨人员",),
    "09004": ("{p}废品收购点占道堆放",),
    "09005": ("{p}商户超出门窗店外经营", "{p}门店跨门营业", "{p}店外摆放商品"),
    "09006": ("{p}有占道经营摊点", "{p}有人占用人行道摆摊卖菜", "{p}早市占道经营"),
    "09008": ("{p}有人兜售非法出版物",),
    "09009": ("{p}机动车乱停放，影响通行", "{p}车辆占用人行道停放"),
    "09010": ("{p}电动车乱停乱放", "{p}非机动车堵塞人行道"),
    "09011": ("{p}共享单车堆积", "{p}共享单车乱停放，堵塞盲道"),
    "09012": ("{p}车辆占用消防通道", "{p}消防通道被杂物堵塞"),
    "09015": ("{p}有无证餐饮店经营", "{p}无证小吃摊经营，卫生堪忧"),
    "09020": ("{p}农贸市场周边秩序混乱", "{p}市场摊贩占道，秩序较差", "{p}市场商户缺斤短两"),
    "09021": ("{p}商户占道洗车",),
    "09022": ("{p}商户占道搞促销活动", "{p}门口摆台促销，音响声音大"),
    "10001": ("{p}路面结冰，行人易滑倒", "{p}道路积雪未清扫"),
    "10002": ("{p}架空线缆脱落垂地", "{p}通信线缆下垂，影响车辆通行"),
}
_GENERIC = ("{p}存在{n}问题", "{p}发现{n}", "{p}{n}，影响市容")
_FAULTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("箅子", ("堵塞，路面积水", "破损", "缺失", "松动有异响")),
    ("井盖|盖板", ("破损", "缺失", "移位", "松动有异响", "塌陷", "高出路面")),
    ("信号灯", ("不亮", "故障", "倒计时不显示", "倾斜")),
    ("灯", ("不亮", "夜间不亮", "白天常亮", "灯罩破损", "闪烁")),
    ("树池|护树", ("破损", "缺失", "盖板松动")),
    ("树|绿地", ("枯死", "倒伏", "断枝悬挂", "倾斜")),
    ("垃圾", ("破损", "缺失", "满溢", "异味严重")),
    ("厕", ("设施损坏", "卫生差", "无法使用", "堵塞")),
    ("杆", ("倾斜", "破损", "锈蚀严重", "倒伏")),
    ("牌|标志|标线|显示屏|标识", ("倾斜", "污损", "缺失", "字迹不清", "损坏")),
    ("护栏|隔离|桩", ("破损", "倒伏", "缺失", "变形")),
    ("箱|柜|亭|机|站", ("破损", "损坏无法使用", "门锁损坏", "外壳破损")),
    ("", ("损坏", "破损", "缺失", "故障")),
)
_STORM_FAULTS = {
    "01004": ("附近路面积水较深，雨水箅子排水不畅", "堵塞，路面积水严重，车辆无法通行"),
    "01003": ("被水冲开，存在安全隐患", "冒水，周边积水"),
    "04002": ("被大风吹倒，压住路面", "断枝掉落，阻碍通行"),
}
_WRAP: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "12345": (
        ("市民来电反映：", "来电人反映：", "市民反映："),
        ("，希望尽快处理。", "，请相关部门核实处理。", "，已多次反映，要求处理。", "。"),
    ),
    "110": (("110非警务警情转办：", "群众报警称："), ("，请城管部门处置。", "。")),
    "12315": (("12315转办：消费者反映", "12315投诉举报："), ("，请核查处理。", "。")),
    "grid_member": (("巡查发现", "网格员上报：", ""), ("。", "，已拍照取证。", "，已现场劝导。")),
    "patrol": (("城管巡查发现", "巡查中发现"), ("，已现场督促整改。", "，已拍照取证。", "。")),
    "resident_app": (("", "随手拍：", "居民反映："), ("，麻烦处理一下", "，影响出行", "。", "！")),
}
_FAULT_ENDINGS = {
    "grid_member": ("。", "，已拍照取证。", "，请权属单位维修。"),
    "patrol": ("。", "，已拍照取证。", "，已设置警示标志。"),
}
"""Endings for component faults where the usual ones (劝导, 督促整改) would not fit."""
_SPOTS = ("附近", "门口", "旁", "东侧", "西侧", "南侧", "北侧", "对面")

_URGENT_BASE = 0.01
_URGENT_SAFETY = 0.10
_SAFETY = re.compile("井盖|箅子|盖板|燃气|电力设施|信号灯|电梯|报警|高压")
_SAFETY_CODES = frozenset({"10002", "09012", "08013", "06013", "06037", "06033"})


@dataclass
class _District:
    """The sample district, with everything in the district's Gauss-Krüger metres."""

    name: str
    projector: Projector
    outline_m: shapely.Geometry
    boundary_m: shapely.Geometry
    bounds_m: tuple[float, float, float, float]
    bld: pd.DataFrame
    """building_id, address, name, use, grid_code, street_code, x, y, road, num, landmark, cross."""
    bld_tree: shapely.STRtree
    cmp: pd.DataFrame
    """component_id, class_code, class_name, status, x, y."""
    staff_id: np.ndarray
    staff_name: np.ndarray
    staff_start: dict[str, int]
    staff_count: dict[str, int]


@dataclass
class _Rows:
    """Events as parallel arrays: one entry per intake record (retries added last)."""

    src: np.ndarray  # int8 index into SOURCES
    cat: np.ndarray  # object, 5-digit code
    comp: np.ndarray  # int64 index into components, -1
    dev: np.ndarray  # object device id or None
    x: np.ndarray  # float64 true position, metres
    y: np.ndarray
    t: np.ndarray  # int64 seconds since 1 January 00:00 local time
    storm: np.ndarray  # bool
    orig: np.ndarray  # int64 row of the first report (near duplicates), -1

    def __len__(self) -> int:
        return len(self.src)

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        return _Rows(
            **{
                f: np.concatenate([getattr(p, f) for p in parts])
                for f in _Rows.__dataclass_fields__
            }
        )

    @staticmethod
    def make(k: int, src: int) -> _Rows:
        return _Rows(
            src=np.full(k, src, dtype=np.int8),
            cat=np.full(k, "", dtype=object),
            comp=np.full(k, -1, dtype=np.int64),
            dev=np.full(k, None, dtype=object),
            x=np.zeros(k),
            y=np.zeros(k),
            t=np.zeros(k, dtype=np.int64),
            storm=np.zeros(k, dtype=bool),
            orig=np.full(k, -1, dtype=np.int64),
        )


# --- loading -------------------------------------------------------------------------------


def _load(sample_dir: Path) -> _District:
    outline_gdf = read_layer(sample_dir / "districts.geojson")
    outline = shapely.union_all(outline_gdf.geometry.values)
    projector = Projector.for_lon(float(outline.centroid.x))

    def to_m(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(projector.to_metres(coords[:, 0], coords[:, 1]))

    outline_m = shapely.transform(outline, to_m)
    shapely.prepare(outline_m)
    boundary_m = shapely.boundary(outline_m)

    b = read_layer(sample_dir / "buildings.geojson").sort_values("building_id")
    b = b.reset_index(drop=True)
    cen = shapely.centroid(b.geometry.values)
    bx, by = projector.to_metres(shapely.get_x(cen), shapely.get_y(cen))
    streets = read_layer(sample_dir / "streets.geojson")
    street_name = dict(zip(streets["code"], streets["name"], strict=True))
    district = str(outline_gdf["name"].iloc[0])
    prefix = [district + street_name.get(s, "") for s in b["street_code"]]
    rest = [a.removeprefix(p) for a, p in zip(b["address"], prefix, strict=True)]
    parts = [re.fullmatch(r"(.*?)(\d+)号", r) for r in rest]
    road = np.array([m.group(1) if m else r for m, r in zip(parts, rest, strict=True)], object)
    num = np.array([m.group(2) if m else "" for m in parts], dtype=object)
    landmark = np.array(
        [
            None if not isinstance(nm, str) else re.sub(r"\d+(栋|号厂房)$", "", nm)
            for nm in b["name"]
        ],
        dtype=object,
    )
    rng = stream(0, "events.roads")  # road crossings are part of the map, not of the seed
    cross = np.empty(len(b), dtype=object)
    for _street, idx in sorted(b.groupby("street_code").indices.items()):
        roads = np.array(sorted(set(road[idx].tolist())), dtype=object)
        pick = rng.integers(0, max(len(roads) - 1, 1), size=len(idx))
        own = np.searchsorted(roads, road[idx])
        pick = np.where(pick >= own, pick + 1, pick) if len(roads) > 1 else own
        cross[idx] = roads[np.minimum(pick, len(roads) - 1)]
    bld = pd.DataFrame(
        {
            "building_id": b["building_id"].to_numpy(object),
            "address": b["address"].to_numpy(object),
            "name": b["name"].to_numpy(object),
            "use": b["use"].to_numpy(object),
            "grid_code": b["grid_code"].to_numpy(object),
            "street_code": b["street_code"].to_numpy(object),
            "households": b["households"].to_numpy(np.int64),
            "x": bx,
            "y": by,
            "road": road,
            "num": num,
            "landmark": landmark,
            "cross": cross,
        }
    )
    bld_tree = shapely.STRtree(shapely.points(bx, by))

    c = read_layer(sample_dir / "components.geojson").sort_values("component_id")
    c = c.reset_index(drop=True)
    cx, cy = projector.to_metres(shapely.get_x(c.geometry.values), shapely.get_y(c.geometry.values))
    cmp = pd.DataFrame(
        {
            "component_id": c["component_id"].to_numpy(object),
            "class_code": c["class_code"].to_numpy(object),
            "class_name": c["class_name"].to_numpy(object),
            "status": c["status"].to_numpy(object),
            "x": cx,
            "y": cy,
        }
    )

    g = read_layer(sample_dir / "grids.geojson").sort_values("code")
    ids: list[str] = []
    staff_names: list[str] = []
    start: dict[str, int] = {}
    count: dict[str, int] = {}
    for code, staff in zip(g["code"], g["staff"], strict=True):
        members = json.loads(staff) if isinstance(staff, str) else []
        start[code], count[code] = len(ids), len(members)
        for k, m in enumerate(members):
            ids.append(f"{code}-{k + 1:02d}")
            staff_names.append(str(m.get("name", "")))
    return _District(
        name=district,
        projector=projector,
        outline_m=outline_m,
        boundary_m=boundary_m,
        bounds_m=tuple(float(v) for v in shapely.bounds(outline_m)),
        bld=bld,
        bld_tree=bld_tree,
        cmp=cmp,
        staff_id=np.array(ids, dtype=object),
        staff_name=np.array(staff_names, dtype=object),
        staff_start=start,
        staff_count=count,
    )


# --- places --------------------------------------------------------------------------------


@dataclass
class _Hotspots:
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    weight: np.ndarray
    kind: np.ndarray  # object: market / school / residential / hub


_AFFINITY = {
    # market, school, residential, hub
    "09006": (3.0, 2.0, 0.5, 1.5),
    "09020": (6.0, 0.2, 0.2, 0.3),
    "09005": (2.5, 1.0, 0.7, 1.0),
    "09001": (2.0, 2.5, 0.5, 2.0),
    "09010": (1.0, 1.5, 1.5, 3.0),
    "09011": (1.0, 1.2, 1.2, 3.0),
    "09009": (1.0, 1.5, 1.5, 2.0),
    "06028": (0.7, 0.5, 3.0, 0.5),
    "06027": (2.0, 0.3, 2.0, 0.5),
    "06007": (0.3, 0.3, 3.0, 0.3),
    "06001": (0.5, 0.3, 3.0, 0.5),
    "06029": (2.0, 0.5, 1.5, 1.0),
    "09012": (0.8, 0.8, 2.5, 0.5),
    "07001": (1.0, 1.0, 2.0, 1.5),
}
_KINDS = ("market", "school", "residential", "hub")


def _hotspots(d: _District, rng: np.random.Generator) -> _Hotspots:
    """~40 places where reports pile up: markets, schools, big compounds, edge hubs."""
    bld = d.bld
    xs: list[float] = []
    ys: list[float] = []
    kinds: list[str] = []

    def take(idx: np.ndarray, k: int, kind: str, p: np.ndarray | None = None) -> None:
        if not len(idx):
            return
        chosen = rng.choice(idx, size=min(k, len(idx)), replace=False, p=p)
        for i in sorted(chosen.tolist()):
            xs.append(float(bld["x"].iat[i]))
            ys.append(float(bld["y"].iat[i]))
            kinds.append(kind)

    names = bld["name"].fillna("").to_numpy(str)
    shops = np.flatnonzero(bld["use"].to_numpy(object) == "商业")
    market = np.char.find(names[shops], "市场") >= 0
    w = np.where(market, 6.0, 1.0)
    take(shops, N_HOTSPOTS["market"], "market", w / w.sum())
    take(np.flatnonzero(bld["use"].to_numpy(object) == "学校"), N_HOTSPOTS["school"], "school")

    homes = bld[(bld["use"] == "住宅") & bld["landmark"].notna()]
    comp = homes.groupby("landmark", sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), hh=("households", "sum")
    )
    comp = comp.sort_values(["hh", "x"], ascending=[False, True]).head(60)
    if len(comp):
        k = min(N_HOTSPOTS["residential"], len(comp))
        pick = rng.choice(len(comp), size=k, replace=False, p=(comp["hh"] / comp["hh"].sum()))
        for i in sorted(pick.tolist()):
            xs.append(float(comp["x"].iat[i]))
            ys.append(float(comp["y"].iat[i]))
            kinds.append("residential")

    length = shapely.length(d.boundary_m)
    hubs = 0
    for _ in range(200):
        if hubs >= N_HOTSPOTS["hub"]:
            break
        p = shapely.line_interpolate_point(d.boundary_m, rng.uniform(0, length))
        px, py = shapely.get_x(p) + rng.normal(0, 250), shapely.get_y(p) + rng.normal(0, 250)
        dist = shapely.distance(d.boundary_m, shapely.Point(px, py))
        if shapely.contains_xy(d.outline_m, px, py) and 80.0 <= dist <= 350.0:
            xs.append(float(px))
            ys.append(float(py))
            kinds.append("hub")
            hubs += 1

    kind = np.array(kinds, dtype=object)
    lo = {"market": 50.0, "school": 60.0, "residential": 80.0, "hub": 100.0}
    hi = {"market": 150.0, "school": 180.0, "residential": 300.0, "hub": 300.0}
    sigma = np.array([rng.uniform(lo[k], hi[k]) for k in kinds])
    factor = {"market": 1.6, "school": 1.0, "residential": 1.1, "hub": 1.2}
    weight = rng.gamma(2.0, 1.0, size=len(kinds)) * np.array([factor[k] for k in kinds])
    return _Hotspots(np.array(xs), np.array(ys), sigma, weight, kind)


def _uniform_inside(d: _District, rng: np.random.Generator, k: int) -> tuple[np.ndarray, ...]:
    minx, miny, maxx, maxy = d.bounds_m
    x = np.empty(0)
    y = np.empty(0)
    while len(x) < k:
        m = max(2 * (k - len(x)), 64)
        cx, cy = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(d.outline_m, cx, cy)
        x, y = np.concatenate([x, cx[ok]]), np.concatenate([y, cy[ok]])
    return x[:k], y[:k]


def _just_outside(d: _District, rng: np.random.Generator, k: int) -> tuple[np.ndarray, ...]:
    """Points 20-400 m outside the outline (near the edge, as reports of border roads are)."""
    length = shapely.length(d.boundary_m)
    x = np.empty(0)
    y = np.empty(0)
    for _ in range(100):
        if len(x) >= k:
            break
        m = max(3 * (k - len(x)), 64)
        p = shapely.line_interpolate_point(d.boundary_m, rng.uniform(0, length, m))
        r = rng.uniform(20.0, 400.0, m)
        a = rng.uniform(0, 2 * np.pi, m)
        cx, cy = shapely.get_x(p) + r * np.cos(a), shapely.get_y(p) + r * np.sin(a)
        out = ~shapely.contains_xy(d.outline_m, cx, cy)
        dist = shapely.distance(d.boundary_m, shapely.points(cx[out], cy[out]))
        keep = dist >= 10.0
        x = np.concatenate([x, cx[out][keep]])
        y = np.concatenate([y, cy[out][keep]])
    return x[:k], y[:k]


def _free_points(
    d: _District, hot: _Hotspots, cats: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Hotspot clusters (by class affinity), a uniform background and a band outside."""
    k = len(cats)
    x, y = np.zeros(k), np.zeros(k)
    u = rng.random(k)
    bg = u < BACKGROUND_SHARE
    out = (u >= BACKGROUND_SHARE) & (u < BACKGROUND_SHARE + OUTSIDE_SHARE)
    x[bg], y[bg] = _uniform_inside(d, rng, int(bg.sum()))
    x[out], y[out] = _just_outside(d, rng, int(out.sum()))
    hot_rows = np.flatnonzero(~bg & ~out)
    kind_idx = np.array([_KINDS.index(kd) for kd in hot.kind], dtype=np.int64)
    profile = np.array([c if c in _AFFINITY else "" for c in cats[hot_rows]], dtype=object)
    for key in sorted(set(profile.tolist())):
        rows = hot_rows[profile == key]
        aff = np.asarray(_AFFINITY.get(key, (1.0, 1.0, 1.0, 1.0)))
        p = hot.weight * aff[kind_idx]
        h = rng.choice(len(p), size=len(rows), p=p / p.sum())
        x[rows] = hot.x[h] + rng.normal(0, 1, len(rows)) * hot.sigma[h]
        y[rows] = hot.y[h] + rng.normal(0, 1, len(rows)) * hot.sigma[h]
    return x, y


def _around(
    x0: np.ndarray, y0: np.ndarray, rmin: float, rmax: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points at a uniform distance in [rmin, rmax] m from (x0, y0), in a random direction."""
    r = rng.uniform(rmin, rmax, len(x0))
    a = rng.uniform(0, 2 * np.pi, len(x0))
    return x0 + r * np.cos(a), y0 + r * np.sin(a)


def _pick_components(d: _District, cats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A component of each row's class (damaged ones more often, removed ones never)."""
    out = np.full(len(cats), -1, dtype=np.int64)
    status_w = d.cmp["status"].map(_STATUS_WEIGHT).fillna(1.0).to_numpy(np.float64)
    classes = d.cmp["class_code"].to_numpy(object)
    for code in sorted(set(cats.tolist())):
        rows = np.flatnonzero(cats == code)
        cand = np.flatnonzero(classes == code)
        w = status_w[cand]
        if not len(cand) or w.sum() <= 0:
            continue
        out[rows] = cand[rng.choice(len(cand), size=len(rows), p=w / w.sum())]
    return out


def _nearest_building(d: _District, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), dtype=np.int64)
    if len(x):
        pairs = d.bld_tree.query_nearest(shapely.points(x, y), all_matches=False)
        out[pairs[0]] = pairs[1]
    return out


# --- categories and times ------------------------------------------------------------------


def _class_weights(
    source: str, codes: np.ndarray, cmp_counts: dict[str, int], cmp_names: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Weights over all event classes: (street-level matters, component faults)."""
    street = np.zeros(len(codes))
    comp = np.zeros(len(codes))
    factors = _STREET_FACTORS.get(source, {})
    default = factors.get("*", 1.0)
    for i, code in enumerate(codes):
        if int(code[:2]) >= 6:
            if source == "12315":
                street[i] = _CONSUMER_WEIGHTS.get(code, 0.0)
            else:
                street[i] = _STREET_WEIGHTS.get(code, _STREET_OTHER) * factors.get(code, default)
        elif cmp_counts.get(code, 0) > 0:
            if source == "12315":
                comp[i] = 1.0 if code in _CONSUMER_COMPONENTS else 0.0
                continue
            name = cmp_names.get(code, "")
            w = cmp_counts[code] ** 0.7
            for pattern, f in _COMPONENT_FACTORS:
                if re.search(pattern, name):
                    w *= f
                    break
            for pattern, f in _COMPONENT_SOURCE_FACTORS.get(source, ()):
                if re.search(pattern, name):
                    w *= f
            comp[i] = w
    return street, comp


def _calendar(year: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Days in the year, weekday per day (Mon=0, 调休 days as 0), holiday flag, day of year."""
    start = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - start).days
    doy = np.arange(days)
    weekday = (start.weekday() + doy) % 7
    holiday = np.zeros(days, dtype=bool)
    for a, b in _HOLIDAYS.get(year, ()):
        lo = (date.fromisoformat(f"{year}-{a}") - start).days
        hi = (date.fromisoformat(f"{year}-{b}") - start).days
        holiday[lo : hi + 1] = True
    for w in _WORKING_WEEKENDS.get(year, ()):
        weekday[(date.fromisoformat(f"{year}-{w}") - start).days] = 0
    return days, weekday, holiday, doy


def _season(profile: str, doy: np.ndarray) -> np.ndarray:
    if profile == "rain":
        return (
            1.0
            + 2.5 * np.exp(-(((doy - 181) / 18.0) ** 2))
            + 0.8 * np.exp(-(((doy - 215) / 30.0) ** 2))
        )
    if profile == "summer":
        return 1.0 + 0.6 * np.exp(-(((doy - 200) / 45.0) ** 2))
    if profile == "winter":
        cold = (doy < 50) | (doy > 340)
        return np.where(cold, 1.0 + 4.0 * np.exp(-(((doy - 28) / 6.0) ** 2)), 0.0)
    if profile == "construction":
        return 1.0 + 0.3 * (
            np.exp(-(((doy - 110) / 35.0) ** 2)) + np.exp(-(((doy - 290) / 35.0) ** 2))
        )
    return np.ones(len(doy))


def _profile(code: str) -> str:
    if code in _SEASON:
        return _SEASON[code]
    return "construction" if code.startswith("08") else "flat"


def _day_weights(source: str, profile: str, year: int) -> np.ndarray:
    _days, weekday, holiday, doy = _calendar(year)
    w = np.asarray(_WEEKLY[source])[weekday] * _season(profile, doy)
    w = np.where(holiday, w * _HOLIDAY_FACTOR[source], w)
    return w / w.sum()


def _times(source: str, cats: np.ndarray, year: int, rng: np.random.Generator) -> np.ndarray:
    """Seconds since 1 January 00:00 local: day by week, season, holidays; hour by source."""
    t = np.zeros(len(cats), dtype=np.int64)
    profile = np.array([_profile(c) for c in cats], dtype=object)
    hours = np.array(
        [
            "night"
            if c in _NIGHT_CATEGORIES and source in _NIGHT_SOURCES
            else _SOURCE_HOURS[source]
            for c in cats
        ],
        dtype=object,
    )
    key = profile + "|" + hours
    for k in sorted(set(key.tolist())):
        rows = np.flatnonzero(key == k)
        prof, hp = k.split("|")
        dw = _day_weights(source, prof, year)
        day = rng.choice(len(dw), size=len(rows), p=dw)
        hw = np.asarray(_HOURS[hp])
        hour = rng.choice(24, size=len(rows), p=hw / hw.sum())
        t[rows] = day * 86400 + hour * 3600 + rng.integers(0, 3600, len(rows))
    return t


@dataclass
class _Storms:
    day: np.ndarray
    start_h: np.ndarray
    intensity: np.ndarray


def _storms(year: int, rng: np.random.Generator) -> _Storms:
    """Summer storms (June 10 - August 31); the first is the big one."""
    lo = (date(year, 6, 10) - date(year, 1, 1)).days
    hi = (date(year, 8, 31) - date(year, 1, 1)).days
    day = rng.choice(np.arange(lo, hi + 1), size=len(_STORM_INTENSITY), replace=False)
    return _Storms(day, rng.integers(13, 20, len(day)), np.asarray(_STORM_INTENSITY))


def _storm_times(st: _Storms, k: int, rng: np.random.Generator) -> np.ndarray:
    which = rng.choice(len(st.day), size=k, p=st.intensity / st.intensity.sum())
    offset = np.minimum(rng.gamma(2.0, 2700.0, k), 6 * 3600.0).astype(np.int64)
    return st.day[which] * 86400 + st.start_h[which] * 3600 + offset


# --- the sources ---------------------------------------------------------------------------


def _ordinary(
    source: str,
    k: int,
    d: _District,
    hot: _Hotspots,
    year: int,
    storms: _Storms,
    rng: np.random.Generator,
    codes: np.ndarray,
) -> _Rows:
    """Reports by people: hotlines, grid members, patrols, resident apps."""
    s = SOURCES.index(source)
    cmp_counts = d.cmp["class_code"].value_counts().to_dict()
    cmp_names = dict(zip(d.cmp["class_code"], d.cmp["class_name"], strict=False))
    street_w, comp_w = _class_weights(source, codes, cmp_counts, cmp_names)
    n_storm = round(k * _STORM_SHARE.get(source, 0.0))
    rows = _Rows.make(k, s)
    share = _COMPONENT_SHARE[source] if comp_w.sum() > 0 else 0.0
    is_comp = rng.random(k - n_storm) < share
    cat = np.empty(k - n_storm, dtype=object)
    cat[is_comp] = codes[rng.choice(len(codes), int(is_comp.sum()), p=comp_w / comp_w.sum())]
    cat[~is_comp] = codes[
        rng.choice(len(codes), int((~is_comp).sum()), p=street_w / street_w.sum())
    ]
    storm_codes = np.array(sorted(_STORM_CATEGORIES), dtype=object)
    sw = np.array([_STORM_CATEGORIES[c] for c in storm_codes])
    rows.cat[: k - n_storm] = cat
    rows.cat[k - n_storm :] = storm_codes[rng.choice(len(sw), n_storm, p=sw / sw.sum())]
    rows.storm[k - n_storm :] = True
    rows.t[: k - n_storm] = _times(source, cat, year, rng)
    rows.t[k - n_storm :] = _storm_times(storms, n_storm, rng)
    _place(rows, source, d, hot, rng)
    return rows


def _place(
    rows: _Rows, source: str, d: _District, hot: _Hotspots, rng: np.random.Generator
) -> None:
    major = np.array([int(c[:2]) for c in rows.cat], dtype=np.int64)
    faults = np.flatnonzero(major <= 5)
    comp = _pick_components(d, rows.cat[faults], rng)
    ok = comp >= 0
    rows.comp[faults[ok]] = comp[ok]
    rows.x[faults[ok]], rows.y[faults[ok]] = _around(
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
        rows.x[free], rows.y[free] = _free_points(d, hot, rows.cat[free], rng)


def _devices(d: _District, rng: np.random.Generator) -> pd.DataFrame:
    """IoT sensors installed on sample components: id, kind, component row, alarm rate."""
    frames = []
    classes = d.cmp["class_code"].to_numpy(object)
    for prefix, on, _event, _share, _storm, count in _IOT_KINDS:
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


def _repeats(rows: _Rows) -> np.ndarray:
    """Rows whose device already reported the same class less than 2 h before."""
    order = np.lexsort((np.arange(len(rows)), rows.t, rows.cat, rows.dev.astype(str)))
    dev, cat, t = rows.dev[order], rows.cat[order], rows.t[order]
    same = (dev[1:] == dev[:-1]) & (cat[1:] == cat[:-1]) & (np.diff(t) < _REPEAT_S)
    return np.sort(order[1:][same])


def _spread(rows: _Rows, assign: Callable[..., None]) -> None:
    """Give repeats another device (bursts stay bursts), as a device alarms once per problem:
    the dedup ground truth is about different sources, not one sensor's chatter."""
    for _ in range(50):
        again = _repeats(rows)
        if not len(again):
            return
        assign(again, uniform=True)
    again = _repeats(rows)
    while len(again):  # rare: more alarms than devices in a burst; move them 2 h on
        rows.t[again] += _REPEAT_S
        again = _repeats(rows)


def _iot(k: int, d: _District, year: int, storms: _Storms, rng: np.random.Generator) -> _Rows:
    s = SOURCES.index("iot")
    rows = _Rows.make(k, s)
    dev = _devices(d, rng)
    n_storm = round(k * _STORM_SHARE["iot"])
    kinds = np.array([kd[0] for kd in _IOT_KINDS], dtype=object)
    normal = np.array([kd[3] for kd in _IOT_KINDS])
    stormy = np.array([kd[4] for kd in _IOT_KINDS])
    kind = np.empty(k, dtype=object)
    kind[: k - n_storm] = kinds[rng.choice(len(kinds), k - n_storm, p=normal / normal.sum())]
    kind[k - n_storm :] = kinds[rng.choice(len(kinds), n_storm, p=stormy / stormy.sum())]
    present = set(dev["kind"])
    kind[~np.isin(kind, list(present))] = "MC" if "MC" in present else sorted(present)[0]
    rows.storm[k - n_storm :] = True
    ordinary = np.arange(k - n_storm)
    profile_cat = np.where(kind[ordinary] == "WL", "01004", "00000")
    rows.t[ordinary] = _times("iot", profile_cat, year, rng)
    rows.t[k - n_storm :] = _storm_times(storms, n_storm, rng)
    classes = d.cmp["class_code"].to_numpy(object)
    cmp_x, cmp_y = d.cmp["x"].to_numpy(), d.cmp["y"].to_numpy()

    def assign(sel: np.ndarray, uniform: bool = False) -> None:
        for prefix, _on, event, *_ in _IOT_KINDS:
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
            rows.x[part], rows.y[part] = _around(cmp_x[comp], cmp_y[comp], *r, rng)

    assign(np.arange(k))
    _spread(rows, assign)
    return rows


def _cameras(d: _District, rng: np.random.Generator) -> pd.DataFrame:
    cand = np.flatnonzero((d.cmp["class_code"] == _CAMERA_CLASS).to_numpy())
    if not len(cand):  # a sample without cameras: mount them on lamp posts
        cand = np.flatnonzero((d.cmp["class_code"] == "01037").to_numpy())[:60]
    return pd.DataFrame(
        {
            "device_id": [f"CAM-{i + 1:04d}" for i in range(len(cand))],
            "comp": cand,
            "rate": rng.gamma(0.7, 1.0, len(cand)),
        }
    )


def _ai_camera(k: int, d: _District, year: int, rng: np.random.Generator) -> _Rows:
    s = SOURCES.index("ai_camera")
    rows = _Rows.make(k, s)
    cam = _cameras(d, rng)
    codes = np.array(sorted(_AI_WEIGHTS), dtype=object)
    w = np.array([_AI_WEIGHTS[c] for c in codes])
    rows.cat[:] = codes[rng.choice(len(codes), k, p=w / w.sum())]
    # Bursts: enforcement campaigns and re-tuned models flag many cameras for two hours.
    in_burst = rng.random(k) < _AI_BURST_SHARE
    nb = int(in_burst.sum())
    days = _day_weights("ai_camera", "flat", year)
    bday = rng.choice(len(days), size=_AI_BURSTS, p=days)
    hw = np.asarray(_HOURS["camera"])
    bhour = rng.choice(24, size=_AI_BURSTS, p=hw / hw.sum())
    b = rng.integers(0, _AI_BURSTS, nb)
    rows.t[in_burst] = bday[b] * 86400 + bhour[b] * 3600 + rng.integers(0, 7200, nb)
    rows.t[~in_burst] = _times("ai_camera", rows.cat[~in_burst], year, rng)
    cmp_x, cmp_y = d.cmp["x"].to_numpy(), d.cmp["y"].to_numpy()

    def assign(sel: np.ndarray, uniform: bool = False) -> None:
        p = np.ones(len(cam)) if uniform else cam["rate"].to_numpy() + 0.05
        pick = rng.choice(len(cam), size=len(sel), p=p / p.sum())
        rows.dev[sel] = cam["device_id"].to_numpy(object)[pick]
        comp = cam["comp"].to_numpy()[pick]
        rows.x[sel], rows.y[sel] = _around(cmp_x[comp], cmp_y[comp], 10.0, 60.0, rng)

    assign(np.arange(k))
    _spread(rows, assign)
    return rows


# --- near duplicates -----------------------------------------------------------------------


def _near_duplicates(
    base: _Rows, address_only: np.ndarray, k: int, d: _District, end: int, rng: np.random.Generator
) -> _Rows:
    """Second reports of the same problem by another source, within 45 m and 2 h."""
    fault_addr = (base.comp >= 0) & address_only
    eligible = np.flatnonzero(~fault_addr & (base.t < end - 7200))
    k = min(k, len(eligible))
    orig = np.sort(rng.choice(eligible, size=k, replace=False))
    rows = _Rows.make(k, 0)
    w = np.array([_DUP_SOURCE[s] for s in SOURCES])
    for s in range(len(SOURCES)):
        sel = np.flatnonzero(base.src[orig] == s)
        p = w.copy()
        p[s] = 0.0
        rows.src[sel] = rng.choice(len(SOURCES), size=len(sel), p=p / p.sum())
    rows.orig[:] = orig
    rows.cat[:] = base.cat[orig]
    rows.comp[:] = base.comp[orig]
    rows.storm[:] = base.storm[orig]
    rows.t[:] = base.t[orig] + rng.integers(60, 7000, k)
    # where the first report resolves to: its point, or its building for address-only ones
    b = _nearest_building(d, base.x[orig], base.y[orig])
    ox = np.where(address_only[orig], d.bld["x"].to_numpy()[b], base.x[orig])
    oy = np.where(address_only[orig], d.bld["y"].to_numpy()[b], base.y[orig])
    r = 45.0 * np.sqrt(rng.random(k))
    a = rng.uniform(0, 2 * np.pi, k)
    rows.x[:], rows.y[:] = ox + r * np.cos(a), oy + r * np.sin(a)
    c = rows.comp >= 0
    rows.x[c], rows.y[c] = _around(
        d.cmp["x"].to_numpy()[rows.comp[c]], d.cmp["y"].to_numpy()[rows.comp[c]], 1.0, 6.0, rng
    )
    return rows


# --- text ----------------------------------------------------------------------------------


def _choose(options: tuple[str, ...], u: np.ndarray) -> list[str]:
    idx = (u * len(options)).astype(np.int64)
    return [options[i] for i in idx]


def _places(d: _District, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A place phrase per row from its building: road and number, landmark, crossing."""
    road = d.bld["road"].to_numpy(object)[b]
    num = d.bld["num"].to_numpy(object)[b]
    mark = d.bld["landmark"].to_numpy(object)[b]
    cross = d.bld["cross"].to_numpy(object)[b]
    use = d.bld["use"].to_numpy(object)[b]
    v = rng.integers(0, 6, len(b))
    spot = _choose(_SPOTS, rng.random(len(b)))
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
    for pattern, phrases in _FAULTS:
        if re.search(pattern, name):
            return phrases
    return _FAULTS[-1][1]


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
                options = _STORM_FAULTS.get(code, ()) if st else ()
                table[code, st] = (comp_name, options or _fault_phrases(comp_name))
            else:
                tpl = _TEMPLATES.get(code, _GENERIC)
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
    rows: _Rows, sel: np.ndarray, place: np.ndarray, body: np.ndarray, rng: np.random.Generator
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


def _people(rng: np.random.Generator, k: int) -> np.ndarray:
    """Full Chinese names, vectorised over the morphemes of ``names``."""
    sur = np.array(list(_names._SURNAMES), dtype=object)
    giv = np.array(list(_names._GIVEN), dtype=object)
    a = sur[rng.integers(0, len(sur), k)]
    b = giv[rng.integers(0, len(giv), k)]
    c = np.where(rng.random(k) < 0.6, giv[rng.integers(0, len(giv), k)], "")
    return a + b + c


def _callers(rng: np.random.Generator, k: int, anonymous: float) -> np.ndarray:
    full = _people(rng, k)
    u = rng.random(k)
    title = np.where(rng.random(k) < 0.5, "先生", "女士")
    sur = np.array([f[0] for f in full], dtype=object) if k else np.empty(0, object)
    out = np.where(u < 0.45, sur + title, full)
    return np.where(u > 1.0 - anonymous, "匿名", out)


def _phones(rng: np.random.Generator, k: int) -> np.ndarray:
    second = np.array(list("3456789"))[rng.choice(7, k, p=[0.3, 0.2, 0.08, 0.25, 0.1, 0.04, 0.03])]
    third = rng.integers(0, 10, k)
    last = rng.integers(0, 10_000, k)
    return np.array(
        [f"1{s}{t}****{v:04d}" for s, t, v in zip(second, third, last, strict=True)], dtype=object
    )


def _photo_lists(rng: np.random.Generator, src: np.ndarray, t: np.ndarray, year: int) -> np.ndarray:
    out = np.full(len(src), None, dtype=object)
    day0 = pd.Timestamp(year=year, month=1, day=1)
    for name, p in _PHOTOS.items():
        sel = np.flatnonzero(src == SOURCES.index(name))
        counts = rng.choice(4, size=len(sel), p=p)
        keys = rng.integers(0, 2**48, size=(len(sel), 3))
        stamp = day0 + pd.to_timedelta(t[sel] // 86400, unit="D")
        days = np.asarray(stamp.strftime("%Y/%m/%d"), dtype=object)
        lists = [
            "[" + ", ".join(f'"photos/{day}/{key:012x}.jpg"' for key in row[:c]) + "]"
            for day, row, c in zip(days, keys.tolist(), counts.tolist(), strict=True)
        ]
        out[sel] = np.array(lists, dtype=object)
    return out


# --- ids -----------------------------------------------------------------------------------


def _external_ids(rows: _Rows, year: int, rng: np.random.Generator) -> np.ndarray:
    """Each source's own id format, numbered in report order (gaps where the numbering is
    city-wide: those systems also number other districts' cases)."""
    out = np.empty(len(rows), dtype=object)
    day0 = pd.Timestamp(year=year, month=1, day=1)
    for s, name in enumerate(SOURCES):
        sel = np.flatnonzero(rows.src == s)
        sel = sel[np.lexsort((sel, rows.t[sel]))]
        k = len(sel)
        stamp = day0 + pd.to_timedelta(rows.t[sel], unit="s")
        ymd = np.asarray(stamp.strftime("%Y%m%d"), dtype=object)
        if name in ("iot", "ai_camera"):
            dev = rows.dev[sel]
            seq = pd.Series(dev).groupby(dev, sort=False).cumcount().to_numpy() + 1
            prefix = "" if name == "iot" else "AI-"
            out[sel] = [f"{prefix}{d}-{q:06d}" for d, q in zip(dev, seq, strict=True)]
            continue
        if name == "110":
            gaps = rng.integers(1, 4, k)
            seq = pd.Series(gaps).groupby(ymd, sort=False).cumsum().to_numpy()
            out[sel] = [f"110-{d}-{q:05d}" for d, q in zip(ymd, seq, strict=True)]
            continue
        gap_hi = {"12345": 6, "12315": 12}.get(name, 1)
        seq = int(rng.integers(1, 500)) + np.cumsum(rng.integers(1, gap_hi + 1, k))
        fmt = {
            "12345": "12345-{y}-{q:07d}",
            "12315": "12315-{y}{q:08d}",
            "grid_member": "GM{y}{q:08d}",
            "patrol": "XC-{y}-{q:06d}",
        }.get(name)
        if fmt is None:  # resident app: order number by day
            out[sel] = [f"APP{d}{q:07d}" for d, q in zip(ymd, seq, strict=True)]
        else:
            out[sel] = [fmt.format(y=year, q=q) for q in seq]
    return out


# --- assembly ------------------------------------------------------------------------------


def generate_events(
    sample_dir: Path = SAMPLE_DIR,
    *,
    n: int = DEFAULT_N,
    year: int = 2025,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> pd.DataFrame:
    """A year of intake records for the sample district, in order of ``reported_at``.

    Exactly ``n`` rows: ordinary reports, ~3 % near duplicates (``near_duplicate_of``) and
    ~1.5 % exact re-sends of the 12345 and IoT records (``defect == 'retry'``). Same
    ``sample_dir`` content, ``n``, ``year`` and ``seed`` give the same frame.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    sample_dir = Path(sample_dir)

    def rs(name: str) -> np.random.Generator:
        return stream(seed, f"events.{name}")

    with _progress(progress) as prog:
        step = _stepper(prog, "events", 7)
        d = _load(sample_dir)
        hot = _hotspots(d, rs("hotspots"))
        storms = _storms(year, rs("storms"))
        step()

        # 1. How many of each.
        shares = np.array([SOURCE_SHARES[s] for s in SOURCES])
        retry_share = RETRY_SHARE * sum(SOURCE_SHARES[s] for s in RETRY_SOURCES)
        n_dup = round(n * NEAR_DUPLICATE_SHARE)
        n_retry = round(n * retry_share)
        n_base = n - n_dup - n_retry
        counts = rs("counts").multinomial(n_base, shares / shares.sum())

        # 2. Base reports per source.
        codes = event_classes()["code"].to_numpy(object)
        parts = []
        for s, name in enumerate(SOURCES):
            rng = rs(f"source.{name}")
            k = int(counts[s])
            if name == "iot":
                parts.append(_iot(k, d, year, storms, rng))
            elif name == "ai_camera":
                parts.append(_ai_camera(k, d, year, rng))
            else:
                parts.append(_ordinary(name, k, d, hot, year, storms, rng, codes))
        base = _Rows.concat(parts)
        step()

        # 3. How the hotlines give the place; near duplicates always carry coordinates.
        rng = rs("address_only")
        address_only = np.zeros(len(base), dtype=bool)
        for name, share in _ADDRESS_ONLY.items():
            sel = base.src == SOURCES.index(name)
            address_only |= sel & (rng.random(len(base)) < share)
        end = _calendar(year)[0] * 86400
        dups = _near_duplicates(base, address_only, n_dup, d, end, rs("near_duplicates"))
        rows = _Rows.concat([base, dups])
        address_only = np.concatenate([address_only, np.zeros(len(dups), dtype=bool)])
        m = len(rows)
        step()

        # 4. Defects, on base rows that are nobody's first report.
        rng = rs("defects")
        defect = np.full(m, None, dtype=object)
        taken = np.zeros(m, dtype=bool)
        taken[dups.orig] = True
        taken[len(base) :] = True
        n_def = round(n * DEFECT_SHARE)
        device = np.isin(rows.src, [SOURCES.index("iot"), SOURCES.index("ai_camera")])
        for kind in DEFECT_KINDS:
            pool = ~taken
            if kind == "out_of_range":  # needs coordinates to break
                pool &= ~address_only
            elif kind == "missing_location":  # a device id would still place it
                pool &= ~device
            pool_idx = np.flatnonzero(pool)
            pick = rng.choice(pool_idx, size=min(n_def, len(pool_idx)), replace=False)
            defect[pick] = kind
            taken[pick] = True
        missing = defect == "missing_location"

        # 5. Where, in which CRS, which building; text.
        b = _nearest_building(d, rows.x, rows.y)
        inside = shapely.contains_xy(d.outline_m, rows.x, rows.y)
        rng = rs("crs")
        crs = np.full(m, "wgs84", dtype=object)
        for name, c in _COORD_CRS.items():
            crs[rows.src == SOURCES.index(name)] = c
        app = np.flatnonzero(rows.src == SOURCES.index("resident_app"))
        crs[app] = np.where(rng.random(len(app)) < _APP_BD09, "bd09", "gcj02")
        has_coords = ~address_only & ~missing
        crs[~has_coords] = None
        lon_w, lat_w = d.projector.to_lonlat(rows.x, rows.y)
        lon = np.full(m, np.nan)
        lat = np.full(m, np.nan)
        for c in ("wgs84", "gcj02", "bd09"):
            sel = crs == c
            lon[sel], lat[sel] = from_wgs84(lon_w[sel], lat_w[sel], c)
        lon, lat = np.round(lon, 6), np.round(lat, 6)

        with_addr = address_only.copy()
        for name in ("12345", "110", "12315"):
            with_addr |= (rows.src == SOURCES.index(name)) & inside
        for name, share in _ADDRESS_WITH_COORDS.items():
            sel = (rows.src == SOURCES.index(name)) & inside
            with_addr |= sel & (rng.random(m) < share)
        with_addr &= ~missing
        address = np.where(with_addr, d.bld["address"].to_numpy(object)[b], None)
        building_id = np.where(
            address_only & ~missing, d.bld["building_id"].to_numpy(object)[b], None
        )
        step()

        rng = rs("text")
        place = _places(d, b, rng)
        place[missing] = ""
        body = _bodies(rows.cat, place, rows.storm, rng)
        description = body.copy()
        fault = rows.comp >= 0
        for name, (pre, post) in _WRAP.items():
            sel = np.flatnonzero(rows.src == SOURCES.index(name))
            a = _choose(pre, rng.random(len(sel)))
            z = np.array(_choose(post, rng.random(len(sel))), dtype=object)
            zf = _choose(_FAULT_ENDINGS.get(name, post), rng.random(len(sel)))
            z = np.where(fault[sel], zf, z)
            description[sel] = [f"{x}{y}{w}" for x, y, w in zip(a, body[sel], z, strict=True)]
        devices = np.flatnonzero(
            np.isin(rows.src, [SOURCES.index("iot"), SOURCES.index("ai_camera")])
        )
        classes = event_classes()
        ev_name = dict(zip(classes["code"], classes["name"], strict=True))
        what = np.array([ev_name.get(c, "") for c in rows.cat], dtype=object)
        dev_text, dev_urgent = _device_texts(rows, devices, place, what, rng)
        description[devices] = dev_text
        step()

        # 6. Priority, people, attachments, ids.
        rng = rs("priority")
        names_by_code = dict(zip(classes["code"], classes["name"], strict=True))
        p_urgent = np.array(
            [
                _URGENT_SAFETY
                if c in _SAFETY_CODES or _SAFETY.search(names_by_code.get(c, ""))
                else _URGENT_BASE
                for c in rows.cat
            ]
        )
        p_urgent = np.where(rows.src == SOURCES.index("110"), 2 * p_urgent, p_urgent)
        p_urgent = np.where(rows.storm, np.maximum(p_urgent, 0.25), p_urgent)
        p_urgent[devices] = 0.002
        urgent = rng.random(m) < p_urgent
        urgent[devices] |= dev_urgent
        priority = np.where(urgent, "urgent", "normal").astype(object)

        rng = rs("people")
        reporter_id = np.full(m, None, dtype=object)
        reporter_name = np.full(m, None, dtype=object)
        phone = np.full(m, None, dtype=object)
        for name, anon in (("12345", 0.15), ("110", 0.05), ("12315", 0.1), ("resident_app", 0)):
            sel = np.flatnonzero(rows.src == SOURCES.index(name))
            reporter_name[sel] = _callers(rng, len(sel), anon)
            phone[sel] = _phones(rng, len(sel))
        gm = np.flatnonzero(rows.src == SOURCES.index("grid_member"))
        grid = d.bld["grid_code"].to_numpy(object)[b[gm]]
        start = np.array([d.staff_start.get(g, 0) for g in grid], dtype=np.int64)
        cnt = np.array([d.staff_count.get(g, 0) for g in grid], dtype=np.int64)
        has = cnt > 0
        member = start + (rng.random(len(gm)) * np.maximum(cnt, 1)).astype(np.int64)
        reporter_id[gm[has]] = d.staff_id[member[has]]
        reporter_name[gm[has]] = d.staff_name[member[has]]
        pt = np.flatnonzero(rows.src == SOURCES.index("patrol"))
        streets = sorted(set(d.bld["street_code"]))
        team_ids = np.array([f"ZF{s}{k + 1:02d}" for s in streets for k in range(8)], object)
        team_names = _people(rs("patrol_team"), len(team_ids))
        street_of = d.bld["street_code"].to_numpy(object)[b[pt]]
        si = np.searchsorted(np.array(streets, dtype=object), street_of)
        member = si * 8 + rng.integers(0, 8, len(pt))
        reporter_id[pt] = team_ids[member]
        reporter_name[pt] = team_names[member]
        photos = _photo_lists(rs("photos"), rows.src, rows.t, year)
        external_id = _external_ids(rows, year, rs("ids"))
        step()

        # 7. Apply defects, add re-sends, order by time.
        rng = rs("defects.apply")
        category = rows.cat.copy()
        component_id = np.where(
            rows.comp >= 0, d.cmp["component_id"].to_numpy(object)[np.maximum(rows.comp, 0)], None
        )
        bad = np.flatnonzero(defect == "unknown_category")
        category[bad] = np.array(UNKNOWN_CODES, dtype=object)[
            rng.integers(0, len(UNKNOWN_CODES), len(bad))
        ]
        component_id[bad] = None
        oor = np.flatnonzero(defect == "out_of_range")
        how = rng.integers(0, 3, len(oor))
        swap = oor[how == 0]
        lon[swap], lat[swap] = lat[swap].copy(), lon[swap].copy()
        lat[oor[how == 1]] = np.round(95.0 + rng.random(int((how == 1).sum())), 6)
        lon[oor[how == 2]] = np.round(200.0 + rng.random(int((how == 2).sum())), 6)
        lon[missing], lat[missing] = np.nan, np.nan
        component_id[missing] = None
        near = np.where(rows.orig >= 0, external_id[np.maximum(rows.orig, 0)], None)

        lo_hi = np.array([_RECEIVE_DELAY_S[s] for s in SOURCES])[rows.src]
        delay = np.exp(rng.uniform(np.log(lo_hi[:, 0]), np.log(lo_hi[:, 1])))
        t_ms = rows.t * 1000
        recv_ms = t_ms + np.round(delay * 1000).astype(np.int64)

        cols: dict[str, np.ndarray] = {
            "source": np.array(SOURCES, dtype=object)[rows.src],
            "external_id": external_id,
            "reported_at": t_ms,
            "received_at": recv_ms,
            "category_code": category,
            "description": description,
            "lon": lon,
            "lat": lat,
            "crs": crs,
            "address": address,
            "building_id": building_id,
            "component_id": component_id,
            "device_id": rows.dev,
            "priority": priority,
            "reporter_id": reporter_id,
            "reporter_name": reporter_name,
            "reporter_phone": phone,
            "photos": photos,
            "near_duplicate_of": near,
            "defect": defect,
        }
        pool = np.flatnonzero(np.isin(rows.src, [SOURCES.index(s) for s in RETRY_SOURCES]))
        pool = pool[pd.isna(defect[pool])]
        again = np.sort(rng.choice(pool, size=min(n_retry, len(pool)), replace=False))
        late = np.exp(rng.uniform(np.log(5.0), np.log(1800.0), len(again)))
        extra = {c: v[again].copy() for c, v in cols.items()}
        extra["received_at"] = extra["received_at"] + np.round(late * 1000).astype(np.int64)
        extra["defect"][:] = RETRY
        cols = {c: np.concatenate([v, extra[c]]) for c, v in cols.items()}
        src_rank = np.concatenate([rows.src, rows.src[again]])
        order = np.lexsort(
            (cols["external_id"].astype(str), src_rank, cols["received_at"], cols["reported_at"])
        )
        df = _frame({c: v[order] for c, v in cols.items()}, year)
        step()
    return df


def _frame(cols: dict[str, np.ndarray], year: int) -> pd.DataFrame:
    """Typed columns: text as ``str`` (missing = NaN), lon/lat float64, times tz-aware."""
    start = pd.Timestamp(year=year, month=1, day=1)
    data: dict[str, pd.Series] = {}
    for c in COLUMNS:
        v = cols[c]
        if c in _FLOAT_COLUMNS:
            data[c] = pd.Series(v, dtype="float64")
        elif c in _TIME_COLUMNS:
            local = start + pd.to_timedelta(v, unit="ms")
            data[c] = pd.Series(local.tz_localize(TIMEZONE)).astype(TIME_DTYPE)
        else:
            data[c] = pd.Series(v, dtype="str")
    return pd.DataFrame(data)


def write_events(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the events as Parquet: same frame in, same bytes out (fixed row groups,
    zstd, no index, statistics; the only metadata is the schema and pyarrow's version)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", row_group_size=65_536, write_statistics=True)
    return path


def read_events(path: str | Path) -> pd.DataFrame:
    """Read a file written by ``write_events`` back into the same dtypes."""
    return pd.read_parquet(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gis_core.sample_data.events",
        description="Generate a seeded year of reported events for the sample district.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output Parquet file")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="number of records")
    parser.add_argument("--year", type=int, default=2025, help="calendar year")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--sample-dir", type=Path, default=SAMPLE_DIR, help="sample district")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be positive")
    start = time.perf_counter()
    df = generate_events(
        args.sample_dir, n=args.n, year=args.year, seed=args.seed, progress=not args.quiet
    )
    write_events(df, args.out)
    print(f"wrote {args.out}: {len(df)} events in {time.perf_counter() - start:.1f} s")
    return 0


__all__ = [
    "COLUMNS",
    "DEFECT_KINDS",
    "SOURCES",
    "generate_events",
    "read_events",
    "write_events",
]

if __name__ == "__main__":
    sys.exit(main())
