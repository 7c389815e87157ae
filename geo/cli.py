"""The ``geo`` command line: a thin layer over the Python API.

Exit codes: 0 success, 2 bad input (the message names the file, feature and
problem), 1 internal error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from pathlib import Path

from geo._errors import GeoEnvironmentError, GeoInputError
from geo.constants import DEFAULT_BANDS_KM, FRONTIER_TOLERANCE_M

#: Smallest density raster cell, m: finer cells over Cambodia need billions of cells.
MIN_CELL_M = 10.0

EXAMPLES_ANALYZE = """\
examples:
  geo analyze                                  # bundled SYNTHETIC demo hazards
  geo analyze my_hazards.gpkg --out results    # your own hazards
  geo analyze sha.shp --crs EPSG:32648         # a Shapefile without .prj
  geo analyze sha.gpkg --bands 1,2,5,7,10      # other band edges (km)
  geo analyze sha.gpkg --provinces prov.gpkg --province-field NAME_1 --frontier border.gpkg
"""


class _Progress:
    """Stage messages on stderr, silenced by --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:5.1f}s] {message}", file=sys.stderr, flush=True)


class _LogLines(logging.Handler):
    """The library's notes (the ``geo`` logger) as progress lines; warnings even with --quiet."""

    def __init__(self, quiet: bool):
        super().__init__(logging.WARNING if quiet else logging.INFO)
        self.progress = _Progress(False)

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        self.progress(prefix + record.getMessage())


def _fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def render_table(result) -> str:
    """A plain-text table of the per-province figures and totals."""
    s = result.summary
    bp = result.by_province
    band_cols = [f"band_{k}_km2" for k in result.zones["key"]]
    outside = s.get("outside_cambodia_km2", 0.0) > 0  # shown whenever a hazard reaches beyond the outline
    if outside:
        band_cols.append("outside_cambodia_km2")
    head = ["province", "hazards", "area km2", *[b["band"] for b in s["bands"]]]
    head += ["outside Cambodia"] * outside + ["within 7 km", "share"]
    rows = []
    for _, r in bp[(bp["hazards"] > 0) | (bp["area_km2"] > 0)].sort_values("area_km2", ascending=False).iterrows():
        rows.append(
            [
                r["province"],
                f"{r['hazards']:,}",
                _fmt(r["area_km2"]),
                *[_fmt(r[c]) for c in band_cols],
                _fmt(r["within_7km_km2"]),
                f"{r['share_within_7km']:.0%}",
            ]
        )
    rows.append(
        [
            "TOTAL",
            f"{s['hazards']:,}",
            _fmt(s["area_km2"]),
            *[_fmt(b["area_km2"]) for b in s["bands"]],
            *[_fmt(s["outside_cambodia_km2"])] * outside,
            _fmt(s["within_7km_km2"]),
            f"{s['share_within_7km']:.0%}",
        ]
    )
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]

    def line(cells: list) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[:-1]]
    out += ["  ".join("-" * w for w in widths), line(rows[-1])]
    return "\n".join(out)


def render_sensitivity(entries: list[dict]) -> str:
    """The frontier sensitivity as a short table: each line, within 2 km and within 7 km."""
    central = next(e for e in entries if e["kind"] == "analysed" and e["shift_m"] == 0)
    head = ["frontier line", "within 2 km", "change", "within 7 km", "change"]
    rows = []
    for e in entries:
        if e["kind"] == "analysed" and e["shift_m"] not in (0.0, -500.0, 500.0, -1000.0, 1000.0):
            continue  # the full list is in summary.json
        rows.append(
            [
                e["line"],
                _fmt(e["within_2km_km2"]),
                _change(e["within_2km_km2"], central["within_2km_km2"]),
                _fmt(e["within_7km_km2"]),
                _change(e["within_7km_km2"], central["within_7km_km2"]),
            ]
        )
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    lines = ["Frontier sensitivity (km2; summary.json, frontier_sensitivity, has every line and shift):"]
    for r in [head, *rows]:
        lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def _change(value: float, reference: float) -> str:
    return "" if reference == 0 or value == reference else f"{(value - reference) / reference:+.0%}"


def _input_paths(args: argparse.Namespace) -> list[Path]:
    from geo._data import DEMO_HAZARDS

    hazards = getattr(args, "hazards", None)
    return [Path(p) for p in (hazards or DEMO_HAZARDS, args.provinces, args.frontier) if p]


