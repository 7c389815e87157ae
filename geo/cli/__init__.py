"""The ``geo`` command line: a thin layer over the Python API.

Exit codes: 0 success, 2 bad input (the message names the file, feature and
problem), 1 internal error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback

from geo.cli.common import LogLines
from geo.errors import GeoEnvironmentError, GeoInputError


def build_parser() -> argparse.ArgumentParser:
    """The ``geo`` parser with every verb (each verb module adds its own)."""
    from geo._version import geo_version
    from geo.cli import analyze, plugin, queries, release
    from geo.cli.common import Progress, add_inputs, saved_analysis

    parser = argparse.ArgumentParser(prog="geo", description="Mine-action GIS for Cambodia's border zones.")
    parser.add_argument("--version", action="version", version=f"geo {geo_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyze.register(sub)
    queries.register(sub, add_inputs, lambda a, pieces=True: saved_analysis(a, Progress(True), pieces=pieces))
    release.register(sub, add_inputs, lambda a: saved_analysis(a, Progress(a.quiet)))
    plugin.register(sub)
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
    handler = LogLines(getattr(args, "quiet", False))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        from geo.engine.zones import parse_bands

        if hasattr(args, "bands"):
            args.bands = parse_bands(args.bands)
        if getattr(args, "out", None) == "-":
            raise GeoInputError(
                "--out - (standard output) is not a place geo writes to: analyze, release and scenario write a "
                "directory of files; where, query and access print to the screen when --out is left out"
            )
        _check_options(args)
        return args.func(args)
    except (GeoInputError, GeoEnvironmentError) as exc:
        print(f"geo: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        from geo.io.outdir import environment_error

        # The file the system named, else the output the user named (never a word standing for it).
        out = getattr(args, "out", None)
        env = environment_error(exc, exc.filename or (os.path.abspath(out) if out else "the output directory"))
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


__all__ = ["build_parser", "main"]
