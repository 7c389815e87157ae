"""Cambodia's provinces, national outline and land frontiers.

The bundled layers live in ``data/boundaries/`` (built by
``scripts/build_boundaries.py``; provenance and licences in
``data/boundaries/SOURCES.md``):

* ``geoboundaries/provinces.gpkg`` - the 25 provinces as the union of geoBoundaries' districts
  (Open Development Cambodia 2014, CC BY 4.0), the default; ``geoboundaries/districts.gpkg`` -
  the 197 districts, with the national gazetteer's codes and Khmer names;
* ``amcharts/provinces.gpkg`` - the 25 provinces (amCharts, linkware licence), the alternative;
* ``osm/cambodia.gpkg`` - layers ``outline`` and ``frontier`` (OpenStreetMap
  contributors, ODbL 1.0).

The two sources do not share edges: the province polygons stray up to
~1.5 km from the OpenStreetMap frontier.  Zones are built against the
OpenStreetMap outline, and :func:`fit_provinces` hands the slivers between
the two to the nearest province, so no land falls out of the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.constants import WGS84
from geo.crs import to_crs_dense
from geo.errors import GeoInputError
from geo.io.data import (
    DISTRICTS_FILE,
    DISTRICTS_SOURCE,
    FRONTIER_SOURCES,
    GSHHG_FILE,
    NATURAL_EARTH_FILE,
    OSM_FILE,
    PROVINCE_SETS,
    sha256_file,
)
from geo.io.readers import check_input_path, check_vrt
from geo.names import PROVINCE_NAMES, neighbor_codes, normalize_name, province_code  # noqa: F401 - also the public home


@dataclass(frozen=True)
class Boundaries:
    """Administrative layers of one analysis, all in WGS 84.

    Attributes
    ----------
    provinces : GeoDataFrame
        Columns ``code``, ``province``, ``name_km``, ``geometry``.
    outline : GeoDataFrame
        One row: the national territory (holes of lakes and rivers filled).
    frontier : GeoDataFrame
        Land frontier lines, column ``neighbor`` (ISO 3166-1 alpha-3).
    sources : dict
        File names and attribution of each layer, carried into every output.
    alternatives : dict
        Other mappings of the frontier: name -> (lines, source dict).
    districts : GeoDataFrame or None
        Districts: ``district_code``, ``district``, ``name_km``, ``province_code``, ``province``,
        ``geometry``; the analysis fits them into the provinces (:func:`fit_districts`). None when
        the provinces are not Cambodia's by ISO 3166-2:KH code (a user layer of other units).
    """

    provinces: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame
    frontier: gpd.GeoDataFrame
    sources: dict = field(default_factory=dict)
    alternatives: dict = field(default_factory=dict)
    districts: gpd.GeoDataFrame | None = None

    @classmethod
    def bundled(cls) -> Boundaries:
        """The bundled provinces, OpenStreetMap outline and frontiers, with the other mappings of the frontier.

        Examples
        --------
        >>> b = Boundaries.bundled()
        >>> len(b.provinces), sorted(b.frontier["neighbor"].unique())
        (25, ['LAO', 'THA', 'VNM'])
        """
        return load_boundaries()

    @classmethod
    def from_files(
        cls,
        provinces: str | Path | None = None,
        frontier: str | Path | None = None,
        *,
        province_field: str = "province",
        code_field: str | None = "code",
    ) -> Boundaries:
        """The user's province and/or frontier layers from files, the bundled ones for what is not given.

        Each layer's file name and sha256 go into ``sources`` and from there into every output.
        See :func:`load_boundaries` for the parameters.

        Examples
        --------
        >>> Boundaries.from_files().sources["frontier"]["file"]
        'data/boundaries/osm/cambodia.gpkg'
        """
        return load_boundaries(provinces, frontier, province_field=province_field, code_field=code_field)

    @classmethod
    def from_frames(
        cls,
        provinces: gpd.GeoDataFrame,
        frontier: gpd.GeoDataFrame,
        outline: gpd.GeoDataFrame | None = None,
        *,
        sources: dict | None = None,
        alternatives: dict | None = None,
        districts: gpd.GeoDataFrame | None = None,
    ) -> Boundaries:
        """Boundaries from layers already in memory (any CRS; reprojected to WGS 84).

        Parameters
        ----------
        provinces : GeoDataFrame
            Polygons with columns ``code`` and ``province`` (``name_km`` optional).
        frontier : GeoDataFrame
            Frontier lines; a ``neighbor`` column (ISO3) is optional.
        outline : GeoDataFrame, optional
            National territory; default the union of ``provinces``.
        sources : dict, optional
            Provenance per layer (``provinces``, ``outline``, ``frontier``), each a dict such as
            ``{"file": ..., "attribution": ...}``; default says the layers were passed in memory.
        alternatives : dict, optional
            Other mappings of the frontier: name -> (lines, source dict), compared in
            ``summary["frontier_sensitivity"]``.

        Examples
        --------
        >>> b = Boundaries.bundled()
        >>> mine = Boundaries.from_frames(b.provinces, b.frontier)
        >>> mine.sources["frontier"]["note"]
        'in-memory layer passed to geo.Boundaries.from_frames'
        """
        for name, frame in (("provinces", provinces), ("frontier", frontier), ("outline", outline)):
            if frame is not None and frame.crs is None:
                raise GeoInputError(f"the {name} layer has no coordinate reference system")
        missing = [c for c in ("code", "province") if c not in provinces.columns]
        if missing:
            raise GeoInputError(
                f"the provinces layer needs columns code and province; missing {', '.join(missing)}"
                f" (columns: {', '.join(map(str, provinces.columns.drop(provinces.geometry.name)))})"
            )
        kinds = set(frontier.geometry.geom_type.dropna())
        if not kinds or not kinds <= {"LineString", "MultiLineString"}:
            raise GeoInputError(f"the frontier layer must hold lines, found {sorted(kinds) or 'nothing'}")
        prov = to_crs_dense(provinces, WGS84)
        if "name_km" not in prov.columns:
            prov = prov.assign(name_km="")
        prov = prov[["code", "province", "name_km", prov.geometry.name]].reset_index(drop=True)
        if outline is None:
            outline = gpd.GeoDataFrame(
                {"iso3": ["KHM"], "name": ["union of provinces"]},
                geometry=[shapely.union_all(prov.geometry.values)],
                crs=WGS84,
            )
        else:
            outline = to_crs_dense(outline, WGS84)
        given = {"file": None, "note": "in-memory layer passed to geo.Boundaries.from_frames"}
        return cls(
            provinces=prov,
            outline=outline,
            frontier=to_crs_dense(frontier, WGS84),
            sources={k: dict((sources or {}).get(k) or given) for k in ("provinces", "outline", "frontier")},
            alternatives=dict(alternatives or {}),
            districts=None if districts is None else to_crs_dense(districts, WGS84),
        )

    def default_neighbor(self) -> str:
        """``"THA"`` when the frontier layer has a Thai line (the bundled one does), else ``"all"``."""
        has = self.frontier.get("neighbor", gpd.GeoSeries(dtype=object))
        return "THA" if (has.astype(str).str.upper() == "THA").any() else "all"

    def frontier_with(self, neighbor: str | Sequence[str] | None = "THA") -> gpd.GeoDataFrame:
        """The frontier lines with some neighbours: one ISO3 code, a list or ``"THA,LAO"``, or
        ``"all"``/``None`` for every line in the layer."""
        return pick_neighbors(self.frontier, neighbor)

    def alternatives_with(self, neighbor: str | Sequence[str] | None = "THA") -> dict:
        """The alternative frontier lines (name -> (lines, source)) with the same neighbours."""
        out = {}
        for name, (frame, source) in self.alternatives.items():
            try:
                out[name] = (pick_neighbors(frame, neighbor), source)
            except GeoInputError:
                continue  # that source does not map these neighbours
        return out


def pick_neighbors(frontier: gpd.GeoDataFrame, neighbor: str | Sequence[str] | None) -> gpd.GeoDataFrame:
    """The lines of a frontier layer with the given neighbours (see :func:`neighbor_codes`)."""
    codes = neighbor_codes(neighbor)
    if codes is None or "neighbor" not in frontier.columns:
        return frontier
    have = frontier["neighbor"].astype(str).str.upper()
    missing = [c for c in codes if c not in set(have)]
    if missing:
        known = ", ".join(sorted(have.unique()))
        raise GeoInputError(f"no frontier with neighbor {', '.join(missing)}; the layer has {known} (or 'all')")
    return frontier[have.isin(codes)]


@lru_cache(maxsize=1)
def bundled_land() -> shapely.Geometry:
    """Cambodia's bundled national outline as one WGS 84 geometry (read once per process)."""
    return shapely.union_all(_read_layer(OSM_FILE, "outline").geometry.values)