def _analysis(args: argparse.Namespace, say: _Progress):
    """Read the inputs named on the command line and run the analysis (shared by every verb)."""
    from geo._data import DEMO_HAZARDS
    from geo.analysis import analyze
    from geo.boundaries import load_boundaries
    from geo.hazards import read_hazards
    from geo.queries import parse_distance_m

    tolerance = parse_distance_m(args.frontier_tolerance)
    hazards_path = Path(args.hazards) if args.hazards else DEMO_HAZARDS
    say(f"reading hazards from {hazards_path.name}")
    hazards = read_hazards(hazards_path, layer=args.layer, crs=args.crs, id_field=args.id_field)
    say(f"loading boundaries{' (bundled)' if not (args.provinces or args.frontier) else ''}")
    boundaries = load_boundaries(provinces=args.provinces, frontier=args.frontier, province_field=args.province_field)
    say(f"splitting {len(hazards):,} hazards by province and band {', '.join(f'{b:g}' for b in args.bands)} km")
    # The bundled layer holds three frontiers (Thailand by default); a user's layer is used whole unless asked.
    neighbor = args.neighbor or (None if args.frontier else "THA")
    result = analyze(
        hazards, bands_km=args.bands, neighbor=neighbor, boundaries=boundaries, frontier_tolerance_m=tolerance
    )
    return result, neighbor


def _write_map(result, path: Path, args: argparse.Namespace, say: _Progress) -> Path:
    from geo.webmap import make_map, write_map

    say(f"drawing the map {path.name}")
    return write_map(make_map(result, title=args.title, basemap=args.basemap), path)


def _write_plot(result, path: Path, args: argparse.Namespace, say: _Progress) -> list[Path]:
    from geo.plot import make_plot, write_plot

    say(f"drawing the static map {path.with_suffix('.png').name} and .pdf")
    return write_plot(make_plot(result, title=args.title), path)


def cmd_analyze(args: argparse.Namespace) -> int:
    from geo._outdir import OutputSet
    from geo.export import write_outputs
    from geo.queries import parse_distance_m

    say = _Progress(args.quiet)
    out_dir = Path(args.out)
    cell_m = parse_distance_m(args.cell) if args.raster else None
    if cell_m is not None and cell_m < MIN_CELL_M:
        raise GeoInputError(
            f"--cell {args.cell} is a {cell_m:g} m raster cell: over Cambodia that is billions of cells; "
            f"give at least {MIN_CELL_M:g} m, e.g. --cell 100m or --cell 1km"
        )
    inputs = _input_paths(args)
    size = sum(p.stat().st_size for p in inputs if p.is_file())
    # Checked and locked before any work: a busy, read-only, full or unsafe --out stops the run at once.
    with OutputSet(out_dir, inputs, force=args.force, input_bytes=size) as target:
        result, neighbor = _analysis(args, say)
        say(f"writing outputs to {out_dir}")
        write_outputs(result, target.path, xlsx=args.xlsx, kml=args.kml)
        if args.map:
            _write_map(result, target.path / "map.html", args, say)
        if args.png:
            _write_plot(result, target.path / "map.png", args, say)
        if cell_m is not None:
            from geo.raster import write_density

            say("writing the density raster density.tif")
            write_density(result, target.path / "density.tif", cell_m)
        written = target.commit()
    s = result.summary
    if s.get("notice"):
        print(f"*** {s['notice']} ***")
    who = f"the frontier with {', '.join(s['neighbors']) or neighbor}" if neighbor else Path(args.frontier).name
    outside_any = s["outside_cambodia_km2"] > 0
    if not args.quiet:  # -q: the headline figures only
        print(f"Contamination by distance from {who} (areas in km2, overlaps counted once)")
        print(render_table(result))
    print(
        f"within 2 km (military only): {_fmt(s['within_2km_km2'])} km2; "
        f"within 7 km (restricted zone): {_fmt(s['within_7km_km2'])} km2 "
        f"({s['share_within_7km']:.1%} of the {_fmt(s['inside_cambodia_km2'])} km2 in Cambodia"
        + (f"; {_fmt(s['outside_cambodia_km2'])} km2 more lie outside it)" if outside_any else ")")
    )
    ref = s.get("reference_table1")
    if ref and (s.get("synthetic") or args.verbose):  # the demo is calibrated to Table 1; others only when asked
        same = [r for r in ref if r["table1_shas"] == r["input_hazards"] and abs(r["difference_m2"]) < 0.5]
        print(
            f"Table 1 (Mine Action Review 2024, end 2023) check: {len(same)} of {len(ref)} provinces match in count "
            "and area" + ("" if len(same) == len(ref) else " - differences in summary.json, reference_table1")
        )
    u = s.get("uncertainty")
    if u and u["tolerance_m"] > 0:
        r2, r7 = u["within_2km_km2"], u["within_7km_km2"]
        print(
            f"frontier tolerance ±{u['tolerance_m']:g} m: within 2 km {_fmt(r2['low'])}-{_fmt(r2['high'])} km2, "
            f"within 7 km {_fmt(r7['low'])}-{_fmt(r7['high'])} km2"
        )
    for row in s.get("by_neighbor", []):
        print(
            f"  frontier with {row['neighbor']} alone: within 2 km {_fmt(row['within_2km_km2'])} km2, "
            f"within 7 km {_fmt(row['within_7km_km2'])} km2"
        )
    if not args.quiet and s.get("frontier_sensitivity"):
        print(render_sensitivity(s["frontier_sensitivity"]))
    _print_checks(result.validation, args.verbose)
    print("wrote " + ", ".join(p.name for p in written) + f" in {out_dir}")
    say("done")
    return 0


