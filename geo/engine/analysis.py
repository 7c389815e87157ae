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
from functools import cached_property, lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._threads import in_threads
from geo.constants import (
    ANALYSIS_CRS,
    DEFAULT_BANDS_KM,
    FRONTIER_TOLERANCE_M,
    MILITARY_ONLY_KM,
    OUTSIDE,
    RESTRICTED_KM,
    WGS84,
)
from geo.crs import reproject, to_crs_dense
from geo.engine.boundaries import Boundaries, load_boundaries
from geo.engine.curve import box_extent, metres, ranges, with_extent, within_curve
from geo.engine.errorbudget import DRAWS, error_budget, model_for
from geo.engine.hazards import read_hazards
from geo.engine.overlay import (
    Territory,
    border_districts,
    build_territory,
    overlap_pairs,
    split,
    union_groups,
    union_overlapping,
)
from geo.engine.pieces import AnalysedHazards, alternative_lines, attribute, hazard_table
from geo.engine.sensitivity import (
    SHIFTS_M,
    alternative_curves_of,
    analysed_curve,
    curve_for,
    frontier_sensitivity,
    neighbor_curves,
    neighbor_figures,
)
from geo.engine.summary import (
    Summary,
    district_table,
    primary_pieces,
    province_status,
    province_table,
    summarize,
    validate_spatial,
    with_status,
)
from geo.engine.zones import band_frame, frontier_lines, parse_bands
from geo.errors import GeoInputError
from geo.io.data import DEMO_HAZARDS
from geo.io.readers import is_synthetic
from geo.io.writers import public_columns
from geo.names import neighbor_codes


