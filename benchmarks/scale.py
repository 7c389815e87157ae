"""Scale: ``geo analyze`` end to end on growing synthetic layers, and site checks by the thousand.

Run from the repository root::

    python benchmarks/scale.py                               # 43,300 hazards, 1,000 sites (~2 min)
    python benchmarks/scale.py --sizes 43300,433000 --sites 10000

Every measurement runs in a child process of its own (so its peak memory is its own):

* ``geo``: ``geo analyze FILE -q`` on a GeoPackage of seeded synthetic hazards, wall time
  and peak RSS; ``--layout demo`` (default) spreads them like the demo (its polygons copied and
  shrunk to the cells of a grid over each original's box, 4 % of them moved half a cell onto a
  neighbour: 6.8 % of the hazards overlap another at 43,300 and 8.4 % at 433,000, all with 49
  vertices; the total area stays the demo's 435.06 km2), ``--layout frontier``
  packs ``benchmarks/run.py``'s polygons within 25 km of the Thai frontier (at 433,000 they
  merge into huge overlap components: a stress case, not a realistic one);
* ``plain``: what a GeoPandas user would write - read, ``to_crs``, ``geopandas.overlay``
  with the province x band cells, then ``union_all`` per cell for land counted once -
  on the same file, up to ``--plain-max`` hazards (it grows much faster than geo);
* ``xlsx``: writing ``tables.xlsx`` (``--xlsx``) for that analysis, the analysis not timed;
* ``sites``: ``where --file`` for N random sites in Cambodia against an analysis of the
  largest layer: all at once (``geo.planning.sites.where_points``), and site by site
  (``geo.planning.queries.where``) on the first 200, with the largest difference between them.

The table prints times, peak memory and the ratios plain / geo (``ratio``: the engine named;
``ratio c``: the chunked engine), all from this run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_geo(path: str, out: str, engine: str = "auto") -> dict:
    from geo.cli import main

    t0 = time.perf_counter()
    code = main(["analyze", path, "-q", "--out", out, "--engine", engine])
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "exit": code}


def child_xlsx(path: str, out: str) -> dict:
    """``tables.xlsx`` of an analysis of the file (the analysis itself not timed)."""
    import geo
    from geo.render.export import write_xlsx

    result = geo.analyze(geo.read_hazards(path))
    t0 = time.perf_counter()
    write_xlsx(result, Path(out))
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "rows": len(result.by_hazard)}


def child_plain(path: str) -> dict:
    import geopandas as gpd
    import shapely

    import geo
    from geo.constants import ANALYSIS_CRS
    from geo.engine.boundaries import fit_provinces
    from geo.engine.overlay import make_cells
    from geo.engine.zones import border_zones

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
    all sites at once (:func:`geo.planning.sites.where_points`), and site by site (:func:`geo.planning.queries.where`)
    on the first 200, with the largest difference between the two."""
    import numpy as np
    import shapely

    import geo
    from geo.constants import ANALYSIS_CRS, WGS84
    from geo.crs import transform_geoms
    from geo.planning.queries import where
    from geo.planning.sites import where_points

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
    where(result, lat[0], lon[0])  # the result's indexes built once, as the CLI does
    t0 = time.perf_counter()
    bulk = where_points(lat, lon, result)
    seconds = time.perf_counter() - t0
    k = min(n, 200)
    t0 = time.perf_counter()
    one = [where(result, a, b) for a, b in zip(lat[:k], lon[:k])]
    per_site = (time.perf_counter() - t0) / k
    diff = max(abs(a["distance_to_frontier_m"] - b["distance_to_frontier_m"]) for a, b in zip(bulk, one))
    return {"seconds": seconds, "per_site_ms": per_site * 1e3, "max_diff_m": diff, "hazards": len(result.hazards)}


#: Share of the hazards moved half a cell onto a neighbour, so that they overlap it (with the overlaps
#: where the originals' boxes meet, about 7-8 % of the hazards overlap another at 43,300 and more).
OVERLAP_MOVES = 0.04


