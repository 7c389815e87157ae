"""Interactive HTML maps (folium) that open anywhere, with no network.

Offline assets: folium writes ``<script src=...>``/``<link href=...>`` tags
pointing at CDNs.  :func:`write_map` replaces each with the file's text,
taken from the ``folium-offline`` package, which ships the exact web
resources of folium 0.20 (Leaflet 1.9.3 and every plugin folium knows) keyed
by their CDN address.  It was chosen over XStatic packages because XStatic
has Leaflet itself but none of the plugins used here (fullscreen, measure,
minimap, search); the risk of a little-used fork is contained by pinning it
next to the folium version it mirrors, using only its data (never its
code paths), and failing with a clear message, never a silently broken map,
when an asset is missing.  Nothing is copied into this repository.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
from datetime import date
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geo._errors import GeoError
from geo.analysis import AnalysisResult
from geo.constants import ANALYSIS_CRS, MILITARY_ONLY_KM, RESTRICTED_KM, WGS84
from geo.export import atomic_write

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
BAND_COLORS = ("#D55E00", "#F0E442", "#009E73", "#0072B2", "#CC79A7", "#56B4E9", "#E69F00")
BEYOND_COLOR = "#7f7f7f"
#: Upper limits of the choropleth classes of contaminated area per province, km2.
AREA_LIMITS_KM2 = (1.0, 10.0, 25.0, 50.0, 100.0)
#: Colours: no contamination, then light to dark (ColorBrewer Purples, colour-blind safe and
#: distinct from the band colours drawn over them).
AREA_COLORS = ("#f7f7f7", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f")
#: Above this many hazard pieces the map shows a density grid instead of polygons.
HAZARD_LIMIT = 20_000
DENSITY_CELL_M = 2_000.0
#: Display-only simplification, m (never used for numbers); coordinates rounded to ~1 m.
SIMPLIFY_M = {"provinces": 60.0, "zones": 25.0, "hazards": 5.0}
DECIMALS = 5
BASEMAPS = {"none": None, "osm": "OpenStreetMap", "positron": "CartoDB positron"}
STATIC = Path(__file__).resolve().parent / "static"
#: Hazard attributes already in the tooltip (the popup shows the tooltip rows, then the rest).
SHOWN = {"hazard_id", "province", "band", "status", "hazard_type", "device_type"}


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
    for code in result.provinces["code"]:
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
                "_fill": AREA_COLORS[area_class(float(r["area_km2"]))],
            }
        )
    return _collection(_display(result.provinces, SIMPLIFY_M["provinces"]), props)


def zone_features(result: AnalysisResult) -> dict:
    """The finite bands as GeoJSON, with colour and meaning."""
    zones = result.zones[np.isfinite(result.zones["outer_km"])]
    colors = band_colors(result.zones)
    props = [
        {"band": b, "meaning": band_meaning(i, o), "zone_km2": _km2(a), "_fill": colors[b]}
        for b, i, o, a in zip(zones["band"], zones["inner_km"], zones["outer_km"], zones["area_km2"])
    ]
    return _collection(_display(zones, SIMPLIFY_M["zones"]), props)


def hazard_features(result: AnalysisResult) -> dict:
    """Hazard pieces as GeoJSON: tooltip fields, and every attribute for the popup."""
    pieces = result.by_hazard
    colors = band_colors(result.zones)
    hidden = {"geometry", "inner_km", "outer_km", "share_of_hazard", "area_km2", "row", "synthetic", "data_notice"}
    attrs = [c for c in pieces.columns if not c.startswith("_") and c not in hidden]
    props = []
    for rec in pieces[attrs].itertuples(index=False):
        row = dict(zip(attrs, rec))
        props.append(
            {
                "hazard_id": _text(row["hazard_id"]),
                "province": _text(row["province"]),
                "band": _text(row["band"]),
                "area": f"{row['area_m2']:,.0f} m² ({row['area_m2'] / 1e4:,.2f} ha)",
                "status": _text(row.get("status")),
                "hazard_type": _text(row.get("hazard_type")),
                "device_type": _text(row.get("device_type")),
                "_attrs": {
                    k: (f"{v:,.1f}" if k == "area_m2" else _text(v))
                    for k, v in row.items()
                    if k not in SHOWN and _text(v) != ""
                },
                "_fill": colors.get(row["band"], "#000000"),
            }
        )
    return _collection(_display(pieces, SIMPLIFY_M["hazards"]), props)


def density_features(result: AnalysisResult, cell_m: float = DENSITY_CELL_M) -> dict:
    """Hazard area per square grid cell (for inputs too large to draw polygon by polygon)."""
    pieces = result.by_hazard
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
            "_fill": AREA_COLORS[min(1 + int(s * 40), len(AREA_COLORS) - 1)],
        }
        for a, n, s in zip(area, count, share)
    ]
    return _collection(_display(gpd.GeoDataFrame(geometry=boxes, crs=ANALYSIS_CRS), 0.0), props)


def _compact_json(obj) -> str:
    """JSON for a <script> block: no spaces, and no '<', '>' or '&' that could end the block."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class DataLayer(Layer):
    """A GeoJSON layer drawn by geo's own script (styles, tooltips and popups from its properties).

    Parameters
    ----------
    data : dict
        FeatureCollection; ``_fill`` gives each feature's colour, ``_attrs`` its popup rows.
    name : str
        Name in the layer control.
    tooltip : list of (label, property)
        Rows of the hover tooltip.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoLayer({{ this.data_json }}, {{ this.options_json }});
        (window.geoLayers = window.geoLayers || {})[{{ this.layer_name | tojson }}] = {{ this.get_name() }};
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, name: str, tooltip=None, popup: bool = False, show: bool = True, **style):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DataLayer"
        self.data = data
        self.data_json = _compact_json(data)
        self.options_json = _compact_json({"tooltip": tooltip, "popup": popup, **style})


class _Search(JSCSSMixin, MacroElement):
    """A search box over one data layer's property (leaflet-search)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geoSearch({{ this._parent.get_name() }}, {{ this.layer.get_name() }},
                  {{ this.prop | tojson }}, {{ this.placeholder | tojson }});
        {% endmacro %}
        """
    )
    default_js = list(plugins.Search.default_js)
    default_css = list(plugins.Search.default_css)

    def __init__(self, layer: DataLayer, prop: str, placeholder: str):
        super().__init__()
        self._name = "GeoSearch"
        self.layer, self.prop, self.placeholder = layer, prop, placeholder


class _Controls(JSCSSMixin, MacroElement):
    """geo's controls (scale, coordinates) and an outline minimap on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.geoMap = {{ this._parent.get_name() }};
        geoAddControls({{ this._parent.get_name() }});
        new L.Control.MiniMap(
            L.geoJSON({{ this.outline | tojson }},
                      {style: {color: "#555", weight: 1, fillColor: "#c8d5c0", fillOpacity: 1}}),
            {position: "bottomright", width: 140, height: 140, zoomLevelOffset: -4, toggleDisplay: false}
        ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )
    default_js = list(plugins.MiniMap.default_js)
    default_css = list(plugins.MiniMap.default_css)

    def __init__(self, outline: dict):
        super().__init__()
        self._name = "GeoControls"
        self.outline = outline


