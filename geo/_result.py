"""What one analysis produced (:class:`AnalysisResult`), and the site and area queries asked of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import GeoInputError
from geo.constants import ANALYSIS_CRS, WGS84
from geo.crs import to_crs_dense
from geo.curve import within_curve
from geo.overlay import Territory

if TYPE_CHECKING:
    from geo.queries import QueryAnswer, WhereAnswer


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
    streamed : bool
        True for an analysis made in chunks (:func:`geo.chunked.analyze_in_chunks`): its pieces
        were written to disk as they were made, and ``by_hazard``, ``land_pieces`` and ``hazards``
        hold the columns the figures need, without geometry.
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
    streamed: bool = False

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

    def _whole(self, what: str) -> None:
        """Refuse ``what`` on a result made in chunks, whose pieces are on disk, not in memory."""
        if self.streamed:
            raise GeoInputError(
                f"{what} needs the pieces in memory; this analysis was made in chunks and its pieces are in "
                "the files written (zones.gpkg, layer hazard_pieces): analyse a part of the layer with "
                "geo.analyze, or read that layer"
            )

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
        self._whole("within()")
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
        self._whole("where()")
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
        self._whole("query()")
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
        self._whole("curve()")
        from geo.queries import distance_curve

        return distance_curve(self, max_km=max_km, step_km=step_km, top=top)
