"""The bundled demo hazards: reproducible from their generator, and what they claim to be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

import geo

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_generator_reproduces_the_shipped_file(tmp_path):
    out = tmp_path / "demo.gpkg"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_hazards.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    shipped, fresh = gpd.read_file(geo.DEMO_HAZARDS), gpd.read_file(out)
    assert shipped.drop(columns="geometry").equals(fresh.drop(columns="geometry"))
    assert shapely.hausdorff_distance(shipped.geometry.values, fresh.geometry.values).max() < 1e-9


def test_demo_says_it_is_synthetic_and_its_shapes(demo_hazards, boundaries):
    meta = pyogrio.read_info(geo.DEMO_HAZARDS)["layer_metadata"]
    assert meta["SYNTHETIC"] == "yes" and "NOT real" in meta["NOTICE"]
    assert demo_hazards["synthetic"].all()
    from geo.constants import ANALYSIS_CRS

    area = demo_hazards.to_crs(ANALYSIS_CRS).area
    assert area.min() >= 300 - 1e-6 and area.max() <= 4.5e6 + 1e-6  # a few hundred m2 to a few km2
    assert len(shapely.STRtree(demo_hazards.geometry.values).query(demo_hazards.geometry.values, "overlaps")[0]) == 0
    # wholly inside the national outline
    land = boundaries.outline.geometry.union_all()
    assert shapely.within(demo_hazards.geometry.values, land).all()
