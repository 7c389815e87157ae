"""geo's Processing provider for QGIS: the border-zone analysis, site check, distance curve and scenario.

Each algorithm reads a layer QGIS has open (any CRS, any provider), hands it to geo's own functions
(the same as the command line's, so the figures are the same to the square metre), and gives back
QGIS layers, numbers and an HTML report for the Processing results viewer. A user's mistake (a layer
geo cannot use, a band list it cannot read) is a ``QgsProcessingException`` with geo's message;
progress goes to ``QgsProcessingFeedback`` and a cancel is honoured between stages and while features
are read or written.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingProvider,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant

from geo._version import geo_version
from geo.constants import WGS84
from geo.errors import GeoError

#: The neighbours a number picks when NEIGHBOR is given as an index (as a list of choices would).
NEIGHBOR_CHOICES = ("THA", "LAO", "VNM", "all")


class Cancelled(Exception):
    """The user cancelled the algorithm."""


# --- layers in and out --------------------------------------------------------------------------


def _value(v: Any) -> Any:
    """A QGIS attribute value as plain Python (NULL as None, dates as ISO text)."""
    if v is None or (isinstance(v, QVariant) and v.isNull()):
        return None
    if isinstance(v, QDateTime):
        return v.toString("yyyy-MM-ddTHH:mm:ss") if v.isValid() else None
    if isinstance(v, (QDate, QTime)):
        return v.toString("yyyy-MM-dd" if isinstance(v, QDate) else "HH:mm:ss") if v.isValid() else None
    return v


def _crs_text(crs: QgsCoordinateReferenceSystem) -> str | None:
    if not crs.isValid():
        return None
    auth = crs.authid()
    return auth if auth else crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)


def source_frame(source, feedback, *, what: str = "layer", start: float = 0.0, span: float = 10.0) -> gpd.GeoDataFrame:
    """The features of a Processing source as a GeoDataFrame in the source's CRS (geometry as WKB, exactly)."""
    names = [f.name() for f in source.fields()]
    rows, geoms = [], []
    total = max(source.featureCount(), 1)
    for i, feature in enumerate(source.getFeatures()):
        if feedback.isCanceled():
            raise Cancelled()
        g = feature.geometry()
        geoms.append(None if g.isNull() or g.isEmpty() else shapely.from_wkb(bytes(g.asWkb())))
        rows.append([_value(v) for v in feature.attributes()])
        if i % 2000 == 0:
            feedback.setProgress(start + span * i / total)
    crs = _crs_text(source.sourceCrs())
    if crs is None:
        raise QgsProcessingException(f"the {what} has no coordinate reference system; set one in its properties")
    frame = pd.DataFrame(rows, columns=names)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


def _field_type(series: pd.Series) -> QVariant.Type:
    if pd.api.types.is_bool_dtype(series):
        return QVariant.Bool
    if pd.api.types.is_integer_dtype(series):
        return QVariant.LongLong
    if pd.api.types.is_float_dtype(series):
        return QVariant.Double
    return QVariant.String


def _cell(v: Any, kind: QVariant.Type) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if kind == QVariant.Bool:
        return bool(v)
    if kind == QVariant.LongLong:
        return int(v)
    if kind == QVariant.Double:
        return float(v)
    return str(v)


