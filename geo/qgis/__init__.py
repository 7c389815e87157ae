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


def start_headless(gui: bool = False, prefix: str = "/usr") -> tuple[Any, Any]:
    """Start QGIS in this process for scripts and tests, with Processing and geo's provider registered.

    Set ``QT_QPA_PLATFORM=offscreen`` first where there is no display.

    Parameters
    ----------
    gui : bool
        Whether widgets may be made (a picture of the toolbox); False for algorithms only.
    prefix : str
        Where QGIS is installed (Debian: ``/usr``).

    Returns
    -------
    (QgsApplication, GeoProvider)
        Keep the application referenced while QGIS is used.
    """
    from qgis.core import QgsApplication

    QgsApplication.setPrefixPath(prefix, True)
    app = QgsApplication([], gui)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from geo.qgis.provider import GeoProvider

    provider = GeoProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    return app, provider


def __getattr__(name: str) -> Any:
    if name == "GeoProvider":
        from geo.qgis.provider import GeoProvider

        return GeoProvider
    raise AttributeError(f"module 'geo.qgis' has no attribute {name!r}")


__all__ = ["GeoProvider", "start_headless"]
