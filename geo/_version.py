"""The installed version of geo, written into every summary, metadata record and database comment."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def geo_version() -> str:
    """Installed version of geo (``0+unknown`` when run from a source tree that is not installed).

    Examples
    --------
    >>> geo_version() != ""
    True
    """
    try:
        return version("geo")
    except PackageNotFoundError:
        return "0+unknown"
