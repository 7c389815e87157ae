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


class GeoEnvironmentError(GeoError, OSError):
    """The machine, not the input, stops the run: a full disk, a read-only directory, a busy output.

    Parameters
    ----------
    problem : str
        What went wrong, in plain words.
    path : str, optional
        The file or directory concerned.
    """

    def __init__(self, problem: str, path: str | None = None):
        self.problem = problem
        self.path = path
        Exception.__init__(self, f"{path}: {problem}" if path else problem)
