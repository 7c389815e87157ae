"""The boundaries' side of an analysis (:class:`RunPlan`), built once by :func:`plan_run` and shared by
every set of hazards split with it: the whole layer (:func:`geo.analyze`) or its chunks
(:func:`geo.chunked.analyze_in_chunks`); and the land's distance curves (:class:`Curves`) it sums."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import GeoInputError
from geo._pieces import AnalysedHazards, alternative_lines, attribute
from geo._result import AnalysisResult
from geo._threads import in_threads
from geo.boundaries import Boundaries, load_boundaries, neighbor_codes
from geo.constants import DEFAULT_BANDS_KM, FRONTIER_TOLERANCE_M, MILITARY_ONLY_KM, RESTRICTED_KM, WGS84
from geo.curve import metres, ranges, with_extent
from geo.overlay import Territory, build_territory, split, union_groups, union_overlapping
from geo.sensitivity import (
    SHIFTS_M,
    alternative_curves_of,
    analysed_curve,
    frontier_sensitivity,
    neighbor_curves,
    neighbor_figures,
)
from geo.summary import primary_pieces, province_table, summarize, validate_spatial
from geo.zones import band_frame, parse_bands

log = logging.getLogger("geo")


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
    """

    analysed: pd.DataFrame
    alternatives: dict[str, pd.DataFrame]
    neighbors: dict[str, pd.DataFrame]

    def __add__(self, other: Curves) -> Curves:
        return Curves(
            analysed=self.analysed.add(other.analysed, fill_value=0.0),
            alternatives={k: v.add(other.alternatives[k], fill_value=0.0) for k, v in self.alternatives.items()},
            neighbors={k: v.add(other.neighbors[k], fill_value=0.0) for k, v in self.neighbors.items()},
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

    @property
    def neighbors(self) -> list[str]:
        front = self.front
        return sorted(set(front["neighbor"].astype(str).str.upper())) if "neighbor" in front.columns else []

    def _attribute(self, geoms: np.ndarray) -> pd.DataFrame:
        t = self.territory
        return attribute(split(geoms, t.cells.geometry.values, t.land), t.cells, t.provinces, t.fine_bands, self.owner)

    def pieces(self, hz: AnalysedHazards, counted: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Split hazards by province and fine band: every hazard's pieces, and the land pieces.

        Land pieces are the union of the hazards (land counted once) cut the same way. With
        ``counted`` (polygons, analysis CRS), land inside them is left out: land another part
        of the same analysis counts (see :mod:`geo.chunked`).
        """
        geoms = hz.geoms
        pieces = self._attribute(geoms)
        shared, unions = union_overlapping(geoms)
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
        return pieces, land[["code", "fine_index", "band_index", "area_m2", "geometry"]].reset_index(drop=True)

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
        return Curves(analysed=analysed, alternatives=alternatives, neighbors=neighbors)

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
        by_province = province_table(
            fitted,
            zones=self.zones,
            fine=fine,
            pieces=pieces,
            land_pieces=land_pieces,
            by_hazard=by_hazard,
            primary=primary,
        )
        per_neighbor = neighbor_figures(curves.neighbors, codes)
        for iso3, fig in per_neighbor.items():  # each frontier on its own, next to the combined figures
            by_province[f"within_2km_{iso3}_km2"] = [fig["by_province"][c][0] for c in by_province["code"]]
            by_province[f"within_7km_{iso3}_km2"] = [fig["by_province"][c][1] for c in by_province["code"]]
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
        summary["inputs"] = {
            "hazards": source or {"file": None, "note": "in-memory layer passed to geo.analyze"},
            **{k: self.boundaries.sources.get(k) for k in ("provinces", "outline", "frontier")},
        }
        summary["neighbor"] = ",".join(neighbor_codes(self.neighbor) or ["all"])
        if summary.get("notice"):
            validation["notice"] = summary["notice"]
        summary["bands_km"] = list(edges)
        inside_km2 = summary["area_km2"] - summary["outside_cambodia_km2"]
        log.info("uncertainty ranges (frontier +/- %g m) and frontier sensitivity", self.tolerance_m)
        curve = curves.analysed
        summary["uncertainty"] = ranges(
            lambda ds: [float(curve.loc[round(d, 6), "total_km2"]) if d > 0 else 0.0 for d in ds],
            edges,
            self.tolerance_m,
            inside_km2,
        )
        for band, r in zip(summary["bands"], summary["uncertainty"]["bands"]):
            r["band"] = band["band"]
        summary["neighbors"] = self.neighbors
        summary["by_neighbor"] = [
            {"neighbor": k, "within_2km_km2": v["within_2km_km2"], "within_7km_km2": v["within_7km_km2"]}
            for k, v in per_neighbor.items()
        ]
        summary["frontier_sensitivity"] = frontier_sensitivity(
            land_pieces,
            fine,
            codes,
            t.frontier,
            edges,
            self.alternatives,
            buffers=t.buffers,
            analysed=summary["inputs"]["frontier"],
            curve=curve,
            alternative_curves=curves.alternatives,
        )
        return AnalysisResult(
            by_hazard=by_hazard,
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
        )


def plan_run(
    boundaries: Boundaries | None = None,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
    frontier_tolerance_m: float = FRONTIER_TOLERANCE_M,
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
    territory = build_territory(boundaries.provinces, boundaries.outline, front, fine_edges, shifted)
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
    )
