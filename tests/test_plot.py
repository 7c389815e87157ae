"""The static map for reports: content, formats by extension, colours where they should be, Khmer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb

import geo
from geo.render.mapdata import band_colors
from geo.render.plot import khmer_font, make_plot, write_plot
from tests.conftest import hazards_tm, missing_tool


def test_static_map_png_and_pdf(tmp_path, demo_result):
    fig = make_plot(demo_result, title="Border zones")
    texts = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text()]
    s = demo_result.summary
    assert any(f"{s['within_7km_km2']:,.2f} km²" in t for t in texts)
    assert any("SYNTHETIC" in t for t in texts)
    assert any("OpenStreetMap" in t for t in texts)
    assert any("disputed" in t for t in texts)  # the boundary disclaimer
    ticks = {t.get_text() for t in fig.axes[0].texts}
    assert {"103°E", "105°E", "12°N", "13°N"} <= ticks  # the graticule's labels
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "band 0-2 km: military only" in legend and "frontier analysed" in legend
    assert "hazards 0-2 km" in legend and "hazards beyond 7 km" in legend
    # Province labels on the map and a bar chart of the provinces with contamination.
    map_texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"Battambang", "Pailin", "THAILAND"} <= map_texts
    bars = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert set(bars) == set(demo_result.by_province.loc[demo_result.by_province["area_km2"] > 0, "province"])
    png, pdf = write_plot(fig, tmp_path / "zones.png", also_pdf=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (2338, 1654)  # A4 landscape at 200 dpi
    # Print files keep text as text: TrueType (CID Type 2) fonts in the PDF, no Type 3; <text> in the SVG.
    import re

    subtypes = set(re.findall(rb"/Subtype\s*/(\w+)", pdf.read_bytes()))
    assert b"Type3" not in subtypes and b"CIDFontType2" in subtypes
    (svg,) = write_plot(fig, tmp_path / "zones.svg")
    text = svg.read_text(encoding="utf-8")
    assert text.count("<text") > 20 and "Battambang" in text


def test_hazards_are_drawn_in_their_band_colour_above_the_bands(straight_world):
    provinces, frontier = straight_world
    # A 1 x 20 km hazard in the 0-2 km band and one in 5-7 km.
    res = geo.analyze(
        hazards_tm([(0.5, -10, 1.5, 10), (5.5, -10, 6.5, 10)]),
        geo.Boundaries.from_frames(provinces, frontier),
        frontier_tolerance_m=0,
    )
    fig = make_plot(res)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    ax = fig.axes[0]
    colors = band_colors(res.zones)
    for band in ("0-2 km", "5-7 km"):
        piece = res.by_hazard[res.by_hazard["band"] == band].geometry.iloc[0]
        x, y = ax.transData.transform((piece.centroid.x, piece.centroid.y))
        pixel = rgba[round(rgba.shape[0] - y), round(x), :3] / 255.0
        assert np.allclose(pixel, to_rgb(colors[band]), atol=0.02), (band, pixel)


@pytest.mark.parametrize(("name", "magic"), [("map.svg", b"<?xml"), ("map.pdf", b"%PDF-")])
def test_geo_plot_writes_the_format_of_the_extension(tmp_path, name, magic):
    run = subprocess.run(
        [sys.executable, "-m", "geo.cli", "plot", "-q", "--out", str(tmp_path / name)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / name).read_bytes()[:5] == magic
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # that file only
    bad = subprocess.run(
        [sys.executable, "-m", "geo.cli", "plot", "--out", str(tmp_path / "map.jpg")], capture_output=True, text=True
    )
    assert bad.returncode == 2 and ".png" in bad.stderr and ".svg" in bad.stderr


def test_khmer_labels_use_a_khmer_font(demo_result):
    if khmer_font() is None:
        missing_tool("NO KHMER FONT INSTALLED (Debian: fonts-khmeros): Khmer labels cannot be checked")
    fig = make_plot(demo_result, lang="km", title="ផែនទីមីន")
    labels = [t for t in fig.axes[0].texts if t.get_text() == "បាត់ដំបង"]  # Battambang
    assert labels, "the Khmer name of Battambang is on the map"
    assert "khmer" in labels[0].get_fontproperties().get_family()[0].lower()
    assert "khmer" in fig._suptitle.get_fontproperties().get_family()[0].lower()
    FigureCanvasAgg(fig).draw()  # renders without missing-glyph boxes raising


def test_an_atlas_has_the_country_then_each_border_province(tmp_path, demo_result):
    out = tmp_path / "atlas.pdf"
    run = subprocess.run(
        [sys.executable, "-m", "geo.cli", "plot", "--pages", "provinces", "-q", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    data = out.read_bytes()
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert pages == 1 + int((demo_result.by_province["within_7km_km2"] > 0).sum())
    bad = subprocess.run(
        [sys.executable, "-m", "geo.cli", "plot", "--pages", "provinces", "--out", str(tmp_path / "a.png")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "multi-page PDF" in bad.stderr
    # A province page carries a locator of the country with the part shown outlined; the national page none.
    from geo.constants import ANALYSIS_CRS, WGS84
    from geo.crs import transform_geoms

    pailin = demo_result.provinces.set_index("code").geometry.loc["KH-24"].envelope
    box = transform_geoms(shapely.segmentize(pailin, 1000.0), ANALYSIS_CRS, WGS84).bounds
    page = make_plot(demo_result, title="Pailin", bounds=tuple(box), focus="KH-24", page=(9, 9))
    assert [a.get_gid() for a in page.axes[0].child_axes] == ["geo-locator"]
    # Its chart is the province's own, band by band, as by_province.csv gives it; the page is numbered.
    row = demo_result.by_province.set_index("code").loc["KH-24"]
    chart = page.axes[1]
    assert chart.get_title(loc="left") == "Pailin by band"
    widths = {t.get_text(): p.get_width() for t, p in zip(chart.get_yticklabels(), chart.patches)}
    assert widths["0-2 km"] == pytest.approx(row["band_0-2_km2"]) and len(widths) == len(demo_result.zones)
    assert "page 9 of 9" in [t.get_text() for t in page.texts]
    assert not make_plot(demo_result).axes[0].child_axes


def test_a_zoomed_page_names_the_neighbour_and_the_districts(demo_result):
    """A page of part of the country (Pailin): the national map's country names fall off it, so the
    neighbour is named on its own side of the border, and the districts are named (and outlined)."""
    pailin = (102.3, 12.55, 102.9, 13.15)
    fig = make_plot(demo_result, bounds=pailin)
    ax = fig.axes[0]
    texts = {t.get_text(): t for t in ax.texts}
    assert "THAILAND" in texts and {"Pailin", "Sala Krau"} <= set(texts)
    # THAILAND lies west of the frontier, outside Cambodia's land.
    x, y = texts["THAILAND"].get_position()
    assert not shapely.intersects(demo_result.territory.land, shapely.Point(x, y))
    whole = make_plot(demo_result)  # the national map names the countries where they are, once
    assert [t.get_text() for t in whole.axes[0].texts].count("THAILAND") == 1


def test_bands_narrower_than_a_millimetre_on_the_page_are_drawn_widened_and_said_so(demo_result):
    """The national page (2 km is about half a millimetre) draws each band at least 1 mm wide, and its
    legend says so; a page of 33 km across draws the bands true, without the note."""
    from geo.render.mapdata import widened_bands
    from geo.render.plot import MIN_BAND_MM

    note = f"bands drawn at least {MIN_BAND_MM:g} mm wide here (not to scale)"
    national = make_plot(demo_result)
    assert note in [t.get_text() for t in national.legends[0].get_texts()]
    ax = national.axes[0]
    m_per_mm = (ax.get_xlim()[1] - ax.get_xlim()[0]) / (ax.get_position().width * national.get_figwidth() * 25.4)
    assert 3000 < m_per_mm < 5000  # about 1:3.7 million: a 2 km band would be 0.5 mm
    wide = widened_bands(demo_result, MIN_BAND_MM * m_per_mm)
    true = demo_result.zones[np.isfinite(demo_result.zones["outer_km"])]
    ratio = wide.geometry.area.to_numpy() / true.geometry.area.to_numpy()
    assert ratio[0] > 1.5 and ratio[1] > 1.1 and ratio[2] > 1.5, ratio  # 2, 3, 2 km drawn about 3.7 km each
    assert list(wide["band"]) == list(true["band"]) and (wide["area_km2"] == true["area_km2"]).all()
    close = make_plot(demo_result, bounds=(102.5, 13.5, 102.8, 13.8))
    assert note not in [t.get_text() for t in close.legends[0].get_texts()]


def test_lang_km_writes_every_word_of_the_map_in_khmer(tmp_path, demo_result):
    """Title, subtitle, legend, chart, scale bar, neighbours and footer in Khmer; numbers as in the tables;
    the SYNTHETIC notice kept in English beside its Khmer line; the text is text in the SVG and
    TrueType in the PDF."""
    if khmer_font() is None:
        missing_tool("NO KHMER FONT INSTALLED (Debian: fonts-khmeros): the Khmer map cannot be checked")
    import re

    from geo.render.plot import WORDS

    fig = make_plot(demo_result, lang="km")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert fig.legends[0].get_title().get_text() == WORDS["km"]["legend"]
    assert "ខ្សែក្រវាត់ 0-2 គ.ម៖ សម្រាប់តែយោធា" in legend and "តំបន់គ្រោះថ្នាក់ លើស 7 គ.ម" in legend
    english = ("military only", "frontier analysed", "hazards", "band ", "By province", "contaminated", "page ")
    assert not [t for t in legend if any(w in t for w in english)]
    assert fig._suptitle.get_text() == WORDS["km"]["title"]
    assert "muol" in fig._suptitle.get_fontproperties().get_family()[0].lower()  # Khmer headings' face
    texts = [t.get_text() for t in fig.texts]
    s = demo_result.summary
    assert any(f"{s['within_7km_km2']:,.2f} គ.ម²" in t for t in texts)  # figures as the tables print them
    assert any("SYNTHETIC DEMO DATA" in t and WORDS["km"]["synthetic"] in t for t in texts)
    assert any("វិវាទ" in t for t in texts)  # the boundary disclaimer, in Khmer
    chart = fig.axes[1]
    assert chart.get_title(loc="left") == WORDS["km"]["chart"] and chart.get_xlabel() == WORDS["km"]["xlabel"]
    bars = {t.get_text() for t in chart.get_yticklabels()}
    assert "បាត់ដំបង" in bars and "Battambang" not in bars
    map_texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"ថៃ", "ឡាវ", "ជ", "100 គ.ម"} <= map_texts and "THAILAND" not in map_texts
    (svg,) = write_plot(fig, tmp_path / "km.svg")
    body = svg.read_text(encoding="utf-8")
    assert WORDS["km"]["title"] in body and "សម្រាប់តែយោធា" in body  # <text> elements, not outlines
    (pdf,) = write_plot(fig, tmp_path / "km.pdf")
    subtypes = set(re.findall(rb"/Subtype\s*/(\w+)", pdf.read_bytes()))
    assert b"Type3" not in subtypes and b"CIDFontType2" in subtypes