def _read_layer(path: Path | str, layer: str | None = None) -> gpd.GeoDataFrame:
    from geo.io.db import is_db_url, read_layer

    if is_db_url(path):
        gdf, source = read_layer(str(path), table=layer)
        out = to_crs_dense(gdf, WGS84)
        out.attrs["sha256"] = source["sha256"]  # of the rows read: the table is not read again for it
        return out
    path = check_input_path(path)
    check_vrt(path)
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise GeoInputError(f"cannot read layer {layer or '(default)'}: {exc}", str(path)) from exc
    if gdf.crs is None:
        raise GeoInputError("layer has no coordinate reference system", str(path))
    return to_crs_dense(gdf, WGS84)


def _label(source: str | Path) -> str:
    """How a user layer is named in outputs: the file name, or the connection string without password."""
    from geo.io.db import is_db_url, redact

    return redact(str(source)) if is_db_url(source) else Path(source).name


def _digest(source: str | Path, frame: gpd.GeoDataFrame | None) -> str:
    """sha256 of a layer file, or of the rows of a PostGIS table as read into ``frame``."""
    if frame is not None and "sha256" in frame.attrs:
        return frame.attrs["sha256"]
    return sha256_file(Path(source))


def load_boundaries(
    provinces: str | Path | None = None,
    frontier: str | Path | None = None,
    *,
    province_field: str = "province",
    code_field: str | None = "code",
) -> Boundaries:
    """Load the bundled boundaries, or the user's own in their place.

    Parameters
    ----------
    provinces : path, optional
        Polygon layer of provinces replacing the bundled one.  Cambodia is
        then the union of these polygons.
    frontier : path, optional
        Line layer replacing the bundled frontiers; a ``neighbor`` column is
        optional.
    province_field : str
        Name column of a user province layer (default ``province``).
    code_field : str or None
        Code column of a user province layer; if absent, codes are looked up
        from the names (ISO 3166-2:KH) or left as the names.

    Returns
    -------
    Boundaries

    Examples
    --------
    >>> b = load_boundaries()
    >>> len(b.provinces), b.provinces.crs.to_epsg()
    (25, 4326)
    """
    sources: dict = {}
    preset = province_set(provinces)
    if preset is not None:
        chosen = PROVINCE_SETS[preset]
        if not chosen["path"].exists():
            raise GeoInputError(
                f"bundled province layer {preset!r} is missing; run scripts/build_boundaries.py", str(chosen["path"])
            )
        prov = _read_layer(chosen["path"], "provinces")
        sources["provinces"] = {"file": chosen["file"], "attribution": chosen["attribution"], "set": preset}
        provinces = None
    else:
        assert provinces is not None  # province_set names the default set for None
        raw = _read_layer(provinces)
        if province_field not in raw.columns:
            raise GeoInputError(
                f"no column {province_field!r} (columns: {', '.join(map(str, raw.columns.drop('geometry')))});"
                " pass --province-field",
                _label(provinces),
            )
        names = raw[province_field].astype(str)
        if code_field and code_field in raw.columns:
            codes = raw[code_field].astype(str)
        else:
            codes = pd.Series([province_code(n) or n for n in names], index=raw.index)
        prov = gpd.GeoDataFrame(
            {"code": codes.values, "province": names.values, "name_km": ""},
            geometry=shapely.make_valid(raw.geometry.values),
            crs=WGS84,
        )
        prov = prov.dissolve(by=["code", "province"], as_index=False)[["code", "province", "name_km", "geometry"]]
        sources["provinces"] = {"file": _label(provinces), "attribution": "user-supplied province layer"}

    if provinces is None:
        outline = _read_layer(OSM_FILE, "outline")
        sources["outline"] = {
            "file": "data/boundaries/osm/cambodia.gpkg",
            "attribution": "National outline: © OpenStreetMap contributors (ODbL 1.0), via geo-maps 0.6.0",
        }
    else:
        outline = gpd.GeoDataFrame(
            {"iso3": ["KHM"], "name": ["union of provinces"]},
            geometry=[shapely.union_all(prov.geometry.values)],
            crs=WGS84,
        )
        sources["outline"] = {"file": _label(provinces), "attribution": "union of the province layer"}

    if frontier is None:
        front = _read_layer(OSM_FILE, "frontier")
        sources["frontier"] = {
            "file": "data/boundaries/osm/cambodia.gpkg",
            "attribution": "Frontiers: © OpenStreetMap contributors (ODbL 1.0), via geo-maps 0.6.0",
        }
    else:
        front = _read_layer(frontier)
        kinds = set(front.geometry.geom_type.dropna())
        if not kinds or not kinds <= {"LineString", "MultiLineString"}:
            raise GeoInputError(f"frontier layer must hold lines, found {sorted(kinds) or 'nothing'}", _label(frontier))
        sources["frontier"] = {"file": _label(frontier), "attribution": "user-supplied frontier layer"}
    paths = {
        "provinces": provinces if provinces is not None else PROVINCE_SETS[str(preset)]["path"],
        "outline": provinces if provinces is not None else OSM_FILE,
        "frontier": frontier if frontier is not None else OSM_FILE,
    }
    read = {"provinces": raw, "outline": raw, "frontier": front} if provinces is not None else {"frontier": front}
    for key, src in paths.items():
        sources[key]["sha256"] = _digest(src, read.get(key))
    alternatives = {}
    if frontier is not None:  # the bundled line becomes one of the lines compared
        alternatives["OpenStreetMap 2017 (bundled)"] = (
            _read_layer(OSM_FILE, "frontier"),
            dict(FRONTIER_SOURCES["osm"]),
        )
    if provinces is None or frontier is None:
        for key, path in (("gshhg", GSHHG_FILE), ("naturalearth", NATURAL_EARTH_FILE)):
            if path.exists():
                source = {**FRONTIER_SOURCES[key], "sha256": sha256_file(path)}
                alternatives[source["name"]] = (_read_layer(path, "frontier"), source)
    districts = bundled_districts()
    districts = districts[districts["province_code"].isin(set(prov["code"]))].reset_index(drop=True)
    if len(districts):
        sources["districts"] = {**DISTRICTS_SOURCE, "sha256": sha256_file(DISTRICTS_FILE)}
    return Boundaries(
        provinces=prov.reset_index(drop=True),
        outline=outline,
        frontier=front,
        sources=sources,
        alternatives=alternatives,
        districts=districts if len(districts) else None,
    )


