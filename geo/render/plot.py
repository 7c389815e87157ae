"""Print-quality static maps (matplotlib): PNG, PDF or SVG for reports.

Drawn in the equal-area analysis CRS, so the scale bar is true to within
~0.1 % over Cambodia.
"""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geo.constants import ANALYSIS_CRS, NEIGHBOR_NAMES, OUTSIDE, WGS84
from geo.crs import transform_geoms
from geo.engine.analysis import AnalysisResult
from geo.io.writers import atomic_write
from geo.render.mapdata import DISCLAIMER, SURROUNDINGS, band_colors, band_meaning, widened_bands

#: The static map's own words, in English and in Khmer (``--lang km``). Place, province and district
#: names come from the data (Khmer ones from the NCDD gazetteer); the Khmer wording below was written for
#: geo and a Khmer-speaking reader's corrections are welcome. Numbers stay in Western digits, as the
#: tables have them.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Mine contamination in Cambodia's border zones",
        "subtitle": "{area} km² contaminated{where}; {w2} km² within 2 km and {w7} km² ({share}) within 7 km of "
        "the frontier",
        "where": " in {label}",
        "budget": "90 % error budget (frontier, province edges, hazard positions): within 2 km {a}–{b} km², "
        "within 7 km {c}–{d} km²",
        "legend": "Border bands (Cambodian side) and hazards",
        "band": "band {band}: {meaning}",
        "hazards": "hazards {band}",
        "outside": "hazards outside Cambodia",
        "frontier": "frontier analysed",
        "widened": "bands drawn at least {mm:g} mm wide here (not to scale)",
        "surroundings": "neighbouring countries and sea",
        "districts": "district boundary (geoBoundaries 2014)",
        "xlabel": "contaminated km² (overlaps counted once)",
        "chart": "By province and band",
        "chart_one": "{province} by band",
        "page": "page {k} of {n}",
        "free": "Declared mine free 2022-2023 (Mine Action Review 2024): {names}",
        "reference": "Reference figures: Mine Action Review, Clearing the Mines 2024",
        "projection": "Albers equal-area (WGS 84); geo {version}; {when}",
        "disclaimer": DISCLAIMER,
        "synthetic": "",
        "page_sub": "{name}: {area} km² contaminated; {w2} km² within 2 km and {w7} km² within 7 km of the frontier",
        "km": "km",
        "north": "N",
    },
    "km": {
        "title": "ការបំពុលដោយមីន នៅតំបន់ព្រំដែនកម្ពុជា",
        "subtitle": "ផ្ទៃមានការបំពុល {area} គ.ម²{where}; {w2} គ.ម² ក្នុងចម្ងាយ 2 គ.ម និង {w7} គ.ម² ({share}) "
        "ក្នុងចម្ងាយ 7 គ.ម ពីព្រំដែន",
        "where": " នៅ{label}",
        "budget": "ចន្លោះកំហុស 90 % (ព្រំដែន គែមខេត្ត ទីតាំងតំបន់គ្រោះថ្នាក់)៖ ក្នុង 2 គ.ម {a}–{b} គ.ម², ក្នុង 7 គ.ម {c}–{d} គ.ម²",
        "legend": "ខ្សែក្រវាត់ព្រំដែន (ផ្នែកកម្ពុជា) និងតំបន់គ្រោះថ្នាក់",
        "band": "ខ្សែក្រវាត់ {band}៖ {meaning}",
        "hazards": "តំបន់គ្រោះថ្នាក់ {band}",
        "outside": "តំបន់គ្រោះថ្នាក់ក្រៅកម្ពុជា",
        "frontier": "ព្រំដែនដែលបានវិភាគ",
        "widened": "ខ្សែក្រវាត់គូរទទឹងយ៉ាងតិច {mm:g} មម នៅទីនេះ (មិនតាមមាត្រដ្ឋាន)",
        "surroundings": "ប្រទេសជិតខាង និងសមុទ្រ",
        "districts": "ព្រំប្រទល់ស្រុក (geoBoundaries 2014)",
        "xlabel": "ផ្ទៃមានការបំពុល គ.ម² (ផ្ទៃត្រួតគ្នារាប់តែម្តង)",
        "chart": "តាមខេត្ត និងខ្សែក្រវាត់",
        "chart_one": "{province} តាមខ្សែក្រវាត់",
        "page": "ទំព័រ {k} នៃ {n}",
        "free": "ខេត្តដែលបានប្រកាសរួចផុតពីមីន ឆ្នាំ 2022-2023 (Mine Action Review 2024)៖ {names}",
        "reference": "តួលេខយោង៖ Mine Action Review, Clearing the Mines 2024",
        "projection": "ប្រូជិចស្យុង Albers ផ្ទៃស្មើ (WGS 84); geo {version}; {when}",
        "disclaimer": "ព្រំដែនបង្ហាញសម្រាប់តែការវិភាគ និងមិនបង្ហាញជំហរណាមួយលើខ្សែព្រំដែនឡើយ; ផ្នែកខ្លះនៃព្រំដែន"
        "កម្ពុជា រួមទាំងព្រំដែនជាមួយថៃ នៅមានវិវាទ ឬមិនទាន់បានបោះបង្គោល",
        "synthetic": "ទិន្នន័យសំយោគ មិនមែនទីតាំងតំបន់គ្រោះថ្នាក់ពិតទេ",
        "page_sub": "{name}៖ ផ្ទៃមានការបំពុល {area} គ.ម²; {w2} គ.ម² ក្នុងចម្ងាយ 2 គ.ម និង {w7} គ.ម² ក្នុងចម្ងាយ 7 គ.ម ពីព្រំដែន",
        "km": "គ.ម",
        "north": "ជ",
    },
}
#: What each band means (:func:`geo.render.mapdata.band_meaning`), in Khmer.
MEANINGS_KM = {
    "military only": "សម្រាប់តែយោធា",
    "international operators tasked": "ចាត់តាំងប្រតិបត្តិករអន្តរជាតិ",
    "restricted zone, no international operators": "តំបន់ហាមឃាត់ គ្មានប្រតិបត្តិករអន្តរជាតិ",
    "outside the 7 km restricted zone": "ក្រៅតំបន់ហាមឃាត់ 7 គ.ម",
    "crosses the 7 km line": "កាត់ខ្សែ 7 គ.ម",
}
#: The neighbours and the sea, in Khmer.
PLACES_KM = {
    "THAILAND": "ថៃ",
    "LAOS": "ឡាវ",
    "VIET NAM": "វៀតណាម",
    "Gulf of Thailand": "ឈូងសមុទ្រថៃ",
    "Thailand": "ថៃ",
    "Laos": "ឡាវ",
    "Viet Nam": "វៀតណាម",
}


