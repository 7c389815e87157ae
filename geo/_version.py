"""The installed version of geo, written into every summary, metadata record and database comment."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

#: The distribution's name on the package index (``geo`` there is another project); the import name is ``geo``.
DISTRIBUTION = "geo-mine-action"


def geo_version() -> str:
    """Installed version of geo (``0+unknown`` when run from a source tree that is not installed).

    Examples
    --------
    >>> geo_version() != ""
    True
    """
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
