"""What users type: province names in their many spellings, and distances with or without units.

Shared by the readers, the queries and the command line, so a name or a distance means the
same thing everywhere.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from geo._errors import GeoInputError

if TYPE_CHECKING:
    from geo._result import AnalysisResult

#: ISO 3166-2:KH code -> (English name, Khmer name, other spellings seen in
#: mine-action and gazetteer data).  English names follow the Mine Action
#: Review tables where a province appears there.
PROVINCE_NAMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "KH-1": ("Banteay Meanchey", "បន្ទាយមានជ័យ", ("Banteay Mean Chey", "Banteay Mean Chay")),
    "KH-2": ("Battambang", "បាត់ដំបង", ("Batdambang", "Bat Dambang")),
    "KH-3": ("Kampong Cham", "កំពង់ចាម", ("Kompong Cham",)),
    "KH-4": ("Kampong Chhnang", "កំពង់ឆ្នាំង", ("Kompong Chhnang",)),
    "KH-5": ("Kampong Speu", "កំពង់ស្ពឺ", ("Kompong Speu", "Kampong Spoe")),
    "KH-6": ("Kampong Thom", "កំពង់ធំ", ("Kompong Thom", "Kampong Thum")),
    "KH-7": ("Kampot", "កំពត", ("Kampaot",)),
    "KH-8": ("Kandal", "កណ្ដាល", ("Kandaal",)),
    "KH-9": ("Koh Kong", "កោះកុង", ("Kaoh Kong",)),
    "KH-10": ("Kratie", "ក្រចេះ", ("Kratié", "Kracheh")),
    "KH-11": ("Mondul Kiri", "មណ្ឌលគិរី", ("Mondulkiri", "Mondolkiri", "Mondol Kiri")),
    "KH-12": ("Phnom Penh", "ភ្នំពេញ", ("Phnum Penh",)),
    "KH-13": ("Preah Vihear", "ព្រះវិហារ", ("Prey Vihear", "Preah Vihéar", "Preah Vihar")),
    "KH-14": ("Prey Veng", "ព្រៃវែង", ("Prey Vaeng",)),
    "KH-15": ("Pursat", "ពោធិ៍សាត់", ("Pouthisat", "Pousat", "Porsat")),
    "KH-16": ("Ratanak Kiri", "រតនគិរី", ("Ratanakiri", "Rattanakiri", "Ratana Kiri", "Rotanak Kiri", "Rattanak Kiri")),
    "KH-17": ("Siem Reap", "សៀមរាប", ("Siemreap", "Siemreab", "Siem Reab")),
    "KH-18": ("Preah Sihanouk", "ព្រះសីហនុ", ("Sihanoukville", "Krong Preah Sihanouk")),
    "KH-19": ("Stung Treng", "ស្ទឹងត្រែង", ("Stoeng Treng", "Steung Treng")),
    "KH-20": ("Svay Rieng", "ស្វាយរៀង", ("Svay Rieng",)),
    "KH-21": ("Takeo", "តាកែវ", ("Takev", "Taakaev")),
    "KH-22": ("Oddar Meanchey", "ឧត្ដរមានជ័យ", ("Otdar Meanchey", "Otdar Mean Chey", "Oddar Mean Chey", "Udon Meanchey")),
    "KH-23": ("Kep", "កែប", ("Krong Kep", "Kaeb")),
    "KH-24": ("Pailin", "ប៉ៃលិន", ("Krong Pailin", "Pailin City")),
    "KH-25": ("Tboung Khmum", "ត្បូងឃ្មុំ", ("Tbong Khmum", "Tbaung Khmum")),
}


def normalize_name(name: str) -> str:
    """Fold a place name for matching: no accents, case, spaces or punctuation.

    Examples
    --------
    >>> normalize_name("Kratié")
    'kratie'
    >>> normalize_name("Banteay Mean-Chey")
    'banteaymeanchey'
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c for c in text.casefold() if c.isalnum())


@lru_cache(maxsize=1)
def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, (english, khmer, variants) in PROVINCE_NAMES.items():
        for name in (code, english, khmer, *variants):
            table[normalize_name(name)] = code
        table[normalize_name(code.replace("KH-", ""))] = code
    return table


