"""Pieces of an analysis: which province and band each belongs to, and the per-hazard table.

Helpers of :func:`geo.engine.analysis.analyze`, kept apart so that the analysis reads as its steps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo._threads import valid_mask
from geo.constants import ANALYSIS_CRS, NEIGHBOR_NAMES, OUTSIDE, SEA, WGS84
from geo.crs import to_crs_dense
from geo.engine.overlay import union_groups
from geo.io.readers import FIELD_ALIASES, find_column

log = logging.getLogger("geo")

#: Columns geo adds to the piece table; a hazard column with one of these names becomes ``input_<name>``.
PIECE_COLUMNS = (
    "province", "code", "district", "district_code", "band", "inner_km", "outer_km", "lies_in", "area_m2",
    "area_km2", "share_of_hazard", "hazard_index", "band_index",
)  # fmt: skip


#: Column names GIS formats keep for themselves (any case): a GeoPackage writer takes ``fid`` as the
#: feature id (two pieces of one hazard then share it), File Geodatabases ``OBJECTID`` and
#: ``Shape_Area``/``Shape_Length``, PostGIS loads ``ogc_fid``/``gid``.  ogr2ogr into PostGIS keeps a
#: GeoPackage's ``fid`` as a column, so such layers are common input.
RESERVED_COLUMNS = frozenset(
    {"fid", "ogc_fid", "gid", "objectid", "shape_area", "shape_length", "shape_leng", "shape__area", "shape__length"}
)


def keep_user_columns(columns: list) -> dict:
    """New names for the user's columns that geo's piece table, or a format's reserved names
    (:data:`RESERVED_COLUMNS`), would overwrite: ``input_<name>`` (``input_<name>_2`` ... when that
    is taken too, e.g. geo's own output read back).

    Examples
    --------
    >>> keep_user_columns(["hazard_id", "code", "input_code", "_x", "fid", "OBJECTID"])
    {'code': 'input_code_2', '_x': 'input_x', 'fid': 'input_fid', 'OBJECTID': 'input_OBJECTID'}
    """
    used, out = set(map(str, columns)), {}
    for c in columns:
        if c in PIECE_COLUMNS or str(c).startswith("_") or str(c).lower() in RESERVED_COLUMNS:
            base = f"input_{str(c).lstrip('_')}"
            name, k = base, 1
            while name in used:
                k += 1
                name = f"{base}_{k}"
            used.add(name)
            out[c] = name
    return out


@dataclass(frozen=True)
class AnalysedHazards:
    """The hazards of one analysis, row for row: attributes, analysed geometry and area.

    Attributes
    ----------
    table : GeoDataFrame
        The user's layer with a ``hazard_id`` column (index reset; columns named like
        geo's piece columns renamed ``input_<name>``).
    geoms : ndarray of shapely geometry
        The hazards in the equal-area analysis CRS, invalid ones repaired.
    area_m2 : ndarray of float
        Their areas, m2.
    wgs84 : ndarray of shapely geometry, optional
        For a layer in WGS 84: each hazard's geometry as given, where ``geoms`` is its plain
        reprojection (None where it was repaired), so that a hazard inside one band is written back
        exactly as it came rather than reprojected twice.
    """

    table: gpd.GeoDataFrame
    geoms: np.ndarray
    area_m2: np.ndarray
    wgs84: np.ndarray | None = None

    @classmethod
    def prepare(cls, hazards: gpd.GeoDataFrame) -> AnalysedHazards:
        """Number, reproject and repair a hazard layer for the overlay."""
        hz = hazards.reset_index(drop=True)
        hz = hz.rename(columns=keep_user_columns(list(hz.columns)))
        if "hazard_id" not in hz.columns:
            id_col = find_column(hz.columns.drop(hz.geometry.name), FIELD_ALIASES["hazard_id"])
            if id_col is not None:  # e.g. SHA_ID, as read_hazards would map it
                hz = hz.assign(hazard_id=hz[id_col].astype(str).to_numpy())
            else:
                log.warning(
                    "no hazard id column recognised (columns: %s); hazards numbered row-1, row-2 ...",
                    ", ".join(map(str, hz.columns.drop(hz.geometry.name))),
                )
                hz = hz.assign(hazard_id=[f"row-{i + 1}" for i in range(len(hz))])
        geoms = to_crs_dense(hz, ANALYSIS_CRS).geometry.values.copy()
        bad = ~valid_mask(geoms)
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        wgs84 = None
        if hz.crs is not None and CRS.from_user_input(hz.crs) == CRS.from_user_input(WGS84):
            wgs84 = hz.geometry.to_numpy().copy()
            wgs84[bad] = None
        return cls(table=hz, geoms=geoms, area_m2=shapely.area(geoms), wgs84=wgs84)

    @property
    def ids(self) -> np.ndarray:
        """``hazard_id`` as strings."""
        return self.table["hazard_id"].astype(str).to_numpy()

    def layer(self) -> gpd.GeoDataFrame:
        """``hazard_id``, ``area_m2`` and the analysed geometry (analysis CRS)."""
        return gpd.GeoDataFrame({"hazard_id": self.ids, "area_m2": self.area_m2}, geometry=self.geoms, crs=ANALYSIS_CRS)


def alternative_lines(alternatives: dict) -> gpd.GeoDataFrame:
    frames = [
        gpd.GeoDataFrame(
            {"line": name, "neighbor": frame.get("neighbor", "")}, geometry=frame.geometry.values, crs=frame.crs
        ).to_crs(WGS84)
        for name, (frame, _) in alternatives.items()
    ]
    if not frames:
        return gpd.GeoDataFrame({"line": [], "neighbor": []}, geometry=[], crs=WGS84)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


def attribute(pieces, cells, fitted, fine, owner, districts=None) -> pd.DataFrame:
    """Give each piece its province, district and fine band; outside pieces go to the nearest
    province (and the nearest of its districts)."""
    inside = pieces["cell"].to_numpy() >= 0
    cell_idx = pieces["cell"].to_numpy()
    code = np.empty(len(pieces), dtype=object)
    unit = np.full(len(pieces), "", dtype=object)
    zone = np.full(len(pieces), -1)
    code[inside] = cells["code"].to_numpy()[cell_idx[inside]]
    zone[inside] = cells["zone"].to_numpy()[cell_idx[inside]]
    if "district_code" in cells.columns:
        unit[inside] = cells["district_code"].to_numpy()[cell_idx[inside]]
    if (~inside).any():
        points = shapely.point_on_surface(pieces["geometry"].to_numpy()[~inside])
        # The districts tile the provinces, so the nearest district lies in the nearest province.
        units = fitted if districts is None or not len(districts) else districts
        near = shapely.STRtree(units.geometry.values).query_nearest(points, all_matches=False)
        order = np.argsort(near[0])
        code[~inside] = units["code"].to_numpy()[near[1][order]]
        if units is districts:
            unit[~inside] = districts["district_code"].to_numpy()[near[1][order]]
    out = pieces.assign(code=code, district_code=unit, fine_index=zone)
    out["band_index"] = np.where(zone >= 0, owner[np.clip(zone, 0, None)], -1)
    return out


def lies_in(geoms: np.ndarray, outline: shapely.Geometry, borders: dict[str, shapely.Geometry]) -> np.ndarray:
    """Where pieces outside Cambodia lie: the neighbour whose land frontier is the nearest part of the
    national outline, or :data:`~geo.constants.SEA` where the coast is nearer (analysis CRS).

    The frontier lines and the outline are drawn from one source, so a frontier is as near as the
    outline where it is the nearest part of it; a 100 m allowance (and 1 % of the distance) takes
    the rest of two drawings of the same line.
    """
    out = np.full(len(geoms), SEA, dtype=object)
    if not len(geoms):
        return out
    points = shapely.point_on_surface(geoms)
    edge = shapely.boundary(outline)
    to_outline = shapely.distance(edge, points)
    best = np.full(len(geoms), np.inf)
    for iso3, line in borders.items():
        d = shapely.distance(line, points)
        closer = (d < best) & (d <= to_outline * 1.01 + 100.0)
        out[closer] = NEIGHBOR_NAMES.get(iso3.upper(), iso3)
        best = np.where(closer, d, best)
    return out


def hazard_table(
    pieces: pd.DataFrame,
    hazards: AnalysedHazards,
    fitted: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    places: tuple[shapely.Geometry, dict[str, shapely.Geometry]] | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """One row per hazard x province x user band (fine pieces of a band merged).

    ``district`` and ``district_code`` name the district holding the largest part of the piece
    (``districts``: the fitted districts; empty without them).

    ``lies_in`` says where each piece is: ``Cambodia``, or outside it, the neighbour or the sea
    (:func:`lies_in`, from ``places``: the outline and each neighbour's frontier, analysis CRS).

    For hazards given in WGS 84, a private ``_wgs84`` column holds the hazard's own geometry where the
    piece is the whole hazard (see :attr:`AnalysedHazards.wgs84`), else None.
    """
    key = ["src", "code", "band_index"]
    multi = pieces.duplicated(key, keep=False)
    groups = pieces[multi].groupby(key, sort=False)
    merged = groups.agg(area_m2=("area_m2", "sum")).reset_index()
    # One vectorised union per group (the fine pieces of a band), in the groups' order.
    _, unions = union_groups(pieces.loc[multi, "geometry"].to_numpy(), groups.ngroup().to_numpy())
    merged["geometry"] = unions
    merged["whole"] = False
    if "district_code" not in pieces.columns:
        pieces = pieces.assign(district_code="")
    # A piece of a band crossing district edges is counted in the district holding most of it.
    top = pieces.loc[multi, [*key, "district_code", "area_m2"]].sort_values("area_m2", ascending=False, kind="stable")
    merged = merged.merge(top.drop_duplicates(key)[[*key, "district_code"]], on=key, how="left")
    cols = [*key, "whole", "area_m2", "geometry", "district_code"]
    rows = pd.concat([pieces.loc[~multi, cols], merged], ignore_index=True)
    rows = rows.sort_values(key, kind="stable").reset_index(drop=True)
    src = rows["src"].to_numpy()
    b = rows["band_index"].to_numpy()
    hz = hazards.table
    keep_cols = [c for c in hz.columns if c != hz.geometry.name]
    table = pd.DataFrame(hz.iloc[src][keep_cols]).reset_index(drop=True)
    province = pd.Series(rows["code"].to_numpy(dtype=object)).map(dict(zip(fitted["code"], fitted["province"])))
    if province.isna().any():
        raise KeyError(f"pieces in provinces not fitted: {sorted(set(rows['code'][province.isna().to_numpy()]))}")
    table.insert(1, "province", province.to_numpy(dtype=object))
    table.insert(2, "code", rows["code"].to_numpy())
    unit = rows["district_code"].fillna("").to_numpy()
    unit_names = {} if districts is None else dict(zip(districts["district_code"], districts["district"]))
    district = pd.Series(unit, dtype=object).map(unit_names).to_numpy(dtype=object)
    district[pd.isna(district)] = ""  # a piece in no district (none given, or outside them all)
    table.insert(3, "district", district)
    table.insert(4, "district_code", unit)
    table.insert(5, "band", np.where(b >= 0, zones["band"].to_numpy()[np.clip(b, 0, None)], OUTSIDE))
    table.insert(6, "inner_km", np.where(b >= 0, zones["inner_km"].to_numpy()[np.clip(b, 0, None)], np.nan))
    outer = zones["outer_km"].to_numpy()[np.clip(b, 0, None)]
    table.insert(7, "outer_km", np.where((b >= 0) & np.isfinite(outer), outer, np.nan))
    where = np.full(len(rows), "Cambodia", dtype=object)
    if (b < 0).any():
        outline, borders = places if places is not None else (None, {})
        where[b < 0] = lies_in(rows["geometry"].to_numpy()[b < 0], outline, borders) if outline is not None else OUTSIDE
    table.insert(8, "lies_in", where)
    table["area_m2"] = rows["area_m2"].to_numpy()
    table["area_km2"] = table["area_m2"] / 1e6
    table["share_of_hazard"] = table["area_m2"] / hazards.area_m2[src]
    table["hazard_index"] = src
    table["band_index"] = b
    if hazards.wgs84 is not None:
        whole = rows["whole"].to_numpy(dtype=bool)
        own = np.full(len(rows), None, dtype=object)
        own[whole] = hazards.wgs84[src[whole]]
        table["_wgs84"] = own
    return gpd.GeoDataFrame(table, geometry=rows["geometry"].to_numpy(), crs=ANALYSIS_CRS)
