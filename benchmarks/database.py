"""PostGIS against GeoPackage: ``geo analyze`` reading hazards from a table, and writing results back.

Run from the repository root::

    python benchmarks/database.py                          # 43,300 hazards (~2 min)
    python benchmarks/database.py --sizes 43300,433000     # as in the README (~15 min)
    python benchmarks/database.py --url postgresql://me@host/db   # a server of your own

Without ``--url`` a throwaway server is started with ``scripts/pg_test_server.sh`` (Debian's
``postgresql-15-postgis-3``) and stopped at the end.  For each size, a seeded layer spread
like the demo (``benchmarks/scale.py``'s ``demo_like``) is written to a GeoPackage and to a
PostGIS table, then, each in a child process of its own, after one run that fills the
territory cache:

* ``file``: ``geo analyze hazards.gpkg -q`` (the baseline);
* ``db read``: ``geo analyze postgresql://... --table hazards_N -q``;
* ``db write``: ``geo analyze hazards.gpkg -q --to-postgis URL`` (files and tables);

and prints wall times, peak memory and the ratios against the file path of the same run,
with a check that the two reading paths give the same figures to the m².
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
SERVER = HERE.parent / "scripts" / "pg_test_server.sh"


def child(args: list[str]) -> dict:
    from geo.cli import main

    t0 = time.perf_counter()
    code = main(args)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "exit": code}


def spawn(*args: str) -> dict:
    run = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{run.stderr[-2000:]}")
    out = json.loads(run.stdout.strip().splitlines()[-1])
    if out["exit"] != 0:
        raise SystemExit(f"geo {args} exited {out['exit']}:\n{run.stderr[-2000:]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="43300", help="hazard counts, comma-separated")
    parser.add_argument("--url", help="a PostGIS database to use (default: start a throwaway one)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return

    sys.path.insert(0, str(HERE))
    from scale import demo_like
    from sqlalchemy import create_engine

    url = args.url
    if url is None:
        started = subprocess.run(["bash", str(SERVER), "start"], capture_output=True, text=True)
        if started.returncode != 0:
            raise SystemExit(f"could not start a PostgreSQL server: {started.stderr[-500:]}")
        url = started.stdout.strip().splitlines()[-1]
    rows = []
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with tempfile.TemporaryDirectory() as tmp:
            for n in [int(s) for s in args.sizes.split(",")]:
                layer = demo_like(n)
                path = Path(tmp) / f"hazards_{n}.gpkg"
                layer.to_file(path, engine="pyogrio")
                t0 = time.perf_counter()
                layer.to_postgis(f"hazards_{n}", engine, if_exists="replace", index=False)
                load = time.perf_counter() - t0
                spawn("analyze", str(path), "-q", "--out", str(Path(tmp) / "warm"))
                f = spawn("analyze", str(path), "-q", "--out", str(Path(tmp) / f"f{n}"))
                d = spawn("analyze", url, "--table", f"hazards_{n}", "-q", "--out", str(Path(tmp) / f"d{n}"))
                w = spawn(
                    "analyze", str(path), "-q", "--out", str(Path(tmp) / f"w{n}"), "--to-postgis", url,
                    "--run-name", f"bench_{n}",
                )  # fmt: skip
                sf = json.loads((Path(tmp) / f"f{n}" / "summary.json").read_text())
                sd = json.loads((Path(tmp) / f"d{n}" / "summary.json").read_text())
                diff = max(abs(sf[k] - sd[k]) * 1e6 for k in ("area_km2", "within_2km_km2", "within_7km_km2"))
                rows.append((n, load, f, d, w, diff))
        engine.dispose()
    finally:
        if args.url is None:
            subprocess.run(["bash", str(SERVER), "stop"], capture_output=True)
    print(
        f"{'hazards':>10} {'file s':>8} {'MB':>6} {'db read s':>10} {'MB':>6} {'ratio':>6} "
        f"{'+db write s':>12} {'ratio':>6} {'diff m2':>8} {'(table load s)':>15}"
    )
    for n, load, f, d, w, diff in rows:
        print(
            f"{n:>10,} {f['seconds']:8.1f} {f['peak_mb']:6.0f} {d['seconds']:10.1f} {d['peak_mb']:6.0f} "
            f"{d['seconds'] / f['seconds']:5.2f}x {w['seconds']:12.1f} {w['seconds'] / f['seconds']:5.2f}x "
            f"{diff:8.3f} {load:15.1f}"
        )


if __name__ == "__main__":
    main()
