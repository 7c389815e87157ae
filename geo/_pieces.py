"""Pieces of an analysis: which province and band each belongs to, and the per-hazard table.

Helpers of :func:`geo.analysis.analyze`, kept apart so that the analysis reads as its steps.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.constants import ANALYSIS_CRS, OUTSIDE, WGS84

#: Columns geo adds to the piece table; a hazard column with one of these names becomes ``input_<name>``.
PIECE_COLUMNS = (
    "province", "code", "band", "inner_km", "outer_km", "area_m2", "area_km2", "share_of_hazard",
    "hazard_index", "band_index",
)  # fmt: skip
#: Columns of the piece table that index other tables of the result (``hazards`` rows and
#: ``zones`` rows, -1 outside Cambodia): kept in Python, left out of the files written.
INDEX_COLUMNS = ("hazard_index", "band_index")


def public_columns(table: pd.DataFrame) -> pd.DataFrame:
    """A piece table as written to files: without the index columns and any ``_``-prefixed ones.

    Examples
    --------
    >>> public_columns(pd.DataFrame(columns=["hazard_id", "band_index", "_tmp", "area_m2"])).columns.tolist()
    ['hazard_id', 'area_m2']
    """
    return table.drop(columns=[c for c in table.columns if str(c).startswith("_") or c in INDEX_COLUMNS])


def keep_user_columns(columns: list) -> dict:
    """New names for the user's columns that geo's piece table would overwrite: ``input_<name>``
    (``input_<name>_2`` ... when that is taken too, e.g. geo's own output read back).

    Examples
    --------
    >>> keep_user_columns(["hazard_id", "code", "input_code", "_x"])
    {'code': 'input_code_2', '_x': 'input_x'}
    """
    used, out = set(map(str, columns)), {}
    for c in columns:
        if c in PIECE_COLUMNS or str(c).startswith("_"):
            base = f"input_{str(c).lstrip('_')}"
            name, k = base, 1
            while name in used:
                k += 1
                name = f"{base}_{k}"
            used.add(name)
            out[c] = name
    return out


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


def attribute(pieces, cells, fitted, fine, owner) -> pd.DataFrame:
    """Give each piece its province and fine band; outside pieces go to the nearest province."""
    inside = pieces["cell"].to_numpy() >= 0
    cell_idx = pieces["cell"].to_numpy()
    code = np.empty(len(pieces), dtype=object)
    zone = np.full(len(pieces), -1)
    code[inside] = cells["code"].to_numpy()[cell_idx[inside]]
    zone[inside] = cells["zone"].to_numpy()[cell_idx[inside]]
    if (~inside).any():
        near = shapely.STRtree(fitted.geometry.values).query_nearest(
            shapely.point_on_surface(pieces["geometry"].to_numpy()[~inside]), all_matches=False
        )
        order = np.argsort(near[0])
        code[~inside] = fitted["code"].to_numpy()[near[1][order]]
    out = pieces.assign(code=code, fine=zone)
    out["band_idx"] = np.where(zone >= 0, owner[np.clip(zone, 0, None)], -1)
    return out


def hazard_table(pieces, hz, geoms, fitted, zones) -> gpd.GeoDataFrame:
    """One row per hazard x province x user band (fine pieces of a band merged)."""
    key = ["src", "code", "band_idx"]
    multi = pieces.duplicated(key, keep=False)
    merged = (
        pieces[multi]
        .groupby(key, sort=False)
        .agg(area_m2=("area_m2", "sum"), geometry=("geometry", lambda g: shapely.union_all(list(g))))
    )
    rows = pd.concat([pieces.loc[~multi, [*key, "area_m2", "geometry"]], merged.reset_index()], ignore_index=True)
    rows = rows.sort_values(key, kind="stable").reset_index(drop=True)
    src = rows["src"].to_numpy()
    b = rows["band_idx"].to_numpy()
    keep_cols = [c for c in hz.columns if c not in ("geometry",)]
    table = hz.iloc[src][keep_cols].reset_index(drop=True)
    names = dict(zip(fitted["code"], fitted["province"]))
    table.insert(1, "province", [names[c] for c in rows["code"]])
    table.insert(2, "code", rows["code"].to_numpy())
    table.insert(3, "band", np.where(b >= 0, zones["band"].to_numpy()[np.clip(b, 0, None)], OUTSIDE))
    table.insert(4, "inner_km", np.where(b >= 0, zones["inner_km"].to_numpy()[np.clip(b, 0, None)], np.nan))
    outer = zones["outer_km"].to_numpy()[np.clip(b, 0, None)]
    table.insert(5, "outer_km", np.where((b >= 0) & np.isfinite(outer), outer, np.nan))
    table["area_m2"] = rows["area_m2"].to_numpy()
    table["area_km2"] = table["area_m2"] / 1e6
    table["share_of_hazard"] = table["area_m2"] / shapely.area(geoms[src])
    table["hazard_index"] = src
    table["band_index"] = b
    return gpd.GeoDataFrame(table, geometry=rows["geometry"].to_numpy(), crs=ANALYSIS_CRS)
