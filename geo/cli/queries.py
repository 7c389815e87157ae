"""Command-line verbs for planners' questions: ``geo where``, ``geo query``, ``geo curve``.

Thin wrappers over :mod:`geo.planning.queries`; registered by :mod:`geo.cli`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from geo.cli.common import answer_format, answer_options, emit
from geo.errors import GeoInputError

if TYPE_CHECKING:
    import pandas as pd

WHERE_EXAMPLES = """\
examples:
  geo where 13.35 102.55                         # a point: province, distance to the frontier, band, hazards
  geo where 13.35 102.55 --radius 500m --format json
  geo where --wkt "LINESTRING (102.6 13.3, 102.7 13.35)" --radius 200m   # a planned road (buffer it first)
  geo where --file sites.csv --format csv        # many sites (CSV with lat/lon, or any vector layer)
"""
QUERY_EXAMPLES = """\
examples:
  geo query --within 7 --by province,band                  # 0-7 km, per province and band
  geo query --province "Pailin,Koh Kong" --by status --format csv
  geo query --province "Banteay Meanchey" --band 0-2
  geo query --province otdar --type AP --format json      # spelling variants and case are fine
  geo query --district Malai --within 7                    # a district (name, code, or 'name, province')
"""
CURVE_EXAMPLES = """\
example:
  geo curve --max 15 --step 0.5 --top 5 --out curve.csv   # writes curve.csv and curve.png
