"""Build ``data/boundaries/geoboundaries/`` (districts and the provinces they make up).

Sources (neither is fetched at run time; both are pinned by sha256):

* **Districts**: geoBoundaries gbOpen KHM ADM2, simplified GeoJSON (197 districts,
  ``shapeName``/``shapeID``), whose source is Open Development Cambodia's administrative
  boundaries of 2014, licence CC BY 4.0 (geoBoundaries metadata of KHM-ADM2-14789045).
  The geoBoundaries repository holds its newer files as Git LFS pointers; the bytes used
  here are the identical release file as carried by the public repository
  ``weegienamja/Globescraper`` at commit ``e8fab7ede0727362351f87972c23e8a7f5240f19``,
  path ``data/cambodia-adm2-simplified.geojson`` (obtain it with ``git show
  <commit>:<path>`` from a clone of that repository).
* **District codes and Khmer names**: Cambodia's national gazetteer (NCDD), as carried
  by ``sambatlim/khmer-name-generator`` (MIT) at commit
  ``a06fd91deb793a8990c1eb37ffcc28199e59b8ad``, path ``lib/address/district.js``
  (203 districts and municipalities with 4-digit codes, Latin and Khmer names).

Processing: geometries pass through ``make_valid``; each district is given the province
(ISO 3166-2:KH code) of the bundled amCharts province holding most of its area, measured
in geo's equal-area CRS (of the provinces holding a fifth of it or more, the one whose
gazetteer lists the district's name: Preah Sihanouk municipality lies more in amCharts'
Koh Kong than in its own province); its code and Khmer name come from the gazetteer row of the same
province whose Latin name matches (letters compared without case, spaces or
apostrophes; else the closest name at similarity >= 0.75). Districts the gazetteer does
not match keep an empty code. The provinces layer is the union of each province's
districts (geoBoundaries-derived provinces, the alternative to amCharts' outlines).

Usage::

    python scripts/build_districts.py --adm2 cambodia-adm2-simplified.geojson --gazetteer district.js
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.constants import ANALYSIS_CRS, GPKG_VERSION, WGS84  # noqa: E402
from geo.names import PROVINCE_NAMES  # noqa: E402

ADM2_SHA256 = "9ab44792fb4a0353f0661794b5bf2111afa1ae2ca36117b61982bbdee8474bba"
GAZETTEER_SHA256 = "9aeaab715f80f1e6431fa8837ecad44c65c49cb631dd5ac9088430d1688c8dc5"
OUT = ROOT / "data" / "boundaries" / "geoboundaries"
#: Coordinates are kept to 1e-7 degree (about 1 cm), more than the source's own precision.
ROUND_DEG = 7
#: A province holding at least this share of a district is a candidate owner of it.
MIN_SHARE = 0.2


def checked(path: Path, sha256: str) -> bytes:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{path}: sha256 {digest} does not match the pinned {sha256}")
    return data


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def gazetteer(data: bytes) -> pd.DataFrame:
    """The gazetteer's districts: ``district_code``, ``province_code`` (KH-n), ``latin``, ``name_km``."""
    text = data.decode("utf-8")
    rows = json.loads(text[text.index("[") : text.rindex("]") + 1])
    return pd.DataFrame(
        {
            "district_code": [r["id"] for r in rows],
            "province_code": [f"KH-{int(r['province_id'])}" for r in rows],
            "latin": [r["name_latin"] for r in rows],
            "name_km": [r["name_km"] for r in rows],
            "unit": [r["administrative_unit"]["name_en"] for r in rows],
        }
    )


def match(name: str, candidates: pd.DataFrame) -> pd.Series | None:
    """The gazetteer row of the same province whose name matches ``name``."""
    if not len(candidates):
        return None
    keys = candidates["latin"].map(_key)
    exact = candidates[keys == _key(name)]
    if len(exact):
        return exact.iloc[0]
    scores = keys.map(lambda k: difflib.SequenceMatcher(None, k, _key(name)).ratio())
    best = scores.idxmax()
    return candidates.loc[best] if scores[best] >= 0.75 else None