#: The province layer used when none is named (see ``PROVINCE_SETS`` and data/boundaries/SOURCES.md).
DEFAULT_PROVINCES = "geoboundaries"


def province_set(spec: str | Path | None) -> str | None:
    """The bundled province set ``spec`` names (``amcharts``, ``geoboundaries``; None: the default), or
    None for a file or table of the user's (a file of that name wins over the set's name)."""
    if spec is None:
        return DEFAULT_PROVINCES
    text = str(spec).strip().lower()
    if text in PROVINCE_SETS and not Path(str(spec)).exists():
        return text
    return None


@lru_cache(maxsize=1)
def _districts_layer() -> gpd.GeoDataFrame:
    if not DISTRICTS_FILE.exists():
        raise GeoInputError("bundled district layer is missing; run scripts/build_districts.py", str(DISTRICTS_FILE))
    gdf = gpd.read_file(DISTRICTS_FILE, layer="districts", engine="pyogrio")
    cols = ["district_code", "district", "name_km", "province_code", "province", "geometry"]
    return gdf[cols]


def bundled_districts() -> gpd.GeoDataFrame:
    """The bundled districts (geoBoundaries KHM ADM2 with the NCDD gazetteer's codes and Khmer names), WGS 84.

    Examples
    --------
    >>> d = bundled_districts()
    >>> len(d), d.loc[d["district"] == "Malai", "district_code"].item()
    (197, '0109')
    """
    return _districts_layer().copy()


