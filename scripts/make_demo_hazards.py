"""Generate the bundled SYNTHETIC demo hazards, ``data/hazards/demo_sha_2023.gpkg``.

Real suspected hazardous area (SHA) polygons are not public.  This script
makes 4,330 synthetic polygons whose per-province counts and summed areas
equal Mine Action Review 2024, Table 1 (AP mined area at end 2023) to the
square metre.  Each polygon lies wholly inside its province and inside the
national outline, none overlap, and the contamination is drawn towards the
international borders (about half the area within 7 km, as Cambodia has
stated), with dense, belt-like polygons near the Thai frontier (the K5 mine
belt).  They are NOT real hazard locations.

Usage::

    python scripts/make_demo_hazards.py [--seed 2023] [--out PATH]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.constants import ANALYSIS_CRS, GPKG_VERSION, SYNTHETIC_NOTICE, WGS84  # noqa: E402
from geo.engine.boundaries import load_boundaries  # noqa: E402
from geo.engine.zones import frontier_buffers  # noqa: E402
from geo.names import province_code  # noqa: E402

OUT = ROOT / "data" / "hazards" / "demo_sha_2023.gpkg"
TABLE1 = ROOT / "data" / "reference" / "table1_ap_mined_area_2023.csv"
#: Share of a province's hazards drawn into the Thai K5 belt (0-2.5 km) and
#: into the 7 km zone of any frontier; the rest fall anywhere in the province.
BELT_SHARE = 0.30
ZONE_SHARE = 0.22
MARGIN_M = 30.0  # hazards keep this far inside province and outline edges
GAP_M = 10.0  # and this far from each other


def sample_points(region: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly distributed in ``region`` (rejection sampling)."""
    shapely.prepare(region)
    x0, y0, x1, y1 = region.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(max(4 * n, 2000), 2))
        out = np.vstack([out, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return out[:n]


def blob(rng: np.random.Generator, aspect: float, angle: float) -> np.ndarray:
    """An irregular closed ring of unit-ish size (smooth random radius)."""
    n = 48
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 6):
        r += rng.normal(0, 0.18 / k) * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 0.35, None)
    x, y = r * np.cos(t) * aspect, r * np.sin(t) / aspect
    ca, sa = math.cos(angle), math.sin(angle)
    return np.column_stack([x * ca - y * sa, x * sa + y * ca])


def shaped(center: np.ndarray, area_m2: float, ring: np.ndarray) -> shapely.Polygon:
    """Polygon of ``ring``'s shape, scaled to ``area_m2`` exactly, centred on ``center``."""
    poly = shapely.Polygon(ring)
    scale = math.sqrt(area_m2 / poly.area)
    return shapely.Polygon(ring * scale + center)


def sizes(total_m2: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` lognormal areas summing to ``total_m2`` exactly (to 0.01 m2), 300 m2 .. 4.5 km2."""
    raw = rng.lognormal(0.0, 1.25, n)
    for _ in range(50):
        a = raw / raw.sum() * total_m2
        a = np.clip(a, 300.0, 4.5e6)
        raw = a
    a = np.round(a / a.sum() * total_m2, 2)
    a[np.argmax(a)] += round(total_m2 - a.sum(), 2)
    return a


def frontier_direction(point: np.ndarray, line_a: shapely.Geometry) -> float:
    """Angle (radians) of the frontier near ``point`` in the analysis CRS."""
    d = shapely.line_locate_point(line_a, shapely.Point(point))
    p0 = shapely.line_interpolate_point(line_a, max(d - 500, 0))
    p1 = shapely.line_interpolate_point(line_a, d + 500)
    return math.atan2(p1.y - p0.y, p1.x - p0.x)


def make(seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    b = load_boundaries()
    land = shapely.union_all(b.outline.to_crs(ANALYSIS_CRS).geometry.values)
    provinces = b.provinces.to_crs(ANALYSIS_CRS).set_index("code")
    thai = b.frontier_with("THA").geometry.values
    belt_all, zone_all = frontier_buffers(thai, [2500.0])[0], frontier_buffers(b.frontier.geometry.values, [7000.0])[0]
    thai_line = shapely.line_merge(shapely.union_all(gpd.GeoSeries(thai, crs=WGS84).to_crs(ANALYSIS_CRS).values))
    table = pd.read_csv(TABLE1)
    rows = []
    for _, ref in table.iterrows():
        code = province_code(ref["province"])
        domain = shapely.buffer(shapely.intersection(provinces.geometry[code], land), -MARGIN_M)
        shapely.prepare(domain)
        belt = shapely.intersection(domain, belt_all)
        zone = shapely.intersection(domain, zone_all)
        n, total = int(ref["shas"]), int(ref["area_m2"])
        areas = np.sort(sizes(total, n, rng))[::-1]
        placed: list[shapely.Polygon] = []
        for k, area in enumerate(areas):
            u = rng.uniform()
            kind = (
                "belt"
                if (u < BELT_SHARE and not belt.is_empty)
                else ("zone" if u < BELT_SHARE + ZONE_SHARE and not zone.is_empty else "any")
            )
            region = {"belt": belt, "zone": zone, "any": domain}[kind]
            for attempt in range(400):
                if attempt == 200:
                    region = domain  # a large polygon that does not fit a narrow belt goes inland
                    kind = "any"
                c = sample_points(region, 1, rng)[0]
                if kind == "belt":
                    ring = blob(rng, rng.uniform(2.0, 3.5), frontier_direction(c, thai_line))
                else:
                    ring = blob(rng, rng.uniform(1.0, 1.8), rng.uniform(0, math.pi))
                poly = shaped(c, area, ring)
                if not poly.is_valid or not domain.contains(poly):
                    continue
                near = shapely.buffer(poly, GAP_M)
                # Keep a gap of GAP_M to every hazard already placed.
                if placed and shapely.STRtree(placed).query(near, predicate="intersects").size:
                    continue
                placed.append(poly)
                break
            else:
                raise SystemExit(f"could not place hazard {k} of {ref['province']} ({area} m2)")
            density = "dense" if kind == "belt" else str(rng.choice(["scattered", "mixed AP/AV"], p=[0.75, 0.25]))
            rows.append(
                {
                    "hazard_id": f"DEMO-{code.replace('KH-', '').zfill(2)}-{k + 1:04d}",
                    "province_recorded": ref["province"],
                    "status": "SHA",
                    "hazard_type": "AP mined area",
                    "device_type": "AP",
                    "density": density,
                    "area_recorded_m2": float(area),
                    "synthetic": True,
                    "geometry": poly,
                }
            )
        print(f"{ref['province']:18s} {n:5d} placed, {sum(p.area for p in placed):,.2f} m2 (table {total:,})")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=ANALYSIS_CRS)
    return gdf.to_crs(WGS84)


def write_synthetic(gdf: gpd.GeoDataFrame, out: Path, layer: str, notice: str, seed: int) -> None:
    """Write a synthetic layer to a GeoPackage, atomically, saying it is synthetic in the layer's metadata."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    gdf.to_file(
        tmp,
        layer=layer,
        driver="GPKG",
        engine="pyogrio",
        layer_metadata={"SYNTHETIC": "yes", "NOTICE": notice, "SEED": str(seed)},
        VERSION=GPKG_VERSION,
    )
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    gdf = make(args.seed)
    write_synthetic(gdf, args.out, "demo_sha_2023", SYNTHETIC_NOTICE, args.seed)
    print(f"wrote {len(gdf)} synthetic hazards to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
