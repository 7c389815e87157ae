"""The estimate: how much contamination lies in each border band, per province.

:func:`analyze` is the one implementation behind the CLI, the Python API and
every export: it fits the provinces to the national outline, builds the
bands, splits every hazard exactly by province and band, and counts land
once where hazards overlap.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import GeoInputError
from geo._pieces import AnalysedHazards, alternative_lines, attribute, hazard_table
from geo.boundaries import Boundaries, load_boundaries, neighbor_codes
from geo.constants import (
    ANALYSIS_CRS,
    DEFAULT_BANDS_KM,
    FRONTIER_TOLERANCE_M,
    MILITARY_ONLY_KM,
    OUTSIDE,
    RESTRICTED_KM,
    WGS84,
)
from geo.crs import to_crs_dense
from geo.curve import metres, ranges, within_curve
from geo.overlay import Territory, build_territory, split, union_overlapping
from geo.sensitivity import SHIFTS_M, analysed_curve, frontier_sensitivity, neighbor_figures
from geo.summary import is_synthetic, province_table, summarize, validate_spatial
from geo.zones import band_frame, parse_bands

if TYPE_CHECKING:
    from geo.queries import QueryAnswer, WhereAnswer

log = logging.getLogger("geo")


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced.

    Attributes
    ----------
    by_hazard : GeoDataFrame
        One row per piece (hazard x province x band), analysis CRS: the hazard's columns,
        ``province``, ``code``, ``band``, ``inner_km``, ``outer_km``, ``area_m2``, ``area_km2``,
        ``share_of_hazard``, and ``hazard_index`` (row of ``hazards``) and ``band_index`` (row of
        ``zones``, -1 outside Cambodia), which the files written leave out.
    by_province : DataFrame
        One row per province, every province listed.
    zones : GeoDataFrame
        The bands, clipped to the territory, analysis CRS.
    provinces : GeoDataFrame
        Provinces fitted to the outline, analysis CRS.
    frontier : GeoDataFrame
        The frontier used, WGS 84.
    hazards : GeoDataFrame
        The hazards as analysed: ``hazard_id``, ``area_m2``, geometry (analysis CRS).
    land_pieces : DataFrame
        The union of the hazards (land counted once) cut by province and band:
        ``code``, ``fine_index`` (row of ``territory.fine_bands``), ``band_index`` (row of
        ``zones``, -1 outside Cambodia), ``area_m2``, ``geometry``.
    territory : Territory
        Fitted provinces, bands, cells and frontier buffers (see :mod:`geo.overlay`).
    summary : dict
        Totals, band figures, inputs and provenance (``summary.json``).
    validation : dict
        Reading and spatial checks (``validation.json``).
    alternative_lines : GeoDataFrame
        The other frontier lines of ``summary["frontier_sensitivity"]`` (``line``,
        ``neighbor``), WGS 84; empty when there are none.
    """

    by_hazard: gpd.GeoDataFrame
    by_province: pd.DataFrame
    zones: gpd.GeoDataFrame
    provinces: gpd.GeoDataFrame
    frontier: gpd.GeoDataFrame
    hazards: gpd.GeoDataFrame
    land_pieces: pd.DataFrame
    territory: Territory
    summary: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    alternative_lines: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame({"line": [], "neighbor": []}, geometry=[], crs=WGS84)
    )

    # Indexes the site queries use, built once per result on first use (not per site).
    @cached_property
    def frontier_union(self) -> shapely.Geometry:
        """The analysed frontier lines as one geometry (WGS 84)."""
        return shapely.union_all(self.territory.frontier)

    @cached_property
    def frontier_analysis(self) -> shapely.Geometry:
        """The analysed frontier lines as one geometry in the analysis CRS (prepared for distances)."""
        line = to_crs_dense(gpd.GeoDataFrame(geometry=[self.frontier_union], crs=WGS84), ANALYSIS_CRS).geometry.iloc[0]
        shapely.prepare(line)
        return line

    @cached_property
    def frontier_segments(self) -> tuple[np.ndarray, shapely.STRtree]:
        """The analysed frontier cut into <= 50 m segments (analysis CRS) and their spatial index."""
        line = shapely.segmentize(self.frontier_analysis, 50.0)
        coords = [shapely.get_coordinates(part) for part in shapely.get_parts(shapely.line_merge(line))]
        segs = np.concatenate([shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)) for c in coords if len(c) > 1])
        return segs, shapely.STRtree(segs)

    @cached_property
    def hazard_index(self) -> shapely.STRtree:
        """Spatial index of ``hazards`` (analysis CRS)."""
        return shapely.STRtree(self.hazards.geometry.values)

    @cached_property
    def land_index(self) -> shapely.STRtree:
        """Spatial index of ``land_pieces`` (analysis CRS)."""
        return shapely.STRtree(self.land_pieces["geometry"].to_numpy())

    @cached_property
    def province_index(self) -> shapely.STRtree:
        """Spatial index of ``provinces`` (analysis CRS)."""
        return shapely.STRtree(self.provinces.geometry.values)

    def within(self, distances_km: Sequence[float]) -> pd.DataFrame:
        """Contaminated area (land counted once) within each distance of the frontier, km2.

        One row per distance, one column per province code and ``total_km2``; see
        :func:`geo.curve.within_curve`.  At 2 and 7 km it equals
        ``within_2km_km2`` and ``within_7km_km2``.

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> w = res.within([2, 7])
        >>> round(float(w.loc[7.0, "total_km2"]), 6) == round(res.summary["within_7km_km2"], 6)
        True
        """
        return within_curve(
            self.land_pieces,
            self.territory.fine_bands,
            self.provinces["code"],
            self.territory.frontier,
            distances_km,
            self.territory.buffers,
        )

    def where(self, *site, radius_m: float = 1000.0, crs: str = WGS84) -> WhereAnswer:
        """Province, distance to the frontier, band and nearby hazards of a site (see :func:`geo.queries.where`).

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> res.where(14.35953, 103.47433)["band"]
        '0-2 km'
        """
        from geo.queries import where

        return where(*site, result=self, radius_m=radius_m, crs=crs)

    def query(self, **filters) -> QueryAnswer:
        """Counts and areas of the pieces matching the filters, in total or by group (see :func:`geo.queries.query`).

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> round(res.query(within_km=7)["area_km2"], 2) == round(res.summary["within_7km_km2"], 2)
        True
        """
        from geo.queries import query

        return query(self, **filters)

    def access(self, rules=None, capacity=None) -> pd.DataFrame:
        """Remaining land per province x band and who may clear it (see :func:`geo.rules.access_table`).

        ``rules`` is a TOML file, a bundled set (``"access_2024"``, ``"open_2_7km"``) or
        :class:`geo.rules.AccessRules`; default the 2024 rules.

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> res.access().loc[lambda t: t["band"] == "0-2 km", "may_clear"].unique().tolist()
        ['military']
        """
        from geo.rules import access_table

        return access_table(self, rules, capacity)

    def curve(self, *, max_km: float = 15.0, step_km: float = 0.5, top: int = 5) -> pd.DataFrame:
        """Contaminated area within d of the frontier, d = 0 .. ``max_km`` (see :func:`geo.queries.distance_curve`).

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> c = res.curve(max_km=7, step_km=1, top=0)
        >>> bool(c["total_km2"].iloc[-1] == res.summary["within_7km_km2"])
        True
        """
        from geo.queries import distance_curve

        return distance_curve(self, max_km=max_km, step_km=step_km, top=top)


