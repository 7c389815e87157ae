"""Areas of interest: a province, a bounding box or a polygon file that scopes an analysis and its maps.

An AOI clips the hazards before the analysis (so every table counts only the
contamination inside it, land counted once as always), limits the province table
to the provinces it touches, and is the extent both maps open on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.constants import ANALYSIS_CRS, DEFAULT_BANDS_KM, WGS84
from geo.crs import transform_geoms
from geo.engine.analysis import AnalysisResult, plan_run
from geo.engine.boundaries import Boundaries, _read_layer
from geo.engine.overlay import border_districts
from geo.errors import GeoInputError
from geo.names import neighbor_codes, province_code

_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BBOX = re.compile(",".join([_NUMBER] * 4) + "$")


@dataclass(frozen=True)
class Aoi:
    """An area of interest: ``geometry`` (WGS 84), a ``label`` for outputs and its ``kind``."""

    geometry: shapely.Geometry
    label: str
    kind: str

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north, degrees."""
        return tuple(float(v) for v in self.geometry.bounds)  # type: ignore[return-value]

    def area_km2(self) -> float:
        """Area on the ground (equal-area CRS), km2."""
        return float(transform_geoms(shapely.segmentize(self.geometry, 0.005), WGS84, ANALYSIS_CRS).area) / 1e6


#: The ``--aoi`` word for the districts with land within 7 km of the frontier analysed.
BORDER_DISTRICTS = "border-districts"


def parse_aoi(
    spec: str,
    boundaries: Boundaries,
    *,
    neighbor: str | Sequence[str] | None = None,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
) -> Aoi:
    """An AOI from a province or district (name or code), ``border-districts``, ``west,south,east,north``
    in degrees, or a polygon file.

    A district is given by its name (``Malai``), its gazetteer code (``0109``) or, where a name is
    shared, ``name, province`` (``Samraong, Oddar Meanchey``); a province name wins over a district
    of the same name (``Pailin``). ``border-districts`` is every district with land within 7 km of
    the frontier of ``neighbor`` (Thailand by default; see :func:`geo.engine.overlay.border_districts`).
    Districts are taken as fitted into the provinces, as the analysis counts them.

    Examples
    --------
    >>> from geo.engine.boundaries import load_boundaries
    >>> a = parse_aoi("102.5,12.5,103.0,13.0", load_boundaries())
    >>> a.kind, a.bounds
    ('bbox', (102.5, 12.5, 103.0, 13.0))
    >>> parse_aoi("Pailin", load_boundaries()).label
    'Pailin (KH-24)'
    """
    text = str(spec).strip()
    box = _BBOX.match(text)
    if box:
        w, s, e, n = (float(v) for v in box.groups())
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise GeoInputError(
                f"--aoi {text}: a box is west,south,east,north in degrees with west < east and south < north, "
                "e.g. 102.5,12.5,103.0,13.0"
            )
        return Aoi(shapely.box(w, s, e, n), f"box {w:g},{s:g},{e:g},{n:g}", "bbox")
    path = Path(text)
    if path.exists():
        layer = _read_layer(path)
        polys = layer.geometry.values[np.isin(shapely.get_type_id(layer.geometry.values), (3, 6))]
        if not len(polys):
            raise GeoInputError("--aoi file holds no polygons", str(path))
        return Aoi(shapely.union_all(shapely.make_valid(polys)), path.name, "file")
    provinces = boundaries.provinces
    code = province_code(text)
    hit = provinces[(provinces["code"] == code) | (provinces["province"].str.lower() == text.lower())]
    if len(hit):
        row = hit.iloc[0]
        return Aoi(row.geometry, f"{row['province']} ({row['code']})", "province")
    if boundaries.districts is not None:
        # The districts as fitted into the provinces, as the analysis counts them (its cached territory).
        territory = plan_run(boundaries, neighbor=neighbor, bands_km=bands_km, error_draws=0).territory
        districts = territory.districts
        assert districts is not None  # the boundaries have districts
        if text.lower() == BORDER_DISTRICTS:
            along = border_districts(territory)
            chosen = districts[districts["district_code"].isin(set(along["district_code"]))]
            where = neighbor_codes(neighbor or boundaries.default_neighbor()) or ["all"]
            return _district_aoi(chosen, f"border districts ({len(chosen)}, within 7 km of {','.join(where)})")
        chosen = match_district(text, districts)
        if chosen is not None:
            row = chosen.iloc[0]
            return _district_aoi(chosen, f"{row['district']} district, {row['province']} ({row['district_code']})")
    districts_too = ", a district or border-districts" if boundaries.districts is not None else ""
    raise GeoInputError(
        f"--aoi {text!r} is not a province, a box (west,south,east,north), an existing file{districts_too}; "
        "provinces: " + ", ".join(sorted(provinces["province"]))
    )


