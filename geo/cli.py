"""The ``geo`` command line: a thin layer over the Python API.

Exit codes: 0 success, 2 bad input (the message names the file, feature and
problem), 1 internal error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from geo._errors import GeoEnvironmentError, GeoInputError
from geo._report import fmt_number, print_checks, render_sensitivity, render_table
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


def _input_paths(args: argparse.Namespace) -> list[Path]:
    from geo._data import DEMO_HAZARDS
    from geo.db import is_db_url

    hazards = getattr(args, "hazards", None)
    return [Path(p) for p in (hazards or DEMO_HAZARDS, args.provinces, args.frontier) if p and not is_db_url(p)]


def _analysis(args: argparse.Namespace, say: _Progress):
    """Read the inputs named on the command line and run the analysis (shared by every verb)."""
    from geo._data import DEMO_HAZARDS
    from geo._text import parse_distance_m
    from geo.analysis import analyze
    from geo.boundaries import load_boundaries
    from geo.hazards import read_hazards

    tolerance = parse_distance_m(args.frontier_tolerance)
    from geo.db import is_db_url, read_postgis_hazards, redact

    if is_db_url(args.hazards):
        say(f"reading hazards from {redact(args.hazards)}")
        hazards = read_postgis_hazards(
            args.hazards, table=args.table, sql=args.sql, crs=args.crs, id_field=args.id_field
        )
    else:
        hazards_path = Path(args.hazards) if args.hazards else DEMO_HAZARDS
        say(f"reading hazards from {hazards_path.name}")
        hazards = read_hazards(hazards_path, layer=args.layer, crs=args.crs, id_field=args.id_field)
    say(f"loading boundaries{' (bundled)' if not (args.provinces or args.frontier) else ''}")
    boundaries = load_boundaries(provinces=args.provinces, frontier=args.frontier, province_field=args.province_field)
    aoi = None
    if getattr(args, "aoi", None):
        from geo.aoi import clip_hazards, parse_aoi

        aoi = parse_aoi(args.aoi, boundaries)
        hazards = clip_hazards(hazards, aoi)
        say(f"area of interest {aoi.label}: {len(hazards):,} hazards reach into it")
        args.aoi_bounds = aoi.bounds
    # The bundled layer holds three frontiers (Thailand by default); a user's layer is used whole unless asked.
    neighbor = args.neighbor or (None if args.frontier else "THA")
    result = analyze(
        hazards, bands_km=args.bands, neighbor=neighbor, boundaries=boundaries, frontier_tolerance_m=tolerance
    )
    if aoi is not None:
        from geo.aoi import scope_result

        result = scope_result(result, aoi)
    return result, neighbor


def _write_map(result, path: Path, args: argparse.Namespace, say: _Progress) -> Path:
    from geo.webmap import make_map, write_map

    say(f"drawing the map {path.name}")
    return write_map(make_map(result, title=args.title, basemap=args.basemap, bounds=_extent(result, args)), path)


def _extent(result, args: argparse.Namespace) -> tuple[float, float, float, float] | None:
    """What the maps open on: the area of interest, else the user's data (the whole country for the demo)."""
    from geo.aoi import data_bounds

    if getattr(args, "aoi_bounds", None):
        return args.aoi_bounds
    if not getattr(args, "hazards", None):
        return None
    return data_bounds(result)


def _write_plot(result, path: Path, args: argparse.Namespace, say: _Progress) -> list[Path]:
    from geo.plot import make_plot, write_plot

    if getattr(args, "pages", "map") == "provinces":
        from geo.plot import write_atlas

        say(f"drawing the atlas {path.name}: the country, then each border province")
        return [write_atlas(result, path, title=args.title, lang=getattr(args, "lang", "en"))]
    also_pdf = path.suffix.lower() == ".png"
    say(f"drawing the static map {path.name}" + (" and .pdf" if also_pdf else ""))
    fig = make_plot(result, title=args.title, lang=getattr(args, "lang", "en"), bounds=_extent(result, args))
    return write_plot(fig, path, also_pdf=also_pdf)


