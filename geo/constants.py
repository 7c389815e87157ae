"""Constants of the analysis, each in one place with its source.

Border-zone distances come from the Mine Action Review, *Clearing the Mines
2024*, Cambodia chapter: since 2020 the military has kept international
operators out of a 7 km-wide belt along Cambodia's borders; only the military
may clear within 2 km of the border; international operators are tasked
between 5 and 7 km.
"""

from __future__ import annotations

#: Width of the restricted border belt, km (Mine Action Review 2024).
RESTRICTED_KM: float = 7.0
#: Military-only strip next to the border, km (Mine Action Review 2024).
MILITARY_ONLY_KM: float = 2.0
#: Default band edges, km: 0-2 military only, 2-5, 5-7 international operators.
DEFAULT_BANDS_KM: tuple[float, ...] = (2.0, 5.0, 7.0)

#: Geographic coordinates of every input and output layer.
WGS84: str = "EPSG:4326"
#: UTM zone 48N on WGS 84, the projected CRS most Cambodian data use.
UTM48N: str = "EPSG:32648"
#: Equal-area CRS for every area in geo: Albers conic on the WGS 84
#: ellipsoid, standard parallels bracketing Cambodia (10-15 N), so areas are
#: exact on the ellipsoid and shapes nearly undistorted over the country.
ANALYSIS_CRS: str = (
    "+proj=aea +lat_0=12.5 +lon_0=105 +lat_1=10.5 +lat_2=14.5 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs +type=crs"
)

#: Cambodia's official land area, km2 (Royal Government of Cambodia, as
#: commonly cited); used to check the bundled province layer.
CAMBODIA_OFFICIAL_AREA_KM2: float = 181_035.0

#: Buffers are built per frontier stretch of at most this geodesic length, km,
#: each in a transverse Mercator centred on it, so the scale error at the
#: zone edge stays below 3e-6 (0.02 m at 7 km); shorter stretches also buffer faster.
FRONTIER_CHUNK_KM: float = 20.0
#: Segments per quarter circle of a buffer's round parts: the chord of a
#: 7 km arc then lies at most 0.13 m inside it.
BUFFER_QUAD_SEGS: int = 128
#: Longest straight segment, m, kept when a geometry moves between CRSs.
DENSIFY_M: float = 250.0

#: Recorded and computed hazard areas differing by more than this share are
#: reported in the validation report.
AREA_MISMATCH_SHARE: float = 0.10
#: Area below which a piece is treated as numerical noise, m2.
NOISE_AREA_M2: float = 1e-6

#: Positional accuracy of the OpenStreetMap-derived frontier as stated by the
#: geo-maps 10m build it comes from ("absolute error of 10m"), m.
FRONTIER_ACCURACY_M: float = 10.0
