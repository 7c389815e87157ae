"""End-to-end time of ``geo analyze`` on the bundled demo, cold and warm cache.

Run from the repository root::

    python benchmarks/analyze_demo.py

The baseline, measured in the same run, is interpreter start-up plus importing
geo and its libraries (``python -c "import geo, geo.cli"``); the work of the
analysis is the run's time minus that baseline, compared with the 3 s budget.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

BUDGET_S = 3.0


def timed(args: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    py = sys.executable
    run = [py, "-c", "import sys; from geo.cli import main; sys.exit(main(sys.argv[1:]))"]
    base = statistics.median(timed([py, "-c", "import geo, geo.cli"], dict(os.environ)) for _ in range(3))
    cold, warm = [], []
    for _ in range(3):
        cache, out = tempfile.mkdtemp(), tempfile.mkdtemp()
        env = {**os.environ, "GEO_CACHE_DIR": cache}
        cold.append(timed([*run, "analyze", "--out", out, "--force", "-q"], env))
        warm.append(timed([*run, "analyze", "--out", out, "--force", "-q"], env))
    c, w = statistics.median(cold) - base, statistics.median(warm) - base
    print(f"start-up + imports of geo, geopandas, shapely, pyproj (baseline): {base:.2f} s")
    print(f"geo analyze, cold cache: {c:.2f} s of work ({c / BUDGET_S:.0%} of the {BUDGET_S:g} s budget)")
    print(f"geo analyze, warm cache: {w:.2f} s of work ({w / BUDGET_S:.0%} of the budget); cold/warm {c / w:.1f}x")


if __name__ == "__main__":
    main()