def cmd_analyze(args: argparse.Namespace) -> int:
    from geo._outdir import OutputSet
    from geo._text import parse_distance_m
    from geo.export import write_outputs

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
    chunked = _use_chunks(args)
    # Checked and locked before any work: a busy, read-only, full or unsafe --out stops the run at once.
    with OutputSet(out_dir, inputs, force=args.force, input_bytes=size) as target:
        if chunked:
            result, neighbor = _chunked_analysis(args, say, target.path)
        else:
            result, neighbor = _analysis(args, say)
            say(f"writing outputs to {out_dir}")
            write_outputs(result, target.path, xlsx=args.xlsx, kml=args.kml, gdb=args.gdb)
        if args.map:
            _write_map(result, target.path / "map.html", args, say)
        if args.png:
            _write_plot(result, target.path / "map.png", args, say)
        if cell_m is not None:
            from geo.raster import write_density

            say("writing the density raster density.tif")
            write_density(result, target.path / "density.tif", cell_m)
        if args.to_postgis:  # before the files are switched in: a failed database write keeps both as they were
            from geo.db import redact, write_postgis

            say(f"writing tables to {redact(args.to_postgis)}, schema {args.schema}, run {args.run_name}")
            stored = write_postgis(result, args.to_postgis, schema=args.schema, run_name=args.run_name)
        written = target.commit()
    s = result.summary
    if s.get("notice"):
        print(f"*** {s['notice']} ***")
    from geo.boundaries import _label

    who = f"the frontier with {', '.join(s['neighbors']) or neighbor}" if neighbor else _label(args.frontier)
    outside_any = s["outside_cambodia_km2"] > 0
    if not args.quiet:  # -q: the headline figures only
        print(f"Contamination by distance from {who} (areas in km2, overlaps counted once)")
        print(render_table(result))
    print(
        f"within 2 km (military only): {fmt_number(s['within_2km_km2'])} km2; "
        f"within 7 km (restricted zone): {fmt_number(s['within_7km_km2'])} km2 "
        f"({s['share_within_7km']:.1%} of the {fmt_number(s['inside_cambodia_km2'])} km2 in Cambodia"
        + (f"; {fmt_number(s['outside_cambodia_km2'])} km2 more lie outside it)" if outside_any else ")")
    )
    ref = s.get("reference_table1")
    if (
        ref and not s.get("aoi") and (s.get("synthetic") or args.verbose)
    ):  # the demo is calibrated to Table 1; others only when asked
        same = [r for r in ref if r["table1_shas"] == r["input_hazards"] and abs(r["difference_m2"]) < 0.5]
        print(
            f"Table 1 (Mine Action Review 2024, end 2023) check: {len(same)} of {len(ref)} provinces match in count "
            "and area" + ("" if len(same) == len(ref) else " - differences in summary.json, reference_table1")
        )
    u = s.get("uncertainty")
    if u and u["tolerance_m"] > 0:
        r2, r7 = u["within_2km_km2"], u["within_7km_km2"]
        print(
            f"frontier tolerance ±{u['tolerance_m']:g} m: "
            f"within 2 km {fmt_number(r2['low'])}-{fmt_number(r2['high'])} km2, "
            f"within 7 km {fmt_number(r7['low'])}-{fmt_number(r7['high'])} km2"
        )
    for row in s.get("by_neighbor", []):
        print(
            f"  frontier with {row['neighbor']} alone: within 2 km {fmt_number(row['within_2km_km2'])} km2, "
            f"within 7 km {fmt_number(row['within_7km_km2'])} km2"
        )
    if not args.quiet and s.get("frontier_sensitivity"):
        print(render_sensitivity(s["frontier_sensitivity"]))
    print_checks(result.validation, args.verbose)
    print("wrote " + ", ".join(p.name for p in written) + f" in {out_dir}")
    if args.to_postgis:
        print(f"wrote tables {', '.join(stored['tables'])} and {args.schema}.runs in {stored['database']}")
    say("done")
    return 0


#: Options of ``geo analyze`` the chunked engine does not write (they need every piece's geometry at once).
WHOLE_LAYER_OPTIONS = ("map", "png", "raster", "kml", "gdb", "to_postgis", "aoi")