def _user_band_of(fine: gpd.GeoDataFrame, edges: tuple[float, ...]) -> np.ndarray:
    """Index of the user band holding each fine band."""
    bounds = np.array(edges)
    return np.searchsorted(bounds, fine["outer_km"].to_numpy(), side="left")


def _user_zones(fine: gpd.GeoDataFrame, owner: np.ndarray, edges: tuple[float, ...]) -> gpd.GeoDataFrame:
    inner = (0.0, *edges)
    outer = (*edges, math.inf)
    return band_frame(inner, outer, [shapely.union_all(fine.geometry.values[owner == k]) for k in range(len(inner))])


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
    edges = parse_bands(bands_km)
    if hazards.crs is None:
        raise GeoInputError("hazard layer has no CRS")
    if boundaries is None:
        boundaries = load_boundaries()
    elif not isinstance(boundaries, Boundaries):
        raise TypeError(
            "boundaries must be a geo.Boundaries (Boundaries.bundled(), .from_files(...) or .from_frames(...)),"
            f" not {type(boundaries).__name__}"
        )
    if neighbor is None:
        neighbor = boundaries.default_neighbor()
    front = boundaries.frontier_with(neighbor)
    alternatives = boundaries.alternatives_with(neighbor)
    prov_src, outline = boundaries.provinces, boundaries.outline

    fine_edges = tuple(sorted(set(edges) | {MILITARY_ONLY_KM, RESTRICTED_KM}))
    if frontier_tolerance_m < 0 or not math.isfinite(frontier_tolerance_m):
        raise GeoInputError(f"frontier tolerance must be a finite distance >= 0 m, got {frontier_tolerance_m}")
    # The buffers the uncertainty ranges need are built with the bands, in one pass.
    t_km = frontier_tolerance_m / 1000.0
    moves_km = {-t_km, t_km, *(s / 1000.0 for s in SHIFTS_M), *(-s / 1000.0 for s in SHIFTS_M)}
    shifted = [metres(e + s) for e in fine_edges for s in sorted(moves_km)]
    territory = build_territory(prov_src, outline, front, fine_edges, shifted)
    fine, fitted, slivers, cells, land = (
        territory.fine_bands,
        territory.provinces,
        territory.slivers,
        territory.cells,
        territory.land,
    )
    owner = _user_band_of(fine, edges)
    zones = _user_zones(fine, owner, edges)

    log.info(
        "splitting %s hazards by province and band (%s km)", f"{len(hazards):,}", ", ".join(f"{e:g}" for e in edges)
    )
    hz = AnalysedHazards.prepare(hazards)
    geoms = hz.geoms

    pieces = attribute(split(geoms, cells.geometry.values, land), cells, fitted, fine, owner)
    shared, unions = union_overlapping(geoms)
    if shared.any():
        log.info("counting land once where %s hazards overlap", f"{int(shared.sum()):,}")
        union_pieces = attribute(split(unions, cells.geometry.values, land), cells, fitted, fine, owner)
        union_pieces = pd.concat([pieces[~shared[pieces["src"]]], union_pieces], ignore_index=True)
    else:
        union_pieces = pieces

    by_hazard = hazard_table(pieces, hz, fitted, zones)
    by_province = province_table(
        fitted, zones=zones, fine=fine, pieces=pieces, land_pieces=union_pieces, by_hazard=by_hazard
    )
    neighbors = sorted(set(front["neighbor"].astype(str).str.upper())) if "neighbor" in front.columns else []
    per_neighbor = {}
    if len(neighbors) > 1:  # each frontier on its own, next to the combined figures (land counted once)
        per_neighbor = neighbor_figures(union_pieces, fine, fitted["code"], front)
        for iso3, fig in per_neighbor.items():
            by_province[f"within_2km_{iso3}_km2"] = [fig["by_province"][c][0] for c in by_province["code"]]
            by_province[f"within_7km_{iso3}_km2"] = [fig["by_province"][c][1] for c in by_province["code"]]
    validation = validate_spatial(hz, by_hazard, slivers, checks=hazards.attrs.get("validation"))
    summary = summarize(
        hz,
        by_province=by_province,
        zones=zones,
        pieces=pieces,
        land_pieces=union_pieces[["code", "fine_index", "band_index", "area_m2", "geometry"]].reset_index(drop=True),
        by_hazard=by_hazard,
        validation=validation,
        synthetic=is_synthetic(hazards),
    )
    summary["inputs"] = {
        "hazards": hazards.attrs.get("source") or {"file": None, "note": "in-memory layer passed to geo.analyze"},
        **{k: boundaries.sources.get(k) for k in ("provinces", "outline", "frontier")},
    }
    summary["neighbor"] = ",".join(neighbor_codes(neighbor) or ["all"])
    if summary.get("notice"):
        validation["notice"] = summary["notice"]
    summary["bands_km"] = list(edges)
    inside_km2 = summary["area_km2"] - summary["outside_cambodia_km2"]
    log.info("uncertainty ranges (frontier +/- %g m) and frontier sensitivity", frontier_tolerance_m)
    # One curve of the analysed line serves the uncertainty ranges and the sensitivity.
    range_km = [e + s for e in (*edges, MILITARY_ONLY_KM, RESTRICTED_KM) for s in (-t_km, 0.0, t_km)]
    curve = analysed_curve(
        union_pieces, fine, fitted["code"], territory.frontier, edges, buffers=territory.buffers, more_km=range_km
    )
    summary["uncertainty"] = ranges(
        lambda ds: [float(curve.loc[round(d, 6), "total_km2"]) if d > 0 else 0.0 for d in ds],
        edges,
        frontier_tolerance_m,
        inside_km2,
    )
    for band, r in zip(summary["bands"], summary["uncertainty"]["bands"]):
        r["band"] = band["band"]
    summary["neighbors"] = neighbors
    summary["by_neighbor"] = [
        {"neighbor": k, "within_2km_km2": v["within_2km_km2"], "within_7km_km2": v["within_7km_km2"]}
        for k, v in per_neighbor.items()
    ]
    summary["frontier_sensitivity"] = frontier_sensitivity(
        union_pieces,
        fine,
        fitted["code"],
        territory.frontier,
        edges,
        alternatives,
        buffers=territory.buffers,
        analysed=summary["inputs"]["frontier"],
        curve=curve,
    )
    # The result is built once, with every figure in place.
    result = AnalysisResult(
        by_hazard=by_hazard,
        by_province=by_province,
        zones=zones,
        provinces=fitted,
        frontier=front.to_crs(WGS84),
        summary=summary,
        validation=validation,
        hazards=hz.layer(),
        land_pieces=union_pieces[["code", "fine_index", "band_index", "area_m2", "geometry"]].reset_index(drop=True),
        territory=territory,
        alternative_lines=alternative_lines(alternatives),
    )
    return result


__all__ = ["OUTSIDE", "AnalysisResult", "analyze"]
