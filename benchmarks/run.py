"""Benchmarks of geo's overlay engine against the plain GeoPandas route.

Run from the repository root::

    python benchmarks/run.py            # 43,300 synthetic hazards (10x the demo)
    python benchmarks/run.py --n 5000   # quicker

Each line prints the baseline time, geo's time and the ratio, all measured in
this run on this machine, and checks that both routes give the same areas.
"""

from __future__ import annotations

import argparse
import math
import time

import geopandas as gpd
import numpy as np
import shapely

import geo
from geo.constants import ANALYSIS_CRS
from geo.engine.boundaries import fit_provinces
from geo.engine.overlay import make_cells, split, union_overlapping
from geo.engine.zones import border_zones


def synthetic_hazards(n: int, boundaries: geo.Boundaries, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` irregular polygons (300 m2 to ~2 km2) scattered near the Thai frontier; some overlap."""
    rng = np.random.default_rng(seed)
    land = shapely.union_all(boundaries.outline.to_crs(ANALYSIS_CRS).geometry.values)
    zone = shapely.intersection(
        shapely.buffer(shapely.union_all(boundaries.frontier_with("THA").to_crs(ANALYSIS_CRS).geometry.values), 25_000),
        shapely.buffer(land, -200),
    )
    shapely.prepare(zone)
    x0, y0, x1, y1 = zone.bounds
    pts = np.empty((0, 2))
    while len(pts) < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(4 * n, 2))
        pts = np.vstack([pts, xy[shapely.contains_xy(zone, xy[:, 0], xy[:, 1])]])
    pts = pts[:n]
    radius = np.sqrt(rng.lognormal(10.5, 1.1, n).clip(300, 2e6) / math.pi)
    t = np.linspace(0, 2 * math.pi, 24, endpoint=False)
    wobble = 1 + 0.25 * np.sin(np.outer(rng.integers(2, 5, n), t) + rng.uniform(0, 6, (n, 1)))
    rings = np.stack(
        [pts[:, :1] + radius[:, None] * wobble * np.cos(t), pts[:, 1:] + radius[:, None] * wobble * np.sin(t)], axis=-1
    )
    return gpd.GeoDataFrame({"hazard_id": np.arange(n)}, geometry=shapely.polygons(rings), crs=ANALYSIS_CRS)


def timed(fn, repeat: int = 1):
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=43_300)
    args = parser.parse_args()
    b = geo.load_boundaries()
    land = shapely.union_all(b.outline.to_crs(ANALYSIS_CRS).geometry.values)
    zones = border_zones(b.frontier_with("THA"), b.outline, bands_km=(2, 5, 7))
    fitted, _ = fit_provinces(b.provinces.to_crs(ANALYSIS_CRS), b.outline.to_crs(ANALYSIS_CRS))
    cells = make_cells(fitted, zones)
    hz = synthetic_hazards(args.n, b)
    geoms = hz.geometry.values
    print(f"{len(hz):,} synthetic hazards, {len(cells)} province x band cells")

    # 1. Splitting hazards by cells: geopandas.overlay vs geo's STRtree + contains_properly.
    t_base, base = timed(lambda: gpd.overlay(hz, cells, how="intersection", keep_geom_type=True))
    t_geo, pieces = timed(lambda: split(geoms, cells.geometry.values, land))
    base_area = base.area.groupby([base["code"], base["zone"]]).sum()
    inside = pieces[pieces["cell"] >= 0]
    geo_area = inside.groupby([cells["code"].to_numpy()[inside["cell"]], cells["zone"].to_numpy()[inside["cell"]]])[
        "area_m2"
    ].sum()
    diff = np.abs(base_area.sort_index().to_numpy() - geo_area.sort_index().to_numpy()).max()
    print(
        f"split by cells   overlay {t_base:6.2f} s   geo {t_geo:6.2f} s   "
        f"ratio {t_base / t_geo:5.1f}x   max area diff {diff:.3g} m2"
    )

    # 2. Land counted once: union_all of everything vs union within overlap components.
    t_base, whole = timed(lambda: shapely.union_all(geoms))

    def by_components():
        shared, unions = union_overlapping(geoms)
        return shapely.area(geoms[~shared]).sum() + shapely.area(unions).sum()

    t_geo, area = timed(by_components)
    print(
        f"union area       union_all {t_base:6.2f} s   geo {t_geo:6.2f} s   "
        f"ratio {t_base / t_geo:5.1f}x   area diff {abs(whole.area - area):.3g} m2"
    )

    # 3. The whole analysis on the bundled demo, against the same analysis with overlay for the split.
    demo = geo.read_hazards(geo.DEMO_HAZARDS)
    t_geo, _ = timed(lambda: geo.analyze(demo, boundaries=b), repeat=3)
    demo_a = demo.to_crs(ANALYSIS_CRS)
    t_base, _ = timed(lambda: gpd.overlay(demo_a, cells, how="intersection", keep_geom_type=True), repeat=3)
    print(
        f"demo analyze     geo.analyze {t_geo:6.2f} s (whole job); geopandas.overlay of the split alone {t_base:6.2f} s"
    )


if __name__ == "__main__":
    main()
