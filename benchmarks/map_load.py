"""How fast the demo's HTML map becomes interactive in headless Chromium, network blocked.

Run from the repository root::

    python benchmarks/map_load.py

Prints the median time from navigation to a usable map (Leaflet map loaded and every
data layer drawn) for the demo map and, as the baseline measured in the same run, for
the same page with no data layers; and the ratio between them.  ``--compare OLD.html``
also measures a map written earlier (e.g. by an older version of geo) in the same run::

    python benchmarks/map_load.py --compare old_map.html

``--hazards N`` measures instead a map of N hazards laid out as ``scale.py`` does (above
20,000 pieces: the density grid and every hazard a packed point): the time to make and
write it, its size, its load time against the same page without hazards, and how long the
hazard-id search takes to suggest one hazard::

    python benchmarks/map_load.py --hazards 433000
"""

from __future__ import annotations

import argparse
import dataclasses
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


def without_hazards(result):
    """The same analysis with no hazards to draw (the baseline page)."""
    return dataclasses.replace(result, hazard_pieces=result.hazard_pieces.iloc[:0], hazards=result.hazards.iloc[:0])


def search_time(browser, path: Path, hazard_id: str) -> tuple[float, float]:
    """Seconds for the hazard-id search to suggest ``hazard_id`` typed in full, and for a partial id
    (the first search also builds the page's id index), measured in the page."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page.goto(path.as_uri())
    page.wait_for_function("() => window.geoMap && window.geoMap._loaded")
    times = page.evaluate(
        """(id) => { const l = window.geoLayers['Hazards (points from zoom 11)'];
             const t0 = performance.now(); const i = l.indexOf(id); const t1 = performance.now();
             let n = 0; const want = id.slice(0, 3).toLowerCase();
             for (let k = 0; k < l._d.ids.length && n < 20; k++) { if (l._d.ids[k].toLowerCase().includes(want)) n++; }
             const t2 = performance.now(); return [i >= 0 ? (t1 - t0) / 1000 : -1, (t2 - t1) / 1000]; }""",
        hazard_id,
    )
    page.close()
    return times[0], times[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="an HTML map written earlier, measured in the same run")
    parser.add_argument("--hazards", type=int, help="measure a map of this many hazards (scale.py's layout)")
    args = parser.parse_args()
    if args.hazards:
        return large(args.hazards)
    result = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS))
    tmp = Path(tempfile.mkdtemp())
    demo = write_map(make_map(result), tmp / "demo.html")
    bare = write_map(make_map(without_hazards(result)), tmp / "bare.html")
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


def large(n: int) -> None:
    """A map of ``n`` hazards: made, written, loaded and searched."""
    import sys

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import demo_like

    result = geo.analyze(demo_like(n), error_draws=0)
    tmp = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    path = write_map(make_map(result), tmp / "large.html")
    made = time.perf_counter() - t0
    bare = write_map(make_map(without_hazards(result)), tmp / "bare.html")
    wanted = str(result.hazards["hazard_id"].iloc[len(result.hazards) * 3 // 4])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
        t_map = statistics.median(load_times(browser, path, runs=3))
        t_bare = statistics.median(load_times(browser, bare, runs=3))
        first, partial = search_time(browser, path, wanted)
        browser.close()
    print(f"{n:,} hazards: map made and written in {made:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    print(f"interactive after {t_map:.2f} s (median of 3); without hazards {t_bare:.2f} s; ratio {t_map / t_bare:.2f}x")
    print(f"search: {wanted} found in {first:.3f} s (first search, index built), a partial id in {partial:.3f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
