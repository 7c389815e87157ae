"""Esri File Geodatabases: geo writes one (--gdb) and reads one back (a .gdb folder with --layer)."""

from __future__ import annotations

import json
import subprocess
import sys

import pyogrio
import pytest

GEO = [sys.executable, "-m", "geo.cli"]


def run(*args, cwd=None):
    return subprocess.run([*GEO, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def gdb_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gdb") / "out"
    r = run("analyze", "-q", "--gdb", "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


def test_analyze_writes_a_file_geodatabase_with_the_geopackage_layers(gdb_run):
    gdb = gdb_run / "zones.gdb"
    assert gdb.is_dir()
    layers = dict(pyogrio.list_layers(gdb))
    assert layers == {
        "provinces": "MultiPolygon",
        "districts": "MultiPolygon",
        "frontier": "MultiLineString",
        "zones": "MultiPolygon",
        "hazard_pieces": "MultiPolygon",
    }
    info = pyogrio.read_info(gdb, layer="hazard_pieces")
    assert info["driver"] == "OpenFileGDB" and info["crs"] == "EPSG:4326"
    assert info["features"] == pyogrio.read_info(gdb_run / "zones.gpkg", layer="hazard_pieces")["features"]
    assert "synthetic" in list(info["fields"])  # the demo is marked in the geodatabase too
    # Layer aliases, as ArcGIS shows them, read back through GDAL.
    from geo.render.export import GDB_ALIASES

    for name in layers:
        assert pyogrio.read_info(gdb, layer=name)["layer_metadata"]["ALIAS_NAME"] == GDB_ALIASES[name]
    manifest = json.loads((gdb_run / ".geo-output").read_text())
    assert "zones.gdb" in manifest["files"]


def test_a_file_geodatabase_is_read_back_with_the_same_figures(gdb_run, tmp_path):
    r = run("analyze", str(gdb_run / "zones.gdb"), "--out", str(tmp_path / "back"), "-q")
    assert r.returncode == 2 and "several layers" in r.stderr and "hazard_pieces" in r.stderr
    r = run("analyze", str(gdb_run / "zones.gdb"), "--layer", "hazard_pieces", "--out", str(tmp_path / "back"), "-q")
    assert r.returncode == 0, r.stderr
    first = json.loads((gdb_run / "summary.json").read_text())
    back = json.loads((tmp_path / "back" / "summary.json").read_text())
    for key in ("area_km2", "within_2km_km2", "within_7km_km2"):
        assert back[key] == pytest.approx(first[key], abs=2e-6), key  # 2 m2 after a WGS 84 round trip
    assert back["inputs"]["hazards"]["file"] == "zones.gdb"


def test_other_verbs_keep_the_geodatabase_and_a_rerun_without_gdb_drops_it(gdb_run, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(gdb_run, out)
    r = run("release", "-q", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "zones.gdb").is_dir() and (out / "release_by_band.csv").is_file()
    assert dict(pyogrio.list_layers(out / "zones.gdb"))["hazard_pieces"] == "MultiPolygon"
    r = run("analyze", "-q", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert not (out / "zones.gdb").exists() and (out / "release_by_band.csv").is_file()
