"""The sites of ``geo where``: one point, a WKT geometry, or a file of them (CSV with lat/lon columns,
any vector layer or a PostGIS table), in WGS 84, with each site's attributes and notes on skipped rows."""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import GeoInputError
from geo._text import normalize_name
from geo.constants import WGS84
from geo.crs import to_crs_dense


def sites_from_file(gdf: gpd.GeoDataFrame) -> list[tuple[str, shapely.Geometry]]:
    """(label, WGS 84 geometry) for each feature of a sites layer."""
    gdf = to_crs_dense(gdf, WGS84)
    label_col = next((c for c in gdf.columns if normalize_name(c) in ("name", "site", "id", "siteid")), None)
    labels = gdf[label_col].astype(str) if label_col else pd.Series([f"site {i + 1}" for i in range(len(gdf))])
    return list(zip(labels, gdf.geometry.values))


#: Sites farther than this from Cambodia's outline are not answered (a typo, or lat/lon swapped), km.
MAX_SITE_KM = 50.0


def read_sites(args: argparse.Namespace) -> tuple[list[tuple[str, shapely.Geometry]], list[dict], list[str]]:
    """The sites asked about: (label, WGS 84 geometry), each site's own attributes, and notes on skipped rows."""

    given = [x is not None for x in (args.lat, args.wkt, args.file)]
    if sum(given) != 1:
        raise GeoInputError("give a site: LAT LON, or --wkt WKT, or --file FILE")
    if args.lat is not None:
        if args.lon is None:
            raise GeoInputError("give both LAT and LON")
        lat, lon = float(args.lat), float(args.lon)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            hint = " (did you swap lat and lon?)" if -90 <= lon <= 90 and abs(lat) <= 180 else ""
            raise GeoInputError(f"latitude {lat} / longitude {lon} out of range{hint}")
        return [(f"{lat}, {lon}", shapely.Point(lon, lat))], [{}], []
    if args.wkt is not None:
        try:
            geom = shapely.from_wkt(args.wkt)
        except shapely.errors.GEOSException as exc:
            raise GeoInputError(f"bad WKT: {exc}") from exc
        from geo.crs import transform_geoms

        geom = transform_geoms(geom, args.site_crs, "EPSG:4326") if args.site_crs else geom
        x0, y0, x1, y1 = geom.bounds
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            hint = " - did you swap them? WKT gives longitude first" if -90 <= x0 <= x1 <= 90 else ""
            raise GeoInputError(
                f"the WKT's coordinates (x {x0:g} to {x1:g}, y {y0:g} to {y1:g}) are not longitude/latitude{hint}; "
                "for projected coordinates pass --site-crs (e.g. EPSG:32648)"
            )
        return [("wkt", geom)], [{}], []
    from geo.db import is_db_url, read_layer, redact

    if is_db_url(args.file):  # postgresql://.../db?table=NAME, or the table as --site-layer
        gdf, _ = read_layer(args.file, table=args.site_layer)
        return layer_sites(gdf, args, redact(args.file))
    path = Path(args.file)
    if not path.exists():
        raise GeoInputError("file does not exist", str(path))
    if path.suffix.lower() == ".csv":
        return csv_sites(path)
    try:
        import pyogrio

        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:
        raise GeoInputError(f"cannot read sites: {exc}", str(path)) from exc
    if args.site_layer is None and len(names) > 1:
        raise GeoInputError(f"several layers ({', '.join(names)}); pick the sites with --site-layer", str(path))
    if args.site_layer is not None and args.site_layer not in names:
        raise GeoInputError(f"no layer {args.site_layer!r}; the file has: {', '.join(names)}", str(path))
    try:
        gdf = gpd.read_file(path, layer=args.site_layer, engine="pyogrio")
    except Exception as exc:
        raise GeoInputError(f"cannot read sites: {exc}", str(path)) from exc
    return layer_sites(gdf, args, str(path))


def layer_sites(gdf: gpd.GeoDataFrame, args: argparse.Namespace, where: str):
    """Sites of a vector layer (file or table): WGS 84 geometries, attributes, notes on skipped rows."""
    if gdf.crs is None:
        if not args.site_crs:
            raise GeoInputError("sites layer has no CRS; pass --site-crs", where)
        gdf = gdf.set_crs(args.site_crs)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    notes = [f"feature {i + 1}: no geometry, skipped" for i in range(len(gdf)) if empty.iloc[i]]
    gdf = gdf[~empty]
    attrs = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    return sites_from_file(gdf), attrs, notes


def csv_sites(path: Path) -> tuple[list[tuple[str, shapely.Geometry]], list[dict], list[str]]:
    """Sites from a CSV with lat/lon columns; rows without usable coordinates are skipped and reported."""
    notes: list[str] = []
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
        sep = ";" if header.count(";") > header.count(",") else ","  # European-style exports use ';'
        if sep == ";":
            notes.append("read as semicolon-separated (decimal commas accepted)")
        df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise GeoInputError(f"not a readable CSV table: {exc}", str(path)) from exc
    cols = {c.strip().lower(): c for c in df.columns}
    lat = next((cols[c] for c in ("lat", "latitude", "y") if c in cols), None)
    lon = next((cols[c] for c in ("lon", "lng", "long", "longitude", "x") if c in cols), None)
    if lat is None or lon is None:
        raise GeoInputError(f"sites CSV needs lat and lon columns; found {', '.join(map(str, df.columns))}", str(path))
    ys = pd.to_numeric(df[lat].str.replace(",", ".", regex=False), errors="coerce").to_numpy()
    xs = pd.to_numeric(df[lon].str.replace(",", ".", regex=False), errors="coerce").to_numpy()
    keep = []
    for i, (y, x) in enumerate(zip(ys, xs)):
        if np.isnan(y) or np.isnan(x):
            notes.append(f"line {i + 2}: no lat/lon, skipped")
        elif not (-90 <= y <= 90 and -180 <= x <= 180):
            notes.append(f"line {i + 2}: latitude {y} / longitude {x} out of range, skipped")
        else:
            keep.append(i)
    rows = df.iloc[keep]
    points = gpd.GeoDataFrame(rows, geometry=shapely.points(xs[keep], ys[keep]), crs="EPSG:4326")
    return sites_from_file(points), rows.to_dict("records"), notes


def far_sites(sites, result) -> list[tuple[int, float]]:
    """(index, km) of the sites farther than :data:`MAX_SITE_KM` from the territory."""
    from geo.constants import ANALYSIS_CRS
    from geo.crs import transform_geoms

    geoms = transform_geoms(np.array([g for _, g in sites], dtype=object), "EPSG:4326", ANALYSIS_CRS)
    shapely.prepare(result.territory.land)
    far = ~shapely.dwithin(result.territory.land, geoms, MAX_SITE_KM * 1000.0)
    return [(int(i), float(shapely.distance(result.territory.land, geoms[i])) / 1000.0) for i in np.flatnonzero(far)]
