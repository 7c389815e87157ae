"""The chunked engine: the same figures and files as the whole-layer engine, land counted once across chunks."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from contextlib import closing

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import geo
from geo.cli import main
from geo.engine import chunked
from geo.engine.chunked import analyze_in_chunks, plan_memory
from geo.io.writers import PieceWriter
from geo.render.export import write_outputs
from tests.conftest import TM, hazards_tm

REL = 2e-5  # as in test_analysis: TM scale effects at <= 40 km from the test meridian

#: Rectangles (x0, y0, x1, y1 km east of / along a straight frontier) overlapping across rows: with one
#: or two rows per chunk, land must be counted once across chunks (lone hazards and unions alike).
BOXES = [
    (1, 0, 6, 1),
    (4, 0, 9, 1),
    (5, 0.5, 8, 2),
    (0.5, 0.5, 1.5, 1.5),
    (0.5, 1.2, 1.5, 3),
    (12, 0, 13, 1),
    (12, 0, 13, 1),  # the same land twice
]


def _strip_area(geom: shapely.Geometry, x0_km: float, x1_km: float) -> float:
    strip = shapely.box(x0_km * 1000, -1e6, x1_km * 1000, 1e6)
    return shapely.intersection(geom, strip).area / 1e6


@pytest.mark.parametrize("rows", [1, 2, 3, 100])
def test_overlaps_across_chunks_are_counted_once(tmp_path, straight_world, rows):
    provinces, frontier = straight_world
    path = tmp_path / "boxes.gpkg"
    hazards_tm(BOXES).to_file(path, engine="pyogrio")
    writer = PieceWriter(tmp_path / "out")
    res = analyze_in_chunks(path, writer, boundaries=geo.Boundaries.from_frames(provinces, frontier), chunk_rows=rows)
    # Independent answer: one union of the rectangles in the TM whose x is the distance to the frontier.
    land = shapely.union_all([shapely.box(a * 1e3, b * 1e3, c * 1e3, d * 1e3) for a, b, c, d in BOXES])
    s = res.summary
    assert s["area_km2"] == pytest.approx(land.area / 1e6, rel=REL)
    assert s["area_sum_km2"] == pytest.approx(sum((c - a) * (d - b) for a, b, c, d in BOXES), rel=REL)
    bands = {b["band"]: b["area_km2"] for b in s["bands"]}
    for band, (x0, x1) in {"0-2 km": (0, 2), "2-5 km": (2, 5), "5-7 km": (5, 7), "beyond 7 km": (7, 40)}.items():
        assert bands[band] == pytest.approx(_strip_area(land, x0, x1), rel=REL, abs=1e-9)
    assert s["within_7km_km2"] == pytest.approx(_strip_area(land, 0, 7), rel=REL)
    # The ranges are read off the summed curves: +/- 500 m moves the 2 km edge to 1.5 and 2.5 km.
    r2 = s["uncertainty"]["within_2km_km2"]
    assert r2["low"] == pytest.approx(_strip_area(land, 0, 1.5), rel=1e-4)
    assert r2["high"] == pytest.approx(_strip_area(land, 0, 2.5), rel=1e-4)
    assert res.streamed and res.validation["chunks"]["count"] == -(-len(BOXES) // rows)
    with pytest.raises(geo.GeoInputError, match="made in chunks"):
        geo.where(res, 13.0, 103.05)
    write_outputs(res, tmp_path / "out", pieces=writer)
    pieces = gpd.read_file(tmp_path / "out" / "zones.gpkg", layer="hazard_pieces")
    assert len(pieces) == len(res.by_hazard)
    assert pieces["area_km2"].sum() == pytest.approx(s["area_sum_km2"], rel=1e-9)


def _close(a, b, tol: float = 1e-9) -> bool:
    """Equal structures, numbers to ``tol`` (km2)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol
    return a == b


def _run(*args: str) -> int:
    return main([*args, "-q"])


