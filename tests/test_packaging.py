"""A normal install works: a wheel carries the bundled data and runs from any directory."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs_anywhere(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("geo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "geo/data/hazards/demo_sha_2023.gpkg",
        "geo/data/boundaries/osm/cambodia.gpkg",
        "geo/data/boundaries/amcharts/provinces.gpkg",
        "geo/data/boundaries/amcharts/LICENSE",
        "geo/data/boundaries/gshhg/frontier.gpkg",
        "geo/data/boundaries/gshhg/COPYING.LESSER",
        "geo/data/boundaries/naturalearth/LICENSE",
        "geo/data/reference/table1_ap_mined_area_2023.csv",
        "geo/data/release/demo_release_2023.gpkg",
        "geo/data/rules/access_2024.toml",
        "geo/data/rules/capacity_2023.csv",
        "geo/static/geo_map.js",
    ):
        assert needed in names, needed
    # A fresh venv; the libraries geo needs come from this environment (no download), geo from the wheel.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py, geo_exe = venv / "bin" / "python", venv / "bin" / "geo"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(py), "-c", "import geo, geo.io.data; print(geo.__file__); print(geo.io.data.DATA_DIR)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the installed copy, not the checkout
    run = subprocess.run([str(geo_exe), "analyze", "-q"], cwd=elsewhere, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    summary = json.loads((elsewhere / "geo-output" / "summary.json").read_text(encoding="utf-8"))
    assert summary["hazards"] == 4330 and summary["synthetic"] is True
    assert round(summary["area_sum_km2"], 6) == 435.064085
    # The release and scenario verbs find their bundled layer, rules and capacities in the wheel too.
    run = subprocess.run([str(geo_exe), "scenario", "-q"], cwd=elsewhere, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (elsewhere / "geo-output" / "scenario_completion.csv").is_file()
