"""Access rules and capacities: who may clear which band, where, and how fast.

Access rules are data (a small TOML file, see ``data/rules/access_2024.toml``):
operator classes, the classes that may clear in each band, and optional places
(provinces or polygons) where more classes may work.  Capacities are a CSV
(``data/rules/capacity_2023.csv``): each operator's clearance per year, m2, and
the provinces it works in.  :mod:`geo.planning.scenario` projects completion from both.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geo.constants import ANALYSIS_CRS, WGS84
from geo.engine.zones import sort_by_band
from geo.errors import GeoInputError
from geo.io.data import CAPACITY_SETS, DEFAULT_CAPACITY_SET, DEFAULT_RULES, REFERENCE_DIR, RULES_DIR
from geo.names import province_code

if TYPE_CHECKING:
    from geo.engine.analysis import AnalysisResult


@dataclass(frozen=True)
class AccessRules:
    """Which operator classes may clear which band (and where), read from a TOML file.

    Attributes
    ----------
    name, source : str
    classes : dict
        Class -> operators (upper case).
    access : dict
        Band label -> classes allowed everywhere in that band.
    zones : list of dict
        Places with extra access: ``name``, ``classes``, ``bands``, and ``provinces``
        (codes) or ``geometry`` (one shapely geometry, WGS 84).
    path : str
    """

    name: str
    source: str
    classes: dict
    access: dict
    zones: list = field(default_factory=list)
    path: str = ""

    def class_of(self, operator: str) -> str | None:
        """The class of an operator (case-insensitive), or None."""
        for cls, members in self.classes.items():
            if operator.strip().upper() in members:
                return cls
        return None

    def check_bands(self, bands: list[str]) -> None:
        """Every band of the analysis has a rule, and every rule names a band of the analysis."""
        named = set(self.access) | {b for z in self.zones for b in z["bands"]}
        unknown = sorted(named - set(bands))
        if unknown:
            raise GeoInputError(
                f"band {unknown[0]!r} is not a band of the analysis ({', '.join(bands)}); "
                "name the bands as geo does or change --bands",
                self.path,
            )
        missing = [b for b in bands if b not in self.access]
        if missing:
            raise GeoInputError(f"[access] has no rule for band {missing[0]!r} (bands: {', '.join(bands)})", self.path)


def load_rules(path: str | Path | None = None) -> AccessRules:
    """Read access rules from a TOML file (default: the bundled 2024 rules).

    ``path`` may also name a bundled file without its suffix: ``"access_2024"`` or ``"open_2_7km"``.

    Examples
    --------
    >>> r = load_rules()
    >>> r.name, r.access["0-2 km"], r.class_of("halo")
    ('2024 rules', ['military'], 'international')
    """
    path = Path(path) if path is not None else DEFAULT_RULES
    if not path.exists() and (RULES_DIR / f"{path}.toml").exists():
        path = RULES_DIR / f"{path}.toml"
    where = str(path)
    if not path.is_file():
        bundled = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.toml")))
        raise GeoInputError(f"rules file does not exist (bundled rules: {bundled})", where)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GeoInputError(f"not a valid TOML file: {exc}", where) from None
    classes = doc.get("classes")
    access = doc.get("access")
    if not isinstance(classes, dict) or not isinstance(access, dict):
        raise GeoInputError("needs a [classes] table (class = [operators]) and an [access] table", where)
    members: dict[str, list[str]] = {}
    for cls, ops in classes.items():
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise GeoInputError(f'[classes] {cls}: give a list of operator names, e.g. ["HALO", "MAG"]', where)
        members[cls] = [o.strip().upper() for o in ops]

    def known(cls_list, key: str) -> list[str]:
        if not isinstance(cls_list, list) or not all(isinstance(c, str) for c in cls_list):
            raise GeoInputError(f"{key}: give a list of operator classes", where)
        for c in cls_list:
            if c not in members:
                raise GeoInputError(
                    f"{key}: unknown operator class {c!r}; the [classes] table defines {', '.join(members)}", where
                )
        return list(cls_list)

    rules = {str(band): known(cls, f"[access] {band!r}") for band, cls in access.items()}
    zones = []
    for k, zone in enumerate(doc.get("zones", []), start=1):
        key = f"[[zones]] #{k} ({zone.get('name', 'unnamed')})"
        entry = {
            "name": str(zone.get("name", f"zone {k}")),
            "classes": known(zone.get("classes", []), key + " classes"),
            "bands": [str(b) for b in zone.get("bands", [])],
        }
        if "file" in zone:
            entry["geometry"] = _zone_geometry(path.parent / str(zone["file"]), key, where)
        else:
            codes = []
            for name in zone.get("provinces", []):
                code = province_code(str(name))
                if code is None:
                    raise GeoInputError(f"{key}: unknown province {name!r}", where)
                codes.append(code)
            entry["provinces"] = codes
        zones.append(entry)
    return AccessRules(
        name=str(doc.get("name", path.stem)),
        source=str(doc.get("source", "")),
        classes=members,
        access=rules,
        zones=zones,
        path=where,
    )


def _zone_geometry(path: Path, key: str, where: str):
    import shapely

    from geo.engine.boundaries import _read_layer

    try:
        layer = _read_layer(path)
    except GeoInputError as exc:
        raise GeoInputError(f"{key} file: {exc}", where) from None
    return shapely.union_all(layer.geometry.values)


def capacity_set_name(capacity: str | Path | pd.DataFrame | None) -> str:
    """The name a scenario gives its capacity: a bundled set's year, a file's name, or ``given``.

    Examples
    --------
    >>> capacity_set_name(None), capacity_set_name("2023"), capacity_set_name("ops.csv")
    ('2024', '2023', 'ops.csv')
    """
    if capacity is None:
        return DEFAULT_CAPACITY_SET
    if isinstance(capacity, pd.DataFrame):
        return "given"
    return str(capacity) if str(capacity) in CAPACITY_SETS else Path(capacity).name


def load_capacity(path: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """Operators' yearly clearance, m², and provinces.

    ``path`` is a CSV file, or the name of a bundled set: ``"2024"`` (the default, the latest the
    Mine Action Review reports: no RCA deminers and 25 NPMEC deminers operational) or ``"2023"``
    (Tables 8-9 of the review, the military at the review's estimate).

    Returns
    -------
    DataFrame
        ``operator``, ``cleared_m2_per_year``, ``provinces`` (list of codes, or None for all), ``source``.

    Examples
    --------
    >>> int(load_capacity("2023")["cleared_m2_per_year"].sum())
    129753237
    >>> load_capacity().set_index("operator").loc[["RCA", "NPMEC"], "cleared_m2_per_year"].tolist()
    [0.0, 225000.0]
    """
    if path is None or (not isinstance(path, pd.DataFrame) and str(path) in CAPACITY_SETS):
        path = CAPACITY_SETS[str(path or DEFAULT_CAPACITY_SET)]
    where = "capacity table" if isinstance(path, pd.DataFrame) else str(path)
    if isinstance(path, pd.DataFrame):
        raw = path.copy()
    else:
        try:
            raw = pd.read_csv(path, dtype={"provinces": str})
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise GeoInputError(f"cannot read the capacity table: {exc}", where) from None
    for col in ("operator", "cleared_m2_per_year"):
        if col not in raw.columns:
            raise GeoInputError(f"no column {col!r} (columns: {', '.join(map(str, raw.columns))})", where)
    values = pd.to_numeric(raw["cleared_m2_per_year"], errors="coerce")
    for i, (op, v) in enumerate(zip(raw["operator"], values), start=2):
        if not math.isfinite(v) or v < 0:
            raise GeoInputError(
                f"row {i}: capacity of {op} is {raw['cleared_m2_per_year'].astype(str).iloc[i - 2]}; "
                "give m2 per year >= 0",
                where,
            )
    provinces: list[list[str] | None] = []
    for i, cell in enumerate(raw.get("provinces", pd.Series([None] * len(raw))), start=2):
        if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell).strip().lower() in ("all", ""):
            provinces.append(None)
            continue
        codes = []
        for name in cell if isinstance(cell, list) else str(cell).split(";"):
            code = province_code(name.strip())
            if code is None:
                raise GeoInputError(f"row {i}: unknown province {name.strip()!r} (separate provinces with ;)", where)
            codes.append(code)
        provinces.append(codes)
    return pd.DataFrame(
        {
            "operator": raw["operator"].astype(str).str.strip().to_numpy(),
            "cleared_m2_per_year": values.to_numpy(dtype=float),
            "provinces": provinces,
            "source": raw.get("source", pd.Series([""] * len(raw))).fillna("").to_numpy(),
        }
    )


def method_shares(year: int = 2023) -> dict[str, float]:
    """Shares of cancelled, reduced and cleared land in a year's release (Table 4).

    Examples
    --------
    >>> {k: round(v, 3) for k, v in method_shares(2023).items()}
    {'cancelled': 0.092, 'reduced': 0.374, 'cleared': 0.534}
    """
    t4 = pd.read_csv(REFERENCE_DIR / "table4_release_by_method.csv").set_index("year")
    if year not in t4.index:
        raise GeoInputError(f"Table 4 has no year {year} (years: {', '.join(map(str, t4.index))})")
    row = t4.loc[year]
    return {m: float(row[f"{m}_m2"] / row["total_m2"]) for m in ("cancelled", "reduced", "cleared")}


def land_cells(result: AnalysisResult, rules: AccessRules) -> pd.DataFrame:
    """Remaining land per province x band x place (``""`` or a zone name), m2, and the classes allowed there."""
    lp = result.land_pieces
    lp = lp[lp["band_index"] >= 0]
    bands = result.zones["band"].to_numpy()
    base = lp.assign(band=bands[lp["band_index"].to_numpy()]).groupby(["code", "band"], sort=False)["area_m2"].sum()
    rows = [{"code": c, "band": b, "place": "", "area_m2": a} for (c, b), a in base.items()]
    cells = pd.DataFrame(rows, columns=["code", "band", "place", "area_m2"])
    for zone in rules.zones:
        if "geometry" not in zone:
            continue
        geom = shapely.transform(zone["geometry"], _to_analysis(), include_z=False)
        inside = shapely.area(shapely.intersection(np.asarray(lp.geometry), geom))
        part = (
            pd.DataFrame({"code": lp["code"].to_numpy(), "band": bands[lp["band_index"].to_numpy()], "a": inside})
            .groupby(["code", "band"])["a"]
            .sum()
        )
        for (code, band), a in part.items():
            if a <= 0 or band not in zone["bands"]:
                continue
            main = (cells["code"] == code) & (cells["band"] == band) & (cells["place"] == "")
            cells.loc[main, "area_m2"] -= a
            cells.loc[len(cells)] = {"code": code, "band": band, "place": zone["name"], "area_m2": a}
    classes = []
    for code, band, place in zip(cells["code"], cells["band"], cells["place"]):
        allowed = list(rules.access.get(band, []))
        for zone in rules.zones:
            if band in zone["bands"] and (
                (place == zone["name"] and "geometry" in zone) or code in zone.get("provinces", [])
            ):
                allowed += [c for c in zone["classes"] if c not in allowed]
        classes.append(allowed)
    return cells.assign(classes=classes)


def _to_analysis():
    from pyproj import Transformer

    t = Transformer.from_crs(WGS84, ANALYSIS_CRS, always_xy=True)
    return lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))


def access_matrix(cells: pd.DataFrame, capacity: pd.DataFrame, rules: AccessRules, where: str) -> np.ndarray:
    """``allowed[i, j]``: operator ``i`` of the capacity table may work cell ``j``."""
    allowed = np.zeros((len(capacity), len(cells)), dtype=bool)
    for i, (op, provinces) in enumerate(zip(capacity["operator"], capacity["provinces"])):
        cls = rules.class_of(op)
        if cls is None:
            raise GeoInputError(
                f"row {i + 2}: operator {op} belongs to no class of the rules {rules.path} "
                f"(classes: {', '.join(f'{k} = {v}' for k, v in rules.classes.items())})",
                where,
            )
        in_prov = np.ones(len(cells), dtype=bool) if provinces is None else cells["code"].isin(provinces).to_numpy()
        allowed[i] = in_prov & np.array([cls in c for c in cells["classes"]], dtype=bool)
    return allowed


def access_table(result: AnalysisResult, rules: AccessRules | str | Path | None = None, capacity=None) -> pd.DataFrame:
    """Remaining land per province x band and who may clear it under the rules.

    Returns
    -------
    DataFrame
        ``province``, ``code``, ``band``, ``remaining_km2``, ``may_clear`` (classes),
        ``operators`` (of the capacity table, working in that province), ``note``.

    Examples
    --------
    >>> import geo
    >>> t = access_table(geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS)))
    >>> t.loc[t["band"] == "0-2 km", "may_clear"].unique().tolist()
    ['military']
    """
    rl = rules if isinstance(rules, AccessRules) else load_rules(rules)
    rl.check_bands(list(result.zones["band"]))
    cap = load_capacity(capacity)
    cells = land_cells(result, rl)
    allowed = access_matrix(cells, cap, rl, str(capacity or "bundled capacity_2023.csv"))
    names = dict(zip(result.provinces["code"], result.provinces["province"]))
    rows = []
    for j, (code, band, place, area, classes) in enumerate(
        zip(cells["code"], cells["band"], cells["place"], cells["area_m2"], cells["classes"])
    ):
        ops = "; ".join(cap["operator"][allowed[:, j]])
        rows.append(
            {
                "province": names.get(code, code),
                "code": code,
                "band": band if not place else f"{band} ({place})",
                "remaining_km2": area / 1e6,
                "may_clear": "; ".join(classes),
                "operators": ops,
                "note": "" if ops or area <= 0 else "no operator of the capacity table may clear it",
            }
        )
    out = pd.DataFrame(rows)
    out = sort_by_band(out[out["remaining_km2"] > 0], ["province", "band"], result.zones["band"])
    return out.reset_index(drop=True)


__all__ = [
    "AccessRules",
    "access_matrix",
    "access_table",
    "land_cells",
    "load_capacity",
    "load_rules",
    "method_shares",
]