def match_district(text: str, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The district ``text`` names: a gazetteer code, a name, or ``name, province``; None if none.

    Raises
    ------
    GeoInputError
        If a name is shared by districts of several provinces (the message lists them).
    """
    wanted = text.strip()
    by_code = districts[districts["district_code"].astype(str) == wanted]
    if len(by_code):
        return by_code
    name, _, province = (part.strip().lower() for part in wanted.partition(","))
    hit = districts[districts["district"].str.lower() == name]
    if province:
        hit = hit[(hit["province"].str.lower() == province) | (hit["code"].str.lower() == province)]
    if len(hit) > 1:
        listed = "; ".join(f"{d}, {p} ({c})" for d, p, c in zip(hit["district"], hit["province"], hit["district_code"]))
        raise GeoInputError(
            f"{len(hit)} districts are called {text!r}: give one as 'name, province' or by code: {listed}"
        )
    return hit if len(hit) else None


def _district_aoi(chosen: gpd.GeoDataFrame, label: str) -> Aoi:
    geom = shapely.union_all(chosen.geometry.values)
    return Aoi(transform_geoms(geom, ANALYSIS_CRS, WGS84), label, "district")


def clip_hazards(hazards: gpd.GeoDataFrame, aoi: Aoi) -> gpd.GeoDataFrame:
    """The hazards cut to the AOI (WGS 84 geometries); hazards wholly outside it are dropped.

    Raises
    ------
    GeoInputError
        If no hazard reaches into the AOI.
    """
    lonlat = hazards.to_crs(WGS84)
    geoms = lonlat.geometry.values
    area = aoi.geometry
    shapely.prepare(area)
    inside = shapely.intersects(area, geoms)
    if not inside.any():
        raise GeoInputError(f"no hazard lies in the area of interest {aoi.label}")
    clipped = shapely.intersection(geoms[inside], area)
    keep = np.isin(shapely.get_type_id(clipped), (3, 6, 7)) & ~shapely.is_empty(clipped)
    out = lonlat.iloc[np.flatnonzero(inside)[keep]].copy()
    parts = [
        g
        if shapely.get_type_id(g) in (3, 6)
        else shapely.union_all([p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)])
        for g in clipped[keep]
    ]
    out = out.set_geometry(gpd.GeoSeries(parts, index=out.index, crs=WGS84))
    out = out[shapely.area(out.geometry.values) > 0]
    out.attrs.update(hazards.attrs)
    return out


def scope_result(result: AnalysisResult, aoi: Aoi) -> AnalysisResult:
    """The result with the province table limited to the provinces the AOI touches, and the AOI in the summary."""
    aoi_a = transform_geoms(shapely.segmentize(aoi.geometry, 0.005), WGS84, ANALYSIS_CRS)

    def touched(units: gpd.GeoDataFrame, key: str) -> set:
        # More than 0.1 % of the AOI: two sources' edges differ by slivers that are not "touching".
        shared = shapely.area(shapely.intersection(units.geometry.values, aoi_a))
        return set(units.loc[shared > 1e-3 * aoi_a.area, key])

    by_province = result.by_province[result.by_province["code"].isin(touched(result.provinces, "code"))]
    by_province = by_province.reset_index(drop=True)
    by_district = result.by_district
    if by_district is not None and result.territory.districts is not None:
        inside = touched(result.territory.districts, "district_code")
        by_district = by_district[by_district["district_code"].isin(inside)].reset_index(drop=True)
    summary = result.summary.replace(
        aoi={
            "label": aoi.label,
            "kind": aoi.kind,
            "bounds": list(aoi.bounds),
            "area_km2": aoi.area_km2(),
            "note": "hazards clipped to the area of interest before the analysis; provinces it touches listed",
        }
    )
    return dataclasses.replace(result, by_province=by_province, by_district=by_district, summary=summary)


def data_bounds(result: AnalysisResult, pad: float = 0.1) -> tuple[float, float, float, float] | None:
    """The hazards' extent in degrees (WGS 84), padded by ``pad`` of its size; None without hazards."""
    if not len(result.hazards):
        return None
    w, s, e, n = transform_geoms(shapely.box(*result.hazards.total_bounds), ANALYSIS_CRS, WGS84).bounds
    dx, dy = max(e - w, 0.02) * pad, max(n - s, 0.02) * pad
    return (w - dx, s - dy, e + dx, n + dy)


__all__ = ["Aoi", "clip_hazards", "data_bounds", "parse_aoi", "scope_result"]
