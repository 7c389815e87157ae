"""Questions answered from a saved analysis: ``--from DIR`` and the analysis of the same inputs."""

from __future__ import annotations

import json
import shutil

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
