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

Distribution: a seeded Monte Carlo (:data:`DRAWS` runs) draws, independently, each
operator's capacity (uniform within ``x (1 +- r)``), the release per m2 cleared
(uniform between the CMAA's 2023 figure, 1.87, and the Review's, 2.79; see
:func:`release_ratios`), the survey additions (uniform within +-50 % of the figure
given) and the frontier (the band edges moved by -t, -t/2, 0, t/2 or t, t the
tolerance).  Per rules, band and all land it reports the 5th, 50th and 95th
percentile completion years (``p05``, ``p50``, ``p95``; None where that share of runs
does not finish within the horizon) and ``never_share``.

Survey additions (``additional_km2``) are placed by one stated rule: over the
province x band cells of the provinces with contamination within 7 km of the
frontier, in proportion to the land each cell holds (the survey the report
describes covers 21 districts along the Thai border).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.constants import SCENARIO_DRAWS, SCENARIO_SEED
from geo.engine.analysis import AnalysisResult
from geo.engine.zones import sort_by_band
from geo.errors import GeoInputError
from geo.io.data import REFERENCE_DIR
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
#: Runs of the Monte Carlo behind the percentile years, and its seed (the same inputs give the same years).
DRAWS, SEED = SCENARIO_DRAWS, SCENARIO_SEED
#: Named survey additions, km2, with the report's words.
ADDITIONS_KM2: dict[str, tuple[float, str]] = {
    "survey": (
        179.0,
        'Mine Action Review 2024 (Cambodia): Cambodia "expected survey to add a further 179km2 to the clearance '
        'task" (Twenty-First Meeting of States Parties, November 2023)',
    ),
    "target": (
        80.0,
        'Mine Action Review 2024 (Cambodia): "it would need to release a total of 515km2" (2024 intersessional '
        "meetings), less the 435 km2 known at the end of 2023",
    ),
}
#: Cambodia's cost to complete, USD, and the land it is for, km2.
COST_USD, COST_KM2 = 132e6, 515.0
COST_SOURCE = (
    'Mine Action Review 2024 (Cambodia): "Cambodia says it needs $132 million to complete clearance of 515km2 of '
    'projected remaining mine contamination"'
)
#: The Review's estimate of clearance in 2023, m2 (against the CMAA's figures it deflates).
REVIEW_CLEARED_2023_M2 = 129.7e6


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


def release_ratios(shares_year: int | None = 2023) -> dict:
    """Land released per m2 cleared, low and high, with their sources.

    Low: the CMAA's figures, all land released in ``shares_year`` over the land it reports
    cleared (Table 4; 2023: 1.87).  High: the same release over the Review's own estimate of
    clearance in 2023, 129.7 km2 (2.79).  The high end pairs with the Review's lower clearance
    figures: with capacities from the CMAA's tables it is optimistic.
    """
    if shares_year is None:
        return {"low": 1.0, "high": 1.0, "sources": {"low": "clearance only", "high": "clearance only"}}
    low = 1.0 / method_shares(shares_year)["cleared"]
    t4 = pd.read_csv(REFERENCE_DIR / "table4_release_by_method.csv").set_index("year")
    high = float(t4.loc[2023, "total_m2"]) / REVIEW_CLEARED_2023_M2
    return {
        "low": low,
        "high": max(high, low),
        "sources": {
            "low": f"Mine Action Review 2024, Table 4 ({shares_year}): all land released over land cleared, CMAA data",
            "high": "Mine Action Review 2024: land released in 2023 (Table 4) over the Review's own estimate of "
            "clearance that year, 129.7 km2 (it deflates the CMAA's clearance figures)",
        },
    }


def parse_additions(value: float | str | None) -> tuple[float, str | None]:
    """Survey additions in km2 from a number or a preset name (:data:`ADDITIONS_KM2`), with its source."""
    if value is None or value == "":
        return 0.0, None
    if isinstance(value, str) and value.strip().lower() in ADDITIONS_KM2:
        return ADDITIONS_KM2[value.strip().lower()]
    try:
        km2 = float(value)
    except (TypeError, ValueError):
        raise GeoInputError(
            f"additional area {value!r} is neither a number of km2 nor a preset ({', '.join(ADDITIONS_KM2)})"
        ) from None
    if not (km2 >= 0 and np.isfinite(km2)):
        raise GeoInputError(f"additional area must be a finite number of km2 >= 0, got {value}")
    return km2, "given by the user"


