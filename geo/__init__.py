"""geo: how much mine contamination lies in Cambodia's border zones.

The pipeline runs one way: read (:func:`read_hazards`,
:func:`load_boundaries`) -> zones (:func:`border_zones`) -> overlay and
summary (:func:`analyze`) -> export (:mod:`geo.export`).
"""

from __future__ import annotations

from geo._data import DEMO_HAZARDS
from geo._errors import GeoError, GeoInputError
from geo.analysis import AnalysisResult, analyze
from geo.boundaries import Boundaries, load_boundaries, province_code
from geo.hazards import read_hazards
from geo.queries import distance_curve, query, where
from geo.release import read_release, release_by_band
from geo.rules import load_capacity, load_rules
from geo.scenario import scenario
from geo.summary import geo_version
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
