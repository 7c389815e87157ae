"""Regenerate the documentation's pictures of the demo maps.

The web map is opened offline in headless Chromium at the sizes its readers use (a phone,
a small laptop, a desktop, a full-HD screen) and the static map is rendered at print size
and scaled for the page:

    python scripts/screenshots.py            # writes docs/map_<w>x<h>.png, docs/print_a4.png and print_a4_km.png

Needs Debian's ``chromium`` and the test extras (playwright).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
SIZES = ((390, 844), (1024, 640), (1400, 900), (1920, 1080))


def main() -> int:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    import geo
    from geo.render.plot import make_plot, write_plot
    from geo.render.webmap import make_map, write_map

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshots: Debian's chromium is needed (apt-get install chromium)", file=sys.stderr)
        return 2
    result = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
    with tempfile.TemporaryDirectory() as tmp:
        page_path = write_map(make_map(result), Path(tmp) / "map.html")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
                page.goto(page_path.as_uri())
                page.wait_for_function("() => window.geoMap && window.geoMap._loaded")
                page.wait_for_timeout(500)
                out = DOCS / f"map_{width}x{height}.png"
                page.screenshot(path=str(out))
                page.close()
                print(f"wrote {out}")
            browser.close()
        png = Path(tmp) / "print.png"
        write_plot(make_plot(result), png)
        with Image.open(png) as im:  # A4 at 200 dpi, shown at a third
            im.resize((im.width // 3, im.height // 3), Image.LANCZOS).save(DOCS / "print_a4.png", optimize=True)
        print(f"wrote {DOCS / 'print_a4.png'}")
        png_km = Path(tmp) / "print_km.png"
        write_plot(make_plot(result, lang="km"), png_km)
        with Image.open(png_km) as im:  # the same page in Khmer (--lang km)
            im.resize((im.width // 3, im.height // 3), Image.LANCZOS).save(DOCS / "print_a4_km.png", optimize=True)
        print(f"wrote {DOCS / 'print_a4_km.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
