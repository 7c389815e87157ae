"""Where a chunked analysis spends its CPU, stage by stage, and the curves' share of the run.

Run from the repository root::

    python benchmarks/stages.py                          # 433,000 hazards (~1 min with the layer made)
    python benchmarks/stages.py --hazards 43300
    python benchmarks/stages.py --layer hazards.gpkg     # a layer of your own

``geo analyze LAYER --engine chunked --workers 1`` runs in this process on ``scale.py``'s seeded
layer (spread like the demo), territory cache warmed first. The baseline is the whole run's CPU
(every thread of the process, ``time.process_time``); each stage is the CPU spent between its call
and its return, summed over the chunks. No profiler runs: a profiler charges Python loops far more
than the libraries' own code and so inflates some stages (a loop over 109,000 values measured
0.29 s under cProfile and 0.058 s without it). The pieces go to GDAL's writer thread while the
next chunk is worked on, and their CPU counts in whichever stage is running then: stages are upper
bounds, and they overlap (the piece rows and the curves are parts of a chunk's analysis). The
target of the curves (the uncertainty ranges, the moved and the other lines, every border) is
under 5 % of a run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import write_layer  # noqa: E402  (benchmarks/ is not a package)

CURVES_TARGET = 0.05


def _timed(owner: object, name: str, label: str, spent: dict[str, float]) -> Callable[[], None]:
    """Replace ``owner.name`` by a version that adds its CPU time to ``spent[label]``; returns the undo."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


def measure(layer: Path, out: Path) -> tuple[float, dict[str, float]]:
    """CPU of the whole run and of each stage, s."""
    from geo.cli import main
    from geo.engine import analysis, chunked
    from geo.io import writers
    from geo.render import export

    spent: dict[str, float] = defaultdict(float)
    stages = [
        (chunked, "_read_chunk", "reading and checking the rows"),
        (analysis.RunPlan, "pieces", "split by province and band, overlaps"),
        (chunked, "hazard_table", "the piece table"),
        (writers.PieceRows, "of", "piece rows for the files (CSV text, Arrow)"),
        (analysis.RunPlan, "curves", "curves: ranges, moved and other lines, every border"),
        (analysis.RunPlan, "finish", "figures, tables and summary"),
        (export, "write_outputs", "the other files"),
    ]
    undo = [_timed(owner, name, label, spent) for owner, name, label in stages]
    try:
        start = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):  # the run's own report
            code = main(["analyze", str(layer), "--out", str(out), "--engine", "chunked", "--workers", "1", "-q"])
        total = time.process_time() - start
    finally:
        for u in undo:
            u()
    if code != 0:
        raise SystemExit(f"geo analyze exited {code}")
    return total, {label: spent[label] for _, _, label in stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=433_000, help="size of scale.py's layer (default 433000)")
    parser.add_argument("--layer", type=Path, help="a hazard layer of your own instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        layer = args.layer
        if layer is None:
            layer = Path(tmp) / f"hazards_{args.hazards}.gpkg"
            print(f"writing {args.hazards:,} seeded hazards ...", flush=True)
            write_layer(layer, args.hazards)
        from geo.cli import main as geo_main

        with contextlib.redirect_stdout(io.StringIO()):  # the territory cache, warmed by the demo
            geo_main(["analyze", "--out", str(Path(tmp) / "warm"), "-q", "--error-draws", "0"])
        total, stages = measure(layer, Path(tmp) / "out")
    print(f"\n{layer.name}: whole run {total:.1f} s of CPU in one process (the baseline)")
    print(f"{'stage':55s} {'CPU s':>7s} {'share':>7s}")
    for label, cpu in stages.items():
        print(f"{label:55s} {cpu:7.2f} {cpu / total:7.1%}")
    share = stages["curves: ranges, moved and other lines, every border"] / total
    verdict = "met" if share < CURVES_TARGET else "not met"
    print(f"curves: {share:.1%} of the run (target under {CURVES_TARGET:.0%}: {verdict})")


if __name__ == "__main__":
    main()
