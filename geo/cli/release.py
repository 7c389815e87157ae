"""``geo release``, ``geo access`` and ``geo scenario``: released land, who may clear what, and how long it takes."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli.common import add_boundary_options, add_verbosity, answer_format, answer_options, emit, fmt_number
from geo.constants import SCENARIO_DRAWS as DRAWS
from geo.constants import SCENARIO_SEED as SEED
from geo.errors import GeoInputError

RELEASE_EXAMPLES = """\
examples:
  geo release                                   # bundled SYNTHETIC demo release layer (2023)
  geo release completions.gpkg --out results    # your own released polygons
  geo release done.shp --date-field DATE_END --method-field LR_METHOD --operator-field ORG
"""
ACCESS_EXAMPLES = """\
examples:
  geo access                                    # demo hazards, bundled 2024 rules
  geo access --rules my_rules.toml --out access.csv
"""
SCENARIO_EXAMPLES = """\
examples:
  geo scenario                                  # demo hazards, 2024 rules, 2023 capacities
  geo scenario --rules access_2024 --rules open_2_7km      # today's rules against an alternative
  geo scenario --hazards sha.gpkg --rules rules.toml --capacity capacity.csv --start-year 2025
"""


def _readme(title: str, notice: str | None, files: dict[str, str]) -> str:
    lines = [title, ""]
    if notice:
        lines += [f"*** {notice} ***", ""]
    lines += [f"{name}: {text}" for name, text in files.items()]
    return "\n".join(lines) + "\n"


def cmd_release(args: argparse.Namespace) -> int:
    from geo.engine.boundaries import load_boundaries
    from geo.io.data import DEMO_RELEASE
    from geo.io.db import is_db_url
    from geo.io.outdir import RELEASE_NAMES, OutputSet
    from geo.io.writers import atomic_write, layer_metadata, public_columns, valid_polygons, write_csv, write_json
    from geo.planning.release import read_release, release_by_band
    from geo.render.export import write_gpkg

    path = args.released if is_db_url(args.released) else Path(args.released) if args.released else DEMO_RELEASE
    inputs = [p for p in (path, args.provinces, args.frontier) if p and not is_db_url(p)]
    size = sum(Path(p).stat().st_size for p in inputs if Path(p).is_file())
    with OutputSet(
        Path(args.out), [Path(p) for p in inputs], force=args.force, input_bytes=size, owns=RELEASE_NAMES
    ) as t:
        released = read_release(
            path,
            layer=args.layer,
            crs=args.crs,
            id_field=args.id_field,
            date_field=args.date_field,
            method_field=args.method_field,
            operator_field=args.operator_field,
        )
        boundaries = load_boundaries(
            provinces=args.provinces, frontier=args.frontier, province_field=args.province_field
        )
        res = release_by_band(released, boundaries, bands_km=args.bands, neighbor=args.neighbor)
        s = res.summary
        write_csv(res.by_band, t.path / "release_by_band.csv")
        write_json(s, t.path / "release_summary.json")
        pieces = public_columns(res.analysis.hazard_pieces)
        write_gpkg(
            {"release_pieces": valid_polygons(pieces.to_crs("EPSG:4326"))},
            t.path / "release_pieces.gpkg",
            layer_metadata(s.get("notice")),
        )
        text = _readme(
            "geo release: land released, by year, method, operator, province and border band",
            s.get("notice"),
            {
                "release_by_band.csv": "one row per year x method x operator x province x band; area_m2, area_km2",
                "release_summary.json": "totals per method, operator, band and province; inputs and checks",
                "release_pieces.gpkg": "layer release_pieces: each polygon cut by province and band (WGS 84)",
            },
        )
        atomic_write(t.path / "README_release.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
        written = t.commit()
    if s.get("notice"):
        print(f"*** {s['notice']} ***")
    print(f"Released land {', '.join(map(str, s['years']))} (km2), {s['polygons']:,} polygons")
    table = res.by_band.pivot_table(index="method", columns="band", values="area_km2", aggfunc="sum", fill_value=0.0)
    bands = [b for b in res.analysis.zones["band"] if b in table.columns] + [
        b for b in table.columns if b not in set(res.analysis.zones["band"])
    ]
    table = table[bands]
    table["total"] = table.sum(axis=1)
    print(table.to_string(float_format=lambda v: fmt_number(v)))
    ref = s.get("reference_tables")
    if ref:
        worst = max(v["largest_difference_m2"] for v in ref.values())
        print(f"Tables 5-8 (Mine Action Review 2024) check: largest difference {worst:.3f} m2")
    print("wrote " + ", ".join(p.name for p in written if p.name in RELEASE_NAMES) + f" in {args.out}")
    return 0


def _analysis_for(args: argparse.Namespace, run):
    """The analysis of --hazards (default: the demo) as every verb runs it."""
    args.hazards = getattr(args, "hazards", None)
    result, _ = run(args)
    return result


def cmd_access(args: argparse.Namespace, run) -> int:
    import json

    from geo.engine.zones import band_labels
    from geo.io.writers import csv_text
    from geo.planning.rules import access_table, load_capacity, load_rules

    fmt = answer_format(args, ("table", "json", "csv"))
    rules = load_rules(args.rules)
    rules.check_bands(band_labels(args.bands))
    capacity = load_capacity(args.capacity)
    result = _analysis_for(args, run)
    table = access_table(result, rules, capacity)
    notice = result.summary.get("notice")
    if fmt == "csv":
        text = csv_text(table.assign(data_notice=notice) if notice else table)
    elif fmt == "json":
        doc = {"rules": rules.name, "rules_file": rules.path, "notice": notice, "rows": table.to_dict("records")}
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    else:
        head = f"*** {notice} ***\n" if notice else ""
        text = (
            head
            + f"Remaining contamination (km2) and who may clear it: {rules.name} ({Path(rules.path).name})\n"
            + table.to_string(index=False, float_format=lambda v: fmt_number(v))
        )
    emit(text, args.out)
    return 0


def cmd_scenario(args: argparse.Namespace, run) -> int:
    from geo.engine.zones import band_labels
    from geo.io.data import CAPACITY_SETS
    from geo.io.outdir import SCENARIO_NAMES, OutputSet
    from geo.io.writers import atomic_write, write_csv, write_json
    from geo.planning.rules import load_capacity, load_rules
    from geo.planning.scenario import scenario
    from geo.render.plot import write_burndown

    rules = [load_rules(r) for r in (args.rules or [None])]
    for r in rules:
        r.check_bands(band_labels(args.bands))
    load_capacity(args.capacity)  # a bad capacity file is named before the analysis runs
    shares = None if args.shares == "cleared-only" else int(args.shares)
    spread = _fraction(args.capacity_range)
    inputs = [Path(p) for p in (args.hazards, args.capacity, *(args.rules or [])) if p and Path(p).is_file()]
    with OutputSet(Path(args.out), inputs, force=args.force, owns=SCENARIO_NAMES) as t:
        result = _analysis_for(args, run)
        extra = {
            "additional_km2": args.additional_km2,
            "release_ratio": _ratio(args.release_ratio),
            "budget_usd": args.budget_usd,
            "draws": args.draws,
            "seed": args.seed,
        }
        sc = scenario(
            result, rules, args.capacity, start_year=args.start_year, shares_year=shares, capacity_range=spread, **extra
        )
        write_csv(sc.completion, t.path / "scenario_completion.csv")
        write_csv(sc.burndown, t.path / "scenario_burndown.csv")
        write_json(sc.summary, t.path / "scenario_summary.json")
        write_burndown(sc, t.path / "burndown.png")
        text = _readme(
            "geo scenario: projected completion per province and band under access rules",
            sc.summary.get("notice"),
            {
                "scenario_completion.csv": "one row per rules x province x band: completion year with its range",
                "scenario_burndown.csv": "land left at the end of each year per rules x province x band, km2",
                "scenario_summary.json": "completion per rules, per band, differences, capacities and assumptions",
                "burndown.png": "land left per band over the years, one panel per set of rules",
            },
        )
        atomic_write(t.path / "README_scenario.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
        written = t.commit()
    if sc.summary.get("notice"):
        print(f"*** {sc.summary['notice']} ***")
    print(_scenario_lines(sc))
    # Beside a bundled set, the other one: what the years would be at the capacity of the other year.
    if sc.summary["capacity_set"] in CAPACITY_SETS:
        other = next(k for k in sorted(CAPACITY_SETS, reverse=True) if k != sc.summary["capacity_set"])
        beside = scenario(
            result, rules, other, start_year=args.start_year, shares_year=shares, capacity_range=spread, **extra
        )
        print(f"On the {other} capacities instead (--capacity {other}):")
        for a, b in zip(sc.summary["scenarios"], beside.summary["scenarios"]):
            print(
                f"  {b['rules']}: all land {_year(b['all_land'])}, {_spread(b['all_land'])} "
                f"(against {_year(a['all_land'])}, {_spread(a['all_land'])})"
            )
    print("wrote " + ", ".join(p.name for p in written if p.name in SCENARIO_NAMES) + f" in {args.out}")
    return 0


def _fraction(text: str) -> float:
    raw = str(text).strip().rstrip("%").strip()
    try:
        value = float(raw) / (100.0 if str(text).strip().endswith("%") else 1.0)
    except ValueError:
        raise GeoInputError(f"--capacity-range {text!r} is not a number; give e.g. 0.25 or 25%") from None
    if not 0 <= value < 1:
        raise GeoInputError(f"--capacity-range {text} must lie between 0 and 1 (0.25 = ±25 %)")
    return value


def _ratio(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = [t.strip() for t in str(text).split(",")]
    try:
        values = [float(t) for t in parts]
    except ValueError:
        raise GeoInputError(f"--release-ratio {text!r}: give LOW,HIGH, e.g. 1.87,2.79 (one number: no range)") from None
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise GeoInputError(f"--release-ratio {text!r}: give LOW,HIGH, e.g. 1.87,2.79")
    return values[0], values[1]


def _spread(v: dict) -> str:
    """The percentile years of a summary entry, in words."""
    if v.get("p50") is None and v.get("never_share") is None:
        return "no distribution"
    never = v.get("never_share") or 0.0
    if never >= 1.0:
        return "not finished within the horizon in any run"
    p = [v.get(k) for k in ("p05", "p50", "p95")]
    shown = "-".join("never" if y is None else str(y) for y in (p[0], p[2]))
    median = "never" if p[1] is None else str(p[1])
    text = f"median {median} (90 %: {shown})"
    return text + (f", not finished in {never:.0%} of runs" if never > 0 else "")


def _year(v: dict) -> str:
    if v["year"] is None:
        return "never (see not_done)"
    return (
        f"{v['year']} ({v['low'] if v['low'] is not None else '?'}-{v['high'] if v['high'] is not None else 'never'})"
    )


def _scenario_lines(sc) -> str:
    s = sc.summary
    lines = [
        f"Completion from {s['start_year']} on the {s['capacity_set']} capacities "
        f"({fmt_number(sum(c['cleared_m2_per_year'] for c in s['capacity']) / 1e6)} km2 cleared a year"
        + (
            ", military: "
            + ", ".join(
                f"{c['operator']} {fmt_number(c['cleared_m2_per_year'] / 1e6)}"
                for c in s["capacity"]
                if c["operator"] in ("RCA", "NPMEC")
            )
            if any(c["operator"] in ("RCA", "NPMEC") for c in s["capacity"])
            else ""
        )
        + f"; year, range over capacity ±{s['capacity_range']:.0%} and frontier "
        f"±{s['frontier_tolerance_m']:g} m); 1 m2 of clearance capacity releases "
        f"{s['release_per_cleared_m2']:.2f} m2"
    ]
    if s.get("additional_km2"):
        lines.append(
            f"  with {fmt_number(s['additional_km2'])} km2 more from survey ({s['additional_source']}), "
            f"{s['additional_rule']}"
        )
    r = s["release_ratio"]
    lo_d, hi_d = r.get("drawn", (r["low"], r["high"]))
    if s.get("draws"):
        ratio = f"{lo_d:.2f}-{hi_d:.2f}" if hi_d > lo_d else f"{lo_d:.2f} ({r['sources']['low']})"
        lines.append(
            f"  percentiles over {s['draws']} runs: capacity ±{s['capacity_range']:.0%}, release per m2 cleared "
            f"{ratio}, frontier ±{s['frontier_tolerance_m']:g} m"
            + (", additions ±50 %" if s.get("additional_km2") else "")
        )
    for sc_ in s["scenarios"]:
        lines.append(f"  {sc_['rules']}: all land {_year(sc_['all_land'])}; {_spread(sc_['all_land'])}")
        for band, v in sc_["by_band"].items():
            lines.append(
                f"      {band:>12}: {fmt_number(v['remaining_km2']):>8} km2 left, done {_year(v)}; {_spread(v)}"
            )
        if sc_.get("bottleneck"):
            lines.append(f"      bottleneck: {sc_['bottleneck']['text']}")
        hr = sc_.get("at_high_ratio")
        if hr:
            done = hr["all_land_year"] if hr["all_land_year"] is not None else "not within the horizon"
            lines.append(
                f"      at {hr['release_per_cleared_m2']:.2f} m2 released per m2 cleared (the Review's clearance "
                f"estimate; --release-ratio {r['low']:.2f},{r['high']:.2f} draws between): all land {done}"
            )
        for item in sc_["all_land"]["not_done"][:5]:
            lines.append(f"      not done: {item}")
        d = sc_["difference_years_vs_first"]["all_land"]
        if sc_ is not s["scenarios"][0] and d is not None:
            lines.append(f"      {abs(d)} years {'earlier' if d < 0 else 'later'} than {s['scenarios'][0]['rules']}")
    c = s.get("cost")
    if c:
        line = (
            f"Cost to complete {fmt_number(c['land_km2'])} km2: ${c['cost_usd'] / 1e6:,.1f} million at "
            f"${c['usd_per_km2']:,.0f} per km2 (Cambodia's $132 million for 515 km2)"
        )
        if c.get("years_at_budget") is not None:
            line += f"; {c['years_at_budget']:,.1f} years at ${c['budget_usd_per_year']:,.0f} a year"
        lines.append(line)
    return "\n".join(lines)


def register(sub, add_inputs, run) -> None:
    """Add ``release``, ``access`` and ``scenario`` to the ``geo`` parser."""

    p = sub.add_parser(
        "release",
        help="land released (cancelled, reduced, cleared) by year, operator, province and band",
        description="Cut released polygons by province and border band; write release_by_band.csv and a summary.",
        epilog=RELEASE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "released",
        nargs="?",
        metavar="RELEASED",
        help="released polygons: a file or postgresql://.../db?table=NAME (default: SYNTHETIC demo)",
    )
    p.add_argument("--layer", help="layer of a multi-layer file")
    p.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:32648")
    p.add_argument("--id-field", help="column holding release ids (guessed otherwise)")
    p.add_argument("--date-field", help="column holding the release date or year (guessed otherwise)")
    p.add_argument("--method-field", help="column holding cancelled/reduced/cleared (guessed otherwise)")
    p.add_argument("--operator-field", help="column holding the operator (guessed otherwise)")
    add_boundary_options(p)
    add_verbosity(p)
    p.add_argument("--out", default="geo-output", help="output directory (default: ./geo-output)")
    p.add_argument("--force", action="store_true", help="write into a non-empty directory geo did not create")
    p.set_defaults(func=cmd_release)

    for name, helptext, examples in (
        ("access", "remaining land per province and band, and who may clear it", ACCESS_EXAMPLES),
        ("scenario", "completion year per province and band under access rules and capacities", SCENARIO_EXAMPLES),
    ):
        p = sub.add_parser(
            name,
            help=helptext,
            description=helptext[0].upper() + helptext[1:] + ".",
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--rules",
            action="append" if name == "scenario" else "store",
            help="access rules (TOML), or a bundled set: access_2024 (default), open_2_7km"
            + ("; give it twice to compare" if name == "scenario" else ""),
        )
        p.add_argument(
            "--capacity",
            default=None,
            help="operators' clearance per year: 2024 (default, the latest the source reports: no RCA deminers, "
            "25 NPMEC deminers), 2023 (Tables 8-9), or a CSV file",
        )
        add_inputs(p, positional=False)
        if name == "access":
            answer_options(p, ("table", "json", "csv"))
            p.set_defaults(func=lambda a: cmd_access(a, run))
            continue
        p.add_argument("--start-year", type=int, default=2024, help="first year projected (default 2024)")
        p.add_argument(
            "--shares",
            default="2023",
            choices=("2023", "2022", "cleared-only"),
            help="year of Table 4 whose method shares turn clearance into release (default 2023), or cleared-only",
        )
        p.add_argument("--capacity-range", default="0.25", help="spread of capacities for the ranges (default 0.25)")
        p.add_argument(
            "--additional-km2",
            default=None,
            metavar="N|survey|target",
            help="land survey will add, km2, spread over the border provinces' cells in proportion to their land: a "
            "number, or survey (179, the figure Cambodia gave) or target (80 = the 515 km2 it must release less "
            "the 435 known)",
        )
        p.add_argument(
            "--release-ratio",
            default=None,
            metavar="LOW,HIGH",
            help="land released per m2 of clearance capacity (default 1.87,2.79: the CMAA's 2023 figures and the "
            "Mine Action Review's estimate); the central years use LOW",
        )
        p.add_argument("--budget-usd", type=float, default=None, help="a yearly budget, USD: years to pay the cost")
        p.add_argument("--draws", type=int, default=DRAWS, help=f"runs of the Monte Carlo (default {DRAWS})")
        p.add_argument("--seed", type=int, default=SEED, help=f"its seed (default {SEED})")
        p.add_argument("--out", default="geo-output", help="output directory (default: ./geo-output)")
        p.add_argument("--force", action="store_true", help="write into a non-empty directory geo did not create")
        p.set_defaults(func=lambda a: cmd_scenario(a, run))


__all__ = ["register"]
