"""The numbers behind the sample events: volumes, source habits, what is reported, when.

Pure data, read by the generator modules of this package; every share and weight the
sample year is drawn from lives here, so tuning the mix never touches the logic.
"""

from __future__ import annotations

import re

import pandas as pd

from gis_core.cases.vocab import EVENT_SOURCES

DEFAULT_SEED = 20260702
DEFAULT_N = 250_000
TIMEZONE = "Asia/Shanghai"

SOURCES = EVENT_SOURCES
"""The event sources, in ``gis_core.cases.vocab`` order (the generator draws in it)."""

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
FLOAT_COLUMNS = ("lon", "lat")
TIME_COLUMNS = ("reported_at", "received_at")
TIME_DTYPE = pd.DatetimeTZDtype("us", TIMEZONE)

BACKGROUND_SHARE = 0.28
"""Of freely placed events (not at a component, device or shop): uniform over the district."""
OUTSIDE_SHARE = 0.02
"""Of freely placed events: just outside the outline (the routing sends them to the centre)."""
N_HOTSPOTS = {"market": 12, "school": 10, "residential": 12, "hub": 6}

# --- how each source reports -------------------------------------------------------------


ADDRESS_ONLY = {"12345": 0.70, "110": 0.60, "12315": 0.85}
"""Share of records with an address (a sample building) and no coordinates."""
COORD_CRS = {"12345": "gcj02", "110": "wgs84", "12315": "gcj02"}
"""CRS of the coordinates a source sends (resident apps: GCJ-02 70 %, BD-09 30 %)."""
APP_BD09 = 0.30
ADDRESS_WITH_COORDS = {"grid_member": 0.5, "patrol": 0.5, "resident_app": 0.4}
"""Share of coordinate records that also carry a (reverse-geocoded) address."""
PHOTOS = {
    "grid_member": (0.05, 0.45, 0.35, 0.15),
    "patrol": (0.10, 0.50, 0.30, 0.10),
    "resident_app": (0.30, 0.40, 0.20, 0.10),
    "ai_camera": (0.0, 0.6, 0.4, 0.0),
}
"""Probability of 0, 1, 2, 3 photos; other sources send no attachments (null)."""
COMPONENT_SHARE = {
    "12345": 0.30,
    "110": 0.20,
    "12315": 0.08,
    "grid_member": 0.28,
    "resident_app": 0.30,
    "patrol": 0.10,
}
"""Share of component faults (majors 01-05) among a source's ordinary reports."""
STORM_SHARE = {"12345": 0.02, "110": 0.02, "resident_app": 0.02, "grid_member": 0.005, "iot": 0.15}
DUP_SOURCE = {
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
RECEIVE_DELAY_S = {
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

STREET_WEIGHTS = {
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
STREET_OTHER = 0.05
"""Weight of every street-level class not listed (rare, but present)."""
STREET_FACTORS: dict[str, dict[str, float]] = {
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
CONSUMER_WEIGHTS = {
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
CONSUMER_COMPONENTS = ("01045", "01075", "01053", "01054", "01044")
"""Consumer-facing devices 12315 hears about: vending machines, parcel lockers, kiosks."""
AI_WEIGHTS = {
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

STORM_CATEGORIES = {"01004": 40.0, "01003": 15.0, "04002": 25.0, "10002": 10.0, "06013": 10.0}
"""积水 (blocked inlets), lifted covers, fallen trees, fallen cables, collapsed road."""
STORM_INTENSITY = (1.0, 0.5, 0.35, 0.25)

COMPONENT_FACTORS: tuple[tuple[str, float], ...] = (
    ("井盖|箅子|盖板", 2.0),
    ("^路灯$", 3.0),
    ("^垃圾箱$", 1.5),
    ("^行道树$", 0.5),
    ("信号灯", 2.0),
)
COMPONENT_SOURCE_FACTORS: dict[str, tuple[tuple[str, float], ...]] = {
    "12345": (("^路灯$", 2.5), ("井盖", 1.5)),
    "110": (("井盖", 2.0), ("^交通信号灯$", 4.0)),
    "resident_app": (("^户外健身设施$", 4.0), ("^路灯$", 2.0)),
}
STATUS_WEIGHT = {"完好": 1.0, "破损": 4.0, "丢失": 4.0, "废弃": 0.5, "移除": 0.0}

# IoT device kinds: prefix, component classes they sit on, event class (None: the class's
# own fault), share of ordinary alarms, share of storm alarms, devices installed.
IOT_KINDS = (
    ("WL", ("01004",), None, 0.10, 0.70, 400),  # water level at a rain inlet: 积水
    ("MC", ("01001", "01002", "01003", "01005", "01007", "01011"), None, 0.35, 0.30, 300),
    ("SL", ("01037",), None, 0.30, 0.0, 200),  # smart street-lamp controller
    ("GB", ("03005",), "06042", 0.25, 0.0, 150),  # bin fill sensor: 垃圾箱满溢
)
CAMERA_CLASS = "01050"
REPEAT_S = 7200
AI_BURSTS = 80
AI_BURST_SHARE = 0.4

# --- when ----------------------------------------------------------------------------------

HOURS = {
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
SOURCE_HOURS = {
    "12345": "hotline",
    "110": "police",
    "12315": "consumer",
    "grid_member": "office",
    "resident_app": "app",
    "iot": "sensor",
    "ai_camera": "camera",
    "patrol": "office",
}
NIGHT_CATEGORIES = frozenset({"06028", "06029", "08001"})
NIGHT_SOURCES = frozenset({"12345", "110", "resident_app"})
WEEKLY = {
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
HOLIDAY_FACTOR = {
    "12345": 0.85,
    "110": 1.0,
    "12315": 0.3,
    "grid_member": 0.4,
    "resident_app": 0.85,
    "iot": 1.0,
    "ai_camera": 0.9,
    "patrol": 0.45,
}
HOLIDAYS = {
    2025: (
        ("01-01", "01-01"),
        ("01-28", "02-04"),
        ("04-04", "04-06"),
        ("05-01", "05-05"),
        ("05-31", "06-02"),
        ("10-01", "10-08"),
    )
}
WORKING_WEEKENDS = {2025: ("01-26", "02-08", "04-27", "09-28", "10-11")}
"""调休: weekend days worked instead of holidays; they count as Mondays."""

SEASON = {
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


# --- where: hotspot kinds and which classes pile up at them ---------------------------------

AFFINITY = {
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
HOTSPOT_KINDS = ("market", "school", "residential", "hub")

# --- how urgent ----------------------------------------------------------------------------

URGENT_BASE = 0.01
URGENT_SAFETY = 0.10
SAFETY = re.compile("井盖|箅子|盖板|燃气|电力设施|信号灯|电梯|报警|高压")
SAFETY_CODES = frozenset({"10002", "09012", "08013", "06013", "06037", "06033"})