def _use_chunks(args: argparse.Namespace) -> bool:
    """Whether ``geo analyze`` runs in chunks: asked for, or (``--engine auto``) a file too large for memory."""
    from geo.chunked import CHUNKED_SUFFIXES
    from geo.db import is_db_url

    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise GeoInputError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    if args.workers is not None and args.workers < 1:
        raise GeoInputError(f"--workers must be at least 1, got {args.workers}")
    if args.scheduler and args.engine != "dask":
        raise GeoInputError("--scheduler goes with --engine dask")
    if args.engine == "memory":
        return False
    chunkable = bool(args.hazards) and not is_db_url(args.hazards)
    chunkable = chunkable and Path(args.hazards).suffix.lower() in CHUNKED_SUFFIXES and Path(args.hazards).exists()
    if args.engine == "auto":
        if not chunkable or any(getattr(args, o, None) for o in WHOLE_LAYER_OPTIONS):
            return False
        from geo._validate import check_memory

        try:
            check_memory(Path(args.hazards))
        except GeoInputError:
            return True
        return False
    if not args.hazards or is_db_url(args.hazards):
        raise GeoInputError(f"--engine {args.engine} reads a hazard file (GeoPackage, Shapefile, FlatGeobuf ...)")
    used = [o for o in WHOLE_LAYER_OPTIONS if getattr(args, o, None)]
    if used:
        flags = ", ".join("--" + o.replace("_", "-") for o in used)
        raise GeoInputError(
            f"--engine {args.engine} writes the tables, zones.gpkg, hazard_pieces.parquet and --xlsx; "
            f"{flags} need the whole layer in "
            "memory: run them on a part of it (e.g. --aoi with --engine memory), or on the chunked run's zones.gpkg"
        )
    return True


def _chunked_analysis(args: argparse.Namespace, say: _Progress, out: Path):
    """``geo analyze --engine chunked``: the analysis and its files, written chunk by chunk into ``out``."""
    from geo._text import parse_distance_m
    from geo.boundaries import load_boundaries
    from geo.chunked import CHUNK_ROWS, analyze_in_chunks
    from geo.export import PieceWriter, write_outputs

    rows = args.chunk_rows or CHUNK_ROWS
    engine = "dask" if args.engine == "dask" else "chunked"
    say(f"reading hazards from {Path(args.hazards).name} in chunks of at most {rows:,} rows ({engine} engine)")
    boundaries = load_boundaries(provinces=args.provinces, frontier=args.frontier, province_field=args.province_field)
    neighbor = args.neighbor or (None if args.frontier else "THA")
    writer = PieceWriter(out)
    try:
        result = analyze_in_chunks(
            args.hazards,
            writer,
            layer=args.layer,
            crs=args.crs,
            id_field=args.id_field,
            boundaries=boundaries,
            bands_km=args.bands,
            neighbor=neighbor,
            frontier_tolerance_m=parse_distance_m(args.frontier_tolerance),
            chunk_rows=rows,
            workers=args.workers or min(os.cpu_count() or 1, 2),
            scheduler=(args.scheduler or "local") if args.engine == "dask" else None,
        )
        say(f"writing outputs to {args.out}")
        write_outputs(result, out, xlsx=args.xlsx, pieces=writer)
    finally:
        writer.discard()
    return result, neighbor


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
    if args.pages == "provinces" and out.suffix.lower() != ".pdf":
        raise GeoInputError(f"--pages provinces writes a multi-page PDF: give --out {out.with_suffix('.pdf').name}")
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise GeoInputError(f"--out {args.out}: a static map is written as .png (with a .pdf beside it), .pdf or .svg")
    for path in (out, out.with_suffix(".pdf")) if out.suffix.lower() == ".png" else (out,):
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
    p.add_argument("--layer", help="layer of a multi-layer file or File Geodatabase")
    p.add_argument("--table", help="with a postgresql:// HAZARDS: the table (or schema.table) to read")
    p.add_argument("--sql", help="with a postgresql:// HAZARDS: a query to read instead (read-only)")
    p.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:32648")
    p.add_argument("--id-field", help="column holding hazard ids (guessed otherwise)")
    _add_boundary_options(p)
    p.add_argument(
        "--frontier-tolerance",
        default=f"{FRONTIER_TOLERANCE_M:g}m",
        help=f"positional uncertainty of the frontier, e.g. 250m; zone figures get low/central/high ranges "
        f"(default {FRONTIER_TOLERANCE_M:g}m: the median distance between two independent mappings "
        "of the Thai frontier)",
    )
    p.add_argument(
        "--aoi",
        help="area of interest: a province (name or code), a box west,south,east,north in degrees, or a polygon "
        "file; hazards are clipped to it and the maps open on it",
    )
    _add_verbosity(p)


