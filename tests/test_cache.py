"""The derived-geometry cache: data only, trusted only when intact and the user's own."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import shapely

import geo
from geo.io import cache as geocache
from tests.conftest import hazards_tm


class _Payload:
    """What a planted pickle would run: it creates a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("GEO_CACHE_DIR", str(where))
    monkeypatch.delenv("GEO_CACHE", raising=False)
    return where


def _run(straight_world):
    provinces, frontier = straight_world
    hz = hazards_tm([(-1, 0, 1, 1), (1.5, 0, 3, 2), (6, 5, 8, 6)])
    return geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=0)


def _entry(where: Path) -> Path:
    (entry,) = where.glob("territory-*.geocache")
    return entry


def _poison(entry: Path) -> None:
    """Rewrite an entry, intact and well-formed, with every band replaced by a wrong square."""
    value = geocache.loads(entry.read_bytes())
    value["zones"] = value["zones"].assign(geometry=[shapely.box(0, 0, 1, 1)] * len(value["zones"]))
    entry.write_bytes(geocache.dumps(value))


def _bands(result) -> list[float]:
    return [b["area_km2"] for b in result.summary["bands"]]


def test_roundtrip_keeps_frames_geometries_and_arrays():
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"a": [1, 2], "b": ["x", "y"]}, geometry=[shapely.box(0, 0, 1, 1), None], crs=3857)
    value = {
        "frame": gdf,
        "geoms": np.array([shapely.Point(1, 2), None, shapely.box(0, 0, 2, 2)], dtype=object),
        "nums": np.arange(6, dtype=float).reshape(2, 3),
        2000.5: [np.inf, "s", None, (1, 2)],
        "one": shapely.LineString([(0, 0), (1, 1)]),
    }
    back = geocache.loads(geocache.dumps(value))
    assert back["frame"].crs == gdf.crs and back["frame"]["b"].tolist() == ["x", "y"]
    assert back["frame"].geometry.iloc[0].equals(gdf.geometry.iloc[0]) and back["frame"].geometry.iloc[1] is None
    assert back["geoms"][1] is None and back["geoms"][2].equals(value["geoms"][2])
    assert np.array_equal(back["nums"], value["nums"])
    assert back[2000.5] == [np.inf, "s", None, (1, 2)]
    assert back["one"].equals(value["one"])
    with pytest.raises(TypeError):
        geocache.dumps({"f": lambda: 1})  # only data goes in


def test_cached_territory_gives_the_same_numbers(cache, straight_world, caplog):
    first = _run(straight_world)
    entry = _entry(cache)
    assert entry.stat().st_mode & 0o077 == 0  # private to the user
    with caplog.at_level("INFO", logger="geo"):
        again = _run(straight_world)
    assert "using the cached territory" in caplog.text
    assert _bands(again) == _bands(first)


def test_a_planted_pickle_never_runs(cache, straight_world, tmp_path):
    first = _run(straight_world)
    entry = _entry(cache)
    marker = tmp_path / "pwned"
    # The old format's name and the new one: neither is unpickled.
    entry.write_bytes(pickle.dumps(_Payload(marker)))
    os.chmod(entry, 0o600)
    (cache / entry.name.replace(".geocache", ".pickle")).write_bytes(pickle.dumps(_Payload(marker)))
    again = _run(straight_world)
    assert not marker.exists()
    assert _bands(again) == _bands(first)
    assert geocache.loads(_entry(cache).read_bytes())  # rebuilt into an intact entry


def test_a_flipped_byte_is_detected_and_rebuilt(cache, straight_world, caplog):
    first = _run(straight_world)
    entry = _entry(cache)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0x01
    entry.write_bytes(bytes(data))
    with caplog.at_level("WARNING", logger="geo"):
        again = _run(straight_world)
    assert "checksum mismatch" in caplog.text
    assert _bands(again) == _bands(first)
    assert [z.wkb for z in again.zones.geometry] == [z.wkb for z in first.zones.geometry]


def test_entries_others_can_write_are_ignored(cache, straight_world, caplog):
    first = _run(straight_world)
    entry = _entry(cache)
    _poison(entry)  # an intact entry with poisoned content, writable by the group: never used
    os.chmod(entry, 0o664)
    with caplog.at_level("WARNING", logger="geo"):
        again = _run(straight_world)
    assert "writable by other users" in caplog.text
    assert _bands(again) == _bands(first)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_entries_of_another_user_are_ignored(cache, straight_world, caplog):
    first = _run(straight_world)
    entry = _entry(cache)
    _poison(entry)
    os.chown(entry, 65534, 65534)
    with caplog.at_level("WARNING", logger="geo"):
        again = _run(straight_world)
    assert "owned by another user" in caplog.text
    assert _bands(again) == _bands(first)


def test_a_directory_or_link_in_place_of_an_entry_is_a_rebuild(cache, straight_world, tmp_path):
    first = _run(straight_world)
    entry = _entry(cache)
    entry.unlink()
    entry.mkdir()
    assert _bands(_run(straight_world)) == _bands(first)  # no error: built again, not stored
    entry.rmdir()
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"x")
    entry.symlink_to(target)
    assert _bands(_run(straight_world)) == _bands(first)
    assert target.read_bytes() == b"x"


def test_leftover_temporaries_are_removed(cache, straight_world):
    cache.mkdir(parents=True)
    old = cache / ".territory.abc123.tmp"
    old.write_bytes(b"half an entry")
    past = time.time() - 3600
    os.utime(old, (past, past))
    fresh = cache / ".territory.def456.tmp"  # maybe a live run's: kept
    fresh.write_bytes(b"being written")
    _run(straight_world)
    assert not old.exists() and fresh.exists()


def test_cache_off(monkeypatch, cache, straight_world):
    monkeypatch.setenv("GEO_CACHE", "0")
    _run(straight_world)
    assert not cache.exists()
