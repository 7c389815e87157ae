"""geo: how much mine contamination lies in Cambodia's border zones.

The package is built in wings that follow the analysis, imports running one way:

``geo.io``
    reading every format and PostGIS, writing files, the output set, the cache.
``geo.engine``
    boundaries, border zones, the overlay and analysis, summary, curves, chunked runs.
``geo.planning``
    answers from a result: site checks and queries, land release, access rules, scenarios.
``geo.render``
    what users share: the web map, static maps and charts, rasters, tables and layers.
``geo.cli``
    the ``geo`` command; nothing imports it.

The names below are the public API; each is imported from its home on first use, so
``import geo`` (and ``geo --help``) stays light.

Reading
    :func:`read_hazards` -- a hazard layer (GeoPackage, Shapefile, GeoJSON,
    GeoParquet, CSV, File Geodatabase, PostGIS), checked and repaired, in WGS 84.
    :class:`Boundaries` -- provinces, outline and frontier lines with their
    provenance (``Boundaries.bundled()``, ``.from_files(...)``, ``.from_frames(...)``);
    :func:`load_boundaries` is ``Boundaries.bundled()`` or ``from_files`` by keyword.
    :func:`province_code` -- the code of a province from any of its spellings.
    :data:`DEMO_HAZARDS` -- the bundled SYNTHETIC demo layer.
Zones and analysis
    :func:`border_zones` -- the bands along a frontier, Cambodian side, as polygons.
    :func:`analyze` -- split hazards by province and band; returns an
    :class:`AnalysisResult` (``result.within(...)``, ``result.curve(...)``).
Questions about a result
    :func:`where`, :func:`query`, :func:`distance_curve` -- each takes the result first;
    the bundled demo is analysed only when asked for by name (``where("demo", ...)``).
Land release and scenarios
    :func:`read_release`, :func:`release_by_band`, :func:`load_rules`,
    :func:`load_capacity`, :func:`scenario`.
Maps
    :func:`make_map`, :func:`write_map` -- the interactive HTML map (folium, offline).
Errors
    :class:`GeoError`, :class:`GeoInputError` -- bad input named by file, row and problem.
"""

from __future__ import annotations

import importlib
from typing import Any

from geo._version import geo_version

__version__ = geo_version()

#: Each public name and the module that is its one home.
_HOMES = {
    "DEMO_HAZARDS": "geo.io.data",
    "GeoError": "geo.errors",
    "GeoInputError": "geo.errors",
    "province_code": "geo.names",
    "read_hazards": "geo.engine.hazards",
    "Boundaries": "geo.engine.boundaries",
    "load_boundaries": "geo.engine.boundaries",
    "border_zones": "geo.engine.zones",
    "AnalysisResult": "geo.engine.analysis",
    "analyze": "geo.engine.analysis",
    "distance_curve": "geo.engine.analysis",
    "where": "geo.planning.queries",
    "query": "geo.planning.queries",
    "read_release": "geo.planning.release",
    "release_by_band": "geo.planning.release",
    "load_rules": "geo.planning.rules",
    "load_capacity": "geo.planning.rules",
    "access_table": "geo.planning.rules",
    "scenario": "geo.planning.scenario",
    "make_map": "geo.render.webmap",
    "write_map": "geo.render.webmap",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = ["__version__", *_HOMES]