def fit_districts(districts: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make each province's districts tile that province exactly.

    Districts come from another source than the provinces, so their edges differ. Each
    province's districts are clipped to it, and the province land none of them covers goes
    to the district sharing the longest edge with it (as :func:`fit_provinces` does for the
    provinces in the outline). A province with no district is one district of itself.

    Parameters
    ----------
    districts : GeoDataFrame
        Columns ``district_code``, ``district``, ``name_km``, ``province_code``; any CRS.
    provinces : GeoDataFrame
        Fitted provinces (``code``, ``province``), projected CRS.

    Returns
    -------
    GeoDataFrame
        ``district_code``, ``district``, ``name_km``, ``code`` (province), ``province``,
        ``sliver_m2`` (land added by the fit), ``geometry``; provinces' CRS.
    """
    d = to_crs_dense(districts, provinces.crs)
    frames = []
    for code, name, geom in zip(provinces["code"], provinces["province"], provinces.geometry.values):
        own = d[d["province_code"] == code]
        if not len(own):
            own = gpd.GeoDataFrame(
                {"district_code": [code], "district": [name], "name_km": [""]}, geometry=[geom], crs=provinces.crs
            )
        units = gpd.GeoDataFrame(
            {"code": own["district_code"].to_numpy(), "province": own["district"].to_numpy()},
            geometry=own.geometry.values,
            crs=provinces.crs,
        )
        tiles, _ = fit_provinces(units, gpd.GeoDataFrame(geometry=[geom], crs=provinces.crs))
        frames.append(
            gpd.GeoDataFrame(
                {
                    "district_code": tiles["code"].to_numpy(),
                    "district": tiles["province"].to_numpy(),
                    "name_km": own["name_km"].to_numpy(),
                    "code": code,
                    "province": name,
                    "sliver_m2": tiles["sliver_m2"].to_numpy(),
                },
                geometry=tiles.geometry.values,
                crs=provinces.crs,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=provinces.crs)


def fit_provinces(provinces: gpd.GeoDataFrame, outline: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Make the provinces tile the national outline exactly.

    Each province is clipped to the outline; each piece of outline that no
    province covers (a sliver between two sources' edges) goes to the
    province with which it shares the longest edge, or else the nearest one.

    Parameters
    ----------
    provinces, outline : GeoDataFrame
        In the same projected CRS.

    Returns
    -------
    fitted : GeoDataFrame
        ``code``, ``province``, ``geometry``, ``sliver_m2`` (area added).
    slivers : DataFrame
        One row per sliver: ``code``, ``area_m2``, ``geometry``.
    """
    land = shapely.union_all(outline.geometry.values)
    clean = provinces.geometry.values.copy()
    shapely.prepare(land)
    # Provinces wholly inside the outline need no clipping (most of them).
    edge = ~shapely.contains_properly(land, clean)
    clean[edge] = shapely.intersection(clean[edge], land)
    if shapely.coverage_is_valid(clean):
        covered = shapely.coverage_union_all(clean)
    else:
        # Overlaps between provinces would count land twice: later rows give way.
        a, b = shapely.STRtree(clean).query(clean, predicate="overlaps")
        for i, j in sorted(zip(a.tolist(), b.tolist())):
            if i < j:
                clean[j] = shapely.difference(clean[j], clean[i])
        covered = shapely.union_all(clean)
    gaps = shapely.difference(land, covered)
    parts = np.array([p for p in shapely.get_parts(gaps) if p.area > 0], dtype=object)
    owner = np.full(len(parts), -1)
    if len(parts):
        # The province sharing the longest edge with a sliver takes it.
        reach = shapely.buffer(parts, 1.0, quad_segs=1)
        edges = shapely.boundary(clean)
        pi, ci = shapely.STRtree(edges).query(reach, predicate="intersects")
        shared = shapely.length(shapely.intersection(edges[ci], reach[pi]))
        best = pd.DataFrame({"part": pi, "prov": ci, "len": shared}).sort_values("len", ascending=False)
        best = best.drop_duplicates("part")
        owner[best["part"].to_numpy()] = best["prov"].to_numpy()
        lonely = np.flatnonzero(owner < 0)
        if len(lonely):
            near = shapely.STRtree(clean).query_nearest(shapely.point_on_surface(parts[lonely]), all_matches=False)
            owner[lonely[near[0]]] = near[1]
    for k in np.unique(owner):
        # The slivers were cut out of the gaps, so they never overlap the province; where the
        # overlaps removed above leave edges that are not noded alike, a full union joins them.
        joined = np.array([clean[k], *parts[owner == k]], dtype=object)
        try:
            clean[k] = shapely.coverage_union_all(joined)
        except shapely.errors.GEOSException:
            clean[k] = None
        if clean[k] is None or not shapely.is_valid(clean[k]):
            clean[k] = shapely.union_all(joined)
    rows = [{"code": provinces["code"].iloc[k], "area_m2": p.area, "geometry": p} for k, p in zip(owner, parts)]
    slivers = pd.DataFrame(rows, columns=["code", "area_m2", "geometry"])
    added = slivers.groupby("code")["area_m2"].sum() if len(slivers) else pd.Series(dtype=float)
    fitted = provinces[["code", "province"]].copy()
    fitted["sliver_m2"] = fitted["code"].map(added).fillna(0.0).to_numpy()
    return gpd.GeoDataFrame(fitted, geometry=clean, crs=provinces.crs), slivers
