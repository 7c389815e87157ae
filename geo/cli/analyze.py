"""The commands that run an analysis: ``geo analyze`` (tables, layers and, on request, maps, rasters and
database tables), ``geo map`` and ``geo plot``; registered by :mod:`geo.cli`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from geo.cli.common import (
    Progress,
    add_inputs,
    add_map_options,
    analysis_key,
    fmt_number,
    print_checks,
    render_sensitivity,
    render_table,
    run_analysis,
)
from geo.constants import AUTO_CHUNK_FEATURES
from geo.errors import GeoInputError

EXAMPLES_ANALYZE = """\
examples:
  geo analyze                                  # bundled SYNTHETIC demo hazards
  geo analyze my_hazards.gpkg --out results    # your own hazards
  geo analyze sha.shp --crs EPSG:32648         # a Shapefile without .prj
  geo analyze sha.gpkg --bands 1,2,5,7,10      # other band edges (km)
  geo analyze sha.gpkg --provinces prov.gpkg --province-field NAME_1 --frontier border.gpkg
"""

#: Smallest density raster cell, m: finer cells over Cambodia need billions of cells.
MIN_CELL_M = 10.0


def _input_paths(args: argparse.Namespace) -> list[Path]:
    from geo.io.data import DEMO_HAZARDS
    from geo.io.db import is_db_url

    hazards = getattr(args, "hazards", None)
    return [Path(p) for p in (hazards or DEMO_HAZARDS, args.provinces, args.frontier) if p and not is_db_url(p)]


def _write_map(result, path: Path, args: argparse.Namespace, say: Progress) -> Path:
    from geo.render.webmap import make_map, write_map

    say(f"drawing the map {path.name}")
    written = write_map(make_map(result, title=args.title, basemap=args.basemap, bounds=_extent(result, args)), path)
    say(f"the map {path.name} is {written.stat().st_size / 1e6:.1f} MB (one file: it opens offline)")
    return written


def _extent(result, args: argparse.Namespace) -> tuple[float, float, float, float] | None:
    """What the maps open on: the area of interest, else the user's data (the whole country for the demo)."""
    from geo.engine.aoi import data_bounds

    if getattr(args, "aoi_bounds", None):
        return args.aoi_bounds
    if not getattr(args, "hazards", None):
        return None
    return data_bounds(result)


def _write_plot(result, path: Path, args: argparse.Namespace, say: Progress) -> list[Path]:
    from geo.render.plot import make_plot, write_plot

    if getattr(args, "pages", "map") == "provinces":
        from geo.render.plot import write_atlas

        say(f"drawing the atlas {path.name}: the country, then each border province")
        return [write_atlas(result, path, title=args.title, lang=getattr(args, "lang", "en"))]
    also_pdf = path.suffix.lower() == ".png"
    say(f"drawing the static map {path.name}" + (" and .pdf" if also_pdf else ""))
    fig = make_plot(result, title=args.title, lang=getattr(args, "lang", "en"), bounds=_extent(result, args))
    return write_plot(fig, path, also_pdf=also_pdf)