def _legend_html(result: AnalysisResult, hazards_as_grid: bool) -> str:
    rows = "".join(
        f'<div class="row"><span class="sw" style="background:{c}"></span>{_esc(t)}</div>' for c, t in area_legend()
    )
    colors = band_colors(result.zones)
    bands = "".join(
        f'<div class="row"><span class="sw" style="background:{colors[b]};opacity:0.75"></span>'
        f"{_esc(b)}: {_esc(band_meaning(i, o))}</div>"
        for b, i, o in zip(result.zones["band"], result.zones["inner_km"], result.zones["outer_km"])
        if math.isfinite(o)
    )
    hz = "hazard density (share of each 2 km cell)" if hazards_as_grid else "hazards, coloured by band"
    return (
        '<div class="geo-panel geo-legend" id="geo-legend">'
        "<h2>Contaminated area per province (km²)</h2>"
        + rows
        + "<h2>Border bands (Cambodian side)</h2>"
        + bands
        + '<div class="row"><span class="ln"></span>frontier</div>'
        f"<h2>Hazards</h2><div>{_esc(hz)}</div></div>"
    )


def _title_html(result: AnalysisResult, title: str, when: str) -> str:
    s = result.summary
    lead = (
        f"{s['area_km2']:,.2f} km² contaminated; {s['within_2km_km2']:,.2f} km² within 2 km and "
        f"{s['within_7km_km2']:,.2f} km² ({s['share_within_7km']:.1%}) within 7 km of the frontier."
    )
    u = s.get("uncertainty")
    if u and u.get("tolerance_m", 0) > 0:
        r2, r7 = u["within_2km_km2"], u["within_7km_km2"]
        lead += (
            f" Frontier uncertain by ±{u['tolerance_m']:g} m: within 2 km {r2['low']:,.2f}–{r2['high']:,.2f} km², "
            f"within 7 km {r7['low']:,.2f}–{r7['high']:,.2f} km²."
        )
    banner = f'<div class="geo-synthetic" id="geo-synthetic">{_esc(s["notice"])}</div>' if s.get("notice") else ""
    return (
        f'<div class="geo-panel geo-title" id="geo-title"><h1>{_esc(title)}</h1><p>{_esc(lead)}</p>'
        f'<p class="geo-note" id="geo-tile-note"></p>{banner}</div>'
    )


