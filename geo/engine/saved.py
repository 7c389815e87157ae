"""Analyses kept for the questions that follow them.

A planner asks ``geo where`` and ``geo query`` many times over the same inputs. The first
run keeps its :class:`~geo.engine.analysis.AnalysisResult` in geo's cache (:mod:`geo.io.cache`:
plain data only, checksummed, owned by the user); the next question with the same inputs
and options, or one pointed at a saved output directory with ``--from``, reads it back in
about a second instead of analysing again.

Keys:

- ``analysis`` entries are keyed by what the result depends on: the bytes of every input
  file, the options that change the figures and geo's code (added by the cache).
- ``output-of`` entries map the sha256 of a written ``summary.json`` to that key, so
  ``--from DIR`` finds the analysis that wrote ``DIR``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.constants import WGS84
from geo.engine.analysis import AnalysisResult
from geo.engine.overlay import territory_data, territory_from_data
from geo.engine.summary import Provenance, Summary
from geo.errors import GeoInputError
from geo.io.cache import lookup, store

log = logging.getLogger("geo")

#: Saved analyses kept at most (the oldest are removed first); each holds the territory and every piece.
KEEP = 6

_FRAMES = ("hazard_pieces", "by_province", "zones", "provinces", "frontier", "hazards", "land_pieces")


def _without_rows(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """An empty layer with ``frame``'s columns: what a streamed analysis keeps of its piece tables."""
    return gpd.GeoDataFrame({c: frame[c].iloc[:0] for c in frame.columns if c != "geometry"}, geometry=[], crs=WGS84)


def result_data(result: AnalysisResult, out_dir: Path | None = None) -> dict[str, Any]:
    """An analysis as plain data for the cache (frames, geometries, arrays, numbers and text).

    A streamed analysis keeps its figures, territory and tables but not its pieces (they are in the
    files it wrote, in ``out_dir``: its site checks read them there, see :func:`recall`)."""
    summary = {f.name: getattr(result.summary, f.name) for f in dataclasses.fields(result.summary)}
    summary["provenance"] = dataclasses.asdict(result.summary.provenance)
    frames = {name: getattr(result, name) for name in _FRAMES}
    if result.streamed:
        frames.update({name: _without_rows(frames[name]) for name in ("hazard_pieces", "hazards", "land_pieces")})
    return {
        **frames,
        "written_to": str(Path(out_dir).resolve()) if out_dir is not None else "",
        "territory": territory_data(result.territory),
        "summary": summary,
        "validation": result.validation,
        "alternative_lines": result.alternative_lines,
        "borders": result.borders,
        "streamed": result.streamed,
        "by_district": result.by_district,
    }


def result_from_data(d: dict[str, Any]) -> AnalysisResult:
    """The analysis :func:`result_data` kept."""
    summary = dict(d["summary"])
    summary["provenance"] = Provenance(**summary["provenance"])
    frames = {name: d[name] for name in _FRAMES}
    for name in ("hazard_pieces", "zones", "provinces", "frontier", "hazards"):
        if not isinstance(frames[name], gpd.GeoDataFrame):
            raise ValueError(f"{name} is not a layer")
    return AnalysisResult(
        **frames,
        territory=territory_from_data(d["territory"]),
        summary=Summary(**summary),
        validation=d["validation"],
        alternative_lines=d["alternative_lines"],
        borders=d["borders"],
        streamed=bool(d["streamed"]),
        by_district=d.get("by_district"),
    )