@dataclass(frozen=True, repr=False)
class AnalysisResult:
    """Everything one analysis produced.

    Attributes
    ----------
    by_hazard : GeoDataFrame
        One row per piece (hazard x province x band), analysis CRS: the hazard's columns,
        ``province``, ``code``, ``band``, ``inner_km``, ``outer_km``, ``area_m2``, ``area_km2``,
        ``share_of_hazard`` (the rows of ``by_hazard.csv``, with geometry).
    hazard_pieces : GeoDataFrame
        The engine's own piece table: ``by_hazard`` with ``hazard_index`` (row of ``hazards``),
        ``band_index`` (row of ``zones``, -1 outside Cambodia) and, for a whole hazard given in
        WGS 84, its geometry as given (``_wgs84``), which the maps, queries and files use.
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
        Fitted provinces, bands, cells and frontier buffers (see :mod:`geo.engine.overlay`).
    summary : Summary
        Totals, band figures, ranges and the :class:`~geo.engine.summary.Provenance`
        (``summary.json`` is ``summary.to_dict()``).
    validation : dict
        Reading and spatial checks (``validation.json``).
    alternative_lines : GeoDataFrame
        The other frontier lines of ``summary["frontier_sensitivity"]`` (``line``,
        ``neighbor``), WGS 84; empty when there are none.
    borders : GeoDataFrame
        Every land border of the boundaries used (``neighbor``, WGS 84), measured from or not: site
        checks name the nearest.
    by_district : DataFrame or None
        One row per district (:func:`geo.engine.summary.district_table`): each province's districts
        add up to its row. None when the boundaries have no districts.
    streamed : bool
        True for an analysis made in chunks (:func:`geo.engine.chunked.analyze_in_chunks`): its pieces
        were written to disk as they were made, and ``by_hazard``, ``land_pieces`` and ``hazards``
        hold the columns the figures need, without geometry.
    pieces_file : Path or None
        For a streamed analysis kept for questions (:mod:`geo.engine.saved`): the ``zones.gpkg`` it
        wrote, whose ``hazard_pieces`` layer site checks, queries and curves read (:meth:`hazards_near`,
        :meth:`pieces_for_questions`).
    """

    hazard_pieces: gpd.GeoDataFrame
    by_province: pd.DataFrame
    zones: gpd.GeoDataFrame
    provinces: gpd.GeoDataFrame
    frontier: gpd.GeoDataFrame
    hazards: gpd.GeoDataFrame
    land_pieces: pd.DataFrame
    territory: Territory
    summary: Summary
    validation: dict = field(default_factory=dict)
    alternative_lines: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame({"line": [], "neighbor": []}, geometry=[], crs=WGS84)
    )
    streamed: bool = False
    borders: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame({"neighbor": []}, geometry=[], crs=WGS84)
    )
    by_district: pd.DataFrame | None = None
    pieces_file: Path | None = None

    def _headline(self) -> list[tuple[str, str]]:
        """The figures a reader wants first, as (label, text) pairs."""
        s = self.summary
        rng = s.get("uncertainty", {})

        def km2(key: str) -> str:
            text = f"{s.get(key, 0.0):,.2f} km2"
            r = rng.get(key)
            return text + (f" ({r['low']:,.2f}-{r['high']:,.2f})" if r else "")

        rows = [
            ("hazards", f"{s.get('hazards', 0):,}"),
            ("contaminated area", km2("area_km2")),
            ("within 2 km", km2("within_2km_km2")),
            ("within 7 km", km2("within_7km_km2")),
            ("frontier", ", ".join(s.get("neighbors") or [str(s.get("neighbor") or "given")])),
            ("bands", ", ".join(str(b) for b in self.zones["band"]) if "band" in self.zones else ""),
        ]
        if s.get("synthetic"):
            rows.append(("data", "SYNTHETIC"))
        return rows

    def __repr__(self) -> str:
        parts = "; ".join(f"{label} {text}" for label, text in self._headline())
        streamed = ", made in chunks" if self.streamed else ""
        count = f"{len(self.by_province)} provinces, {len(self.hazard_pieces):,} pieces"
        return f"<AnalysisResult: {parts}; {count}{streamed}>"

    def _repr_html_(self) -> str:
        """The headline and the province table, for notebooks; every value escaped."""
        from html import escape

        head = "".join(
            f"<tr><th style='text-align:left'>{escape(label)}</th><td>{escape(text)}</td></tr>"
            for label, text in self._headline()
        )
        table = self.by_province.drop(columns=[c for c in ("geometry",) if c in self.by_province]).round(2)
        body = table.to_html(index=False, escape=True, border=0, max_rows=30)
        notice = self.summary.get("notice")
        note = f"<p><b>{escape(str(notice))}</b></p>" if notice else ""
        return f"<div><b>AnalysisResult</b><table>{head}</table>{note}{body}</div>"

    @cached_property
    def by_hazard(self) -> gpd.GeoDataFrame:
        """The pieces as users and files see them: ``hazard_pieces`` without the engine's own columns."""
        return public_columns(self.hazard_pieces)

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
        return _segments(self.frontier_analysis)

    @cached_property
    def border_lines(self) -> dict[str, shapely.Geometry]:
        """Every land border of the boundaries used, one geometry per neighbour (ISO3), WGS 84: the
        restriction applies along all of them, whichever the figures were measured from."""
        groups = self.borders.groupby("neighbor").geometry if len(self.borders) else {}
        return {str(k): shapely.union_all(g.to_numpy()) for k, g in groups}

    @cached_property
    def border_segments(self) -> dict[str, tuple[np.ndarray, shapely.STRtree]]:
        """Each border of :attr:`border_lines` cut into <= 50 m segments (analysis CRS), with an index."""
        out = {}
        for iso3, line in self.border_lines.items():
            line_a = to_crs_dense(gpd.GeoDataFrame(geometry=[line], crs=WGS84), ANALYSIS_CRS).geometry.iloc[0]
            out[iso3] = _segments(line_a)
        return out

    def hazards_near(
        self, lon: np.ndarray, lat: np.ndarray, reach_m: float
    ) -> tuple[gpd.GeoDataFrame, shapely.STRtree]:
        """Hazards that may lie within ``reach_m`` of the sites at ``lon``, ``lat`` (WGS 84 degrees), with a
        spatial index of them.

        In memory, every hazard and :attr:`hazard_index`. For a streamed analysis, the hazards whose pieces
        reach into a box about some site, rebuilt whole from the pieces in :attr:`pieces_file`
        (:func:`geo.io.readers.read_pieces_near`): ``hazard_id``, ``area_m2`` (the sum of the pieces'
        areas, as written: to 0.0001 m2) and the union of the pieces, analysis CRS.
        """
        if not self.streamed:
            return self.hazards, self.hazard_index
        if self.pieces_file is None:
            raise self._no_pieces("a site check")
        from geo.io.readers import read_pieces_near

        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        # Degrees per metre, widened by a tenth: the boxes hold every point within reach of their site.
        dlat = 1.1 * reach_m / 110_574.0
        dlon = 1.1 * reach_m / (111_320.0 * np.cos(np.radians(np.clip(np.abs(lat) + dlat, 0, 89.0))))
        pieces = read_pieces_near(self.pieces_file, np.column_stack([lon - dlon, lat - dlat, lon + dlon, lat + dlat]))
        codes, ids = pd.factorize(pieces["hazard_id"])
        keys, unions = union_groups(pieces.geometry.to_numpy(), codes)
        area = np.bincount(codes, weights=pieces["area_m2"].to_numpy(dtype=float), minlength=len(ids))
        whole = gpd.GeoDataFrame(
            {"hazard_id": np.asarray(ids, dtype=object)[keys], "area_m2": area[keys]}, geometry=unions, crs=WGS84
        )
        near = to_crs_dense(whole, ANALYSIS_CRS)
        return near, shapely.STRtree(near.geometry.values)

    def pieces_for_questions(self, columns: Sequence[str]) -> gpd.GeoDataFrame:
        """The hazard pieces a question filters and measures: in memory, :attr:`hazard_pieces`; for a
        streamed analysis, read back from :attr:`pieces_file` (``columns`` and ``band_index``, WGS 84:
        the vertices written, so areas measured again in the analysis CRS agree with ``area_m2`` to
        about 1e-6 m2).

        Raises
        ------
        GeoInputError
            For a streamed analysis without its pieces file.
        """
        if not self.streamed:
            return self.hazard_pieces
        if self.pieces_file is None:
            raise self._no_pieces("a question about the pieces")
        from geo.io.readers import read_pieces

        pieces = read_pieces(self.pieces_file, [*columns, "band"])
        index = {str(b): k for k, b in enumerate(self.zones["band"])}
        band_index = pieces["band"].astype(str).map(index).fillna(-1).astype(int).to_numpy()
        return pieces.assign(band_index=band_index)

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

    def require_pieces(self, what: str) -> None:
        """Refuse ``what`` on a result made in chunks, whose pieces are on disk, not in memory."""
        if self.streamed:
            raise self._no_pieces(what)

    @staticmethod
    def _no_pieces(what: str) -> GeoInputError:
        return GeoInputError(
            f"{what} needs the pieces in memory; this analysis was made in chunks and its pieces are in "
            "the files written (zones.gpkg, layer hazard_pieces): analyse a part of the layer with "
            "geo.analyze, or read that layer"
        )

    def within(self, distances_km: Sequence[float]) -> pd.DataFrame:
        """Contaminated area (land counted once) within each distance of the frontier, km2.

        One row per distance, one column per province code and ``total_km2``; see
        :func:`geo.engine.curve.within_curve`.  At 2 and 7 km it equals
        ``within_2km_km2`` and ``within_7km_km2``.  An analysis made in chunks answers from the
        pieces it wrote (:meth:`land_read_back`; to about 1e-6 km2 at 433,000 hazards).

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> w = res.within([2, 7])
        >>> round(float(w.loc[7.0, "total_km2"]), 6) == round(res.summary["within_7km_km2"], 6)
        True
        """
        codes, front, buffers = self.provinces["code"], self.territory.frontier, self.territory.buffers
        if not self.streamed:
            return within_curve(self.land_pieces, self.territory.fine_bands, codes, front, distances_km, buffers)
        land = self.land_read_back()
        own = land["_wgs84"].to_numpy()

        def shapes(rows: np.ndarray) -> np.ndarray:  # the pieces read back in WGS 84, only when cut
            geoms = land["geometry"].to_numpy()[rows].copy()
            alone = pd.isna(geoms)
            geoms[alone] = reproject(own[rows][alone], WGS84, ANALYSIS_CRS)
            return geoms

        return within_curve(land, self.zones, codes, front, distances_km, buffers, shapes=shapes)

    def land_read_back(self) -> pd.DataFrame:
        """The land-once pieces of a streamed analysis, made again from the hazard pieces it wrote
        (:meth:`pieces_for_questions`): the pieces in Cambodia, ``fine_index`` the row of :attr:`zones`
        (the bands written), with the extent :func:`~geo.engine.curve.with_extent` gives, in the
        analysis CRS.

        Pieces that share land in a province x band (found where they lie, in WGS 84) are reprojected
        and united: their ``geometry`` is the union, ``area_m2`` measured. Each other piece keeps its
        ``area_m2`` (the analysis' own measure) and its WGS 84 shape in ``_wgs84``, its ``geometry``
        None: :meth:`within` reprojects only the pieces a distance crosses. Their extent is the box of
        their WGS 84 box's corners reprojected, widened by what its edges can bow between them
        (:func:`_projected_boxes`).
        """
        log.info("reading the hazard pieces back from %s (made in chunks)", self.pieces_file)
        pieces = self.pieces_for_questions(["code", "area_m2"])
        pieces = pieces[pieces["band_index"].to_numpy() >= 0]
        log.info("counting the land of %s pieces in Cambodia once (overlaps united)", f"{len(pieces):,}")
        wgs = np.asarray(pieces.geometry.to_numpy(), dtype=object)
        codes, band = pieces["code"].astype(str).to_numpy(), pieces["band_index"].to_numpy()
        area = pieces["area_m2"].to_numpy(dtype=float)
        # Land counted once in each province x band: pieces of another cell only touch (a sliver of
        # overlap from the round trip through WGS 84 joins no cells).
        cell = pd.factorize(codes)[0].astype(np.int64) * (int(band.max()) + 2 if len(band) else 1) + band + 1
        a, b = overlap_pairs(wgs)
        same = cell[a] == cell[b]
        label, shared, unions = union_overlapping(
            wgs, (a[same], b[same]), project=lambda g: reproject(g, WGS84, ANALYSIS_CRS)
        )
        lone = np.flatnonzero(~shared)
        # One row per piece alone or union (its label: its first piece), in the order of their first piece.
        first = np.concatenate([lone, np.unique(label[shared])]).astype(np.int64)
        order = np.argsort(first, kind="stable")
        boxes = np.concatenate([_projected_boxes(shapely.bounds(wgs[lone])), shapely.bounds(unions)])[order]
        cx, cy, radius = box_extent(boxes)
        return pd.DataFrame(
            {
                "code": codes[first[order]],
                "fine_index": band[first[order]],
                "area_m2": np.concatenate([area[lone], shapely.area(unions)])[order],
                "geometry": np.concatenate([np.full(len(lone), None, dtype=object), unions])[order],
                "_wgs84": np.concatenate([wgs[lone], np.full(len(unions), None, dtype=object)])[order],
                "_cx": cx,
                "_cy": cy,
                "_radius": radius,
            }
        )

    def curve(self, *, max_km: float = 15.0, step_km: float = 0.5, top: int = 5) -> pd.DataFrame:
        """Contaminated area within d of the frontier, d = 0 .. ``max_km`` (see :func:`distance_curve`).

        Examples
        --------
        >>> import geo
        >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
        >>> c = res.curve(max_km=7, step_km=1, top=0)
        >>> bool(c["total_km2"].iloc[-1] == res.summary["within_7km_km2"])
        True
        """
        return distance_curve(self, max_km=max_km, step_km=step_km, top=top)


