"""Completion scenarios: how many years the remaining contamination takes under given access rules.

:func:`scenario` projects, year by year, the land left in every province x band
(x place where a zone of the rules gives more access) of an analysis:

* each operator's yearly release is its clearance capacity divided by clearance's
  share of all land released in a year of Table 4 (2023: 53.4 %; the rest was
  cancelled or reduced by survey, which releases land faster), so 1 m2 of
  clearance capacity releases 1.87 m2; ``shares_year=None`` counts clearance only;
* an operator works first the land the fewest operators may work (for the
  military under the 2024 rules: the 0-7 km belt before the land everyone may
  clear), spreading its release over those cells (its provinces x the bands its
  class may clear there) in proportion to the land left in each; what a cell does
  not need goes to the operator's next cells the same year;
* a cell is complete in the first year its land reaches zero; a cell no operator
  may work is never complete (reported, not hidden).

Ranges: each completion year is also computed with every capacity ``x (1 - r)``
and ``x (1 + r)`` (``r`` = 0.25 by default) and with the band edges moved by the
analysis's frontier tolerance both ways (the land of each province x band taken
from the analysis's distance curve); low and high are the extremes of those runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.engine.analysis import AnalysisResult
from geo.engine.zones import sort_by_band
from geo.errors import GeoInputError
from geo.planning.rules import (
    AccessRules,
    access_matrix,
    capacity_set_name,
    land_cells,
    load_capacity,
    load_rules,
    method_shares,
)

#: Years projected at most; land not released by then is reported as not finished.
HORIZON_YEARS = 100
#: Land left below this, m2, counts as released (rounding of the yearly shares).
DONE_M2 = 0.5


@dataclass(frozen=True)
class ScenarioResult:
    """Projected completion under one or more sets of access rules.

    Attributes
    ----------
    completion : DataFrame
        One row per rules x province x band: ``rules``, ``province``, ``code``, ``band``,
        ``remaining_km2`` (at the start), ``may_clear`` (classes), ``operators``,
        ``completion_year``, ``completion_year_low``, ``completion_year_high`` (nullable
        integers: empty when never), ``status``.
    burndown : DataFrame
        Land left at the end of each year: ``rules``, ``year``, ``province``, ``code``,
        ``band``, ``remaining_km2``; the first year is the analysis (end of ``start_year - 1``).
    summary : dict
        Per rules: completion year of all land and of each band, with ranges; the
        difference in years between each set of rules and the first; assumptions.
    """

    completion: pd.DataFrame
    burndown: pd.DataFrame
    summary: dict = field(default_factory=dict)


def project(
    area_m2: np.ndarray, allowed: np.ndarray, yearly_m2: np.ndarray, horizon: int = HORIZON_YEARS
) -> tuple[np.ndarray, np.ndarray]:
    """Land left in each cell at the end of each year, and the year index each cell is finished.

    Parameters
    ----------
    area_m2 : array (cells,)
        Land at the start.
    allowed : bool array (operators, cells)
    yearly_m2 : array (operators,)
        Land each operator releases in a year.
    horizon : int
        Years projected at most.

    Returns
    -------
    left : array (years + 1, cells)
        Row 0 is the start; projection stops when every cell an operator can reach is done.
    done : array (cells,)
        1-based index of the year a cell is finished (1 = the first year), 0 if it has no
        land at the start, -1 if never within the horizon.

    Examples
    --------
    One operator, 3 units a year, 10 units of land: finished in the 4th year.

    >>> left, done = project(np.array([10.0]), np.array([[True]]), np.array([3.0]))
    >>> left[:, 0].tolist(), done.tolist()
    ([10.0, 7.0, 4.0, 1.0, 0.0], [4])
    """
    rem = np.asarray(area_m2, dtype=float).copy()
    rem[rem < DONE_M2] = 0.0
    rows = [rem.copy()]
    done = np.where(rem > 0, -1, 0)
    working = allowed[np.asarray(yearly_m2) > 0]
    reachable = working.any(axis=0)
    crowd = working.sum(axis=0)  # operators able to work each cell
    for year in range(1, horizon + 1):
        if not (rem[reachable] > 0).any():
            break
        cap = np.asarray(yearly_m2, dtype=float).copy()
        for _ in range(2 * (len(rem) + len(cap)) + 1):  # each round finishes a cell or spends an operator
            open_ = allowed & (rem > 0)[None, :]
            # Land fewer operators may clear comes first: each operator works its scarcest tier.
            tier = np.where(open_, crowd[None, :], np.inf)
            open_ &= tier == tier.min(axis=1, keepdims=True)
            weights = open_ * rem[None, :]
            total = weights.sum(axis=1)
            active = (cap > 0) & (total > 0)
            if not active.any():
                break
            offer = np.zeros_like(weights)
            offer[active] = weights[active] * (cap[active] / total[active])[:, None]
            asked = offer.sum(axis=0)
            take = np.minimum(asked, rem)
            scale = np.divide(take, asked, out=np.zeros_like(take), where=asked > 0)
            cap = cap - (offer * scale[None, :]).sum(axis=1)
            cap[cap < 1e-9] = 0.0
            rem = rem - take
            rem[rem < DONE_M2] = 0.0
        rows.append(rem.copy())
        done[(done < 0) & (rem <= 0)] = year
    return np.vstack(rows), done


def _band_areas(result: AnalysisResult, shift_km: float) -> dict:
    """Land per (code, band) with every band edge moved ``shift_km`` outwards, m2."""
    zones = result.zones
    finite = [float(o) for o in zones["outer_km"] if np.isfinite(o)]
    dists = sorted({round(max(d + shift_km, 0.0), 6) for d in finite})
    curve = result.within(dists)
    lp = result.land_pieces
    total = lp[lp["band_index"] >= 0].groupby("code")["area_m2"].sum()
    out = {}
    for code in result.provinces["code"]:
        prev = 0.0
        for band, outer in zip(zones["band"], zones["outer_km"]):
            if np.isfinite(outer):
                now = float(curve.loc[round(max(outer + shift_km, 0.0), 6), code]) * 1e6
            else:
                now = float(total.get(code, 0.0))
            out[(code, band)] = max(now - prev, 0.0)
            prev = now
    return out


def _years(done: np.ndarray, start_year: int) -> np.ndarray:
    return np.where(done > 0, start_year + done - 1, np.where(done == 0, start_year - 1, -1))


def scenario(
    result: AnalysisResult,
    rules: AccessRules | str | Path | Sequence[AccessRules | str | Path] | None = None,
    capacity: pd.DataFrame | str | Path | None = None,
    *,
    start_year: int = 2024,
    shares_year: int | None = 2023,
    capacity_range: float = 0.25,
    horizon: int = HORIZON_YEARS,
) -> ScenarioResult:
    """Project the completion year of every province x band under one or more sets of access rules.

    Parameters
    ----------
    result : AnalysisResult
        The remaining contamination (e.g. the hazards at the end of 2023).
    rules : AccessRules, path, or a list of them
        Default: the bundled 2024 rules.  With several, each is projected and compared with the first.
    capacity : DataFrame, path or str, optional
        Operators' clearance per year (see :func:`geo.planning.rules.load_capacity`): a file, or a
        bundled set, ``"2024"`` (default: the latest the source reports) or ``"2023"``.
    start_year : int
        First year projected.
    shares_year : int or None
        Year of Table 4 whose method shares turn clearance into release; None: clearance only.
    capacity_range : float
        Relative spread of the capacities for the ranges (0.25: +-25 %).
    horizon : int
        Years projected at most.

    Returns
    -------
    ScenarioResult

    Examples
    --------
    >>> import geo
    >>> res = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
    >>> sc = scenario(res)
    >>> sc.summary["scenarios"][0]["rules"]
    '2024 rules'
    """
    if not 0 <= capacity_range < 1:
        raise GeoInputError(f"capacity range must be between 0 and 1 (0.25 = +-25 %), got {capacity_range}")
    listed = list(rules) if isinstance(rules, (list, tuple)) else [rules]
    loaded = [r if isinstance(r, AccessRules) else load_rules(r) for r in listed]  # type: ignore[arg-type]
    cap = load_capacity(capacity)
    capacity_set = capacity_set_name(capacity)
    where = "capacity table" if isinstance(capacity, pd.DataFrame) else f"capacity {capacity_set}"
    factor = 1.0 / method_shares(shares_year)["cleared"] if shares_year is not None else 1.0
    bands = list(result.zones["band"])
    names = dict(zip(result.provinces["code"], result.provinces["province"]))
    tol_km = float(result.summary.get("uncertainty", {}).get("tolerance_m", 0.0)) / 1000.0
    shifted = {s: _band_areas(result, s) for s in sorted({-tol_km, 0.0, tol_km})}
    completion, burndown, summaries = [], [], []
    for rl in loaded:
        rl.check_bands(bands)
        cells = land_cells(result, rl)
        allowed = access_matrix(cells, cap, rl, where)
        yearly = cap["cleared_m2_per_year"].to_numpy() * factor
        left, done = project(cells["area_m2"].to_numpy(), allowed, yearly, horizon)
        runs = []
        central = shifted[0.0]
        for areas in shifted.values():
            ratio = np.array(
                [
                    areas[(c, b)] / central[(c, b)] if central[(c, b)] > 0 else 1.0
                    for c, b in zip(cells["code"], cells["band"])
                ]
            )
            for f in (1 - capacity_range, 1.0, 1 + capacity_range):
                runs.append(project(cells["area_m2"].to_numpy() * ratio, allowed, yearly * f, horizon)[1])
        years = _years(done, start_year)
        run_years = np.vstack([_years(d, start_year) for d in runs])
        never = (run_years < 0).any(axis=0)
        low = np.where(never & (run_years < 0).all(axis=0), -1, np.where(run_years < 0, 10**6, run_years).min(axis=0))
        high = np.where(never, -1, run_years.max(axis=0))
        ops = ["; ".join(cap["operator"][allowed[:, j]]) for j in range(len(cells))]
        frame = cells.assign(year=years, low=low, high=high, operators=ops, reach=allowed.any(axis=0))
        table = _completion_rows(frame, rl.name, names, bands)
        completion.append(table)
        burndown.append(_burndown_rows(left, cells, rl.name, names, start_year, bands))
        summaries.append(_rules_summary(rl, table))
    comp = pd.concat(completion, ignore_index=True)
    first = summaries[0]
    for s in summaries:
        s["difference_years_vs_first"] = _difference(s, first)
    summary = {
        "scenarios": summaries,
        "start_year": start_year,
        "capacity_set": capacity_set,
        "capacity": cap.assign(release_m2_per_year=cap["cleared_m2_per_year"] * factor)
        .assign(provinces=["all" if p is None else ";".join(p) for p in cap["provinces"]])
        .to_dict("records"),
        "release_per_cleared_m2": factor,
        "method_shares": method_shares(shares_year) if shares_year is not None else None,
        "capacity_range": capacity_range,
        "frontier_tolerance_m": tol_km * 1000.0,
        "horizon_years": horizon,
        "allocation": "each operator works first the cells the fewest operators may work, spreading its yearly "
        "release over them (its provinces x the bands its class may clear) in proportion to the land left in each; "
        "what a cell does not need moves to the operator's next cells the same year",
        "remaining_from": result.summary.get("inputs", {}).get("hazards"),
        "synthetic": bool(result.summary.get("synthetic")),
        "notice": result.summary.get("notice"),
    }
    return ScenarioResult(completion=comp, burndown=pd.concat(burndown, ignore_index=True), summary=summary)


def _completion_rows(frame: pd.DataFrame, rules_name: str, names: dict, bands: list[str]) -> pd.DataFrame:
    rows = []
    for (code, band), g in frame.groupby(["code", "band"], sort=False):
        land = g["area_m2"].sum()
        never = (g["year"] < 0).any()
        reach = g.loc[g["area_m2"] > 0, "reach"].all() if land > 0 else True
        status = (
            "no land"
            if land <= 0
            else ("no operator may clear it" if not reach else ("not finished within the horizon" if never else "done"))
        )

        def worst(col: str, g: pd.DataFrame = g, land: float = land) -> int | None:
            v = g[col].to_numpy()
            return None if (v < 0).any() or land <= 0 else int(v.max())

        classes = sorted({c for cl in g["classes"] for c in cl})
        operators = sorted({o for ops in g["operators"] for o in ops.split("; ") if o})
        rows.append(
            {
                "rules": rules_name,
                "province": names.get(code, code),
                "code": code,
                "band": band,
                "remaining_km2": land / 1e6,
                "may_clear": "; ".join(classes),
                "operators": "; ".join(operators),
                "completion_year": worst("year"),
                "completion_year_low": worst("low"),
                "completion_year_high": worst("high"),
                "status": status,
            }
        )
    out = pd.DataFrame(rows)
    out = sort_by_band(out, ["province", "band"], bands)
    for col in ("completion_year", "completion_year_low", "completion_year_high"):
        out[col] = out[col].astype("Int64")
    return out.reset_index(drop=True)


def _burndown_rows(left, cells, rules_name, names, start_year, bands) -> pd.DataFrame:
    years = start_year - 1 + np.arange(left.shape[0])
    frame = pd.DataFrame(left, columns=pd.MultiIndex.from_arrays([cells["code"], cells["band"]]))
    frame = frame.T.groupby(level=[0, 1]).sum().T  # places of one province x band together
    long = frame.stack([0, 1], future_stack=True).rename("m2").reset_index()
    long.columns = ["i", "code", "band", "m2"]
    long["year"] = years[long["i"].to_numpy()]
    long["rules"] = rules_name
    long["province"] = long["code"].map(names)
    long["remaining_km2"] = long["m2"] / 1e6
    long = sort_by_band(long, ["year", "province", "band"], bands)
    return long[["rules", "year", "province", "code", "band", "remaining_km2"]].reset_index(drop=True)


def _rules_summary(rules: AccessRules, table: pd.DataFrame) -> dict:
    def when(rows: pd.DataFrame) -> dict:
        rows = rows[rows["status"] != "no land"]
        out: dict = {}
        for col, key in (("completion_year", "year"), ("completion_year_low", "low"), ("completion_year_high", "high")):
            v = rows[col]
            out[key] = None if v.isna().any() or not len(v) else int(v.max())
        out["remaining_km2"] = float(rows["remaining_km2"].sum())
        out["not_done"] = [
            f"{p}, {b}: {s}" for p, b, s in zip(rows["province"], rows["band"], rows["status"]) if s != "done"
        ]
        return out

    return {
        "rules": rules.name,
        "rules_file": rules.path,
        "rules_source": rules.source,
        "all_land": when(table),
        "by_band": {b: when(g) for b, g in table.groupby("band", sort=False)},
    }


def _difference(s: dict, first: dict) -> dict:
    def diff(a: dict, b: dict) -> int | None:
        return None if a["year"] is None or b["year"] is None else a["year"] - b["year"]

    return {
        "all_land": diff(s["all_land"], first["all_land"]),
        "by_band": {b: diff(v, first["by_band"][b]) for b, v in s["by_band"].items() if b in first["by_band"]},
    }


__all__ = ["DONE_M2", "HORIZON_YEARS", "ScenarioResult", "project", "scenario"]
