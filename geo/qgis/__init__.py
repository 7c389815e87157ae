"""geo inside QGIS: a Processing provider (``GeoProvider``, id ``geo``) with four algorithms.

* ``geo:borderzones`` - the border-zone analysis of a polygon layer (``geo analyze``);
* ``geo:sitecheck`` - points with their band, province, distance to the frontier and hazards nearby
  (``geo where``);
* ``geo:distancecurve`` - contamination within 0..N km of the frontier (``geo curve``);
* ``geo:scenario`` - completion years under access rules and capacities (``geo scenario``).

This wing sits beside the command line: ``import geo`` never imports it, and it imports QGIS only
when ``GeoProvider`` (or a module below) is asked for, so ``import geo.qgis`` works without QGIS.
The plugin folder QGIS loads is ``geo/qgis/plugin`` (``geo qgis-install`` copies it into a QGIS
profile).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "GeoProvider":
        from geo.qgis.provider import GeoProvider

        return GeoProvider
    raise AttributeError(f"module 'geo.qgis' has no attribute {name!r}")


__all__ = ["GeoProvider"]
