"""What geo trusts (docs/trust.md), tried as an attacker would: files that name URLs, a dask scheduler
off the machine, a killed run's workers."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pyogrio
import pyogrio.errors
import pytest

import geo
from geo.cli import main
from geo.engine.chunked import SchedulerTrust, check_scheduler
from geo.errors import GeoInputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def listener():
    """A web server on 127.0.0.1 that records every request it gets (and answers 404); stopped after the test."""
    hits: list[str] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _wfs_gml(url: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8" ?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:app="http://example.org/app"
  xmlns:gml="http://www.opengis.net/gml" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://example.org/app {url}/wfs?SERVICE=WFS&amp;REQUEST=DescribeFeatureType&amp;TYPENAME=app:h">
  <gml:featureMember><app:h fid="h.0"><app:geom><gml:Polygon srsName="EPSG:4326"><gml:outerBoundaryIs>
  <gml:LinearRing><gml:coordinates>102.50,13.00 102.51,13.00 102.51,13.01 102.50,13.01 102.50,13.00</gml:coordinates>
  </gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></app:geom><app:hazard_id>H1</app:hazard_id></app:h>
  </gml:featureMember>
</wfs:FeatureCollection>
"""


def _vrt(source: str) -> str:
    layer = f'<OGRVRTLayer name="s"><SrcDataSource>{source}</SrcDataSource></OGRVRTLayer>'
    return f"<OGRVRTDataSource>{layer}</OGRVRTDataSource>"


def test_gdal_reaches_no_network_for_anything_geo_opens(listener):
    url, hits = listener
    assert geo.io.readers.OFFLINE_GDAL  # importing geo turned GDAL's network access off
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_dataframe(f"/vsicurl/{url}/hazards.geojson")
    assert hits == []


def test_a_gml_naming_a_wfs_is_read_without_a_request(tmp_path, listener, capsys):
    url, hits = listener
    (tmp_path / "h.gml").write_text(_wfs_gml(url), encoding="utf-8")
    assert main(["analyze", str(tmp_path / "h.gml"), "--out", str(tmp_path / "out"), "-q"]) == 0, capsys.readouterr()
    assert (tmp_path / "out" / "summary.json").exists()
    assert hits == []  # GDAL used to fetch DescribeFeatureType here


def test_vrts_naming_urls_or_files_elsewhere_are_refused_and_fetch_nothing(tmp_path, listener, capsys):
    url, hits = listener
    (tmp_path / "sites.vrt").write_text(_vrt(f"/vsicurl/{url}/sites.geojson"), encoding="utf-8")
    assert main(["where", "--file", str(tmp_path / "sites.vrt")]) == 2
    assert "not a file beside it" in capsys.readouterr().err
    with zipfile.ZipFile(tmp_path / "hazards.zip", "w") as z:
        z.writestr("hazards.vrt", _vrt(f"/vsicurl/{url}/hazards.geojson"))
    assert main(["analyze", str(tmp_path / "hazards.zip"), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "holds a VRT" in capsys.readouterr().err
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "frontier.vrt").write_text(_vrt("../../etc/frontier.gpkg"), encoding="utf-8")
    assert (
        main(["analyze", "--frontier", str(tmp_path / "elsewhere" / "frontier.vrt"), "--out", str(tmp_path / "f")]) == 2
    )
    assert "outside the VRT's folder" in capsys.readouterr().err
    assert hits == []


def test_a_dask_scheduler_must_be_trusted():
    check_scheduler("local", SchedulerTrust())
    check_scheduler("tcp://127.0.0.1:8786", SchedulerTrust())
    check_scheduler("tcp://localhost:8786", SchedulerTrust())
    check_scheduler("tcp://10.0.0.5:8786", SchedulerTrust(trusted=True))
    for address in ("tcp://10.0.0.5:8786", "10.0.0.5:8786", "tcp://scheduler.example.org:8786"):
        with pytest.raises(GeoInputError, match="dask moves pickles"):
            check_scheduler(address, SchedulerTrust())
    with pytest.raises(GeoInputError, match="--tls-ca, --tls-cert, --tls-key"):
        check_scheduler("tls://127.0.0.1:8786", SchedulerTrust())
    with pytest.raises(GeoInputError, match="does not exist"):
        check_scheduler("tls://127.0.0.1:8786", SchedulerTrust(tls_ca="ca.pem", tls_cert="c.pem", tls_key="k.pem"))


def test_the_command_line_refuses_an_untrusted_scheduler_before_any_work(tmp_path, capsys):
    code = main(["analyze", "--engine", "dask", "--scheduler", "tls://127.0.0.1:1", "--out", str(tmp_path / "o")])
    assert code == 2 and "certificate files" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert "must be trusted" in " ".join(_help("analyze").split())


def _help(verb: str) -> str:
    run = subprocess.run([sys.executable, "-m", "geo.cli", verb, "--help"], capture_output=True, text=True, timeout=60)
    return run.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts processes the Linux way")
def test_workers_end_when_a_run_is_killed(tmp_path):
    """SIGKILL of a chunked run leaves no worker process behind (they end with their parent)."""
    run = subprocess.Popen(
        [sys.executable, "-m", "geo.cli", "analyze", str(geo.DEMO_HAZARDS), "--engine", "chunked", "--workers", "2",
         "--chunk-rows", "300",
         "--out", str(tmp_path / "out"), "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "GEO_CACHE": "0"},
    )  # fmt: skip
    parent = psutil.Process(run.pid)
    workers: list[psutil.Process] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        workers = [c for c in parent.children(recursive=True) if "python" in c.name().lower()]
        if len(workers) >= 2:
            break
        time.sleep(0.2)
    assert len(workers) >= 2, "the run ended before its workers started"
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert alive == [], [p.pid for p in alive]
