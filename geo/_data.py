"""Where geo's bundled data live: one place for every path to a bundled file.

The repository keeps them in ``data/`` at its top level; a wheel carries the
same tree inside the package as ``geo/data`` (copied at build time by
``setup.py``).  :func:`data_dir` finds whichever is there, through
:mod:`importlib.resources` for an installed package.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from geo._errors import GeoError


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """Hex sha256 of a file, or of a folder's files (relative names and contents, in name order),
    e.g. an Esri File Geodatabase."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        digest.update(str(p.relative_to(path)).encode() + b"\0" + sha256_file(p).encode())
    return digest.hexdigest()


def data_dir() -> Path:
    """The directory of the bundled data (``boundaries/``, ``hazards/``, ``reference/``).

    Raises
    ------
    GeoError
        If neither an installed copy nor a source checkout's ``data/`` is found.
    """
    packaged = Path(str(resources.files("geo") / "data"))
    if (packaged / "boundaries").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "data"
    if (checkout / "boundaries").is_dir():
        return checkout
    raise GeoError(f"geo's bundled data are missing (looked in {packaged} and {checkout}); reinstall geo")


DATA_DIR = data_dir()
PROVINCES_FILE = DATA_DIR / "boundaries" / "amcharts" / "provinces.gpkg"
OSM_FILE = DATA_DIR / "boundaries" / "osm" / "cambodia.gpkg"
GSHHG_FILE = DATA_DIR / "boundaries" / "gshhg" / "frontier.gpkg"
NATURAL_EARTH_FILE = DATA_DIR / "boundaries" / "naturalearth" / "frontier.gpkg"
DEMO_HAZARDS = DATA_DIR / "hazards" / "demo_sha_2023.gpkg"
TABLE1_FILE = DATA_DIR / "reference" / "table1_ap_mined_area_2023.csv"
REFERENCE_DIR = DATA_DIR / "reference"
DEMO_RELEASE = DATA_DIR / "release" / "demo_release_2023.gpkg"
RULES_DIR = DATA_DIR / "rules"
DEFAULT_RULES = RULES_DIR / "access_2024.toml"
DEFAULT_CAPACITY = RULES_DIR / "capacity_2023.csv"
