"""The exception family of geo: every bad input becomes one of these."""

from __future__ import annotations


class GeoError(Exception):
    """Base class of every error geo raises on purpose."""


class GeoInputError(GeoError, ValueError):
    """An input file or value geo cannot use.

    Parameters
    ----------
    problem : str
        What is wrong, in words a GIS officer can act on.
    path : str, optional
        The file concerned.
    feature : str, optional
        The feature id or row number concerned.
    """

    def __init__(self, problem: str, path: str | None = None, feature: str | None = None):
        self.problem = problem
        self.path = path
        self.feature = feature
        where = ": ".join(str(p) for p in (path, feature) if p)
        super().__init__(f"{where}: {problem}" if where else problem)
