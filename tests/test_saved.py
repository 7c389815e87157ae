"""Questions answered from a saved analysis: ``--from DIR`` and the analysis of the same inputs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import geo
import geo.cli.common as common
from geo.cli import main


def _json(capsys, *args) -> object:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture()
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_answers_from_a_saved_output_equal_a_fresh_analysis(tmp_path, capsys, own_cache, monkeypatch):
    layer = tmp_path / "sha.gpkg"
    some = geo.read_hazards(geo.DEMO_HAZARDS).iloc[:300]
    some.to_file(layer, engine="pyogrio")
    near = some.to_crs("EPSG:4326").geometry.iloc[0].representative_point()
    out = tmp_path / "run"
    assert main(["analyze", str(layer), "--out", str(out), "-q", "--error-draws", "20"]) == 0
    capsys.readouterr()
    ask = ("where", f"{near.y:.5f}", f"{near.x:.5f}", "--radius", "5km", "--format", "json")
    saved = _json(capsys, *ask, "--from", str(out))
    monkeypatch.setenv("GEO_CACHE", "0")  # nothing kept: a new analysis
    fresh = _json(capsys, *ask, "--hazards", str(layer), "--error-draws", "20")
    assert saved == fresh and saved["hazards"]
    monkeypatch.delenv("GEO_CACHE")
    by = ("query", "--within", "7", "--by", "province,band", "--format", "json")
    assert _json(capsys, *by, "--from", str(out)) == _json(capsys, *by, "--hazards", str(layer), "--error-draws", "20")


def test_the_same_inputs_are_not_analysed_twice_and_changed_ones_are(tmp_path, capsys, own_cache, monkeypatch):
    layer = tmp_path / "sha.gpkg"
    demo = geo.read_hazards(geo.DEMO_HAZARDS)
    demo.iloc[:200].to_file(layer, engine="pyogrio")
    ask = ("query", "--within", "7", "--format", "json", "--hazards", str(layer), "--error-draws", "0")
    first = _json(capsys, *ask)

    def refuse(*_a, **_k):
        raise AssertionError("analysed again")

    monkeypatch.setattr(common, "run_analysis", refuse)
    assert _json(capsys, *ask) == first  # the same bytes and options: answered from the kept analysis
    assert main([*ask[:-1], "2"]) == 1  # another option: a new analysis
    assert "analysed again" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setenv("GEO_CACHE_DIR", str(own_cache))
    demo.iloc[:150].to_file(layer, engine="pyogrio")  # the same name, other contents
    assert _json(capsys, *ask) != first


def test_from_names_what_it_cannot_use(tmp_path, capsys, own_cache):
    out = tmp_path / "run"
    layer = tmp_path / "sha.gpkg"
    geo.read_hazards(geo.DEMO_HAZARDS).iloc[:50].to_file(layer, engine="pyogrio")
    assert main(["analyze", str(layer), "--out", str(out), "-q", "--error-draws", "0"]) == 0
    capsys.readouterr()
    assert main(["where", "13.35", "102.55", "--from", str(out), "--hazards", str(layer)]) == 2
    assert "leave out --hazards" in capsys.readouterr().err
    assert main(["where", "13.35", "102.55", "--from", str(tmp_path)]) == 2
    assert "no summary.json there" in capsys.readouterr().err
    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    summary = edited / "summary.json"
    summary.write_text(summary.read_text(encoding="utf-8").replace('"hazards": 50', '"hazards": 51'), "utf-8")
    assert main(["query", "--within", "7", "--from", str(edited)]) == 2
    err = capsys.readouterr().err
    assert "keeps no analysis that wrote that summary.json" in err and str(edited) in err
    shutil.rmtree(own_cache)  # a cleared cache (or a directory made on another machine)
    assert main(["query", "--within", "7", "--from", str(out)]) == 2


def test_the_cache_keeps_only_the_newest_analyses(tmp_path, own_cache, capsys):
    from geo.engine.saved import KEEP

    layer = tmp_path / "sha.gpkg"
    demo = geo.read_hazards(geo.DEMO_HAZARDS)
    for k in range(KEEP + 2):
        demo.iloc[: 5 + k].to_file(layer, engine="pyogrio")
        assert main(["query", "--within", "7", "--hazards", str(layer), "--error-draws", "0", "--format", "json"]) == 0
    capsys.readouterr()
    assert len(list(own_cache.glob("analysis-*.geocache"))) == KEEP


def test_a_chunked_analysis_answers_site_checks_from_the_pieces_it_wrote(tmp_path, capsys, own_cache, monkeypatch):
    layer = tmp_path / "sha.gpkg"
    some = geo.read_hazards(geo.DEMO_HAZARDS).iloc[:400]
    some.to_file(layer, engine="pyogrio")
    out = tmp_path / "run"
    chunked = ("analyze", str(layer), "--out", str(out), "-q", "--error-draws", "0", "--engine", "chunked")
    assert main([*chunked, "--chunk-rows", "150"]) == 0
    capsys.readouterr()
    sites = some.to_crs("EPSG:4326").geometry.iloc[[0, 57, 399]].representative_point()
    singles = []
    for site in sites:
        ask = ("where", f"{site.y:.5f}", f"{site.x:.5f}", "--radius", "3km", "--format", "json")
        saved = _json(capsys, *ask, "--from", str(out))
        singles.append(saved["hazards"])
        monkeypatch.setenv("GEO_CACHE", "0")  # nothing kept: a new analysis, in memory
        fresh = _json(capsys, *ask, "--hazards", str(layer), "--error-draws", "0")
        monkeypatch.delenv("GEO_CACHE")
        assert saved["hazards"], "a site inside a hazard lists it"
        # Hazard areas come back as the pieces' written areas (to 0.0001 m2): equal at the 0.01 m2 shown,
        # give or take one rounding step.
        for a, b in zip(saved.pop("hazards"), fresh.pop("hazards"), strict=True):
            assert a["hazard_id"] == b["hazard_id"] and a["distance_m"] == pytest.approx(b["distance_m"], abs=0.011)
            assert a["area_m2"] == pytest.approx(b["area_m2"], abs=0.011)
        assert saved == fresh
    # The same inputs without --from: answered from the pieces too, with no new analysis.
    monkeypatch.setattr(common, "run_analysis", lambda *a, **k: (_ for _ in ()).throw(AssertionError("again")))
    ask = ("where", f"{sites.iloc[0].y:.5f}", f"{sites.iloc[0].x:.5f}", "--format", "json")
    assert _json(capsys, *ask, "--hazards", str(layer), "--error-draws", "0")["hazards"]
    # A file of sites, all at once.
    csv = tmp_path / "sites.csv"
    csv.write_text("lat,lon\n" + "".join(f"{p.y:.5f},{p.x:.5f}\n" for p in sites), encoding="utf-8")
    assert main(["where", "--file", str(csv), "--from", str(out), "--radius", "3km", "--format", "json"]) == 0
    many = json.loads(capsys.readouterr().out)
    assert len(many) == len(singles)
    for answer, single in zip(many, singles):
        assert [h["hazard_id"] for h in answer["hazards"]] == [h["hazard_id"] for h in single]
        assert [h["distance_m"] for h in answer["hazards"]] == pytest.approx(
            [h["distance_m"] for h in single], abs=0.05
        )
    # The pieces file changed since it was written: --from says so; the same inputs are analysed again.
    with open(out / "zones.gpkg", "r+b") as f:
        f.seek(100)
        f.write(b"\x00")
    assert main(["where", *ask[1:], "--from", str(out)]) == 2
    err = capsys.readouterr().err
    assert "made in chunks" in err and "has changed since geo wrote it" in err
    assert main(["where", *ask[1:], "--hazards", str(layer), "--error-draws", "0"]) == 1
    assert "again" in capsys.readouterr().err
    # A question that needs the pieces in memory: the same inputs are analysed again, in memory, and
    # give the chunked analysis' figure.
    monkeypatch.undo()
    monkeypatch.setenv("GEO_CACHE_DIR", str(own_cache))
    q = _json(capsys, "query", "--within", "7", "--format", "json", "--hazards", str(layer), "--error-draws", "0")
    assert q["area_km2"] == pytest.approx(json.loads((out / "summary.json").read_text())["within_7km_km2"], abs=1e-9)


def _analysed_in_chunks(tmp_path):
    """400 demo hazards made larger (many overlap another), written to a GeoPackage and analysed in
    chunks of 150: the layer, its hazards and the output directory."""
    layer = tmp_path / "sha.gpkg"
    some = geo.read_hazards(geo.DEMO_HAZARDS).iloc[:400]
    some = some.assign(geometry=some.geometry.scale(3.0, 3.0))
    some.to_file(layer, engine="pyogrio")
    out = tmp_path / "run"
    chunked = ("analyze", str(layer), "--out", str(out), "-q", "--error-draws", "0", "--engine", "chunked")
    assert main([*chunked, "--chunk-rows", "150"]) == 0
    return layer, some, out


def test_a_chunked_analysis_answers_queries_from_the_pieces_it_wrote(tmp_path, capsys, own_cache, monkeypatch):
    """``geo query --from`` an analysis made in chunks reads its pieces back from zones.gpkg and gives the
    answers of a fresh analysis in memory (overlapping hazards counted once, by group, cut to a district),
    with no new analysis."""
    layer, some, out = _analysed_in_chunks(tmp_path)
    capsys.readouterr()
    asks = [(), ("--within", "7", "--by", "province,band"), ("--province", "Battambang", "--by", "type")]
    district = str(geo.analyze(some, error_draws=0).by_district.sort_values("area_km2").iloc[-1]["district"])
    asks.append(("--district", district))
    saved = []
    with monkeypatch.context() as m:
        m.setattr(common, "run_analysis", lambda *a, **k: (_ for _ in ()).throw(AssertionError("again")))
        for ask in asks:
            saved.append(_json(capsys, "query", *ask, "--format", "json", "--from", str(out)))
            assert _json(capsys, "query", *ask, "--format", "json", "--hazards", str(layer), "--error-draws", "0")
    monkeypatch.setenv("GEO_CACHE", "0")  # nothing kept: a new analysis, in memory
    for ask, answer in zip(asks, saved):
        fresh = _json(capsys, "query", *ask, "--format", "json", "--hazards", str(layer), "--error-draws", "0")
        _same(answer, fresh, ask)
    summary = json.loads((out / "summary.json").read_text())
    assert sum(g["area_km2"] for g in saved[1]["groups"]) == pytest.approx(summary["within_7km_km2"], abs=1e-9)
    assert saved[0]["area_km2"] < saved[0]["area_sum_km2"]  # the overlaps were counted once


def _same(a, b, where) -> None:
    """Equal answers: numbers to 1e-9 (km2: 0.001 m2), everything else exactly."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], (where, k))
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for x, y in zip(a, b):
            _same(x, y, where)
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-9), where
    else:
        assert a == b, where


