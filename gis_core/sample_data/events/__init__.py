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

The package, by job: ``tables`` and ``phrases`` hold the data; ``district`` reads the
sample layers; ``places``, ``rhythm`` and ``sources`` make the base reports;
``defects`` the ground truth; ``text`` and ``reporters`` the payload; ``generator`` runs
the stages and writes Parquet. ``gridgov sample-events`` is its command line.
"""

from __future__ import annotations

from .generator import generate_events, read_events, write_events
from .tables import COLUMNS, DEFAULT_N, DEFAULT_SEED, DEFECT_KINDS, SOURCES, TIMEZONE

__all__ = [
    "COLUMNS",
    "DEFAULT_N",
    "DEFAULT_SEED",
    "DEFECT_KINDS",
    "SOURCES",
    "TIMEZONE",
    "generate_events",
    "read_events",
    "write_events",
]