def write_sink(alg, parameters, context, name: str, frame: pd.DataFrame, feedback, crs: str | None = None):
    """Write a (Geo)DataFrame into the sink parameter ``name``; returns the sink's destination id."""
    geometry = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    table = frame.drop(columns=[frame.geometry.name]) if geometry else frame
    table = table[[c for c in table.columns if not str(c).startswith("_")]]
    fields = QgsFields()
    kinds = []
    for col in table.columns:
        kind = _field_type(table[col])
        fields.append(QgsField(str(col), kind))
        kinds.append(kind)
    if geometry:
        kinds_of = set(frame.geometry.geom_type.dropna())
        wkb = QgsWkbTypes.MultiPolygon
        if kinds_of and kinds_of <= {"Point", "MultiPoint"}:
            wkb = QgsWkbTypes.Point if kinds_of == {"Point"} else QgsWkbTypes.MultiPoint
        elif kinds_of and kinds_of <= {"LineString", "MultiLineString"}:
            wkb = QgsWkbTypes.MultiLineString
        layer_crs = QgsCoordinateReferenceSystem(crs or frame.crs.to_wkt())
    else:
        wkb, layer_crs = QgsWkbTypes.NoGeometry, QgsCoordinateReferenceSystem()
    sink, dest = alg.parameterAsSink(parameters, name, context, fields, wkb, layer_crs)
    if sink is None:
        raise QgsProcessingException(alg.invalidSinkError(parameters, name))
    geoms = frame.geometry.values if geometry else [None] * len(table)
    if geometry and wkb == QgsWkbTypes.MultiPolygon:
        single = shapely.get_type_id(geoms) == 3
        geoms = geoms.copy()
        geoms[single] = shapely.multipolygons(shapely.get_parts(geoms[single]).reshape(-1, 1)) if single.any() else []
    if geometry and wkb == QgsWkbTypes.MultiLineString:
        geoms = np.array([shapely.multilinestrings([g]) if g is not None and g.geom_type == "LineString" else g
                          for g in geoms], dtype=object)  # fmt: skip
    for rec, geom in zip(table.itertuples(index=False), geoms):
        if feedback.isCanceled():
            raise Cancelled()
        feature = QgsFeature(fields)
        if geom is not None and not geom.is_empty:
            g = QgsGeometry()
            g.fromWkb(shapely.to_wkb(geom))
            feature.setGeometry(g)
        feature.setAttributes([_cell(v, k) for v, k in zip(rec, kinds)])
        sink.addFeature(feature, QgsFeatureSink.FastInsert)
    return dest


# --- parameters shared by the algorithms ----------------------------------------------------------


def _neighbor(text: str | None) -> str:
    value = (text or "THA").strip()
    if value.isdigit() and int(value) < len(NEIGHBOR_CHOICES):
        return NEIGHBOR_CHOICES[int(value)]
    return value


def _bands(text: str | None) -> tuple[float, ...]:
    from geo.engine.zones import parse_bands

    return tuple(parse_bands(text or "2,5,7"))


def _hazards(alg, parameters, context, feedback, name: str = "INPUT", *, span: float = 10.0) -> gpd.GeoDataFrame:
    """A polygon source read and checked as ``geo analyze`` checks a file (named by its layer)."""
    from geo.engine.hazards import checked_hazards
    from geo.io.readers import is_synthetic

    source = alg.parameterAsSource(parameters, name, context)
    if source is None:
        raise QgsProcessingException(alg.invalidSourceError(parameters, name))
    label = source.sourceName() or name
    frame = source_frame(source, feedback, what=f"layer {label}", span=span)
    origin = {"file": label, "note": "QGIS layer, read by geo's Processing provider"}
    return checked_hazards(frame, Path(label), source=origin, synthetic=is_synthetic(frame))


def _analyse(alg, parameters, context, feedback, hazards: gpd.GeoDataFrame, *, draws: int | None = None):
    from geo.engine.analysis import analyze
    from geo.engine.errorbudget import DRAWS

    if feedback.isCanceled():
        raise Cancelled()
    feedback.pushInfo(f"analysing {len(hazards):,} hazards (geo {geo_version()})")
    tolerance = alg.parameterAsDouble(parameters, "FRONTIER_TOLERANCE", context)
    return analyze(
        hazards,
        bands_km=_bands(alg.parameterAsString(parameters, "BANDS", context)),
        neighbor=_neighbor(alg.parameterAsString(parameters, "NEIGHBOR", context)),
        frontier_tolerance_m=tolerance,
        error_draws=DRAWS if draws is None else draws,
    )


