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

from geo._errors import GeoEnvironmentError, GeoInputError
from geo._report import render_table
from geo.constants import AUTO_CHUNK_FEATURES, DEFAULT_BANDS_KM, FRONTIER_TOLERANCE_M

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
    from geo.cli_analyze import _analysis, cmd_analyze, cmd_map, cmd_plot

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
        "a dask.distributed cluster (--scheduler); auto (default): chunked when the file is too large for memory "
        f"or holds more than {AUTO_CHUNK_FEATURES:,} hazards (not for GeoJSON or GML, which are read whole for "
        "every chunk; not with --xlsx or an option that needs the whole layer)",
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


def _internal_error(exc: BaseException, args: argparse.Namespace) -> int:
    """Say what failed in one line (the traceback with ``--verbose``); exit status 1."""
    if getattr(args, "verbose", False):
        traceback.print_exception(exc)
    print(f"geo: internal error: {type(exc).__name__}: {exc} (run with --verbose for details)", file=sys.stderr)
    return 1


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
            return _internal_error(exc, args)
        print(f"geo: error: {env}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geo: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a bare traceback
        return _internal_error(exc, args)
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_parser", "main", "render_table"]
