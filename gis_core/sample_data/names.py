"""Plausible Chinese names for generated places, roads, compounds and people.

Names are combinations of common place-name morphemes, drawn from seeded streams, and
kept unique where a real system would need them unique (communities within a district).
Regional suffixes differ: 郢/圩/冲/岗 are typical of the Jianghuai area around Hefei,
溇/埭/畈/坞 of the Jiangnan water towns around Hangzhou.
"""

from __future__ import annotations

import numpy as np

_FIRST = (
    "东西南北新和安宁康福兴华祥瑞金玉明光景阳秀清荷桃柳梅兰松竹春望紫青丰长永嘉泰平"
    "天龙凤双文翠恒宏顺德仁富裕乐庆盛昌隆汇锦绣云海江湖山川田溪林泉石"
)
_SECOND = {
    "jianghuai": "湖河塘湾桥港园庄苑城山林岗圩店集营埠坊岸洲滨溪井坝墩郢冲店郢圩岗",
    "jiangnan": "湖河塘湾桥港园庄苑城山林浦埠坊岸洲滨溪井坝墩溇埭畈坞浜汇渡桥浦",
}
_ROAD_FIRST = "云山江湖华兴宁安泰和顺平康阳光明德仁文武紫青金玉长永嘉庆丰锦繁昌盛徽淮黄滨望"
_ROAD_SECOND = "云山江湖华兴宁安泰和顺平康阳光明德仁文武祥瑞景秀源泉台亭阁林桥花园门楼湾港洲"
_ROAD_SUFFIX = (
    ("路", 0.6),
    ("街", 0.18),
    ("大道", 0.1),
    ("巷", 0.07),
    ("东路", 0.025),
    ("西路", 0.025),
)
_COMPOUND_SUFFIX = (
    "花园",
    "苑",
    "家园",
    "小区",
    "新村",
    "公寓",
    "华府",
    "雅苑",
    "嘉园",
    "名邸",
    "城",
    "佳苑",
    "府",
    "湾",
)
SURNAMES = (  # common surnames, one character each
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严武戴莫孔"
)
GIVEN = (  # characters of given names
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏飞宇浩辉建国志文斌波宁婷雪琳"
    "晨阳欣怡佳琪子涵梓轩思雨海燕春梅秀云丹凤晓东俊峰家豪雅倩丽君新民德明永胜小红"
)


def _pick(rng: np.random.Generator, chars: str) -> str:
    return chars[int(rng.integers(len(chars)))]


def place_roots(rng: np.random.Generator, flavour: str, n: int, taken: set[str]) -> list[str]:
    """n distinct two-character place-name roots, none of them in ``taken``."""
    second = _SECOND.get(flavour, _SECOND["jianghuai"])
    pool = sorted({a + b for a in _FIRST for b in second if a != b} - taken)
    if n > len(pool):
        raise ValueError(f"cannot make {n} distinct place names")
    chosen = rng.choice(len(pool), size=n, replace=False)
    out = [pool[int(i)] for i in chosen]
    taken.update(out)
    return out


def road_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """n distinct road names such as 泰和路, 锦华大道, 文昌街."""
    out: list[str] = []
    suffixes = [s for s, _ in _ROAD_SUFFIX]
    weights = np.array([w for _, w in _ROAD_SUFFIX])
    weights = weights / weights.sum()
    while len(out) < n:
        root = _pick(rng, _ROAD_FIRST) + _pick(rng, _ROAD_SECOND)
        if root[0] == root[1]:
            continue
        name = root + suffixes[int(rng.choice(len(suffixes), p=weights))]
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def compound_names(rng: np.random.Generator, n: int, root: str) -> list[str]:
    """n distinct residential compound (小区) names; the first one on the community's root.

    Compounds need not be unique across a district (real ones repeat too), so the other
    names use free two-character roots such as 锦华苑 or 泰和家园.
    """
    out: list[str] = []
    while len(out) < n:
        stem = root if not out else _pick(rng, _ROAD_FIRST) + _pick(rng, _ROAD_SECOND)
        name = stem + _COMPOUND_SUFFIX[int(rng.integers(len(_COMPOUND_SUFFIX)))]
        if stem[0] != stem[1] and name[len(stem)] != stem[-1] and name not in out:
            out.append(name)
    return out


def person_name(rng: np.random.Generator) -> str:
    """A common-looking Chinese personal name (surname + one or two characters)."""
    given = _pick(rng, GIVEN)
    if rng.random() < 0.6:
        given += _pick(rng, GIVEN)
    return _pick(rng, SURNAMES) + given