def _add_analysis_parameters(alg, *, hazards_optional: bool = False) -> None:
    alg.addParameter(
        QgsProcessingParameterFeatureSource(
            "HAZARDS" if hazards_optional else "INPUT",
            "Hazard polygons (empty: geo's bundled SYNTHETIC demo)" if hazards_optional else "Hazard polygons",
            [QgsProcessing.TypeVectorPolygon],
            optional=hazards_optional,
        )
    )
    alg.addParameter(QgsProcessingParameterString("BANDS", "Band edges, km", defaultValue="2,5,7", optional=True))
    alg.addParameter(
        QgsProcessingParameterString(
            "NEIGHBOR", "Frontier: THA, LAO, VNM, a list (THA,LAO) or all", defaultValue="THA", optional=True
        )
    )
    alg.addParameter(
        QgsProcessingParameterNumber(
            "FRONTIER_TOLERANCE",
            "Frontier tolerance, m (the line's positional uncertainty)",
            QgsProcessingParameterNumber.Double,
            defaultValue=500.0,
            minValue=0.0,
            optional=True,
        )
    )


def _sink(name: str, title: str, kind: int) -> QgsProcessingParameterFeatureSink:
    """An output layer: a temporary layer unless a destination is given, also when a script leaves it out
    of ``processing.run``'s parameters (optional, so the check before the run lets it through)."""
    return QgsProcessingParameterFeatureSink(
        name, title, kind, defaultValue=QgsProcessing.TEMPORARY_OUTPUT, optional=True, createByDefault=True
    )


def _km2(v: float) -> str:
    return f"{v:,.2f}"


def report_html(result, title: str) -> str:
    """The summary as a small HTML page for the results viewer; every value from the data is escaped."""
    s = result.summary
    esc = html.escape
    rows = [
        ("Contaminated (land counted once)", f"{_km2(s['area_km2'])} km²"),
        ("Within 2 km of the frontier (military only)", f"{_km2(s['within_2km_km2'])} km²"),
        ("Within 7 km (restricted zone)", f"{_km2(s['within_7km_km2'])} km² ({s['share_within_7km']:.1%})"),
        ("Frontier analysed", str(s.get("neighbor", ""))),
    ]
    eb = s.get("error_budget")
    if eb:
        for key, label in (("within_2km_km2", "within 2 km"), ("within_7km_km2", "within 7 km")):
            r = eb[key]
            rows.append((f"90 % error budget, {label}", f"{_km2(r['p05'])}–{_km2(r['p95'])} km²"))
    head = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    cols = ["province", "hazards", "area_km2", "within_2km_km2", "within_7km_km2"]
    table = result.by_province[result.by_province["area_km2"] > 0].sort_values("area_km2", ascending=False)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(_km2(v) if isinstance(v, float) else str(v))}</td>" for v in r) + "</tr>"
        for r in table[cols].itertuples(index=False)
    )
    notice = f"<p style='color:#b00020'><b>{esc(s['notice'])}</b></p>" if s.get("notice") else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        + esc(title)
        + "</title></head><body><h2>"
        + esc(title)
        + "</h2>"
        + notice
        + f"<table>{head}</table><h3>By province (km²)</h3><table><tr>"
        + "".join(f"<th>{esc(c)}</th>" for c in cols)
        + f"</tr>{body}</table><p>geo {esc(geo_version())}</p></body></html>"
    )


def _write_text(path: str, text: str) -> None:
    from geo.io.writers import atomic_write

    atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


class _GeoAlgorithm(QgsProcessingAlgorithm):
    """geo's algorithms: geo's errors become QGIS's own messages (no traceback for a user's mistake)."""

    _name = ""
    _title = ""
    _help = ""

    def name(self) -> str:
        return self._name

    def displayName(self) -> str:
        return self._title

    def group(self) -> str:
        return "Border zones"

    def groupId(self) -> str:
        return "borderzones"

    def shortHelpString(self) -> str:
        return self._help

    def createInstance(self):
        return type(self)()

    def processAlgorithm(self, parameters, context, feedback):
        try:
            return self.answer(parameters, context, feedback)
        except Cancelled:
            feedback.reportError("cancelled", fatalError=False)
            return {}
        except GeoError as exc:
            raise QgsProcessingException(str(exc)) from None

    def answer(self, parameters, context, feedback) -> dict:  # pragma: no cover - each algorithm has its own
        raise NotImplementedError


