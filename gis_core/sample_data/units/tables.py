"""The tables behind the sample units and rules (file columns come from
``gis_core.storage.columns``): the district's units,
member roles, duty-layer kinds and owners, and the routing rules by category.

Pure data; the job modules of this package turn them into rows.
"""

from __future__ import annotations

from gis_core.cases.vocab import ROLE_LABELS, Role
from gis_core.storage.columns import DUTY_LAYER_COLUMNS

LAYER_PROPERTIES = DUTY_LAYER_COLUMNS
LAYER_KINDS = ("main_road", "river", "park", "market")

# District-level units: (code suffix, name template, kind, parent suffix). "{d}" is the
# district name, "{c}" the city without 市; bureau names follow the component departments
# (departments.py), the utilities the component owners, so the names join.
DISTRICT_UNITS: tuple[tuple[str, str, str, str | None], ...] = (
    ("ZX", "{d}城市运行管理中心", "district_centre", None),
    ("CGJ", "{d}城市管理局", "bureau", "ZX"),
    ("CJJ", "{d}城乡建设局", "bureau", "ZX"),
    ("JTJ", "{d}交通运输局", "bureau", "ZX"),
    ("GAFJ", "{d}公安分局", "bureau", "ZX"),
    ("JJDD", "{d}公安分局交警大队", "bureau", "GAFJ"),
    ("LYJ", "{d}林业和园林局", "bureau", "ZX"),
    ("STHJ", "{d}生态环境分局", "bureau", "ZX"),
    ("SJJ", "{d}市场监督管理局", "bureau", "ZX"),
    ("SWJ", "{d}水务局", "bureau", "ZX"),
    ("GD", "{c}供电公司", "enterprise", "ZX"),
    ("RQ", "{c}燃气集团", "enterprise", "ZX"),
    ("TX", "{c}通信运营公司", "enterprise", "ZX"),
)
CENTRE = "ZX"
STREET_OFFICE, STREET_SQUAD, COMMUNITY_OFFICE, GRID_TEAM = "JD", "ZD", "SQ", "WG"

LAYER_OWNERS = {"main_road": "CGJ", "river": "SWJ", "park": "LYJ", "market": "SJJ"}
LAYER_PRECEDENCE = {"main_road": 10, "park": 20, "river": 30, "market": 40}
"""Only breaks ties between layer rules of equal specificity where layers overlap (a
market on a main road, a main road bridging a river); area rules keep precedence 0."""

MAIN_ROAD_WIDTH_M = (20.0, 40.0)
"""Buffer distance on each side of a main road's centre line."""
RIVER_WIDTH_M = (30.0, 50.0)
PARKS, MARKETS = 3, 4
AREA_CODES = {"合肥市": "0551", "杭州市": "0571"}

# Members' job titles are the Chinese labels of the case roles, plus the call-centre
# operator (坐席员), a title that acts in the loop as a dispatcher.
DISPATCHER = ROLE_LABELS[Role.DISPATCHER]
OPERATOR = "坐席员"
VERIFIER = ROLE_LABELS[Role.VERIFIER]
HANDLER = ROLE_LABELS[Role.HANDLER]
MEMBER_ROLES = {
    "district_centre": (OPERATOR,) * 4 + (DISPATCHER,) * 2 + (VERIFIER,) * 2,
    "bureau": (DISPATCHER, HANDLER, HANDLER),
    "enterprise": (DISPATCHER, HANDLER),
    "street_office": (OPERATOR, DISPATCHER, VERIFIER, HANDLER, HANDLER),
    "squad": (HANDLER, HANDLER, HANDLER),
    "community_office": (DISPATCHER, VERIFIER),
}

