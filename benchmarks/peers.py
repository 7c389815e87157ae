"""geo against the routes a user would pick instead: a competent GeoPandas script, PostGIS, DuckDB.

Run from the repository root (the peers need ``pip install -e ".[bench]"``; PostGIS needs
Debian's ``postgresql-15-postgis-3``, started and stopped here with ``scripts/pg_test_server.sh``)::

    python benchmarks/peers.py                      # 43,300 hazards (~5 min)
    python benchmarks/peers.py --sizes 433000       # as in benchmarks/README.md (~30 min)
    python benchmarks/peers.py --routes geo,geopandas,floor   # some routes only

Every route answers the same question on the same seeded layer (``benchmarks/scale.py``'s
``demo_like``: spread like the demo, about 8 % of the hazards overlap another, EPSG:4326 GeoPackage):
the contaminated area, overlaps counted once, in each province x band cell of geo's own territory
(the provinces fitted to the outline, cut by the 0-2, 2-5, 5-7 km bands and the land beyond; built
once, before any route runs, and handed to every route as a GeoParquet file in geo's equal-area
CRS). The routes:

* ``geo``: ``geo analyze LAYER -q --out DIR`` (``--engine auto``): the whole job - reading,
  checking and repairing, the pieces, the tables, the uncertainty ranges, the frontier
  sensitivity, the error budget, every output file - with the territory cache warm;
* ``geopandas``: a competent plain script: arrow read, ``to_crs``, ``make_valid`` of the invalid
  ones, an ``sindex`` query for hazard x cell pairs, hazards lying wholly in a cell (prepared
  ``covers``) kept whole, the others cut with one vectorised ``intersection``, ``union_all`` per cell;
* ``postgis``: the layer loaded with ``COPY`` (timed apart, not counted), then in SQL:
  ``ST_Transform`` to the equal-area CRS and ``ST_MakeValid`` into an indexed table (GiST,
  ``ANALYZE``), and one query joining hazards to cells on ``ST_Intersects``, keeping a hazard
  whole where ``ST_Within`` its cell, ``ST_Union`` per cell (2 parallel workers allowed);
* ``duckdb``: DuckDB's spatial extension (the ``duckdb-extension-spatial`` wheel, loaded from its
  installed file): ``ST_Read`` of the GeoPackage, ``ST_Transform``, ``ST_MakeValid``, a join on
  ``ST_Intersects``, ``ST_Intersection`` and ``ST_Union_Agg`` per cell;
* ``floor``: reading, reprojecting and writing the same layer (a GeoPackage layer, GeoParquet and
  a CSV of the attributes), no analysis: what any route must at least spend.

Each route runs in a process of its own; the table gives the CPU time of the whole process tree
(worker processes included; for PostGIS the server's processes, measured from ``/proc``), the wall
time and the peak resident memory of the tree, and each route's ratio of CPU against geo's. Every
route's cell areas are checked against geo's ``by_province.csv`` (which carries them to 0.01 m2):
a route whose areas differ by more than 0.01 m2 anywhere is marked ``DIFFERS``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import rss_of, tree_pids, write_layer  # noqa: E402  (benchmarks/ is not a package)

SERVER = HERE.parent / "scripts" / "pg_test_server.sh"
ROUTES = ("geo", "geopandas", "postgis", "duckdb", "floor")
#: Largest difference in any cell's area, m2, for a route to count as giving geo's answer
#: (by_province.csv carries areas to 1e-8 km2 = 0.01 m2).
AGREE_M2 = 0.01


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --- the routes (each runs in a child process) -------------------------------------------------


def route_geo(layer: str, cells: str, out: str) -> dict:
    from geo.cli import main

    code = main(["analyze", layer, "-q", "--out", out])
    if code != 0:
        raise SystemExit(f"geo analyze exited {code}")
    return {"areas": _geo_areas(out, cells)}


def _geo_areas(out: str, cells_path: str) -> dict[str, float]:
    """geo's cell areas, m2, from by_province.csv's band columns."""
    import pandas as pd

    bands = _bands_of(cells_path)
    table = pd.read_csv(Path(out) / "by_province.csv")
    areas = {}
    for code, row in zip(table["code"], table.to_dict("records")):
        for zone, column in enumerate(bands):
            areas[f"{code}|{zone}"] = float(row[column]) * 1e6
    return areas


def _bands_of(cells_path: str) -> list[str]:
    return json.loads(Path(cells_path).with_suffix(".json").read_text())


def route_geopandas(layer: str, cells_path: str) -> dict:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    cells = gpd.read_parquet(cells_path)
    hazards = gpd.read_file(layer, engine="pyogrio", use_arrow=True).to_crs(cells.crs)
    geoms = hazards.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms)
    geoms[bad] = shapely.make_valid(geoms[bad])
    hi, ci = cells.sindex.query(geoms, predicate="intersects")
    cell_geoms = cells.geometry.to_numpy()
    shapely.prepare(cell_geoms)
    whole = shapely.covers(cell_geoms[ci], geoms[hi])
    parts = geoms[hi].copy()
    cut = ~whole
    parts[cut] = shapely.intersection(geoms[hi[cut]], cell_geoms[ci[cut]])
    frame = pd.DataFrame({"cell": ci, "geometry": parts})
    areas = {}
    for cell, group in frame.groupby("cell", sort=False):
        union = shapely.union_all(group["geometry"].to_numpy())
        areas[f"{cells['code'].iat[cell]}|{cells['zone'].iat[cell]}"] = float(shapely.area(union))
    return {"areas": areas, "pairs": len(hi), "kept_whole": int(np.count_nonzero(whole))}


def route_duckdb(layer: str, cells_path: str) -> dict:
    import duckdb
    import duckdb_extension_spatial
    import geopandas as gpd
    import shapely

    from geo.constants import ANALYSIS_CRS

    extension = next(Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension}'")
    cells = gpd.read_parquet(cells_path)
    con.execute("CREATE TABLE cells (code VARCHAR, zone INTEGER, wkb BLOB)")
    con.executemany(
        "INSERT INTO cells VALUES (?, ?, ?)",
        list(zip(cells["code"], cells["zone"].astype(int), shapely.to_wkb(cells.geometry.to_numpy()))),
    )
    con.execute("CREATE TABLE c AS SELECT code, zone, ST_GeomFromWKB(wkb) AS geom FROM cells")
    con.execute(
        "CREATE TABLE h AS SELECT ST_MakeValid(ST_Transform(geom, 'EPSG:4326', ?, always_xy := true)) AS geom "
        "FROM ST_Read(?)",
        [ANALYSIS_CRS, layer],
    )
    rows = con.execute(
        "SELECT c.code, c.zone, ST_Area(ST_Union_Agg(ST_Intersection(h.geom, c.geom))) "
        "FROM h JOIN c ON ST_Intersects(h.geom, c.geom) GROUP BY c.code, c.zone"
    ).fetchall()
    return {"areas": {f"{code}|{zone}": float(area) for code, zone, area in rows}}


def route_floor(layer: str, out: str) -> dict:
    import geopandas as gpd

    from geo.constants import ANALYSIS_CRS

    hazards = gpd.read_file(layer, engine="pyogrio", use_arrow=True).to_crs(ANALYSIS_CRS)
    Path(out).mkdir(parents=True, exist_ok=True)
    hazards.to_file(Path(out) / "pieces.gpkg", layer="hazard_pieces", engine="pyogrio")
    hazards.to_parquet(Path(out) / "pieces.parquet")
    hazards.drop(columns="geometry").to_csv(Path(out) / "pieces.csv", index=False)
    return {"areas": {}}


CHILDREN = {
    "geo": lambda a: route_geo(a[0], a[1], a[2]),
    "geopandas": lambda a: route_geopandas(a[0], a[1]),
    "duckdb": lambda a: route_duckdb(a[0], a[1]),
    "floor": lambda a: route_floor(a[0], a[2]),
}


# --- measuring ---------------------------------------------------------------------------------


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process tree: each one's own and that of its children it has reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        except OSError:
            pass
    return total / tick


def spawn(route: str, *args: str) -> dict:
    """Run one route in a child process: its answer, CPU of its tree, wall time and peak memory."""
    cpu0, t0 = _cpu_children(), time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", route, *args], stdout=out, stderr=err, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, rss_of(tree_pids(proc.pid)))
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            return {"failed": (err.read().strip().splitlines() or ["(no message)"])[-1], "wall": wall}
        result = json.loads(out.read().strip().splitlines()[-1])
    result.update(cpu=_cpu_children() - cpu0, wall=wall, peak_gb=peak / 1e9)
    return result


def run_postgis(layer: str, cells_path: str, url: str, data_dir: Path) -> dict:
    """The PostGIS route: loading timed apart; the analysis' CPU is the server's processes' and ours."""
    import geopandas as gpd
    import psycopg
    import pyogrio
    import shapely

    from geo.constants import ANALYSIS_CRS

    cells = gpd.read_parquet(cells_path)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS hz, hzp, cells")
        con.execute("CREATE TABLE cells (code text, zone int, geom geometry)")
        with con.cursor().copy("COPY cells (code, zone, geom) FROM STDIN") as copy:
            for code, zone, wkb in zip(
                cells["code"], cells["zone"], shapely.to_wkb(cells.geometry.to_numpy(), hex=True)
            ):
                copy.write_row((code, int(zone), wkb))
        con.execute("CREATE TABLE hz (fid bigint, geom geometry(Geometry, 4326))")
        n, batch = pyogrio.read_info(layer)["features"], 200_000
        with con.cursor().copy("COPY hz (fid, geom) FROM STDIN") as copy:
            for start in range(0, n, batch):
                part = pyogrio.read_dataframe(layer, skip_features=start, max_features=batch, columns=[])
                for i, wkb in enumerate(shapely.to_wkb(part.geometry.to_numpy(), hex=True, include_srid=False)):
                    copy.write_row((start + i, wkb))
        con.execute("UPDATE hz SET geom = ST_SetSRID(geom, 4326)")
        con.execute("CREATE INDEX ON cells USING gist (geom)")
        con.execute("ANALYZE hz")
        con.execute("ANALYZE cells")
    load = time.perf_counter() - t0
    postmaster = int((data_dir / "data" / "postmaster.pid").read_text().split()[0])
    cpu_server0, cpu0, t0 = _tree_cpu(postmaster), _cpu_self(), time.perf_counter()
    peak = 0
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET max_parallel_workers_per_gather = 2")
        con.execute(
            "CREATE TABLE hzp AS SELECT fid, ST_MakeValid(ST_Transform(geom, %s)) AS geom FROM hz",
            [ANALYSIS_CRS],
        )
        con.execute("CREATE INDEX ON hzp USING gist (geom)")
        con.execute("ANALYZE hzp")
        peak = max(peak, rss_of(tree_pids(postmaster)))
        rows = con.execute(
            "SELECT c.code, c.zone, ST_Area(ST_Union(CASE WHEN ST_Within(h.geom, c.geom) THEN h.geom "
            "ELSE ST_CollectionExtract(ST_Intersection(h.geom, c.geom), 3) END)) "
            "FROM hzp h JOIN cells c ON ST_Intersects(h.geom, c.geom) GROUP BY c.code, c.zone"
        ).fetchall()
        peak = max(peak, rss_of(tree_pids(postmaster)))
    wall = time.perf_counter() - t0
    cpu = _tree_cpu(postmaster) - cpu_server0 + _cpu_self() - cpu0
    return {
        "areas": {f"{code}|{zone}": float(area) for code, zone, area in rows},
        "cpu": cpu,
        "wall": wall,
        "peak_gb": peak / 1e9,
        "load_s": load,
    }