log = logging.getLogger("geo")


def _segments(line_a: shapely.Geometry) -> tuple[np.ndarray, shapely.STRtree]:
    """A line (analysis CRS) cut into <= 50 m segments, and their spatial index."""
    line = shapely.segmentize(line_a, 50.0)
    coords = [shapely.get_coordinates(part) for part in shapely.get_parts(shapely.line_merge(line))]
    segs = np.concatenate([shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)) for c in coords if len(c) > 1])
    return segs, shapely.STRtree(segs)


def _user_band_of(fine: gpd.GeoDataFrame, edges: tuple[float, ...]) -> np.ndarray:
    """Index of the user band holding each fine band."""
    bounds = np.array(edges)
    return np.searchsorted(bounds, fine["outer_km"].to_numpy(), side="left")


def _user_zones(fine: gpd.GeoDataFrame, owner: np.ndarray, edges: tuple[float, ...]) -> gpd.GeoDataFrame:
    inner = (0.0, *edges)
    outer = (*edges, math.inf)
    return band_frame(inner, outer, [shapely.union_all(fine.geometry.values[owner == k]) for k in range(len(inner))])


@dataclass(frozen=True)
class Curves:
    """The land's area within distances of each line: W(d) per province, km2 (rows by distance).

    Areas of disjoint land add up, so the curves of two sets of land pieces with no land in
    common add up to the curves of both (``a + b``): what a chunked analysis sums.

    Attributes
    ----------
    analysed : DataFrame
        The analysed line, at every distance the ranges and shifts need.
    alternatives : dict
        Each alternative line, at the band edges.
    neighbors : dict
        Each neighbour's frontier on its own, at 2 and 7 km (when there are several).
    all_borders : DataFrame or None
        Every land border at 2 and 7 km, when the analysed line is only some of them.
    """

    analysed: pd.DataFrame
    alternatives: dict[str, pd.DataFrame]
    neighbors: dict[str, pd.DataFrame]
    all_borders: pd.DataFrame | None = None

    def __add__(self, other: Curves) -> Curves:
        both = None
        if self.all_borders is not None and other.all_borders is not None:
            both = self.all_borders.add(other.all_borders, fill_value=0.0)
        return Curves(
            analysed=self.analysed.add(other.analysed, fill_value=0.0),
            alternatives={k: v.add(other.alternatives[k], fill_value=0.0) for k, v in self.alternatives.items()},
            neighbors={k: v.add(other.neighbors[k], fill_value=0.0) for k, v in self.neighbors.items()},
            all_borders=both,
        )