class BorderZones(_GeoAlgorithm):
    """``geo:borderzones``: the border-zone analysis of a hazard polygon layer."""

    _name = "borderzones"
    _title = "Border-zone analysis"
    _help = (
        "How much of the hazard polygons lies within 2 km, 5 km and 7 km of the frontier (Cambodian side, "
        "distances true on the ground, land counted once), per province and per hazard: geo analyze in QGIS. "
        "Outputs: the hazard pieces by province and band, the bands, the provinces with their figures, the "
        "summary as an HTML page, and optionally a folder with geo's usual files and map.html."
    )

    def initAlgorithm(self, config=None):
        _add_analysis_parameters(self)
        for key, title in (
            ("PIECES", "Hazard pieces by province and band"),
            ("ZONES", "Border bands"),
            ("PROVINCES", "Provinces with their figures"),
        ):
            self.addParameter(_sink(key, title, QgsProcessing.TypeVectorPolygon))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT_HTML", "Summary (HTML)", "HTML files (*.html)", optional=True, createByDefault=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination(
                "OUTPUT_FOLDER", "Folder for geo's files and map.html", optional=True, createByDefault=False
            )
        )
        self.addOutput(QgsProcessingOutputNumber("WITHIN_2KM_KM2", "Within 2 km of the frontier, km2"))
        self.addOutput(QgsProcessingOutputNumber("WITHIN_7KM_KM2", "Within 7 km of the frontier, km2"))
        self.addOutput(QgsProcessingOutputNumber("AREA_KM2", "Contaminated area, km2 (land counted once)"))

    def answer(self, parameters, context, feedback) -> dict:
        from geo.render.export import gis_layers

        hazards = _hazards(self, parameters, context, feedback)
        feedback.setProgress(10)
        result = _analyse(self, parameters, context, feedback, hazards)
        feedback.setProgress(60)
        if feedback.isCanceled():
            raise Cancelled()
        layers = gis_layers(result)
        out: dict[str, Any] = {
            "WITHIN_2KM_KM2": float(result.summary["within_2km_km2"]),
            "WITHIN_7KM_KM2": float(result.summary["within_7km_km2"]),
            "AREA_KM2": float(result.summary["area_km2"]),
        }
        for key, layer in (("PIECES", "hazard_pieces"), ("ZONES", "zones"), ("PROVINCES", "provinces")):
            out[key] = write_sink(self, parameters, context, key, layers[layer], feedback, crs=WGS84)
        feedback.setProgress(80)
        page = self.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
        if page:
            _write_text(page, report_html(result, "Mine contamination in the border zones"))
            out["OUTPUT_HTML"] = page
        folder = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        if folder and parameters.get("OUTPUT_FOLDER") not in (None, "", QgsProcessing.TEMPORARY_OUTPUT):
            from geo.render.export import write_outputs
            from geo.render.webmap import make_map, write_map

            written = write_outputs(result, Path(folder))
            write_map(make_map(result), Path(folder) / "map.html")
            feedback.pushInfo(f"wrote {len(written) + 1} files in {folder}")
            out["OUTPUT_FOLDER"] = folder
        feedback.setProgress(100)
        return out


