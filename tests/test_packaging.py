"""A normal install works: a wheel carries the bundled data and runs from any directory."""

from __future__ import annotations

import json
import os
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
    (wheel,) = wheels.glob("geo_mine_action-*.whl")
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
    for wing in ("io", "engine", "planning", "render", "cli"):
        assert f"geo/{wing}/__init__.py" in names, wing
    # A fresh venv; the libraries geo needs come from this environment (no download), geo from the wheel.
    # They are put on its path by a .pth line naming this environment's site-packages: that runs none
    # of the .pth files there, so an editable install of geo in this environment cannot answer for the
    # wheel (a --system-site-packages venv would see it, and the base interpreter's packages, not a venv's).
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py, geo_exe = venv / "bin" / "python", venv / "bin" / "geo"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_geo_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's own path only
    # --ignore-installed: this environment's own install of geo, seen through the .pth line, is not the venv's.
    pip = [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)]
    subprocess.run(pip, check=True, env=clean)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import geo, geo.io.data, geo.cli; print(geo.__file__); print(geo.io.data.__file__); "
            "print(geo.cli.__file__); print(geo.io.data.DATA_DIR)",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
        env=clean,
    ).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the installed copy, not the checkout
    run = subprocess.run([str(geo_exe), "analyze", "-q"], cwd=elsewhere, capture_output=True, text=True, env=clean)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    summary = json.loads((elsewhere / "geo-output" / "summary.json").read_text(encoding="utf-8"))
    assert summary["hazards"] == 4330 and summary["synthetic"] is True
    assert round(summary["area_sum_km2"], 6) == 435.064085
    # The release and scenario verbs find their bundled layer, rules and capacities in the wheel too.
    run = subprocess.run([str(geo_exe), "scenario", "-q"], cwd=elsewhere, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (elsewhere / "geo-output" / "scenario_completion.csv").is_file()
