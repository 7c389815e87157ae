"""The estimate: how much contamination lies in each border band, per province.

:func:`analyze` is the one implementation behind the CLI, the Python API and
every export: it fits the provinces to the national outline, builds the
bands, splits every hazard exactly by province and band, and counts land
once where hazards overlap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd

from geo._errors import GeoInputError
from geo._pieces import AnalysedHazards, hazard_table
from geo._plan import Curves, RunPlan, plan_run
from geo._result import AnalysisResult
from geo.boundaries import Boundaries
from geo.constants import DEFAULT_BANDS_KM, FRONTIER_TOLERANCE_M, OUTSIDE
from geo.summary import is_synthetic

log = logging.getLogger("geo")


def analyze(
    hazards: gpd.GeoDataFrame,
    boundaries: Boundaries | None = None,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
    frontier_tolerance_m: float = FRONTIER_TOLERANCE_M,
) -> AnalysisResult:
    """Split hazards by province and border band and total them.

    Parameters
    ----------
    hazards : GeoDataFrame
        Hazard polygons (any CRS), e.g. from :func:`geo.read_hazards`; a
        ``hazard_id`` column is used when present.
    boundaries : Boundaries, optional
        Provinces, national outline and frontier lines with their provenance:
        :meth:`Boundaries.bundled` (the default), :meth:`Boundaries.from_files`
        or :meth:`Boundaries.from_frames`.
    bands_km : sequence of float
        Band edges, km.  ``within_2km_km2`` and ``within_7km_km2`` are
        computed whatever the edges.
    neighbor : str, list of str or None
        Neighbours whose frontier is used: an ISO3 code (``"THA"``), several
        (``"THA,LAO"`` or a list) or ``"all"``.  Default: ``THA`` when the frontier
        layer has a Thai line (the bundled one does), else every line of the layer.
        With more than one, ``by_province`` and ``summary["by_neighbor"]`` add
        each frontier's own figures.
    frontier_tolerance_m : float
        Positional uncertainty of the frontier, m; every zone figure gets a
        low/central/high range (``summary["uncertainty"]``).  Default 500 m, the
        median distance between the OpenStreetMap and GSHHG lines of the Thai frontier.

    Returns
    -------
    AnalysisResult
        Areas in km2 (``*_km2``) and m2 (``area_m2``), measured in the
        equal-area analysis CRS.  Zone figures are areas of the union of
        hazards (land counted once); ``area_sum_km2`` adds polygon areas.

    Examples
    --------
    >>> import geo
    >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
    >>> round(res.summary["area_sum_km2"], 6)
    435.064085
    """
    if hazards.crs is None:
        raise GeoInputError("hazard layer has no CRS")
    plan = plan_run(boundaries, bands_km=bands_km, neighbor=neighbor, frontier_tolerance_m=frontier_tolerance_m)
    log.info(
        "splitting %s hazards by province and band (%s km)",
        f"{len(hazards):,}",
        ", ".join(f"{e:g}" for e in plan.edges),
    )
    hz = AnalysedHazards.prepare(hazards)
    pieces, land_pieces = plan.pieces(hz)
    by_hazard = hazard_table(pieces, hz, plan.territory.provinces, plan.zones)
    return plan.finish(
        hz,
        pieces=pieces,
        land_pieces=land_pieces,
        by_hazard=by_hazard,
        curves=plan.curves(land_pieces),
        checks=hazards.attrs.get("validation"),
        source=hazards.attrs.get("source"),
        synthetic=is_synthetic(hazards),
    )


__all__ = ["OUTSIDE", "AnalysisResult", "Curves", "RunPlan", "analyze", "plan_run"]
