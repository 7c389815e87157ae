"""Interactive HTML maps (folium) that open anywhere, with no network.

Offline assets: the map is built with ``folium-offline`` (import name
``offlinefolium``), folium 0.20's own API whose elements write each script
and stylesheet into the page instead of a ``<script src=...>`` to a CDN
(Leaflet 1.9.3 and every plugin folium knows).  It was chosen over XStatic
packages because XStatic has Leaflet itself but none of the plugins used
here (fullscreen, measure, minimap, search).  Only its public classes are
used, and :func:`write_map` checks the page it renders: a reference to
anything outside the file fails with a clear message, never a silently
broken map.  Nothing is copied into this repository.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import shapely
from branca.element import Element, MacroElement
from offlinefolium import plugins
from offlinefolium.elements import JSCSSMixin
from offlinefolium.map import Layer
from offlinefolium.template import Template

from geo.constants import ANALYSIS_CRS, OUTSIDE, WGS84
from geo.engine.analysis import AnalysisResult
from geo.errors import GeoError
from geo.io.writers import atomic_write
from geo.render.mapdata import (
    DECIMALS,
    DENSITY_CELL_M,
    DISCLAIMER,
    MIN_BAND_PX,
    _collection,
    _display,
    _esc,
    _text,
    alternative_features,
    area_class,
    area_legend,
    band_colors,
    band_meaning,
    chart_data,
    density_features,
    density_legend,
    district_features,
    hazard_features,
    hazard_points,
    place_labels,
    province_features,
    unpack_points,
    widened_zone_features,
    zone_features,
)

#: The bands are the subject: opaque over provinces drawn light, so each band looks the same wherever it
#: lies and equals its legend swatch; province outlines are drawn again above them.
BAND_OPACITY, PROVINCE_OPACITY = 1.0, 0.35
#: The page's background (land and sea alike, without a basemap): the province swatches are their fill
#: laid over it, as the map draws them.
MAP_BACKGROUND = "#dddddd"
#: The district outlines' layer name (in the layer control).
DISTRICT_LAYER = "Districts (geoBoundaries 2014)"
#: Above this many hazard pieces the map shows a density grid instead of polygons.
HAZARD_LIMIT = 20_000
#: With the density grid, the zoom from which each hazard is drawn as a point (a search shows it anyway).
POINT_ZOOM = 11
BASEMAPS = {"none": None, "osm": "OpenStreetMap", "positron": "CartoDB positron"}
STATIC = Path(__file__).resolve().parents[1] / "static"


class _Markup(Element):
    """A block of HTML geo built itself (user text already escaped), written to the page as is.

    branca's ``Element`` treats its text as a Jinja template, so a title holding ``{{ ... }}`` or
    ``{% ... %}`` would be evaluated; this element is never rendered through a template engine.
    """

    def __init__(self, markup: str):
        super().__init__()
        self._markup = markup

    def render(self, **kwargs) -> str:
        return self._markup


class DataLayer(Layer):
    """A GeoJSON layer drawn by geo's own script (styles, tooltips and popups from its properties).

    Parameters
    ----------
    data : dict or DataLayer
        FeatureCollection; ``_fill`` gives each feature's colour, ``_attrs`` its popup rows. Another
        layer: its features drawn again in this layer's style (written once in the page).
    name : str
        Name in the layer control.
    tooltip : list of (label, property)
        Rows of the hover tooltip.
    below_zoom : int
        Hidden from this zoom on (where something more detailed takes over); 0: at every zoom.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoLayer({{ this.data_json }}, {{ this.options_json }});
        (window.geoLayers = window.geoLayers || {})[{{ this.layer_name | tojson }}] = {{ this.get_name() }};
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% if this.below_zoom %}
        geoBelowZoom({{ this._parent.get_name() }}, {{ this.get_name() }}, {{ this.below_zoom }});
        {% endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict | DataLayer,
        name: str,
        tooltip=None,
        popup: bool = False,
        show: bool = True,
        below_zoom: int = 0,
        **style,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DataLayer"
        self.below_zoom = int(below_zoom)
        if isinstance(data, DataLayer):  # the same features drawn again: the page holds them once
            self.data, self.data_json = data.data, f"{data.get_name()}.geoData"
        else:
            self.data, self.data_json = data, compact_json(data)
        self.options_json = compact_json({"tooltip": tooltip, "popup": popup, **style})


class ZoomedLayer(Layer):
    """One layer in the layer control drawn from a different FeatureCollection at different zooms (the
    bands widened at small scales, true from where they are wide enough); styled as :class:`DataLayer`.

    Parameters
    ----------
    parts : list of (dict, int, int)
        FeatureCollection, the zoom it is drawn from and the zoom it is drawn below.
    name, tooltip, **style
        As :class:`DataLayer`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoZoomGroup({{ this._parent.get_name() }}, [
        {% for data, low, high in this.parts %}[geoLayer({{ data }}, {{ this.options_json }}), {{ low }}, {{ high }}],
        {% endfor %}]);
        (window.geoLayers = window.geoLayers || {})[{{ this.layer_name | tojson }}] = {{ this.get_name() }};
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, parts: list[tuple[dict, int, int]], name: str, tooltip=None, **style):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ZoomedLayer"
        self.parts = [(compact_json(data), int(low), int(high)) for data, low, high in parts]
        self.options_json = compact_json({"tooltip": tooltip, "popup": False, **style})


class HazardPoints(Layer):
    """Every hazard as a point, packed (:func:`geo.render.mapdata.hazard_points`) and drawn by geo's
    script on one canvas, only the points in view and only from ``min_zoom`` (a hazard found by the
    search is drawn whatever the zoom); hover or tap names it. Used over the density grid, at any size.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoPoints({{ this.data_json }}, {{ this.options_json }});
        (window.geoLayers = window.geoLayers || {})[{{ this.layer_name | tojson }}] = {{ this.get_name() }};
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, points: dict, name: str, min_zoom: int, radius: float = 5.0, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "HazardPoints"
        self.data_json = compact_json(points)
        self.options_json = compact_json({"minZoom": int(min_zoom), "radius": float(radius)})


class _Search(JSCSSMixin, MacroElement):
    """A search box over one data layer's property, or over the packed hazard points' ids (leaflet-search)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {% if this.packed %}geoPointSearch({{ this._parent.get_name() }}, {{ this.layer.get_name() }},
                  {{ this.placeholder | tojson }});
        {% else %}geoSearch({{ this._parent.get_name() }}, {{ this.layer.get_name() }},
                  {{ this.prop | tojson }}, {{ this.placeholder | tojson }});{% endif %}
        {% endmacro %}
        """
    )
    default_js = list(plugins.Search.default_js)
    default_css = list(plugins.Search.default_css)

    def __init__(self, layer: DataLayer | HazardPoints, prop: str, placeholder: str):
        super().__init__()
        self._name = "GeoSearch"
        self.layer, self.prop, self.placeholder = layer, prop, placeholder
        self.packed = isinstance(layer, HazardPoints)