def band_text(band: str, lang: str) -> str:
    """A band's label as printed (``0-2 km``; in Khmer ``0-2 គ.ម``, ``លើស 7 គ.ម``).

    Examples
    --------
    >>> band_text("beyond 7 km", "km"), band_text("2-5 km", "km"), band_text("2-5 km", "en")
    ('លើស 7 គ.ម', '2-5 គ.ម', '2-5 km')
    """
    if lang != "km":
        return band
    if band.startswith("beyond "):
        return "លើស " + band.removeprefix("beyond ").replace(" km", " គ.ម")
    return band.replace(" km", " គ.ម")


def meaning_text(inner_km: float, outer_km: float, lang: str) -> str:
    """What a band means, in the map's language."""
    meaning = band_meaning(inner_km, outer_km)
    return MEANINGS_KM.get(meaning, meaning) if lang == "km" else meaning


def place_text(name: str, lang: str) -> str:
    """A neighbour's or the sea's name, in the map's language."""
    return PLACES_KM.get(name, name) if lang == "km" else name


def polygon_path(geoms: np.ndarray):
    """One compound matplotlib path of polygons: exteriors counter-clockwise, holes clockwise, so that
    the non-zero fill rule of every backend (Agg, PDF, SVG) leaves holes open and fills overlaps.

    Examples
    --------
    >>> ring = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 3, 3))
    >>> path = polygon_path(np.array([ring, shapely.box(5, 0, 6, 1)]))
    >>> len(path.vertices), int((path.codes == 79).sum())  # three rings, each closed
    (15, 3)
    """
    from matplotlib.path import Path as MplPath

    oriented = shapely.orient_polygons(np.asarray(geoms, dtype=object), exterior_cw=False)
    rings = shapely.get_rings(shapely.get_parts(oriented[~shapely.is_empty(oriented)]))
    coords, index = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):
        return MplPath(np.empty((0, 2)))
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    first = np.r_[0, np.flatnonzero(np.diff(index)) + 1]
    codes[first] = MplPath.MOVETO
    codes[np.r_[first[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def _fill(ax, geoms: np.ndarray, colors, *, edgecolors=None, linewidth: float = 0.0, zorder: float = 1, **kw) -> None:
    """Draw polygons as one compound path per colour (a PDF or SVG then holds a few paths, not one per
    polygon: an atlas of the demo's pieces is written in a fraction of the time)."""
    from matplotlib.patches import PathPatch

    geoms = np.asarray(geoms, dtype=object)
    colors = np.asarray(colors, dtype=object)
    edges = colors if edgecolors is None else np.asarray(edgecolors, dtype=object)
    pairs = list(zip(colors.tolist(), edges.tolist()))
    for face, edge in dict.fromkeys(pairs):
        mask = np.array([p == (face, edge) for p in pairs])
        path = polygon_path(geoms[mask])
        if len(path.vertices):
            # add_artist, not add_patch: the map's extent is set by hand, and add_patch would walk every
            # vertex in Python to widen the data limits.
            ax.add_artist(PathPatch(path, facecolor=face, edgecolor=edge, linewidth=linewidth, zorder=zorder, **kw))


def _scale_bar(ax, length_m: float, unit: str = "km") -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (x + i * length_m / 4, y),
                length_m / 4,
                h,
                facecolor="k" if i % 2 == 0 else "w",
                edgecolor="k",
                lw=0.6,
                zorder=10,
            )
        )
    ax.text(x, y + 2.2 * h, "0", ha="center", va="bottom", fontsize=7, zorder=10)
    ax.text(x + length_m, y + 2.2 * h, f"{length_m / 1000:g} {unit}", ha="center", va="bottom", fontsize=7, zorder=10)


def _north_arrow(ax, x: float, y: float, letter: str = "N") -> None:
    """A north arrow with its foot at ``(x, y)`` (axes fractions)."""
    ax.annotate(
        "",
        xy=(x, y + 0.075),
        xytext=(x, y),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.6, "mutation_scale": 14},
        zorder=10,
    )
    bold = "bold" if letter.isascii() else "normal"  # the Khmer faces have no bold
    ax.text(x, y + 0.08, letter, transform=ax.transAxes, ha="center", va="bottom", fontsize=10, fontweight=bold)


