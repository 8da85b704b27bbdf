"""Who is responsible for what in the sample district: units, members, duty layers, rules.

Dispatch in the seed systems goes "by the location of the event and the duty of the unit":
the point's grid says where, the event class says what, and a rule table says who. This
module writes that table and everything it points at, for a district already generated:

- ``units.csv``: the responsible units (责任单位) as a command tree: the district command
  centre (the queue for events outside coverage or without a matching rule), district
  bureaus and the component-owning utilities, street offices (sub-centres) with a 城管中队
  each, community offices (stations), and one grid team per grid, named like the grid's
  ``unit_name``;
- ``members.csv``: their members (坐席员, 派遣员, 核查员, 处置人员; the grid teams' 网格长 /
  专职网格员 / 兼职网格员 are the grids' ``staff``), phone numbers masked;
- ``duty_layers.geojson``: areas a bureau owns that override the grid's owner (main roads
  along long straight street/community edges, rivers along the meandering street edges,
  parks in open ground, markets around 农贸市场 buildings);
- ``rules.csv``: category x area (x layer kind x priority) -> unit, with a time limit.

The precedence model the rules are written for (README of ``data/sample_grids``): a rule
for a responsibility layer the point lies in beats every area rule; then a 5-digit class
beats a 2-digit major beats any category; then a longer area code beats a shorter one;
then a rule for the event's priority beats one for any priority; then the higher
``precedence``; nothing matching means the district centre's queue.

Everything is read back from the layer files in the directory (not from the generator's
objects), so rebuilding from the committed layers gives the committed bytes, and every
random choice comes from ``config.stream(seed, "units.<stage>")``.

The package, by job: ``tables`` (data), ``source`` (the layers read back), ``staff``
(units and members), ``lines`` and ``areas`` (what the duty layers are cut from),
``layers``, ``rules``, and ``build`` (``write``, the files).
"""

from __future__ import annotations

from gis_core.storage.columns import MEMBER_COLUMNS, RULE_COLUMNS, UNIT_COLUMNS

from .build import write
from .tables import (
    LAYER_KINDS,
    LAYER_OWNERS,
    LAYER_PRECEDENCE,
    LAYER_PROPERTIES,
)

__all__ = [
    "LAYER_KINDS",
    "LAYER_OWNERS",
    "LAYER_PRECEDENCE",
    "LAYER_PROPERTIES",
    "MEMBER_COLUMNS",
    "RULE_COLUMNS",
    "UNIT_COLUMNS",
    "write",
]