class _Controls(JSCSSMixin, MacroElement):
    """geo's controls (scale, coordinates) and an outline minimap on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.geoMap = {{ this._parent.get_name() }};
        geoAddControls({{ this._parent.get_name() }});
        geoCharts({{ this._parent.get_name() }});
        new L.Control.MiniMap(
            L.geoJSON({{ this.outline | tojson }},
                      {style: {color: "#555", weight: 1, fillColor: "#c8d5c0", fillOpacity: 1}}),
            {position: "bottomleft", width: 120, height: 120, zoomLevelOffset: -4, toggleDisplay: false}
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


class _Labels(MacroElement):
    """Place names (provinces, neighbours, sea) as text on the map; set with textContent by geo's script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geoLabels({{ this._parent.get_name() }}, {{ this.labels_json }});
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[dict]):
        super().__init__()
        self._name = "GeoLabels"
        self.labels_json = compact_json(labels)


def make_map(
    result: AnalysisResult,
    *,
    title: str | None = None,
    basemap: str = "none",
    hazard_limit: int = HAZARD_LIMIT,
    when: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    curve_km: float = 15.0,
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
    bounds : (west, south, east, north), optional
        What the map opens on, degrees (an area of interest, or the user's data); default the country.
    curve_km : float
        The chart panel's what-if curve runs from 0 to this distance, km, in 0.5 km steps
        (:meth:`AnalysisResult.curve`); 0 leaves the curve out.

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
    css = f".leaflet-container.folium-map {{ background: {MAP_BACKGROUND}; }}\n"
    css += (STATIC / "geo_map.css").read_text(encoding="utf-8")
    root.header.add_child(_Markup(f"<style>{css}</style>"), name="geo_css")
    root.header.add_child(
        _Markup(f"<script>{(STATIC / 'geo_map.js').read_text(encoding='utf-8')}</script>"), name="geo_js"
    )
    if BASEMAPS[basemap]:
        folium.TileLayer(BASEMAPS[basemap], name="Basemap", overlay=False, control=True).add_to(m)

    prov = DataLayer(
        province_features(result),
        "Provinces: contaminated area (km²)",
        color="#444",
        weight=0.8,
        fillOpacity=PROVINCE_OPACITY,
        highlight=True,
        tooltip=[
            ["Province", "label"],
            ["Code", "code"],
            ["Hazards", "hazards"],
            ["Area (km²)", "area_km2"],
            ["Within 2 km (km²)", "within_2km_km2"],
            ["Within 7 km (km²)", "within_7km_km2"],
            ["Share within 7 km", "share_within_7km"],
            ["Mine free (Mine Action Review 2024)", "mine_free"],
        ],
    ).add_to(m)
    # At small scales the bands are drawn widened (each at least MIN_BAND_PX wide), true from where they fit.
    widened = widened_zone_features(result)
    true_from = widened[-1][2] if widened else 0
    ZoomedLayer(
        [*widened, (zone_features(result), true_from, 99)],
        "Border bands",
        weight=0.5,
        fillOpacity=BAND_OPACITY,
        tooltip=[
            ["Band", "band"],
            ["Meaning", "meaning"],
            ["Land in band (km²)", "zone_km2"],
            ["Drawn", "drawn"],
        ],
    ).add_to(m)
    # The province edges again, above the opaque bands (lines only: the tooltips stay the bands').
    DataLayer(prov, "Province boundaries", color="#444", weight=0.8, fillOpacity=0, interactive=False).add_to(m)
    districts = district_features(result)
    if districts is not None:
        # Lines over the bands, not interactive: the bands and provinces under them keep their tooltips.
        DataLayer(districts, DISTRICT_LAYER, weight=0.6, fillOpacity=0, interactive=False).add_to(m)
    front_props = [
        {"_fill": "#111111", "neighbor": _text(n)} for n in result.frontier.get("neighbor", [""] * len(result.frontier))
    ]
    front_geoms = shapely.transform(result.frontier.geometry.values, lambda xy: np.round(xy, DECIMALS))
    DataLayer(
        _collection(front_geoms, front_props),
        "Frontier",
        weight=2.5,
        fillOpacity=0,
        dash="6 4",
        tooltip=[["Frontier with", "neighbor"]],
    ).add_to(m)
    if len(result.alternative_lines):
        DataLayer(
            alternative_features(result),
            "Other mappings of the frontier",
            weight=2.0,
            fillOpacity=0,
            dash="2 4",
            show=False,
            tooltip=[["Line", "line"], ["Frontier with", "neighbor"]],
        ).add_to(m)
    as_grid = len(result.hazard_pieces) > hazard_limit
    grid_note = ""
    grid_fills: set[str] = set()
    point_bands: set[str] = set()
    if as_grid:
        grid_note = (
            f"{len(result.hazard_pieces):,} hazard pieces: shown as a {DENSITY_CELL_M / 1000:g} km density grid"
            f" below zoom {POINT_ZOOM}"
        )
        grid = density_features(result)
        grid_fills = {f["properties"]["_fill"] for f in grid["features"]}
        DataLayer(
            grid,
            "Hazard density (grid)",
            color="#333",
            weight=0.3,
            fillOpacity=1,
            tooltip=[["Hazard area (km²)", "hazard_km2"], ["Pieces", "pieces"], ["Share of cell", "share"]],
            below_zoom=POINT_ZOOM,
        ).add_to(m)
        points = hazard_points(result)
        if points is not None:  # every hazard findable by id, and drawn as a point from street-level zooms
            point_bands = {points["bands"][k][0] for k in np.unique(unpack_points(points)["band"])}
            grid_note += f"; each hazard a point from zoom {POINT_ZOOM}, found by its id"
            hz_points = HazardPoints(points, f"Hazards (points from zoom {POINT_ZOOM})", min_zoom=POINT_ZOOM).add_to(m)
            m.add_child(_Search(hz_points, "hazard_id", "Hazard id"))
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
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
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
    m.add_child(_Labels(place_labels(result)))
    root.html.add_child(_Markup(title_html(result, title, when)))
    curve = result.curve(max_km=curve_km, step_km=0.5, top=0) if curve_km > 0 else None
    charts = chart_data(result, curve) | {"province_layer": prov.layer_name}
    root.html.add_child(
        _Markup(
            f'<div class="geo-side" id="geo-side">{chart_html(charts)}'
            f"{legend_html(result, as_grid, grid_fills, point_bands, true_from)}</div>"
        )
    )
    root.html.add_child(_Markup(footer_html(result, when, grid_note)))
    if bounds is not None:
        w, s_, e, n = bounds
    m.fit_bounds([[s_, w], [n, e]])
    return m


def write_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map as one self-contained HTML file (no network needed), atomically."""
    path = Path(path)
    page = offline_page(m.get_root().render())
    atomic_write(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return path


def compact_json(obj) -> str:
    """JSON for a <script> block: no spaces, and no '<', '>' or '&' that could end the block."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def legend_html(
    result: AnalysisResult,
    hazards_as_grid: bool,
    grid_fills: set[str] | None = None,
    point_bands: set[str] | None = None,
    widened_below: int = 0,
) -> str:
    """The legend: a swatch for every colour the map draws (provinces, bands, hazards by band, or
    the density grid's classes drawn, ``grid_fills``, and the bands of the hazards' points over it,
    ``point_bands``); below zoom ``widened_below`` the bands are drawn widened, and it says so."""
    # Only the classes some province is drawn in: every swatch is a colour on the map.
    drawn_classes = {area_class(float(a)) for a in result.by_province["area_km2"]}
    rows = "".join(
        f'<div class="row"><span class="sw" style="background:{over(c, PROVINCE_OPACITY, MAP_BACKGROUND)}">'
        f"</span>{_esc(t)}</div>"
        for k, (c, t) in enumerate(area_legend())
        if k in drawn_classes
    )
    colors = band_colors(result.zones)
    bands = "".join(
        f'<div class="row"><span class="sw" style="background:{colors[b]}"></span>'
        f"{_esc(b)}: {_esc(band_meaning(i, o))}</div>"
        for b, i, o in zip(result.zones["band"], result.zones["inner_km"], result.zones["outer_km"])
        if math.isfinite(o)
    )
    if hazards_as_grid:
        hz = "".join(
            f'<div class="row"><span class="sw" style="background:{c}"></span>{_esc(t)}</div>'
            for c, t in density_legend()
            if grid_fills is None or c in grid_fills
        )
        if point_bands:
            hz += f"<h2>Hazards from zoom {POINT_ZOOM}: a point each, coloured by band</h2>" + "".join(
                f'<div class="row"><span class="sw sw-point" style="background:{colors[b]}"></span>hazards '
                f"{_esc(b)}</div>"
                for b in result.zones["band"]
                if b in point_bands
            )
    else:
        drawn = set(result.hazard_pieces["band"])
        hz = "".join(
            f'<div class="row"><span class="sw" style="background:{colors[b]}"></span>hazards {_esc(b)}</div>'
            for b in result.zones["band"]
            if b in drawn
        )
        if OUTSIDE in drawn:
            hz += '<div class="row"><span class="sw" style="background:#000"></span>hazards outside Cambodia</div>'
    return (
        '<details class="geo-panel geo-legend geo-collapsible" id="geo-legend" open>'
        "<summary>Legend</summary>"
        "<h2>Contaminated area per province (km²)</h2>"
        + rows
        + "<h2>Border bands (Cambodian side)</h2>"
        + bands
        + (
            f'<div class="row geo-status">Below zoom {widened_below} each band is drawn at least '
            f"{MIN_BAND_PX:g} px wide (widened away from the frontier, not to scale).</div>"
            if widened_below
            else ""
        )
        + '<div class="row"><span class="ln"></span>frontier</div>'
        + (
            '<div class="row"><span class="ln ln-district"></span>district boundary (district names from zoom 9)</div>'
            if result.by_district is not None
            else ""
        )
        + _status_rows(result)
        + (
            f"<h2>Hazard density: share of each {DENSITY_CELL_M / 1000:g} km cell the hazards cover "
            f"(below zoom {POINT_ZOOM})</h2>"
            if hazards_as_grid
            else "<h2>Hazards, coloured by band</h2>"
        )
        + f"{hz}</details>"
    )


def over(color: str, alpha: float, background: str) -> str:
    """A colour laid over another at ``alpha`` opacity, as the browser blends it (hex in, hex out).

    Examples
    --------
    >>> over("#000000", 0.5, "#ffffff")
    '#808080'
    """
    top = [int(color[k : k + 2], 16) for k in (1, 3, 5)]
    under = [int(background[k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(alpha * a + (1 - alpha) * b):02x}" for a, b in zip(top, under))


def _status_rows(result: AnalysisResult) -> str:
    """Legend lines naming the provinces the report says were declared (or are expected to be) mine free."""
    bp = result.by_province
    if "mine_free_status" not in bp.columns:
        return ""
    out = ""
    for label, sel in (
        ("Declared mine free (Mine Action Review 2024)", bp["declared_mine_free"].astype(bool)),
        ("Expected mine free in 2024", bp["mine_free_status"].astype(str).str.startswith("expected")),
    ):
        names = sorted(bp.loc[sel, "province"].astype(str))
        if names:
            out += f'<div class="row geo-status"><b>{_esc(label)}:</b> {_esc(", ".join(names))}</div>'
    return ("<h2>Province status</h2>" + out) if out else ""


def chart_html(data: dict) -> str:
    """The chart panel (drawn by the page script from ``data``, a JSON block no markup can escape)."""
    curve = ""
    if data.get("curve"):
        curve = (
            '<h2>What if the belt were d km wide?</h2><div id="geo-curve"></div>'
            '<input type="range" id="geo-curve-slider" aria-label="distance from the frontier, km">'
            '<p class="geo-chart-note" id="geo-curve-readout" aria-live="polite"></p>'
        )
    note = "SYNTHETIC demo data: not real locations. " if data.get("synthetic") else ""
    return (
        '<details class="geo-panel geo-chart" id="geo-chart">'
        '<summary>Charts<span id="geo-chart-label"></span></summary>'
        "<h2>Contaminated km² per province, by band</h2>"
        '<div id="geo-chart-bars"></div><div id="geo-chart-detail"></div>'
        + curve
        + f'<p class="geo-chart-note">{_esc(note)}Figures from the analysis (summary.json, curve at '
        "the band edges equal to the table); land counted once where hazards overlap.</p>"
        "</details>"
        f'<script type="application/json" id="geo-chart-data">{compact_json(data)}</script>'
    )


def title_html(result: AnalysisResult, title: str, when: str) -> str:
    s = result.summary
    lead = (
        f"{s['area_km2']:,.2f} km² contaminated; {s['within_2km_km2']:,.2f} km² within 2 km and "
        f"{s['within_7km_km2']:,.2f} km² ({s['share_within_7km']:.1%} of the land in Cambodia) within 7 km "
        "of the frontier."
    )
    u = s.get("uncertainty")
    if u and u.get("tolerance_m", 0) > 0:
        r2, r7 = u["within_2km_km2"], u["within_7km_km2"]
        lead += (
            f" Frontier uncertain by ±{u['tolerance_m']:g} m: within 2 km {r2['low']:,.2f}–{r2['high']:,.2f} km², "
            f"within 7 km {r7['low']:,.2f}–{r7['high']:,.2f} km²."
        )
    eb = s.get("error_budget")
    if eb:
        e2, e7 = eb["within_2km_km2"], eb["within_7km_km2"]
        lead += (
            f" Error budget (90 %: frontier, province edges and hazard positions): within 2 km "
            f"{e2['p05']:,.2f}–{e2['p95']:,.2f} km², within 7 km {e7['p05']:,.2f}–{e7['p95']:,.2f} km²."
        )
    every = s.get("all_borders")
    if every and every["within_7km_km2"] != s["within_7km_km2"]:
        lead += (
            f" From every land border ({', '.join(every['neighbors'])}): {every['within_2km_km2']:,.2f} km² within"
            f" 2 km, {every['within_7km_km2']:,.2f} km² within 7 km."
        )
    if s.get("outside_cambodia_km2", 0) > 0:
        lead += f" {s['outside_cambodia_km2']:,.2f} km² of the hazards lie outside Cambodia's outline."
    others = [e for e in s.get("frontier_sensitivity", []) if e["kind"] == "alternative"]
    if others:
        values = [e["within_2km_km2"] for e in others] + [s["within_2km_km2"]]
        lead += (
            f" Other mappings of the frontier ({', '.join(e['line'] for e in others)}) give "
            f"{min(values):,.2f}–{max(values):,.2f} km² within 2 km."
        )
    banner = ""
    if s.get("notice"):
        short = s["notice"].split(" - ")[0] + " - not real locations"
        banner = (
            f'<div class="geo-synthetic" id="geo-synthetic"><span class="long">{_esc(s["notice"])}</span>'
            f'<span class="short">{_esc(short)}</span></div>'
        )
    return (
        f'<div class="geo-panel geo-title" id="geo-title">'
        f'<details class="geo-collapsible" open><summary><h1>{_esc(title)}</h1></summary><p>{_esc(lead)}</p>'
        f'</details>{headline_html(s)}<p class="geo-note" id="geo-tile-note"></p>{banner}</div>'
    )


def headline_html(s) -> str:
    """The three figures a reader wants first, always on screen (outside the collapsible details):
    contaminated, within 2 km and within 7 km, each with its 90 % interval when the error budget exists."""
    eb = s.get("error_budget") or {}

    def figure(value: float, what: str, key: str | None = None) -> str:
        band = eb.get(key) if key else None
        spread = f" (90 %: {band['p05']:,.2f}–{band['p95']:,.2f})" if band else ""
        return f'<span class="geo-figure"><b>{value:,.2f} km²</b> {_esc(what)}{spread}</span>'

    return (
        '<div class="geo-headline" id="geo-headline">'
        + figure(s["area_km2"], "contaminated")
        + figure(s["within_2km_km2"], "within 2 km", "within_2km_km2")
        + figure(s["within_7km_km2"], "within 7 km", "within_7km_km2")
        + "</div>"
    )


def footer_html(result: AnalysisResult, when: str, grid_note: str) -> str:
    s = result.summary
    attributions = [
        v.get("attribution") for v in s.get("inputs", {}).values() if isinstance(v, dict) and v.get("attribution")
    ]
    parts = [
        *attributions,
        "Reference figures: Mine Action Review, Clearing the Mines 2024 (Cambodia)",
        f"Analysis {when}, geo {s.get('version', '')}",
        "Areas in an Albers equal-area projection (WGS 84); map display in Web Mercator; shapes simplified for display",
        DISCLAIMER,
    ]
    if grid_note:
        parts.append(grid_note)
    # Focusable: a tap (or Tab) opens the credits in full where there is no hover.
    return f'<div class="geo-panel geo-footer" id="geo-footer" tabindex="0">{" | ".join(_esc(p) for p in parts)}</div>'


_STYLE = re.compile(r"(<style>)(.*?)(</style>)", re.S)
_CSS_URL = re.compile(r"url\((?!['\"]?data:)[^)]*\)")
# Any script, image or frame with a source, or stylesheet link, that is not a data: address.
_EXTERNAL = re.compile(r'<(?:script|img|iframe)\b[^>]*\ssrc="(?!data:)([^"]+)"|<link\b[^>]*\shref="(?!data:)([^"]+)"')


def offline_page(page: str) -> str:
    """Check that a rendered map needs nothing outside its own file.

    folium-offline's elements already write scripts and stylesheets into the page; images that
    plugin stylesheets refer to by relative address would be fetched (and fail) from beside the
    file, so they are dropped (geo_map.css draws those icons instead).

    Raises
    ------
    GeoError
        If the page still refers to a script, stylesheet, image or frame elsewhere (the map
        would break without a network).
    """
    page = _STYLE.sub(lambda m: m.group(1) + _CSS_URL.sub("none", m.group(2)) + m.group(3), page)
    left = [a or b for a, b in _EXTERNAL.findall(page)]
    if left:
        raise GeoError(f"map asset {left[0]} is not available offline (folium-offline did not write it into the page)")
    return page
