"""How much the zone figures depend on the frontier line: other lines, shifted lines, each neighbour.

The figure users quote - contamination within 2 km of the border - moves far
more with the line used than with any arithmetic: independent mappings of the
Cambodia-Thailand frontier lie 0.5-1.5 km apart on average.  Every figure here
comes from the same engine as the analysis (:func:`geo.engine.curve.within_curve`
on the analysis' land-once pieces), so a line's figures differ from the
analysis' only because the line differs.

Conventions
-----------
- A *shift* of ``+s`` m is the line moved ``s`` m inward, into Cambodia: a point ``d`` from
  the moved line lies ``d + s`` from the analysed one, so every band edge moves ``s`` m
  farther out; ``-s`` is the line moved outward.  The national outline stays as it is,
  as in the uncertainty ranges of :func:`geo.engine.curve.ranges`.
- An *alternative line* is measured with the national outline kept: a piece of
  Cambodian land within 2 km of that line counts, whichever side of it it lies.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.engine.curve import within_curve
from geo.engine.zones import frontier_lines

#: Shifts of the analysed line, m, reported in ``frontier_sensitivity``.
SHIFTS_M: tuple[float, ...] = (100.0, 250.0, 500.0, 1000.0)


def _unbounded(fine_zones: pd.DataFrame) -> pd.DataFrame:
    """Band limits that bound nothing: for a line other than the one the bands were cut from."""
    return pd.DataFrame({"inner_km": np.zeros(len(fine_zones)), "outer_km": np.full(len(fine_zones), np.inf)})


def line_figures(
    curve: pd.DataFrame,
    edges_km: Sequence[float],
    codes: pd.Series,
    shift_km: float = 0.0,
) -> dict:
    """Zone figures read off a curve W(d) (rows by distance, km), with every edge moved by ``shift_km``.

    Returns
    -------
    dict
        ``within_2km_km2``, ``within_7km_km2``, ``bands`` (``inner_km``, ``outer_km``,
        ``area_km2``; the outer band is left out, it is the rest of the land) and
        ``by_province`` (code -> ``within_2km_km2``, ``within_7km_km2``).
    """

    def at(d: float) -> pd.Series:
        d = max(d + shift_km, 0.0) if d > 0 else 0.0
        if d == 0:
            return pd.Series(0.0, index=[*codes, "total_km2"])
        return curve.loc[round(d, 6)]

    inner = (0.0, *edges_km[:-1])
    w2, w7 = at(2.0), at(7.0)
    return {
        "within_2km_km2": float(w2["total_km2"]),
        "within_7km_km2": float(w7["total_km2"]),
        "bands": [
            {"inner_km": a, "outer_km": b, "area_km2": float(at(b)["total_km2"] - at(a)["total_km2"])}
            for a, b in zip(inner, edges_km)
        ],
        "by_province": {
            c: {"within_2km_km2": float(w2[c]), "within_7km_km2": float(w7[c])} for c in codes if w7[c] > 0
        },
    }


def _distances(edges_km: Sequence[float], shifts_km: Sequence[float]) -> list[float]:
    return sorted({round(max(e + s, 0.0), 6) for e in (*edges_km, 2.0, 7.0) for s in shifts_km} - {0.0})


def curve_for(
    land_pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: pd.Series,
    lines_wgs84: np.ndarray,
    distances_km: Sequence[float],
    *,
    same_line: bool,
    buffers: dict | None = None,
) -> pd.DataFrame:
    """W(d) for a line; ``same_line`` when it is the line the bands were cut from (their limits then bound
    each piece's distance and spare most geometry work)."""
    zones = fine_zones if same_line else _unbounded(fine_zones)
    curve = within_curve(land_pieces, zones, codes, lines_wgs84, distances_km, buffers if same_line else None)
    curve.index = [round(d, 6) for d in curve.index]
    return curve


def _shifts_km(shifts_m: Sequence[float]) -> list[float]:
    return sorted({0.0, *(s / 1000.0 for s in shifts_m), *(-s / 1000.0 for s in shifts_m)})


def analysed_curve(
    land_pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: pd.Series,
    lines_wgs84: np.ndarray,
    edges_km: Sequence[float],
    *,
    buffers: dict | None = None,
    shifts_m: Sequence[float] = SHIFTS_M,
    more_km: Sequence[float] = (),
) -> pd.DataFrame:
    """W(d) of the analysed line at every distance the shifts need, and at ``more_km`` - one pass, shared
    by the sensitivity and the uncertainty ranges."""
    wanted = sorted(set(_distances(edges_km, _shifts_km(shifts_m))) | {round(d, 6) for d in more_km if d > 0})
    return curve_for(land_pieces, fine_zones, codes, lines_wgs84, wanted, same_line=True, buffers=buffers)


def frontier_sensitivity(
    land_pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: pd.Series,
    lines_wgs84: np.ndarray,
    edges_km: Sequence[float],
    alternatives: dict[str, tuple[gpd.GeoDataFrame, dict]],
    *,
    buffers: dict | None = None,
    shifts_m: Sequence[float] = SHIFTS_M,
    analysed: dict | None = None,
    curve: pd.DataFrame | None = None,
    alternative_curves: dict[str, pd.DataFrame] | None = None,
) -> list[dict]:
    """Zone figures for the analysed line shifted by each of ``shifts_m`` (both ways), and for each
    alternative line.

    Parameters
    ----------
    land_pieces, fine_zones, codes
        From the analysis (land counted once, cut by province and fine band).
    lines_wgs84 : array of lines
        The analysed frontier, as buffered.
    edges_km : sequence of float
        Band edges, km.
    alternatives : dict
        Name -> (frontier lines GeoDataFrame, its source dict).
    buffers : dict, optional
        Buffers of the analysed line already built, by distance in m.
    analysed : dict, optional
        Source of the analysed line (``file``, ``attribution``).
    curve : DataFrame, optional
        W(d) of the analysed line at the distances the shifts need (:func:`analysed_curve`).
    alternative_curves : dict, optional
        W(d) of each alternative line (:func:`alternative_curves`), e.g. summed over chunks.

    Returns
    -------
    list of dict
        One entry per line: ``line``, ``kind`` (``analysed`` for the analysed line and its
        shifts, ``alternative``), ``source``, ``file``, ``shift_m`` (positive: moved inward)
        and the figures of :func:`line_figures`.
    """
    shifts_km = _shifts_km(shifts_m)
    if curve is None:
        curve = analysed_curve(
            land_pieces, fine_zones, codes, lines_wgs84, edges_km, buffers=buffers, shifts_m=shifts_m
        )
    out = []
    analysed = analysed or {}
    for s in shifts_km:
        name = (
            "analysed line" if s == 0 else f"analysed line moved {abs(s) * 1000:g} m {'inward' if s > 0 else 'outward'}"
        )
        out.append(
            {
                "line": name,
                "kind": "analysed",
                "source": analysed.get("attribution") or analysed.get("note"),
                "file": analysed.get("file"),
                "shift_m": s * 1000.0,
                **line_figures(curve, edges_km, codes, s),
            }
        )
    if alternative_curves is None:
        alternative_curves = alternative_curves_of(land_pieces, fine_zones, codes, edges_km, alternatives)
    for name, (_, source) in alternatives.items():
        alt = alternative_curves[name]
        out.append(
            {
                "line": name,
                "kind": "alternative",
                "source": f"{source.get('source')} ({source.get('licence')}); {source.get('note')}",
                "file": source.get("file"),
                "shift_m": 0.0,
                **line_figures(alt, edges_km, codes),
            }
        )
    return out


def alternative_curves_of(
    land_pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: pd.Series,
    edges_km: Sequence[float],
    alternatives: dict[str, tuple[gpd.GeoDataFrame, dict]],
) -> dict[str, pd.DataFrame]:
    """W(d) of each alternative line at the band edges (areas: additive over disjoint land)."""
    distances = _distances(edges_km, [0.0])
    return {
        name: curve_for(land_pieces, fine_zones, codes, frontier_lines(frame), distances, same_line=False)
        for name, (frame, _) in alternatives.items()
    }


def neighbor_curves(
    land_pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: pd.Series,
    frontier: gpd.GeoDataFrame,
) -> dict[str, pd.DataFrame]:
    """W(d) at 2 and 7 km of each neighbour's frontier on its own (areas: additive over disjoint land)."""
    return {
        iso3: curve_for(land_pieces, fine_zones, codes, frontier_lines(lines), [2.0, 7.0], same_line=False)
        for iso3, lines in frontier.groupby(frontier["neighbor"].astype(str).str.upper(), sort=True)
    }


def neighbor_figures(curves: dict[str, pd.DataFrame], codes: pd.Series) -> dict[str, dict]:
    """Within 2 km and 7 km of each neighbour's frontier on its own, total and per province
    (from :func:`neighbor_curves`).

    The combined figures of the analysis count land near two frontiers once; these
    count, for each neighbour, the land near its frontier, whatever else is near.
    """
    out = {}
    for iso3, curve in curves.items():
        out[iso3] = {
            "within_2km_km2": float(curve.loc[2.0, "total_km2"]),
            "within_7km_km2": float(curve.loc[7.0, "total_km2"]),
            "by_province": {c: (float(curve.loc[2.0, c]), float(curve.loc[7.0, c])) for c in codes},
        }
    return out