def _print_checks(v: dict, verbose: bool = False) -> None:
    labels = (
        ("repaired", "geometries repaired"),
        ("dropped_empty", "empty geometries dropped"),
        ("non_polygon_dropped", "non-polygon parts dropped"),
        ("duplicate_ids", "duplicate ids"),
        ("outside_cambodia", "hazards reaching outside Cambodia"),
        ("area_mismatch", "recorded areas off by >10%"),
        ("province_mismatch", "recorded provinces differing from the map"),
        ("reader_warnings", "warnings from the file reader (values may have been altered)"),
        ("swapped_lat_lon_suspected", "hazards that look like lat/lon swapped"),
        ("ids_numbered", "hazards without a recognised id column, numbered row-N (name it with --id-field)"),
    )
    notes = [f"{v[k]['count']} {label}" for k, label in labels if v.get(k, {}).get("count")]
    if notes:
        print("checks: " + "; ".join(notes) + " - see validation.json")
    if verbose:
        for k, label in labels:
            entry = v.get(k) or {}
            shown = entry.get("ids") or entry.get("messages") or [i.get("hazard_id") for i in entry.get("items", [])]
            if entry.get("count"):
                more = f" (+{len(shown) - 10} more)" if len(shown) > 10 else ""
                print(f"  {label}: {', '.join(map(str, shown[:10]))}{more}", file=sys.stderr)
        for note in v.get("notes", []):
            print(f"  note: {note}", file=sys.stderr)


