"""What every verb of the command line shares: the options of inputs, boundaries, maps and answers,
progress on stderr, running the analysis the options name, and the text printed (the province
table, the frontier sensitivity, the checks).

Module level imports stay light (no geopandas): ``geo --help`` builds every verb's parser from here.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from geo.constants import DEFAULT_BANDS_KM, ERROR_DRAWS, FRONTIER_TOLERANCE_M
from geo.errors import GeoInputError


def fmt_number(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def render_table(result) -> str:
    """A plain-text table of the per-province figures and totals."""
    from geo.engine.summary import by_area

    s = result.summary
    bp = result.by_province
    band_cols = [f"band_{k}_km2" for k in result.zones["key"]]
    outside = s.get("outside_cambodia_km2", 0.0) > 0  # shown whenever a hazard reaches beyond the outline
    if outside:
        band_cols.append("outside_cambodia_km2")
    head = ["province", "hazards", "area km2", *[b["band"] for b in s["bands"]]]
    head += ["outside Cambodia"] * outside + ["within 7 km", "share"]
    rows = []
    for _, r in by_area(bp[(bp["hazards"] > 0) | (bp["area_km2"] > 0)]).iterrows():
        rows.append(
            [
                r["province"],
                f"{r['hazards']:,}",
                fmt_number(r["area_km2"]),
                *[fmt_number(r[c]) for c in band_cols],
                fmt_number(r["within_7km_km2"]),
                f"{r['share_within_7km']:.0%}",
            ]
        )
    rows.append(
        [
            "TOTAL",
            f"{s['hazards']:,}",
            fmt_number(s["area_km2"]),
            *[fmt_number(b["area_km2"]) for b in s["bands"]],
            *[fmt_number(s["outside_cambodia_km2"])] * outside,
            fmt_number(s["within_7km_km2"]),
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
                fmt_number(e["within_2km_km2"]),
                _change(e["within_2km_km2"], central["within_2km_km2"]),
                fmt_number(e["within_7km_km2"]),
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


def print_checks(v: dict, verbose: bool = False) -> None:
    labels = (
        ("repaired", "geometries repaired"),
        ("dropped_empty", "empty geometries dropped"),
        ("non_polygon_dropped", "non-polygon parts dropped"),
        ("duplicate_ids", "duplicate ids"),
        ("outside_cambodia", "hazards reaching outside Cambodia"),
        ("area_mismatch", "recorded areas off by >10%"),
        ("province_mismatch", "recorded provinces differing from the map"),
        ("in_mine_free_province", "hazards in provinces the report says were declared mine free"),
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


class Progress:
    """Stage messages on stderr, silenced by --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:5.1f}s] {message}", file=sys.stderr, flush=True)


class LogLines(logging.Handler):
    """The library's notes (the ``geo`` logger) as progress lines; warnings even with --quiet."""

    def __init__(self, quiet: bool):
        super().__init__(logging.WARNING if quiet else logging.INFO)
        self.progress = Progress(False)

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        self.progress(prefix + record.getMessage())