def province_code(name: str) -> str | None:
    """ISO 3166-2:KH code of a province name, spelling variant or code, else None.

    Examples
    --------
    >>> province_code("Otdar Meanchey")
    'KH-22'
    >>> province_code("ratanakiri")
    'KH-16'
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    return _alias_table().get(normalize_name(name))


_UNITS = {"m": 1.0, "km": 1000.0, "": 1.0}


def parse_distance_m(text: str | float) -> float:
    """A distance such as ``500m``, ``1 km``, ``1.5km`` or ``250`` (metres), in metres.

    Examples
    --------
    >>> parse_distance_m("500m"), parse_distance_m("1.5 km"), parse_distance_m(250)
    (500.0, 1500.0, 250.0)
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(m|km)?\s*", str(text).lower())
        if not m:
            raise GeoInputError(f"not a distance: {text!r} (write e.g. 500m or 1km)")
        value = float(m.group(1)) * _UNITS[m.group(2) or ""]
    if not math.isfinite(value) or value < 0:
        raise GeoInputError(f"distance must be finite and >= 0, got {text!r}")
    return value


def parse_km(text: str | float) -> float:
    """A distance in km: a bare number is km (``7``), or with a unit (``7km``, ``500m``).

    Examples
    --------
    >>> parse_km("7"), parse_km("2 km"), parse_km("500m"), parse_km(1.5)
    (7.0, 2.0, 0.5, 1.5)
    """
    if isinstance(text, (int, float)):
        return float(text)
    bare = str(text).strip().lower()
    try:
        return float(bare)
    except ValueError:
        return parse_distance_m(bare) / 1000.0


def resolve_province(name: str, result: AnalysisResult) -> str:
    """Province code for a name, spelling variant or ISO code; unknown names suggest the closest.

    Raises
    ------
    GeoInputError
        For an unknown name, listing the closest province names.
    """
    codes = list(result.provinces["code"])
    code = province_code(name)
    if code is not None and code in codes:
        return code
    # A user province layer: match its own names and codes.
    own = {normalize_name(n): c for n, c in zip(result.provinces["province"], codes)}
    own.update({normalize_name(c): c for c in codes})
    if normalize_name(name) in own:
        return own[normalize_name(name)]
    # A unique beginning of a name or variant ("otdar", "banteay") is enough.
    key = normalize_name(name)
    starts = {c for alias, c in {**_alias_table(), **own}.items() if key and alias.startswith(key) and c in codes}
    if len(starts) == 1:
        return starts.pop()
    names = [PROVINCE_NAMES[c][0] if c in PROVINCE_NAMES else p for c, p in zip(codes, result.provinces["province"])]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5) or difflib.get_close_matches(
        normalize_name(name), [normalize_name(n) for n in names], n=3, cutoff=0.5
    )
    hint = f"; did you mean {', '.join(close)}?" if close else f"; provinces are {', '.join(names)}"
    raise GeoInputError(f"unknown province {name!r}{hint}")


def resolve_band(spec: str, result: AnalysisResult) -> int:
    """Index of the band named ``spec`` (``0-2``, ``0-2 km``, ``beyond 7 km``, ``beyond_7`` ...)."""
    want = normalize_name(str(spec).replace("km", ""))
    for i, (band, key) in enumerate(zip(result.zones["band"], result.zones["key"])):
        if want in (normalize_name(band.replace("km", "")), normalize_name(key)):
            return i
    raise GeoInputError(f"unknown band {spec!r}; bands are {', '.join(result.zones['band'])}")


def neighbor_codes(neighbor: str | Sequence[str] | None) -> list[str] | None:
    """ISO3 codes from ``"THA"``, ``"THA,LAO"``, a list, or ``"all"``/``None`` (every line: None).

    Examples
    --------
    >>> neighbor_codes("tha, lao"), neighbor_codes("all"), neighbor_codes(["VNM"])
    (['THA', 'LAO'], None, ['VNM'])
    """
    if neighbor is None:
        return None
    items = neighbor.split(",") if isinstance(neighbor, str) else list(neighbor)
    codes = [str(c).strip().upper() for c in items if str(c).strip()]
    if not codes or "ALL" in codes:
        return None
    return list(dict.fromkeys(codes))


__all__ = [
    "PROVINCE_NAMES",
    "neighbor_codes",
    "normalize_name",
    "parse_distance_m",
    "parse_km",
    "province_code",
    "resolve_band",
    "resolve_province",
]
