"""geo inside QGIS: the Processing provider run headless through ``processing.run``, figures equal to
``geo analyze``'s; the plugin installed into a profile; ``import geo`` imports no QGIS.

QGIS runs in a child process (Debian's ``python3-qgis``, ``QT_QPA_PLATFORM=offscreen``), which writes
what it found to a JSON file and leaves with ``os._exit`` (QGIS may crash in ``exitQgis()`` at teardown
on Debian's build: the result does not depend on it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo.cli import main
from tests.conftest import missing_tool

QGIS_PATHS = ["/usr/lib/python3/dist-packages", "/usr/share/qgis/python/plugins"]

RUNNER = textwrap.dedent(
    """
    import json, os, sys, traceback
    sys.path.extend({paths!r})
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    out = {{}}
    try:
        from qgis.core import QgsApplication, QgsProcessingException, QgsVectorLayer
        from geo.qgis import start_headless
        app, provider = start_headless()
        import processing
        out["provider"] = [provider.id(), provider.name()]
        out["algorithms"] = sorted(a.id() for a in provider.algorithms())
        from qgis.core import QgsProcessingFeedback
        for name, alg, params in json.load(open({jobs!r})):
            feedback = QgsProcessingFeedback()
            if name.startswith("cancelled"):
                feedback.cancel()  # as the toolbox's Cancel button does
            try:
                res = processing.run(alg, params, feedback=feedback)
                plain = (int, float, str, type(None))
                out[name] = {{k: (v if isinstance(v, plain) else str(v)) for k, v in res.items()}}
            except QgsProcessingException as exc:
                out[name] = {{"error": str(exc), "kind": "QgsProcessingException"}}
    except Exception:
        out["crash"] = traceback.format_exc()
    with open({result!r}, "w") as f:
        json.dump(out, f)
    sys.stdout.flush()
    os._exit(0)
    """
)


def qgis_available() -> bool:
    code = f"import sys; sys.path.extend({QGIS_PATHS!r}); import qgis.core"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def run_in_qgis(tmp_path: Path, jobs: list, python: str = sys.executable) -> dict:
    if not qgis_available():
        missing_tool("QGIS's Python bindings (Debian: apt-get install python3-qgis)")
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    script = RUNNER.format(paths=QGIS_PATHS, jobs=str(tmp_path / "jobs.json"), result=str(tmp_path / "out.json"))
    proc = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=900)
    assert (tmp_path / "out.json").exists(), proc.stdout[-2000:] + proc.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert "crash" not in out, out.get("crash")
    return out


@pytest.fixture(scope="module")
def small_layer(tmp_path_factory):
    """Three hazards near the Thai frontier in Pailin and Battambang, in UTM 48N (not the bundled CRS)."""
    d = tmp_path_factory.mktemp("qgis-small")
    land = geo.load_boundaries()
    line = shapely.union_all(land.frontier_with("THA").to_crs(32648).geometry.values)
    pts = [shapely.line_interpolate_point(line, f, normalized=True) for f in (0.25, 0.3, 0.35)]
    inland = [shapely.Point(p.x + 2_500.0, p.y) for p in pts]  # east of the line: inside Cambodia, across 2 km
    gdf = gpd.GeoDataFrame(
        {"hazard_id": ["Q-1", "Q-2", "Q-3"], "status": ["CHA", "SHA", "SHA"]},
        geometry=[shapely.box(p.x - 1500, p.y - 300, p.x + 1500, p.y + 300) for p in inland],
        crs=32648,
    )
    path = d / "small.gpkg"
    gdf.to_file(path, engine="pyogrio")
    sites = gpd.GeoDataFrame({"name": ["one", "two"]}, geometry=[inland[0], inland[2]], crs=32648)
    sites.to_file(d / "sites.gpkg", engine="pyogrio")
    return path, d / "sites.gpkg"


def test_import_geo_imports_no_qgis():
    code = "import sys, geo, geo.qgis; geo.analyze; print(any(m.split('.')[0] == 'qgis' for m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def test_the_provider_gives_the_command_lines_figures_to_the_square_metre(tmp_path, small_layer, demo_result):
    small, sites = small_layer
    out = tmp_path
    jobs = [
        (
            "demo",
            "geo:borderzones",
            {
                "INPUT": str(geo.DEMO_HAZARDS),
                "PIECES": str(out / "pieces.gpkg"),
                "ZONES": str(out / "zones.gpkg"),
                "PROVINCES": str(out / "provinces.gpkg"),
                "OUTPUT_HTML": str(out / "summary.html"),
                "OUTPUT_FOLDER": str(out / "folder"),
            },
        ),
        (
            "small",
            "geo:borderzones",
            {
                "INPUT": str(small),
                "BANDS": "1,3,7",
                "NEIGHBOR": "THA",
                "PIECES": str(out / "s_pieces.gpkg"),
                "ZONES": "TEMPORARY_OUTPUT",
                "PROVINCES": "TEMPORARY_OUTPUT",
            },
        ),
        (
            "sites",
            "geo:sitecheck",
            {"INPUT": str(sites), "HAZARDS": str(small), "RADIUS": 5000, "OUTPUT": str(out / "sites_out.gpkg")},
        ),
        (
            "curve",
            "geo:distancecurve",
            {
                "INPUT": str(small),
                "MAX_KM": 8,
                "STEP_KM": 1,
                "OUTPUT": str(out / "curve.csv"),
                "OUTPUT_CHART": str(out / "curve.png"),
            },
        ),
        ("scenario", "geo:scenario", {"INPUT": str(small), "CAPACITY": "2023", "OUTPUT": str(out / "completion.csv")}),
        ("bad", "geo:borderzones", {"INPUT": str(sites), "PIECES": "TEMPORARY_OUTPUT"}),
        ("cancelled", "geo:borderzones", {"INPUT": str(small), "OUTPUT_HTML": str(out / "never.html")}),
        ("bad_bands", "geo:borderzones", {"INPUT": str(small), "BANDS": "7,2,x", "PIECES": "TEMPORARY_OUTPUT"}),
    ]
    got = run_in_qgis(tmp_path, jobs)
    assert got["provider"][0] == "geo"
    assert got["algorithms"] == ["geo:borderzones", "geo:distancecurve", "geo:scenario", "geo:sitecheck"]

    # The demo: the numbers, the layers and the folder equal geo analyze's.
    demo = got["demo"]
    s = demo_result.summary
    for key, name in (
        ("within_2km_km2", "WITHIN_2KM_KM2"),
        ("within_7km_km2", "WITHIN_7KM_KM2"),
        ("area_km2", "AREA_KM2"),
    ):
        assert demo[name] == pytest.approx(s[key], abs=1e-6)
    pieces = gpd.read_file(out / "pieces.gpkg")
    assert len(pieces) == len(demo_result.by_hazard) and pieces.crs.to_epsg() == 4326
    assert pieces.groupby("band")["area_m2"].sum().to_dict() == pytest.approx(
        demo_result.by_hazard.groupby("band")["area_m2"].sum().to_dict(), abs=0.01
    )
    assert pieces["synthetic"].all()  # the demo is marked in the QGIS layer too
    provinces = gpd.read_file(out / "provinces.gpkg").set_index("code")
    bp = demo_result.by_province.set_index("code")
    assert provinces.loc[bp.index, "within_7km_km2"].to_numpy() == pytest.approx(
        bp["within_7km_km2"].to_numpy(), abs=1e-9
    )
    assert len(gpd.read_file(out / "zones.gpkg")) == len(demo_result.zones)
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in page and f"{s['within_7km_km2']:,.2f} km²" in page
    folder = json.loads((out / "folder" / "summary.json").read_text(encoding="utf-8"))
    assert folder["within_2km_km2"] == pytest.approx(s["within_2km_km2"], abs=1e-9)
    assert (out / "folder" / "map.html").exists() and (out / "folder" / "by_district.csv").exists()

    # A small layer in UTM 48N: the same figures as geo.analyze on the file.
    ref = geo.analyze(geo.read_hazards(small), bands_km=(1, 3, 7), neighbor="THA", error_draws=0)
    assert got["small"]["WITHIN_2KM_KM2"] == pytest.approx(ref.summary["within_2km_km2"], abs=1e-6)
    assert got["small"]["WITHIN_7KM_KM2"] == pytest.approx(ref.summary["within_7km_km2"], abs=1e-6)
    s_pieces = gpd.read_file(out / "s_pieces.gpkg")
    assert sorted(s_pieces["band"].unique()) == sorted(ref.by_hazard["band"].unique())

    # Sites: as geo where answers them.
    checked = gpd.read_file(out / "sites_out.gpkg")
    lonlat = gpd.read_file(sites).to_crs(4326)
    from geo.planning.sites import where_points

    ref_sites = geo.analyze(geo.read_hazards(small), neighbor="THA", error_draws=0)
    answers = where_points(lonlat.geometry.y.to_numpy(), lonlat.geometry.x.to_numpy(), ref_sites, radius_m=5000)
    assert checked["band"].tolist() == [a["band"] for a in answers]
    assert checked["province"].tolist() == [a["province"] for a in answers]
    assert checked["distance_to_frontier_m"].to_numpy() == pytest.approx(
        [a["distance_to_frontier_m"] for a in answers], abs=0.01
    )
    assert (checked["hazards_within_radius"] >= 1).all() and (checked["district"] != "").all()
    assert checked["name"].tolist() == ["one", "two"]  # the input's own fields kept

    # The curve at 2 and 7 km is the analysis' within 2 km and 7 km.
    curve = pd.read_csv(out / "curve.csv").set_index("distance_km")
    assert curve.loc[7.0, "total_km2"] == pytest.approx(ref_sites.summary["within_7km_km2"], abs=1e-6)
    assert curve.loc[2.0, "total_km2"] == pytest.approx(ref_sites.summary["within_2km_km2"], abs=1e-6)
    assert (out / "curve.png").stat().st_size > 10_000

    # Scenario: the completion table of geo scenario.
    from geo.planning.scenario import scenario

    table = pd.read_csv(out / "completion.csv")
    assert len(table) == len(scenario(ref_sites, None, "2023").completion)

    # Cancelled before it began: nothing computed, nothing written.
    assert "WITHIN_2KM_KM2" not in got["cancelled"] and not (out / "never.html").exists()
    # A user's mistake is QGIS's own error with geo's message, not a Python traceback.
    assert got["bad"]["kind"] == "QgsProcessingException"
    assert got["bad_bands"]["kind"] == "QgsProcessingException" and "band" in got["bad_bands"]["error"].lower()
    assert "Traceback" not in got["bad_bands"]["error"]


@pytest.mark.slow
def test_geo_installs_into_the_python_qgis_runs(tmp_path, small_layer):
    """As docs/qgis.md says for Debian: a venv of the system python3 (which QGIS runs) that sees the system
    packages, geo pip-installed into it; the provider then runs in that Python with geo's figures."""
    system = Path("/usr/bin/python3")
    probe = "import qgis.core"
    if not system.exists() or subprocess.run([str(system), "-c", probe], capture_output=True).returncode:
        missing_tool("Debian's python3 with QGIS's bindings (apt-get install python3-qgis)")
    venv = tmp_path / "venv"
    subprocess.run([str(system), "-m", "venv", "--system-site-packages", str(venv)], check=True)
    root = Path(__file__).resolve().parents[1]
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(root)], capture_output=True, text=True
    )
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-3000:]
    small, _ = small_layer
    got = run_in_qgis(
        tmp_path, [("small", "geo:borderzones", {"INPUT": str(small)})], python=str(venv / "bin" / "python")
    )
    ref = geo.analyze(geo.read_hazards(small), neighbor="THA", error_draws=0)
    assert got["small"]["WITHIN_2KM_KM2"] == pytest.approx(ref.summary["within_2km_km2"], abs=1e-6)
    assert got["small"]["WITHIN_7KM_KM2"] == pytest.approx(ref.summary["within_7km_km2"], abs=1e-6)