def recall(key: list[bytes], out_dir: Path | None = None) -> AnalysisResult | None:
    """The analysis kept under ``key``, or None.

    A streamed analysis answers site checks, queries and curves from the pieces it wrote: from ``zones.gpkg`` in
    ``out_dir`` (``--from DIR``), else in the directory it was written to, provided that file is
    the one written then (its sha256 is the one in the directory's manifest) and the directory
    still holds that analysis' ``summary.json``; otherwise None (it is analysed again).
    """
    hit = lookup("analysis", key)
    if hit is None:
        return None
    try:
        result = result_from_data(hit)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("a saved analysis has an unexpected shape (%s); analysing again", exc)
        return None
    if result.streamed:
        where = Path(out_dir) if out_dir is not None else Path(hit.get("written_to") or ".")
        if out_dir is None and not _still_written(where, key):
            return None
        pieces, why = _checked_pieces(where)
        if pieces is None:
            if out_dir is None:
                log.info("the saved analysis cannot answer from %s (%s); analysing again", where, why)
                return None
            raise GeoInputError(
                f"--from {out_dir}: that analysis was made in chunks, and site checks, queries and curves read its "
                f"pieces from {where / 'zones.gpkg'}, but {why}: run geo analyze again, or ask without --from"
            )
        result = dataclasses.replace(result, pieces_file=pieces)
    return result


def _still_written(out_dir: Path, key: list[bytes]) -> bool:
    """Whether ``out_dir`` holds the ``summary.json`` the analysis under ``key`` wrote."""
    try:
        ref = lookup("output-of", [_summary_digest(out_dir)])
    except GeoInputError:
        return False
    return isinstance(ref, dict) and ref.get("key") == [k.hex() for k in key]


def _checked_pieces(out_dir: Path) -> tuple[Path | None, str]:
    """``out_dir/zones.gpkg`` when it is the file geo wrote (its sha256 is the one in the directory's
    manifest) and holds the ``hazard_pieces`` layer; else None and why not."""
    import json

    import pyogrio

    from geo.io.data import sha256_path
    from geo.io.outdir import MARKER

    path = Path(out_dir) / "zones.gpkg"
    try:
        manifest = json.loads((Path(out_dir) / MARKER).read_text(encoding="utf-8"))
        recorded = manifest["files"]["zones.gpkg"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, f"{out_dir} has no manifest of geo's ({MARKER}) naming zones.gpkg to check it against"
    if not path.is_file():
        return None, "that file is gone"
    if sha256_path(path) != recorded:
        return None, "that file has changed since geo wrote it (its sha256 is not the one in the manifest)"
    if "hazard_pieces" not in set(pyogrio.list_layers(path)[:, 0]):
        return None, "it has no hazard_pieces layer (the analysis was run with --pieces without gpkg)"
    return path, ""


def remember(key: list[bytes], result: AnalysisResult, out_dir: Path | None = None) -> None:
    """Keep ``result`` under ``key``; a streamed one without its pieces, which stay in the files written
    to ``out_dir`` (a streamed analysis with no output directory is not kept)."""
    if result.streamed and out_dir is None:
        return
    store(("analysis", key), result_data(result, out_dir), keep=KEEP)


def _summary_digest(out_dir: Path) -> bytes:
    path = Path(out_dir) / "summary.json"
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except FileNotFoundError:
        raise GeoInputError(
            f"--from {out_dir}: no summary.json there; give the output directory of a geo analyze run"
        ) from None


def link_output(out_dir: Path, key: list[bytes]) -> None:
    """Record that the ``summary.json`` in ``out_dir`` was written by the analysis kept under ``key``."""
    store(("output-of", [_summary_digest(out_dir)]), {"key": [k.hex() for k in key]}, keep=4 * KEEP)


def recall_output(out_dir: Path) -> AnalysisResult:
    """The analysis that wrote ``out_dir`` (its ``summary.json``, byte for byte).

    Raises
    ------
    GeoInputError
        When this machine keeps no such analysis (made elsewhere, a cleared cache, or a
        ``summary.json`` changed since).
    """
    ref = lookup("output-of", [_summary_digest(out_dir)])
    result = None
    if isinstance(ref, dict) and isinstance(ref.get("key"), list):
        result = recall([bytes.fromhex(k) for k in ref["key"]], out_dir=Path(out_dir))
    if result is None:
        raise GeoInputError(
            f"--from {out_dir}: this machine keeps no analysis that wrote that summary.json (it was made on "
            "another machine, geo changed, the cache was cleared or the file was edited); run geo analyze "
            "again with the same inputs, or ask without --from"
        )
    return result