def add_inputs(p: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        p.add_argument(
            "hazards", nargs="?", metavar="HAZARDS", help="hazard polygons (default: bundled SYNTHETIC demo)"
        )
    else:
        p.add_argument("--hazards", help="hazard polygons (default: bundled SYNTHETIC demo)")
        p.add_argument(
            "--from",
            dest="from_dir",
            metavar="DIR",
            help="answer from the analysis that wrote DIR (a geo analyze output directory) in about a second; "
            "without it, the analysis of the same inputs and options is reused when this machine kept one",
        )
    p.add_argument("--layer", help="layer of a multi-layer file or File Geodatabase")
    p.add_argument("--table", help="with a postgresql:// HAZARDS: the table (or schema.table) to read")
    p.add_argument("--sql", help="with a postgresql:// HAZARDS: a query to read instead (read-only)")
    p.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:32648")
    p.add_argument("--id-field", help="column holding hazard ids (guessed otherwise)")
    p.add_argument(
        "--encoding",
        help="text encoding of a file that does not say, e.g. CP1252 (a Shapefile without .cpg whose text is "
        "UTF-8 is read as UTF-8, and said so)",
    )
    add_boundary_options(p)
    p.add_argument(
        "--frontier-tolerance",
        default=f"{FRONTIER_TOLERANCE_M:g}m",
        help=f"positional uncertainty of the frontier, e.g. 250m; zone figures get low/central/high ranges "
        f"(default {FRONTIER_TOLERANCE_M:g}m: the median distance between two independent mappings "
        "of the Thai frontier)",
    )
    p.add_argument(
        "--error-draws",
        type=int,
        default=ERROR_DRAWS,
        metavar="N",
        help=f"draws of the error budget: 5th-95th percentiles of the headline figures over the frontier's, the "
        f"province edges' and the hazards' positional errors, in summary.json (default {ERROR_DRAWS}; 0 leaves it out)",
    )
    p.add_argument(
        "--aoi",
        help="area of interest: a province or a district (name or code; 'Samraong, Oddar Meanchey' where a name is "
        "shared), border-districts (every district with land within 7 km of the frontier), a box "
        "west,south,east,north in degrees, or a polygon file; hazards are clipped to it and the maps open on it",
    )
    add_verbosity(p)


def add_boundary_options(p: argparse.ArgumentParser) -> None:
    """The boundaries and bands of an analysis (every verb that analyses takes them)."""
    p.add_argument(
        "--provinces",
        help="province layer: geoboundaries (bundled, the default: the union of geoBoundaries' districts), "
        "amcharts (bundled, the former default), or your own polygon layer (a file, or "
        "postgresql://.../db?table=NAME)",
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


def add_verbosity(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.add_argument("-v", "--verbose", action="store_true", help="tracebacks on internal errors")


def add_map_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--title", help="map title")
    p.add_argument(
        "--basemap",
        default="none",
        choices=("none", "osm", "positron"),
        help="tile basemap (default: none, readable offline)",
    )


def _files_digest(path: Path) -> bytes:
    """sha256 of a dataset: a folder's files, or a file with its sidecars (same name, other extension)."""
    import glob
    import hashlib

    from geo.io.data import sha256_path

    if path.is_dir() or not path.exists():
        return (sha256_path(path) if path.exists() else f"missing:{path}").encode()
    digest = hashlib.sha256()
    for p in sorted(q for q in path.parent.glob(glob.escape(path.stem) + ".*") if q.is_file()):
        if p.name.lower().startswith(path.name.lower()) or p.stem == path.stem:
            digest.update(p.name.encode() + b"\0" + sha256_path(p).encode())
    return digest.hexdigest().encode()


def analysis_key(args: argparse.Namespace) -> list[bytes] | None:
    """What an analysis from these arguments depends on, for :mod:`geo.engine.saved`; None for a
    database input (its rows can change under the same name)."""
    from geo.engine.boundaries import province_set
    from geo.io.data import DATA_DIR, DEMO_HAZARDS
    from geo.io.db import is_db_url

    named = [args.hazards, args.provinces, args.frontier]
    if any(x and is_db_url(x) for x in named):
        return None
    preset = province_set(args.provinces)
    parts = [
        b"hazards:" + _files_digest(Path(args.hazards) if args.hazards else DEMO_HAZARDS),
        b"provinces:" + (f"bundled {preset}".encode() if preset else _files_digest(Path(args.provinces))),
        b"frontier:" + (_files_digest(Path(args.frontier)) if args.frontier else b"bundled"),
        b"bundled:" + _files_digest(DATA_DIR / "boundaries"),
    ]
    aoi = getattr(args, "aoi", None)
    if aoi and Path(aoi).exists():
        parts.append(b"aoi:" + _files_digest(Path(aoi)))
    options = (
        args.layer,
        args.crs,
        args.id_field,
        args.encoding,
        args.province_field,
        args.neighbor,
        tuple(float(b) for b in args.bands),
        str(args.frontier_tolerance),
        int(getattr(args, "error_draws", ERROR_DRAWS)),
        aoi,
    )
    parts.append(repr(options).encode())
    return parts


def saved_analysis(args: argparse.Namespace, say: Progress, *, pieces: bool = True):
    """The analysis the arguments ask for: from ``--from DIR``, else the one kept for the same inputs and
    options, else a new one (then kept for the next question).

    ``pieces``: the question needs the pieces in memory (all but point site checks, queries and curves, which
    read a chunked analysis' pieces from the files it wrote); an analysis made in chunks, kept without
    them, then does not answer for the same inputs (they are analysed in memory), and with ``--from``
    the question says why it cannot answer."""
    from geo.engine.saved import recall, recall_output, remember

    if getattr(args, "from_dir", None):
        given = [
            f"--{k.replace('_', '-')}"
            for k in ("hazards", "provinces", "frontier", "layer", "aoi")
            if getattr(args, k, None)
        ]
        if given:
            raise GeoInputError(
                f"--from {args.from_dir} answers from that saved analysis, with its own inputs; leave out "
                f"{', '.join(given)} (or leave out --from to analyse them)"
            )
        result = recall_output(Path(args.from_dir))
        say(f"answering from the analysis saved in {args.from_dir}")
        return result, result.summary.get("neighbor")
    key = analysis_key(args)
    if key is not None:
        result = recall(key)
        if result is not None and result.streamed and pieces:
            say("the saved analysis of these inputs was made in chunks; this question needs its pieces in memory")
            result = None
        if result is not None:
            say("answering from the saved analysis of the same inputs")
            return result, result.summary.get("neighbor")
    result, neighbor = run_analysis(args, say)
    if key is not None:
        remember(key, result)
    return result, neighbor


def run_analysis(args: argparse.Namespace, say: Progress):
    """Read the inputs named on the command line and run the analysis (shared by every verb)."""
    from geo.engine.analysis import analyze
    from geo.engine.boundaries import load_boundaries
    from geo.engine.hazards import read_hazards
    from geo.io.data import DEMO_HAZARDS
    from geo.names import parse_distance_m

    tolerance = parse_distance_m(args.frontier_tolerance)
    from geo.engine.hazards import read_postgis_hazards
    from geo.io.db import is_db_url, redact

    if is_db_url(args.hazards):
        say(f"reading hazards from {redact(args.hazards)}")
        hazards = read_postgis_hazards(
            args.hazards, table=args.table, sql=args.sql, crs=args.crs, id_field=args.id_field
        )
    else:
        hazards_path = Path(args.hazards) if args.hazards else DEMO_HAZARDS
        say(f"reading hazards from {hazards_path.name}")
        hazards = read_hazards(
            hazards_path, layer=args.layer, crs=args.crs, id_field=args.id_field, encoding=args.encoding
        )
    say(f"loading boundaries{' (bundled)' if not (args.provinces or args.frontier) else ''}")
    boundaries = load_boundaries(provinces=args.provinces, frontier=args.frontier, province_field=args.province_field)
    # The bundled layer holds three frontiers (Thailand by default); a user's layer is used whole unless asked.
    neighbor = args.neighbor or (None if args.frontier else "THA")
    aoi = None
    if getattr(args, "aoi", None):
        from geo.engine.aoi import clip_hazards, parse_aoi

        aoi = parse_aoi(args.aoi, boundaries, neighbor=neighbor, bands_km=args.bands)
        hazards = clip_hazards(hazards, aoi)
        say(f"area of interest {aoi.label}: {len(hazards):,} hazards reach into it")
        args.aoi_bounds = aoi.bounds
    result = analyze(
        hazards,
        bands_km=args.bands,
        neighbor=neighbor,
        boundaries=boundaries,
        frontier_tolerance_m=tolerance,
        error_draws=getattr(args, "error_draws", ERROR_DRAWS),
    )
    if aoi is not None:
        from geo.engine.aoi import scope_result

        result = scope_result(result, aoi)
    return result, neighbor


def emit(text: str, out: str | None) -> None:
    if out:
        from geo.io.writers import atomic_write

        atomic_write(Path(out), lambda tmp: tmp.write_text(text, encoding="utf-8"))
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def answer_options(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    p.add_argument("--format", choices=formats, help="table (default) or a machine format")
    p.add_argument(
        "--out",
        help="write the answer to this file instead of the screen; its extension picks the format "
        f"({', '.join('.txt' if f == 'table' else '.' + f for f in formats)})",
    )


def answer_format(args: argparse.Namespace, formats: tuple[str, ...]) -> str:
    """The format of an answer: ``--format``, else the extension of ``--out`` (as ogr2ogr does), else a table.

    A file name whose extension names no format, or names another one than ``--format``, is an error.
    """
    if not args.out:
        return args.format or "table"
    suffix = Path(args.out).suffix.lower()
    by_name = EXTENSIONS.get(suffix)
    if by_name is None or by_name not in formats:
        known = ", ".join(e for e, f in EXTENSIONS.items() if f in formats and e != ".text")
        raise GeoInputError(f"--out {args.out}: geo writes this answer as {known}; give one of those extensions")
    if args.format and args.format != by_name:
        raise GeoInputError(f"--format {args.format} does not match --out {args.out} ({by_name}); drop one of them")
    return by_name


#: Output file extension -> answer format.
EXTENSIONS = {".csv": "csv", ".json": "json", ".geojson": "geojson", ".txt": "table", ".text": "table"}
