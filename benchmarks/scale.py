"""Scale: ``geo analyze`` end to end on growing synthetic layers, and site checks by the thousand.

Run from the repository root::

    python benchmarks/scale.py                               # 43,300 hazards, 1,000 sites (~2 min)
    python benchmarks/scale.py --sizes 43300,433000 --sites 10000

Every measurement runs in a child process of its own (so its peak memory is its own):

* ``geo``: ``geo analyze FILE -q`` on a GeoPackage of seeded synthetic hazards, wall time
  and peak RSS; ``--layout demo`` (default) spreads them like the demo (its polygons copied,
  shrunk and scattered, so the overlap stays the demo's at any size), ``--layout frontier``
  packs ``benchmarks/run.py``'s polygons within 25 km of the Thai frontier (at 433,000 they
  merge into huge overlap components: a stress case, not a realistic one);
* ``plain``: what a GeoPandas user would write - read, ``to_crs``, ``geopandas.overlay``
  with the province x band cells, then ``union_all`` per cell for land counted once -
  on the same file, up to ``--plain-max`` hazards (it grows much faster than geo);
* ``xlsx``: writing ``tables.xlsx`` (``--xlsx``) for that analysis, the analysis not timed;
* ``sites``: ``where --file`` for N random sites in Cambodia against an analysis of the
  largest layer: all at once (``geo.sites.where_points``), and site by site
  (``geo.queries.where``) on the first 200, with the largest difference between them.

The table prints times, peak memory and the ratio plain / geo, all from this run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_geo(path: str, out: str) -> dict:
    from geo.cli import main

    t0 = time.perf_counter()
    code = main(["analyze", path, "-q", "--out", out])
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "exit": code}


def child_xlsx(path: str, out: str) -> dict:
    """``tables.xlsx`` of an analysis of the file (the analysis itself not timed)."""
    import geo
    from geo.export import write_xlsx

    result = geo.analyze(geo.read_hazards(path))
    t0 = time.perf_counter()
    write_xlsx(result, Path(out))
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "rows": len(result.by_hazard)}


def child_plain(path: str) -> dict:
    import geopandas as gpd
    import shapely

    import geo
    from geo.boundaries import fit_provinces
    from geo.constants import ANALYSIS_CRS
    from geo.overlay import make_cells
    from geo.zones import border_zones

    b = geo.load_boundaries()
    zones = border_zones(b.frontier_with("THA"), b.outline, bands_km=(2, 5, 7))
    fitted, _ = fit_provinces(b.provinces.to_crs(ANALYSIS_CRS), b.outline.to_crs(ANALYSIS_CRS))
    cells = make_cells(fitted, zones)
    t0 = time.perf_counter()
    hz = gpd.read_file(path, engine="pyogrio").to_crs(ANALYSIS_CRS)
    hz["geometry"] = shapely.make_valid(hz.geometry.values)
    pieces = gpd.overlay(hz, cells, how="intersection", keep_geom_type=True)
    area = {key: shapely.union_all(g.geometry.values).area for key, g in pieces.groupby(["code", "zone"])}
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "area_km2": sum(area.values()) / 1e6}


def child_sites(n: int, path: str) -> dict:
    """``where --file`` for ``n`` random sites in Cambodia against an analysis of ``path`` (not timed):
    all sites at once (:func:`geo.sites.where_points`), and site by site (:func:`geo.queries.where`)
    on the first 200, with the largest difference between the two."""
    import numpy as np
    import shapely

    import geo
    from geo.constants import ANALYSIS_CRS, WGS84
    from geo.crs import transform_geoms
    from geo.queries import where
    from geo.sites import where_points

    result = geo.analyze(geo.read_hazards(path))
    land = result.territory.land
    rng = np.random.default_rng(2024)
    x0, y0, x1, y1 = land.bounds
    pts = np.empty((0, 2))
    while len(pts) < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(4 * n, 2))
        pts = np.vstack([pts, xy[shapely.contains_xy(land, xy[:, 0], xy[:, 1])]])
    sites = transform_geoms(shapely.points(pts[:n]), ANALYSIS_CRS, WGS84)
    lat, lon = shapely.get_y(sites), shapely.get_x(sites)
    where(lat[0], lon[0], result=result)  # the result's indexes built once, as the CLI does
    t0 = time.perf_counter()
    bulk = where_points(lat, lon, result)
    seconds = time.perf_counter() - t0
    k = min(n, 200)
    t0 = time.perf_counter()
    one = [where(a, b, result=result) for a, b in zip(lat[:k], lon[:k])]
    per_site = (time.perf_counter() - t0) / k
    diff = max(abs(a["distance_to_frontier_m"] - b["distance_to_frontier_m"]) for a, b in zip(bulk, one))
    return {"seconds": seconds, "per_site_ms": per_site * 1e3, "max_diff_m": diff, "hazards": len(result.hazards)}


def demo_like(n: int, seed: int = 7, part: tuple[int, int] | None = None):
    """``n`` hazards spread like the demo's: each demo polygon copied ``n / 4330`` times, shrunk so the
    total area stays the demo's, and placed at random in the original's bounding box (few overlaps,
    about as many as the demo has, whatever ``n``).  ``part=(start, stop)``: only those rows, drawn
    from a generator of their own (for layers made a part at a time, see :func:`write_layer`)."""
    import numpy as np
    import shapely

    import geo
    from geo.constants import ANALYSIS_CRS

    demo = geo.read_hazards(geo.DEMO_HAZARDS).to_crs(ANALYSIS_CRS)
    geoms = shapely.get_exterior_ring(demo.geometry.values)
    k = max(1, round(n / len(demo)))
    reps = np.resize(np.arange(len(demo)), n) if n < len(demo) * k else np.repeat(np.arange(len(demo)), k)[:n]
    start, stop = part or (0, n)
    reps = reps[start:stop]
    rng = np.random.default_rng(seed if part is None else [seed, start])
    bounds = shapely.bounds(geoms)[reps]
    centre = shapely.get_coordinates(shapely.centroid(geoms))[reps]
    target = np.column_stack([rng.uniform(bounds[:, 0], bounds[:, 2]), rng.uniform(bounds[:, 1], bounds[:, 3])])
    coords, index = shapely.get_coordinates(geoms[reps], return_index=True)
    moved = (coords - centre[index]) / np.sqrt(k) + target[index]
    rings = shapely.linearrings(moved, indices=index)
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{i}" for i in range(start, stop)]}, geometry=shapely.polygons(rings), crs=ANALYSIS_CRS
    ).to_crs("EPSG:4326")


#: Rows generated at a time for layers larger than this.
PART_ROWS = 1_000_000


def write_layer(path: Path, n: int, seed: int = 7) -> None:
    """Write :func:`demo_like` hazards to a GeoPackage; above :data:`PART_ROWS` a part at a time
    (bounded memory), each part from its own generator."""
    if n <= PART_ROWS:
        demo_like(n, seed).to_file(path, engine="pyogrio")
        return
    for start in range(0, n, PART_ROWS):
        part = demo_like(n, seed, part=(start, min(start + PART_ROWS, n)))
        part.to_file(path, engine="pyogrio", append=start > 0)


def spawn(*args: str) -> dict:
    run = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="43300", help="hazard counts, comma-separated")
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--plain-max", type=int, default=50_000, help="largest layer the plain route is run on")
    parser.add_argument(
        "--layout",
        default="demo",
        choices=("demo", "frontier"),
        help="demo: spread like the demo (few overlaps, any size); frontier: benchmarks/run.py's layer packed "
        "within 25 km of the Thai frontier (heavy overlaps at large sizes)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        out = {
            "geo": lambda: child_geo(*rest),
            "plain": lambda: child_plain(*rest),
            "sites": lambda: child_sites(int(rest[0]), rest[1]),
            "xlsx": lambda: child_xlsx(*rest),
        }
        print(json.dumps(out[kind]()))
        return

    sys.path.insert(0, str(HERE))
    from run import synthetic_hazards

    import geo

    b = geo.load_boundaries()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"hazards_{n}.gpkg"
            if args.layout == "demo":
                write_layer(path, n)
            else:
                synthetic_hazards(n, b, seed=7).to_file(path, engine="pyogrio")
            spawn("geo", str(path), str(Path(tmp) / "warm"))  # fills the territory cache
            g = spawn("geo", str(path), str(Path(tmp) / f"out_{n}"))
            p = spawn("plain", str(path)) if n <= args.plain_max else None
            x = spawn("xlsx", str(path), str(Path(tmp) / f"tables_{n}.xlsx"))
            rows.append((n, g, p, x))
            if n == max(int(v) for v in args.sizes.split(",")):
                s = spawn("sites", str(args.sites), str(path))
    print(f"{'hazards':>10} {'geo s':>8} {'geo MB':>8} {'plain s':>8} {'plain MB':>9} {'ratio':>7} {'xlsx s':>7}")
    for n, g, p, x in rows:
        plain = f"{p['seconds']:8.1f} {p['peak_mb']:9.0f} {p['seconds'] / g['seconds']:6.1f}x" if p else "     not run"
        print(f"{n:>10,} {g['seconds']:8.1f} {g['peak_mb']:8.0f} {plain:>26} {x['seconds']:7.1f}")
    print(
        f"sites: {args.sites:,} sites against {s['hazards']:,} hazards: all at once {s['seconds']:.1f} s; "
        f"site by site {s['per_site_ms']:.1f} ms per site ({s['per_site_ms'] * args.sites / 1e3:.0f} s for all); "
        f"largest distance difference {s['max_diff_m']:.3f} m"
    )


if __name__ == "__main__":
    main()