def _add_boundary_options(p: argparse.ArgumentParser) -> None:
    """The boundaries and bands of an analysis (every verb that analyses takes them)."""
    p.add_argument(
        "--provinces",
        help="province polygon layer replacing the bundled one (a file, or postgresql://.../db?table=NAME)",
    )
    p.add_argument("--province-field", default="province", help="name column of --provinces (default: province)")
    p.add_argument(
        "--frontier", help="frontier line layer replacing the bundled one (a file, or postgresql://.../db?table=NAME)"
    )
    p.add_argument(
        "--neighbor",
        help="frontier(s) to measure from: THA (default), LAO, VNM, a list (THA,LAO) or all; with --frontier, "
        "picks lines by the layer's 'neighbor' column",
    )
    p.add_argument(
        "--bands", default=",".join(f"{b:g}" for b in DEFAULT_BANDS_KM), help="band edges in km (default: 2,5,7)"
    )


def _add_verbosity(p: argparse.ArgumentParser) -> None:
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
    from geo._version import geo_version

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
    p.add_argument(
        "--gdb", action="store_true", help="also write zones.gdb, an Esri File Geodatabase (same layers as zones.gpkg)"
    )
    p.add_argument("--to-postgis", metavar="URL", help="also write the tables to PostGIS (postgresql://user@host/db)")
    p.add_argument("--schema", default="geo_results", help="schema of --to-postgis (default: geo_results)")
    p.add_argument("--run-name", default="latest", help="prefix of this run's tables in --schema (default: latest)")
    p.add_argument("--map", action="store_true", help="also write map.html (interactive, opens offline)")
    p.add_argument("--png", action="store_true", help="also write map.png and map.pdf (static, for reports)")
    p.add_argument("--raster", action="store_true", help="also write density.tif: contaminated m2 per grid cell")
    p.add_argument("--cell", default="1km", help="cell size of density.tif (default 1km, equal-area grid)")
    _add_map_options(p)
    p.add_argument(
        "--engine",
        default="auto",
        choices=("auto", "memory", "chunked", "dask"),
        help="memory: the whole layer in memory; chunked: read, split and written in chunks of rows, for layers "
        "larger than memory (tables, zones.gpkg, hazard_pieces.parquet and --xlsx); dask: the chunks analysed on "
        "a dask.distributed cluster (--scheduler); auto (default): chunked when the file is too large for memory",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: the dask scheduler, e.g. tcp://10.0.0.5:8786 (its workers need geo installed and "
        "the hazard file at the same path); default: a local cluster of --workers processes",
    )
    p.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="most hazards per chunk of --engine chunked or dask (default 150000; evened out over the workers)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes analysing chunks side by side with --engine chunked (default: the machine's cores, at most 2)",
    )
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
    p.add_argument(
        "--out",
        default="map.png",
        help="file to write, format by extension: .png (200 dpi, with a .pdf beside it), .pdf or .svg "
        "(default: ./map.png)",
    )
    p.add_argument("--title", help="map title")
    p.add_argument("--lang", default="en", choices=("en", "km"), help="language of the province labels")
    p.add_argument(
        "--pages",
        default="map",
        choices=("map", "provinces"),
        help="map: one page (default); provinces: a PDF atlas, the country then each province with "
        "contamination within 7 km",
    )
    p.set_defaults(func=cmd_plot)

    from geo.cli_queries import register

    register(sub, _add_inputs, lambda a: _analysis(a, _Progress(True)))
    from geo.cli_release import register as register_release

    register_release(sub, _add_inputs, lambda a: _analysis(a, _Progress(a.quiet)))
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
