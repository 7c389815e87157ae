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
from tests.conftest import missing_tool

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
        missing_tool("NO POSTGRESQL SERVER BINARIES (Debian: postgresql-15-postgis-3); PostGIS tests not run")
    version = bindir.parent.name
    if not glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
        missing_tool(f"NO POSTGIS EXTENSION FOR POSTGRESQL {version} (Debian: postgresql-{version}-postgis-3)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing_tool("RUNNING AS ROOT WITHOUT runuser: cannot start a PostgreSQL server")
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
        missing_tool(f"INITDB FAILED: {init.stderr[-300:]}")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"])
    if start.returncode != 0:
        missing_tool(f"POSTGRESQL DID NOT START: {start.stderr[-300:]}")
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


def test_sql_cannot_write_however_it_is_crafted(pg, tmp_path, capsys):
    """--sql runs as one prepared statement in a session whose every transaction is read-only: the
    payloads that once closed the wrapping query and committed a DROP are refused, and nothing changes."""
    from geo.cli import main

    sql(pg, "CREATE TABLE victim (a int); ALTER TABLE victim OWNER TO ops; GRANT SELECT ON hazards TO ops")
    payloads = [
        "SELECT * FROM hazards) AS q LIMIT 0; COMMIT; DROP TABLE victim; SELECT * FROM (SELECT * FROM hazards",
        "SELECT * FROM hazards; DROP TABLE victim",
        "COMMIT; DROP TABLE victim; SELECT * FROM hazards",
        "DROP TABLE victim",
        "CREATE TABLE made AS SELECT * FROM hazards",
        "WITH gone AS (DELETE FROM victim RETURNING *) SELECT * FROM hazards",
        "COMMIT",
        "SET default_transaction_read_only = off",
    ]
    for k, payload in enumerate(payloads):
        code = main(["analyze", pg["url"], "--sql", payload, "--out", str(tmp_path / f"p{k}"), "-q"])
        err = capsys.readouterr().err
        assert code == 2, (payload, err)
        assert PASSWORD not in err and "Traceback" not in err
        assert not (tmp_path / f"p{k}" / "summary.json").exists()
    assert sql(pg, "SELECT count(*) FROM pg_tables WHERE tablename IN ('victim', 'made')") == "1"
    assert sql(pg, "SELECT count(*) FROM hazards") == "4330"
    # A plain query still reads, and its figures are those of the table.
    assert main(["analyze", pg["url"], "--sql", "SELECT * FROM hazards", "--out", str(tmp_path / "ok"), "-q"]) == 0
    assert json.loads((tmp_path / "ok" / "summary.json").read_text())["hazards"] == 4330


def test_results_are_written_as_tables_and_a_failure_changes_nothing(pg, tmp_path):
    r = run(
        "analyze", "-q", "--aoi", "Pailin", "--out", str(tmp_path / "a"), "--to-postgis", pg["url"], "--run-name", "r1"
    )
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    tables = sql(pg, "SELECT tablename FROM pg_tables WHERE schemaname = 'geo_results' ORDER BY 1").split()
    assert tables == ["r1_bands", "r1_by_province", "r1_hazard_pieces", "r1_zones", "runs"]
    pieces = sql(pg, "SELECT count(*) FROM geo_results.r1_hazard_pieces")
    # The tables read back equal the CSV files of the same run.
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(pg["admin"])
    table = pd.read_sql("SELECT * FROM geo_results.r1_by_province ORDER BY id", engine).drop(columns="id")
    engine.dispose()
    csv = pd.read_csv(tmp_path / "a" / "by_province.csv", comment="#", encoding="utf-8-sig")
    assert table.columns.tolist() == [c for c in csv.columns if c != "data_notice"]  # the notice: in the comment
    assert table["code"].tolist() == csv["code"].tolist()
    for col in ("area_km2", "within_2km_km2", "within_7km_km2", "hazards"):
        assert table[col].to_numpy() == pytest.approx(csv[col].to_numpy(), abs=1e-8), col
    by_hazard = len((tmp_path / "a" / "by_hazard.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert int(pieces) == by_hazard
    assert sql(pg, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'geo_results' AND indexdef LIKE '%gist%'") == "2"
    keys = "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = 'geo_results' AND "
    assert sql(pg, keys + "constraint_type = 'PRIMARY KEY'") == "5"
    assert "SYNTHETIC" in sql(pg, "SELECT obj_description('geo_results.r1_hazard_pieces'::regclass)")
    assert sql(pg, "SELECT hazards, synthetic FROM geo_results.runs WHERE run_name = 'r1'") == "233|t"
    srid = sql(pg, "SELECT Find_SRID('geo_results', 'r1_hazard_pieces', 'geometry')")
    assert srid == "4326"
    # Typed geometry columns with spatial indexes: QGIS reads an untyped one as MultiSurface.
    types = sql(
        pg,
        "SELECT f_table_name || ':' || type FROM geometry_columns WHERE f_table_schema = 'geo_results' "
        "AND f_table_name IN ('r1_hazard_pieces', 'r1_zones') ORDER BY 1",
    )
    assert types.split() == ["r1_hazard_pieces:MULTIPOLYGON", "r1_zones:MULTIPOLYGON"]
    gist = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'geo_results' AND indexdef LIKE '%USING gist%'"
    assert int(sql(pg, gist)) >= 2
    # A constraint that the next write breaks at its very end: nothing of r1 may change.
    sql(pg, "ALTER TABLE geo_results.runs ADD CONSTRAINT small_runs CHECK (hazards < 1000)")
    r = run("analyze", "-q", "--out", str(tmp_path / "b"), "--to-postgis", pg["url"], "--run-name", "r1")
    assert r.returncode == 2 and "nothing was changed" in r.stderr, r.stderr
    assert sql(pg, "SELECT count(*) FROM geo_results.r1_hazard_pieces") == pieces
    assert sql(pg, "SELECT hazards FROM geo_results.runs WHERE run_name = 'r1'") == "233"
    assert not (tmp_path / "b").exists()  # and the file set was not switched in either


def _load(pg, frame, name: str) -> None:
    """Store a layer in the test database (as its owner) and let the analyst role read it."""
    from sqlalchemy import create_engine

    engine = create_engine(pg["admin"])
    frame.to_postgis(name, engine, index=False, if_exists="replace")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT SELECT ON {name} TO ops")
    engine.dispose()


def test_boundaries_sites_and_released_land_read_from_tables_equal_the_files(pg, tmp_path):
    import geopandas as gpd
    import pandas as pd

    from geo.io.data import DEMO_RELEASE, OSM_FILE, PROVINCES_FILE

    # The same content both ways: the table holds UTM 48N, so the file does too (an edge straight in UTM is
    # not straight in degrees, and a hazard across Pailin's edge would measure differently).
    provinces = gpd.read_file(PROVINCES_FILE).to_crs(32648)
    frontier = gpd.read_file(OSM_FILE, layer="frontier")
    frontier = frontier[frontier["neighbor"] == "THA"]
    provinces.to_file(tmp_path / "prov.gpkg")
    frontier.to_file(tmp_path / "front.gpkg")
    _load(pg, provinces, "provinces")
    _load(pg, frontier, "frontier")
    url = pg["url"]
    common = ["analyze", "-q", "--aoi", "Pailin"]
    r_file = run(*common, "--provinces", str(tmp_path / "prov.gpkg"), "--frontier", str(tmp_path / "front.gpkg"),
                 "--out", str(tmp_path / "f"))  # fmt: skip
    r_db = run(*common, "--provinces", f"{url}?table=provinces", "--frontier", f"{url}?table=public.frontier",
               "--out", str(tmp_path / "d"))  # fmt: skip
    assert r_file.returncode == 0, r_file.stderr
    assert r_db.returncode == 0, r_db.stderr
    f = json.loads((tmp_path / "f" / "summary.json").read_text())
    d = json.loads((tmp_path / "d" / "summary.json").read_text())
    for key in ("area_km2", "within_2km_km2", "within_7km_km2"):
        assert d[key] == pytest.approx(f[key], abs=1e-6), key
    assert d["within_2km_km2"] > 0
    assert (
        d["inputs"]["frontier"]["file"].startswith("postgresql://ops:***@")
        and "table=public.frontier" in (d["inputs"]["frontier"]["file"])
    )
    assert len(d["inputs"]["provinces"]["sha256"]) == 64
    everything = r_db.stdout + r_db.stderr + "".join(p.read_text(errors="replace") for p in (tmp_path / "d").iterdir())
    assert PASSWORD not in everything

    # Sites: a table of points answers as the same points in a file.
    sites = gpd.GeoDataFrame(
        {"village": ["Pailin town", "Sala Krau"]},
        geometry=gpd.points_from_xy([102.61, 102.45], [12.85, 12.93]),
        crs=4326,
    )
    sites.to_file(tmp_path / "sites.gpkg")
    _load(pg, sites, "villages")
    a = run("where", "--file", str(tmp_path / "sites.gpkg"), "--format", "csv", "--out", str(tmp_path / "a.csv"))
    b = run("where", "--file", f"{url}?table=villages", "--format", "csv", "--out", str(tmp_path / "b.csv"))
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    assert PASSWORD not in b.stdout + b.stderr

    # Released land: the demo layer from a table gives the file's release_by_band.csv.
    _load(pg, gpd.read_file(DEMO_RELEASE), "released")
    ra = run("release", str(DEMO_RELEASE), "--out", str(tmp_path / "ra"))
    rb = run("release", f"{url}?table=released", "--out", str(tmp_path / "rb"))
    assert ra.returncode == 0, ra.stderr
    assert rb.returncode == 0, rb.stderr
    fa = pd.read_csv(tmp_path / "ra" / "release_by_band.csv", comment="#")
    fb = pd.read_csv(tmp_path / "rb" / "release_by_band.csv", comment="#")
    pd.testing.assert_frame_equal(fa, fb)
    # A missing table, and a connection string naming none, are clear errors without the secret.
    for bad, says in ((f"{url}?table=nope", "no table 'nope'"), (url, "name the table")):
        r = run("analyze", "-q", "--provinces", bad, "--out", str(tmp_path / "x"))
        assert r.returncode == 2 and says in r.stderr and PASSWORD not in r.stderr, r.stderr


def test_the_view_opens_as_a_layer_and_a_killed_write_leaves_the_last_run(pg, tmp_path):
    import signal
    import time

    from sqlalchemy import create_engine

    r = run(
        "analyze", "-q", "--aoi", "Pailin", "--out", str(tmp_path / "a"), "--to-postgis", pg["url"], "--run-name", "k1"
    )
    assert r.returncode == 0, r.stderr
    view = "geo_results.k1_hazards_by_band"
    assert sql(pg, f"SELECT GeometryType(geometry), ST_SRID(geometry) FROM {view} LIMIT 1") == "MULTIPOLYGON|4326"
    pairs = sql(pg, "SELECT count(DISTINCT (code, band)) FROM geo_results.k1_hazard_pieces")
    assert sql(pg, f"SELECT count(*) FROM {view}") == pairs
    assert sql(pg, f"SELECT sum(hazards) >= 233 FROM {view}") == "t"
    before = sql(pg, "SELECT count(*), sum(area_m2) FROM geo_results.k1_hazard_pieces")
    # Hold the runs table so the next write stops inside its transaction, then kill it there.
    engine = create_engine(pg["admin"])
    with engine.connect() as lock:
        lock.exec_driver_sql("BEGIN")
        lock.exec_driver_sql("LOCK TABLE geo_results.runs IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [*GEO, "analyze", "-q", "--out", str(tmp_path / "b"), "--to-postgis", pg["url"], "--run-name", "k1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        waiting = "0"
        for _ in range(600):  # until geo's session waits on the lock, having replaced k1's tables
            waiting = sql(
                pg, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ops' AND wait_event_type = 'Lock'"
            )
            if waiting != "0" or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert waiting == "1", "the write never reached the locked table"
        # It waits at its last statement: k1's tables have been dropped and written again inside it.
        stuck = sql(pg, "SELECT query FROM pg_stat_activity WHERE usename = 'ops' AND wait_event_type = 'Lock'")
        assert stuck.startswith("INSERT INTO"), stuck
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        lock.exec_driver_sql("ROLLBACK")
    engine.dispose()
    for _ in range(50):  # the server notices the dead client and rolls its transaction back
        if sql(pg, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ops'") == "0":
            break
        time.sleep(0.2)
    assert sql(pg, "SELECT count(*), sum(area_m2) FROM geo_results.k1_hazard_pieces") == before
    assert sql(pg, "SELECT hazards FROM geo_results.runs WHERE run_name = 'k1'") == "233"
    assert sql(pg, f"SELECT count(*) FROM {view}") == pairs
    assert not (tmp_path / "b").exists()


def test_a_table_without_geometry_and_a_geometry_without_srid_are_named(pg, tmp_path):
    sql(pg, "CREATE TABLE plain_list (id integer, name text); GRANT SELECT ON plain_list TO ops")
    sql(
        pg,
        "CREATE TABLE no_srid AS SELECT hazard_id, ST_SetSRID(geometry, 0)::geometry(Polygon, 0) AS geom "
        "FROM hazards LIMIT 5; GRANT SELECT ON no_srid TO ops",
    )
    for table, says in (
        ("plain_list", "no table 'plain_list' with a geometry column"),
        ("no_srid", "the geometry column has no SRID"),
    ):
        r = run("analyze", pg["url"], "--table", table, "--out", str(tmp_path / table), "-q")
        assert r.returncode == 2, r.stderr
        assert says in r.stderr and "ops:***@" in r.stderr and PASSWORD not in r.stderr, r.stderr
        assert not (tmp_path / table).exists()


def test_the_password_may_come_from_pgpassword_and_is_never_shown(pg, tmp_path):
    bare = pg["url"].replace(f":{PASSWORD}@", "@")
    env = {**os.environ, "PGPASSWORD": PASSWORD}
    r = subprocess.run(
        [*GEO, "analyze", bare, "--sql", "SELECT * FROM hazards WHERE province_recorded = 'Koh Kong'", "-q",
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["hazards"] == 297  # Table 1: Koh Kong
    env["PGPASSWORD"] = "not-it-9931"
    r = subprocess.run(
        [*GEO, "analyze", bare, "--table", "hazards", "-q", "--out", str(tmp_path / "w")],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert r.returncode == 2 and "password authentication failed" in r.stderr and "not-it-9931" not in r.stderr


def test_a_password_in_any_form_libpq_takes_is_never_printed_or_written(pg, tmp_path, capsys):
    """A password as ``?password=``, or with a bare ``@`` in it, reaches no message, progress line or file."""
    from geo.cli import main

    odd = "p@ss:w0rd@x7"
    sql(pg, f"CREATE ROLE ats LOGIN PASSWORD '{odd}'; GRANT SELECT ON hazards TO ats")
    port = pg["url"].rsplit(":", 1)[1].split("/")[0]
    forms = {
        "param": f"postgresql://ats@127.0.0.1:{port}/geo_test?password={odd.replace('@', '%40').replace(':', '%3A')}",
        "bare_at": f"postgresql://ats:{odd}@127.0.0.1:{port}/geo_test",
    }
    shown = []
    for name, url in forms.items():
        out = tmp_path / name
        code = main(["analyze", url, "--table", "hazards", "--out", str(out)])
        text = capsys.readouterr()
        assert code == 0, text.err
        shown += [text.out, text.err, *(p.read_text(errors="replace") for p in out.glob("*.json"))]
        wrong = url.replace("x7", "y8").replace("%3Aw0rd", "%3Aw0rX")
        assert main(["analyze", wrong, "--table", "hazards", "--out", str(tmp_path / f"{name}-w"), "-q"]) == 2
        shown.append(capsys.readouterr().err)
    for text in shown:
        for secret in (odd, "w0rd", "ss:w0rd", "w0rX", "y8"):
            assert secret not in text, (secret, text[-400:])
    assert any("database" in t and "***" in t for t in shown)


def test_an_imsma_core_table_read_with_a_status_filter(pg, tmp_path, capsys):
    """The docs' recipe for an IMSMA Core PostGIS: the hazard table, --sql with a status filter; the
    IMSMA names are understood and the figures are those of the rows selected."""
    from geo.cli import main

    sql(
        pg,
        "CREATE TABLE imsma_hazard AS SELECT hazard_id AS hazard_localid, md5(hazard_id) AS hazard_guid, "
        "CASE WHEN province_recorded = 'Pailin' THEN 'Active' ELSE 'Closed' END AS status_enum, "
        "'SHA' AS hazardtype_enum, area_recorded_m2 AS calculated_area, province_recorded AS province, geometry "
        "FROM hazards; GRANT SELECT ON imsma_hazard TO ops",
    )
    query = "SELECT * FROM imsma_hazard WHERE status_enum = 'Active'"
    assert main(["analyze", pg["url"], "--sql", query, "--out", str(tmp_path / "i"), "-q"]) == 0
    assert "numbered" not in capsys.readouterr().err
    s = json.loads((tmp_path / "i" / "summary.json").read_text())
    assert s["hazards"] == 233  # Table 1: 233 SHAs in Pailin, the rows marked Active
    fields = json.loads((tmp_path / "i" / "validation.json").read_text())["fields"]
    assert fields["hazard_id"] == "hazard_localid" and fields["status"] == "status_enum"