def _grid(k: int) -> tuple[int, int]:
    """Columns and rows of a grid of ``k`` cells, as square as ``k``'s divisors allow.

    >>> _grid(10), _grid(100), _grid(1000)
    ((2, 5), (10, 10), (25, 40))
    """
    a = max(d for d in range(1, math.isqrt(k) + 1) if k % d == 0)
    return a, k // a


def demo_like(n: int, seed: int = 7, part: tuple[int, int] | None = None):
    """``n`` hazards spread like the demo's: each demo polygon copied about ``n / 4330`` times, the
    copies shrunk to the cells of a grid over the original's bounding box (so the total area stays the
    demo's and copies do not overlap one another) and :data:`OVERLAP_MOVES` of them moved half a cell
    onto a neighbour (about 8 % of the hazards overlap another, as the scale issue specifies).
    ``part=(start, stop)``: only those rows, drawn from a generator of their own (for layers made a
    part at a time, see :func:`write_layer`)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    import geo
    from geo.constants import ANALYSIS_CRS

    demo = geo.read_hazards(geo.DEMO_HAZARDS).to_crs(ANALYSIS_CRS)
    geoms = shapely.get_exterior_ring(demo.geometry.values)
    m = len(demo)
    k = max(1, -(-n // m))
    rows = np.arange(n)
    if n % m == 0:  # whole copies: an original's copies are neighbouring rows
        reps, copy = rows // k, rows % k
    else:
        reps, copy = rows % m, rows // m
    start, stop = part or (0, n)
    reps, copy = reps[start:stop], copy[start:stop]
    rng = np.random.default_rng(seed if part is None else [seed, start])
    gx, gy = _grid(k)
    bounds = shapely.bounds(geoms)[reps]
    w, h = (bounds[:, 2] - bounds[:, 0]) / gx, (bounds[:, 3] - bounds[:, 1]) / gy
    moved = rng.random(len(reps)) < OVERLAP_MOVES
    cx = bounds[:, 0] + (copy % gx + 0.5) * w + moved * 0.5 * w * rng.choice([-1.0, 1.0], len(reps))
    cy = bounds[:, 1] + (copy // gx + 0.5) * h
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    coords, index = shapely.get_coordinates(geoms[reps], return_index=True)
    placed = (coords - centre[index]) / np.array([gx, gy]) + np.column_stack([cx, cy])[index]
    rings = shapely.linearrings(placed, indices=index)
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


def tree_pids(root: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def rss_of(pids: list[int]) -> int:
    """Resident memory, bytes, of these processes."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


def _tree_rss(root: int) -> int:
    """Resident memory, bytes, of a process and all its descendants."""
    return rss_of(tree_pids(root))


