"""Checks and repairs of hazard geometry and coordinates (used by :mod:`geo.hazards`)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo._errors import GeoInputError
from geo.constants import WGS84

#: Cambodia's extent with a margin, lon/lat degrees: hazards far outside it point to a CRS problem.
CAMBODIA_BOX = (101.5, 9.5, 108.5, 15.5)
#: Bytes of memory a feature file needs per byte on disk, roughly (geometries, attributes, copies).
MEMORY_FACTOR = 12


def _id_list(ids) -> list[str]:
    return [str(i) for i in ids]


def clean_geometries(gdf: gpd.GeoDataFrame, report: dict) -> gpd.GeoDataFrame:
    """Drop null/empty features, flatten Z/M, keep polygon parts, repair invalid rings."""
    geoms = gdf.geometry.values
    ids = gdf["hazard_id"].to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report["dropped_empty"] = {"count": int(missing.sum()), "ids": _id_list(ids[missing])}
    keep = ~missing
    gdf, geoms, ids = gdf[keep], geoms[keep], ids[keep]
    zm = shapely.has_z(geoms) | (shapely.has_m(geoms) if hasattr(shapely, "has_m") else False)
    report["z_m_dropped"] = {"count": int(zm.sum()), "note": "3-D (Z) and measure (M) values are not used"}
    if zm.any():
        geoms = shapely.force_2d(geoms)
    invalid = ~shapely.is_valid(geoms)
    reasons = shapely.is_valid_reason(geoms[invalid])
    report["repaired"] = {
        "count": int(invalid.sum()),
        "ids": _id_list(ids[invalid]),
        "reasons": dict(zip(_id_list(ids[invalid]), reasons)),
    }
    geoms = geoms.copy()
    geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    polys, non_poly = [], []
    for hid, geom in zip(ids, geoms):
        parts = shapely.get_parts(geom)
        kinds = shapely.get_type_id(parts)
        keep_parts = parts[(kinds == 3) | (kinds == 6)]
        if len(keep_parts) < len(parts):
            non_poly.append(str(hid))
        polys.append(
            shapely.union_all(keep_parts) if len(keep_parts) > 1 else (keep_parts[0] if len(keep_parts) else None)
        )
    report["non_polygon_dropped"] = {"count": len(non_poly), "ids": non_poly}
    geoms = np.array(polys, dtype=object)
    area = np.where(shapely.is_missing(geoms), 0.0, shapely.area(geoms))
    zero = area <= 0
    report["zero_area_dropped"] = {"count": int(zero.sum()), "ids": _id_list(ids[zero])}
    out = gdf.iloc[np.flatnonzero(~zero)].copy()
    out = out.set_geometry(gpd.GeoSeries(geoms[~zero], index=out.index, crs=gdf.crs))
    return out


def _inside_box(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = CAMBODIA_BOX
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def check_coordinates(gdf: gpd.GeoDataFrame, crs, path: Path, hint_only: bool = False, per_row: bool = False):
    """Catch coordinates that cannot be right for Cambodia: swapped lat/lon, metres labelled degrees.

    Returns a hint string (``hint_only``), a report fragment (``per_row``: rows far from
    Cambodia, and those that would fall in it with lat/lon swapped), or raises
    :class:`GeoInputError` when the whole file is off.
    """
    geoms = gdf.geometry.values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return "" if hint_only else {}
    b = shapely.bounds(geoms[ok])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    if hint_only:
        if np.nanmax(np.abs(b)) > 1000:
            if (
                (np.nanmedian(cx) > 160_000)
                and (np.nanmedian(cx) < 840_000)
                and (1_000_000 < np.nanmedian(cy) < 1_800_000)
            ):
                return " (the coordinates look like UTM zone 48N metres: EPSG:32648, or EPSG:3148 for Indian 1960)"
            return " (the coordinates look like projected metres)"
        return " (the coordinates look like degrees: EPSG:4326?)"
    crs = CRS.from_user_input(crs) if crs is not None else None
    if crs is not None and crs.is_geographic:
        off = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
        if off.any():
            k = int(np.flatnonzero(ok)[np.flatnonzero(off)[0]])
            ident = gdf["hazard_id"].iloc[k] if "hazard_id" in gdf.columns else None
            where = f"row {k + 1}" + (f" (id {ident})" if ident is not None and ident == ident else "")
            if np.abs(b[off]).max() > 1e8:
                raise GeoInputError(
                    f"implausible coordinates (up to {np.abs(b[off]).max():.3g}): the file looks damaged",
                    str(path),
                    where,
                )
            if np.abs(b[off]).max() > 1000:
                raise GeoInputError(
                    f"the file says {crs.to_string()} (degrees) but coordinates reach {np.abs(b[off]).max():,.0f}: "
                    "they are projected metres; pass the right CRS with --crs (e.g. EPSG:32648)",
                    str(path),
                    where,
                )
            raise GeoInputError(
                f"latitude {b[off][0, 1]:.4f} is beyond ±90 degrees: did you swap lat/lon?", str(path), where
            )
    if crs is None:
        return {}
    lonlat = gpd.GeoSeries(shapely.points(cx, cy), crs=crs).to_crs(WGS84)
    x, y = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    inside = _inside_box(x, y)
    swapped = ~inside & _inside_box(y, x)
    if not per_row:
        if not inside.any():
            if swapped.all():
                raise GeoInputError(
                    "no hazard lies in or near Cambodia, but all would with x and y exchanged: did you swap lat/lon?",
                    str(path),
                )
            raise GeoInputError(
                f"no hazard lies in or near Cambodia (they centre on lon {np.nanmedian(x):.3f}, "
                f"lat {np.nanmedian(y):.3f}"
                f" in {crs.to_string()}); is the CRS right? pass the right one with --crs",
                str(path),
            )
        return {}
    ids = gdf["hazard_id"].to_numpy()[ok] if "hazard_id" in gdf.columns else np.arange(len(gdf))[ok]
    return {
        "far_from_cambodia": {"count": int((~inside).sum()), "ids": [str(i) for i in ids[~inside]]},
        "swapped_lat_lon_suspected": {
            "count": int(swapped.sum()),
            "ids": [str(i) for i in ids[swapped]],
            "note": "these lie far from Cambodia but would fall in it with lat/lon swapped: did you swap lat/lon?",
        },
    }


def check_memory(path: Path) -> None:
    """Refuse, with a clear message, a file that would not fit in memory.

    ``GEO_MAX_MEMORY`` (bytes) caps the memory geo assumes it may use.
    """
    size = path.stat().st_size
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                size = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError):
            pass
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        avail = None
    cap = os.environ.get("GEO_MAX_MEMORY")
    if cap:
        avail = min(avail or int(cap), int(cap))
    need = size * MEMORY_FACTOR
    if avail is not None and need > avail:
        raise GeoInputError(
            f"a {size / 1e6:,.0f} MB file needs about {need / 1e9:,.1f} GB of memory to analyse; "
            f"{avail / 1e9:,.1f} GB are available. Split it (e.g. by province) or use a larger machine",
            str(path),
        )