class SiteCheck(_GeoAlgorithm):
    """``geo:sitecheck``: points with their band, province, district, distance to the frontier and hazards nearby."""

    _name = "sitecheck"
    _title = "Site check"
    _help = (
        "For each point: the province and district it lies in, its distance to the frontier analysed and the band, "
        "the nearest land border (named) and the hazards within the radius: geo where in QGIS. Without a hazard "
        "layer the bundled SYNTHETIC demo is used (marked in every feature)."
    )

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", "Sites", [QgsProcessing.TypeVectorPoint]))
        _add_analysis_parameters(self, hazards_optional=True)
        self.addParameter(
            QgsProcessingParameterNumber(
                "RADIUS", "Hazards within, m", QgsProcessingParameterNumber.Double, defaultValue=1000.0, minValue=0.0
            )
        )
        self.addParameter(_sink("OUTPUT", "Sites checked", QgsProcessing.TypeVectorPoint))

    def answer(self, parameters, context, feedback) -> dict:
        from geo.engine.hazards import read_hazards
        from geo.io.data import DEMO_HAZARDS
        from geo.planning.sites import where_points

        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, "INPUT"))
        sites = source_frame(source, feedback, what=f"layer {source.sourceName()}")
        sites = sites[~sites.geometry.isna()].reset_index(drop=True)
        if sites.empty:
            raise QgsProcessingException(f"{source.sourceName()}: the layer holds no points")
        if parameters.get("HAZARDS"):
            hazards = _hazards(self, parameters, context, feedback, "HAZARDS")
        else:
            feedback.pushWarning("no hazard layer given: answering from geo's bundled SYNTHETIC demo")
            hazards = read_hazards(DEMO_HAZARDS)
        result = _analyse(self, parameters, context, feedback, hazards, draws=0)
        feedback.setProgress(60)
        points = sites.to_crs(WGS84).geometry
        points = gpd.GeoSeries(shapely.point_on_surface(points.values), crs=WGS84)  # a multipoint: one of its points
        radius = self.parameterAsDouble(parameters, "RADIUS", context)
        answers = where_points(points.y.to_numpy(), points.x.to_numpy(), result, radius_m=radius)
        districts = result.territory.districts
        names = [""] * len(sites)
        if districts is not None:
            spots = gpd.GeoSeries(points.values, crs=WGS84).to_crs(districts.crs).values
            hit_site, hit_district = shapely.STRtree(districts.geometry.values).query(spots, predicate="within")
            for s, d in zip(hit_site, hit_district):
                names[s] = str(districts["district"].iloc[d])
        table = sites.assign(
            province=[a["province"] for a in answers],
            code=[a["code"] for a in answers],
            district=names,
            inside_cambodia=[bool(a["inside_cambodia"]) for a in answers],
            band=[a["band"] for a in answers],
            distance_to_frontier_m=[float(a["distance_to_frontier_m"]) for a in answers],
            nearest_border=[a.get("nearest_border") or "" for a in answers],
            nearest_border_m=[float(a["borders"][0]["distance_m"]) if a.get("borders") else np.nan for a in answers],
            hazards_within_radius=[len(a["hazards"]) for a in answers],
            nearest_hazard=[a["hazards"][0]["hazard_id"] if a["hazards"] else "" for a in answers],
            nearest_hazard_m=[float(a["hazards"][0]["distance_m"]) if a["hazards"] else np.nan for a in answers],
        )
        if result.summary.get("notice"):
            table["synthetic"] = True
        dest = write_sink(self, parameters, context, "OUTPUT", table, feedback)
        feedback.setProgress(100)
        return {"OUTPUT": dest}