"""


def _where_rows(answers: list[dict], attrs: list[dict] | None = None) -> pd.DataFrame:
    import pandas as pd

    from geo.io.writers import with_notice

    rows = []
    for k, a in enumerate(answers):
        near = a["hazards"][0] if a["hazards"] else {}
        own = (attrs or [{}] * len(answers))[k]
        rows.append(
            {
                **{(f"site_{c}" if c in ANSWER_COLUMNS else c): v for c, v in own.items()},
                "site": a["site"],
                "province": a["province"],
                "code": a["code"],
                "inside_cambodia": a["inside_cambodia"],
                "distance_to_frontier_m": a["distance_to_frontier_m"],
                "band": a["band"],
                "nearest_border": a.get("nearest_border") or "",
                "nearest_border_m": a["borders"][0]["distance_m"] if a.get("borders") else "",
                "nearest_border_band": a["borders"][0]["band"] if a.get("borders") else "",
                "hazards_within_radius": len(a["hazards"]),
                "nearest_hazard_id": near.get("hazard_id", ""),
                "nearest_hazard_m": near.get("distance_m", ""),
                "area_m2": a.get("area_m2", ""),
                "hazard_area_m2": a.get("hazard_area_m2", ""),
                "outside_cambodia_m2": a.get("outside_cambodia_m2", ""),
            }
        )
    notice = next((a["notice"] for a in answers if a.get("notice")), None)
    return with_notice(pd.DataFrame(rows), notice) if notice else pd.DataFrame(rows)


#: Columns of the where table; a site's own column of the same name is kept as site_<name>.
ANSWER_COLUMNS = {
    "site",
    "province",
    "code",
    "inside_cambodia",
    "distance_to_frontier_m",
    "band",
    "nearest_border",
    "nearest_border_m",
    "nearest_border_band",
    "hazards_within_radius",
    "nearest_hazard_id",
    "nearest_hazard_m",
    "area_m2",
    "hazard_area_m2",
    "outside_cambodia_m2",
    "synthetic",
    "data_notice",
}


def cmd_where(args: argparse.Namespace, analysis) -> int:
    import shapely

    from geo.io.writers import csv_text
    from geo.names import parse_distance_m
    from geo.planning.queries import where
    from geo.planning.sites import far_sites, read_sites, where_points

    radius = parse_distance_m(args.radius)
    fmt = answer_format(args, ("table", "json", "csv", "geojson"))
    sites, attrs, notes = read_sites(args)
    # Point sites only need the hazards near them, which an analysis made in chunks reads from its files.
    result, _ = analysis(args, pieces=any(geom.geom_type != "Point" for _, geom in sites))
    far = far_sites(sites, result)
    if far and args.file is None:
        raise GeoInputError(
            f"the site is {far[0][1]:,.0f} km from Cambodia; geo answers for sites in or near it "
            "(check the coordinates: latitude first, then longitude)"
        )
    if far:
        skip = {i for i, _ in far}
        notes += [f"{sites[i][0]}: {km:,.0f} km from Cambodia, skipped" for i, km in far]
        sites = [x for i, x in enumerate(sites) if i not in skip]
        attrs = [x for i, x in enumerate(attrs) if i not in skip]
    for note in notes:
        print(f"geo: note: {note}", file=sys.stderr)
    # Points are answered all at once (geo.planning.sites.where_points), other shapes one by one.
    points = [i for i, (_, g) in enumerate(sites) if g.geom_type == "Point"]
    batch = dict(
        zip(
            points,
            where_points([sites[i][1].y for i in points], [sites[i][1].x for i in points], result, radius_m=radius),
        )
    )
    answers = []
    for i, ((label, geom), own) in enumerate(zip(sites, attrs)):
        ans = batch[i] if i in batch else where(result, geom, radius_m=radius)
        ans["site"] = label if label != "wkt" else ans["site"]
        if own:
            ans["site_attributes"] = own
        answers.append(ans)
    if fmt == "json":
        text = json.dumps(answers[0] if len(answers) == 1 else answers, indent=2, ensure_ascii=False, default=str)
        emit(text, args.out)
    elif fmt == "csv":
        emit(csv_text(_where_rows(answers, attrs)), args.out)
    elif fmt == "geojson":
        feats = [
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {k: v for k, v in a.items() if k != "bands"} | {"bands": a.get("bands")},
            }
            for (_, g), a in zip(sites, answers)
        ]
        emit(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, default=str), args.out)
    else:
        lines = []
        for a in answers:
            lines.append(f"site {a['site']}")
            where_txt = a["province"] + ("" if a["inside_cambodia"] else " (nearest; the site is outside Cambodia)")
            lines.append(f"  province: {where_txt} [{a['code']}]")
            lines.append(f"  distance to the frontier: {a['distance_to_frontier_m']:,.1f} m -> band {a['band']}")
            for b in a.get("borders", [])[:1]:  # the restriction applies along every border: name the nearest
                lines.append(
                    f"  nearest border: {b['neighbor']} at {b['distance_m']:,.1f} m -> band {b['band']} along it"
                )
            if a.get("outside_cambodia_m2"):
                lines.append(
                    f"  outside Cambodia: {a['outside_cambodia_m2'] / 1e4:,.2f} ha of the site, "
                    f"{a['hazard_outside_cambodia_m2'] / 1e4:,.2f} ha of it contaminated"
                )
            if "bands" in a:
                for b in a["bands"]:
                    if b["area_m2"] > 0:
                        lines.append(
                            f"    {b['band']}: {b['area_m2'] / 1e4:,.2f} ha of the site, "
                            f"{b['hazard_area_m2'] / 1e4:,.2f} ha of it contaminated"
                        )
            lines.append(f"  hazards within {a['radius_m']:,.0f} m: {len(a['hazards'])}")
            for h in a["hazards"][:20]:
                lines.append(f"    {h['hazard_id']}: {h['distance_m']:,.1f} m away, {h['area_m2']:,.0f} m2")
            if len(a["hazards"]) > 20:
                lines.append(f"    ... {len(a['hazards']) - 20} more (use --format json)")
        if answers and answers[0].get("notice"):
            lines.append(f"*** {answers[0]['notice']} ***")
        emit("\n".join(lines), args.out)
    return 0


def cmd_query(args: argparse.Namespace, analysis) -> int:
    import pandas as pd

    from geo.io.writers import csv_text
    from geo.names import parse_km
    from geo.planning.queries import query

    fmt = answer_format(args, ("table", "json", "csv"))
    within = parse_km(args.within) if args.within is not None else None
    result, _ = analysis(args, pieces=False)  # made in chunks: the pieces are read back from its zones.gpkg
    ans = query(
        result,
        province=args.province,
        district=args.district,
        band=args.band_filter,
        within_km=within,
        status=args.status,
        type=args.type,
        by=args.by,
    )
    figures = ("hazards", "pieces", "area_km2", "area_sum_km2")
    if fmt == "json":
        emit(json.dumps(ans, indent=2, ensure_ascii=False), args.out)
    elif fmt == "csv":
        rows = ans.get("groups") or [{k: ans[k] for k in figures}]
        table = pd.DataFrame([{**ans["filters"], **r} for r in rows])
        if ans.get("notice"):
            table["data_notice"] = ans["notice"]
        emit(csv_text(table), args.out)
    else:
        what = ", ".join(f"{k} {v}" for k, v in ans["filters"].items()) or "all hazards"
        text = (
            f"{what}: {ans['hazards']:,} hazards ({ans['pieces']:,} pieces), "
            f"{ans['area_km2']:,.3f} km2 of land ({ans['area_sum_km2']:,.3f} km2 summed over polygons)"
        )
        if "groups" in ans:
            fields = [f for f in ans["groups"][0] if f not in figures] if ans["groups"] else []
            table = pd.DataFrame(ans["groups"], columns=[*fields, *figures])
            text += "\n" + table.to_string(index=False, float_format=lambda v: f"{v:,.3f}")
        if ans.get("notice"):
            text += f"\n*** {ans['notice']} ***"
        emit(text, args.out)
    return 0


def cmd_curve(args: argparse.Namespace, analysis) -> int:
    from geo.engine.analysis import distance_curve
    from geo.io.writers import write_csv
    from geo.names import parse_km
    from geo.render.plot import write_curve_plot

    result, _ = analysis(args, pieces=False)  # made in chunks: the land is read back from its zones.gpkg
    curve = distance_curve(result, max_km=parse_km(args.max), step_km=parse_km(args.step), top=args.top)
    out = Path(args.out)
    notice = result.summary.get("notice")
    write_csv(curve.assign(data_notice=notice) if notice else curve, out.with_suffix(".csv"))
    written = write_curve_plot(curve, out.with_suffix(".png"), result.summary)
    print(curve.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    print(f"wrote {out.with_suffix('.csv')}, {written}")
    return 0


def register(sub, add_inputs, run) -> None:
    """Add the planners' verbs to the ``geo`` parser."""
    p = sub.add_parser(
        "where",
        help="site check: province, distance to the frontier, band, hazards nearby",
        description="Check a point, a polygon or a file of sites against the analysis.",
        epilog=WHERE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "site",
        nargs="*",
        metavar="LAT LON",
        help="latitude then longitude (WGS 84): 13.35 102.55, or 13°21'00\"N 102°33'00\"E, or 13 21 N 102 33 E",
    )
    p.add_argument("--wkt", help="a site geometry in WKT (lon/lat unless --site-crs)")
    p.add_argument("--file", help="sites: CSV with lat/lon columns, a vector layer, or postgresql://.../db?table=NAME")
    p.add_argument("--site-crs", help="CRS of --wkt or of a sites layer without one")
    p.add_argument("--site-layer", help="layer of a multi-layer sites file (--layer picks the hazards' layer)")
    p.add_argument("--radius", default="1km", help="list hazards within this distance (default 1km)")
    answer_options(p, ("table", "json", "csv", "geojson"))
    add_inputs(p, positional=False)
    p.set_defaults(func=lambda a: cmd_where(a, run))

    p = sub.add_parser(
        "query",
        help="counts and areas for a province, band, status or type",
        description="Totals for the hazards matching every filter given.",
        epilog=QUERY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--province", help="name, spelling variant or ISO code (KH-1 ...); several with commas")
    p.add_argument(
        "--district",
        action="append",
        help="a district by name, gazetteer code (0109) or 'name, province' where a name is shared; repeat for "
        "several; areas are cut to the district",
    )
    p.add_argument("--band", dest="band_filter", help="band, e.g. 0-2, 5-7 or 'beyond 7'")
    p.add_argument("--within", help="cumulative distance from the frontier, km: 7 means 0-7 km (a band edge)")
    p.add_argument("--by", help="group by province, band, status and/or type, e.g. --by province,band")
    p.add_argument("--status", help="hazard status")
    p.add_argument("--type", help="device or hazard type, e.g. AP or AV")
    answer_options(p, ("table", "json", "csv"))
    add_inputs(p, positional=False)
    p.set_defaults(func=lambda a: cmd_query(a, run))

    p = sub.add_parser(
        "curve",
        help="what if the zone were d km? contaminated area within d of the frontier",
        description="Contaminated area within distance d of the frontier, d = 0 .. max.",
        epilog=CURVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--max", default="15", help="largest distance, km, or with a unit: 15km, 12000m (default 15)")
    p.add_argument("--step", default="0.5", help="step, km, or with a unit: 500m (default 0.5)")
    p.add_argument("--top", type=int, default=5, help="per-province curves for the top N provinces (default 5)")
    p.add_argument("--out", default="curve.csv", help="CSV to write; the PNG plot goes beside it (default curve.csv)")
    add_inputs(p, positional=False)
    p.set_defaults(func=lambda a: cmd_curve(a, run))