# District-wide rules: (category, unit suffix, reason). A major with no row here and no
# per-street rows (05) has no rule at all: its events go to the centre's queue.
DISTRICT_RULES: tuple[tuple[str, str, str], ...] = (
    ("01", "CJJ", "市政公用设施由城乡建设局养护"),
    ("02", "JTJ", "交通设施归交通运输局"),
    ("03", "CGJ", "市容环卫设施归城市管理局"),
    ("04", "LYJ", "园林绿化设施归林业和园林局"),
    ("08", "CJJ", "施工管理归城乡建设局"),
    (
        "01001 01002 01003 01004 01018 01019 01024 01025 01067 01068 01069 01070 01071 01072 01073",
        "SWJ",
        "供排水与防汛设施归水务局",
    ),
    ("01005 01017 01028 01029 01030 01047 01048", "GD", "权属供电公司"),
    ("01011 01021 01036 01049 01057", "RQ", "权属燃气集团"),
    ("01007 01008 01009 01027 01031 01041 01062", "TX", "权属通信运营公司"),
    ("01012 01050 01051 01066 02039", "GAFJ", "公安设施归公安分局"),
    (
        "01015 02010 02011 02014 02015 02016 02017 02018 02020 02022 02033 02043",
        "JJDD",
        "交通信号与安全设施归交警大队",
    ),
    ("03010 03011 03012 03013", "STHJ", "环境监测设施归生态环境分局"),
    ("06012 06042", "CGJ", "道路保洁与垃圾站由城市管理局环卫作业"),
    ("06013 06048 06049 06050 06051 06052", "CJJ", "市政设施破损归城乡建设局"),
    ("06016", "JJDD", "交通标线归交警大队"),
    ("06017 06018 06021 06022 06045 06047", "LYJ", "绿化管理归林业和园林局"),
    ("06015 06023 06024 06025 06046", "SWJ", "河湖管理归水务局"),
    ("06026 06027 06030 06032 06033", "STHJ", "污染防治归生态环境分局"),
    ("07003 07006", "CGJ", "户外广告与牌匾设置归城市管理局"),
    ("07004", "SJJ", "广告内容监管归市场监督管理局"),
    ("08011 08012 08016", "CGJ", "违法建设与渣土运输归城市管理局执法"),
    ("09009 09014 09018", "JJDD", "道路交通秩序归交警大队"),
    ("09015 09020", "SJJ", "食品与市场经营归市场监督管理局（12315）"),
    ("10001", "CGJ", "道路除雪防冻归城市管理局"),
    ("10002", "TX", "架空线缆多为通信线缆"),
)

# Per street (area = street code): (category, unit kind in the street, reason, towns too).
STREET_RULES: tuple[tuple[str, str, str, bool], ...] = (
    ("06", STREET_OFFICE, "市容环境属地管理", True),
    ("06001", STREET_OFFICE, "违法搭建由街道拆违", True),
    ("06010", STREET_OFFICE, "暴露垃圾由街道清运", True),
    ("07", STREET_OFFICE, "宣传广告属地清理", False),
    ("09", STREET_OFFICE, "街面秩序属地管理", True),
    ("09006", STREET_SQUAD, "占道经营由街道城管中队执法", True),
)

# Layer rules: kind -> (categories, reason). The unit is always the layer's owner.
LAYER_RULES: dict[str, tuple[str, str]] = {
    "main_road": (
        "06010 06012 06014 06036 07001 07002 09001 09005 09006 09021 09022",
        "主干道市容秩序由城市管理局直管",
    ),
    "river": ("06", "河道管理范围内由水务局管理"),
    "park": ("06 09001 09006", "公园内由园林部门管理"),
    "market": (
        "09001 09002 09005 09006 09015 09020 09022",
        "市场内经营秩序归市场监督管理局",
    ),
}

# Urgent events: (category, unit suffix or layer kind, working hours, reason).
URGENT_RULES: tuple[tuple[str, str, float, str], ...] = (
    ("01", "CJJ", 2.0, "井盖缺失等危及安全"),
    ("01011", "RQ", 1.0, "燃气泄漏风险"),
    ("01057", "RQ", 1.0, "燃气泄漏风险"),
    ("02014", "JJDD", 2.0, "信号灯故障影响通行"),
    ("10001", "CGJ", 2.0, "结冰路段先行处置"),
    ("10002", "TX", 2.0, "线缆垂落危及行人"),
    ("06014", "main_road", 2.0, "主干道遗撒影响通行"),
)