#: Static map colours: land outside Cambodia and sea, Cambodia, province edges.
PAPER, LAND, EDGE = "#d9d9d9", "#fbfbf7", "#8a8a8a"
#: Opacity of the bands' fill (the legend's swatches are drawn with the same).
BAND_ALPHA = 0.30
#: On a page where a band would be narrower than this, mm, the bands are drawn this wide (widened).
MIN_BAND_MM = 1.0


@lru_cache(maxsize=1)
def _installed_fonts() -> tuple[tuple[str, str], ...]:
    """(lower-cased family name, path) of every font installed on this machine (fontconfig's list, as
    matplotlib sees it), read once per process: each name is read from its file."""
    from matplotlib import font_manager

    out = []
    for path in sorted(font_manager.findSystemFonts()):
        try:
            out.append((font_manager.FontProperties(fname=path).get_name().lower(), path))
        except (OSError, RuntimeError, ValueError):
            continue
    return tuple(out)


def _system_font(wanted) -> str | None:
    """Path of the first installed font whose lower-cased family name ``wanted`` accepts; or None."""
    return next((path for name, path in _installed_fonts() if wanted(name)), None)


def _font_family(path: str):
    """Font properties of the font file at ``path`` (registered with matplotlib), DejaVu Sans behind it."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    return font_manager.FontProperties(family=[name, "DejaVu Sans"])


def khmer_font() -> str | None:
    """Path of a Khmer font installed on this machine, or None (a text face, not the Muol display ones)."""
    return _system_font(lambda name: "khmer" in name and "muol" not in name)


def _text_font(lang: str, texts: list[str]):
    """Font properties that can draw ``texts`` (a Khmer font when any holds Khmer or ``lang`` is km)."""
    needs_khmer = lang == "km" or any(any("\u1780" <= ch <= "\u17ff" for ch in t) for t in texts if t)
    if not needs_khmer:
        return None
    path = khmer_font()
    if path is None:
        from geo.errors import GeoInputError

        raise GeoInputError(
            "Khmer text needs a Khmer font and none is installed; install one (Debian: fonts-khmeros) "
            "or leave out --lang km / the Khmer title"
        )
    return _font_family(path)


def _title_font(lang: str, head: str):
    """The title's font: with ``lang`` km the Muol display face Khmer headings are set in (Khmer has no
    bold), where installed; else as for any text (:func:`_text_font`)."""
    if lang == "km":
        path = _system_font(lambda name: name == "khmer os muol light")
        if path is not None:
            return _font_family(path)
    return _text_font(lang, [head])


def make_plot(
    result: AnalysisResult,
    title: str | None = None,
    when: str | None = None,
    *,
    lang: str = "en",
    bounds: tuple[float, float, float, float] | None = None,
    subtitle: str | None = None,
    focus: str | None = None,
    page: tuple[int, int] | None = None,
):
    """A static map of an analysis for reports: bands above the provinces, hazards coloured by band,
    province labels, neighbours named, north arrow and scale bar in the sea, and a bar chart of the
    contaminated area per province by band.

    Parameters
    ----------
    result : AnalysisResult
    title : str, optional
        Drawn as text (never as mathtext); Khmer is drawn with a Khmer font.
    when : str, optional
        Date in the footer (default today).
    lang : {"en", "km"}
        Language of the province labels.
    bounds : (west, south, east, north), optional
        Extent to show, WGS 84 degrees (an area of interest); default the whole country.
    subtitle : str, optional
        The line under the title; default the analysis's headline figures.
    focus : str, optional
        A province code: the chart beside the map gives that province's area in each band.
    page : (number, count), optional
        Printed at the bottom right (an atlas's pages).

    Returns
    -------
    matplotlib.figure.Figure
        A4 landscape.
    """
    if lang not in ("en", "km"):
        raise ValueError(f"lang must be 'en' or 'km', not {lang!r}")
    font = _text_font(lang, [title or ""])
    if font is None:
        return _make_plot(result, title, when, lang=lang, bounds=bounds, subtitle=subtitle, focus=focus, page=page)
    import matplotlib

    # Every word on the page in the Khmer font (Latin letters fall back to DejaVu Sans); the text is
    # laid out with complex-script shaping (matplotlib's libraqm), so coeng subscripts join as written.
    with matplotlib.rc_context({"font.family": font.get_family()}):
        return _make_plot(result, title, when, lang=lang, bounds=bounds, subtitle=subtitle, focus=focus, page=page)


def _make_plot(
    result: AnalysisResult,
    title: str | None,
    when: str | None,
    *,
    lang: str,
    bounds: tuple[float, float, float, float] | None,
    subtitle: str | None,
    focus: str | None,
    page: tuple[int, int] | None,
):
    """:func:`make_plot`, with the fonts of ``lang`` already in force."""
    words = WORDS[lang]
    when = when or date.today().isoformat()
    s = result.summary
    head = title or words["title"]
    names = result.provinces
    labels = list(names["name_km"].fillna("")) if lang == "km" else list(names["province"])
    font = _title_font(lang, head)
    fig = Figure(figsize=(11.69, 8.27), dpi=100)
    ax = fig.add_axes((0.01, 0.07, 0.60, 0.76 if lang == "km" else 0.80))  # under a taller Khmer heading
    ax.set_facecolor(PAPER)
    if bounds is not None:
        box = transform_geoms(shapely.segmentize(shapely.box(*bounds), 0.01), WGS84, ANALYSIS_CRS)
        xmin, ymin, xmax, ymax = box.bounds
    else:
        xmin, ymin, xmax, ymax = result.provinces.total_bounds
    pad = 0.04 * max(xmax - xmin, ymax - ymin)
    # Only what the page shows is drawn (a province page of an atlas does not carry the whole country).
    view = (xmin - 2 * pad, ymin - 2 * pad, xmax + 2 * pad, ymax + 2 * pad)

    def shown(frame):
        clipped = shapely.clip_by_rect(frame.geometry.values, *view)
        keep = ~shapely.is_empty(clipped)
        return frame[keep].set_geometry(clipped[keep]) if bounds is not None else frame

    shown(result.provinces).plot(ax=ax, color=LAND, edgecolor=EDGE, linewidth=0.45, zorder=1)
    colors = band_colors(result.zones)
    # Bands narrower than MIN_BAND_MM on the page (the national page: 2 km is about half a millimetre) are
    # drawn widened away from the frontier, and the legend says so.
    ax_w, ax_h = (
        ax.get_position().width * fig.get_figwidth() * 25.4,
        ax.get_position().height * fig.get_figheight() * 25.4,
    )
    page_m_per_mm = max((view[2] - view[0]) / ax_w, (view[3] - view[1]) / ax_h)
    widened = widened_bands(result, MIN_BAND_MM * page_m_per_mm)
    finite = shown(widened if widened is not None else result.zones[result.zones["outer_km"].map(math.isfinite)])
    finite.plot(ax=ax, color=[colors[b] for b in finite["band"]], alpha=BAND_ALPHA, linewidth=0, zorder=2)
    districts = result.territory.districts
    if districts is not None:
        # District boundaries as thin lines under the bands, the provinces' edges redrawn over them; the
        # districts are named on a zoomed page (an atlas page, an AOI).
        shown(districts).boundary.plot(ax=ax, color="#9a9a9a", linewidth=0.2, zorder=1.5)
        shown(result.provinces).boundary.plot(ax=ax, color=EDGE, linewidth=0.45, zorder=1.6)
    pieces = result.hazard_pieces
    drawn = pieces[shapely.intersects(pieces.geometry.values, shapely.box(*view))] if bounds is not None else pieces
    if len(drawn):
        hz_colors = [colors.get(b, "k") for b in drawn["band"]]
        # An edge in the same colour keeps the smallest hazards visible at national scale.
        _fill(ax, drawn.geometry.to_numpy(), hz_colors, linewidth=0.35, zorder=3)
    result.frontier.to_crs(ANALYSIS_CRS).plot(ax=ax, color="k", linewidth=1.1, linestyle=(0, (4, 2)), zorder=4)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    label_font = _text_font(lang, labels) if lang == "km" else None
    for geom, text in zip(result.provinces.geometry, labels):
        p = geom.representative_point()
        if text and xmin - pad < p.x < xmax + pad and ymin - pad < p.y < ymax + pad:
            ax.text(
                p.x,
                p.y,
                text,
                fontsize=6.5,
                ha="center",
                va="center",
                color="#333",
                zorder=6,
                fontproperties=label_font,
                parse_math=False,  # province names are data, not mathtext
                clip_on=True,
            )
    if districts is not None and bounds is not None:
        names_d = list(districts["name_km"].fillna("")) if lang == "km" else list(districts["district"])
        for geom, text in zip(districts.geometry, names_d):
            p = geom.representative_point()
            if text and xmin < p.x < xmax and ymin < p.y < ymax:
                ax.text(
                    p.x,
                    p.y - 0.012 * (ymax - ymin),
                    text,
                    fontsize=5,
                    ha="center",
                    va="center",
                    color="#666",
                    style="italic" if lang != "km" else "normal",
                    zorder=4.6,  # under the locator inset (an inset axes at zorder 5)
                    fontproperties=label_font,
                    parse_math=False,
                    clip_on=True,
                )
    for text, lon, lat in SURROUNDINGS:  # named where they fall inside the extent shown
        q = transform_geoms(shapely.Point(lon, lat), WGS84, ANALYSIS_CRS)
        ax.text(
            q.x,
            q.y,
            place_text(text, lang),
            fontsize=8 if text.isupper() else 7,
            color="#6b6b6b",
            ha="center",
            va="center",
            style="normal" if text.isupper() else "italic",
            zorder=5,
            clip_on=True,
        )
    if bounds is not None:
        _name_neighbours(ax, result, (xmin, ymin, xmax, ymax), lang)
    span = ax.get_xlim()[1] - ax.get_xlim()[0]
    _graticule(ax)
    if bounds is not None:  # a page of part of the country: where it lies
        _locator(ax, result, (xmin, ymin, xmax, ymax))
    _scale_bar(ax, _nice_length(span / 5), words["km"])
    _north_arrow(ax, 0.05, 0.12, words["north"])
    if lang == "km":  # Khmer lines stand taller: the heading is stacked from the top, each under the last
        fig.suptitle(head, fontsize=13, y=0.992, va="top", parse_math=False, fontproperties=font)
    else:
        fig.suptitle(head, fontsize=14, fontweight="bold", y=0.97, parse_math=False, fontproperties=font)
    where = words["where"].format(label=s["aoi"]["label"]) if s.get("aoi") else ""
    sub = words["subtitle"].format(
        area=f"{s['area_km2']:,.2f}",
        where=where,
        w2=f"{s['within_2km_km2']:,.2f}",
        w7=f"{s['within_7km_km2']:,.2f}",
        share=f"{s['share_within_7km']:.1%}",
    )
    eb = s.get("error_budget")
    y_sub, y_budget, y_notice = (0.948, 0.918, 0.888) if lang == "km" else (0.937 if eb else 0.925, 0.917, 0.895)
    va = "top" if lang == "km" else "baseline"
    fig.text(0.5, y_sub, subtitle or sub, ha="center", va=va, fontsize=9, parse_math=False)  # may name a file
    if eb:
        e2, e7 = eb["within_2km_km2"], eb["within_7km_km2"]
        budget = words["budget"].format(
            a=f"{e2['p05']:,.2f}", b=f"{e2['p95']:,.2f}", c=f"{e7['p05']:,.2f}", d=f"{e7['p95']:,.2f}"
        )
        fig.text(0.5, y_budget, budget, ha="center", va=va, fontsize=8, color="#333", parse_math=False)
    if s.get("notice"):
        fig.text(
            0.5,
            y_notice,
            s["notice"] + (f"\n{words['synthetic']}" if words["synthetic"] else ""),
            ha="center",
            va=va,
            fontsize=7.5,
            color="white",
            fontweight="normal" if lang == "km" else "bold",  # the Khmer faces have no bold
            bbox={"facecolor": "#b00020", "edgecolor": "none", "pad": 3},
        )
    _bar_chart(fig, result, colors, focus, lang)
    if page is not None:
        fig.text(0.99, 0.035, words["page"].format(k=page[0], n=page[1]), ha="right", va="bottom", fontsize=7,
                 color="#333")  # fmt: skip
    handles = [
        Patch(
            facecolor=colors[b],
            alpha=BAND_ALPHA,
            edgecolor="none",
            label=words["band"].format(band=band_text(b, lang), meaning=meaning_text(i, o, lang)),
        )
        for b, i, o in zip(finite["band"], finite["inner_km"], finite["outer_km"])
    ]
    handles += [
        Patch(facecolor=colors[b], edgecolor=colors[b], label=words["hazards"].format(band=band_text(b, lang)))
        for b in result.zones["band"]
    ]
    if (pieces["band"] == OUTSIDE).any() if len(pieces) else False:
        handles.append(Patch(facecolor="k", label=words["outside"]))
    handles.append(Line2D([], [], color="k", linestyle=(0, (4, 2)), label=words["frontier"]))
    if widened is not None:
        handles.append(Line2D([], [], color="none", label=words["widened"].format(mm=MIN_BAND_MM)))
    handles.append(Patch(facecolor=PAPER, edgecolor=EDGE, label=words["surroundings"]))
    if districts is not None:
        handles.append(Line2D([], [], color="#9a9a9a", linewidth=0.6, label=words["districts"]))
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.625, 0.43),
        fontsize=6.5 if lang == "km" else 7,
        labelspacing=0.3 if lang == "km" else 0.5,
        ncol=1,
        frameon=False,
        title=words["legend"],
        title_fontsize=7.5,
        alignment="left",
    )
    bp = result.by_province
    if "declared_mine_free" in bp.columns and bp["declared_mine_free"].any():
        declared = bp["declared_mine_free"].astype(bool)
        column = "name_km" if lang == "km" and "name_km" in bp.columns else "province"
        free = ", ".join(sorted(bp.loc[declared, column].fillna(bp.loc[declared, "province"]).astype(str)))
        fig.text(
            0.625,
            0.05 if lang == "km" else 0.085,
            words["free"].format(names=free),
            fontsize=6,
            color="#333",
            ha="left",
            va="bottom",
            wrap=True,
            parse_math=False,
        )
    inputs = [v for v in s.get("inputs", {}).values() if isinstance(v, dict)]
    sources = list(dict.fromkeys(v["attribution"] for v in inputs if v.get("attribution")))
    foot = " | ".join(
        [
            *sources,
            words["reference"],
            words["projection"].format(version=s.get("version", ""), when=when),
            words["disclaimer"],
        ]
    )
    fig.text(0.01, 0.01, foot, fontsize=5.5, ha="left", va="bottom", wrap=True)
    return fig


def _name_neighbours(ax, result: AnalysisResult, box: tuple[float, float, float, float], lang: str = "en") -> None:
    """On a page of part of the country (an atlas page, an AOI), name each neighbour whose border runs
    through it, on its own side of the border (the country names of the national map fall off such a page)."""
    xmin, ymin, xmax, ymax = box
    view = shapely.box(*box)
    seen = {
        text.upper()
        for text, lon, lat in SURROUNDINGS
        if shapely.contains(view, transform_geoms(shapely.Point(lon, lat), WGS84, ANALYSIS_CRS))
    }
    borders = result.borders.to_crs(ANALYSIS_CRS) if len(result.borders) else result.borders
    land = result.territory.land
    reach = 0.07 * max(xmax - xmin, ymax - ymin)
    for iso3, line in zip(borders.get("neighbor", []), borders.geometry.values):
        name = NEIGHBOR_NAMES.get(str(iso3).upper(), str(iso3)).upper()
        part = shapely.intersection(line, shapely.box(xmin + reach, ymin + reach, xmax - reach, ymax - reach))
        if name in seen or part.is_empty or part.length == 0:
            continue
        mid = shapely.line_interpolate_point(part, 0.5, normalized=True)
        near = shapely.line_interpolate_point(part, min(part.length, 0.5 * part.length + 100.0))
        dx, dy = near.x - mid.x, near.y - mid.y
        norm = math.hypot(dx, dy) or 1.0
        for side in (1.0, -1.0):  # the side of the border away from Cambodia's land
            spot = shapely.Point(mid.x - side * dy / norm * reach, mid.y + side * dx / norm * reach)
            if not shapely.intersects(land, spot) and shapely.contains(view, spot):
                ax.text(spot.x, spot.y, place_text(name, lang), fontsize=8, color="#6b6b6b", ha="center",
                        va="center", zorder=5, clip_on=True, parse_math=False)  # fmt: skip
                seen.add(name)
                break


def _graticule(ax) -> None:
    """Meridians and parallels (WGS 84 degrees) drawn faintly over the map, labelled inside its frame:
    every degree at national scale, every quarter degree on a province page."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    frame = transform_geoms(shapely.segmentize(shapely.box(x0, y0, x1, y1), (x1 - x0) / 50), ANALYSIS_CRS, WGS84)
    lon0, lat0, lon1, lat1 = frame.bounds
    step = 1.0 if lon1 - lon0 > 3 else (0.5 if lon1 - lon0 > 1.5 else 0.25)
    style = {"color": "#7a8a99", "linewidth": 0.3, "alpha": 0.7, "zorder": 0.8}
    label = {"fontsize": 5.5, "color": "#4a5a69", "zorder": 7, "clip_on": True}
    dy, dx = 0.008 * (y1 - y0), 0.006 * (x1 - x0)
    for lon in np.arange(math.ceil(lon0 / step) * step, lon1, step):
        line = transform_geoms(
            shapely.LineString([(lon, lat0 - 1), (lon, lat1 + 1)]).segmentize(0.05), WGS84, ANALYSIS_CRS
        )
        xs, ys = shapely.get_coordinates(line).T
        ax.plot(xs, ys, **style)
        at = float(np.interp(y0, ys, xs))
        if x0 + dx < at < x1 - dx:
            ax.text(at, y0 + dy, f"{lon:g}°E", ha="center", va="bottom", **label)
    for lat in np.arange(math.ceil(lat0 / step) * step, lat1, step):
        line = transform_geoms(
            shapely.LineString([(lon0 - 1, lat), (lon1 + 1, lat)]).segmentize(0.05), WGS84, ANALYSIS_CRS
        )
        xs, ys = shapely.get_coordinates(line).T
        ax.plot(xs, ys, **style)
        at = float(np.interp(x0, xs, ys))
        if y0 + dy < at < y1 - dy:
            ax.text(x0 + dx, at, f"{lat:g}°N", ha="left", va="center", **label)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _locator(ax, result: AnalysisResult, box: tuple[float, float, float, float]) -> None:
    """A small map of the country in the page's top left corner with the part shown outlined."""
    inset = ax.inset_axes((0.01, 0.77, 0.22, 0.22))
    inset.set_facecolor("white")
    result.provinces.plot(ax=inset, color=LAND, edgecolor=EDGE, linewidth=0.2)
    bx = shapely.box(*box)
    xs, ys = shapely.get_coordinates(bx.exterior).T
    inset.plot(xs, ys, color="#b00020", linewidth=1.0)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.set_gid("geo-locator")


def _nice_length(target_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^k m) not above ``target_m``."""
    k = 10 ** math.floor(math.log10(max(target_m, 1.0)))
    return max(m * k for m in (1, 2, 5) if m * k <= target_m) if target_m >= 1 else 1.0


def _bar_chart(fig, result: AnalysisResult, colors: dict, focus: str | None = None, lang: str = "en") -> None:
    """Contaminated area (land counted once) per province, stacked by band, beside the map; with
    ``focus`` (a province code), that province's own area in each band."""
    from geo.engine.zones import band_key

    words = WORDS[lang]
    bp = result.by_province
    if lang == "km" and "name_km" in bp.columns:  # the Khmer names, where the gazetteer has them
        bp = bp.assign(province=bp["name_km"].where(bp["name_km"].fillna("") != "", bp["province"]))
    ax = fig.add_axes((0.755, 0.50, 0.225, 0.29 if lang == "km" else 0.36))
    if focus is not None:
        row = bp.set_index("code").loc[focus]
        bands = [
            (band_text(band, lang), float(row.get(f"band_{band_key(inner, outer)}_km2", 0.0)))
            for band, inner, outer in zip(result.zones["band"], result.zones["inner_km"], result.zones["outer_km"])
        ][::-1]
        shown = [band_text(b, lang) for b in result.zones["band"]][::-1]
        fill = [colors[b] for b in result.zones["band"]][::-1]
        ax.barh(shown, [v for _, v in bands], color=fill, height=0.7)
        for k, (_, v) in enumerate(bands):
            ax.text(v, k, f" {v:,.2f}", va="center", fontsize=7)
        ax.set_xlabel(words["xlabel"], fontsize=7)
        ax.set_title(words["chart_one"].format(province=row["province"]), fontsize=9, loc="left")
        ax.title.set_parse_math(False)
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        return
    bp = bp[bp["area_km2"] > 0].sort_values("area_km2")
    left = [0.0] * len(bp)
    for band, inner, outer in zip(result.zones["band"], result.zones["inner_km"], result.zones["outer_km"]):
        col = f"band_{band_key(inner, outer)}_km2"
        if col not in bp.columns:
            continue
        vals = bp[col].to_numpy()
        ax.barh(bp["province"], vals, left=left, color=colors[band], label=band, height=0.7)
        left = [a + b for a, b in zip(left, vals)]
    if "outside_cambodia_km2" in bp.columns and (bp["outside_cambodia_km2"] > 0).any():
        ax.barh(bp["province"], bp["outside_cambodia_km2"], left=left, color="k", height=0.7)
    ax.set_xlabel(words["xlabel"], fontsize=7)
    ax.set_title(words["chart"], fontsize=9, loc="left")
    for label in ax.get_yticklabels():  # province names are data, not mathtext
        label.set_parse_math(False)
    ax.tick_params(labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


#: Print files keep their text as text: TrueType fonts embedded in PDFs (not Type 3 outlines), and
#: ``<text>`` elements in SVGs (editable in Inkscape or Illustrator, searchable, selectable).
PRINT_TEXT = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}


def _save(fig, tmp: Path, **kw) -> None:
    import matplotlib

    with matplotlib.rc_context(PRINT_TEXT):
        fig.savefig(tmp, **kw)


def write_plot(fig, path: str | Path, also_pdf: bool = False) -> list[Path]:
    """Write ``fig`` in the format of ``path``'s extension (.png at 200 dpi, .pdf, .svg), atomically;
    with ``also_pdf`` a PDF beside a PNG (same stem)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf", "svg"):
        from geo.errors import GeoInputError

        raise GeoInputError(f"{path.name}: a static map is written as .png, .pdf or .svg")
    written = [path]
    atomic_write(path, lambda tmp: _save(fig, tmp, dpi=200, format=fmt))
    if also_pdf and fmt == "png":
        pdf = path.with_suffix(".pdf")
        atomic_write(pdf, lambda tmp: _save(fig, tmp, format="pdf"))
        written.append(pdf)
    return written


def write_atlas(result: AnalysisResult, path: str | Path, *, title: str | None = None, lang: str = "en") -> Path:
    """A multi-page PDF atlas, atomically: the national map, then one page per province with contamination
    within 7 km of the frontier (most first), each fitted to that province.

    Returns
    -------
    Path
        The PDF written.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    bp = result.by_province
    border = bp[bp["within_7km_km2"] > 0].sort_values("within_7km_km2", ascending=False)
    shapes = result.provinces.set_index("code").geometry

    def _write(tmp: Path) -> None:
        import matplotlib

        with matplotlib.rc_context(PRINT_TEXT), PdfPages(tmp) as pdf:
            total = 1 + len(border)
            pdf.savefig(make_plot(result, title=title, lang=lang, page=(1, total)))
            names = border["province"]
            if lang == "km" and "name_km" in border.columns:
                names = border["name_km"].where(border["name_km"].fillna("") != "", border["province"])
            for k, (code, name) in enumerate(zip(border["code"], names), start=2):
                box = transform_geoms(shapely.segmentize(shapes[code].envelope, 1000.0), ANALYSIS_CRS, WGS84)
                head = f"{title + ': ' if title else ''}{name} ({code})"
                r = border.set_index("code").loc[code]
                sub = WORDS[lang]["page_sub"].format(
                    name=name,
                    area=f"{r['area_km2']:,.2f}",
                    w2=f"{r['within_2km_km2']:,.2f}",
                    w7=f"{r['within_7km_km2']:,.2f}",
                )
                pdf.savefig(
                    make_plot(
                        result,
                        title=head,
                        lang=lang,
                        bounds=tuple(box.bounds),
                        subtitle=sub,
                        focus=code,
                        page=(k, total),
                    )
                )

    atomic_write(path, _write)
    return path


__all__ = ["make_plot", "write_atlas", "write_plot"]


def write_curve_plot(curve, path: str | Path, summary: dict | None = None) -> Path:
    """Plot contaminated area within distance d of the frontier (total and per province), 2 and 7 km marked."""
    fig = Figure(figsize=(9, 5.5), dpi=100)
    ax = fig.subplots()
    d = curve["distance_km"]
    ax.plot(d, curve["total_km2"], color="k", lw=2.2, label="all provinces")
    for col in [c for c in curve.columns if c not in ("distance_km", "total_km2")]:
        ax.plot(d, curve[col], lw=1.3, label=col.removesuffix("_km2"))
    for km, text in ((2.0, "2 km: military only"), (7.0, "7 km: restricted zone")):
        if d.min() <= km <= d.max():
            ax.axvline(km, color="#b00020", ls="--", lw=1)
            ax.text(km, ax.get_ylim()[1] * 0.98, f" {text}", color="#b00020", va="top", fontsize=8)
    ax.set_xlabel("distance from the frontier, d (km)")
    ax.set_ylabel("contaminated area within d (km²)")
    ax.set_title("If the restricted zone were d km wide: contamination inside it")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.01, 0.93))
    if summary and summary.get("notice"):
        fig.text(0.5, 0.005, summary["notice"], ha="center", fontsize=6.5, color="#b00020")
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
    return path


