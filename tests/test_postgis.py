"""PostGIS against a real server: a throwaway cluster started for these tests and stopped after them.

Skipped, with the reason in capitals, where no PostgreSQL server with PostGIS can start
(``.ci/run`` installs Debian's ``postgresql-15-postgis-3``; ``scripts/pg_test_server.sh``
does the same by hand).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import geo

GEO = [sys.executable, "-m", "geo.cli"]
PASSWORD = "s3cret-Pw-7731"


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(dirs[-1]) if dirs else None


def _as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:  # the server refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def pg():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("NO POSTGRESQL SERVER BINARIES (Debian: postgresql-15-postgis-3); PostGIS tests not run")
    version = bindir.parent.name
    if not glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
        pytest.skip(f"NO POSTGIS EXTENSION FOR POSTGRESQL {version} (Debian: postgresql-{version}-postgis-3)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("RUNNING AS ROOT WITHOUT runuser: cannot start a PostgreSQL server")
    root = Path(tempfile.mkdtemp(prefix="geo-pg-", dir="/tmp"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    init = _as_postgres(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"]
    )
    if init.returncode != 0:
        pytest.skip(f"INITDB FAILED: {init.stderr[-300:]}")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"])
    if start.returncode != 0:
        pytest.skip(f"POSTGRESQL DID NOT START: {start.stderr[-300:]}")
    psql = [str(bindir / "psql"), "-h", str(sock), "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
    try:
        for sql, db in (
            ("CREATE DATABASE geo_test", "postgres"),
            ("CREATE EXTENSION postgis", "geo_test"),
            (f"CREATE ROLE ops LOGIN PASSWORD '{PASSWORD}'", "geo_test"),
            ("GRANT CREATE ON DATABASE geo_test TO ops", "geo_test"),
            ("CREATE SEQUENCE counter; GRANT USAGE, UPDATE ON counter TO ops", "geo_test"),
        ):
            done = _as_postgres([*psql, "-d", db, "-c", sql])
            assert done.returncode == 0, done.stderr
        admin = f"postgresql+psycopg://postgres@/geo_test?host={sock}&port={port}"
        hazards = geo.read_hazards(geo.DEMO_HAZARDS)
        from sqlalchemy import create_engine

        engine = create_engine(admin)
        hazards.drop(columns=["row"]).to_crs("EPSG:32648").to_postgis("hazards", engine, index=False)
        with engine.begin() as conn:
            conn.exec_driver_sql("GRANT SELECT ON hazards TO ops")
        engine.dispose()
        yield {
            "url": f"postgresql://ops:{PASSWORD}@127.0.0.1:{port}/geo_test",
            "admin": admin,
            "psql": [*psql, "-d", "geo_test", "-At"],
        }
    finally:
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def run(*args):
    return subprocess.run([*GEO, *args], capture_output=True, text=True, timeout=600)


def sql(pg, query: str) -> str:
    out = _as_postgres([*pg["psql"], "-c", query])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_demo_from_a_postgis_table_gives_the_geopackage_figures(pg, tmp_path, demo_result):
    r = run("analyze", pg["url"], "--table", "hazards", "--out", str(tmp_path / "out"), "-q")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["hazards"] == 4330
    for key in ("area_km2", "within_2km_km2", "within_7km_km2"):
        assert s[key] == pytest.approx(demo_result.summary[key], abs=1e-6), key  # to the m2
    assert s["inputs"]["hazards"]["table"] == "public.hazards"
    everything = r.stdout + r.stderr + "".join(p.read_text(errors="replace") for p in (tmp_path / "out").iterdir())
    assert PASSWORD not in everything
    assert "ops:***@" in s["inputs"]["hazards"]["database"]


def test_a_query_and_a_wrong_password(pg, tmp_path):
    query = "SELECT * FROM hazards WHERE province_recorded = 'Pailin'"
    r = run("analyze", pg["url"], "--sql", query, "--out", str(tmp_path / "q"), "-q")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "q" / "summary.json").read_text())
    assert s["hazards"] == 233  # Table 1: 233 SHAs in Pailin
    wrong = pg["url"].replace(PASSWORD, "Wr0ng-Secret")
    r = run("analyze", wrong, "--table", "hazards", "--out", str(tmp_path / "w"), "-q")
    assert r.returncode == 2 and "Wr0ng-Secret" not in r.stderr and "password authentication failed" in r.stderr
    # The query runs in a read-only transaction: a side effect is refused, and a statement is not a query.
    r = run("analyze", pg["url"], "--sql", "SELECT *, setval('counter', 99) FROM hazards", "--out", str(tmp_path / "d"))
    assert r.returncode == 2 and "read-only transaction" in r.stderr, r.stderr
    r = run("analyze", pg["url"], "--sql", "DELETE FROM hazards RETURNING *", "--out", str(tmp_path / "d"), "-q")
    assert r.returncode == 2
    assert sql(pg, "SELECT count(*) FROM hazards") == "4330"
    assert sql(pg, "SELECT last_value FROM counter") == "1"


def test_results_are_written_as_tables_and_a_failure_changes_nothing(pg, tmp_path):
    r = run(
        "analyze", "-q", "--aoi", "Pailin", "--out", str(tmp_path / "a"), "--to-postgis", pg["url"], "--run-name", "r1"
    )
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    tables = sql(pg, "SELECT tablename FROM pg_tables WHERE schemaname = 'geo_results' ORDER BY 1").split()
    assert tables == ["r1_bands", "r1_by_province", "r1_hazard_pieces", "r1_zones", "runs"]
    pieces = sql(pg, "SELECT count(*) FROM geo_results.r1_hazard_pieces")
    by_hazard = len((tmp_path / "a" / "by_hazard.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert int(pieces) == by_hazard
    assert sql(pg, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'geo_results' AND indexdef LIKE '%gist%'") == "2"
    keys = "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = 'geo_results' AND "
    assert sql(pg, keys + "constraint_type = 'PRIMARY KEY'") == "5"
    assert "SYNTHETIC" in sql(pg, "SELECT obj_description('geo_results.r1_hazard_pieces'::regclass)")
    assert sql(pg, "SELECT hazards, synthetic FROM geo_results.runs WHERE run_name = 'r1'") == "233|t"
    srid = sql(pg, "SELECT Find_SRID('geo_results', 'r1_hazard_pieces', 'geometry')")
    assert srid == "4326"
    # A constraint that the next write breaks at its very end: nothing of r1 may change.
    sql(pg, "ALTER TABLE geo_results.runs ADD CONSTRAINT small_runs CHECK (hazards < 1000)")
    r = run("analyze", "-q", "--out", str(tmp_path / "b"), "--to-postgis", pg["url"], "--run-name", "r1")
    assert r.returncode == 2 and "nothing was changed" in r.stderr, r.stderr
    assert sql(pg, "SELECT count(*) FROM geo_results.r1_hazard_pieces") == pieces
    assert sql(pg, "SELECT hazards FROM geo_results.runs WHERE run_name = 'r1'") == "233"
    assert not (tmp_path / "b").exists()  # and the file set was not switched in either
