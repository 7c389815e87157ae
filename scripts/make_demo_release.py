"""Generate the bundled SYNTHETIC demo release layer, ``data/release/demo_release_2023.gpkg``.

Real release polygons are not public.  This script makes synthetic polygons of
land released in 2023 whose areas reproduce Mine Action Review 2024 to the
square metre:

* cancelled through non-technical survey, per province: Table 5;
* reduced through technical survey, per province: Table 6;
* cleared, per province (Table 7) and at the same time per operator (Table 8),
  each operator only in the provinces Table 8 names for it.  The split of each
  operator's clearance over its provinces is not published; it is one
  integer solution of the two sets of totals (a maximum flow), not a fact.

Tables 5 and 6 give no operator, so those polygons carry ``operator =
"unattributed"``.  Every polygon lies wholly inside its province, keeps clear of
the demo hazards (released land is no longer suspected) and of every other
release polygon.  The military's clearance is drawn partly into the 7 km belt,
CMAC's and the international operators' mostly beyond it, as the review
describes.  They are NOT real release locations.

Usage::

    python scripts/make_demo_release.py [--seed 2024] [--out PATH]
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections import deque
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from make_demo_hazards import blob, sample_points, shaped, sizes, write_synthetic  # noqa: E402

from geo.constants import ANALYSIS_CRS, RELEASE_SYNTHETIC_NOTICE, WGS84  # noqa: E402
from geo.engine.boundaries import load_boundaries  # noqa: E402
from geo.engine.zones import frontier_buffers  # noqa: E402
from geo.names import province_code  # noqa: E402

OUT = ROOT / "data" / "release" / "demo_release_2023.gpkg"
REF = ROOT / "data" / "reference"
HAZARDS = ROOT / "data" / "hazards" / "demo_sha_2023.gpkg"
MILITARY = {"RCA", "NPMEC"}
MARGIN_M = 30.0
GAP_M = 10.0
#: Mean size of a synthetic release polygon, m2 (the number per province and operator follows).
MEAN_M2 = 450_000.0


def max_flow_split(supply: dict[str, int], demand: dict[str, int], allowed: dict[str, set[str]]) -> dict:
    """An integer operator x province matrix with the given row and column sums (augmenting paths).

    ``supply`` is each operator's total, ``demand`` each province's, ``allowed`` the provinces
    an operator may take.  Raises SystemExit when the totals cannot be met.
    """
    flow: dict[tuple[str, str], int] = {}
    left = dict(supply)
    need = dict(demand)

    def residual(o: str, p: str) -> int:
        return flow.get((o, p), 0)

    while any(v > 0 for v in left.values()):
        # Breadth-first search from operators with supply left to provinces with demand left.
        start = [o for o, v in left.items() if v > 0]
        parent: dict = {("o", o): None for o in start}
        queue = deque(("o", o) for o in start)
        end = None
        while queue and end is None:
            kind, name = queue.popleft()
            if kind == "o":
                for p in sorted(allowed[name]):
                    if ("p", p) not in parent:
                        parent[("p", p)] = (kind, name)
                        if need[p] > 0:
                            end = ("p", p)
                            break
                        queue.append(("p", p))
            else:
                for o in sorted(supply):
                    if name in allowed[o] and residual(o, name) > 0 and ("o", o) not in parent:
                        parent[("o", o)] = (kind, name)
                        queue.append(("o", o))
        if end is None:
            raise SystemExit("the operator and province totals cannot both be met")
        path = [end]
        while parent[path[-1]] is not None:
            path.append(parent[path[-1]])
        path.reverse()
        amount = min(left[path[0][1]], need[end[1]])
        for a, b in itertools.pairwise(path):
            if a[0] == "p":  # a backward step takes flow away from an operator-province pair
                amount = min(amount, residual(b[1], a[1]))
        for a, b in itertools.pairwise(path):
            if a[0] == "o":
                flow[(a[1], b[1])] = flow.get((a[1], b[1]), 0) + amount
            else:
                flow[(b[1], a[1])] -= amount
        left[path[0][1]] -= amount
        need[end[1]] -= amount
    return {k: v for k, v in flow.items() if v > 0}


def tasks() -> list[dict]:
    """One task per method x operator x province: the area to place, m2."""
    out = []
    for table, column, method in (
        ("table5_nts_cancelled_2023.csv", "area_cancelled_m2", "cancelled"),
        ("table6_ts_reduced_2023.csv", "area_reduced_m2", "reduced"),
    ):
        for _, row in pd.read_csv(REF / table).iterrows():
            out.append({"method": method, "operator": "unattributed", "province": row["province"], "m2": row[column]})
    t7 = pd.read_csv(REF / "table7_clearance_2023.csv")
    t8 = pd.read_csv(REF / "table8_clearance_by_operator_2023.csv")
    name_of = {province_code(p): p for p in t7["province"]}
    demand = {province_code(p): int(a) for p, a in zip(t7["province"], t7["area_cleared_m2"])}
    supply = dict(zip(t8["operator"], t8["area_cleared_m2"].astype(int)))
    allowed = {o: {province_code(p.strip()) for p in ps.split(";")} for o, ps in zip(t8["operator"], t8["provinces"])}
    for (operator, code), m2 in sorted(max_flow_split(supply, demand, allowed).items()):
        out.append({"method": "cleared", "operator": operator, "province": name_of[code], "m2": m2})
    return out


def make(seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    b = load_boundaries()
    land = shapely.union_all(b.outline.to_crs(ANALYSIS_CRS).geometry.values)
    provinces = b.provinces.to_crs(ANALYSIS_CRS).set_index("code")
    lines = b.frontier.geometry.values
    _strip, mid, zone = frontier_buffers(lines, [2000.0, 5000.0, 7000.0])
    hazards = gpd.read_file(HAZARDS, engine="pyogrio").to_crs(ANALYSIS_CRS).geometry.values
    taken = shapely.STRtree(shapely.buffer(hazards, GAP_M))
    placed_by_code: dict[str, list] = {}
    rows = []
    for task in tasks():
        code = province_code(task["province"])
        domain = shapely.buffer(shapely.intersection(provinces.geometry[code], land), -MARGIN_M)
        shapely.prepare(domain)
        regions = {
            "any": domain,
            "belt": shapely.intersection(domain, zone),
            "5-7": shapely.intersection(domain, shapely.difference(zone, mid)),
            "inland": shapely.difference(domain, zone),
        }
        n = max(1, min(120, round(task["m2"] / MEAN_M2)))
        areas = np.sort(sizes(int(task["m2"]), n, rng))[::-1]
        placed = placed_by_code.setdefault(code, [])
        for i, area in enumerate(areas):
            u = rng.uniform()
            if task["operator"] in MILITARY:
                kind = "belt" if u < 0.6 else "any"
            elif task["operator"] == "unattributed":
                kind = "any"
            else:
                kind = "5-7" if u < 0.1 else "inland"
            region = regions[kind] if not regions[kind].is_empty else domain
            for attempt in range(600):
                if attempt == 300:
                    region = domain
                c = sample_points(region, 1, rng)[0]
                poly = shaped(c, area, blob(rng, rng.uniform(1.0, 1.8), rng.uniform(0, math.pi)))
                if not poly.is_valid or not domain.contains(poly):
                    continue
                if taken.query(poly, predicate="intersects").size:
                    continue
                near = shapely.buffer(poly, GAP_M)
                if placed and shapely.STRtree(placed).query(near, predicate="intersects").size:
                    continue
                placed.append(poly)
                break
            else:
                raise SystemExit(f"could not place {task} polygon {i} ({area} m2)")
            day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))
            rows.append(
                {
                    "release_id": f"DEMO-R-{code.replace('KH-', '').zfill(2)}-{len(rows) + 1:05d}",
                    "date": day.date().isoformat(),
                    "method": task["method"],
                    "operator": task["operator"],
                    "province_recorded": task["province"],
                    "area_recorded_m2": float(area),
                    "synthetic": True,
                    "geometry": poly,
                }
            )
        print(f"{task['method']:9s} {task['operator']:12s} {task['province']:18s} {n:4d} polygons {task['m2']:>12,} m2")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=ANALYSIS_CRS)
    return gdf.to_crs(WGS84)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    gdf = make(args.seed)
    write_synthetic(gdf, args.out, "demo_release_2023", RELEASE_SYNTHETIC_NOTICE, args.seed)
    print(f"wrote {len(gdf)} synthetic release polygons to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
