"""The answers of the planners' questions (:func:`geo.queries.where`, :func:`geo.queries.query`):
``dict`` at run time, with the keys and types documented here."""

from __future__ import annotations

from typing import TypedDict


class NearbyHazard(TypedDict):
    """A hazard near a site: its id, geodesic distance from the site (m, 0 inside it) and area (m2)."""

    hazard_id: str
    distance_m: float
    area_m2: float


class SiteBand(TypedDict):
    """A polygon site's area in one band, and the contaminated part of it (land counted once), m2."""

    band: str
    area_m2: float
    hazard_area_m2: float


class WhereAnswer(TypedDict, total=False):
    """The answer of :func:`geo.queries.where` (a ``dict`` at run time, with these keys).

    Every site has ``site`` to ``hazards``; a polygon site adds ``area_m2``,
    ``hazard_area_m2``, ``outside_cambodia_m2``, ``hazard_outside_cambodia_m2`` and
    ``bands``; an analysis of synthetic data adds ``notice``.
    """

    site: str
    province: str
    code: str
    inside_cambodia: bool
    distance_to_frontier_m: float
    band: str
    radius_m: float
    hazards: list[NearbyHazard]
    area_m2: float
    hazard_area_m2: float
    outside_cambodia_m2: float
    hazard_outside_cambodia_m2: float
    bands: list[SiteBand]
    notice: str
    site_attributes: dict


class QueryAnswer(TypedDict, total=False):
    """The answer of :func:`geo.queries.query` (a ``dict`` at run time, with these keys).

    ``hazards`` (distinct hazards with a matching piece), ``pieces``, ``area_km2`` (land
    counted once), ``area_sum_km2`` (sum of pieces) and the ``filters`` applied; with
    ``by``, ``groups`` (each group's field values and the same four figures); an analysis
    of synthetic data adds ``notice``.
    """

    filters: dict
    hazards: int
    pieces: int
    area_km2: float
    area_sum_km2: float
    groups: list[dict]
    notice: str
