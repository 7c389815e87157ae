"""Outputs are atomic: a run killed with SIGKILL leaves the previous files or complete new ones, never half a file."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

import geo
from geo.io.outdir import ANALYSIS_FILES

FILES = ANALYSIS_FILES  # every file an analysis writes


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def complete(path: Path) -> bool:
    """A file geo could have written whole: it parses, with its expected content."""
    if path.suffix == ".json":
        return "hazards" in json.loads(path.read_text(encoding="utf-8")) or "features_read" in json.loads(
            path.read_text(encoding="utf-8")
        )
    if path.suffix == ".csv":
        return len(pd.read_csv(path)) > 0
    if path.suffix == ".parquet":
        return len(gpd.read_parquet(path)) > 0
    return set(pyogrio.list_layers(path)[:, 0]) == {"provinces", "districts", "frontier", "zones", "hazard_pieces"}


def geo_cmd(*args) -> list[str]:
    return [sys.executable, "-c", "import sys; from geo.cli import main; sys.exit(main(sys.argv[1:]))", *args]


@pytest.mark.slow
def test_kill_9_mid_run_never_leaves_a_truncated_file(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ}
    assert subprocess.run(geo_cmd("analyze", "--out", str(out), "-q"), env=env, check=False).returncode == 0
    previous = {f: digest(out / f) for f in FILES}
    # A different input, so that new files differ from the previous ones.
    subset = tmp_path / "subset.gpkg"
    geo.read_hazards(geo.DEMO_HAZARDS).iloc[::2].drop(columns=["row"]).to_file(subset, engine="pyogrio")
    start = time.perf_counter()
    assert (
        subprocess.run(geo_cmd("analyze", str(subset), "--out", str(tmp_path / "timing"), "-q"), env=env).returncode
        == 0
    )
    duration = time.perf_counter() - start
    outcomes = set()
    for frac in (0.55, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98):
        proc = subprocess.Popen(
            geo_cmd("analyze", str(subset), "--out", str(out), "-q"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(duration * frac)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for f in FILES:
            path = out / f
            assert path.exists()  # the previous file stays until the new one replaces it whole
            state = "old" if digest(path) == previous[f] else "new"
            assert state == "old" or complete(path), f"{f} truncated after kill at {frac:.0%}"
            outcomes.add(state)
        # put the previous outputs back for the next round
        assert subprocess.run(geo_cmd("analyze", "--out", str(out), "-q"), env=env).returncode == 0
        assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".geo-output"]
    assert "old" in outcomes
