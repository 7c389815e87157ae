"""Fuzz the hazard readers with mutated files (not part of the test suite).

Run from the repository root::

    python benchmarks/fuzz_readers.py --minutes 4

Seeds are small valid files of every supported format, made from the demo; each
case flips, deletes, duplicates or inserts bytes (or truncates the file), writes it
with the seed's extension and calls ``geo.read_hazards``, and every 10th file read
is also analysed.  Reading must end in a GeoDataFrame or a ``GeoInputError``;
anything else is a finding, printed with the seed and mutation to replay it.
"""

from __future__ import annotations

import argparse
import collections
import random
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

import pandas as pd

import geo
from geo.errors import GeoInputError


def seeds(folder: Path) -> dict[str, bytes]:
    hz = geo.read_hazards(geo.DEMO_HAZARDS).iloc[:12][
        ["hazard_id", "status", "density", "area_recorded_m2", "geometry"]
    ]
    hz = hz.rename(columns={"area_recorded_m2": "area_m2"})
    out = {}
    for suffix in (".gpkg", ".geojson", ".fgb"):
        path = folder / f"seed{suffix}"
        hz.to_file(path, engine="pyogrio")
        out[suffix] = path.read_bytes()
    hz.to_parquet(folder / "seed.parquet")
    out[".parquet"] = (folder / "seed.parquet").read_bytes()
    utm = hz.to_crs("EPSG:32648")
    pd.DataFrame({"id": utm["hazard_id"], "wkt": utm.geometry.to_wkt()}).to_csv(folder / "w.csv", index=False)
    out[".csv"] = (folder / "w.csv").read_bytes()
    c = hz.geometry.centroid
    pd.DataFrame({"id": hz["hazard_id"], "lat": c.y, "lon": c.x, "area_m2": hz["area_m2"]}).to_csv(
        folder / "p.csv", index=False
    )
    out[".csv#points"] = (folder / "p.csv").read_bytes()
    utm.to_file(folder / "s.shp", engine="pyogrio")
    with zipfile.ZipFile(folder / "s.zip", "w") as z:
        for f in folder.glob("s.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    out[".zip"] = (folder / "s.zip").read_bytes()
    return out


def mutate(data: bytes, rnd: random.Random) -> tuple[bytes, str]:
    b = bytearray(data)
    kind = rnd.choice(["flip", "delete", "insert", "duplicate", "truncate", "zero"])
    n = rnd.randint(1, 16)
    for _ in range(n if kind != "truncate" else 1):
        if not b:
            break
        i = rnd.randrange(len(b))
        if kind == "flip":
            b[i] ^= 1 << rnd.randrange(8)
        elif kind == "delete":
            del b[i : i + rnd.randint(1, 64)]
        elif kind == "insert":
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 32)))
        elif kind == "duplicate":
            j = rnd.randrange(len(b))
            b[i:i] = b[j : j + rnd.randint(1, 128)]
        elif kind == "truncate":
            del b[rnd.randrange(len(b)) :]
        else:
            b[i : i + rnd.randint(1, 64)] = bytes(min(64, len(b) - i))
    return bytes(b), f"{kind} x{n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="geo-fuzz-"))
    print(f"working in {folder}", flush=True)
    corpus = seeds(folder)
    stats: collections.Counter = collections.Counter()
    findings: dict[str, str] = {}
    end = time.monotonic() + args.minutes * 60
    case = 0
    while time.monotonic() < end:
        case += 1
        key = rnd.choice(sorted(corpus))
        data, how = mutate(corpus[key], rnd)
        path = folder / f"case{key.split('#')[0]}"
        path.write_bytes(data)
        # Keep the case on disk before reading it: a crash of the process can then be replayed.
        (folder / "last_case.txt").write_text(f"{case} {key} {how} {path}\n")
        try:
            hz = geo.read_hazards(path, crs="EPSG:32648" if key == ".csv" else None)
            stats["read"] += 1
            if stats["read"] % 10 == 0:
                geo.analyze(hz, frontier_tolerance_m=0)
                stats["analysed"] += 1
        except GeoInputError:
            stats["clear error"] += 1
        except Exception as exc:  # a finding
            stats["finding"] += 1
            sig = f"{key}: {type(exc).__name__}: {str(exc)[:120]}"
            if sig not in findings:
                findings[sig] = f"case {case} ({how})\n" + traceback.format_exc(limit=4)
    print(f"{case:,} cases in {args.minutes:g} min: " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats.items())))
    for sig, detail in findings.items():
        print("\nFINDING", sig, "\n", detail)


if __name__ == "__main__":
    main()
