"""Planners' questions, answered from an analysis: site checks, filtered totals, what-if curves.

Every answer comes from the same engine as :func:`geo.analyze` (its pieces,
bands and provinces), so the numbers cannot disagree with the analysis.
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Sequence
from typing import TypedDict, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer

from geo.constants import ANALYSIS_CRS, OUTSIDE, WGS84
from geo.crs import GEOD, aeqd_transformers, apply_transformer, reproject, transform_geoms
from geo.engine.analysis import AnalysisResult, as_result
from geo.engine.overlay import overlap_pairs, split, union_overlapping
from geo.errors import GeoInputError
from geo.names import PROVINCE_NAMES, normalize_name, province_aliases, province_code

log = logging.getLogger("geo")


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
    result: AnalysisResult | str,
    *site,
    radius_m: float = 1000.0,
    crs: str = WGS84,
) -> WhereAnswer:
    """Check one site: province, distance to the frontier, band, and hazards nearby.

    Parameters
    ----------
    result : AnalysisResult or str
        The analysis to answer from (:func:`geo.analyze`), or ``"demo"`` for the bundled
        SYNTHETIC demo.
    *site
        ``lat, lon``; or one ``(lat, lon)`` tuple, WKT string or shapely geometry
        (a point, or a polygon such as a planned road corridor or a village
        footprint).
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
    >>> ans = where("demo", 14.35632, 103.46527)  # inside a synthetic demo hazard
    >>> ans["province"], ans["band"], ans["hazards"][0]["hazard_id"], ans["hazards"][0]["distance_m"]
    ('Oddar Meanchey', '0-2 km', 'DEMO-22-0020', 0.0)
    """
    args = list(site)
    if len(args) == 2 and all(isinstance(v, (int, float)) for v in args):
        args = [(args[0], args[1])]
    if len(args) != 1:
        raise GeoInputError("give one site: lat, lon; a (lat, lon) tuple; WKT; or a shapely geometry")
    result = as_result(result)
    geom = _site_geometry(args[0], crs)
    if geom.geom_type != "Point":  # a polygon's hazard area needs the land pieces themselves
        result.require_pieces("where() for a polygon")
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
    reach_m = radius_m * 1.01 + 50.0
    hz, index = result.hazards_near(
        np.array([centre.x]), np.array([centre.y]), reach_m
    )  # streamed: points only (above)
    near = index.query(shapely.buffer(geom_a, reach_m))
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
    answer["borders"] = _border_distances(local_site, to_local, result, inside)
    answer["nearest_border"] = answer["borders"][0]["neighbor"] if answer["borders"] else None
    if geom.geom_type != "Point":
        answer.update(_polygon_site(geom_a, result))
    if result.summary.get("notice"):
        answer["notice"] = result.summary["notice"]
    return cast(WhereAnswer, Answer(answer))


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


def _border_distances(local_site: shapely.Geometry, to_local, result: AnalysisResult, inside: bool) -> list:
    """The site's geodesic distance to every land border (in the site's azimuthal equidistant
    projection, true from the site), and the band it would lie in along that border; nearest first."""
    out = []
    for iso3, line in result.border_lines.items():
        d = float(shapely.distance(local_site, apply_transformer(shapely.segmentize(line, 0.0005), to_local)))
        band = str(bands_at([d], result.zones)[0]) if inside else OUTSIDE
        out.append({"neighbor": iso3, "distance_m": round(d, 2), "band": band})
    return sorted(out, key=lambda b: b["distance_m"])


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


#: A piece with at most this much of its area in a district, m2, is not in it: a piece that only touches
#: a district's edge can show a sliver of round-off there (more so read back from WGS 84).
SLIVER_M2 = 1e-4
#: The piece columns :func:`query` reads (from the file, for an analysis made in chunks).
QUESTION_COLUMNS = (
    "hazard_id", "province", "code", "district_code", "area_m2", "status", "hazard_type", "device_type"
)  # fmt: skip


def _areas(sel: gpd.GeoDataFrame, pairs: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Counts and areas of a selection of pieces, land counted once.

    Pieces in the analysis CRS are measured as they are. Pieces read back in WGS 84 (an analysis made
    in chunks) are looked at where they lie: the overlaps are found among them there, only the pieces
    that share land are reprojected and united, and the others count their ``area_m2`` (the analysis'
    own measure). ``pairs``: the overlapping pairs of ``sel`` (:func:`overlap_pairs`, by position),
    when already found.
    """
    geoms = sel.geometry.values
    land_once = 0.0
    if len(sel):
        if sel.crs is None or sel.crs.equals(ANALYSIS_CRS):
            _, shared, unions = union_overlapping(geoms, pairs)
            lone = shapely.area(geoms[~shared]).sum()
        else:
            crs = sel.crs
            _, shared, unions = union_overlapping(geoms, pairs, project=lambda g: reproject(g, crs, ANALYSIS_CRS))
            lone = sel["area_m2"].to_numpy(dtype=float)[~shared].sum()
        land_once = float(lone + shapely.area(unions).sum())
    return {
        "hazards": int(sel["hazard_id"].nunique()),
        "pieces": len(sel),
        "area_km2": land_once / 1e6,
        "area_sum_km2": float(sel["area_m2"].sum() / 1e6),
    }


