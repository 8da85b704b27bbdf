"""Per-district settings for the sample-data generator, and the seeded random streams.

Only districts whose real outline ships in ``data/districts/`` can be generated; the
numbers below follow what the districts themselves report (see the project's seed
articles), so the synthetic hierarchy has a believable size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from gis_core import paths

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 20260701
DISTRICTS_DIR = paths.DISTRICTS_DIR


class UnknownDistrictError(KeyError, ValueError):
    """A district code with no outline and no settings in this generator (bad input, so
    also a ValueError: the command line reports it in one line)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


@dataclass(frozen=True)
class StreetAnchor:
    """A real street/town name and an approximate WGS84 point inside the real one.

    The anchors only decide which synthetic piece gets which real name, so that the
    names sit roughly where they are on a real map; the boundaries stay synthetic.
    """

    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    city: str
    province: str
    streets: int
    communities: int
    grids: int
    grids_per_community: tuple[int, int]
    """Lower and upper bound of grids in one community (before enclave grids)."""
    centre: tuple[float, float]
    """WGS84 point of the urban core: grids are denser near it, like in a real city."""
    density_scale_m: float
    street_anchors: tuple[StreetAnchor, ...] = ()
    rivers: int = 2
    enclaves: int = 4
    exclaves: int = 2
    flavour: str = "jianghuai"
    """Place-name flavour for generated names: 'jianghuai' (Anhui) or 'jiangnan' (Zhejiang)."""
    urban_streets: int = 0
    """For generated street names: how many pieces nearest the centre are 街道 (rest 镇)."""
    extra: dict[str, str] = field(default_factory=dict)


_BAOHE_STREETS = (
    StreetAnchor("芜湖路街道", 117.292, 31.852),
    StreetAnchor("包公街道", 117.303, 31.838),
    StreetAnchor("同安街道", 117.318, 31.848),
    StreetAnchor("常青街道", 117.330, 31.828),
    StreetAnchor("烟墩街道", 117.268, 31.822),
    StreetAnchor("望湖街道", 117.283, 31.803),
    StreetAnchor("骆岗街道", 117.306, 31.800),
    StreetAnchor("万年埠街道", 117.345, 31.808),
    StreetAnchor("淝河镇", 117.372, 31.790),
    StreetAnchor("方兴社区", 117.300, 31.772),
    StreetAnchor("滨湖世纪社区", 117.282, 31.748),
    StreetAnchor("义城街道", 117.330, 31.718),
    StreetAnchor("大圩镇", 117.405, 31.770),
)

DISTRICTS: dict[str, DistrictSpec] = {
    "340111": DistrictSpec(
        code="340111",
        name="包河区",
        city="合肥市",
        province="安徽省",
        streets=13,
        communities=100,
        grids=434,
        grids_per_community=(2, 8),
        centre=(117.283, 31.862),
        density_scale_m=7000.0,
        street_anchors=_BAOHE_STREETS,
        rivers=2,
        enclaves=4,
        exclaves=2,
        flavour="jianghuai",
    ),
    "330109": DistrictSpec(
        code="330109",
        name="萧山区",
        city="杭州市",
        province="浙江省",
        streets=26,
        communities=559,
        grids=10100,
        grids_per_community=(8, 32),
        centre=(120.264, 30.180),
        density_scale_m=9000.0,
        rivers=3,
        enclaves=40,
        exclaves=8,
        flavour="jiangnan",
        urban_streets=10,
    ),
}


def get_spec(code: str) -> DistrictSpec:
    """The settings of a supported district, or a clear error naming the supported ones."""
    spec = DISTRICTS.get(str(code).strip())
    if spec is None or not (DISTRICTS_DIR / f"{spec.code}.geojson").exists():
        known = ", ".join(f"{c} ({s.name})" for c, s in sorted(DISTRICTS.items()))
        raise UnknownDistrictError(
            f"unknown district code {code!r}: sample data can be generated for {known}"
        )
    return spec


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per job, so changing one stage never reshuffles another."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])
