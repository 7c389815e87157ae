"""Inlining a map's web assets so the HTML file opens with no network.

folium writes ``<script src=...>``/``<link href=...>`` tags pointing at CDNs;
:func:`inline_assets` replaces each with the file's text from the
``folium-offline`` package (see :mod:`geo.webmap` for why that package).
"""

from __future__ import annotations

import re

from geo._errors import GeoError

_TAG = re.compile(r'<script src="(?P<js>[^"]+)"></script>|<link rel="stylesheet" href="(?P<css>[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\((?!['\"]?data:)[^)]*\)")


def _offline_assets() -> dict[str, str]:
    try:
        from offlinefolium.elements import _res  # the CDN address -> file text table of folium-offline
    except ImportError as exc:  # pragma: no cover - a broken install
        raise GeoError(
            "the package folium-offline (web assets for offline maps) is not installed; reinstall geo: pip install -e ."
        ) from exc
    return _res


def inline_assets(page: str) -> str:
    """Replace every external script/stylesheet tag with the file's text.

    Raises
    ------
    GeoError
        If an asset is not available offline (the map would break without a network).
    """
    assets = _offline_assets()

    def swap(match: re.Match) -> str:
        url = match.group("js") or match.group("css")
        if url not in assets:
            raise GeoError(f"map asset {url} is not available offline (folium-offline does not carry it)")
        body = assets[url]
        if match.group("js"):
            return "<script>" + body.replace("</script", "<\\/script") + "</script>"
        # Images referenced from plugin stylesheets would be fetched: geo_map.css draws those icons instead.
        return "<style>" + _CSS_URL.sub("none", body) + "</style>"

    page = _TAG.sub(swap, page)
    left = re.findall(r'<(?:script|img|iframe)[^>]*\ssrc="(https?://[^"]+)"|<link[^>]*\shref="(https?://[^"]+)"', page)
    left = [a or b for a, b in left]
    if left:
        raise GeoError(f"map still refers to {left[0]}; it would not open offline")
    return page
