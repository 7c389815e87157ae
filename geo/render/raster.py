"""GeoTIFF density rasters: contaminated area per grid cell, exactly.

Each cell holds the area (m2) of the land-once hazard pieces inside it, from
exact polygon-cell intersections in the equal-area analysis CRS, so the
raster sums to the analysis' contaminated area.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin

from geo.constants import ANALYSIS_CRS, ANALYSIS_CRS_NAME
from geo.engine.analysis import AnalysisResult
from geo.io.writers import atomic_write


def density_grid(result: AnalysisResult, cell_m: float = 1000.0) -> tuple[np.ndarray, tuple[float, float]]:
    """Contaminated area (m2) per square cell over the territory, land counted once.

    Parameters
    ----------
    result : AnalysisResult
    cell_m : float
        Cell side, m, in the equal-area analysis CRS (so every cell is cell_m² on the ground).

    Returns
    -------
    grid : ndarray (rows, cols) of float64
        Row 0 is the northern edge.
    origin : (x, y)
        Upper-left corner, analysis CRS metres.
    """
    x0, y0, x1, y1 = result.territory.land.bounds
    x0, y0 = np.floor(x0 / cell_m) * cell_m, np.floor(y0 / cell_m) * cell_m
    x1, y1 = np.ceil(x1 / cell_m) * cell_m, np.ceil(y1 / cell_m) * cell_m
    ncol, nrow = round((x1 - x0) / cell_m), round((y1 - y0) / cell_m)
    grid = np.zeros((nrow, ncol))
    pieces = result.land_pieces
    geoms = pieces.loc[pieces["fine_index"] >= 0, "geometry"].to_numpy()
    if len(geoms):
        b = shapely.bounds(geoms)
        c0 = np.clip(np.floor((b[:, 0] - x0) / cell_m).astype(int), 0, ncol - 1)
        c1 = np.clip(np.floor((b[:, 2] - x0) / cell_m).astype(int), 0, ncol - 1)
        r0 = np.clip(np.floor((y1 - b[:, 3]) / cell_m).astype(int), 0, nrow - 1)
        r1 = np.clip(np.floor((y1 - b[:, 1]) / cell_m).astype(int), 0, nrow - 1)
        parts = []
        for i in range(len(geoms)):
            rr, cc = np.meshgrid(np.arange(r0[i], r1[i] + 1), np.arange(c0[i], c1[i] + 1), indexing="ij")
            parts.append(np.stack([np.full(rr.size, i), rr.ravel(), cc.ravel()]))
        idx, rows, cols = np.concatenate(parts, axis=1)
        boxes = shapely.box(x0 + cols * cell_m, y1 - (rows + 1) * cell_m, x0 + (cols + 1) * cell_m, y1 - rows * cell_m)
        whole = shapely.contains_properly(boxes, geoms[idx])
        area = np.where(whole, shapely.area(geoms[idx]), 0.0)
        cut = ~whole
        area[cut] = shapely.area(shapely.intersection(geoms[idx[cut]], boxes[cut]))
        np.add.at(grid, (rows, cols), area)
    return grid, (float(x0), float(y1))


#: density.tif's value for cells wholly outside Cambodia (no land to be contaminated).
NODATA = -9999.0


def named_analysis_crs() -> rasterio.crs.CRS:
    """The analysis CRS with its name (:data:`geo.constants.ANALYSIS_CRS_NAME`) and that of its datum's
    geographic CRS, as rasterio writes it into a GeoTIFF."""
    from pyproj import CRS

    spec = CRS(ANALYSIS_CRS).to_json_dict()
    spec["name"] = ANALYSIS_CRS_NAME
    spec["base_crs"]["name"] = "WGS 84"
    return rasterio.crs.CRS.from_wkt(CRS.from_json_dict(spec).to_wkt())


def outside_land(
    result: AnalysisResult, shape: tuple[int, int], origin: tuple[float, float], cell_m: float
) -> np.ndarray:
    """Cells of the grid that touch no land of Cambodia (analysis CRS)."""
    nrow, ncol = shape
    ox, oy = origin
    rows, cols = np.meshgrid(np.arange(nrow), np.arange(ncol), indexing="ij")
    boxes = shapely.box(ox + cols * cell_m, oy - (rows + 1) * cell_m, ox + (cols + 1) * cell_m, oy - rows * cell_m)
    land = result.territory.land
    shapely.prepare(land)
    return ~shapely.intersects(land, boxes)


def write_density(result: AnalysisResult, path: str | Path, cell_m: float = 1000.0) -> Path:
    """Write the density grid as a compressed GeoTIFF (float32, m2 per cell), atomically.

    Cells wholly outside Cambodia are nodata (:data:`NODATA`); the CRS carries its name."""
    grid, (ox, oy) = density_grid(result, cell_m)
    grid = np.where(outside_land(result, grid.shape, (ox, oy), cell_m) & (grid == 0), NODATA, grid)
    profile = {
        "driver": "GTiff",
        "height": grid.shape[0],
        "width": grid.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": named_analysis_crs(),
        "transform": from_origin(ox, oy, cell_m, cell_m),
        "compress": "deflate",
        "nodata": NODATA,
    }
    tags = {
        "UNITS": "m2 of contaminated land per cell (overlaps counted once)",
        "CELL_M": f"{cell_m:g}",
        "SOURCE": "geo density raster",
    }
    if result.summary.get("notice"):
        tags["NOTICE"] = result.summary["notice"]

    def _write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(grid.astype("float32"), 1)
            dst.update_tags(**tags)
            dst.set_band_description(1, "contaminated area, m2 per cell")

    path = Path(path)
    atomic_write(path, _write)
    return path