def cmd_analyze(args: argparse.Namespace) -> int:
    from geo.io.outdir import OutputSet
    from geo.io.writers import piece_formats
    from geo.names import parse_distance_m
    from geo.render.export import write_outputs

    say = Progress(args.quiet)
    out_dir = Path(args.out)
    pieces = piece_formats(args.pieces)  # a wrong value stops the run before any work
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
            result, neighbor = run_analysis(args, say)
            say(f"writing outputs to {out_dir}")
            write_outputs(result, target.path, xlsx=args.xlsx, kml=args.kml, gdb=args.gdb, piece_files=pieces)
        if args.map:
            _write_map(result, target.path / "map.html", args, say)
        if args.png:
            _write_plot(result, target.path / "map.png", args, say)
        if cell_m is not None:
            from geo.render.raster import write_density

            say("writing the density raster density.tif")
            write_density(result, target.path / "density.tif", cell_m)
        if args.to_postgis:  # before the files are switched in: a failed database write keeps both as they were
            from geo.io.db import redact, write_postgis
            from geo.render.export import postgis_layers

            say(f"writing tables to {redact(args.to_postgis)}, schema {args.schema}, run {args.run_name}")
            stored = write_postgis(
                postgis_layers(result),
                result.summary.to_dict(),
                args.to_postgis,
                schema=args.schema,
                run_name=args.run_name,
            )
        written = target.commit()
    # Kept for the questions that follow (geo where/query --from DIR, or the same inputs); a chunked
    # analysis without its pieces, which site checks read from the zones.gpkg just written.
    from geo.engine.saved import link_output, remember

    key = analysis_key(args)
    if key is not None:
        remember(key, result, out_dir if chunked else None)
        link_output(out_dir, key)
    s = result.summary
    if s.get("notice"):
        print(f"*** {s['notice']} ***")
    from geo.engine.boundaries import _label

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
    away = [p for p in s.get("outside_places", []) if p["hazards"]]
    if away:
        print(
            f"{sum(p['hazards'] for p in away):,} hazards lie mostly outside Cambodia, counted in no province: "
            + ", ".join(f"{p['hazards']:,} in {p['lies_in']}" for p in away)
            + " (by_hazard.csv: lies_in)"
        )
    every = s.get("all_borders")
    if every and neighbor and every["neighbors"] != s["neighbors"]:  # the restriction applies along every border
        print(
            f"from every land border ({', '.join(every['neighbors'])}): "
            f"within 2 km {fmt_number(every['within_2km_km2'])} km2; "
            f"within 7 km {fmt_number(every['within_7km_km2'])} km2 ({every['share_within_7km']:.1%})"
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
    eb = s.get("error_budget")
    if eb:
        e2, e7 = eb["within_2km_km2"], eb["within_7km_km2"]
        print(
            f"error budget (90 %, {eb['draws']} draws of the frontier, province edges and hazard positions): "
            f"within 2 km {fmt_number(e2['p05'])}-{fmt_number(e2['p95'])} km2 (median {fmt_number(e2['p50'])}), "
            f"within 7 km {fmt_number(e7['p05'])}-{fmt_number(e7['p95'])} km2 (median {fmt_number(e7['p50'])})"
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


#: Files smaller than this, bytes, are not opened to count their features (they hold far fewer).
AUTO_CHUNK_MIN_BYTES = 10_000_000


def _many_features(path: Path, layer: str | None) -> bool:
    """Whether a hazard file holds more than :data:`AUTO_CHUNK_FEATURES` features (a file that cannot
    be opened is left to the reader, which says what is wrong with it)."""
    from geo.engine.chunked import layer_info
    from geo.io.validate import input_bytes

    if input_bytes(path) < AUTO_CHUNK_MIN_BYTES:
        return False
    try:
        return int(layer_info(path, layer).get("features") or 0) > AUTO_CHUNK_FEATURES
    except GeoInputError:
        return False


def _use_chunks(args: argparse.Namespace) -> bool:
    """Whether ``geo analyze`` runs in chunks: asked for, or (``--engine auto``) a file too large for
    memory or with more than :data:`AUTO_CHUNK_FEATURES` hazards in a format read by feature id
    (not GeoJSON, GML or MIF, which GDAL reads from their start on every access)."""
    from geo.engine.chunked import CHUNKED_SUFFIXES, SEQUENTIAL_SUFFIXES
    from geo.io.db import is_db_url

    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise GeoInputError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    if args.workers is not None and args.workers < 1:
        raise GeoInputError(f"--workers must be at least 1, got {args.workers}")
    if args.scheduler and args.engine != "dask":
        raise GeoInputError("--scheduler goes with --engine dask")
    if args.engine == "dask" and args.scheduler:
        from geo.engine.chunked import SchedulerTrust, check_scheduler

        trust = SchedulerTrust(args.trust_scheduler, args.tls_ca, args.tls_cert, args.tls_key)
        check_scheduler(args.scheduler, trust)  # before the input is even looked at
    if args.engine == "memory":
        return False
    chunkable = bool(args.hazards) and not is_db_url(args.hazards)
    chunkable = chunkable and Path(args.hazards).suffix.lower() in CHUNKED_SUFFIXES and Path(args.hazards).exists()
    if args.engine == "auto":
        if not chunkable or any(getattr(args, o, None) for o in WHOLE_LAYER_OPTIONS):
            return False
        from geo.io.validate import check_memory

        try:
            check_memory(Path(args.hazards))
        except GeoInputError:
            return True
        # --xlsx in memory keeps its by_hazard sheet, which the chunked engine leaves out; a GeoJSON or
        # GML file that fits in memory is read there once (in chunks it is read whole for every chunk).
        sequential = Path(args.hazards).suffix.lower() in SEQUENTIAL_SUFFIXES
        return not args.xlsx and not sequential and _many_features(Path(args.hazards), args.layer)
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


def _chunked_analysis(args: argparse.Namespace, say: Progress, out: Path):
    """``geo analyze --engine chunked``: the analysis and its files, written chunk by chunk into ``out``."""
    from geo.engine.boundaries import load_boundaries
    from geo.engine.chunked import CHUNK_ROWS, SchedulerTrust, analyze_in_chunks
    from geo.io.writers import PieceWriter, piece_formats
    from geo.names import parse_distance_m
    from geo.render.export import write_outputs

    rows = args.chunk_rows or CHUNK_ROWS
    engine = "dask" if args.engine == "dask" else "chunked"
    say(f"reading hazards from {Path(args.hazards).name} in chunks of at most {rows:,} rows ({engine} engine)")
    boundaries = load_boundaries(provinces=args.provinces, frontier=args.frontier, province_field=args.province_field)
    neighbor = args.neighbor or (None if args.frontier else "THA")
    writer = PieceWriter(out, formats=piece_formats(args.pieces))
    try:
        result = analyze_in_chunks(
            args.hazards,
            writer,
            layer=args.layer,
            crs=args.crs,
            id_field=args.id_field,
            encoding=args.encoding,
            boundaries=boundaries,
            bands_km=args.bands,
            neighbor=neighbor,
            frontier_tolerance_m=parse_distance_m(args.frontier_tolerance),
            error_draws=args.error_draws,
            chunk_rows=rows,
            workers=args.workers or min(os.cpu_count() or 1, 2),
            scheduler=(args.scheduler or "local") if args.engine == "dask" else None,
            trust=SchedulerTrust(args.trust_scheduler, args.tls_ca, args.tls_cert, args.tls_key),
        )
        say(f"writing outputs to {args.out}")
        write_outputs(result, out, xlsx=args.xlsx, pieces=writer)
    finally:
        writer.discard()
    return result, neighbor


def cmd_map(args: argparse.Namespace) -> int:
    from geo.io.outdir import check_out_file

    say = Progress(args.quiet)
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise GeoInputError("the map is an HTML file; give --out a name ending in .html", str(out))
    check_out_file(out, _input_paths(args))
    result, _ = run_analysis(args, say)
    written = _write_map(result, out, args, say)
    if result.summary.get("notice"):
        print(f"*** {result.summary['notice']} ***")
    print(f"wrote {out} ({written.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from geo.io.outdir import check_out_file

    say = Progress(args.quiet)
    out = Path(args.out)
    if args.pages == "provinces" and out.suffix.lower() != ".pdf":
        raise GeoInputError(f"--pages provinces writes a multi-page PDF: give --out {out.with_suffix('.pdf').name}")
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise GeoInputError(f"--out {args.out}: a static map is written as .png (with a .pdf beside it), .pdf or .svg")
    for path in (out, out.with_suffix(".pdf")) if out.suffix.lower() == ".png" else (out,):
        check_out_file(path, _input_paths(args))
    result, _ = run_analysis(args, say)
    written = _write_plot(result, out, args, say)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def register(sub) -> None:
    """Add ``analyze``, ``map`` and ``plot`` to the ``geo`` parser."""
    p = sub.add_parser(
        "analyze",
        help="how much contamination lies in each border band, per province",
        description="Split hazards by province and distance band from a frontier; write tables and layers.",
        epilog=EXAMPLES_ANALYZE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_inputs(p)
    p.add_argument("--out", default="geo-output", help="output directory (default: ./geo-output)")
    p.add_argument(
        "--xlsx",
        action="store_true",
        help="also write tables.xlsx (sheets summary, bands, by_province, by_hazard, reference_table1)",
    )
    p.add_argument(
        "--pieces",
        default="gpkg,csv,parquet",
        metavar="FORMATS",
        help="the files of hazard pieces (one row per hazard x province x band) to write: some of gpkg "
        "(zones.gpkg's hazard_pieces layer, for QGIS), csv (by_hazard.csv, for a spreadsheet), parquet "
        "(hazard_pieces.parquet, for pandas/DuckDB), separated by commas, or none (default: all three; "
        "none is fastest when only the figures are wanted)",
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
    add_map_options(p)
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
        help="with --engine dask: the dask scheduler, e.g. tls://10.0.0.5:8786 (its workers need geo installed and "
        "the hazard file at the same path); default: a local cluster of --workers processes. The cluster must be "
        "trusted: dask moves pickles, so whoever runs it can run code in geo. A plain tcp:// scheduler off this "
        "machine is refused without --trust-scheduler",
    )
    p.add_argument(
        "--trust-scheduler",
        action="store_true",
        help="admit a plain tcp:// dask scheduler off this machine (only for a cluster you control)",
    )
    p.add_argument("--tls-ca", metavar="FILE", help="CA certificate of a tls:// dask scheduler")
    p.add_argument("--tls-cert", metavar="FILE", help="this client's certificate for a tls:// dask scheduler")
    p.add_argument("--tls-key", metavar="FILE", help="this client's private key for a tls:// dask scheduler")
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
    add_inputs(p)
    p.add_argument("--out", default="map.html", help="HTML file to write (default: ./map.html)")
    add_map_options(p)
    p.set_defaults(func=cmd_map)

    p = sub.add_parser(
        "plot",
        help="a print-quality static map (PNG and PDF)",
        description="Analyse, then write a static map for reports: PNG (200 dpi) and PDF.",
        epilog="example:\n  geo plot --out border_zones.png   # writes border_zones.png and border_zones.pdf",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_inputs(p)
    p.add_argument(
        "--out",
        default="map.png",
        help="file to write, format by extension: .png (200 dpi, with a .pdf beside it), .pdf or .svg "
        "(default: ./map.png)",
    )
    p.add_argument("--title", help="map title")
    p.add_argument(
        "--lang",
        default="en",
        choices=("en", "km"),
        help="language of the map: every word, place and province name (km: Khmer, needs a Khmer font)",
    )
    p.add_argument(
        "--pages",
        default="map",
        choices=("map", "provinces"),
        help="map: one page (default); provinces: a PDF atlas, the country then each province with "
        "contamination within 7 km",
    )
    p.set_defaults(func=cmd_plot)