def test_a_chunked_analysis_draws_the_curve_from_the_pieces_it_wrote(tmp_path, capsys, own_cache, monkeypatch):
    """``geo curve --from`` an analysis made in chunks unites the overlapping pieces it wrote again, and
    gives the curve of a fresh analysis in memory at every distance (band edges and between them, each
    province too) to the CSV's last digit (1e-8 km2), with no new analysis; where the frontier is
    moved, its frontier sensitivity figures."""
    layer, _, out = _analysed_in_chunks(tmp_path)
    ask = ("--max", "9", "--step", "0.25", "--top", "8")
    with monkeypatch.context() as m:
        m.setattr(common, "run_analysis", lambda *a, **k: (_ for _ in ()).throw(AssertionError("again")))
        assert main(["curve", *ask, "--from", str(out), "--out", str(tmp_path / "saved.csv")]) == 0
    monkeypatch.setenv("GEO_CACHE", "0")  # nothing kept: a new analysis, in memory
    assert (
        main(["curve", *ask, "--hazards", str(layer), "--error-draws", "0", "--out", str(tmp_path / "fresh.csv")]) == 0
    )
    saved, fresh = (pd.read_csv(tmp_path / f"{n}.csv") for n in ("saved", "fresh"))
    assert list(saved.columns) == list(fresh.columns) and len(saved.columns) > 4 and len(saved) == 37
    assert (saved["data_notice"] == fresh["data_notice"]).all()  # SYNTHETIC said in both
    figures = saved.columns.drop("data_notice")
    assert np.abs(saved[figures].to_numpy() - fresh[figures].to_numpy()).max() < 1e-9
    assert saved["total_km2"].is_monotonic_increasing and saved["total_km2"].iloc[-1] > 0
    summary = json.loads((out / "summary.json").read_text())
    at = saved.set_index("distance_km")["total_km2"]
    for line in summary["frontier_sensitivity"]:
        if line["kind"] == "analysed" and line["shift_m"] in (-1000.0, -500.0, 500.0, 1000.0):
            for edge, key in ((2.0, "within_2km_km2"), (7.0, "within_7km_km2")):
                assert at[edge + line["shift_m"] / 1000] == pytest.approx(line[key], abs=1e-8)  # CSV: 8 decimals
