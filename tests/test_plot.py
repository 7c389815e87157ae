"""The static map for reports."""

from __future__ import annotations

from geo.plot import make_plot, write_plot


def test_static_map_png_and_pdf(tmp_path, demo_result):
    fig = make_plot(demo_result, title="Border zones")
    texts = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text()]
    s = demo_result.summary
    assert any(f"{s['within_7km_km2']:,.2f} km²" in t for t in texts)
    assert any("SYNTHETIC" in t for t in texts)
    assert any("OpenStreetMap" in t for t in texts)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "0-2 km: military only" in legend and "frontier" in legend
    png, pdf = write_plot(fig, tmp_path / "zones.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (2338, 1654)  # A4 landscape at 200 dpi
