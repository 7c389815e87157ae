"""Map layers as data: band meanings and colours, choropleth classes, and GeoJSON features.

Shared by the interactive map (:mod:`geo.render.webmap`) and the static map
(:mod:`geo.render.plot`).  Geometry is simplified for display only; every number
shown is a ``by_province`` / ``by_hazard`` value rounded for display.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math

import geopandas as gpd
import numpy as np
import shapely

from geo.constants import ANALYSIS_CRS, MILITARY_ONLY_KM, RESTRICTED_KM, WGS84
from geo.crs import transform_geoms
from geo.engine.analysis import AnalysisResult
from geo.engine.zones import bands_from_buffers
from geo.errors import GeoError
from geo.io.writers import public_columns

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
BAND_COLORS = ("#D55E00", "#F0E442", "#009E73", "#0072B2", "#CC79A7", "#56B4E9", "#E69F00")
BEYOND_COLOR = "#7f7f7f"
#: Upper limits of the choropleth classes of contaminated area per province, km2.
AREA_LIMITS_KM2 = (1.0, 10.0, 25.0, 50.0, 100.0)
#: Colours: no contamination, then light to dark (ColorBrewer Purples, colour-blind safe and
#: distinct from the band colours drawn over them).
AREA_COLORS = ("#f7f7f7", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f")
DENSITY_CELL_M = 2_000.0
#: The density grid's own ramp (orange to dark red: no province or band colour), by the share of a
#: cell the hazards cover, with the upper limits of its classes.
DENSITY_COLORS = ("#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000")
DENSITY_LIMITS = (0.01, 0.05, 0.10, 0.25)
#: Display-only simplification, m (never used for numbers); coordinates rounded to ~1 m.
SIMPLIFY_M = {"provinces": 60.0, "districts": 150.0, "zones": 25.0, "hazards": 5.0}
DECIMALS = 5
#: Hazard attributes already in the tooltip (the popup shows the tooltip rows, then the rest).
SHOWN = {"hazard_id", "province", "band", "status", "hazard_type", "device_type"}

#: Said on every map: the lines drawn are not an authority on where a border runs.
DISCLAIMER = (
    "Boundaries are shown for analysis only and imply no position on their course; parts of "
    "Cambodia's borders, with Thailand among them, are disputed or not demarcated"
)

#: Neighbours and sea named on both maps, with a point in each (lon, lat; outside Cambodia).
SURROUNDINGS = (
    ("THAILAND", 102.75, 14.62),
    ("LAOS", 105.75, 14.78),
    ("VIET NAM", 106.95, 10.95),
    ("Gulf of Thailand", 103.05, 10.55),
)


def band_meaning(inner_km: float, outer_km: float) -> str:
    """What a band means for operators, from the 2 km and 7 km rules.

    Examples
    --------
    >>> band_meaning(0, 2), band_meaning(5, 7), band_meaning(7, math.inf)
    ('military only', 'international operators tasked', 'outside the 7 km restricted zone')
    """
    if outer_km <= MILITARY_ONLY_KM:
        return "military only"
    if inner_km >= 5 and outer_km <= RESTRICTED_KM:
        return "international operators tasked"
    if outer_km <= RESTRICTED_KM:
        return "restricted zone, no international operators"
    if inner_km >= RESTRICTED_KM:
        return f"outside the {RESTRICTED_KM:g} km restricted zone"
    return f"crosses the {RESTRICTED_KM:g} km line"


def band_colors(zones: gpd.GeoDataFrame) -> dict[str, str]:
    """Colour per band label; the unbounded outer band is grey."""
    return {
        band: BEYOND_COLOR if math.isinf(outer) else BAND_COLORS[i % len(BAND_COLORS)]
        for i, (band, outer) in enumerate(zip(zones["band"], zones["outer_km"]))
    }


def area_class(area_km2: float) -> int:
    """Choropleth class of a contaminated area: 0 for none, then one per limit.

    Examples
    --------
    >>> [area_class(a) for a in (0, 0.5, 1, 5, 60, 150)]
    [0, 1, 1, 2, 5, 6]
    """
    if area_km2 <= 0:
        return 0
    return 1 + int(np.searchsorted(AREA_LIMITS_KM2, area_km2, side="left"))


def density_class(share: float) -> int:
    """Class of a grid cell by the share of it the hazards cover (:data:`DENSITY_LIMITS`).

    Examples
    --------
    >>> [density_class(s) for s in (0.001, 0.01, 0.03, 0.2, 0.6)]
    [0, 1, 1, 3, 4]
    """
    return int(np.searchsorted(DENSITY_LIMITS, share, side="right"))


def density_legend() -> list[tuple[str, str]]:
    """(colour, label) of each density class."""
    edges = (0.0, *DENSITY_LIMITS)
    labels = [f"{a:.0%} – {b:.0%} of the cell" for a, b in itertools.pairwise(edges)]
    labels[0] = f"under {DENSITY_LIMITS[0]:.0%} of the cell"
    labels.append(f"{DENSITY_LIMITS[-1]:.0%} or more of the cell")
    return list(zip(DENSITY_COLORS, labels))


def area_legend() -> list[tuple[str, str]]:
    """(colour, label) of each choropleth class."""
    edges = (0.0, *AREA_LIMITS_KM2)
    labels = ["none recorded", *[f"{a:g} – {b:g} km²" for a, b in itertools.pairwise(edges)]]
    labels[1] = f"up to {AREA_LIMITS_KM2[0]:g} km²"
    labels.append(f"over {AREA_LIMITS_KM2[-1]:g} km²")
    return list(zip(AREA_COLORS, labels))


def _esc(value) -> str:
    """HTML-escape a value for the page's static panels (title, legend, footer)."""
    return html.escape(_text(value), quote=True)


