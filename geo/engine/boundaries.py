"""Cambodia's provinces, national outline and land frontiers.

The bundled layers live in ``data/boundaries/`` (built by
``scripts/build_boundaries.py``; provenance and licences in
``data/boundaries/SOURCES.md``):

* ``amcharts/provinces.gpkg`` - the 25 provinces (amCharts, linkware licence);
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
from geo.io.data import FRONTIER_SOURCES, GSHHG_FILE, NATURAL_EARTH_FILE, OSM_FILE, PROVINCES_FILE, sha256_file
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
    """

    provinces: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame
    frontier: gpd.GeoDataFrame
    sources: dict = field(default_factory=dict)
    alternatives: dict = field(default_factory=dict)

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
    if provinces is None:
        if not PROVINCES_FILE.exists():
            raise GeoInputError(
                "bundled province layer is missing; run scripts/build_boundaries.py", str(PROVINCES_FILE)
            )
        prov = _read_layer(PROVINCES_FILE, "provinces")
        sources["provinces"] = {
            "file": "data/boundaries/amcharts/provinces.gpkg",
            "attribution": "Province polygons: amCharts geodata 5.1.6 (amCharts free linkware licence)",
        }
    else:
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
        "provinces": provinces if provinces is not None else PROVINCES_FILE,
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
    return Boundaries(
        provinces=prov.reset_index(drop=True),
        outline=outline,
        frontier=front,
        sources=sources,
        alternatives=alternatives,
    )


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
        # The slivers were cut out of the gaps, so they never overlap the province.
        clean[k] = shapely.coverage_union_all(np.array([clean[k], *parts[owner == k]], dtype=object))
    rows = [{"code": provinces["code"].iloc[k], "area_m2": p.area, "geometry": p} for k, p in zip(owner, parts)]
    slivers = pd.DataFrame(rows, columns=["code", "area_m2", "geometry"])
    added = slivers.groupby("code")["area_m2"].sum() if len(slivers) else pd.Series(dtype=float)
    fitted = provinces[["code", "province"]].copy()
    fitted["sliver_m2"] = fitted["code"].map(added).fillna(0.0).to_numpy()
    return gpd.GeoDataFrame(fitted, geometry=clean, crs=provinces.crs), slivers
