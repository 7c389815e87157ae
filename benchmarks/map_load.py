"""How fast the demo's HTML map becomes interactive in headless Chromium, network blocked.

Run from the repository root::

    python benchmarks/map_load.py

Prints the median time from navigation to a usable map (Leaflet map loaded and every
data layer drawn) for the demo map and, as the baseline measured in the same run, for
the same page with no data layers; and the ratio between them.  ``--compare OLD.html``
also measures a map written earlier (e.g. by an older version of geo) in the same run::

    python benchmarks/map_load.py --compare old_map.html
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import geo
from geo.render.webmap import make_map, write_map


def load_times(browser, path: Path, runs: int = 5) -> list[float]:
    out = []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function("() => window.geoMap && window.geoMap._loaded")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        out.append(time.perf_counter() - t0)
        page.close()
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="an HTML map written earlier, measured in the same run")
    args = parser.parse_args()
    result = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
    tmp = Path(tempfile.mkdtemp())
    demo = write_map(make_map(result), tmp / "demo.html")
    empty = result.by_hazard.iloc[:0]
    bare = write_map(make_map(type(result)(**{**result.__dict__, "by_hazard": empty})), tmp / "bare.html")
    chromium = shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        t_demo = statistics.median(load_times(browser, demo))
        t_bare = statistics.median(load_times(browser, bare))
        t_old = statistics.median(load_times(browser, args.compare.resolve())) if args.compare else None
        browser.close()
    print(f"demo map {demo.stat().st_size / 1e6:.2f} MB: interactive after {t_demo:.2f} s (median of 5)")
    print(f"same map without hazards {bare.stat().st_size / 1e6:.2f} MB: {t_bare:.2f} s; ratio {t_demo / t_bare:.2f}x")
    if t_old is not None:
        size = args.compare.stat().st_size / 1e6
        print(f"{args.compare.name} {size:.2f} MB: {t_old:.2f} s; this version / that one {t_demo / t_old:.2f}x")


if __name__ == "__main__":
    main()