def test_demo_in_chunks_gives_the_whole_layer_figures_and_files(tmp_path):
    """Chunks of 1,000 rows against the whole layer: every figure, the piece table byte for byte."""
    assert _run("analyze", str(geo.DEMO_HAZARDS), "--engine", "memory", "--out", str(tmp_path / "m")) == 0
    assert (
        _run(
            "analyze",
            str(geo.DEMO_HAZARDS),
            "--engine",
            "chunked",
            "--chunk-rows",
            "1000",
            "--out",
            str(tmp_path / "c"),
        )
        == 0
    )
    m, c = tmp_path / "m", tmp_path / "c"
    assert (m / "by_hazard.csv").read_bytes() == (c / "by_hazard.csv").read_bytes()
    assert (m / "by_province.csv").read_bytes() == (c / "by_province.csv").read_bytes()
    sm, sc = (json.loads((d / "summary.json").read_text()) for d in (m, c))
    for key in ("hazards", "area_km2", "within_2km_km2", "within_7km_km2", "share_within_7km", "bands"):
        assert sm[key] == sc[key], key
    # The ranges come from curves summed over chunks: equal but for the order of the additions.
    assert _close(sm["uncertainty"], sc["uncertainty"])
    for a, b in zip(sm["frontier_sensitivity"], sc["frontier_sensitivity"]):
        assert a["line"] == b["line"]
        assert a["within_2km_km2"] == pytest.approx(b["within_2km_km2"], abs=1e-9)
        assert a["within_7km_km2"] == pytest.approx(b["within_7km_km2"], abs=1e-9)
    assert sm["reference_table1"] == sc["reference_table1"]
    for key in ("within_2km_km2", "within_7km_km2"):  # every border's figures, also summed over chunks
        assert sm["all_borders"][key] == pytest.approx(sc["all_borders"][key], abs=1e-9)
    vm, vc = (json.loads((d / "validation.json").read_text()) for d in (m, c))
    assert vc.pop("chunks")["count"] == 6  # 5 chunks of at most 1,000 rows, made 6 for two workers
    assert vm == vc
    for layer in ("hazard_pieces", "provinces", "zones", "frontier"):
        a, b = (pyogrio.read_dataframe(d / "zones.gpkg", layer=layer) for d in (m, c))
        assert len(a) == len(b), layer
    meta = pyogrio.read_info(c / "zones.gpkg", layer="hazard_pieces")["layer_metadata"]
    assert meta["SYNTHETIC"] == "yes"
    # The layer written from six chunks in one stream has its spatial index whole, as the one written at once.
    counts = []
    for d in (m, c):
        with closing(sqlite3.connect(d / "zones.gpkg")) as db:
            counts.append(db.execute("SELECT count(*) FROM rtree_hazard_pieces_geom").fetchone()[0])
            counts.append(db.execute("SELECT count(*) FROM hazard_pieces").fetchone()[0])
    assert counts[0] == counts[1] == counts[2] == counts[3] > 4000
    # The GeoParquet pieces, streamed a chunk at a time, equal the whole layer's.
    pm, pc = (gpd.read_parquet(d / "hazard_pieces.parquet") for d in (m, c))
    assert pm.dtypes.to_dict() == pc.dtypes.to_dict()
    assert shapely.equals_exact(pm.geometry.values, pc.geometry.values, tolerance=0).all()
    pd.testing.assert_frame_equal(pd.DataFrame(pm.drop(columns="geometry")), pd.DataFrame(pc.drop(columns="geometry")))


def test_geoparquet_in_chunks_gives_the_whole_layer_figures(tmp_path):
    """A GeoParquet layer read a part at a time (chunks of 1,000 rows across row groups of 700):
    the memory engine's figures and piece table, land counted once across chunks."""
    layer = gpd.read_file(geo.DEMO_HAZARDS, engine="pyogrio").assign(synthetic=True)
    # A second copy 40 m east of the first: every hazard overlaps one in another chunk.
    shifted = layer.assign(hazard_id=layer["hazard_id"] + "-b", geometry=layer.geometry.translate(0.00037, 0.0))
    path = tmp_path / "hazards.parquet"
    pd.concat([layer, shifted], ignore_index=True).to_parquet(path, row_group_size=700)
    assert _run("analyze", str(path), "--engine", "memory", "--out", str(tmp_path / "m")) == 0
    assert _run("analyze", str(path), "--engine", "chunked", "--chunk-rows", "1000", "--out", str(tmp_path / "c")) == 0
    m, c = tmp_path / "m", tmp_path / "c"
    assert (m / "by_hazard.csv").read_bytes() == (c / "by_hazard.csv").read_bytes()
    sm, sc = (json.loads((d / "summary.json").read_text()) for d in (m, c))
    assert sm["overlap_km2"] > 100  # the copies overlap: land is counted once across chunks
    for key in ("hazards", "area_km2", "overlap_km2", "within_2km_km2", "within_7km_km2", "synthetic"):
        assert sm[key] == pytest.approx(sc[key], abs=1e-9), key
    assert _close(sm["uncertainty"], sc["uncertainty"])
    vm, vc = (json.loads((d / "validation.json").read_text()) for d in (m, c))
    assert vc.pop("chunks")["count"] == 10 and vm == vc