def write_cells(path: Path) -> None:
    """geo's province x band cells (the provinces fitted to the outline, cut by 2, 5 and 7 km bands) as
    GeoParquet in geo's equal-area CRS, and the by_province.csv column of each band beside them."""
    from geo.engine.analysis import plan_run
    from geo.engine.overlay import make_cells

    territory = plan_run(bands_km=(2, 5, 7)).territory
    cells = make_cells(territory.provinces, territory.fine_bands)
    cells[["code", "zone", "geometry"]].to_parquet(path)
    names = []
    for inner, outer in zip(territory.fine_bands["inner_km"], territory.fine_bands["outer_km"]):
        names.append(f"band_beyond_{inner:g}_km2" if outer == float("inf") else f"band_{inner:g}-{outer:g}_km2")
    path.with_suffix(".json").write_text(json.dumps(names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="43300", help="hazard counts, comma-separated")
    parser.add_argument("--routes", default=",".join(ROUTES), help=f"comma-separated, of {', '.join(ROUTES)}")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        route, *rest = args.child
        print(json.dumps(CHILDREN[route](rest)))
        return

    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = sorted(set(routes) - set(ROUTES))
    if unknown:
        raise SystemExit(f"unknown route(s) {', '.join(unknown)}; choose from {', '.join(ROUTES)}")
    if "geo" not in routes:
        routes.insert(0, "geo")  # the baseline every ratio is against
    url, pg_dir = None, Path(tempfile.mkdtemp(prefix="geo-peers-pg-"))
    if "postgis" in routes:
        env = {**os.environ, "GEO_PG_DIR": str(pg_dir), "GEO_PG_PORT": "54341"}
        started = subprocess.run(["bash", str(SERVER), "start"], capture_output=True, text=True, env=env)
        if started.returncode != 0:
            print(f"PostGIS left out: could not start a server ({started.stderr.strip()[-300:]})")
            routes.remove("postgis")
        else:
            url = started.stdout.strip().splitlines()[-1]
    tables = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cells = Path(tmp) / "cells.parquet"
            write_cells(cells)
            for n in [int(v) for v in args.sizes.split(",")]:
                layer = Path(tmp) / f"hazards_{n}.gpkg"
                write_layer(layer, n)
                spawn("geo", str(layer), str(cells), str(Path(tmp) / "warm"))  # fills geo's territory cache
                results = {}
                for route in routes:
                    print(f"{n:,} hazards: {route} ...", file=sys.stderr, flush=True)
                    if route == "postgis":
                        results[route] = run_postgis(str(layer), str(cells), url, pg_dir)
                    else:
                        results[route] = spawn(route, str(layer), str(cells), str(Path(tmp) / f"{route}_{n}"))
                tables.append((n, results))
                layer.unlink()
    finally:
        if url is not None:
            env = {**os.environ, "GEO_PG_DIR": str(pg_dir), "GEO_PG_PORT": "54341"}
            subprocess.run(["bash", str(SERVER), "stop"], capture_output=True, env=env)
    for n, results in tables:
        _print_table(n, results)


def _print_table(n: int, results: dict) -> None:
    geo = results["geo"]
    print(f"\n{n:,} hazards (CPU of each route's whole process tree; ratio = route's CPU / geo's)")
    print(f"{'route':<10} {'CPU s':>8} {'wall s':>8} {'peak GB':>8} {'CPU ratio':>10} {'largest diff m2':>16}  note")
    for route, r in results.items():
        if "failed" in r:
            print(f"{route:<10} failed: {r['failed']}")
            continue
        if route in ("geo", "floor") or "failed" in geo:
            diff, note = "", "(the baseline)" if route == "geo" else "read + reproject + write, no analysis"
        else:
            keys = set(geo["areas"]) | set(r["areas"])
            worst = max(abs(geo["areas"].get(k, 0.0) - r["areas"].get(k, 0.0)) for k in keys)
            diff = f"{worst:.4f}"
            note = "DIFFERS from geo" if worst > AGREE_M2 else "same areas as geo"
            if "load_s" in r:
                note += f"; loading {r['load_s']:.1f} s not counted"
        ratio = r["cpu"] / geo["cpu"] if "cpu" in geo else float("nan")
        print(f"{route:<10} {r['cpu']:8.1f} {r['wall']:8.1f} {r['peak_gb']:8.2f} {ratio:9.2f}x {diff:>16}  {note}")


if __name__ == "__main__":
    main()