def cmd_map(args: argparse.Namespace) -> int:
    from geo._outdir import check_out_file

    say = _Progress(args.quiet)
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise GeoInputError("the map is an HTML file; give --out a name ending in .html", str(out))
    check_out_file(out, _input_paths(args))
    result, _ = _analysis(args, say)
    _write_map(result, out, args, say)
    if result.summary.get("notice"):
        print(f"*** {result.summary['notice']} ***")
    print(f"wrote {out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from geo._outdir import check_out_file

    say = _Progress(args.quiet)
    out = Path(args.out)
    for path in (out.with_suffix(".png"), out.with_suffix(".pdf")):
        check_out_file(path, _input_paths(args))
    result, _ = _analysis(args, say)
    written = _write_plot(result, out, args, say)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _add_inputs(p: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        p.add_argument(
            "hazards", nargs="?", metavar="HAZARDS", help="hazard polygons (default: bundled SYNTHETIC demo)"
        )
    else:
        p.add_argument("--hazards", help="hazard polygons (default: bundled SYNTHETIC demo)")
    p.add_argument("--layer", help="layer of a multi-layer file")
    p.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:32648")
    p.add_argument("--id-field", help="column holding hazard ids (guessed otherwise)")
    p.add_argument("--provinces", help="province polygon layer replacing the bundled one")
    p.add_argument("--province-field", default="province", help="name column of --provinces (default: province)")
    p.add_argument("--frontier", help="frontier line layer replacing the bundled one")
    p.add_argument(
        "--neighbor",
        help="frontier(s) to measure from: THA (default), LAO, VNM, a list (THA,LAO) or all; with --frontier, "
        "picks lines by the layer's 'neighbor' column",
    )
    p.add_argument(
        "--bands", default=",".join(f"{b:g}" for b in DEFAULT_BANDS_KM), help="band edges in km (default: 2,5,7)"
    )
    p.add_argument(
        "--frontier-tolerance",
        default=f"{FRONTIER_TOLERANCE_M:g}m",
        help=f"positional uncertainty of the frontier, e.g. 250m; zone figures get low/central/high ranges "
        f"(default {FRONTIER_TOLERANCE_M:g}m: the median distance between two independent mappings "
        "of the Thai frontier)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.add_argument("-v", "--verbose", action="store_true", help="tracebacks on internal errors")


def _add_map_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--title", help="map title")
    p.add_argument(
        "--basemap",
        default="none",
        choices=("none", "osm", "positron"),
        help="tile basemap (default: none, readable offline)",
    )


def build_parser() -> argparse.ArgumentParser:
    from geo.summary import geo_version

    parser = argparse.ArgumentParser(prog="geo", description="Mine-action GIS for Cambodia's border zones.")
    parser.add_argument("--version", action="version", version=f"geo {geo_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "analyze",
        help="how much contamination lies in each border band, per province",
        description="Split hazards by province and distance band from a frontier; write tables and layers.",
        epilog=EXAMPLES_ANALYZE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_inputs(p)
    p.add_argument("--out", default="geo-output", help="output directory (default: ./geo-output)")
    p.add_argument(
        "--xlsx",
        action="store_true",
        help="also write tables.xlsx (sheets summary, bands, by_province, by_hazard, reference_table1)",
    )
    p.add_argument(
        "--kml", action="store_true", help="also write zones.kml (bands, frontier, hazard pieces) for Google Earth"
    )
    p.add_argument("--map", action="store_true", help="also write map.html (interactive, opens offline)")
    p.add_argument("--png", action="store_true", help="also write map.png and map.pdf (static, for reports)")
    p.add_argument("--raster", action="store_true", help="also write density.tif: contaminated m2 per grid cell")
    p.add_argument("--cell", default="1km", help="cell size of density.tif (default 1km, equal-area grid)")
    _add_map_options(p)
    p.add_argument("--force", action="store_true", help="write into a non-empty directory geo did not create")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser(
        "map",
        help="an interactive HTML map that opens offline",
        description="Analyse, then write one self-contained HTML map (no network needed to open it).",
        epilog="examples:\n  geo map --out border_zones.html\n"
        "  geo map sha.gpkg --title 'Banteay Meanchey SHAs' --basemap osm",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_inputs(p)
    p.add_argument("--out", default="map.html", help="HTML file to write (default: ./map.html)")
    _add_map_options(p)
    p.set_defaults(func=cmd_map)

    p = sub.add_parser(
        "plot",
        help="a print-quality static map (PNG and PDF)",
        description="Analyse, then write a static map for reports: PNG (200 dpi) and PDF.",
        epilog="example:\n  geo plot --out border_zones.png   # writes border_zones.png and border_zones.pdf",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_inputs(p)
    p.add_argument("--out", default="map.png", help="PNG file to write; the PDF goes beside it (default: ./map.png)")
    p.add_argument("--title", help="map title")
    p.set_defaults(func=cmd_plot)

    from geo.cli_queries import register

    register(sub, _add_inputs, lambda a: _analysis(a, _Progress(True)))
    return parser


def _console_safe() -> None:
    """Printing never fails on the console's encoding (a C locale cannot show ± or Khmer): replace instead."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass


def _check_options(args: argparse.Namespace) -> None:
    """Option values a user can mistype, checked before any work."""
    for name in ("crs", "site_crs"):
        value = getattr(args, name, None)
        if value is None:
            continue
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(value)
        except CRSError:
            flag = "--" + name.replace("_", "-")
            raise GeoInputError(
                f"{flag} {value} is not a coordinate reference system geo knows; give an EPSG code, e.g. "
                "EPSG:32648 (WGS 84 / UTM 48N), EPSG:3148 (Indian 1960 / UTM 48N) or EPSG:4326 (lat/lon)"
            ) from None


def main(argv: list[str] | None = None) -> int:
    _console_safe()
    parser = build_parser()
    args = parser.parse_args(argv)
    logger = logging.getLogger("geo")
    handler = _LogLines(getattr(args, "quiet", False))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        from geo.zones import parse_bands

        if hasattr(args, "bands"):
            args.bands = parse_bands(args.bands)
        _check_options(args)
        return args.func(args)
    except (GeoInputError, GeoEnvironmentError) as exc:
        print(f"geo: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        from geo._outdir import environment_error

        env = environment_error(exc, exc.filename or "output")
        if env is None:
            raise
        print(f"geo: error: {env}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geo: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a bare traceback
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"geo: internal error: {type(exc).__name__}: {exc} (run with --verbose for details)", file=sys.stderr)
        return 1
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