def _addition_shares(cells: pd.DataFrame, result: AnalysisResult) -> np.ndarray:
    """Share of the survey additions each cell receives (the stated rule of the module docstring)."""
    near = result.by_province.loc[result.by_province["within_7km_km2"] > 0, "code"]
    weight = np.where(cells["code"].isin(set(near)), cells["area_m2"].to_numpy(dtype=float), 0.0)
    total = weight.sum()
    return weight / total if total > 0 else np.zeros(len(cells))


def _percentile_years(years: np.ndarray) -> dict:
    """5th, 50th, 95th percentile completion year of runs (-1: never), None where not reached."""
    finite = np.where(years < 0, np.inf, years.astype(float))
    out: dict = {}
    for key, q in (("p05", 5), ("p50", 50), ("p95", 95)):
        v = np.percentile(finite, q, method="higher")
        out[key] = None if not np.isfinite(v) else int(v)
    out["never_share"] = float((years < 0).mean()) if len(years) else 0.0
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
    additional_km2: float | str | None = None,
    release_ratio: tuple[float, float] | None = None,
    budget_usd: float | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
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
    additional_km2 : float or str, optional
        Land survey is expected to add, km2, or a preset: ``"survey"`` (179) or ``"target"``
        (80 = 515 - 435); placed by the rule of the module docstring, in every figure.
    release_ratio : (low, high), optional
        Land released per m2 of clearance capacity, drawn within the range for the percentiles;
        the central years use the low end.  Default: the CMAA's 1.87 (the ratio its capacity
        tables pair with) in every run, and the central years at the Review's 2.79
        (:func:`release_ratios`) given beside as ``at_high_ratio``.
    budget_usd : float, optional
        A yearly budget: the summary's ``cost`` gives the years it takes to pay the cost to
        complete (from the report's $132 million for 515 km2).
    draws, seed : int
        Runs and seed of the Monte Carlo behind ``p05``/``p50``/``p95`` (0 draws: none).

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
    ratios = release_ratios(shares_year)
    # By default the runs hold the CMAA's ratio, the one its capacity tables pair with (the Review's
    # ratio pairs with its own, lower clearance figures); its years are given beside.
    drawn = (ratios["low"], ratios["low"])
    if release_ratio is not None:
        lo_r, hi_r = (float(v) for v in release_ratio)
        if not (0 < lo_r <= hi_r and np.isfinite(hi_r)):
            raise GeoInputError(f"release ratio must be LOW,HIGH with 0 < LOW <= HIGH, got {lo_r:g},{hi_r:g}")
        ratios = {"low": lo_r, "high": hi_r, "sources": {"low": "given by the user", "high": "given by the user"}}
        drawn = (lo_r, hi_r)
    ratios["drawn"] = list(drawn)
    factor = ratios["low"]
    add_km2, add_source = parse_additions(additional_km2)
    if draws < 0:
        raise GeoInputError(f"draws must be 0 or more, got {draws}")
    rng = np.random.default_rng(seed)
    bands = list(result.zones["band"])
    names = dict(zip(result.provinces["code"], result.provinces["province"]))
    tol_km = float(result.summary.get("uncertainty", {}).get("tolerance_m", 0.0)) / 1000.0
    shifted = {s: _band_areas(result, s) for s in sorted({-tol_km, -tol_km / 2, 0.0, tol_km / 2, tol_km})}
    completion, burndown, summaries = [], [], []
    for rl in loaded:
        rl.check_bands(bands)
        cells = land_cells(result, rl)
        allowed = access_matrix(cells, cap, rl, where)
        yearly = cap["cleared_m2_per_year"].to_numpy() * factor
        known = cells["area_m2"].to_numpy(dtype=float)
        added = _addition_shares(cells, result) * add_km2 * 1e6
        cells = cells.assign(area_m2=known + added)
        left, done = project(cells["area_m2"].to_numpy(), allowed, yearly, horizon)
        runs = []
        central = shifted[0.0]
        edge_ratio = {
            s_: np.array(
                [
                    areas[(c, b)] / central[(c, b)] if central[(c, b)] > 0 else 1.0
                    for c, b in zip(cells["code"], cells["band"])
                ]
            )
            for s_, areas in shifted.items()
        }
        for s_ in sorted({-tol_km, 0.0, tol_km}):
            for f in (1 - capacity_range, 1.0, 1 + capacity_range):
                runs.append(project(known * edge_ratio[s_] + added, allowed, yearly * f, horizon)[1])
        # The distribution: capacity, release per m2 cleared, additions and frontier drawn together.
        mc = np.empty((draws, len(cells)), dtype=int)
        base_yearly = cap["cleared_m2_per_year"].to_numpy(dtype=float)
        shifts = list(edge_ratio)
        for k in range(draws):
            cap_f = rng.uniform(1 - capacity_range, 1 + capacity_range, len(base_yearly))
            ratio_k = float(rng.uniform(*drawn))
            add_f = float(rng.uniform(0.5, 1.5)) if add_km2 > 0 else 1.0
            e = edge_ratio[shifts[int(rng.integers(len(shifts)))]]
            run = project(known * e + added * add_f, allowed, base_yearly * cap_f * ratio_k, horizon)[1]
            mc[k] = _years(run, start_year)
        years = _years(done, start_year)
        run_years = np.vstack([_years(d, start_year) for d in runs])
        never = (run_years < 0).any(axis=0)
        low = np.where(never & (run_years < 0).all(axis=0), -1, np.where(run_years < 0, 10**6, run_years).min(axis=0))
        high = np.where(never, -1, run_years.max(axis=0))
        ops = ["; ".join(cap["operator"][allowed[:, j]]) for j in range(len(cells))]
        frame = cells.assign(year=years, low=low, high=high, operators=ops, reach=allowed.any(axis=0))
        table = _completion_rows(frame, rl.name, names, bands, mc)
        completion.append(table)
        burndown.append(_burndown_rows(left, cells, rl.name, names, start_year, bands))
        rs = _rules_summary(rl, table)
        _add_distribution(rs, cells, mc)
        rs["bottleneck"] = _bottleneck(cells, done, allowed, cap, yearly, names, horizon, start_year)
        if ratios["high"] > factor:  # the other end of the ratio's range, central years
            at_high = _years(
                project(cells["area_m2"].to_numpy(), allowed, yearly / factor * ratios["high"], horizon)[1], start_year
            )
            whole = cells["area_m2"].to_numpy() > 0
            rs["at_high_ratio"] = {
                "release_per_cleared_m2": ratios["high"],
                "all_land_year": None
                if (at_high[whole] < 0).any()
                else int(at_high[whole].max(initial=start_year - 1)),
            }
        summaries.append(rs)
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
        "release_ratio": ratios,
        "additional_km2": add_km2,
        "additional_source": add_source,
        "additional_rule": "spread over the province x band cells of the provinces with contamination within 7 km of "
        "the frontier, in proportion to the land each holds",
        "draws": draws,
        "seed": seed,
        "distribution": "p05/p50/p95: percentiles of the completion year over runs drawing each capacity within "
        f"±{capacity_range:.0%}, the release per m2 cleared within release_ratio.drawn, the additions within ±50 % "
        "and the frontier's band edges moved by -t, -t/2, 0, t/2 or t; None: that share of runs does not finish within "
        "the horizon",
        "cost": _cost(result, add_km2, budget_usd),
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


def _group_years(mc: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Per run, the year the last of some cells is done (-1 if any never is; cells without land ignored)."""
    if not len(idx):
        return np.full(len(mc), -1)
    sub = mc[:, idx]
    return np.where((sub < 0).any(axis=1), -1, sub.max(axis=1))


def _completion_rows(
    frame: pd.DataFrame, rules_name: str, names: dict, bands: list[str], mc: np.ndarray
) -> pd.DataFrame:
    rows = []
    frame = frame.reset_index(drop=True)
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
                **(
                    _percentile_years(_group_years(mc, g.index[g["area_m2"] > 0].to_numpy()))
                    if land > 0 and len(mc)
                    else {"p05": None, "p50": None, "p95": None, "never_share": 0.0 if land <= 0 else None}
                ),
                "status": status,
            }
        )
    out = pd.DataFrame(rows)
    out = sort_by_band(out, ["province", "band"], bands)
    for col in ("completion_year", "completion_year_low", "completion_year_high", "p05", "p50", "p95"):
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


def _add_distribution(rs: dict, cells: pd.DataFrame, mc: np.ndarray) -> None:
    """Percentile years of all land and of each band into a rules summary."""
    has = cells["area_m2"].to_numpy() > 0
    empty = {"p05": None, "p50": None, "p95": None, "never_share": None}
    rs["all_land"].update(_percentile_years(_group_years(mc, np.flatnonzero(has))) if len(mc) else empty)
    for band, v in rs["by_band"].items():
        idx = np.flatnonzero(has & (cells["band"].to_numpy() == band))
        v.update(_percentile_years(_group_years(mc, idx)) if len(mc) and len(idx) else empty)


def _bottleneck(
    cells: pd.DataFrame,
    done: np.ndarray,
    allowed: np.ndarray,
    cap: pd.DataFrame,
    yearly: np.ndarray,
    names: dict,
    horizon: int,
    start_year: int,
) -> dict | None:
    """The band holding most of the land not finished within the horizon (else the one finished last),
    and who may clear it, in words."""
    land = cells["area_m2"].to_numpy(dtype=float)
    bands = cells["band"].to_numpy()
    never = (done < 0) & (land > 0)
    if never.any():
        by_band = pd.Series(land[never]).groupby(bands[never]).sum()
        band = str(by_band.idxmax())
        pick = never & (bands == band)
    elif (land > 0).any():
        last = int(done[land > 0].max())
        band = str(bands[(done == last) & (land > 0)][0])
        pick = (bands == band) & (land > 0)
    else:
        return None
    may = np.asarray(allowed[:, pick].any(axis=1), dtype=bool)
    crew: list[dict] = [
        {"operator": str(o), "release_km2_per_year": float(y) / 1e6}
        for o, y, ok in zip(cap["operator"].tolist(), yearly.tolist(), may.tolist())
        if ok
    ]
    km2 = float(land[pick].sum()) / 1e6
    rate = sum(c["release_km2_per_year"] for c in crew)
    who = ", ".join(f"{c['operator']} {c['release_km2_per_year']:.2f}" for c in crew) or "no operator"
    per_code = pd.Series(land[pick]).groupby(cells["code"].to_numpy()[pick]).sum().sort_values(ascending=False)
    largest = names.get(per_code.index[0], per_code.index[0]) if len(per_code) else None
    if never.any():
        text = (
            f"{band}: {km2:,.2f} km2 not cleared within {horizon} years at this capacity (most in {largest}); "
            f"only {who} km2 a year of release may work it"
        )
    else:
        text = f"{band} finishes last ({start_year + last - 1}): {km2:,.2f} km2, worked by {who} km2 a year of release"
    return {
        "band": band,
        "remaining_km2": km2,
        "never": bool(never.any()),
        "operators": crew,
        "release_km2_per_year": rate,
        "largest_province": largest,
        "text": text,
    }


def _cost(result: AnalysisResult, add_km2: float, budget_usd: float | None) -> dict:
    """Cost to complete at the report's cost per km2, and the years a yearly budget takes to pay it."""
    if budget_usd is not None and not (budget_usd > 0 and np.isfinite(budget_usd)):
        raise GeoInputError(f"budget must be a positive number of USD a year, got {budget_usd}")
    per_km2 = COST_USD / COST_KM2
    land = float(result.summary.get("inside_cambodia_km2", result.summary["area_km2"])) + add_km2
    cost = land * per_km2
    return {
        "usd_per_km2": per_km2,
        "source": COST_SOURCE,
        "land_km2": land,
        "cost_usd": cost,
        "budget_usd_per_year": budget_usd,
        "years_at_budget": None if budget_usd is None else cost / budget_usd,
    }


def _difference(s: dict, first: dict) -> dict:
    def diff(a: dict, b: dict) -> int | None:
        return None if a["year"] is None or b["year"] is None else a["year"] - b["year"]

    return {
        "all_land": diff(s["all_land"], first["all_land"]),
        "by_band": {b: diff(v, first["by_band"][b]) for b, v in s["by_band"].items() if b in first["by_band"]},
    }


__all__ = [
    "ADDITIONS_KM2",
    "DONE_M2",
    "DRAWS",
    "HORIZON_YEARS",
    "ScenarioResult",
    "parse_additions",
    "project",
    "release_ratios",
    "scenario",
]