class DistanceCurve(_GeoAlgorithm):
    """``geo:distancecurve``: contamination within 0..N km of the frontier, as a table and a chart."""

    _name = "distancecurve"
    _title = "Distance curve"
    _help = (
        "The contaminated area within d km of the frontier, d from 0 to the maximum in steps: what a belt of "
        "any width would hold (geo curve in QGIS). A table, and a chart as PNG."
    )

    def initAlgorithm(self, config=None):
        _add_analysis_parameters(self)
        self.addParameter(
            QgsProcessingParameterNumber(
                "MAX_KM", "Up to, km", QgsProcessingParameterNumber.Double, defaultValue=15.0, minValue=0.5
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "STEP_KM", "Step, km", QgsProcessingParameterNumber.Double, defaultValue=0.5, minValue=0.05
            )
        )
        self.addParameter(_sink("OUTPUT", "Curve", QgsProcessing.TypeVector))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT_CHART", "Chart (PNG)", "PNG files (*.png)", optional=True, createByDefault=False
            )
        )

    def answer(self, parameters, context, feedback) -> dict:
        hazards = _hazards(self, parameters, context, feedback)
        result = _analyse(self, parameters, context, feedback, hazards, draws=0)
        feedback.setProgress(70)
        max_km = self.parameterAsDouble(parameters, "MAX_KM", context)
        step_km = self.parameterAsDouble(parameters, "STEP_KM", context)
        curve = result.curve(max_km=max_km, step_km=step_km, top=5)
        table = curve.reset_index() if "distance_km" not in curve.columns else curve
        out = {"OUTPUT": write_sink(self, parameters, context, "OUTPUT", pd.DataFrame(table), feedback)}
        chart = self.parameterAsFileOutput(parameters, "OUTPUT_CHART", context)
        if chart and parameters.get("OUTPUT_CHART"):
            from geo.render.plot import write_curve_plot

            write_curve_plot(curve, chart, result.summary.to_dict())
            out["OUTPUT_CHART"] = chart
        feedback.setProgress(100)
        return out


class Scenario(_GeoAlgorithm):
    """``geo:scenario``: completion years per province and band under access rules and capacities."""

    _name = "scenario"
    _title = "Completion scenario"
    _help = (
        "When would the contamination be released, per province and band, under the access rules (who may "
        "clear which band) and the operators' capacities? geo scenario in QGIS. Capacity: 2024 (the latest the "
        "Mine Action Review reports), 2023, or a CSV file; rules: the bundled 2024 rules or a TOML file."
    )

    def initAlgorithm(self, config=None):
        _add_analysis_parameters(self)
        self.addParameter(
            QgsProcessingParameterString(
                "CAPACITY", "Capacity set (2024, 2023) or a CSV file", defaultValue="2024", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile("RULES", "Access rules (TOML; empty: the 2024 rules)", optional=True)
        )
        self.addParameter(_sink("OUTPUT", "Completion", QgsProcessing.TypeVector))
        self.addOutput(QgsProcessingOutputNumber("ALL_LAND_YEAR", "Year all land is released (central)"))

    def answer(self, parameters, context, feedback) -> dict:
        from geo.planning.scenario import scenario

        hazards = _hazards(self, parameters, context, feedback)
        result = _analyse(self, parameters, context, feedback, hazards, draws=0)
        feedback.setProgress(60)
        rules = self.parameterAsFile(parameters, "RULES", context) or None
        capacity = self.parameterAsString(parameters, "CAPACITY", context) or "2024"
        sc = scenario(result, rules, capacity)
        out: dict[str, Any] = {"OUTPUT": write_sink(self, parameters, context, "OUTPUT", sc.completion, feedback)}
        year = sc.summary["scenarios"][0]["all_land"]["year"]  # None: not within the horizon
        out["ALL_LAND_YEAR"] = float(year) if year is not None else float("nan")
        feedback.setProgress(100)
        return out


class GeoProvider(QgsProcessingProvider):
    """The ``geo`` Processing provider: ``geo:borderzones``, ``geo:sitecheck``, ``geo:distancecurve``,
    ``geo:scenario``."""

    def id(self) -> str:
        return "geo"

    def name(self) -> str:
        return "geo border zones"

    def longName(self) -> str:
        return f"geo {geo_version()}: mine contamination in Cambodia's border zones"

    def loadAlgorithms(self):
        for alg in (BorderZones(), SiteCheck(), DistanceCurve(), Scenario()):
            self.addAlgorithm(alg)


__all__ = ["BorderZones", "DistanceCurve", "GeoProvider", "Scenario", "SiteCheck", "report_html", "source_frame"]