def _pairs_within(pairs: tuple[np.ndarray, np.ndarray], rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``pairs`` (positions among ``n``) with both ends among ``rows`` (ascending), numbered by
    their place in ``rows``."""
    place = np.full(n, -1)
    place[rows] = np.arange(len(rows))
    a, b = place[pairs[0]], place[pairs[1]]
    both = (a >= 0) & (b >= 0)
    return a[both], b[both]


def query(
    result: AnalysisResult | str,
    *,
    province: str | Sequence[str] | None = None,
    band: str | None = None,
    within_km: float | None = None,
    status: str | None = None,
    type: str | None = None,
    by: str | Sequence[str] | None = None,
    district: str | Sequence[str] | None = None,
) -> QueryAnswer:
    """Counts and areas of the hazard pieces matching every filter given, in total or by group.

    Parameters
    ----------
    result : AnalysisResult or str
        The analysis to answer from (:func:`geo.analyze`), or ``"demo"`` for the bundled
        SYNTHETIC demo.
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
    district : str or list of str, optional
        A district by name (``Malai``), gazetteer code (``0109``) or, where names are shared,
        ``name, province``; several as a list. The pieces are cut to the districts (as fitted into
        the provinces), so the areas equal ``by_district.csv``'s.

    Returns
    -------
    QueryAnswer
        A dict: ``hazards`` (distinct hazards with a matching piece), ``pieces``,
        ``area_km2`` (land counted once), ``area_sum_km2`` (sum of pieces), ``filters``;
        with ``by``, also ``groups``: one dict per group with its field values and the
        same four figures.

    Examples
    --------
    >>> q = query("demo", province="Otdar Meanchey", band="0-2")
    >>> q["filters"]["province"], q["hazards"] > 0, round(q["area_km2"], 2)
    ('Oddar Meanchey', True, 24.09)
    >>> g = query("demo", province="pailin, koh kong", within_km=7, by="province")
    >>> [(x["province"], round(x["area_km2"], 2)) for x in g["groups"]]
    [('Koh Kong', 10.79), ('Pailin', 7.7)]
    """
    result = as_result(result)
    # Made in chunks: the pieces are read back from the analysis' zones.gpkg (WGS 84) and those selected
    # measured again in the analysis CRS (to be cut to districts, all of them first).
    pieces = result.pieces_for_questions(QUESTION_COLUMNS)
    if district is not None and not pieces.crs.equals(ANALYSIS_CRS):
        pieces = pieces.to_crs(ANALYSIS_CRS)
    keep = np.ones(len(pieces), dtype=bool)
    filters: dict = {}
    if province is not None:
        names = province.split(",") if isinstance(province, str) else list(province)
        codes = [resolve_province(n.strip(), result) for n in names if n.strip()]
        keep &= pieces["code"].isin(codes).to_numpy()
        table = result.provinces.set_index("code")["province"]
        filters["province"] = ", ".join(table[c] for c in dict.fromkeys(codes))
    if district is not None:
        pieces, inside, filters["district"] = _in_districts(pieces, district, result)
        keep &= inside
    if band is not None:
        idx = resolve_band(band, result)
        keep &= (pieces["band_index"] == idx).to_numpy()
        filters["band"] = result.zones["band"].iloc[idx]
    if within_km is not None:
        edges = [float(e) for e in result.zones["outer_km"] if math.isfinite(e)]
        if not any(abs(float(within_km) - e) < 1e-9 for e in edges):
            listed = ", ".join(f"{e:g}" for e in edges)
            wanted = ",".join(f"{e:g}" for e in sorted({*edges, float(within_km)}))
            raise GeoInputError(
                f"within {within_km:g} km is not a band edge of this analysis ({listed}); "
                f"add it with --bands (e.g. --bands {wanted}, or bands_km=({wanted}) in Python)"
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
    # The overlaps found once (read back in WGS 84: found there), for the total and every group.
    pairs = overlap_pairs(sel.geometry.values) if len(sel) else (np.array([], int), np.array([], int))
    out: QueryAnswer = {"filters": filters, **_areas(sel, pairs)}  # type: ignore[typeddict-item]
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
            grouped = sel.groupby(keys, sort=True)
            number = grouped.ngroup().to_numpy()  # the groups numbered as they come below
            for k, (values, part) in enumerate(grouped):
                rows = np.flatnonzero(number == k)
                values = values if isinstance(values, tuple) else (values,)
                groups.append({**dict(zip(fields, values)), **_areas(part, _pairs_within(pairs, rows, len(sel)))})
        out["groups"] = groups
    if result.summary.get("notice"):
        out["notice"] = result.summary["notice"]
    return cast(QueryAnswer, Answer(out))


def _in_districts(pieces: pd.DataFrame, district: str | Sequence[str], result: AnalysisResult):
    """The pieces cut to the districts named (geometry and ``area_m2``), which of them lie in those
    districts (more than :data:`SLIVER_M2` of them), and the districts' names."""
    from geo.engine.aoi import match_district

    fitted = result.territory.districts
    if fitted is None:
        raise GeoInputError(
            "this analysis has no districts (its provinces are not Cambodia's by ISO code); query by --province"
        )
    chosen = []
    for text in [district] if isinstance(district, str) else list(district):
        hit = match_district(text, fitted)
        if hit is None:
            close = difflib.get_close_matches(str(text), list(fitted["district"]), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise GeoInputError(f"no district {text!r} in this analysis{hint}")
        chosen.append(hit)
    picked = pd.concat(chosen).drop_duplicates("district_code")
    area = shapely.union_all(picked.geometry.values)
    shapely.prepare(area)
    geoms = pieces.geometry.values
    inside = shapely.intersects(area, geoms)
    cut = geoms.copy()
    cut[inside] = shapely.intersection(geoms[inside], area)
    areas = pieces["area_m2"].to_numpy(dtype=float).copy()
    areas[inside] = shapely.area(cut[inside])
    inside &= areas > SLIVER_M2
    out = pieces.assign(area_m2=areas).set_geometry(gpd.GeoSeries(cut, index=pieces.index, crs=pieces.crs))
    names = "; ".join(f"{d}, {p}" for d, p in zip(picked["district"], picked["province"]))
    return out, inside, names


class Answer(dict):
    """An answer of :func:`where` or :func:`query`: a ``dict`` with the keys of :class:`WhereAnswer` or
    :class:`QueryAnswer`, and :meth:`to_frame` for a table."""

    def to_frame(self) -> pd.DataFrame:
        """The answer as a table: a query's groups one per row (or its totals in one row); a site's
        figures in one row, with the number of hazards near it and the nearest one.

        Examples
        --------
        >>> Answer({"filters": {"band": "0-2 km"}, "hazards": 2, "pieces": 3, "area_km2": 1.5,
        ...         "area_sum_km2": 1.6}).to_frame().to_dict("records")
        [{'band': '0-2 km', 'hazards': 2, 'pieces': 3, 'area_km2': 1.5, 'area_sum_km2': 1.6}]
        """
        if "filters" in self:  # a query
            figures = ["hazards", "pieces", "area_km2", "area_sum_km2"]
            if "groups" in self:
                return pd.DataFrame(self["groups"])
            return pd.DataFrame([{**self["filters"], **{k: self[k] for k in figures}}])
        row = {k: v for k, v in self.items() if not isinstance(v, (list, dict))}
        near = self.get("hazards") or []
        row["hazards_nearby"] = len(near)
        row["nearest_hazard_id"] = near[0]["hazard_id"] if near else None
        row["nearest_hazard_m"] = near[0]["distance_m"] if near else None
        return pd.DataFrame([row])


class NearbyHazard(TypedDict):
    """A hazard near a site: its id, geodesic distance from the site (m, 0 inside it) and area (m2)."""

    hazard_id: str
    distance_m: float
    area_m2: float


class SiteBand(TypedDict):
    """A polygon site's area in one band, and the contaminated part of it (land counted once), m2."""

    band: str
    area_m2: float
    hazard_area_m2: float


class BorderDistance(TypedDict):
    """A site's geodesic distance to one land border (m, ``neighbor`` its ISO3 code), and the band it
    lies in along that border."""

    neighbor: str
    distance_m: float
    band: str


class WhereAnswer(TypedDict, total=False):
    """The answer of :func:`geo.planning.queries.where` (a ``dict`` at run time, with these keys).

    Every site has ``site`` to ``hazards``, and ``borders`` (every land border, nearest first:
    the restriction applies along all of them) with ``nearest_border``; a polygon site adds ``area_m2``,
    ``hazard_area_m2``, ``outside_cambodia_m2``, ``hazard_outside_cambodia_m2`` and
    ``bands``; an analysis of synthetic data adds ``notice``.
    """

    site: str
    province: str
    code: str
    inside_cambodia: bool
    distance_to_frontier_m: float
    band: str
    radius_m: float
    hazards: list[NearbyHazard]
    borders: list[BorderDistance]
    nearest_border: str | None
    area_m2: float
    hazard_area_m2: float
    outside_cambodia_m2: float
    hazard_outside_cambodia_m2: float
    bands: list[SiteBand]
    notice: str
    site_attributes: dict


class QueryAnswer(TypedDict, total=False):
    """The answer of :func:`geo.planning.queries.query` (a ``dict`` at run time, with these keys).

    ``hazards`` (distinct hazards with a matching piece), ``pieces``, ``area_km2`` (land
    counted once), ``area_sum_km2`` (sum of pieces) and the ``filters`` applied; with
    ``by``, ``groups`` (each group's field values and the same four figures); an analysis
    of synthetic data adds ``notice``.
    """

    filters: dict
    hazards: int
    pieces: int
    area_km2: float
    area_sum_km2: float
    groups: list[dict]
    notice: str


def resolve_province(name: str, result: AnalysisResult) -> str:
    """Province code for a name, spelling variant or ISO code; unknown names suggest the closest.

    Raises
    ------
    GeoInputError
        For an unknown name, listing the closest province names.
    """
    codes = list(result.provinces["code"])
    code = province_code(name)
    if code is not None and code in codes:
        return code
    # A user province layer: match its own names and codes.
    own = {normalize_name(n): c for n, c in zip(result.provinces["province"], codes)}
    own.update({normalize_name(c): c for c in codes})
    if normalize_name(name) in own:
        return own[normalize_name(name)]
    # A unique beginning of a name or variant ("otdar", "banteay") is enough.
    key = normalize_name(name)
    starts = {c for alias, c in {**province_aliases(), **own}.items() if key and alias.startswith(key) and c in codes}
    if len(starts) == 1:
        return starts.pop()
    names = [PROVINCE_NAMES[c][0] if c in PROVINCE_NAMES else p for c, p in zip(codes, result.provinces["province"])]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5) or difflib.get_close_matches(
        normalize_name(name), [normalize_name(n) for n in names], n=3, cutoff=0.5
    )
    hint = f"; did you mean {', '.join(close)}?" if close else f"; provinces are {', '.join(names)}"
    raise GeoInputError(f"unknown province {name!r}{hint}")


def resolve_band(spec: str, result: AnalysisResult) -> int:
    """Index of the band named ``spec`` (``0-2``, ``0-2 km``, ``beyond 7 km``, ``beyond_7`` ...)."""
    want = normalize_name(str(spec).replace("km", ""))
    for i, (band, key) in enumerate(zip(result.zones["band"], result.zones["key"])):
        if want in (normalize_name(band.replace("km", "")), normalize_name(key)):
            return i
    raise GeoInputError(f"unknown band {spec!r}; bands are {', '.join(result.zones['band'])}")
