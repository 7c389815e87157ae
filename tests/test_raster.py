"""The density raster: exact areas per cell, written as a GeoTIFF."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from geo.cli import main
from geo.render.raster import density_grid, write_density
from tests.conftest import missing_tool


def test_density_sums_to_the_contaminated_area(demo_result):
    grid, _ = density_grid(demo_result, 1000.0)
    inside = demo_result.summary["area_km2"] - demo_result.summary["outside_cambodia_km2"]
    assert grid.sum() / 1e6 == pytest.approx(inside, rel=1e-12)
    assert grid.max() <= 1e6 + 1e-6 and grid.min() >= 0  # no cell holds more than its own km2


def test_density_cells_follow_the_hazards(straight_world):
    import geo
    from tests.conftest import hazards_tm

    provinces, frontier = straight_world
    res = geo.analyze(
        hazards_tm([(1, 0, 6, 1)]), geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=0
    )
    grid, _ = density_grid(res, 500.0)
    assert grid.sum() == pytest.approx(5e6, rel=2e-5)
    assert (grid > 0).sum() >= 20  # 5 km x 1 km over 500 m cells: at least 20 cells touched


def test_geotiff_written_with_units_and_notice(tmp_path, demo_result):
    path = write_density(demo_result, tmp_path / "d.tif", 2000.0)
    with rasterio.open(path) as src:
        band = src.read(1, masked=True)
        assert src.res == (2000.0, 2000.0)
        assert "m2" in src.tags()["UNITS"] and "SYNTHETIC" in src.tags()["NOTICE"]
        assert float(band.sum(dtype=np.float64)) / 1e6 == pytest.approx(demo_result.summary["area_km2"], rel=1e-6)
        # Cells wholly outside Cambodia are nodata, and the equal-area CRS has a name.
        assert src.nodata == -9999.0 and 0 < band.mask.sum() < band.size
        assert "Cambodia equal-area (Albers" in src.crs.to_wkt()


def test_gdal_36_reads_the_raster_crs_name_and_nodata(tmp_path, demo_result):
    """Debian's gdalinfo (GDAL 3.6, as QGIS 3.22 users have) sees a named CRS and the nodata value."""
    import shutil
    import subprocess

    if shutil.which("gdalinfo") is None:
        missing_tool("NO GDAL COMMAND-LINE TOOLS (Debian: gdal-bin): older GDAL's reading not checked")
    path = write_density(demo_result, tmp_path / "d.tif", 5000.0)
    info = subprocess.run(["gdalinfo", str(path)], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    assert 'PROJCRS["Cambodia equal-area' in info.stdout and '"unknown"' not in info.stdout
    assert "NoData Value=-9999" in info.stdout


def test_cli_raster(tmp_path):
    assert main(["analyze", "--out", str(tmp_path / "o"), "--raster", "--cell", "5km", "-q"]) == 0
    with rasterio.open(tmp_path / "o" / "density.tif") as src:
        assert src.res == (5000.0, 5000.0)