def _text(value) -> str:
    """A value as display text ('' for missing); data layers show it with textContent, never as HTML."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


#: Units a column name ends with, and how a popup shows them.
_UNITS = (("_km2", "km²", 3), ("_m2", "m²", 0), ("_ha", "ha", 2), ("_km", "km", 2), ("_m", "m", 1))


def popup_row(name: str, value) -> tuple[str, str]:
    """A popup's label and value for an attribute: words for the name (``area_recorded_m2`` ->
    ``area recorded``), numbers rounded with their unit (``1,047,033 m²``), other values as text."""
    label, unit, digits = str(name), "", None
    for suffix, shown, places in _UNITS:
        if label.lower().endswith(suffix) and len(label) > len(suffix):
            label, unit, digits = label[: -len(suffix)], shown, places
            break
    label = label.replace("_", " ").strip() or str(name)
    number = None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
    elif unit:
        try:
            number = float(str(value).replace(",", ""))
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        return label, _text(value)
    if digits is None:  # a plain number: as it is when whole, else to 4 significant decimals at most
        text = f"{number:,.0f}" if number.is_integer() else f"{number:,.4f}".rstrip("0").rstrip(".")
    else:
        text = f"{number:,.{digits}f}"
    return label, f"{text} {unit}".strip()


def _popup_rows(row: dict) -> dict[str, str]:
    """:func:`popup_row` of every attribute; two names read alike keep their own names."""
    out: dict[str, str] = {}
    for name, value in row.items():
        label, text = popup_row(name, value)
        out[label if label not in out else str(name)] = text
    return out


def _display(gdf: gpd.GeoDataFrame, tolerance_m: float) -> np.ndarray:
    """Display geometry: simplified in metres, WGS 84, rounded to ~1 m. Never used for numbers."""
    geoms = shapely.simplify(gdf.to_crs(ANALYSIS_CRS).geometry.values, tolerance_m, preserve_topology=True)
    geoms = gpd.GeoSeries(geoms, crs=ANALYSIS_CRS).to_crs(WGS84).values
    return shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))


def _collection(geoms: np.ndarray, props: list[dict]) -> dict:
    feats = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": p}
        for g, p in zip(geoms, props)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats}


def _km2(v: float) -> str:
    return f"{v:,.2f}"


def province_features(result: AnalysisResult) -> dict:
    """Provinces as GeoJSON; tooltip strings are ``by_province`` values rounded for display."""
    bp = result.by_province.set_index("code")
    props = []
    shown = result.provinces[result.provinces["code"].isin(bp.index)]  # an area of interest limits the table
    for code in shown["code"]:
        r = bp.loc[code]
        km = _text(r.get("name_km"))
        props.append(
            {
                "name": _text(r["province"]),
                "label": _text(r["province"]) + (f" · {km}" if km else ""),
                "code": _text(code),
                "hazards": f"{int(r['hazards']):,}",
                "area_km2": _km2(r["area_km2"]),
                "within_2km_km2": _km2(r["within_2km_km2"]),
                "within_7km_km2": _km2(r["within_7km_km2"]),
                "share_within_7km": f"{r['share_within_7km']:.1%}",
                "mine_free": _text(r.get("mine_free_status", "")).capitalize() or "-",
                "_fill": AREA_COLORS[area_class(float(r["area_km2"]))],
            }
        )
    return _collection(_display(shown, SIMPLIFY_M["provinces"]), props)


def district_features(result: AnalysisResult) -> dict | None:
    """The edges between districts of the same province (as fitted into the provinces) as one GeoJSON
    line feature, each drawn once (the provinces' own outlines are drawn with the provinces); None
    when the analysis has no districts. Their names are labels (:func:`place_labels`) and their
    figures are in ``by_district.csv``."""
    fitted, table = result.territory.districts, result.by_district
    if fitted is None or table is None:
        return None
    shown = fitted[fitted["district_code"].isin(set(table["district_code"]))]  # an area of interest limits them
    geoms, code = shown.geometry.values, shown["code"].to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    inner = (a < b) & (code[a] == code[b])
    edges = shapely.boundary(geoms)
    parts = shapely.get_parts(shapely.intersection(edges[a[inner]], edges[b[inner]]))
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 5))]  # lines, not the points where edges touch
    shared = shapely.line_merge(shapely.union_all(parts)) if len(parts) else shapely.MultiLineString()
    lines = gpd.GeoDataFrame(geometry=[shared], crs=shown.crs)
    return _collection(_display(lines, SIMPLIFY_M["districts"]), [{"_fill": "#6b6b6b"}])


def zone_features(result: AnalysisResult) -> dict:
    """The finite bands as GeoJSON, with colour and meaning."""
    zones = result.zones[np.isfinite(result.zones["outer_km"])]
    colors = band_colors(result.zones)
    props = [
        {"band": b, "meaning": band_meaning(i, o), "zone_km2": _km2(a), "_fill": colors[b]}
        for b, i, o, a in zip(zones["band"], zones["inner_km"], zones["outer_km"], zones["area_km2"])
    ]
    return _collection(_display(zones, SIMPLIFY_M["zones"]), props)


#: At small scales each band is drawn at least this many pixels wide (widened away from the frontier).
MIN_BAND_PX = 4.0
#: The smallest zoom drawn with its own widened bands (smaller zooms use these).
WIDEST_ZOOM = 5
#: Web Mercator: metres per pixel at zoom 0 on the equator (256-pixel tiles).
EQUATOR_M_PER_PX = 40_075_016.686 / 256


def pixel_m(zoom: int, lat: float) -> float:
    """Metres on the ground of a Web Mercator pixel at ``zoom`` and latitude ``lat``.

    Examples
    --------
    >>> round(pixel_m(7, 13.0), 1)
    1191.6
    """
    return EQUATOR_M_PER_PX * math.cos(math.radians(lat)) / 2**zoom


def widened_edges(edges_km: list[float], least_km: float) -> list[float]:
    """Band edges, km, moved outward so that each band is at least ``least_km`` wide; the edges
    themselves where every band is wide enough.

    Examples
    --------
    >>> widened_edges([2.0, 5.0, 7.0], 0.5)
    [2.0, 5.0, 7.0]
    >>> [round(e, 2) for e in widened_edges([2.0, 5.0, 7.0], MIN_BAND_PX * pixel_m(7, 13.0) / 1000)]
    [4.77, 9.53, 14.3]
    """
    out, inner, drawn = [], 0.0, 0.0
    for edge in edges_km:
        drawn += max(edge - inner, least_km)
        out.append(drawn)
        inner = edge
    return out


def _parts_over(geom: shapely.Geometry, least_m2: float) -> shapely.Geometry:
    """The polygons of ``geom`` of at least ``least_m2``, without zero-width spikes (shrunk by a metre and
    grown back: where a band's edge runs along the land's, the difference can leave one)."""
    opened = shapely.buffer(shapely.buffer(geom, -1.0, join_style="mitre"), 1.0, join_style="mitre")
    parts = shapely.get_parts(opened)
    return shapely.multipolygons(parts[shapely.area(parts) >= least_m2])


def widened_bands(result: AnalysisResult, least_m: float) -> gpd.GeoDataFrame | None:
    """The finite bands drawn at a small scale, each at least ``least_m`` wide: cut again from the frontier
    at widened edges (:func:`widened_edges`), for display only; None where every band is wide enough.

    Buffered in the equal-area CRS (within a percent or two of ground distance here) from the frontier
    and the land simplified to a quarter of ``least_m``, far below what such a scale shows.

    Returns
    -------
    GeoDataFrame or None
        The finite bands' rows of ``result.zones`` (true labels and areas) with the widened geometry.
    """
    zones = result.zones[np.isfinite(result.zones["outer_km"])]
    edges = [float(e) for e in zones["outer_km"]]
    drawn = widened_edges(edges, least_m / 1000.0)
    if not len(zones) or drawn == edges:
        return None
    frontier = shapely.union_all(transform_geoms(result.territory.frontier, WGS84, ANALYSIS_CRS))
    line = shapely.simplify(frontier, least_m / 4)
    buffers = [shapely.buffer(line, e * 1000.0, quad_segs=4) for e in drawn]
    cut = bands_from_buffers(buffers, shapely.simplify(result.territory.land, least_m / 4), drawn)
    cut = cut[np.isfinite(cut["outer_km"])]
    # Slivers thinner than the least width, where the simplified land and line part ways, are not drawn.
    geoms = [_parts_over(g, (least_m / MIN_BAND_PX) ** 2) for g in cut.geometry.values]
    return zones.set_geometry(gpd.GeoSeries(geoms, index=zones.index, crs=ANALYSIS_CRS))


def widened_zone_features(result: AnalysisResult) -> list[tuple[dict, int, int]]:
    """The finite bands as the web map draws them at small scales, each at least :data:`MIN_BAND_PX` wide
    (:func:`widened_bands`; tooltips give the true band and its true land area).

    Returns
    -------
    list of (FeatureCollection, from_zoom, below_zoom)
        One per zoom that needs widening, from :data:`WIDEST_ZOOM` (which also serves every smaller
        zoom, ``from_zoom`` 0) up; empty when the bands are wide enough at every zoom from it.
    """
    land = result.territory.land
    lat = float(gpd.GeoSeries([land.centroid], crs=ANALYSIS_CRS).to_crs(WGS84).y.iloc[0])
    colors = band_colors(result.zones)
    out = []
    zoom = WIDEST_ZOOM
    while (wide := widened_bands(result, MIN_BAND_PX * pixel_m(zoom, lat))) is not None:
        props = [
            {
                "band": b,
                "meaning": band_meaning(i, o),
                "zone_km2": _km2(a),
                "drawn": f"at least {MIN_BAND_PX:g} px wide at this zoom (widened, not to scale)",
                "_fill": colors[b],
            }
            for b, i, o, a in zip(wide["band"], wide["inner_km"], wide["outer_km"], wide["area_km2"])
        ]
        out.append(
            (_collection(_display(wide, pixel_m(zoom, lat) / 2), props), 0 if zoom == WIDEST_ZOOM else zoom, zoom + 1)
        )
        zoom += 1
    return out


def place_labels(result: AnalysisResult) -> list[dict]:
    """Names drawn on the web map: each province and district at a point inside it, the neighbours and
    the sea (``text``, ``lat``, ``lon``, ``kind``: ``province``, ``district``, ``country`` or ``sea``)."""
    points = gpd.GeoSeries(shapely.point_on_surface(result.provinces.geometry.values), crs=result.provinces.crs).to_crs(
        WGS84
    )
    out = [
        {"text": _text(name), "lat": round(p.y, 5), "lon": round(p.x, 5), "kind": "province"}
        for name, p in zip(result.provinces["province"], points)
    ]
    districts = result.territory.districts
    if districts is not None and result.by_district is not None:
        shown = districts[districts["district_code"].isin(set(result.by_district["district_code"]))]
        spots = gpd.GeoSeries(shapely.point_on_surface(shown.geometry.values), crs=shown.crs).to_crs(WGS84)
        out += [
            {"text": _text(name), "lat": round(p.y, 5), "lon": round(p.x, 5), "kind": "district"}
            for name, p in zip(shown["district"], spots)
        ]
    for text, lon, lat in SURROUNDINGS:
        out.append({"text": text, "lat": lat, "lon": lon, "kind": "sea" if text.startswith("Gulf") else "country"})
    return out


def _area_text(m2: float) -> str:
    """A hazard's area as its tooltip shows it.

    Examples
    --------
    >>> _area_text(12345.6)
    '12,346 m² (1.23 ha)'
    """
    return f"{m2:,.0f} m² ({m2 / 1e4:,.2f} ha)"


def hazard_features(result: AnalysisResult) -> dict:
    """Hazard pieces as GeoJSON: tooltip fields, and every attribute for the popup."""
    pieces = result.hazard_pieces
    colors = band_colors(result.zones)
    hidden = {"geometry", "inner_km", "outer_km", "share_of_hazard", "area_km2", "row", "synthetic", "data_notice"}
    attrs = [c for c in public_columns(pieces).columns if c not in hidden]
    props = []
    for rec in pieces[attrs].itertuples(index=False):
        row = dict(zip(attrs, rec))
        props.append(
            {
                "hazard_id": _text(row["hazard_id"]),
                "province": _text(row["province"]),
                "band": _text(row["band"]),
                "area": _area_text(row["area_m2"]),
                "status": _text(row.get("status")),
                "hazard_type": _text(row.get("hazard_type")),
                "device_type": _text(row.get("device_type")),
                "_attrs": _popup_rows({k: v for k, v in row.items() if k not in SHOWN and _text(v) != ""}),
                "_fill": colors.get(row["band"], "#000000"),
            }
        )
    return _collection(_display(pieces, SIMPLIFY_M["hazards"]), props)


def _packed(values: np.ndarray, dtype: str) -> str:
    """A numeric column as base64 of little-endian ``dtype`` (the page reads it into a typed array)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def hazard_points(result: AnalysisResult) -> dict | None:
    """One point per hazard (a point inside it), packed for a map too large to draw the hazards' shapes:
    each hazard stays findable by id and visible from a street-level zoom, whatever the number of hazards.

    The page decodes the columns into typed arrays and draws only the points in view (about 35 bytes of
    the page per hazard, against about 170 as GeoJSON). Province and band are those of the hazard's
    largest piece; the area is the hazard's.

    Returns
    -------
    dict or None
        ``ids`` (hazard ids, as text), ``lon`` and ``lat`` (int32, degrees x ``scale``), ``area_m2``
        (float64), ``band`` and ``province`` (uint8 indexes into ``bands`` and ``provinces``), each
        numeric column base64-encoded little-endian; ``bands`` is ``[label, colour]`` pairs. None
        when there are no hazards.
    """
    pieces = result.hazard_pieces
    hazards = result.hazards
    if not len(hazards):
        return None
    colors = band_colors(result.zones)
    largest = pieces.sort_values("area_m2", ascending=False, kind="stable").drop_duplicates("hazard_id")
    largest = largest.set_index(largest["hazard_id"].astype(str))
    where = shapely.get_coordinates(
        transform_geoms(shapely.point_on_surface(hazards.geometry.to_numpy()), ANALYSIS_CRS, WGS84)
    )
    ids = hazards["hazard_id"].astype(str)
    of = largest.reindex(ids)
    band_names = [_text(b) for b in of["band"].tolist()]
    bands = list(dict.fromkeys([*result.zones["band"].map(_text), *band_names]))
    province_names = [_text(p) for p in of["province"].tolist()]
    provinces = sorted(set(province_names))
    if len(bands) > 255 or len(provinces) > 255:
        raise GeoError(f"too many bands ({len(bands)}) or provinces ({len(provinces)}) for the map's hazard points")
    band_at = {b: k for k, b in enumerate(bands)}
    province_at = {p: k for k, p in enumerate(provinces)}
    scale = 10**DECIMALS
    return {
        "ids": [_text(h) for h in ids],
        "scale": scale,
        "lon": _packed(np.round(where[:, 0] * scale), "<i4"),
        "lat": _packed(np.round(where[:, 1] * scale), "<i4"),
        "area_m2": _packed(hazards["area_m2"].to_numpy(dtype=float), "<f8"),
        "band": _packed([band_at[b] for b in band_names], "u1"),
        "province": _packed([province_at[p] for p in province_names], "u1"),
        "bands": [[b, colors.get(b, "#000000")] for b in bands],
        "provinces": provinces,
    }


def unpack_points(points: dict) -> dict:
    """The columns of :func:`hazard_points` decoded again (what the page reads), as numpy arrays."""
    out = {}
    for key, dtype in (("lon", "<i4"), ("lat", "<i4"), ("area_m2", "<f8"), ("band", "u1"), ("province", "u1")):
        out[key] = np.frombuffer(base64.b64decode(points[key]), dtype=dtype)
    out["lon"] = out["lon"] / points["scale"]
    out["lat"] = out["lat"] / points["scale"]
    return out


def density_features(result: AnalysisResult, cell_m: float = DENSITY_CELL_M) -> dict:
    """Hazard area per square grid cell (for inputs too large to draw polygon by polygon)."""
    pieces = result.hazard_pieces
    c = shapely.get_coordinates(shapely.centroid(pieces.geometry.values))
    ix, iy = np.floor(c[:, 0] / cell_m).astype(np.int64), np.floor(c[:, 1] / cell_m).astype(np.int64)
    keys, inv = np.unique(np.column_stack([ix, iy]), axis=0, return_inverse=True)
    area = np.bincount(inv.ravel(), weights=pieces["area_m2"].to_numpy(), minlength=len(keys))
    count = np.bincount(inv.ravel(), minlength=len(keys))
    boxes = shapely.box(keys[:, 0] * cell_m, keys[:, 1] * cell_m, (keys[:, 0] + 1) * cell_m, (keys[:, 1] + 1) * cell_m)
    share = area / (cell_m * cell_m)
    props = [
        {
            "hazard_km2": f"{a / 1e6:,.3f}",
            "pieces": f"{n:,}",
            "share": f"{s:.1%}",
            "_fill": DENSITY_COLORS[density_class(s)],
        }
        for a, n, s in zip(area, count, share)
    ]
    return _collection(_display(gpd.GeoDataFrame(geometry=boxes, crs=ANALYSIS_CRS), 0.0), props)


#: Colours of the other frontier lines (Paul Tol's bright scheme, apart from the band colours).
ALTERNATIVE_COLORS = ("#AA3377", "#228833", "#EE7733", "#66CCEE")


def alternative_features(result: AnalysisResult) -> dict:
    """The other mappings of the frontier as GeoJSON (display only: simplified to ~20 m)."""
    alt = result.alternative_lines
    colors = dict(zip(sorted(set(alt["line"])), itertools.cycle(ALTERNATIVE_COLORS)))
    props = [{"_fill": colors[n], "line": _text(n), "neighbor": _text(c)} for n, c in zip(alt["line"], alt["neighbor"])]
    geoms = shapely.transform(shapely.simplify(alt.geometry.values, 0.0002), lambda xy: np.round(xy, DECIMALS))
    return _collection(geoms, props)


def chart_data(result: AnalysisResult, curve=None) -> dict:
    """What the map's chart panel draws, all figures taken from the analysis (none recomputed in the page).

    Parameters
    ----------
    result : AnalysisResult
    curve : DataFrame, optional
        ``distance_km`` and ``total_km2`` from :meth:`AnalysisResult.curve`; the slider reads
        its values off this table.

    Returns
    -------
    dict
        ``bands`` (label, colour), ``provinces`` (code, name, km2 per band, total; the provinces
        with contamination, largest first), ``curve`` (``d_km``, ``km2``, ``inside_km2``) and
        ``marks_km`` (the band edges).
    """
    bp = result.by_province
    zones = result.zones.reset_index(drop=True)
    colors = band_colors(zones)
    cols = [f"band_{k}_km2" for k in zones["key"]]
    rows = bp[bp["area_km2"] > 0].sort_values("area_km2", ascending=False, kind="stable")
    provinces = [
        {
            "code": _text(r["code"]),
            "name": _text(r["province"]),
            "km2": [round(float(r[c]), 4) for c in cols],
            "outside_km2": round(float(r.get("outside_cambodia_km2", 0.0)), 4),
            "total_km2": round(float(r["area_km2"]), 4),
        }
        for _, r in rows.iterrows()
    ]
    out = {
        "bands": [{"label": _text(b), "color": colors[b]} for b in zones["band"]],
        "provinces": provinces,
        "marks_km": [float(e) for e in result.summary.get("bands_km", [])],
        "inside_km2": round(float(result.summary["inside_cambodia_km2"]), 4),
        "synthetic": bool(result.summary.get("synthetic")),
    }
    if curve is not None and len(curve):
        out["curve"] = {
            "d_km": [round(float(d), 6) for d in curve["distance_km"]],
            "km2": [round(float(v), 4) for v in curve["total_km2"]],
        }
    return out