def write_burndown(sc, path: str | Path) -> Path:
    """Land left per band at the end of each year, one panel per set of rules (PNG, 150 dpi).

    ``sc`` is a :class:`geo.planning.scenario.ScenarioResult`; completion years and their ranges
    are written on each panel.
    """
    data = sc.burndown.groupby(["rules", "year", "band"], sort=False)["remaining_km2"].sum().reset_index()
    rules = list(dict.fromkeys(data["rules"]))
    bands = list(dict.fromkeys(sc.completion["band"]))
    palette = ["#b2182b", "#ef8a62", "#fddbc7", "#67a9cf", "#2166ac", "#999999"]
    fig = Figure(figsize=(5.5 * len(rules) + 1, 5.0), dpi=100)
    axes = fig.subplots(1, len(rules), sharey=True, squeeze=False)[0]
    last = int(data["year"].max())
    for ax, name in zip(axes, rules):
        d = data[data["rules"] == name].pivot(index="year", columns="band", values="remaining_km2").fillna(0.0)
        d = d.reindex(range(int(d.index.min()), last + 1)).ffill()
        cols = [b for b in bands if b in d.columns]
        ax.stackplot(
            d.index, *[d[b] for b in cols], labels=cols, colors=palette[: len(cols)], edgecolor="white", linewidth=0.4
        )
        info = next(s for s in sc.summary["scenarios"] if s["rules"] == name)["all_land"]
        done = "never" if info["year"] is None else f"{info['year']} (range {info['low']}-{info['high'] or 'never'})"
        ax.set_title(f"{name}\nall land released: {done}", fontsize=10, parse_math=False)
        ax.set_xlabel("end of year")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("contaminated land left (km²)")
    axes[0].legend(fontsize=8, loc="upper right", title="band", title_fontsize=8)
    notice = sc.summary.get("notice")
    fig.suptitle("Projected land release by border band", fontsize=12, fontweight="bold")
    s = sc.summary
    foot = (
        f"capacity ±{s['capacity_range']:.0%}; 1 m² cleared releases {s['release_per_cleared_m2']:.2f} m² "
        "(Table 4 shares); Mine Action Review, Clearing the Mines 2024"
    )
    fig.text(0.01, 0.01, foot, fontsize=7)
    if notice:
        fig.text(0.5, 0.93, notice, ha="center", fontsize=6.5, color="#b00020")
    fig.tight_layout(rect=(0, 0.04, 1, 0.92))
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
    return path