def build(adm2: bytes, gaz: pd.DataFrame, provinces: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    src = gpd.GeoDataFrame.from_features(json.loads(adm2)["features"], crs=WGS84)
    src["geometry"] = shapely.make_valid(src.geometry.values)
    src = src.explode(index_parts=False)
    src = src[src.geometry.geom_type == "Polygon"].dissolve(by="shapeID", as_index=False, aggfunc="first")
    metric = src.to_crs(ANALYSIS_CRS)
    prov = provinces.to_crs(ANALYSIS_CRS)
    a, b = shapely.STRtree(prov.geometry.values).query(metric.geometry.values, predicate="intersects")
    share = shapely.area(shapely.intersection(metric.geometry.values[a], prov.geometry.values[b]))
    cand = pd.DataFrame({"d": a, "p": b, "area": share})
    cand["share"] = cand["area"] / shapely.area(metric.geometry.values)[cand["d"]]
    cand = cand.sort_values("area", ascending=False)
    rows = []
    for i, (name, sid) in enumerate(zip(src["shapeName"], src["shapeID"])):
        options = cand[cand["d"] == i]
        codes = [prov["code"].iloc[p] for p, s in zip(options["p"], options["share"]) if s >= MIN_SHARE]
        # A district split between two provinces' generalised outlines goes to the one whose
        # gazetteer lists its name; otherwise to the province holding most of it.
        named = [c for c in codes if (gaz[gaz["province_code"] == c]["latin"].map(_key) == _key(name)).any()]
        code = (named or codes or [prov["code"].iloc[options["p"].iloc[0]]])[0]
        hit = match(name, gaz[gaz["province_code"] == code])
        rows.append(
            {
                "district_code": "" if hit is None else hit["district_code"],
                "district": name,
                "name_km": "" if hit is None else hit["name_km"],
                "gazetteer_name": "" if hit is None else hit["latin"],
                "province_code": code,
                "province": PROVINCE_NAMES[code][0],
                "source_id": sid,
            }
        )
    geoms = shapely.set_precision(src.geometry.values, 10**-ROUND_DEG)
    districts = gpd.GeoDataFrame(rows, geometry=geoms, crs=WGS84)
    districts = districts.sort_values(["province_code", "district_code", "district"], key=_natural).reset_index(
        drop=True
    )
    dissolved = districts.dissolve(by="province_code", as_index=False)[["province_code", "geometry"]]
    dissolved = dissolved.rename(columns={"province_code": "code"})
    dissolved["province"] = [PROVINCE_NAMES[c][0] for c in dissolved["code"]]
    dissolved["name_km"] = [PROVINCE_NAMES[c][1] for c in dissolved["code"]]
    dissolved = dissolved.sort_values("code", key=_natural).reset_index(drop=True)
    return districts, dissolved[["code", "province", "name_km", "geometry"]]


def _natural(col: pd.Series) -> pd.Series:
    if col.name in ("province_code", "code"):
        return col.str.replace("KH-", "").astype(int)
    return col


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, layer=layer, driver="GPKG", VERSION=GPKG_VERSION)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adm2", type=Path, required=True, help="geoBoundaries KHM ADM2 simplified GeoJSON")
    parser.add_argument("--gazetteer", type=Path, required=True, help="the NCDD gazetteer's district.js")
    args = parser.parse_args(argv)
    adm2 = checked(args.adm2, ADM2_SHA256)
    gaz = gazetteer(checked(args.gazetteer, GAZETTEER_SHA256))
    provinces = gpd.read_file(ROOT / "data" / "boundaries" / "amcharts" / "provinces.gpkg", layer="provinces")
    districts, dissolved = build(adm2, gaz, provinces)
    write_gpkg(districts, OUT / "districts.gpkg", "districts")
    write_gpkg(dissolved, OUT / "provinces.gpkg", "provinces")
    matched = (districts["district_code"] != "").sum()
    print(f"{len(districts)} districts ({matched} matched to the gazetteer), {len(dissolved)} provinces")
    for _, r in districts[districts["district_code"] == ""].iterrows():
        print(f"  no gazetteer match: {r['district']} ({r['province']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