def _footer_html(result: AnalysisResult, when: str, grid_note: str) -> str:
    s = result.summary
    attributions = [
        v.get("attribution") for v in s.get("inputs", {}).values() if isinstance(v, dict) and v.get("attribution")
    ]
    parts = [
        *attributions,
        "Reference figures: Mine Action Review, Clearing the Mines 2024 (Cambodia)",
        f"Analysis {when}, geo {s.get('version', '')}",
        "Areas in an Albers equal-area projection (WGS 84); map display in Web Mercator; shapes simplified for display",
    ]
    if grid_note:
        parts.append(grid_note)
    return f'<div class="geo-panel geo-footer" id="geo-footer">{" | ".join(_esc(p) for p in parts)}</div>'


def make_map(
    result: AnalysisResult,
    title: str | None = None,
    basemap: str = "none",
    hazard_limit: int = HAZARD_LIMIT,
    when: str | None = None,
) -> folium.Map:
    """An interactive map of an analysis.

    Parameters
    ----------
    result : AnalysisResult
        From :func:`geo.analyze`.
    title : str, optional
        Shown in the title panel.
    basemap : {"none", "osm", "positron"}
        Tile basemap; ``none`` (readable offline) draws a neutral background.
    hazard_limit : int
        Above this many hazard pieces a density grid replaces the polygons.
    when : str, optional
        Analysis date shown in the footer (default today, ISO format).

    Returns
    -------
    folium.Map
        Write it with :func:`write_map` to inline its scripts for offline use.
    """
    if basemap not in BASEMAPS:
        raise GeoError(f"unknown basemap {basemap!r}; choose one of {', '.join(BASEMAPS)}")
    when = when or date.today().isoformat()
    title = title or "Mine contamination in Cambodia's border zones"
    land = gpd.GeoSeries([result.provinces.union_all()], crs=ANALYSIS_CRS).to_crs(WGS84)
    w, s_, e, n = land.total_bounds
    m = folium.Map(
        location=[(s_ + n) / 2, (w + e) / 2], zoom_start=7, tiles=None, prefer_canvas=True, control_scale=False
    )
    # Only Leaflet itself: no jQuery, Bootstrap or icon fonts (nothing here uses them).
    m.default_js = [j for j in folium.Map.default_js if j[0] == "leaflet"]
    m.default_css = [c for c in folium.Map.default_css if c[0] == "leaflet_css"]
    root = m.get_root()
    root.header.add_child(
        Element(f"<style>{(STATIC / 'geo_map.css').read_text(encoding='utf-8')}</style>"), name="geo_css"
    )
    root.header.add_child(
        Element(f"<script>{(STATIC / 'geo_map.js').read_text(encoding='utf-8')}</script>"), name="geo_js"
    )
    if BASEMAPS[basemap]:
        folium.TileLayer(BASEMAPS[basemap], name="Basemap", overlay=False, control=True).add_to(m)

    prov = DataLayer(
        province_features(result),
        "Provinces: contaminated area (km²)",
        color="#444",
        weight=0.8,
        fillOpacity=0.7,
        highlight=True,
        tooltip=[
            ["Province", "label"],
            ["Code", "code"],
            ["Hazards", "hazards"],
            ["Area (km²)", "area_km2"],
            ["Within 2 km (km²)", "within_2km_km2"],
            ["Within 7 km (km²)", "within_7km_km2"],
            ["Share within 7 km", "share_within_7km"],
        ],
    ).add_to(m)
    DataLayer(
        zone_features(result),
        "Border bands",
        weight=0.5,
        fillOpacity=0.35,
        tooltip=[["Band", "band"], ["Meaning", "meaning"], ["Land in band (km²)", "zone_km2"]],
    ).add_to(m)
    front_props = [
        {"_fill": "#111111", "neighbor": _text(n)} for n in result.frontier.get("neighbor", [""] * len(result.frontier))
    ]
    front_geoms = shapely.transform(result.frontier.geometry.values, lambda xy: np.round(xy, DECIMALS))
    DataLayer(_collection(front_geoms, front_props), "Frontier", weight=2.5, fillOpacity=0, dash="6 4").add_to(m)
    as_grid = len(result.by_hazard) > hazard_limit
    grid_note = ""
    if as_grid:
        grid_note = f"{len(result.by_hazard):,} hazard pieces: shown as a {DENSITY_CELL_M / 1000:g} km density grid"
        DataLayer(
            density_features(result),
            "Hazard density (grid)",
            color="#333",
            weight=0.3,
            fillOpacity=0.8,
            tooltip=[["Hazard area (km²)", "hazard_km2"], ["Pieces", "pieces"], ["Share of cell", "share"]],
        ).add_to(m)
    else:
        hz = DataLayer(
            hazard_features(result),
            "Hazards (coloured by band)",
            color="#222",
            weight=0.6,
            fillOpacity=0.9,
            popup=True,
            tooltip=[
                ["Hazard", "hazard_id"],
                ["Province", "province"],
                ["Area", "area"],
                ["Band", "band"],
                ["Status", "status"],
                ["Type", "hazard_type"],
                ["Device", "device_type"],
            ],
        ).add_to(m)
        m.add_child(_Search(hz, "hazard_id", "Hazard id"))
    m.add_child(_Search(prov, "name", "Province"))
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    plugins.Fullscreen(position="topleft").add_to(m)
    plugins.MeasureControl(
        position="topleft",
        primary_length_unit="kilometers",
        secondary_length_unit="meters",
        primary_area_unit="hectares",
        secondary_area_unit="sqmeters",
    ).add_to(m)
    outline = _collection(_display(gpd.GeoDataFrame(geometry=land, crs=WGS84), 500.0), [{}])
    m.add_child(_Controls(outline))
    root.html.add_child(Element(_title_html(result, title, when)))
    root.html.add_child(Element(_legend_html(result, as_grid)))
    root.html.add_child(Element(_footer_html(result, when, grid_note)))
    m.fit_bounds([[s_, w], [n, e]])
    return m


