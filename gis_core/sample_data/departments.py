"""Competent departments, owners and maintainers of city components, with code-shaped IDs.

The attribute table asks for an 18-character 统一社会信用代码 (GB 32100) per department. The
codes here are synthetic but well formed (registry 1 = 机构编制, type 1 = 机关, the
district's admin code, a GB 11714 organisation code with its check character, and the
GB 32100 check character), derived from a hash of the name so they are stable across runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from gis_core.standards.codes import ADMIN_CODE_LENGTHS

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc(name: str, admin_code: str) -> str:
    """A deterministic, check-digit-correct unified social credit code for a name."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    body = f"{int(digest[:12], 16) % 10**8:08d}"
    c9 = 11 - sum(int(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    org = body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))
    head = "11" + admin_code[: ADMIN_CODE_LENGTHS["district"]] + org
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(head, _USCC_WEIGHTS, strict=True))
    return head + _USCC_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True)
class Responsibility:
    department: str
    owner: str
    maintainer: str


# (keywords in the class name, competent department, owner, maintainer); first match wins.
# "{d}" is the district name, "{c}" the city name.
_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("公安井盖|监控电子眼|治安岗亭|紧急报警|公安指示", "{d}公安分局", "{d}公安分局", "{d}公安分局"),
    (
        "交通信号|交通岗亭|交通护栏|防撞桶|柔性隔离|人行横道桩|交通反视镜|减速带|限高架",
        "{d}公安分局交警大队",
        "{d}公安分局交警大队",
        "{c}交通设施养护公司",
    ),
    ("环保监测|污水口监测|污水监测|噪声", "{d}生态环境分局", "{d}生态环境分局", "{d}生态环境分局"),
    ("污水|雨水|化粪池|排水|雨污|防汛|泵站", "{d}城乡建设局", "{d}排水管理所", "{d}排水管理所"),
    ("供水|^水井$|水鹤|中水", "{d}城乡建设局", "{c}供水集团", "{c}供水集团"),
    ("电力|电缆|变压器|高压线|路灯配电|信号灯电源", "{d}城乡建设局", "{c}供电公司", "{c}供电公司"),
    ("通信|电视|网络|基站|电话亭", "{d}城乡建设局", "{c}通信运营公司", "{c}通信运营公司"),
    ("燃气|输油", "{d}城乡建设局", "{c}燃气集团", "{c}燃气集团"),
    ("热力|供热", "{d}城乡建设局", "{c}热力公司", "{c}热力公司"),
    ("路灯|地灯|景观灯", "{d}城乡建设局", "{d}城乡建设局", "{d}路灯管理所"),
    ("公交", "{d}交通运输局", "{c}公交集团", "{c}公交集团"),
    ("气象", "{d}气象局", "{d}气象局", "{d}气象局"),
    ("户外广告|牌匾", "{d}城市管理局", "设置单位", "设置单位"),
    ("加油", "{d}商务局", "经营单位", "经营单位"),
    ("文物", "{d}文化和旅游局", "{d}文化和旅游局", "{d}文物管理所"),
    ("公房", "{d}住房和城乡建设局", "{d}房产管理所", "{d}房产管理所"),
)
_BY_MAJOR = {
    "01": ("{d}城乡建设局", "{d}市政工程养护中心"),
    "02": ("{d}交通运输局", "{d}交通设施养护站"),
    "03": ("{d}城市管理局", "{d}环卫服务中心"),
    "04": ("{d}林业和园林局", "{d}园林养护中心"),
    "05": ("{d}城市管理局", "{d}城市管理局"),
}


def responsibility(major_code: str, class_name: str, district: str, city: str) -> Responsibility:
    """Who is in charge of a component class, who owns and who maintains it."""
    rule = next((r for r in _RULES if re.search(r[0], class_name)), None)
    if rule is None:
        dept, maint = _BY_MAJOR[major_code]
        owner = dept
    else:
        _, dept, owner, maint = rule
    fill = {"d": district, "c": city.removesuffix("市")}
    return Responsibility(dept.format(**fill), owner.format(**fill), maint.format(**fill))
