"""geo: how much mine contamination lies in Cambodia's border zones.

The pipeline runs one way: read -> zones -> overlay and summary -> export.
The public API is what this module lists:

Reading
    :func:`read_hazards` -- a hazard layer (GeoPackage, Shapefile, GeoJSON,
    GeoParquet, CSV, File Geodatabase), checked and repaired, in WGS 84.
    :class:`Boundaries` -- provinces, outline and frontier lines with their
    provenance (``Boundaries.bundled()``, ``.from_files(...)``, ``.from_frames(...)``);
    :func:`load_boundaries` is ``Boundaries.bundled()`` or ``from_files`` by keyword.
    :func:`province_code` -- the code of a province from any of its spellings.
    :data:`DEMO_HAZARDS` -- the bundled SYNTHETIC demo layer.
Zones and analysis
    :func:`border_zones` -- the bands along a frontier, Cambodian side, as polygons.
    :func:`analyze` -- split hazards by province and band; returns an
    :class:`AnalysisResult` whose methods answer questions: ``where``, ``query``,
    ``within``, ``curve`` and ``access``.
Questions without a result in hand
    :func:`where`, :func:`query`, :func:`distance_curve` -- the same answers as the
    result's methods; given no result they analyse the bundled demo, and say so.
Land release and scenarios
    :func:`read_release`, :func:`release_by_band`, :func:`load_rules`,
    :func:`load_capacity`, :func:`scenario`.
Maps
    :func:`make_map`, :func:`write_map` -- the interactive HTML map (folium, offline).
Errors
    :class:`GeoError`, :class:`GeoInputError` -- bad input named by file, row and problem.
"""

from __future__ import annotations

from geo._data import DEMO_HAZARDS
from geo._errors import GeoError, GeoInputError
from geo._version import geo_version
from geo.analysis import AnalysisResult, analyze
from geo.boundaries import Boundaries, load_boundaries, province_code
from geo.hazards import read_hazards
from geo.queries import distance_curve, query, where
from geo.release import read_release, release_by_band
from geo.rules import load_capacity, load_rules
from geo.scenario import scenario
from geo.zones import border_zones

__version__ = geo_version()


def __getattr__(name: str):
    # The map makers load folium only when asked for (it is slow to import).
    if name in ("make_map", "write_map"):
        from geo import webmap

        return getattr(webmap, name)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


__all__ = [
    "DEMO_HAZARDS",
    "AnalysisResult",
    "Boundaries",
    "GeoError",
    "GeoInputError",
    "__version__",
    "analyze",
    "border_zones",
    "distance_curve",
    "load_boundaries",
    "load_capacity",
    "load_rules",
    "make_map",
    "province_code",
    "query",
    "read_hazards",
    "read_release",
    "release_by_band",
    "scenario",
    "where",
    "write_map",
]
