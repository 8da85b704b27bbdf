"""The records the generator passes between its stages (one per street, community, grid)."""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry


@dataclass
class Street:
    code: str
    name: str
    geom: BaseGeometry
    """WGS84, rounded, exactly the union of its communities."""
    town: bool
    """A 镇 (town, mostly villages and low-rise) rather than an urban 街道."""
    roads: list[str] = field(default_factory=list)


@dataclass
class Community:
    code: str
    name: str
    geom: BaseGeometry
    street: Street
    village: bool
    """A 村 (village committee) rather than a 社区 (residents' committee)."""
    roads: list[str] = field(default_factory=list)
    compounds: list[str] = field(default_factory=list)
    root: str = ""


@dataclass
class Grid:
    code: str
    name: str
    geom: BaseGeometry
    geom_m: BaseGeometry
    """The same geometry in the district's Gauss-Krüger metres, for sizes and offsets."""
    community: Community
    kind: str
    """'block' (an ordinary grid), 'enclave' (a campus inside another grid) or 'exclave'."""
    unit_name: str = ""
    staff: str = "[]"

    @property
    def street(self) -> Street:
        return self.community.street
