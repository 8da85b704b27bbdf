"""Write the four files of the units stage for a generated district."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gis_core.spatial.crs import Projector
from gis_core.storage.columns import MEMBER_COLUMNS, RULE_COLUMNS, UNIT_COLUMNS

from ..config import DistrictSpec, get_spec, stream
from ..writer import write_collection
from .layers import duty_layers
from .rules import build_rules
from .source import Sample
from .staff import build_members, build_units
from .tables import LAYER_PROPERTIES


def _write_csv(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> int:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return len(rows)


def write(
    out_dir: Path,
    spec: DistrictSpec | str,
    seed: int,
    *,
    src_dir: Path | None = None,
) -> dict[str, int]:
    """Write units.csv, members.csv, duty_layers.geojson and rules.csv into ``out_dir``.

    The district's layer files are read from ``src_dir`` (default ``out_dir``). Returns
    the rows written per file.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = Sample.read(Path(src_dir) if src_dir is not None else out)
    projector = Projector.for_lon(sample.district.geom.centroid.x)
    units, staffed = build_units(spec, sample, stream(seed, "units.phones"))
    members = build_members(staffed, sample, stream(seed, "units.members"))
    layers, layer_communities = duty_layers(spec, sample, projector, seed)
    rules = build_rules(spec, sample, layer_communities, stream(seed, "units.rules"))
    counts = {
        "units": _write_csv(out / "units.csv", UNIT_COLUMNS, units),
        "members": _write_csv(out / "members.csv", MEMBER_COLUMNS, members),
        "duty_layers": write_collection(
            out / "duty_layers.geojson", layers, LAYER_PROPERTIES, "layer_id", "duty_layers"
        ),
        "rules": _write_csv(out / "rules.csv", RULE_COLUMNS, rules),
    }
    return counts
