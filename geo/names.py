"""What users type: province names in their many spellings, and distances with or without units.

Shared by the readers, the queries and the command line, so a name or a distance means the
same thing everywhere.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from geo.errors import GeoInputError

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
def province_aliases() -> dict[str, str]:
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
    return province_aliases().get(normalize_name(name))


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


_DMS = re.compile(
    r"""^\s*(?P<deg>\d+(?:[.,]\d+)?)\s*(?:°|º|d|\s)\s*(?:(?P<min>\d+(?:[.,]\d+)?)\s*(?:'|′|m|\s)?\s*)?"""
    r"""(?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:"|″|''|s)?\s*)?(?P<hemi>[NSEW])?\s*$""",
    re.IGNORECASE,
)


def parse_degrees(text: str | float) -> float:
    """Degrees as users write them: decimal (``13.35``, ``13,35``, ``-13.35``) or degrees, minutes and
    seconds with a hemisphere (``13°21'00"N``, ``102 33 E``; S and W are negative).

    Examples
    --------
    >>> parse_degrees("13.35"), parse_degrees("13,5"), parse_degrees("102 33 E")
    (13.35, 13.5, 102.55)
    >>> parse_degrees("13°21'00\\"N"), parse_degrees("12°30'S")
    (13.35, -12.5)
    """
    if isinstance(text, (int, float)):
        return float(text)
    value = str(text).strip()
    try:
        return float(value.replace(",", "."))
    except ValueError:
        pass
    match = _DMS.match(value)
    if not match:
        raise GeoInputError(
            f"{text!r} is not a latitude or longitude: give decimal degrees (13.35) or degrees, minutes and "
            "seconds with N/S/E/W (13°21'00\"N)"
        )
    parts = [float((match.group(k) or "0").replace(",", ".")) for k in ("deg", "min", "sec")]
    degrees = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
    return round(-degrees if (match.group("hemi") or "").upper() in ("S", "W") else degrees, 10)


def split_site(tokens: Sequence[str]) -> tuple[str, str]:
    """A site's latitude and longitude texts from the words a user typed, however split.

    ``13.35 102.55``, ``"13.35, 102.55"``, ``13 21 00 N 102 33 00 E`` and ``13°21'N 102°33'E``
    all give the two halves :func:`parse_degrees` reads.

    Examples
    --------
    >>> split_site(["13.35,", "102.55"]), split_site(["13 21 N 102 33 E"])
    (('13.35', '102.55'), ('13 21 N', '102 33 E'))
    """
    words = " ".join(str(t) for t in tokens).replace(";", " ").split()
    if len(words) == 1 and words[0].count(",") == 1:  # "13.35,102.55"
        words = words[0].split(",")
    words = [w.rstrip(",") for w in words if w.strip(",")]
    if len(words) == 1:
        raise GeoInputError(f"give both LAT and LON (got only {words[0]!r})")
    hemi = [i for i, w in enumerate(words) if w[-1:].upper() in ("N", "S")]
    if hemi and hemi[0] < len(words) - 1:  # the latitude ends at its N or S
        return " ".join(words[: hemi[0] + 1]), " ".join(words[hemi[0] + 1 :])
    if len(words) == 2:
        return words[0], words[1]
    if len(words) in (4, 6):  # degrees and minutes (and seconds) of each, without hemispheres
        half = len(words) // 2
        return " ".join(words[:half]), " ".join(words[half:])
    raise GeoInputError(
        f"{' '.join(str(t) for t in tokens)!r} is not a site: give LAT LON, e.g. 13.35 102.55 or "
        "13°21'00\"N 102°33'00\"E"
    )


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
    "parse_degrees",
    "parse_distance_m",
    "parse_km",
    "province_code",
]
