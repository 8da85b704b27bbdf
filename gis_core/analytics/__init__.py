"""Statistics over events for analysts: counts, density, hot spots, emerging hot spots,
recurrent problems and city vital signs (城市体征).

One statistic per module, esda-style; every function takes an events frame (see
:mod:`gis_core.analytics.frame`) and answers a dataclass whose ``params`` echo every
default used. Modules: ``frame`` (columns, filters), ``units`` (grids, communities,
streets, H3 and square cells, and their contiguity), ``aggregate``, ``density``,
``hotspots`` (Getis-Ord Gi* with esda, FDR, Esri bins), ``trend`` (Mann-Kendall),
``emerging`` (space-time Gi* + trend, Esri categories), ``recurrent`` (space-time
clusters of one class), ``source`` (events from the store or a file), ``maps`` (folium
maps with the shipped Leaflet assets), ``dask_engine`` (the same counts on Dask).
"""

from gis_core.analytics.aggregate import AggregateResult, aggregate
from gis_core.analytics.density import DensityResult, density
from gis_core.analytics.emerging import EmergingResult, emerging_hotspots
from gis_core.analytics.frame import Filters, prepare_events
from gis_core.analytics.hotspots import HotspotResult, hotspots
from gis_core.analytics.recurrent import RecurrentResult, recurrent
from gis_core.analytics.units import UnitSet, unit_set

__all__ = [
    "AggregateResult",
    "DensityResult",
    "EmergingResult",
    "Filters",
    "HotspotResult",
    "RecurrentResult",
    "UnitSet",
    "aggregate",
    "density",
    "emerging_hotspots",
    "hotspots",
    "prepare_events",
    "recurrent",
    "unit_set",
]