@dataclass(frozen=True)
class RunPlan:
    """The boundaries' side of an analysis, built once and shared by every set of hazards split.

    Attributes
    ----------
    boundaries : Boundaries
    edges : tuple of float
        The user's band edges, km.
    neighbor : str or list of str
        The neighbours whose frontier is used.
    front : GeoDataFrame
        Those frontier lines.
    alternatives : dict
        Other lines of the same frontier (name -> (lines, source)).
    territory : Territory
        Fitted provinces, fine bands, cells and buffers.
    owner : ndarray of int
        The user band of each fine band.
    zones : GeoDataFrame
        The user bands.
    tolerance_m : float
        The frontier's positional uncertainty, m.
    error_draws : int
        Draws of the error budget (0: none).
    """

    boundaries: Boundaries
    edges: tuple[float, ...]
    neighbor: str | Sequence[str]
    front: gpd.GeoDataFrame
    alternatives: dict
    territory: Territory
    owner: np.ndarray
    zones: gpd.GeoDataFrame
    tolerance_m: float
    error_draws: int = DRAWS

    @property
    def neighbors(self) -> list[str]:
        front = self.front
        return sorted(set(front["neighbor"].astype(str).str.upper())) if "neighbor" in front.columns else []

    def _attribute(self, geoms: np.ndarray) -> pd.DataFrame:
        t = self.territory
        return attribute(
            split(geoms, t.cells.geometry.values, t.land), t.cells, t.provinces, t.fine_bands, self.owner, t.districts
        )

    def pieces(self, hz: AnalysedHazards, counted: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Split hazards by province and fine band: every hazard's pieces, and the land pieces.

        Land pieces are the union of the hazards (land counted once) cut the same way. With
        ``counted`` (polygons, analysis CRS), land inside them is left out: land another part
        of the same analysis counts (see :mod:`geo.engine.chunked`).
        """
        geoms = hz.geoms
        pieces = self._attribute(geoms)
        _, shared, unions = union_overlapping(geoms)
        if counted is not None and len(counted):
            # Land units: lone hazards and unions of overlapping ones; those reaching land counted
            # elsewhere lose it.
            lone = np.flatnonzero(~shared)
            units = np.concatenate([geoms[lone], unions])
            ui, ci = shapely.STRtree(counted).query(units, predicate="intersects")
            hit, erasers = union_groups(counted[ci], ui)
            if len(hit):
                erased = in_threads(shapely.difference, units[hit], erasers)
                keep_lone = np.ones(len(lone), bool)
                keep_lone[hit[hit < len(lone)]] = False
                shared = shared.copy()
                shared[lone[~keep_lone]] = True
                others = np.setdiff1d(np.arange(len(unions)), hit[hit >= len(lone)] - len(lone))
                unions = np.concatenate([unions[others], erased[~shapely.is_empty(erased)]])
        if shared.any():
            log.info("counting land once where %s hazards overlap", f"{int(shared.sum()):,}")
            land = pd.concat([pieces[~shared[pieces["src"]]], self._attribute(unions)], ignore_index=True)
        else:
            land = pieces
        return pieces, land[["code", "district_code", "fine_index", "band_index", "area_m2", "geometry"]].reset_index(
            drop=True
        )

    def curves(self, land_pieces: pd.DataFrame) -> Curves:
        """W(d) of the land pieces for the ranges, the shifted lines, the alternatives and each neighbour."""
        t, codes = self.territory, self.territory.provinces["code"]
        land_pieces = with_extent(land_pieces[land_pieces["fine_index"] >= 0])  # measured once for every line
        t_km = self.tolerance_m / 1000.0
        range_km = [e + s for e in (*self.edges, MILITARY_ONLY_KM, RESTRICTED_KM) for s in (-t_km, 0.0, t_km)]
        analysed = analysed_curve(
            land_pieces, t.fine_bands, codes, t.frontier, self.edges, buffers=t.buffers, more_km=range_km
        )
        alternatives = alternative_curves_of(land_pieces, t.fine_bands, codes, self.edges, self.alternatives)
        neighbors = neighbor_curves(land_pieces, t.fine_bands, codes, self.front) if len(self.neighbors) > 1 else {}
        every = None
        if self.some_borders:
            every = curve_for(
                land_pieces, t.fine_bands, codes, frontier_lines(self.boundaries.frontier), [2.0, 7.0], same_line=False
            )
        return Curves(analysed=analysed, alternatives=alternatives, neighbors=neighbors, all_borders=every)

    @cached_property
    def places(self) -> tuple[shapely.Geometry, dict[str, shapely.Geometry]]:
        """The outline and each neighbour's frontier (analysis CRS), to say where outside pieces lie."""
        frontier = self.boundaries.frontier
        lines: dict[str, shapely.Geometry] = {}
        if len(frontier) and "neighbor" in frontier.columns:
            projected = frontier.to_crs(ANALYSIS_CRS)
            for iso3, g in projected.groupby(projected["neighbor"].astype(str).str.upper()):
                lines[str(iso3)] = shapely.union_all(g.geometry.to_numpy())
        return self.territory.land, lines

    @cached_property
    def borders(self) -> gpd.GeoDataFrame:
        """Every land border, densified as the analysed frontier is (:func:`frontier_lines`), WGS 84: a
        site's distance to its border is then its distance to the frontier the bands were measured from."""
        frontier = self.boundaries.frontier
        return gpd.GeoDataFrame(
            {"neighbor": frontier["neighbor"].to_numpy() if "neighbor" in frontier.columns else ""},
            geometry=frontier_lines(frontier) if len(frontier) else [],
            crs=WGS84,
        )

    @property
    def some_borders(self) -> bool:
        """True when the analysed line is only some of the boundaries' frontier lines."""
        return len(self.front) < len(self.boundaries.frontier)

    def _all_borders(self, curves: Curves, by_province: pd.DataFrame, summary) -> dict | None:
        """The 2 and 7 km figures from every land border (the analysed ones when they are all)."""
        frontier = self.boundaries.frontier
        if not len(frontier):
            return None
        names = frontier["neighbor"].astype(str).str.upper() if "neighbor" in frontier.columns else pd.Series([])
        inside_km2 = summary.area_km2 - summary.outside_cambodia_km2
        if curves.all_borders is None:
            w2, w7 = summary.within_2km_km2, summary.within_7km_km2
            per = _within_by_province(by_province["code"], by_province["within_2km_km2"], by_province["within_7km_km2"])
        else:
            at2, at7 = curves.all_borders.loc[2.0], curves.all_borders.loc[7.0]
            w2, w7 = float(at2["total_km2"]), float(at7["total_km2"])
            codes = by_province["code"]
            per = _within_by_province(codes, [float(at2[c]) for c in codes], [float(at7[c]) for c in codes])
        return {
            "neighbors": sorted(set(names)),
            "within_2km_km2": w2,
            "within_7km_km2": w7,
            "share_within_7km": w7 / inside_km2 if inside_km2 > 0 else 0.0,
            "by_province": {c: v for c, v in per.items() if v["within_2km_km2"] > 0 or v["within_7km_km2"] > 0},
        }

    def _error_budget(self, land_pieces: pd.DataFrame, by_province: pd.DataFrame, summary) -> dict | None:
        """The headline figures' percentiles over draws of the boundary and hazard positions."""
        if self.error_draws < 0:
            raise GeoInputError(f"error draws must be 0 (no error budget) or more, got {self.error_draws}")
        if self.error_draws == 0 or not len(land_pieces):
            return None
        shapes = land_pieces["geometry"] if "geometry" in land_pieces.columns else pd.Series(dtype=object)
        if not shapes.notna().any():
            # A chunked run keeps its pieces on disk, not their shapes: no draws, rather than an interval
            # of zero width that would read as certainty.
            log.warning("error budget not drawn: this run's land pieces carry no shapes (a chunked run)")
            return None
        log.info("error budget: %s draws of the frontier, province edges and hazard positions", self.error_draws)
        model = model_for(
            self.front,
            self.alternatives,
            self.boundaries.provinces,
            self.boundaries.frontier,
            fallback_m=self.tolerance_m,
        )
        t = self.territory
        central = {
            "within_2km_km2": summary.within_2km_km2,
            "within_7km_km2": summary.within_7km_km2,
            "bands": summary.bands,
            "by_province": _within_by_province(
                by_province["code"], by_province["within_2km_km2"], by_province["within_7km_km2"]
            ),
        }
        return error_budget(
            land_pieces,
            t.fine_bands,
            list(t.provinces["code"]),
            np.asarray(self.front.to_crs(ANALYSIS_CRS).geometry.values, dtype=object),
            self.edges,
            model,
            provinces=t.provinces,
            outline=t.land,
            central=central,
            draws=self.error_draws,
        )

    def _border_districts(self, along: pd.DataFrame, by_district: pd.DataFrame) -> dict:
        """``summary["border_districts"]``: the districts with land within 7 km of the frontier analysed."""
        figures = by_district.set_index("district_code")
        rows = [
            {
                "district_code": c,
                "district": d,
                "province": p,
                "code": code,
                "land_within_7km_km2": float(land),
                "area_km2": float(figures.loc[c, "area_km2"]),
                "within_7km_km2": float(figures.loc[c, "within_7km_km2"]),
            }
            for c, d, p, code, land in along[
                ["district_code", "district", "province", "code", "land_within_km2"]
            ].itertuples(index=False)
        ]
        return {
            "within_km": RESTRICTED_KM,
            "neighbor": ",".join(neighbor_codes(self.neighbor) or ["all"]),
            "count": len(rows),
            "area_km2": float(sum(r["area_km2"] for r in rows)),
            "within_7km_km2": float(sum(r["within_7km_km2"] for r in rows)),
            "districts": rows,
            "report": "Mine Action Review 2024: contamination concentrated in 21 north-western districts along "
            "the border with Thailand; the survey deciding the next extension request covers 21 districts "
            "along the 800 km border",
            "note": "districts (geoBoundaries 2014, fitted into the provinces) with at least 1 ha of land within "
            "7 km of the frontier analysed; the report's 21 may count the districts of today (several were "
            "split since 2014) or only those with contamination",
        }

    def finish(
        self,
        hz: AnalysedHazards,
        *,
        pieces: pd.DataFrame,
        land_pieces: pd.DataFrame,
        by_hazard: pd.DataFrame,
        curves: Curves,
        checks: dict | None,
        source: dict | None,
        synthetic: bool,
        in_sliver_m2: float | None = None,
        streamed: bool = False,
    ) -> AnalysisResult:
        """Tables, summary, ranges and sensitivity from the pieces of every hazard and their curves."""
        t = self.territory
        fitted, fine, codes = t.provinces, t.fine_bands, t.provinces["code"]
        edges = self.edges
        primary = primary_pieces(by_hazard)  # each hazard's largest piece, used by three of the tables
        cut = {"zones": self.zones, "fine": fine, "pieces": pieces, "land_pieces": land_pieces}
        status = province_status()
        by_province = province_table(fitted, **cut, by_hazard=by_hazard, primary=primary)
        by_district, along = None, None
        if t.districts is not None:
            by_district = with_status(district_table(t.districts, **cut, by_hazard=by_hazard, primary=primary), status)
            at = by_district.columns.get_loc("district_area_km2") + 1
            areas = dict(zip(fitted["code"], fitted.geometry.area.to_numpy() / 1e6))
            by_district.insert(at, "province_area_km2", by_district["code"].map(areas).to_numpy())
            along = border_districts(t)
            land = dict(zip(along["district_code"], along["land_within_km2"]))
            by_district["border_district"] = by_district["district_code"].isin(set(land)).to_numpy()
            by_district["land_within_7km_km2"] = by_district["district_code"].map(land).fillna(0.0).to_numpy()
        per_neighbor = neighbor_figures(curves.neighbors, codes)
        for iso3, fig in per_neighbor.items():  # each frontier on its own, next to the combined figures
            by_province[f"within_2km_{iso3}_km2"] = [fig["by_province"][c][0] for c in by_province["code"]]
            by_province[f"within_7km_{iso3}_km2"] = [fig["by_province"][c][1] for c in by_province["code"]]
        by_province = with_status(by_province, status)
        validation = validate_spatial(
            hz, by_hazard, t.slivers, checks=checks, in_sliver_m2=in_sliver_m2, primary=primary
        )
        summary = summarize(
            hz,
            by_province=by_province,
            zones=self.zones,
            pieces=pieces,
            land_pieces=land_pieces,
            by_hazard=by_hazard,
            validation=validation,
            synthetic=synthetic,
            primary=primary,
        )
        inputs = {
            "hazards": source or {"file": None, "note": "in-memory layer passed to geo.analyze"},
            **{k: self.boundaries.sources.get(k) for k in ("provinces", "outline", "frontier")},
        }
        if t.districts is not None and self.boundaries.sources.get("districts"):
            inputs["districts"] = self.boundaries.sources["districts"]
        if summary.notice:
            validation["notice"] = summary.notice
        inside_km2 = summary.area_km2 - summary.outside_cambodia_km2
        log.info("uncertainty ranges (frontier +/- %g m) and frontier sensitivity", self.tolerance_m)
        curve = curves.analysed
        uncertainty = ranges(
            lambda ds: [float(curve.loc[round(d, 6), "total_km2"]) if d > 0 else 0.0 for d in ds],
            edges,
            self.tolerance_m,
            inside_km2,
        )
        for band, r in zip(summary.bands, uncertainty["bands"]):
            r["band"] = band["band"]
        summary = summary.replace(
            inputs=inputs,
            neighbor=",".join(neighbor_codes(self.neighbor) or ["all"]),
            bands_km=list(edges),
            uncertainty=uncertainty,
            neighbors=self.neighbors,
            by_neighbor=[
                {"neighbor": k, "within_2km_km2": v["within_2km_km2"], "within_7km_km2": v["within_7km_km2"]}
                for k, v in per_neighbor.items()
            ],
            frontier_sensitivity=frontier_sensitivity(
                land_pieces,
                fine,
                codes,
                t.frontier,
                edges,
                self.alternatives,
                buffers=t.buffers,
                analysed=inputs["frontier"],
                curve=curve,
                alternative_curves=curves.alternatives,
            ),
            error_budget=self._error_budget(land_pieces, by_province, summary),
            all_borders=self._all_borders(curves, by_province, summary),
            border_districts=None if along is None else self._border_districts(along, by_district),
        )
        return AnalysisResult(
            hazard_pieces=by_hazard,
            by_province=by_province,
            zones=self.zones,
            provinces=fitted,
            frontier=self.front.to_crs(WGS84),
            summary=summary,
            validation=validation,
            hazards=hz.layer(),
            land_pieces=land_pieces,
            territory=t,
            alternative_lines=alternative_lines(self.alternatives),
            streamed=streamed,
            borders=self.borders,
            by_district=by_district,
        )


def _within_by_province(codes, within_2km, within_7km) -> dict[str, dict[str, float]]:
    """Province code -> its ``within_2km_km2`` and ``within_7km_km2``."""
    return {c: {"within_2km_km2": a, "within_7km_km2": b} for c, a, b in zip(codes, within_2km, within_7km)}


def plan_run(
    boundaries: Boundaries | None = None,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
    frontier_tolerance_m: float = FRONTIER_TOLERANCE_M,
    error_draws: int = DRAWS,
) -> RunPlan:
    """Fit the provinces, build the bands, cells and buffers of an analysis (see :func:`analyze`)."""
    edges = parse_bands(bands_km)
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
    fine_edges = tuple(sorted(set(edges) | {MILITARY_ONLY_KM, RESTRICTED_KM}))
    if frontier_tolerance_m < 0 or not math.isfinite(frontier_tolerance_m):
        raise GeoInputError(f"frontier tolerance must be a finite distance >= 0 m, got {frontier_tolerance_m}")
    # The buffers the uncertainty ranges need are built with the bands, in one pass.
    t_km = frontier_tolerance_m / 1000.0
    moves_km = {-t_km, t_km, *(s / 1000.0 for s in SHIFTS_M), *(-s / 1000.0 for s in SHIFTS_M)}
    shifted = [metres(e + s) for e in fine_edges for s in sorted(moves_km)]
    territory = build_territory(
        boundaries.provinces, boundaries.outline, front, fine_edges, shifted, districts=boundaries.districts
    )
    owner = _user_band_of(territory.fine_bands, edges)
    return RunPlan(
        boundaries=boundaries,
        edges=edges,
        neighbor=neighbor,
        front=front,
        alternatives=boundaries.alternatives_with(neighbor),
        territory=territory,
        owner=owner,
        zones=_user_zones(territory.fine_bands, owner, edges),
        tolerance_m=frontier_tolerance_m,
        error_draws=int(error_draws),
    )


def analyze(
    hazards: gpd.GeoDataFrame,
    boundaries: Boundaries | None = None,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
    frontier_tolerance_m: float = FRONTIER_TOLERANCE_M,
    error_draws: int = DRAWS,
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
    error_draws : int
        Draws of the error budget (``summary["error_budget"]``: 5th, 50th and 95th
        percentiles of the headline figures over the frontier's, the province edges' and
        the hazards' positional errors, seeded); 0 leaves it out.

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
    plan = plan_run(
        boundaries,
        bands_km=bands_km,
        neighbor=neighbor,
        frontier_tolerance_m=frontier_tolerance_m,
        error_draws=error_draws,
    )
    log.info(
        "splitting %s hazards by province and band (%s km)",
        f"{len(hazards):,}",
        ", ".join(f"{e:g}" for e in plan.edges),
    )
    hz = AnalysedHazards.prepare(hazards)
    pieces, land_pieces = plan.pieces(hz)
    by_hazard = hazard_table(
        pieces, hz, plan.territory.provinces, plan.zones, plan.places, districts=plan.territory.districts
    )
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


@lru_cache(maxsize=1)
def _demo_result() -> AnalysisResult:
    """The bundled SYNTHETIC demo, analysed once per process."""
    log.warning("answering from the bundled SYNTHETIC demo, as asked (pass a result to use your data)")
    return analyze(read_hazards(DEMO_HAZARDS))


def as_result(result: AnalysisResult | str) -> AnalysisResult:
    """The analysis a question is asked of: ``result`` itself, or the bundled demo asked for by name.

    Parameters
    ----------
    result : AnalysisResult or str
        An analysis (:func:`analyze`), or ``"demo"`` for the bundled SYNTHETIC demo (analysed once
        per process, and said so in the log).

    Raises
    ------
    GeoInputError
        For anything else: no answer is made up from data the caller did not name.

    Examples
    --------
    >>> as_result(None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: give the analysis to answer from (geo.analyze(...)), or "demo" ...; got None
    """
    if isinstance(result, AnalysisResult):
        return result
    if isinstance(result, str) and result.strip().lower() == "demo":
        return _demo_result()
    raise GeoInputError(
        f'give the analysis to answer from (geo.analyze(...)), or "demo" for the bundled SYNTHETIC demo; got {result!r}'
    )


def _projected_boxes(bounds: np.ndarray) -> np.ndarray:
    """Boxes (rows of W, S, E, N degrees) as boxes of the analysis CRS holding their reprojection: the
    corners reprojected, the box around them widened by a metre, 0.1 % of its diagonal and the most a
    parallel's image bows from its chord (the chord squared over eight times the cone's radius, over
    20,000 km here: 0.6 m for 10 km).

    Examples
    --------
    >>> from geo.crs import transform_geoms
    >>> boxes = [shapely.box(103.0, 13.0, 103.001, 13.001), shapely.box(102.0, 10.0, 107.0, 14.5)]
    >>> outer = _projected_boxes(shapely.bounds(np.array(boxes)))
    >>> inner = shapely.bounds(transform_geoms(shapely.segmentize(np.array(boxes), 0.001), WGS84, ANALYSIS_CRS))
    >>> bool((outer[:, :2] < inner[:, :2]).all() and (outer[:, 2:] > inner[:, 2:]).all())
    True
    """
    from pyproj import Transformer

    if not len(bounds):
        return np.empty((0, 4))
    fwd = Transformer.from_crs(WGS84, ANALYSIS_CRS, always_xy=True)
    xs, ys = fwd.transform(bounds[:, [0, 2, 2, 0]], bounds[:, [1, 1, 3, 3]])
    x0, x1, y0, y1 = xs.min(axis=1), xs.max(axis=1), ys.min(axis=1), ys.max(axis=1)
    diagonal = np.hypot(x1 - x0, y1 - y0)
    pad = 1.0 + 1e-3 * diagonal + diagonal**2 / (8 * 20_000_000.0)
    return np.column_stack([x0 - pad, y0 - pad, x1 + pad, y1 + pad])


def distance_curve(
    result: AnalysisResult | str,
    *,
    max_km: float = 15.0,
    step_km: float = 0.5,
    top: int = 5,
) -> pd.DataFrame:
    """Contaminated area within distance d of the frontier, for d from 0 to ``max_km``.

    Parameters
    ----------
    result : AnalysisResult or str
        The analysis, or ``"demo"`` for the bundled SYNTHETIC demo.
    max_km, step_km : float
        The distances: 0, step, 2 step, ... up to max (included).
    top : int
        Per-province columns for the ``top`` provinces with most area within ``max_km``.

    Returns
    -------
    DataFrame
        ``distance_km``, ``total_km2`` and one ``<province>_km2`` column per top
        province.  At 2 and 7 km the total equals the analysis' ``within_2km_km2``
        and ``within_7km_km2``.

    Examples
    --------
    >>> c = distance_curve("demo", max_km=8, step_km=1, top=2)
    >>> list(c.columns)[:2], len(c)
    (['distance_km', 'total_km2'], 9)
    """
    result = as_result(result)
    if not (step_km > 0 and max_km > 0 and math.isfinite(max_km) and math.isfinite(step_km)):
        raise GeoInputError(f"need max > 0 and step > 0 km, got max {max_km}, step {step_km}")
    n = math.floor(max_km / step_km + 1e-9)
    distances = sorted({round(i * step_km, 9) for i in range(n + 1)} | {float(max_km)})
    curve = result.within(distances)
    names = dict(zip(result.provinces["code"], result.provinces["province"]))
    last = curve.drop(columns="total_km2").iloc[-1].sort_values(ascending=False)
    best = [c for c in last.index[: max(top, 0)] if last[c] > 0]
    out = pd.DataFrame({"distance_km": curve.index.to_numpy(), "total_km2": curve["total_km2"].to_numpy()})
    for code in best:
        out[f"{names[code]}_km2"] = curve[code].to_numpy()
    return out