def test_reading_checks_are_merged_across_chunks(tmp_path, demo_hazards):
    """Bad rows in different chunks: the report names the same rows and ids as the whole-layer read."""
    layer = demo_hazards[["hazard_id", "province_recorded", "geometry"]].iloc[:60].copy()
    geoms = layer.geometry.to_numpy().copy()
    x0, y0, *_ = shapely.bounds(geoms[5])
    geoms[5] = shapely.Polygon([(x0, y0), (x0 + 0.01, y0 + 0.01), (x0 + 0.01, y0), (x0, y0 + 0.01)])  # bow-tie
    geoms[41] = shapely.Polygon([(x0, y0), (x0 + 0.02, y0 + 0.02), (x0 + 0.02, y0), (x0, y0 + 0.02)])
    geoms[17] = None
    layer["geometry"] = geoms
    ids = layer["hazard_id"].to_numpy().copy()
    ids[[3, 33]] = None
    ids[50] = ids[10]  # a duplicate id, rows in different chunks
    layer["hazard_id"] = ids
    # Columns whose types a first chunk does not show: text null in it, whole numbers with gaps later.
    layer["note"] = [None] * 25 + ["=HYPERLINK(1)"] * 35
    layer["count"] = pd.array([*range(30), *[None] * 10, *range(20)], dtype="Int64")
    path = tmp_path / "bad.gpkg"
    layer.to_file(path, engine="pyogrio")
    assert _run("analyze", str(path), "--engine", "memory", "--out", str(tmp_path / "m")) == 0
    assert _run("analyze", str(path), "--engine", "chunked", "--chunk-rows", "20", "--out", str(tmp_path / "c")) == 0
    vm, vc = (json.loads((tmp_path / d / "validation.json").read_text()) for d in ("m", "c"))
    assert vc.pop("chunks")["count"] == 4  # 3 chunks of at most 20 rows, made 4 for two workers
    assert vm["null_ids"]["rows"] == [4, 34] and vm["repaired"]["count"] == 2
    assert vm["duplicate_ids"]["count"] == 1
    assert vm == vc
    pm, pc = (gpd.read_parquet(tmp_path / d / "hazard_pieces.parquet") for d in ("m", "c"))
    assert pc["note"].isna().sum() == pm["note"].isna().sum() > 0 and (pc["note"].dropna() == "=HYPERLINK(1)").all()
    assert pc["count"].astype(float).equals(pm["count"].astype(float)) and pc["count"].isna().any()
    assert shapely.equals_exact(pm.geometry.values, pc.geometry.values, tolerance=0).all()
    # Without an id column, hazards are numbered by their row in the file, whichever chunk holds them.
    path = tmp_path / "no_ids.gpkg"
    layer.drop(columns="hazard_id").to_file(path, engine="pyogrio")
    assert _run("analyze", str(path), "--engine", "memory", "--out", str(tmp_path / "m2")) == 0
    assert _run("analyze", str(path), "--engine", "chunked", "--chunk-rows", "20", "--out", str(tmp_path / "c2")) == 0
    vm, vc = (json.loads((tmp_path / d / "validation.json").read_text()) for d in ("m2", "c2"))
    vc.pop("chunks")
    assert vm["ids_numbered"]["count"] == 60 and vm == vc
    hm, hc = ((tmp_path / d / "by_hazard.csv").read_bytes() for d in ("m2", "c2"))
    assert hm == hc and b"row-41" in hm