def spawn(*args: str) -> dict:
    """Run a child measurement; its result, with the peak memory of its whole process tree (sampled)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=out, stderr=err, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"child {args} failed:\n{err.read()[-2000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
        if result.get("exit", 0) != 0:  # geo refused or failed: say why in the table, not a time
            result["failed"] = err.read().strip().splitlines()[-1:] or [""]
    result["tree_mb"] = peak / 1e6
    return result


def _figures(out: str) -> dict:
    """Band areas (m2) per province and in total, from an output directory."""
    import pandas as pd

    s = json.loads((Path(out) / "summary.json").read_text())
    figures = {f"band {b['band']}": b["area_km2"] * 1e6 for b in s["bands"]}
    figures.update({k: s[k] * 1e6 for k in ("area_km2", "within_2km_km2", "within_7km_km2")})
    bp = pd.read_csv(Path(out) / "by_province.csv")
    for col in [c for c in bp.columns if c.endswith("_km2")]:
        figures.update({f"{code} {col}": v * 1e6 for code, v in zip(bp["code"], bp[col])})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="43300", help="hazard counts, comma-separated")
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--plain-max", type=int, default=50_000, help="largest layer the plain route is run on")
    parser.add_argument(
        "--memory-max",
        type=int,
        default=PART_ROWS,
        help="largest layer analysed whole in memory (xlsx, sites and the chunked comparison); larger ones "
        "are analysed in chunks only",
    )
    parser.add_argument(
        "--layout",
        default="demo",
        choices=("demo", "frontier"),
        help="demo: spread like the demo (about 8 %% of the hazards overlap another, any size); frontier: "
        "benchmarks/run.py's layer packed within 25 km of the Thai frontier (heavy overlaps at large sizes)",
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
    sizes = [int(v) for v in args.sizes.split(",")]
    s = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"hazards_{n}.gpkg"
            if args.layout == "demo":
                write_layer(path, n)
            else:
                synthetic_hazards(n, b, seed=7).to_file(path, engine="pyogrio")
            whole = n <= args.memory_max
            if n == sizes[0]:
                spawn("geo", str(path), str(Path(tmp) / "warm"), "memory")  # fills the territory cache
            g = spawn("geo", str(path), str(Path(tmp) / f"out_{n}"), "memory" if whole else "chunked")
            c = spawn("geo", str(path), str(Path(tmp) / f"chunked_{n}"), "chunked") if whole else None
            if c is not None:
                a, z = _figures(str(Path(tmp) / f"out_{n}")), _figures(str(Path(tmp) / f"chunked_{n}"))
                c["max_diff_m2"] = max(abs(a[k] - z[k]) for k in a)
            p = spawn("plain", str(path)) if n <= args.plain_max else None
            x = spawn("xlsx", str(path), str(Path(tmp) / f"tables_{n}.xlsx")) if whole else None
            rows.append((n, g, c, p, x))
            if n == max((v for v in sizes if v <= args.memory_max), default=None) and args.sites > 0:
                s = spawn("sites", str(args.sites), str(path))
            path.unlink()
            for done in ("warm", f"out_{n}", f"chunked_{n}", f"tables_{n}.xlsx"):  # room for the next size
                target = Path(tmp) / done
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
    print(
        f"{'hazards':>10} {'engine':>8} {'geo s':>7} {'peak GB':>8} {'chunked s':>10} {'peak GB':>8} "
        f"{'diff m2':>8} {'plain s':>8} {'peak GB':>8} {'ratio':>6} {'ratio c':>7} {'xlsx s':>7}"
    )
    for n, g, c, p, x in rows:
        failed = [
            f"{what} failed (exit {r['exit']}): {r['failed'][0]}"
            for what, r in (("geo", g), ("chunked", c))
            if r and r.get("failed")
        ]
        if failed:
            print(f"{n:>10,} " + "; ".join(failed))
            continue
        chunked = f"{c['seconds']:10.1f} {c['tree_mb'] / 1e3:8.2f} {c['max_diff_m2']:8.3f}" if c else f"{'':>28}"
        plain = (
            f"{p['seconds']:8.1f} {p['tree_mb'] / 1e3:8.2f} {p['seconds'] / g['seconds']:5.1f}x" if p else f"{'-':>8}"
        )
        ratio_c = f"{p['seconds'] / c['seconds']:6.1f}x" if p and c else f"{'-':>7}"
        engine = "memory" if c else "chunked"
        xs = f"{x['seconds']:7.1f}" if x else f"{'-':>7}"
        print(
            f"{n:>10,} {engine:>8} {g['seconds']:7.1f} {g['tree_mb'] / 1e3:8.2f} {chunked} {plain:>24} {ratio_c} {xs}"
        )
    if s is not None:
        print(
            f"sites: {args.sites:,} sites against {s['hazards']:,} hazards: all at once {s['seconds']:.1f} s; "
            f"site by site {s['per_site_ms']:.1f} ms per site ({s['per_site_ms'] * args.sites / 1e3:.0f} s for "
            f"all); largest distance difference {s['max_diff_m']:.3f} m"
        )
    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
