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

from geo.engine.analysis import AnalysisResult
from geo.engine.overlay import territory_data, territory_from_data
from geo.engine.summary import Provenance, Summary
from geo.errors import GeoInputError
from geo.io.cache import lookup, store

log = logging.getLogger("geo")

#: Saved analyses kept at most (the oldest are removed first); each holds the territory and every piece.
KEEP = 6

_FRAMES = ("hazard_pieces", "by_province", "zones", "provinces", "frontier", "hazards", "land_pieces")


def result_data(result: AnalysisResult) -> dict[str, Any]:
    """An analysis as plain data for the cache (frames, geometries, arrays, numbers and text)."""
    summary = {f.name: getattr(result.summary, f.name) for f in dataclasses.fields(result.summary)}
    summary["provenance"] = dataclasses.asdict(result.summary.provenance)
    return {
        **{name: getattr(result, name) for name in _FRAMES},
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


def recall(key: list[bytes]) -> AnalysisResult | None:
    """The analysis kept under ``key``, or None."""
    hit = lookup("analysis", key)
    if hit is None:
        return None
    try:
        return result_from_data(hit)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("a saved analysis has an unexpected shape (%s); analysing again", exc)
        return None


def remember(key: list[bytes], result: AnalysisResult) -> None:
    """Keep ``result`` under ``key`` (a streamed analysis holds no geometry to answer from: not kept)."""
    if result.streamed:
        return
    store(("analysis", key), result_data(result), keep=KEEP)


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
        result = recall([bytes.fromhex(k) for k in ref["key"]])
    if result is None:
        raise GeoInputError(
            f"--from {out_dir}: this machine keeps no analysis that wrote that summary.json (it was made on "
            "another machine, geo changed, the cache was cleared or the file was edited); run geo analyze "
            "again with the same inputs, or ask without --from"
        )
    return result
