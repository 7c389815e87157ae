"""Tables and checks built from the pieces of an analysis.

Pure functions on frames: the per-province table, the :class:`Summary` of a run and its
:class:`Provenance`, the spatial validation checks and the comparison with published totals.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._threads import intersecting_pairs
from geo._version import geo_version
from geo.constants import (
    ANALYSIS_CRS,
    AREA_MISMATCH_SHARE,
    MILITARY_ONLY_KM,
    OUTSIDE,
    RESTRICTED_KM,
    SYNTHETIC_NOTICE,
)
from geo.engine.curve import sum_by_code
from geo.io.data import PROVINCE_STATUS_FILE, TABLE1_FILE
from geo.names import normalize_name, province_code

if TYPE_CHECKING:
    from geo.engine.pieces import AnalysedHazards


@dataclass(frozen=True)
class Provenance:
    """Where a run's figures come from: its inputs, CRSs, geo's version and whether the data are synthetic.

    Attributes
    ----------
    synthetic : bool
        True when the hazards are synthetic (the bundled demo); every output then says so.
    notice : str or None
        The sentence every output carries for synthetic data.
    inputs : dict
        ``hazards``, ``provinces``, ``outline``, ``frontier`` (and ``districts`` where used): file (or table),
        sha256, attribution.
    crs : dict
        ``analysis`` (equal-area CRS of the areas) and ``outputs`` (of the layers written).
    version : str
        geo's version.
    """

    synthetic: bool
    notice: str | None
    inputs: dict = field(default_factory=dict)
    crs: dict = field(default_factory=lambda: {"analysis": ANALYSIS_CRS, "outputs": "EPSG:4326"})
    version: str = field(default_factory=geo_version)


@dataclass(frozen=True)
class Summary:
    """The headline figures of an analysis, in km2 of land (overlaps counted once) unless named ``_sum``.

    ``summary.json`` is :meth:`to_dict`; reading a figure by that file's key (``summary["within_7km_km2"]``)
    gives the same value as the attribute.

    Attributes
    ----------
    hazards : int
        Hazards analysed.
    area_km2, area_sum_km2, overlap_km2 : float
        Union of the hazards (land counted once); sum of their areas (as official tables add up);
        the difference.
    within_2km_km2, within_7km_km2 : float
        Contaminated land within 2 and 7 km of the frontier (inside Cambodia).
    share_within_7km : float
        ``within_7km_km2`` over the contaminated land inside Cambodia.
    outside_cambodia_km2, inside_cambodia_km2 : float
        Contaminated land beyond and inside the outline.
    outside_places : list of dict
        Where the hazards outside Cambodia lie: per ``lies_in`` (a neighbour, or the sea),
        ``hazards`` (those whose largest part lies there: no province counts them) and
        ``area_sum_km2`` (their pieces there).
    bands : list of dict
        Per band: ``band``, ``key``, ``inner_km``, ``outer_km``, ``area_km2``, ``area_sum_km2``,
        ``hazards``, ``zone_area_km2``.
    provinces_with_hazards : int
    slivers : dict
        Gaps and overlaps between the provinces and the outline, as patched.
    provenance : Provenance
    reference_table1 : list of dict or None
        The input's per-province totals against the Mine Action Review's Table 1.
    neighbor, bands_km, neighbors, by_neighbor : the frontier(s) measured from and the band edges.
    uncertainty : dict
        Low / central / high of every zone figure for the frontier tolerance.
    frontier_sensitivity : list of dict
        The figures from the analysed line moved and from the other frontier lines.
    aoi : dict or None
        The area of interest the run was scoped to.
    error_budget : dict or None
        5th, 50th and 95th percentiles of the headline figures over draws of the inputs'
        positional errors (:func:`geo.engine.errorbudget.error_budget`); None when not drawn.
    all_borders : dict or None
        The same zones measured from every land border of the provinces' country (the
        restriction applies along all of them): ``neighbors``, ``within_2km_km2``,
        ``within_7km_km2``, ``share_within_7km`` and ``by_province`` (code -> the two
        figures); None when the boundaries carry no frontier lines.
    border_districts : dict or None
        The districts with land within 7 km of the frontier analysed (``count``, ``districts``:
        code, name, province and that land, km2), beside the report's 21; None without districts.
    """

    hazards: int
    area_km2: float
    area_sum_km2: float
    overlap_km2: float
    within_2km_km2: float
    within_7km_km2: float
    share_within_7km: float
    outside_cambodia_km2: float
    inside_cambodia_km2: float
    bands: list[dict]
    provinces_with_hazards: int
    slivers: dict
    provenance: Provenance
    reference_table1: list[dict] | None = None
    neighbor: str | None = None
    bands_km: list[float] = field(default_factory=list)
    uncertainty: dict = field(default_factory=dict)
    neighbors: list[str] = field(default_factory=list)
    by_neighbor: list[dict] = field(default_factory=list)
    frontier_sensitivity: list[dict] = field(default_factory=list)
    aoi: dict | None = None
    error_budget: dict | None = None
    all_borders: dict | None = None
    outside_places: list[dict] = field(default_factory=list)
    border_districts: dict | None = None

    @property
    def synthetic(self) -> bool:
        return self.provenance.synthetic

    @property
    def notice(self) -> str | None:
        return self.provenance.notice

    @property
    def inputs(self) -> dict:
        return self.provenance.inputs

    @property
    def crs(self) -> dict:
        return self.provenance.crs

    @property
    def version(self) -> str:
        return self.provenance.version

    def replace(self, **changes: Any) -> Summary:
        """A copy with ``changes`` (fields of the summary or of its provenance)."""
        own = {k: v for k, v in changes.items() if k in _SUMMARY_FIELDS}
        prov = {k: v for k, v in changes.items() if k not in _SUMMARY_FIELDS}
        if prov:
            own["provenance"] = dataclasses.replace(self.provenance, **prov)
        return dataclasses.replace(self, **own)

    def to_dict(self) -> dict[str, Any]:
        """``summary.json``: the figures, then the inputs and the frontier's figures, in a fixed order."""
        out: dict[str, Any] = {"synthetic": self.synthetic, "notice": self.notice}
        for name in _FIGURES:
            out[name] = getattr(self, name)
        out["crs"] = self.crs
        out["version"] = self.version
        out["slivers"] = self.slivers
        if self.reference_table1 is not None:
            out["reference_table1"] = self.reference_table1
        out["inputs"] = self.inputs
        for name in ("neighbor", "bands_km", "uncertainty", "neighbors", "by_neighbor", "frontier_sensitivity"):
            out[name] = getattr(self, name)
        for name in ("aoi", "error_budget", "all_borders", "border_districts"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS or (key in _OPTIONAL and getattr(self, key) is None):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or key not in _KEYS:
            return False
        return key not in _OPTIONAL or getattr(self, key) is not None


#: Fields left out of ``summary.json`` (and ``in``) when None.
_OPTIONAL = ("reference_table1", "aoi", "error_budget", "all_borders", "border_districts")
_FIGURES = (
    "hazards",
    "area_km2",
    "area_sum_km2",
    "overlap_km2",
    "within_2km_km2",
    "within_7km_km2",
    "share_within_7km",
    "outside_cambodia_km2",
    "inside_cambodia_km2",
    "outside_places",
    "bands",
    "provinces_with_hazards",
)
_SUMMARY_FIELDS = {f.name for f in dataclasses.fields(Summary)}
_KEYS = (_SUMMARY_FIELDS - {"provenance"}) | {"synthetic", "notice", "inputs", "crs", "version"}


def _within(pieces: pd.DataFrame, fine: gpd.GeoDataFrame, km: float) -> pd.Series:
    """Area, m2, per province of the pieces whose fine band lies within ``km``."""
    outer = fine["outer_km"].to_numpy()
    ok = (pieces["fine_index"] >= 0) & (outer[pieces["fine_index"].clip(lower=0)] <= km + 1e-12)
    return sum_by_code(pieces.loc[ok, "area_m2"].to_numpy(), pieces.loc[ok, "code"].to_numpy())


def primary_pieces(by_hazard: pd.DataFrame) -> pd.DataFrame:
    """Each hazard's largest piece: the province (and band) a hazard is counted in."""
    return by_hazard.sort_values("area_m2", ascending=False, kind="stable").drop_duplicates("hazard_index")


def province_table(
    fitted: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame,
    fine: gpd.GeoDataFrame,
    pieces: pd.DataFrame,
    land_pieces: pd.DataFrame,
    by_hazard: pd.DataFrame,
    primary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per province (all listed), areas in km2.

    ``hazards`` counts each hazard once, in the province holding the largest
    part of it.  ``area_km2`` is the area of the union of hazards (land
    counted once), ``area_sum_km2`` the sum of polygon areas, and
    ``overlap_km2`` their difference.
    """
    codes = fitted["code"]
    out = pd.DataFrame({"province": fitted["province"], "code": codes, "name_km": fitted["name_km"]})
    primary = primary_pieces(by_hazard) if primary is None else primary
    # A hazard lying mostly outside Cambodia is no province's (summary: outside_places).
    counted = primary[primary["band_index"] >= 0]
    out["hazards"] = codes.map(counted.groupby("code").size()).fillna(0).astype(int).to_numpy()
    km2 = lambda s: codes.map(s).fillna(0.0).to_numpy() / 1e6  # noqa: E731
    out["area_km2"] = km2(land_pieces.groupby("code")["area_m2"].sum())
    out["area_sum_km2"] = km2(pieces.groupby("code")["area_m2"].sum())
    out["overlap_km2"] = np.maximum(out["area_sum_km2"] - out["area_km2"], 0.0)
    out["within_2km_km2"] = km2(_within(land_pieces, fine, MILITARY_ONLY_KM))
    out["within_7km_km2"] = km2(_within(land_pieces, fine, RESTRICTED_KM))
    for k, key in enumerate(zones["key"]):
        sel = land_pieces[land_pieces["band_index"] == k]
        out[f"band_{key}_km2"] = km2(sel.groupby("code")["area_m2"].sum())
    out["outside_cambodia_km2"] = km2(land_pieces[land_pieces["band_index"] < 0].groupby("code")["area_m2"].sum())
    # The bands tile Cambodia: their sum is the area inside it, the share's denominator.
    out["inside_cambodia_km2"] = np.maximum(out["area_km2"] - out["outside_cambodia_km2"], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = out["inside_cambodia_km2"]
        out["share_within_7km"] = np.where(inside > 0, out["within_7km_km2"] / inside, 0.0)
    order = [c for c in out.columns if c not in ("share_within_7km", "inside_cambodia_km2")]
    at = order.index("within_7km_km2") + 1
    out = out[[*order[:at], "share_within_7km", *order[at:], "inside_cambodia_km2"]]
    out["province_area_km2"] = fitted.geometry.area.to_numpy() / 1e6
    out["sliver_land_km2"] = fitted["sliver_m2"].to_numpy() / 1e6
    return out.reset_index(drop=True)


def district_table(
    districts: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame,
    fine: gpd.GeoDataFrame,
    pieces: pd.DataFrame,
    land_pieces: pd.DataFrame,
    by_hazard: pd.DataFrame,
    primary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per district (all listed), the columns of :func:`province_table`, areas in km2.

    The districts are those fitted into the provinces (:func:`geo.engine.boundaries.fit_districts`),
    and the pieces were cut by them, so each province's districts add up to its row: areas, bands
    and hazards (a hazard is counted in the district holding the largest part of the piece it is
    counted by in its province).

    Columns ``district``, ``district_code``, ``name_km`` (the district's), ``province``, ``code``,
    then as :func:`province_table`, with ``district_area_km2`` for ``province_area_km2``.
    """
    units = gpd.GeoDataFrame(
        {
            "code": districts["district_code"].to_numpy(),
            "province": districts["district"].to_numpy(),
            "name_km": districts["name_km"].to_numpy(),
            "sliver_m2": districts["sliver_m2"].to_numpy(),
        },
        geometry=districts.geometry.values,
        crs=districts.crs,
    )

    def by_unit(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(code=frame["district_code"].to_numpy())

    primary = primary_pieces(by_hazard) if primary is None else primary
    out = province_table(
        units,
        zones=zones,
        fine=fine,
        pieces=by_unit(pieces),
        land_pieces=by_unit(land_pieces),
        by_hazard=by_unit(by_hazard),
        primary=by_unit(primary),
    )
    out = out.rename(
        columns={"province": "district", "code": "district_code", "province_area_km2": "district_area_km2"}
    )
    out.insert(3, "province", districts["province"].to_numpy())
    out.insert(4, "code", districts["code"].to_numpy())
    return out


def province_status() -> pd.DataFrame:
    """Provinces declared mine free (or expected to be), from the Mine Action Review 2024.

    Columns ``code`` (ISO 3166-2:KH), ``province``, ``status`` (``declared mine free`` or
    ``expected mine free``), ``year`` and ``source`` (the report's sentence), one row per
    province it names (data/reference/province_status.csv).

    Examples
    --------
    >>> s = province_status()
    >>> sorted(s.loc[s["status"] == "declared mine free", "year"].value_counts().items())
    [(2022, 6), (2023, 8)]
    """
    return pd.read_csv(PROVINCE_STATUS_FILE, dtype={"code": str, "year": int}, encoding="utf-8")


def with_status(table: pd.DataFrame, status: pd.DataFrame | None = None) -> pd.DataFrame:
    """``table`` (a ``code`` column of provinces) with ``declared_mine_free`` (True where the report says
    the province was declared mine free) and ``mine_free_status`` (e.g. ``declared 2022``,
    ``expected 2024``; missing, a blank cell in the files, for the others)."""
    status = province_status() if status is None else status
    words = {c: f"{s.split()[0]} {y}" for c, s, y in zip(status["code"], status["status"], status["year"])}
    declared = set(status.loc[status["status"] == "declared mine free", "code"])
    codes = table["code"].astype(str)
    return table.assign(
        declared_mine_free=codes.isin(declared).to_numpy(), mine_free_status=codes.map(words).to_numpy()
    )


def in_declared_provinces(primary: pd.DataFrame, ids: np.ndarray, status: pd.DataFrame | None = None) -> dict:
    """The hazards counted in a province the report says was declared mine free (``validation.json``:
    ``in_mine_free_province``): worth a second look, since such a province should have none."""
    status = province_status() if status is None else status
    declared = status[status["status"] == "declared mine free"].set_index("code")
    hit = primary[primary["code"].astype(str).isin(declared.index) & (primary["band_index"] >= 0)]
    items = [
        {"hazard_id": ids[s], "province": p, "code": c, "declared": int(declared.loc[c, "year"]), "area_m2": float(a)}
        for s, p, c, a in zip(hit["hazard_index"], hit["province"], hit["code"].astype(str), hit["area_m2"])
    ]
    return {
        "count": len(items),
        "area_km2": float(hit["area_m2"].sum() / 1e6),
        "items": items,
        "source": "Mine Action Review 2024, Cambodia chapter, notes 5 and 6 (data/reference/province_status.csv)",
    }


def by_area(by_province: pd.DataFrame) -> pd.DataFrame:
    """The province rows as tables show them: most contaminated land first, then by code."""
    order = np.lexsort((by_province["code"].astype(str).to_numpy(), -by_province["area_km2"].to_numpy()))
    return by_province.iloc[order].reset_index(drop=True)


def sliver_overlap_m2(geoms: np.ndarray, slivers: gpd.GeoDataFrame) -> float:
    """Area, m2, of the hazards (analysis CRS) that lies in the province layer's slivers."""
    sliver_geoms = slivers["geometry"].to_numpy() if len(slivers) else np.array([], dtype=object)
    if not len(sliver_geoms):
        return 0.0
    a, b = intersecting_pairs(sliver_geoms, geoms)
    return float(shapely.area(shapely.intersection(geoms[a], sliver_geoms[b])).sum())


def validate_spatial(
    hazards: AnalysedHazards,
    by_hazard: pd.DataFrame,
    slivers: gpd.GeoDataFrame,
    *,
    checks: dict | None = None,
    in_sliver_m2: float | None = None,
    primary: pd.DataFrame | None = None,
) -> dict:
    """Checks that need the boundaries: outside Cambodia, area and province mismatches.

    ``checks`` are the reading checks already made (``read_hazards``' report), kept in front;
    ``in_sliver_m2`` the hazards' area in slivers when already summed (:func:`sliver_overlap_m2`).
    """
    hz, hz_area = hazards.table, hazards.area_m2
    report = dict(checks or {})
    ids = hazards.ids
    outside = by_hazard[by_hazard["band"] == OUTSIDE]
    report["outside_cambodia"] = {
        "count": int(outside["hazard_index"].nunique()),
        "area_km2": float(outside["area_m2"].sum() / 1e6),
        "items": [
            {"hazard_id": ids[s], "outside_m2": float(a)} for s, a in zip(outside["hazard_index"], outside["area_m2"])
        ],
    }
    mismatch = []
    if "area_recorded_m2" in hz.columns:
        rec = pd.to_numeric(hz["area_recorded_m2"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(hz_area - rec) / rec
        for i in np.flatnonzero(np.isfinite(rel) & (rel > AREA_MISMATCH_SHARE)):
            mismatch.append(
                {
                    "hazard_id": ids[i],
                    "recorded_m2": float(rec[i]),
                    "computed_m2": float(hz_area[i]),
                    "ratio": float(hz_area[i] / rec[i]),
                }
            )
    report["area_mismatch"] = {"threshold_share": AREA_MISMATCH_SHARE, "count": len(mismatch), "items": mismatch}
    primary = primary_pieces(by_hazard) if primary is None else primary
    wrong = []
    if "province_recorded" in hz.columns:
        rec = hz["province_recorded"].to_numpy()[primary["hazard_index"].to_numpy()]
        given = pd.Series([None if _blank(r) else str(r) for r in rec], dtype=object)
        triples = pd.DataFrame(
            {"recorded": given, "code": primary["code"].to_numpy(), "name": primary["province"].to_numpy()}
        )
        # Each distinct (recorded, spatial) pair is matched once, not once per hazard.
        pairs = triples.dropna().drop_duplicates()
        ok = {
            (r, c, n): match_recorded_province(r, c, n)
            for r, c, n in zip(pairs["recorded"], pairs["code"], pairs["name"])
        }
        has = given.notna().to_numpy()
        for s, r, code, name in zip(
            primary["hazard_index"].to_numpy()[has],
            given.to_numpy()[has],
            primary["code"].to_numpy(dtype=object)[has],
            primary["province"].to_numpy(dtype=object)[has],
        ):
            if not ok[(r, code, name)]:
                wrong.append({"hazard_id": ids[s], "recorded": r, "spatial": name, "code": code})
    report["province_mismatch"] = {"count": len(wrong), "items": wrong}
    straddle = by_hazard[by_hazard["band"] != OUTSIDE].groupby("hazard_index")["code"].nunique()
    report["straddling_provinces"] = {
        "count": int((straddle > 1).sum()),
        "ids": [ids[s] for s in straddle[straddle > 1].index],
    }
    in_sliver = sliver_overlap_m2(hazards.geoms, slivers) if in_sliver_m2 is None else in_sliver_m2
    report["slivers"] = {
        "land_km2": float(slivers["area_m2"].sum() / 1e6) if len(slivers) else 0.0,
        "hazard_km2": in_sliver / 1e6,
        "note": "land between the province layer and the national outline, assigned to the adjacent province",
    }
    approx = hz["approximate"].astype(bool).to_numpy() if "approximate" in hz.columns else np.zeros(len(hz), bool)
    report["approximate_geometry"] = {"count": int(approx.sum()), "ids": ids[approx].tolist()}
    report["in_mine_free_province"] = in_declared_provinces(primary, ids)
    return report


def reference_comparison(
    by_hazard: pd.DataFrame, hz_area: np.ndarray, path: Path = TABLE1_FILE, primary: pd.DataFrame | None = None
) -> list[dict]:
    """Compare per-province hazard counts and summed areas with Table 1.

    Each hazard counts in the province holding the largest part of it, with
    its whole polygon area, as official tables count them.
    """
    ref = pd.read_csv(path)
    primary = primary_pieces(by_hazard) if primary is None else primary
    count = primary.groupby("code").size()
    area = (
        pd.Series(hz_area[primary["hazard_index"].to_numpy()], index=primary["code"].to_numpy()).groupby(level=0).sum()
    )
    rows = []
    codes = [province_code(p) for p in ref["province"]]
    for code, (_, r) in zip(codes, ref.iterrows()):
        got_n = int(count.get(code, 0))
        got_a = float(area.get(code, 0.0))
        rows.append(
            {
                "province": r["province"],
                "code": code,
                "table1_shas": int(r["shas"]),
                "table1_area_m2": int(r["area_m2"]),
                "input_hazards": got_n,
                "input_area_m2": round(got_a, 1),
                "difference_m2": round(got_a - float(r["area_m2"]), 1),
            }
        )
    other = set(count.index) - set(codes)
    for code in sorted(other):
        rows.append(
            {
                "province": code,
                "code": code,
                "table1_shas": 0,
                "table1_area_m2": 0,
                "input_hazards": int(count[code]),
                "input_area_m2": round(float(area[code]), 1),
                "difference_m2": round(float(area[code]), 1),
            }
        )
    return rows


def summarize(
    hazards: AnalysedHazards,
    *,
    by_province: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    pieces: pd.DataFrame,
    land_pieces: pd.DataFrame,
    by_hazard: pd.DataFrame,
    validation: dict,
    synthetic: bool,
    primary: pd.DataFrame | None = None,
) -> Summary:
    """The figures of the :class:`Summary` (the inputs and the frontier's figures are added by the caller).

    ``pieces`` are the hazards cut by province and band, ``land_pieces`` their union
    cut the same way (land counted once).
    """
    hz_area = hazards.area_m2
    bands = []
    for k, z in zones.reset_index(drop=True).iterrows():
        sel = land_pieces["band_index"] == k
        bands.append(
            {
                "band": z["band"],
                "key": z["key"],
                "inner_km": float(z["inner_km"]),
                "outer_km": None if math.isinf(z["outer_km"]) else float(z["outer_km"]),
                "area_km2": float(land_pieces.loc[sel, "area_m2"].sum() / 1e6),
                "area_sum_km2": float(pieces.loc[pieces["band_index"] == k, "area_m2"].sum() / 1e6),
                "hazards": int(by_hazard.loc[by_hazard["band_index"] == k, "hazard_index"].nunique()),
                "zone_area_km2": float(z["area_km2"]),
            }
        )
    area = float(land_pieces["area_m2"].sum() / 1e6)
    within7 = float(by_province["within_7km_km2"].sum())
    places = []
    if "lies_in" in by_hazard.columns:
        out_pieces = by_hazard[by_hazard["band_index"] < 0]
        primary = primary_pieces(by_hazard) if primary is None else primary
        out_primary = primary[primary["band_index"] < 0]
        for name, g in out_pieces.groupby("lies_in", sort=True):
            places.append(
                {
                    "lies_in": str(name),
                    "hazards": int((out_primary["lies_in"] == name).sum()),
                    "area_sum_km2": float(g["area_m2"].sum() / 1e6),
                }
            )
    outside = float(by_province["outside_cambodia_km2"].sum())
    inside = area - outside
    return Summary(
        hazards=len(hz_area),
        area_km2=area,
        area_sum_km2=float(hz_area.sum() / 1e6),
        overlap_km2=max(float(hz_area.sum() / 1e6) - area, 0.0),
        within_2km_km2=float(by_province["within_2km_km2"].sum()),
        within_7km_km2=within7,
        share_within_7km=within7 / inside if inside > 0 else 0.0,
        outside_cambodia_km2=outside,
        inside_cambodia_km2=max(inside, 0.0),
        outside_places=places,
        bands=bands,
        provinces_with_hazards=int((by_province["hazards"] > 0).sum()),
        slivers=validation.get("slivers", {}),
        provenance=Provenance(synthetic=synthetic, notice=SYNTHETIC_NOTICE if synthetic else None),
        reference_table1=(reference_comparison(by_hazard, hz_area, primary=primary) if TABLE1_FILE.exists() else None),
    )


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def match_recorded_province(recorded, spatial_code: str, spatial_name: str) -> bool:
    """Whether a recorded province (name, variant or code) names the spatial one."""
    code = province_code(recorded)
    if code is not None:
        return code == spatial_code
    return normalize_name(recorded) in {normalize_name(spatial_name), normalize_name(spatial_code)}