_TAG = re.compile(r'<script src="(?P<js>[^"]+)"></script>|<link rel="stylesheet" href="(?P<css>[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\((?!['\"]?data:)[^)]*\)")


def _offline_assets() -> dict[str, str]:
    try:
        from offlinefolium.elements import _res  # the CDN address -> file text table of folium-offline
    except ImportError as exc:  # pragma: no cover - a broken install
        raise GeoError(
            "the package folium-offline (web assets for offline maps) is not installed; reinstall geo: pip install -e ."
        ) from exc
    return _res


def inline_assets(page: str) -> str:
    """Replace every external script/stylesheet tag with the file's text.

    Raises
    ------
    GeoError
        If an asset is not available offline (the map would break without a network).
    """
    assets = _offline_assets()

    def swap(match: re.Match) -> str:
        url = match.group("js") or match.group("css")
        if url not in assets:
            raise GeoError(f"map asset {url} is not available offline (folium-offline does not carry it)")
        body = assets[url]
        if match.group("js"):
            return "<script>" + body.replace("</script", "<\\/script") + "</script>"
        # Images referenced from plugin stylesheets would be fetched: geo_map.css draws those icons instead.
        return "<style>" + _CSS_URL.sub("none", body) + "</style>"

    page = _TAG.sub(swap, page)
    left = re.findall(r'<(?:script|img|iframe)[^>]*\ssrc="(https?://[^"]+)"|<link[^>]*\shref="(https?://[^"]+)"', page)
    left = [a or b for a, b in left]
    if left:
        raise GeoError(f"map still refers to {left[0]}; it would not open offline")
    return page


def write_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map as one self-contained HTML file (no network needed), atomically."""
    path = Path(path)
    page = inline_assets(m.get_root().render())
    atomic_write(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return path