def test_qgis_install_puts_the_plugin_in_a_profile(tmp_path, capsys):
    profile = tmp_path / "profile"
    assert main(["qgis-install", "--profile-dir", str(profile)]) == 0
    plugin = profile / "python" / "plugins" / "geo_border_zones"
    meta = (plugin / "metadata.txt").read_text(encoding="utf-8")
    assert "hasProcessingProvider=yes" in meta and "qgisMinimumVersion=3.22" in meta
    assert "classFactory" in (plugin / "__init__.py").read_text(encoding="utf-8")
    assert "installed the QGIS plugin" in capsys.readouterr().out
    # Again, as a link for a developer: replaces the copy.
    assert main(["qgis-install", "--profile-dir", str(profile), "--link"]) == 0
    assert plugin.is_symlink() and (plugin / "metadata.txt").exists()


def test_the_plugin_registers_the_provider_when_qgis_loads_it(tmp_path):
    """QGIS loads the installed plugin folder as its plugin manager does (classFactory, initProcessing)."""
    profile = tmp_path / "profile"
    assert main(["qgis-install", "--profile-dir", str(profile)]) == 0
    if not qgis_available():
        missing_tool("QGIS's Python bindings (Debian: apt-get install python3-qgis)")
    plugins = profile / "python" / "plugins"
    code = textwrap.dedent(
        f"""
        import json, os, sys
        sys.path.extend({QGIS_PATHS!r})
        sys.path.insert(0, {str(plugins)!r})
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from qgis.core import QgsApplication
        QgsApplication.setPrefixPath("/usr", True)
        app = QgsApplication([], False)
        app.initQgis()
        import geo_border_zones
        plugin = geo_border_zones.classFactory(None)
        plugin.initProcessing()
        ids = sorted(a.id() for a in QgsApplication.processingRegistry().providerById("geo").algorithms())
        plugin.unload()
        gone = QgsApplication.processingRegistry().providerById("geo") is None
        open({str(tmp_path / "ids.json")!r}, "w").write(json.dumps([ids, gone]))
        sys.stdout.flush()
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    ids, gone = json.loads((tmp_path / "ids.json").read_text())
    assert ids == ["geo:borderzones", "geo:distancecurve", "geo:scenario", "geo:sitecheck"] and gone


def test_the_report_escapes_names(demo_result):
    if not qgis_available():
        missing_tool("QGIS's Python bindings (Debian: apt-get install python3-qgis)")
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.extend({QGIS_PATHS!r})
        import dataclasses, geo
        from geo.qgis.provider import report_html
        r = geo.analyze(geo.read_hazards(geo.DEMO_HAZARDS), error_draws=0)
        bp = r.by_province.copy()
        bp.loc[bp["area_km2"].idxmax(), "province"] = "<img src=x onerror=alert(1)>"
        print(report_html(dataclasses.replace(r, by_province=bp), "<b>t</b>"))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=os.environ)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "<img" not in run.stdout and "&lt;img src=x onerror=alert(1)&gt;" in run.stdout
    assert "<b>t</b>" not in run.stdout
    assert np.isfinite(demo_result.summary["within_7km_km2"])
