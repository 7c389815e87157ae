"""Planners' questions, answered from an analysis: site checks, filtered totals, what-if curves.

Every answer comes from the same engine as :func:`geo.analyze` (its pieces,
bands and provinces), so the numbers cannot disagree with the analysis.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer

from geo._answers import NearbyHazard, QueryAnswer, SiteBand, WhereAnswer
from geo._errors import GeoInputError
from geo._sitefiles import sites_from_file  # noqa: F401 - its home before geo._sitefiles
from geo._text import (  # noqa: F401
    PROVINCE_NAMES,
    normalize_name,
    parse_distance_m,
    parse_km,
    province_code,
    resolve_band,
    resolve_province,
)
from geo.analysis import OUTSIDE, AnalysisResult, analyze
from geo.constants import ANALYSIS_CRS, WGS84
from geo.crs import GEOD, aeqd_transformers, apply_transformer, transform_geoms
from geo.overlay import split, union_overlapping

log = logging.getLogger("geo")


@lru_cache(maxsize=1)
def _demo_result() -> AnalysisResult:
    """The bundled SYNTHETIC demo, analysed once per process for the functions called without a result."""
    from geo._data import DEMO_HAZARDS
    from geo.hazards import read_hazards

    log.warning("no analysis given: answering from the bundled SYNTHETIC demo (pass a result to use your data)")
    return analyze(read_hazards(DEMO_HAZARDS))


def bands_at(distances_m, zones: pd.DataFrame) -> np.ndarray:
    """The band each distance from the frontier (m) falls in: ``inner_km <= d < outer_km``.

    Examples
    --------
    >>> zones = pd.DataFrame({"band": ["0-2 km", "2-7 km", "beyond 7 km"], "inner_km": [0.0, 2.0, 7.0]})
    >>> bands_at([0.0, 1999.9, 2000.0, 9000.0], zones).tolist()
    ['0-2 km', '0-2 km', '2-7 km', 'beyond 7 km']
    """
    km = np.asarray(distances_m, dtype=float) / 1000.0
    k = np.searchsorted(zones["inner_km"].to_numpy(), km, side="right") - 1
    return zones["band"].to_numpy()[np.clip(k, 0, len(zones) - 1)]


def _site_geometry(site, crs: str) -> shapely.Geometry:
    if isinstance(site, tuple) and len(site) == 2:
        lat, lon = (float(v) for v in site)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise GeoInputError(f"latitude {lat} / longitude {lon} out of range")
        return shapely.Point(lon, lat)
    geom = shapely.from_wkt(site) if isinstance(site, str) else site
    if not isinstance(geom, shapely.Geometry) or geom.is_empty:
        raise GeoInputError(f"not a site: {site!r}")
    return transform_geoms(geom, crs, WGS84) if crs != WGS84 else geom


def where(
    *site,
    result: AnalysisResult | None = None,
    radius_m: float = 1000.0,
    crs: str = WGS84,
) -> WhereAnswer:
    """Check one site: province, distance to the frontier, band, and hazards nearby.

    Parameters
    ----------
    *site
        ``lat, lon``; or one ``(lat, lon)`` tuple, WKT string or shapely geometry
        (a point, or a polygon such as a planned road corridor or a village
        footprint); optionally followed by the :class:`AnalysisResult` to answer from.
    result : AnalysisResult, optional
        The analysis to answer from; default the bundled demo.
    radius_m : float
        Hazards within this distance of the site are listed.
    crs : str
        CRS of a WKT string or geometry (default WGS 84 lon/lat).

    Returns
    -------
    WhereAnswer
        A dict: ``province``, ``code``, ``inside_cambodia``, ``distance_to_frontier_m``
        (geodesic, m; 0 for a polygon touching it), ``band``, ``radius_m``,
        ``hazards`` (list of ``hazard_id``, ``distance_m``, ``area_m2``, nearest
        first).  For a polygon also ``area_m2``, ``hazard_area_m2``,
        ``outside_cambodia_m2`` (the part of it beyond the outline),
        ``hazard_outside_cambodia_m2`` and ``bands`` (``band``, ``area_m2``,
        ``hazard_area_m2``).  ``inside_cambodia`` is true when any of the site is inside.

    Examples
    --------
    >>> ans = where(14.35953, 103.47433)  # inside a synthetic demo hazard
    >>> ans["province"], ans["band"], ans["hazards"][0]["hazard_id"], ans["hazards"][0]["distance_m"]
    ('Oddar Meanchey', '0-2 km', 'DEMO-22-0002', 0.0)
    """
    args = list(site)
    if args and isinstance(args[-1], AnalysisResult):
        result = args.pop()
    if len(args) == 2 and all(isinstance(v, (int, float)) for v in args):
        args = [(args[0], args[1])]
    if len(args) != 1:
        raise GeoInputError("give one site: lat, lon; a (lat, lon) tuple; WKT; or a shapely geometry")
    result = result or _demo_result()
    geom = _site_geometry(args[0], crs)
    front = result.frontier_union
    centre = geom.centroid
    # One azimuthal equidistant projection centred on the site serves every distance below.
    to_local, _ = aeqd_transformers(centre.x, centre.y)
    from_analysis, to_lonlat = aeqd_transformers(centre.x, centre.y, src=ANALYSIS_CRS)
    local_site = apply_transformer(geom, to_local)
    geom_a = transform_geoms(geom, WGS84, ANALYSIS_CRS)
    land = result.territory.land
    inside = bool(shapely.intersects(land, geom_a))
    prov = result.provinces
    if geom.geom_type == "Point":
        hit = np.flatnonzero(shapely.contains(prov.geometry.values, geom_a))
        dist = _frontier_distance_m(geom, geom_a, result, (from_analysis, to_lonlat))
    else:
        hit = np.argsort(-shapely.area(shapely.intersection(prov.geometry.values, geom_a)))[:1]
        dist = float(shapely.distance(local_site, apply_transformer(shapely.segmentize(front, 0.0005), to_local)))
    k = int(hit[0]) if len(hit) else int(result.province_index.query_nearest(geom_a)[0])
    answer: WhereAnswer = {
        "site": geom.wkt if geom.geom_type != "Point" else f"{geom.y:.6f}, {geom.x:.6f}",
        "province": prov["province"].iloc[k],
        "code": prov["code"].iloc[k],
        "inside_cambodia": inside,
        "distance_to_frontier_m": round(dist, 2),
        "band": str(bands_at([dist], result.zones)[0]) if inside else OUTSIDE,
        "radius_m": float(radius_m),
    }
    hz = result.hazards
    near = result.hazard_index.query(shapely.buffer(geom_a, radius_m * 1.01 + 50.0))
    found: list[NearbyHazard] = []
    if len(near):
        local_hz = apply_transformer(shapely.segmentize(hz.geometry.values[near], 250.0), from_analysis)
        d = shapely.distance(local_hz, local_site)
        for i, dm in sorted(zip(near, d), key=lambda t: t[1]):
            if dm <= radius_m:
                found.append(
                    {
                        "hazard_id": hz["hazard_id"].iloc[i],
                        "distance_m": round(float(dm), 2),
                        "area_m2": round(float(hz["area_m2"].iloc[i]), 2),
                    }
                )
    answer["hazards"] = found
    if geom.geom_type != "Point":
        answer.update(_polygon_site(geom_a, result))
    if result.summary.get("notice"):
        answer["notice"] = result.summary["notice"]
    return answer


def _frontier_distance_m(
    point: shapely.Point, point_a: shapely.Point, result: AnalysisResult, aeqd: tuple[Transformer, Transformer]
) -> float:
    """Geodesic distance from a point to the analysed frontier, m (to millimetres).

    The distance in the equal-area analysis CRS (scale errors < 0.2 % over Cambodia) bounds
    the answer; only the frontier segments within 2 % + 100 m of it are projected to an
    azimuthal equidistant projection centred on the point, where distances from the centre
    are geodesic, and the nearest point found there is measured with :meth:`pyproj.Geod.inv`.
    ``aeqd`` holds the transformers analysis CRS -> that projection -> WGS 84 (:func:`geo.crs.aeqd_transformers`).
    """
    segs, tree = result.frontier_segments
    _, d_a = tree.query_nearest(point_a, return_distance=True)
    cand = tree.query(shapely.buffer(point_a, float(d_a[0]) * 1.02 + 100.0, quad_segs=4), predicate="intersects")
    to_local, to_lonlat = aeqd
    local = apply_transformer(shapely.multilinestrings(segs[cand]), to_local)
    near = shapely.ops.nearest_points(shapely.segmentize(local, 5.0), shapely.Point(0.0, 0.0))[0]
    ll = apply_transformer(near, to_lonlat)
    return float(GEOD.inv(point.x, point.y, ll.x, ll.y)[2])


def _polygon_site(geom_a: shapely.Geometry, result: AnalysisResult) -> WhereAnswer:
    """Area of a polygon site in each band, and the hazard area (land counted once) in it."""
    zones = result.zones
    land = result.territory.land
    site = split(np.array([geom_a], dtype=object), zones.geometry.values, land)
    lp = result.land_pieces
    cand = result.land_index.query(geom_a, predicate="intersects")
    hz_area = shapely.area(shapely.intersection(lp["geometry"].to_numpy()[cand], geom_a))
    hz_band = lp["band_index"].to_numpy()[cand]
    bands: list[SiteBand] = []
    for i, band in enumerate(zones["band"]):
        bands.append(
            {
                "band": band,
                "area_m2": round(float(site.loc[site["cell"] == i, "area_m2"].sum()), 2),
                "hazard_area_m2": round(float(hz_area[hz_band == i].sum()), 2),
            }
        )
    return {
        "area_m2": round(float(geom_a.area), 2),
        "hazard_area_m2": round(float(hz_area.sum()), 2),
        "outside_cambodia_m2": round(float(site.loc[site["cell"] < 0, "area_m2"].sum()), 2),
        "hazard_outside_cambodia_m2": round(float(hz_area[hz_band < 0].sum()), 2),
        "bands": bands,
    }


#: Fields ``query`` can group by, and the piece columns they read (the first present).
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "province": ("province",),
    "band": ("band",),
    "status": ("status",),
    "type": ("device_type", "hazard_type"),
}


def _areas(sel: pd.DataFrame) -> dict:
    """Counts and areas of a selection of pieces, land counted once."""
    geoms = sel.geometry.values
    land_once = 0.0
    if len(sel):
        shared, unions = union_overlapping(geoms)
        land_once = float(shapely.area(geoms[~shared]).sum() + shapely.area(unions).sum())
    return {
        "hazards": int(sel["hazard_id"].nunique()),
        "pieces": len(sel),
        "area_km2": land_once / 1e6,
        "area_sum_km2": float(sel["area_m2"].sum() / 1e6),
    }


def query(
    result: AnalysisResult | None = None,
    *,
    province: str | Sequence[str] | None = None,
    band: str | None = None,
    within_km: float | None = None,
    status: str | None = None,
    type: str | None = None,
    by: str | Sequence[str] | None = None,
) -> QueryAnswer:
    """Counts and areas of the hazard pieces matching every filter given, in total or by group.

    Parameters
    ----------
    result : AnalysisResult, optional
        Default the bundled demo.
    province : str or list of str, optional
        Name, spelling variant or ISO code (case and accents ignored); several as a list
        or separated by commas.
    band : str, optional
        ``0-2``, ``0-2 km``, ``beyond 7 km`` ...
    within_km : float, optional
        Cumulative distance: the pieces within this many km of the frontier (``7`` means
        0-7 km); must be a band edge of the analysis.
    status, type : str, optional
        Hazard status; device or hazard type (``AP``, ``AV`` ...), case ignored.  A value
        no hazard has is an error listing the values present.
    by : str or list of str, optional
        Group by ``province``, ``band``, ``status`` and/or ``type`` (comma-separated or a list).

    Returns
    -------
    QueryAnswer
        A dict: ``hazards`` (distinct hazards with a matching piece), ``pieces``,
        ``area_km2`` (land counted once), ``area_sum_km2`` (sum of pieces), ``filters``;
        with ``by``, also ``groups``: one dict per group with its field values and the
        same four figures.

    Examples
    --------
    >>> q = query(province="Otdar Meanchey", band="0-2")
    >>> q["filters"]["province"], q["hazards"] > 0, round(q["area_km2"], 2)
    ('Oddar Meanchey', True, 19.65)
    >>> g = query(province="pailin, koh kong", within_km=7, by="province")
    >>> [(x["province"], round(x["area_km2"], 2)) for x in g["groups"]]
    [('Koh Kong', 10.82), ('Pailin', 7.72)]
    """
    result = result or _demo_result()
    pieces = result.by_hazard
    keep = np.ones(len(pieces), dtype=bool)
    filters: dict = {}
    if province is not None:
        names = province.split(",") if isinstance(province, str) else list(province)
        codes = [resolve_province(n.strip(), result) for n in names if n.strip()]
        keep &= pieces["code"].isin(codes).to_numpy()
        table = result.provinces.set_index("code")["province"]
        filters["province"] = ", ".join(table[c] for c in dict.fromkeys(codes))
    if band is not None:
        idx = resolve_band(band, result)
        keep &= (pieces["band_index"] == idx).to_numpy()
        filters["band"] = result.zones["band"].iloc[idx]
    if within_km is not None:
        edges = [float(e) for e in result.zones["outer_km"] if math.isfinite(e)]
        if not any(abs(float(within_km) - e) < 1e-9 for e in edges):
            listed = ", ".join(f"{e:g}" for e in edges)
            raise GeoInputError(
                f"within {within_km:g} km is not a band edge of this analysis ({listed}); "
                f"add it with --bands (e.g. --bands {listed},{within_km:g})"
            )
        outer = result.zones["outer_km"].to_numpy()
        b = pieces["band_index"].to_numpy()
        keep &= (b >= 0) & (outer[np.clip(b, 0, None)] <= float(within_km) + 1e-9)
        filters["within_km"] = float(within_km)
    for name, value, columns in (("status", status, ("status",)), ("type", type, ("device_type", "hazard_type"))):
        if value is None:
            continue
        want = normalize_name(value)
        hit = np.zeros(len(pieces), dtype=bool)
        present: set[str] = set()
        for col in columns:
            if col in pieces.columns:
                hit |= pieces[col].map(lambda v, w=want: v is not None and v == v and normalize_name(v) == w).to_numpy()
                present |= {str(v) for v in pieces[col].dropna().unique() if str(v).strip()}
        if not hit.any():  # a misspelt value would otherwise answer 0 with no word
            listed = ", ".join(sorted(present)[:30]) or "none (the layer has no such column)"
            raise GeoInputError(f"no hazard has {name} {value!r}; the values present are: {listed}")
        keep &= hit
        filters[name] = value
    sel = pieces[keep]
    out: QueryAnswer = {"filters": filters, **_areas(sel)}  # type: ignore[typeddict-item]
    if by:
        fields = [f.strip().lower() for f in (by.split(",") if isinstance(by, str) else by) if f.strip()]
        unknown = [f for f in fields if f not in GROUP_FIELDS]
        if unknown:
            raise GeoInputError(f"cannot group by {', '.join(unknown)}; choose from {', '.join(GROUP_FIELDS)}")
        keys = []
        for f in fields:
            source = next((c for c in GROUP_FIELDS[f] if c in sel.columns), None)
            keys.append(sel[source].fillna("").astype(str) if source else pd.Series("", index=sel.index))
        groups = []
        if len(sel):
            for values, part in sel.groupby(keys, sort=True):
                values = values if isinstance(values, tuple) else (values,)
                groups.append({**dict(zip(fields, values)), **_areas(part)})
        out["groups"] = groups
    if result.summary.get("notice"):
        out["notice"] = result.summary["notice"]
    return out


def distance_curve(
    result: AnalysisResult | None = None,
    *,
    max_km: float = 15.0,
    step_km: float = 0.5,
    top: int = 5,
) -> pd.DataFrame:
    """Contaminated area within distance d of the frontier, for d from 0 to ``max_km``.

    Parameters
    ----------
    result : AnalysisResult, optional
        Default the bundled demo.
    max_km, step_km : float
        The distances: 0, step, 2 step, ... up to max (included).
    top : int
        Per-province columns for the ``top`` provinces with most area within ``max_km``.

    Returns
    -------
    DataFrame
        ``distance_km``, ``total_km2`` and one ``<province>_km2`` column per top
        province.  At 2 and 7 km the total equals the analysis' ``within_2km_km2``
        and ``within_7km_km2``.

    Examples
    --------
    >>> c = distance_curve(max_km=8, step_km=1, top=2)
    >>> list(c.columns)[:2], len(c)
    (['distance_km', 'total_km2'], 9)
    """
    result = result or _demo_result()
    if not (step_km > 0 and max_km > 0 and math.isfinite(max_km) and math.isfinite(step_km)):
        raise GeoInputError(f"need max > 0 and step > 0 km, got max {max_km}, step {step_km}")
    n = math.floor(max_km / step_km + 1e-9)
    distances = sorted({round(i * step_km, 9) for i in range(n + 1)} | {float(max_km)})
    curve = result.within(distances)
    names = dict(zip(result.provinces["code"], result.provinces["province"]))
    last = curve.drop(columns="total_km2").iloc[-1].sort_values(ascending=False)
    best = [c for c in last.index[: max(top, 0)] if last[c] > 0]
    out = pd.DataFrame({"distance_km": curve.index.to_numpy(), "total_km2": curve["total_km2"].to_numpy()})
    for code in best:
        out[f"{names[code]}_km2"] = curve[code].to_numpy()
    return out