def test_auto_engine_chunks_a_file_too_large_for_memory(tmp_path, monkeypatch, capsys):
    """With a memory budget the whole layer does not fit in, --engine auto (the default) runs in chunks;
    with one the chunked plan does not fit in either, the run is refused, saying why and what to do."""
    size = geo.DEMO_HAZARDS.stat().st_size
    budget = 2 * size  # less than the whole-layer estimate (9 x the file), more than 4,330 hazards in chunks
    assert plan_memory(4330, 100) < budget < 9 * size
    monkeypatch.setenv("GEO_MAX_MEMORY", str(budget))
    assert _run("analyze", str(geo.DEMO_HAZARDS), "--chunk-rows", "100", "--out", str(tmp_path / "a")) == 0
    assert json.loads((tmp_path / "a" / "validation.json").read_text())["chunks"]["count"] == 44
    assert _run("analyze", str(geo.DEMO_HAZARDS), "--engine", "memory", "--out", str(tmp_path / "b")) == 2
    assert "--engine chunked" in capsys.readouterr().err
    monkeypatch.setenv("GEO_MAX_MEMORY", str(plan_memory(4330, 100) // 2))
    assert _run("analyze", str(geo.DEMO_HAZARDS), "--chunk-rows", "100", "--out", str(tmp_path / "d")) == 2
    err = capsys.readouterr().err
    assert "4,330 hazards in chunks of 99" in err and "--chunk-rows" in err and " MB " in err
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_auto_engine_chunks_a_layer_of_many_hazards(tmp_path, monkeypatch):
    """--engine auto runs in chunks from AUTO_CHUNK_FEATURES hazards on (lowered here to the demo's
    size), and in memory below it, with an option that needs the whole layer, or with --xlsx (whose
    by_hazard sheet the chunked engine leaves out)."""
    from geo.cli import analyze as cli_analyze

    monkeypatch.setattr(cli_analyze, "AUTO_CHUNK_MIN_BYTES", 0)
    cases = ((4329, (), True), (4330, (), False), (4329, ("--kml",), False), (4329, ("--xlsx",), False))
    for threshold, extra, chunks in cases:
        monkeypatch.setattr(cli_analyze, "AUTO_CHUNK_FEATURES", threshold)
        out = tmp_path / f"{threshold}{len(extra)}"
        assert _run("analyze", str(geo.DEMO_HAZARDS), "-q", "--out", str(out), *extra) == 0
        assert ("chunks" in json.loads((out / "validation.json").read_text())) is chunks


def test_auto_engine_keeps_a_geojson_layer_of_many_hazards_in_memory(tmp_path, monkeypatch, caplog):
    """GDAL reads GeoJSON from its start on every access, so in chunks the file is read whole for every
    chunk: --engine auto reads a GeoJSON layer that fits in memory once, in memory, however many hazards
    it holds; a chunked run asked for says what converting the file would spare."""
    from geo.cli import analyze as cli_analyze

    path = tmp_path / "sha.geojson"
    pyogrio.write_dataframe(geo.read_hazards(geo.DEMO_HAZARDS).iloc[:1200], path, driver="GeoJSON")
    monkeypatch.setattr(cli_analyze, "AUTO_CHUNK_MIN_BYTES", 0)
    monkeypatch.setattr(cli_analyze, "AUTO_CHUNK_FEATURES", 100)
    assert _run("analyze", str(path), "--out", str(tmp_path / "auto")) == 0
    assert "chunks" not in json.loads((tmp_path / "auto" / "validation.json").read_text())
    gpkg = tmp_path / "sha.gpkg"
    pyogrio.write_dataframe(geo.read_hazards(geo.DEMO_HAZARDS).iloc[:1200], gpkg)
    assert _run("analyze", str(gpkg), "--out", str(tmp_path / "gpkg")) == 0
    assert "chunks" in json.loads((tmp_path / "gpkg" / "validation.json").read_text())  # the same rows, by fid
    with caplog.at_level("WARNING", logger="geo"):
        args = ("analyze", str(path), "--engine", "chunked", "--chunk-rows", "500", "--workers", "1")
        assert _run(*args, "--out", str(tmp_path / "chunked")) == 0
    assert "read from its start for each of its 3 chunks" in caplog.text and "ogr2ogr hazards.gpkg" in caplog.text


@pytest.mark.parametrize(
    "extra", [["--map"], ["--raster"], ["--aoi", "Pailin"], ["--kml"], ["--gdb"], ["--chunk-rows", "0"]]
)
def test_chunked_engine_refuses_what_needs_the_whole_layer(tmp_path, capsys, extra):
    out = tmp_path / "o"
    assert _run("analyze", str(geo.DEMO_HAZARDS), "--engine", "chunked", "--out", str(out), *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("geo: error:") and ("--engine chunked" in err or "--chunk-rows" in err)
    assert not out.exists() or not any(out.iterdir())


def test_a_failed_chunked_run_leaves_the_previous_outputs(tmp_path, monkeypatch):
    """A chunk that fails half-way (here: the third, in this process) leaves the previous run's files as they were."""
    out = tmp_path / "o"
    assert _run("analyze", str(geo.DEMO_HAZARDS), "--engine", "chunked", "--chunk-rows", "2000", "--out", str(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real = chunked.hazard_table
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(chunked, "hazard_table", failing)
    args = ("analyze", str(geo.DEMO_HAZARDS), "--engine", "chunked", "--chunk-rows", "2000", "--workers", "1")
    assert _run(*args, "--out", str(out)) == 1 and calls["n"] == 3
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    shutil.rmtree(out)


def test_a_run_failing_beside_its_worker_processes_leaves_the_previous_outputs(tmp_path, monkeypatch):
    """Two worker processes, and the run fails in this process while they work (writing the first
    chunk's pieces): the command says so, and the previous run's files are as they were."""
    out = tmp_path / "o"
    args = ("analyze", str(geo.DEMO_HAZARDS), "--engine", "chunked", "--chunk-rows", "600", "--workers", "2")
    assert _run(*args, "--out", str(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def failing(self, rows):
        raise OSError("disk gone")

    monkeypatch.setattr(PieceWriter, "add", failing)
    assert _run(*args, "--out", str(out)) == 1  # an error no check names: one line, not a traceback
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # no staging directory or hand-over file left


def test_worker_pool_cancels_the_chunks_not_started_when_the_run_fails():
    """The local worker pool starts its processes at once; on a failure, queued work is cancelled
    rather than run to the end before the error is told."""
    import time

    futures = []
    with pytest.raises(RuntimeError, match="stop"):
        with chunked._worker_pool(2, "test-run", {"boundaries": None}) as pool:
            futures = [pool.submit(time.sleep, 0.3) for _ in range(12)]
            raise RuntimeError("stop")
    assert sum(f.cancelled() for f in futures) >= 6 and all(f.done() for f in futures)


def test_two_worker_processes_give_the_figures_of_one(tmp_path, straight_world):
    provinces, frontier = straight_world
    path = tmp_path / "boxes.gpkg"
    hazards_tm(BOXES * 3).to_file(path, engine="pyogrio")
    b = geo.Boundaries.from_frames(provinces, frontier)
    one = analyze_in_chunks(path, PieceWriter(tmp_path / "one"), boundaries=b, chunk_rows=4, workers=1)
    two = analyze_in_chunks(path, PieceWriter(tmp_path / "two"), boundaries=b, chunk_rows=4, workers=2)
    assert two.validation["chunks"]["workers"] == 2
    assert _close(one.summary["bands"], two.summary["bands"]) and _close(
        one.summary["uncertainty"], two.summary["uncertainty"]
    )
    assert (tmp_path / "one" / ".by_hazard.part.csv").read_bytes() == (
        tmp_path / "two" / ".by_hazard.part.csv"
    ).read_bytes()


def test_worker_processes_hand_their_pieces_over_in_files_that_do_not_stay(tmp_path):
    """Worker processes write their pieces' Arrow table to a file for the parent (not through a pipe);
    the files written are those of a run in one process, and the hand-over files are gone."""
    import pyarrow.parquet as pq

    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / workers
        args = ("analyze", str(geo.DEMO_HAZARDS), "--engine", "chunked", "--chunk-rows", "1500", "--workers", workers)
        assert _run(*args, "--out", str(out), "-q") == 0
        runs[workers] = out
    expected = [
        "by_district.csv",
        "by_hazard.csv",
        "by_province.csv",
        "hazard_pieces.parquet",
        "summary.json",
        "validation.json",
    ]
    assert sorted(p.name for p in runs["2"].iterdir() if not p.name.startswith(".geo")) == sorted(
        [*expected, "zones.gpkg"]
    )
    one, two = (pq.read_table(runs[w] / "hazard_pieces.parquet") for w in ("1", "2"))
    assert two.num_rows > 4000 and one.schema.equals(two.schema) and one.schema.metadata == two.schema.metadata
    # The same pieces; areas equal to float noise (GEOS in two processes may sum a hazard's district
    # pieces to a last digit apart: 6e-11 m2 on one piece of 267,302 m2 seen).
    for name in one.column_names:
        a, b = one[name].to_numpy(zero_copy_only=False), two[name].to_numpy(zero_copy_only=False)
        if a.dtype.kind == "f":
            assert np.allclose(a, b, rtol=1e-12, atol=1e-9, equal_nan=True), name
        else:
            assert (a == b).all(), name
    assert (runs["1"] / "by_hazard.csv").read_bytes() == (runs["2"] / "by_hazard.csv").read_bytes()
    with closing(sqlite3.connect(runs["2"] / "zones.gpkg")) as db:
        assert db.execute("select count(*) from hazard_pieces").fetchone()[0] == two.num_rows


@pytest.mark.parametrize("n", [0, 5, 16, 17, 3000])
def test_earlier_boxes_grouped_under_envelopes_are_found_as_one_by_one(n):
    """The grouped boxes of earlier rows meet exactly the boxes a pairwise test finds (edges that only
    touch included, as the tree's "intersects" counts them), whatever the number of rows."""
    from geo.engine.chunked import _BoxGroups

    rng = np.random.default_rng(n)

    def boxes(m):
        lo = np.round(rng.uniform(0, 50, (2, m)))  # whole numbers: many edges touch exactly
        size = rng.integers(0, 4, (2, m))
        return np.vstack([lo, lo + size]).astype(float)

    earlier, later = boxes(n), boxes(2000)
    fids = np.arange(n) * 10 + 7
    found = _BoxGroups(earlier, fids).meeting(shapely.box(*later), later)
    pairwise = (
        (later[0][:, None] <= earlier[2][None, :])
        & (later[2][:, None] >= earlier[0][None, :])
        & (later[1][:, None] <= earlier[3][None, :])
        & (later[3][:, None] >= earlier[1][None, :])
    ).any(axis=0)
    assert np.array_equal(np.sort(found), fids[pairwise])
    assert n < 100 or 0 < len(found) < n


def test_piece_rows_made_in_batches_are_the_rows_made_at_once(tmp_path):
    """Batches of one row each give the same CSV text and Arrow table (column types from the whole
    table: a column empty in the first rows stays a number column), in memory and spilled to a file."""
    from geo.io.writers import PieceRows

    table = hazards_tm([(1, 0, 6, 1), (12, 0, 13, 1), (3, 5, 4, 6)])
    table = table.assign(area_m2=table.area, hazard_index=[0, 1, 2], depth_m=[None, 2.5, None], note=[None, None, "x"])
    whole = PieceRows.of(table, synthetic=True, batch_rows=10)
    one_by_one = PieceRows.of(table, synthetic=True, batch_rows=1)
    spilled = PieceRows.of(table, synthetic=True, batch_rows=2, spill=tmp_path / "rows.arrow")
    assert one_by_one.csv == whole.csv == spilled.csv and one_by_one.header == whole.header == spilled.header
    assert one_by_one.arrow.equals(whole.arrow) and spilled.table().equals(whole.arrow)
    assert spilled.arrow == tmp_path / "rows.arrow"  # the rows read back from the file they were spilled to
    assert str(whole.arrow.schema.field("depth_m").type) == "double" and whole.count == 3


def test_piece_rows_check_again_only_what_was_reprojected():
    """With the hazards' own WGS 84 geometries known valid (checked when read), a piece reprojected
    back to WGS 84 is still checked and repaired, and the rows equal those checked throughout."""
    from geo.io.writers import PieceRows

    table = hazards_tm([(1, 0, 6, 1), (12, 0, 13, 1), (3, 5, 4, 6)]).to_crs("EPSG:4326")
    own = table.geometry.to_numpy().copy()
    table = table.to_crs(TM)
    # The third piece is cut (no geometry of its own) and comes back from the cut as a bow tie.
    x0, y0, x1, y1 = table.geometry.iloc[2].bounds
    bow = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    table = table.set_geometry([*table.geometry.iloc[:2], bow], crs=TM)
    table = table.assign(area_m2=[5.0e6, 1.0e6, 0.5e6], hazard_index=[0, 1, 2], _wgs84=[own[0], own[1], None])
    checked = PieceRows.of(table, synthetic=False)
    trusted = PieceRows.of(table, synthetic=False, own_valid=True)
    assert trusted.arrow.equals(checked.arrow) and trusted.csv == checked.csv
    geoms = shapely.from_wkb(trusted.arrow.column("geometry").to_numpy(zero_copy_only=False))
    assert shapely.is_valid(geoms).all() and shapely.equals_exact(geoms[0], shapely.multipolygons([own[0]]), 0)
    assert not shapely.is_valid(bow) and shapely.area(geoms[2]) > 0


def test_tm_layer_is_read_in_chunks_in_its_own_crs(tmp_path, straight_world):
    """A layer in a projected CRS of its own: the bounding boxes that find overlaps are taken after reprojection."""
    provinces, frontier = straight_world
    path = tmp_path / "tm.gpkg"
    hz = hazards_tm(BOXES)
    assert hz.crs == gpd.GeoSeries(crs=TM).crs
    hz.to_file(path, engine="pyogrio")
    b = geo.Boundaries.from_frames(provinces, frontier)
    whole = geo.analyze(geo.read_hazards(path), boundaries=b)
    res = analyze_in_chunks(path, PieceWriter(tmp_path / "w"), boundaries=b, chunk_rows=2)
    assert res.summary["area_km2"] == pytest.approx(whole.summary["area_km2"], abs=1e-9)
    assert np.allclose(res.by_province["area_km2"], whole.by_province["area_km2"], atol=1e-9)


@pytest.fixture(scope="module")
def tiled_layer(tmp_path_factory, demo_hazards):
    """43,300 hazards: the demo ten times, each copy 40 m east of the last (overlaps across every chunk edge)."""
    from geo.constants import ANALYSIS_CRS

    demo = demo_hazards[["hazard_id", "geometry"]].to_crs(ANALYSIS_CRS)
    copies = [
        demo.assign(hazard_id=demo["hazard_id"] + f"-{k}", geometry=demo.geometry.translate(40.0 * k, 0.0))
        for k in range(10)
    ]
    layer = gpd.GeoDataFrame(pd.concat(copies, ignore_index=True), crs=ANALYSIS_CRS).to_crs("EPSG:4326")
    path = tmp_path_factory.mktemp("tiled") / "tiled_43300.gpkg"
    layer.to_file(path, engine="pyogrio")
    return path


def test_dask_engine_on_a_cluster_gives_the_local_figures(tmp_path, tiled_layer):
    """43,300 overlapping hazards on a two-worker dask cluster reached by its address: the figures of the
    whole-layer engine, land counted once across chunks analysed on different workers."""
    from distributed import LocalCluster

    assert _run("analyze", str(tiled_layer), "--engine", "memory", "--out", str(tmp_path / "m")) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        args = ("--engine", "dask", "--scheduler", cluster.scheduler_address, "--chunk-rows", "10000")
        assert _run("analyze", str(tiled_layer), *args, "--out", str(tmp_path / "d")) == 0
    sm, sd = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("m", "d"))
    assert sm["overlap_km2"] > 100  # the copies overlap: land counted once is far less than the sum
    for key in ("hazards", "area_km2", "area_sum_km2", "overlap_km2", "within_2km_km2", "within_7km_km2"):
        assert sd[key] == pytest.approx(sm[key], abs=1e-6), key
    assert _close(sm["bands"], sd["bands"], 1e-6) and _close(sm["uncertainty"], sd["uncertainty"], 1e-6)
    bm, bd = (pd.read_csv(tmp_path / d / "by_province.csv") for d in ("m", "d"))
    numeric = bm.select_dtypes("number").columns
    assert np.allclose(bm[numeric], bd[numeric], atol=1e-6)
    assert (tmp_path / "m" / "by_hazard.csv").read_bytes() == (tmp_path / "d" / "by_hazard.csv").read_bytes()
    chunks = json.loads((tmp_path / "d" / "validation.json").read_text())["chunks"]
    assert chunks["engine"] == "dask" and chunks["count"] == 6


def test_dask_engine_starts_a_local_cluster_and_names_a_scheduler_it_cannot_reach(tmp_path, capsys):
    args = ("analyze", str(geo.DEMO_HAZARDS), "--engine", "dask", "--chunk-rows", "2000", "--workers", "2")
    assert _run(*args, "--out", str(tmp_path / "d")) == 0
    assert json.loads((tmp_path / "d" / "validation.json").read_text())["chunks"]["engine"] == "dask"
    bad = ("analyze", str(geo.DEMO_HAZARDS), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert _run(*bad, "--out", str(tmp_path / "x")) == 2
    err = capsys.readouterr().err
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())
    assert _run("analyze", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "y")) == 2
    assert "--scheduler goes with --engine dask" in capsys.readouterr().err


def test_a_parquet_file_without_geometry_is_named(tmp_path, capsys):
    """A plain Parquet table (no GeoParquet metadata) is refused by both engines, naming the file."""
    path = tmp_path / "table.parquet"
    pd.DataFrame({"hazard_id": ["a"], "wkt": ["POLYGON ((102 13, 102.01 13, 102.01 13.01, 102 13))"]}).to_parquet(path)
    for engine in ("memory", "chunked"):
        assert _run("analyze", str(path), "--engine", engine, "--out", str(tmp_path / engine)) == 2
        err = capsys.readouterr().err
        assert "table.parquet" in err and "GeoParquet" in err, err
        assert not (tmp_path / engine / "summary.json").exists()


def _pieces_table(n: int, start: int = 0):
    import pyarrow as pa

    boxes = [shapely.MultiPolygon([shapely.box(100 + i * 0.01, 12, 100.005 + i * 0.01, 12.005)]) for i in range(n)]
    return pa.table({"n": np.arange(start, start + n, dtype=np.uint64), "geometry": shapely.to_wkb(boxes)})


def test_a_layer_streamed_in_tables_is_whole_and_indexed(tmp_path):
    from geo.io.writers import LayerStream

    path = tmp_path / "s.gpkg"
    stream = LayerStream(path, "hazard_pieces", {"SYNTHETIC": "yes"}, _pieces_table(3))
    for k in range(4):
        stream.put(_pieces_table(3, start=3 * k))
    stream.finish()
    back = pyogrio.read_dataframe(path, layer="hazard_pieces")
    assert back["n"].tolist() == list(range(12)) and str(back["n"].dtype) == "int64"  # GeoPackage: signed
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM rtree_hazard_pieces_geom").fetchone()[0] == 12
    assert pyogrio.read_info(path, layer="hazard_pieces")["layer_metadata"] == {"SYNTHETIC": "yes"}


def test_a_stopped_or_failed_layer_stream_ends_its_thread_and_says_why(tmp_path):
    import pyarrow as pa

    from geo.io.writers import LayerStream

    before = threading.active_count()
    stream = LayerStream(tmp_path / "s.gpkg", "hazard_pieces", None, _pieces_table(2))
    stream.put(_pieces_table(2))
    stream.stop()  # a run that failed half-way
    assert threading.active_count() == before
    # A value the first table's types cannot hold is named, not written as another number.
    stream = LayerStream(tmp_path / "t.gpkg", "hazard_pieces", None, _pieces_table(2))
    big = _pieces_table(1).set_column(0, "n", pa.array([2**63 + 5], "uint64"))
    with pytest.raises(ValueError, match="signed 64-bit"):
        stream.put(big)
    stream.stop()
    # GDAL cannot create the file: the writer's error reaches the caller.
    stream = LayerStream(tmp_path / "no" / "such" / "dir" / "u.gpkg", "hazard_pieces", None, _pieces_table(2))
    with pytest.raises(Exception, match=r"(?i)no such|not exist|unable|cannot|failed"):
        stream.put(_pieces_table(2))
        stream.finish()
    assert threading.active_count() == before


def test_points_with_an_area_become_the_same_circles_in_chunks(tmp_path):
    """Circles overlapping across chunks are found (the boxes widened by the largest radius): land once."""
    rng = np.random.default_rng(1)
    n = 60
    x, y = 102.55 + rng.uniform(0, 0.02, n), 13.45 + rng.uniform(0, 0.02, n)
    points = gpd.GeoDataFrame(
        {"hazard_id": [f"p{i}" for i in range(n)], "area_m2": rng.uniform(5e4, 3e5, n)},
        geometry=shapely.points(x, y),
        crs="EPSG:4326",
    )
    path = tmp_path / "points.gpkg"
    points.to_file(path, engine="pyogrio")
    args = ("analyze", str(path), "--error-draws", "0", "-q")
    assert _run(*args, "--engine", "memory", "--out", str(tmp_path / "m")) == 0
    assert _run(*args, "--engine", "chunked", "--chunk-rows", "7", "--workers", "1", "--out", str(tmp_path / "c")) == 0
    sm, sc = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("m", "c"))
    assert sm["hazards"] == sc["hazards"] == n
    assert sc["overlap_km2"] > 1.0  # the circles overlap, across chunks too
    assert sc["area_km2"] == pytest.approx(sm["area_km2"], rel=1e-9)
    assert sc["area_sum_km2"] == pytest.approx(sm["area_sum_km2"], rel=1e-9)


@pytest.fixture(scope="module")
def demo_part(tmp_path_factory, demo_hazards):
    """The demo's first 400 hazards as a file of their own."""
    path = tmp_path_factory.mktemp("part") / "part.gpkg"
    demo_hazards.iloc[:400].to_file(path, engine="pyogrio")
    return path


PIECE_FILES = {"gpkg": "hazard_pieces", "csv": "by_hazard.csv", "parquet": "hazard_pieces.parquet"}


@pytest.mark.parametrize("engine", ["memory", "chunked"])
def test_pieces_option_writes_the_piece_files_asked_for_and_the_same_figures(tmp_path, demo_part, engine):
    out = tmp_path / "out"
    assert _run("analyze", str(demo_part), "--out", str(out), "--engine", engine) == 0
    everything = json.loads((out / "summary.json").read_text())
    full_csv = (out / "by_hazard.csv").read_bytes()
    rows = len(pd.read_csv(out / "by_hazard.csv"))
    for value, wanted in (("none", set()), ("csv", {"csv"}), ("parquet, GPKG", {"gpkg", "parquet"})):
        # Into the same directory: a piece file not asked for this time does not stay from the last run.
        assert _run("analyze", str(demo_part), "--out", str(out), "--engine", engine, "--pieces", value) == 0
        layers = set(pyogrio.list_layers(out / "zones.gpkg")[:, 0])
        assert {"zones", "provinces", "districts", "frontier"} <= layers
        have = {f for f, name in PIECE_FILES.items() if name in layers or (out / name).exists()}
        assert have == wanted, value
        assert _close(json.loads((out / "summary.json").read_text()), everything)
        if "csv" in wanted:
            assert (out / "by_hazard.csv").read_bytes() == full_csv
        if "parquet" in wanted:
            assert len(pd.read_parquet(out / "hazard_pieces.parquet")) == rows
    manifest = json.loads((out / ".geo-output").read_text())["files"]
    assert "by_hazard.csv" not in manifest and "hazard_pieces.parquet" in manifest


def test_pieces_option_refuses_an_unknown_file_before_any_work(tmp_path, demo_part, capsys):
    assert _run("analyze", str(demo_part), "--out", str(tmp_path / "o"), "--pieces", "gpkg,shp") == 2
    err = capsys.readouterr().err
    assert "--pieces gpkg,shp: 'shp' is not a piece file" in err and "or none" in err
    assert not (tmp_path / "o").exists()
