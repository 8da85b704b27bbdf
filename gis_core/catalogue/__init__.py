"""The matter catalogue (事项清单): per event class (and optionally per area) the body
responsible at each stage, the time limit per stage, the closure standard, whether
co-handling units are required, and public/private visibility.

Versioned like boundaries: saving writes a new immutable version; a case pins the version
current when it started, so an edit applies to new cases only. ``entries`` defines an
entry and its checks, ``files`` reads and writes CSV/XLSX, ``versions`` keeps them in the
store, ``sample`` generates the sample district's Baohe-shaped catalogue.
"""

from __future__ import annotations

from gis_core.catalogue.entries import COLUMNS, CatalogueError, Entry, parse_entries
from gis_core.catalogue.versions import Catalogue

__all__ = ["COLUMNS", "Catalogue", "CatalogueError", "Entry", "parse_entries"]
