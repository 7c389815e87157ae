"""Released land: how much was cancelled, reduced and cleared, by whom, where and in which band.

:func:`read_release` reads a layer of released polygons (any format
:func:`geo.read_hazards` reads), maps its date, method and operator columns and
checks them; :func:`release_by_band` cuts it by province and border band with
the same engine as the hazards (:func:`geo.analyze`), one group at a time
(year x method x operator), so land released twice by one group is refused
rather than counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.constants import ANALYSIS_CRS, DEFAULT_BANDS_KM, OUTSIDE, RELEASE_SYNTHETIC_NOTICE
from geo.crs import to_crs_dense
from geo.engine.analysis import AnalysisResult, analyze
from geo.engine.boundaries import Boundaries
from geo.engine.hazards import read_hazards
from geo.engine.zones import sort_by_band
from geo.errors import GeoInputError
from geo.io.data import REFERENCE_DIR
from geo.io.readers import column_named, find_column
from geo.names import province_code

#: Release methods of the land-release standard (IMAS 07.11), and spellings seen in exports.
METHODS: dict[str, tuple[str, ...]] = {
    "cancelled": ("cancelled", "canceled", "cancellation", "cancel", "nts", "nontechnicalsurvey"),
    "reduced": ("reduced", "reduction", "reduce", "ts", "technicalsurvey"),
    "cleared": ("cleared", "clearance", "clear", "cl"),
}
#: Column names recognised for each field of a release layer (normalised: lower case, no separators).
RELEASE_FIELDS: dict[str, tuple[str, ...]] = {
    "release_id": ("releaseid", "completionid", "taskid", "polygonid", "landreleaseid", "id"),
    "date": ("date", "releasedate", "datereleased", "completiondate", "enddate", "dateend", "closuredate", "year"),
    "method": ("method", "releasemethod", "landreleasemethod", "releasetype", "landrelease", "activity"),
    "operator": ("operator", "operatorname", "organisation", "organization", "org", "agency", "implementer"),
}
#: Columns of ``release_by_band.csv``, in order.
BY_BAND_COLUMNS = ["year", "method", "operator", "province", "code", "band", "area_m2", "area_km2"]
#: Release polygons of one operator overlapping by more than this, m2, are refused.
OVERLAP_TOLERANCE_M2 = 1.0


@dataclass(frozen=True)
class ReleaseResult:
    """Released land cut by province and band.

    Attributes
    ----------
    by_band : DataFrame
        One row per year x method x operator x province x band: ``year``, ``method``,
        ``operator``, ``province``, ``code``, ``band``, ``area_m2``, ``area_km2``.
    summary : dict
        Totals per method, operator, province and band, provenance, the synthetic
        notice, and for the demo layer the check against Tables 5-8.
    analysis : AnalysisResult
        The analysis of the release polygons (pieces in ``analysis.hazard_pieces``).
    """

    by_band: pd.DataFrame
    summary: dict = field(default_factory=dict)
    analysis: AnalysisResult | None = None


def _method_of(value) -> str | None:
    key = "".join(ch for ch in str(value).lower() if ch.isalnum())
    for method, spellings in METHODS.items():
        if key in spellings:
            return method
    return None


def _years(values: pd.Series, rows: np.ndarray, path: str) -> np.ndarray:
    """Year of each release date (dates, ISO text or bare years); the first bad one is an error."""
    num = pd.to_numeric(values, errors="coerce")
    years = np.where(num.between(1990, 2100) & (num % 1 == 0), num, np.nan)
    text = ~np.isfinite(years)
    if text.any():
        parsed = pd.to_datetime(values[text].astype(str), errors="coerce", format="mixed", dayfirst=False)
        years[text] = parsed.dt.year.to_numpy(dtype=float)
    bad = ~np.isfinite(years)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeoInputError(
            f"row {rows[i]}: release date {values.iloc[i]!r} is not a date or a year "
            f"({int(bad.sum())} rows like it); give e.g. 2023-06-30 or 2023",
            path,
        )
    return years.astype(int)


def read_release(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    id_field: str | None = None,
    date_field: str | None = None,
    method_field: str | None = None,
    operator_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Read released polygons and map their date, method and operator.

    Parameters
    ----------
    path : str or Path
        Any layer :func:`geo.read_hazards` reads.
    layer, crs : str, optional
        As for :func:`geo.read_hazards`.
    id_field, date_field, method_field, operator_field : str, optional
        Columns holding the release id, the date (or year), the method
        (``cancelled``, ``reduced`` or ``cleared``; ``NTS``/``TS``/``clearance``
        are understood) and the operator; guessed from common names otherwise.

    Returns
    -------
    GeoDataFrame
        WGS 84, the columns of :func:`geo.read_hazards` (``hazard_id`` is the
        release id) plus ``release_year``, ``release_method``, ``release_operator``.

    Raises
    ------
    GeoInputError
        Naming the file, row and value: a missing column, an unknown method, a
        date that is not one, or two polygons of one operator that overlap.

    Examples
    --------
    >>> from geo.io.data import DEMO_RELEASE
    >>> rel = read_release(DEMO_RELEASE)
    >>> sorted(rel["release_method"].unique())
    ['cancelled', 'cleared', 'reduced']
    """
    where = str(path)
    given = {"release_id": id_field, "date": date_field, "method": method_field, "operator": operator_field}
    gdf = read_hazards(path, layer=layer, crs=crs, id_field=id_field)
    columns = [c for c in gdf.columns if c != "geometry"]
    found: dict[str, str | None] = {}
    for name, aliases in RELEASE_FIELDS.items():
        wanted = given[name]
        if wanted is not None:
            found[name] = column_named(wanted, columns, where, what=f"the release {name}")
        else:
            found[name] = find_column([c for c in columns if c != "hazard_id"], aliases)
    for name in ("date", "method", "operator"):
        if found[name] is None:
            raise GeoInputError(
                f"no {name} column found (columns: {', '.join(map(str, columns))}); name it with --{name}-field",
                where,
            )
    if id_field is None and found["release_id"] is not None and "ids_numbered" in gdf.attrs["validation"]:
        gdf["hazard_id"] = gdf[found["release_id"]].astype(str).to_numpy()
    rows = gdf["row"].to_numpy()
    methods = gdf[found["method"]].map(_method_of)
    if methods.isna().any():
        i = int(np.flatnonzero(methods.isna().to_numpy())[0])
        raise GeoInputError(
            f"row {rows[i]}: method {gdf[found['method']].iloc[i]!r} in column {found['method']!r} is not one of "
            "cancelled, reduced, cleared (NTS, TS and clearance are understood)",
            where,
        )
    operators = gdf[found["operator"]].astype(str).str.strip()
    empty = gdf[found["operator"]].isna().to_numpy() | (operators == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise GeoInputError(f"row {rows[i]}: no operator in column {found['operator']!r}", where)
    out = gdf.assign(
        release_year=_years(gdf[found["date"]].reset_index(drop=True), rows, where),
        release_method=methods.to_numpy(),
        release_operator=operators.to_numpy(),
    )
    _check_overlaps(out, where)
    out.attrs.update(gdf.attrs)
    out.attrs["release_fields"] = found
    return out


def _check_overlaps(gdf: gpd.GeoDataFrame, where: str) -> None:
    """Two polygons of one operator covering the same land (more than 1 m2) are an error."""
    geoms = to_crs_dense(gdf, ANALYSIS_CRS).geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    ops = gdf["release_operator"].to_numpy()
    same = ops[a] == ops[b]
    a, b = a[same], b[same]
    if not len(a):
        return
    shared = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    over = shared > OVERLAP_TOLERANCE_M2
    if over.any():
        i, j, m2 = int(a[over][0]), int(b[over][0]), float(shared[over][0])
        ids, rows = gdf["hazard_id"].to_numpy(), gdf["row"].to_numpy()
        raise GeoInputError(
            f"rows {rows[i]} and {rows[j]}: release polygons {ids[i]} and {ids[j]} of operator {ops[i]} overlap "
            f"by {m2:,.0f} m2 ({int(over.sum())} such pairs); land is released once - fix or merge them",
            where,
        )


def release_by_band(
    released: gpd.GeoDataFrame,
    boundaries: Boundaries | None = None,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
) -> ReleaseResult:
    """Released area by year x method x operator x province x band.

    Parameters
    ----------
    released : GeoDataFrame
        From :func:`read_release`.
    boundaries, bands_km, neighbor
        As for :func:`geo.analyze`.

    Returns
    -------
    ReleaseResult

    Examples
    --------
    >>> from geo.io.data import DEMO_RELEASE
    >>> res = release_by_band(read_release(DEMO_RELEASE))
    >>> int(round(res.by_band.loc[res.by_band["method"] == "cleared", "area_m2"].sum()))
    193364275
    """
    for col in ("release_year", "release_method", "release_operator"):
        if col not in released.columns:
            raise GeoInputError(f"the release layer has no {col} column; read it with geo.read_release")
    analysis = analyze(released, boundaries, bands_km=bands_km, neighbor=neighbor, frontier_tolerance_m=0.0)
    pieces = analysis.hazard_pieces
    keys = ["release_year", "release_method", "release_operator", "province", "code", "band"]
    table = pieces.groupby(keys, sort=True, dropna=False)["area_m2"].sum().reset_index()
    table.columns = ["year", "method", "operator", "province", "code", "band", "area_m2"]
    table = sort_by_band(
        table, ["year", "method", "operator", "province", "band"], [*analysis.zones["band"], OUTSIDE]
    ).reset_index(drop=True)
    table["area_km2"] = table["area_m2"] / 1e6
    table = table[BY_BAND_COLUMNS]
    summary = _summary(released, table, analysis)
    return ReleaseResult(by_band=table, summary=summary, analysis=analysis)


def _summary(released: gpd.GeoDataFrame, table: pd.DataFrame, analysis: AnalysisResult) -> dict:
    synthetic = bool(analysis.summary.get("synthetic"))

    def totals(by: str) -> dict:
        return {str(k): float(v) / 1e6 for k, v in table.groupby(by)["area_m2"].sum().items()}

    polygon_m2 = analysis.hazards.groupby(released["release_method"].to_numpy())["area_m2"].sum()
    out: dict = {
        "synthetic": synthetic,
        "notice": RELEASE_SYNTHETIC_NOTICE if synthetic else None,
        "version": analysis.summary.get("version"),
        "polygons": len(released),
        "years": sorted(int(y) for y in table["year"].unique()),
        "area_km2": float(table["area_m2"].sum()) / 1e6,
        "by_method_km2": totals("method"),
        "by_operator_km2": totals("operator"),
        "by_band_km2": totals("band"),
        "by_province_km2": totals("province"),
        # Released area cut by band adds up to the polygons' own areas, method by method.
        "check_bands_add_up": {
            m: {"by_band_m2": float(table.loc[table["method"] == m, "area_m2"].sum()), "polygons_m2": float(a)}
            for m, a in polygon_m2.items()
        },
        "bands_km": analysis.summary.get("bands_km"),
        "inputs": {**analysis.summary.get("inputs", {}), "release": analysis.summary["inputs"]["hazards"]},
        "fields": released.attrs.get("release_fields", {}),
        "units": "areas in km2 (area_km2) and m2 (area_m2), Albers equal-area on WGS 84",
    }
    out["inputs"].pop("hazards", None)
    if synthetic:
        out["reference_tables"] = reference_check(table)
    return out


def reference_check(table: pd.DataFrame) -> dict:
    """The 2023 release per province and method, and clearance per operator, against Tables 5-8.

    Returns one entry per table with the largest absolute difference, m2.
    """
    checks = {}
    for name, file, column, method in (
        ("table5_cancelled", "table5_nts_cancelled_2023.csv", "area_cancelled_m2", "cancelled"),
        ("table6_reduced", "table6_ts_reduced_2023.csv", "area_reduced_m2", "reduced"),
        ("table7_cleared", "table7_clearance_2023.csv", "area_cleared_m2", "cleared"),
    ):
        ref = pd.read_csv(REFERENCE_DIR / file)
        codes = [province_code(p) for p in ref["province"]]
        got = table[(table["year"] == 2023) & (table["method"] == method)].groupby("code")["area_m2"].sum()
        diff = [float(got.get(c, 0.0) - a) for c, a in zip(codes, ref[column])]
        checks[name] = {"provinces": len(ref), "largest_difference_m2": max(map(abs, diff))}
    t8 = pd.read_csv(REFERENCE_DIR / "table8_clearance_by_operator_2023.csv")
    got = table[(table["year"] == 2023) & (table["method"] == "cleared")].groupby("operator")["area_m2"].sum()
    diff = [float(got.get(o, 0.0) - a) for o, a in zip(t8["operator"], t8["area_cleared_m2"])]
    checks["table8_cleared_by_operator"] = {"operators": len(t8), "largest_difference_m2": max(map(abs, diff))}
    return checks


__all__ = ["BY_BAND_COLUMNS", "METHODS", "ReleaseResult", "read_release", "release_by_band"]
