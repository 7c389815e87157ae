"""Land release, access rules and completion scenarios: tables reproduced, hand-checked years, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo.io.data import DEMO_RELEASE, REFERENCE_DIR
from geo.names import province_code
from geo.planning.release import BY_BAND_COLUMNS, read_release, release_by_band
from geo.planning.rules import access_table, load_capacity, load_rules
from geo.planning.scenario import project, scenario
from tests.conftest import hazards_tm

GEO = [sys.executable, "-m", "geo.cli"]

SIMPLE_RULES = """
name = "one operator"
[classes]
ops = ["OP"]
[access]
"0-2 km" = ["ops"]
"2-5 km" = ["ops"]
"5-7 km" = ["ops"]
"beyond 7 km" = ["ops"]
"""


def run(*args, cwd=None):
    return subprocess.run([*GEO, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def demo_release(boundaries):
    return release_by_band(read_release(DEMO_RELEASE), boundaries)


def test_demo_release_reproduces_tables_5_to_8_to_the_square_metre(demo_release):
    t = demo_release.by_band
    assert list(t.columns) == BY_BAND_COLUMNS
    for file, column, method in (
        ("table5_nts_cancelled_2023.csv", "area_cancelled_m2", "cancelled"),
        ("table6_ts_reduced_2023.csv", "area_reduced_m2", "reduced"),
        ("table7_clearance_2023.csv", "area_cleared_m2", "cleared"),
    ):
        ref = pd.read_csv(REFERENCE_DIR / file)
        got = t[t["method"] == method].groupby("code")["area_m2"].sum()
        for name, m2 in zip(ref["province"], ref[column]):
            assert got[province_code(name)] == pytest.approx(m2, abs=0.5), (method, name)
        assert set(got.index) == {province_code(n) for n in ref["province"]}
    t8 = pd.read_csv(REFERENCE_DIR / "table8_clearance_by_operator_2023.csv")
    by_op = t[t["method"] == "cleared"].groupby("operator")["area_m2"].sum()
    for op, m2 in zip(t8["operator"], t8["area_cleared_m2"]):
        assert by_op[op] == pytest.approx(m2, abs=0.5), op


def test_released_area_by_band_adds_up_to_the_table_4_method_totals(demo_release):
    t4 = pd.read_csv(REFERENCE_DIR / "table4_release_by_method.csv").set_index("year").loc[2023]
    by_method = demo_release.by_band.groupby("method")["area_m2"].sum()
    for method in ("cancelled", "reduced", "cleared"):
        assert by_method[method] == pytest.approx(t4[f"{method}_m2"], abs=0.5)
    # Cross-check with an independent measure: geodesic areas of the polygons as read.
    rel = read_release(DEMO_RELEASE)
    geod = rel.crs.get_geod()
    geodesic = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in rel.geometry)
    assert demo_release.by_band["area_m2"].sum() == pytest.approx(geodesic, rel=1e-6)
    assert demo_release.summary["synthetic"] and "SYNTHETIC" in demo_release.summary["notice"]


def _ten_km2_case(straight_world, tmp_path):
    """10 km2 (2 km x 5 km) wholly in the 2-5 km band of province A, simple rules, one operator
    clearing 3 km2 a year: the analysis, the rules file and the capacity table."""
    provinces, frontier = straight_world
    res = geo.analyze(
        hazards_tm([(2.5, 0, 4.5, 5)]), geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=0
    )
    rules = tmp_path / "rules.toml"
    rules.write_text(SIMPLE_RULES, encoding="utf-8")
    cap = pd.DataFrame({"operator": ["OP"], "cleared_m2_per_year": [3_000_000], "provinces": ["all"]})
    return res, rules, cap


def test_a_hand_checkable_scenario_gives_the_exact_completion_year(straight_world, tmp_path):
    res, rules, cap = _ten_km2_case(straight_world, tmp_path)
    sc = scenario(res, rules, cap, start_year=2024, shares_year=None, capacity_range=0.25)
    row = sc.completion[(sc.completion["code"] == "A") & (sc.completion["band"] == "2-5 km")].iloc[0]
    # 10 / 3 a year: 7, 4, 1, 0 left at the end of 2024 .. 2027.
    assert row["completion_year"] == 2027
    assert row["remaining_km2"] == pytest.approx(10.0, rel=1e-6)
    # +25 %: 3.75 a year -> 3 years; -25 %: 2.25 a year -> 5 years.
    assert (row["completion_year_low"], row["completion_year_high"]) == (2026, 2028)
    left = sc.burndown[(sc.burndown["code"] == "A") & (sc.burndown["band"] == "2-5 km")]
    assert left["remaining_km2"].tolist() == pytest.approx([10.0, 7.0, 4.0, 1.0, 0.0], abs=1e-4)
    assert sc.summary["scenarios"][0]["all_land"]["year"] == 2027


def test_land_no_operator_may_clear_is_never_finished(straight_world, tmp_path):
    provinces, frontier = straight_world
    res = geo.analyze(
        hazards_tm([(0.5, 0, 1.5, 2)]), geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=0
    )
    rules = tmp_path / "rules.toml"
    rules.write_text(SIMPLE_RULES.replace('"0-2 km" = ["ops"]', '"0-2 km" = []'), encoding="utf-8")
    cap = pd.DataFrame({"operator": ["OP"], "cleared_m2_per_year": [1e6], "provinces": ["all"]})
    sc = scenario(res, rules, cap, shares_year=None)
    row = sc.completion[sc.completion["band"] == "0-2 km"].iloc[0]
    assert pd.isna(row["completion_year"]) and row["status"] == "no operator may clear it"
    assert sc.summary["scenarios"][0]["all_land"]["year"] is None


def test_project_works_scarce_land_first_and_moves_what_a_cell_does_not_need():
    # Operator A (6 a year) may work both cells, B (0.5 a year) only the first: A starts on the
    # land only it can clear; in year 2 the second cell needs 4, and A's other 2 go to the first.
    allowed = np.array([[True, True], [True, False]])
    left, done = project(np.array([2.0, 10.0]), allowed, np.array([6.0, 0.5]))
    assert left[1].tolist() == pytest.approx([1.5, 4.0])
    assert left[2].tolist() == pytest.approx([0.0, 0.0])
    assert done.tolist() == [2, 2]
    # Shared in proportion to the land left: 2 and 10 units, 6 a year -> 1 and 5.
    left, done = project(np.array([2.0, 10.0]), np.array([[True, True]]), np.array([6.0]))
    assert left[1].tolist() == pytest.approx([1.0, 5.0]) and done.tolist() == [2, 2]


def test_the_2024_rules_keep_the_2km_strip_for_the_military(demo_result):
    table = access_table(demo_result)
    strip = table[table["band"] == "0-2 km"]
    assert (strip["may_clear"] == "military").all()
    assert not strip["operators"].str.contains("HALO|MAG|CMAC").any()
    beyond = table[table["band"] == "beyond 7 km"]
    assert beyond["operators"].str.contains("CMAC").any()


def test_opening_2_7km_finishes_no_later_than_the_2024_rules(demo_result):
    sc = scenario(demo_result, ["access_2024", "open_2_7km"], "2023")  # with the military of 2023
    today, opened = sc.summary["scenarios"]
    assert today["rules"] == "2024 rules" and opened["rules"] == "2-7 km open"
    assert opened["all_land"]["year"] <= today["all_land"]["year"]
    assert opened["difference_years_vs_first"]["all_land"] == opened["all_land"]["year"] - today["all_land"]["year"]
    assert today["all_land"]["low"] <= today["all_land"]["year"] <= today["all_land"]["high"]


def test_geo_release_and_scenario_without_arguments_share_the_default_directory(tmp_path):
    r = run("analyze", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run("release", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "SYNTHETIC" in r.stdout
    out = tmp_path / "geo-output"
    table = pd.read_csv(out / "release_by_band.csv")
    assert list(table.columns) == ["year", "method", "operator", "province", "code", "band", "area_m2", "area_km2"]
    assert set(table["method"]) == {"cancelled", "reduced", "cleared"}
    assert np.allclose(table["area_km2"], table["area_m2"] / 1e6)
    summary = json.loads((out / "release_summary.json").read_text())
    assert summary["synthetic"] and max(v["largest_difference_m2"] for v in summary["reference_tables"].values()) < 0.5
    r = run("scenario", "-q", "--capacity", "2023", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("scenario_completion.csv", "scenario_burndown.csv", "scenario_summary.json", "burndown.png"):
        assert (out / name).is_file(), name
    # Each verb replaces its own files and keeps the others'.
    assert (out / "by_province.csv").is_file() and (out / "release_by_band.csv").is_file()
    done = pd.read_csv(out / "scenario_completion.csv")
    assert done["completion_year"].notna().all()  # with 2023's military, every cell is cleared in time
    assert json.loads((out / "scenario_summary.json").read_text())["capacity_set"] == "2023"


def _release_layer(path, rows):
    gdf = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs="EPSG:4326",
    )
    gdf.to_file(path, engine="pyogrio")
    return path


def _box(lon, lat, d=0.01):
    return shapely.box(lon, lat, lon + d, lat + d)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"method": "swept"}, "row 2: method 'swept'"),
        ({"date": "someday"}, "row 2: release date 'someday'"),
        ({"geometry": _box(103.005, 13.005)}, "rows 1 and 2"),
    ],
)
def test_bad_release_layers_name_the_file_and_row(tmp_path, change, expected):
    base = {"release_id": "R1", "date": "2023-05-01", "method": "cleared", "operator": "HALO"}
    second = {**base, "release_id": "R2", "geometry": _box(103.2, 13.2), **change}
    path = _release_layer(tmp_path / "rel.gpkg", [{**base, "geometry": _box(103.0, 13.0)}, second])
    r = run("release", str(path), "--out", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    assert expected in r.stderr and "rel.gpkg" in r.stderr
    assert not (tmp_path / "out").exists()


def test_release_columns_are_found_by_common_names_and_methods_by_their_abbreviations(tmp_path):
    rows = [
        {
            "TaskID": "T1",
            "DateEnd": "2022-11-30",
            "LR_Method": "NTS",
            "Organisation": "MAG",
            "geometry": _box(103.0, 13.0),
        },
        {
            "TaskID": "T2",
            "DateEnd": "2023",
            "LR_Method": "Clearance",
            "Organisation": "MAG",
            "geometry": _box(103.2, 13.2),
        },
    ]
    path = _release_layer(tmp_path / "mine.gpkg", rows)
    rel = read_release(path, date_field="DateEnd", method_field="LR_Method")
    assert rel["release_method"].tolist() == ["cancelled", "cleared"]
    assert rel["release_year"].tolist() == [2022, 2023]
    assert rel["release_operator"].tolist() == ["MAG", "MAG"]
    assert rel["hazard_id"].tolist() == ["T1", "T2"]


def test_bad_rules_and_capacities_are_errors_naming_the_file_and_row(tmp_path):
    bad_class = tmp_path / "bad_class.toml"
    bad_class.write_text(SIMPLE_RULES.replace('"5-7 km" = ["ops"]', '"5-7 km" = ["opz"]'), encoding="utf-8")
    r = run("scenario", "--rules", str(bad_class), "--out", str(tmp_path / "o1"))
    assert r.returncode == 2 and "bad_class.toml" in r.stderr and "unknown operator class 'opz'" in r.stderr
    bad_band = tmp_path / "bad_band.toml"
    bad_band.write_text(SIMPLE_RULES + '"7-10 km" = ["ops"]\n', encoding="utf-8")
    r = run("access", "--rules", str(bad_band))
    assert r.returncode == 2 and "'7-10 km' is not a band of the analysis" in r.stderr
    cap = tmp_path / "cap.csv"
    cap.write_text("operator,cleared_m2_per_year,provinces\nHALO,1000,all\nMAG,-5,Battambang\n", encoding="utf-8")
    r = run("scenario", "--capacity", str(cap), "--out", str(tmp_path / "o2"))
    assert r.returncode == 2 and "cap.csv" in r.stderr and "row 3: capacity of MAG is -5" in r.stderr
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_bundled_rules_and_capacity_load_and_match_the_review():
    rules = load_rules()
    assert rules.access["0-2 km"] == ["military"] and set(rules.classes["military"]) == {"RCA", "NPMEC"}
    cap = load_capacity("2023").set_index("operator")
    # The review's estimate for the military in 2023: 1,450 deminers x 300 days x 30 m2.
    assert cap.loc[["RCA", "NPMEC"], "cleared_m2_per_year"].sum() == 1450 * 300 * 30
    # 2024, the default: no RCA deminers and 25 NPMEC deminers operational, at the same rate.
    latest = load_capacity().set_index("operator")
    assert latest.loc["RCA", "cleared_m2_per_year"] == 0 and latest.loc["NPMEC", "cleared_m2_per_year"] == 25 * 300 * 30
    assert all(latest["source"].str.len() > 40)  # every row cites its sentence of the report
    t8 = pd.read_csv(REFERENCE_DIR / "table8_clearance_by_operator_2023.csv").set_index("operator")
    for op in ("CMAC", "HALO", "MAG", "CSHD"):
        assert cap.loc[op, "cleared_m2_per_year"] == t8.loc[op, "area_cleared_m2"]


def test_the_default_scenario_is_on_the_capacity_reported_for_2024(demo_result):
    """With no RCA and 25 NPMEC deminers, the military-only strip is not cleared within the horizon,
    and the summary names the set; the 2023 set gives the earlier years."""
    latest = scenario(demo_result)
    assert latest.summary["capacity_set"] == "2024"
    strip = latest.summary["scenarios"][0]["by_band"]["0-2 km"]
    assert strip["year"] is None and len(strip["not_done"]) >= 5
    old = scenario(demo_result, capacity="2023")
    assert old.summary["capacity_set"] == "2023"
    assert old.summary["scenarios"][0]["by_band"]["0-2 km"]["year"] > 2024


def test_the_printed_scenario_shows_both_capacity_sets(tmp_path, capsys):
    from geo.cli import main

    assert main(["scenario", "--out", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "on the 2024 capacities" in out and "On the 2023 capacities instead (--capacity 2023):" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("2024 rules: all land") and "against" in x)
    assert line.split("all land ")[1].startswith("20") and "against never" in line


def test_survey_additions_and_percentiles_on_a_hand_checkable_case(straight_world, tmp_path):
    res, rules, cap = _ten_km2_case(straight_world, tmp_path)
    # 10 km2 known + 5 km2 from survey, all in A's 2-5 km cell (the only land near the frontier):
    # 15 km2 at 3 a year -> 5 years, 2024..2028. Only the additions are drawn (+-50 %: 12.5-17.5 km2,
    # 5 or 6 years).
    sc = scenario(
        res, rules, cap, shares_year=None, capacity_range=0.0, additional_km2=5, release_ratio=(1.0, 1.0), draws=20
    )
    row = sc.completion[(sc.completion["code"] == "A") & (sc.completion["band"] == "2-5 km")].iloc[0]
    assert row["remaining_km2"] == pytest.approx(15.0, rel=1e-6)
    assert row["completion_year"] == 2028
    assert row["p05"] == 2028 and row["p95"] in (2028, 2029) and row["never_share"] == 0.0
    # With 10 km2 more drawn within +-50 % (5-15 km2 -> 15-25 km2 in all): 5 to 9 years, 2028-2032.
    spread = scenario(res, rules, cap, shares_year=None, capacity_range=0.0, additional_km2=10, release_ratio=(1, 1))
    al = spread.summary["scenarios"][0]["all_land"]
    assert 2028 <= al["p05"] < al["p95"] <= 2032 and al["p05"] <= al["p50"] <= al["p95"]


def test_release_ratios_come_from_table4_and_the_reviews_clearance_estimate():
    from geo.planning.scenario import release_ratios

    r = release_ratios(2023)
    assert r["low"] == pytest.approx(361_935_450 / 193_364_275)  # 1.87
    assert r["high"] == pytest.approx(361_935_450 / 129.7e6)  # 2.79
    assert "129.7" in r["sources"]["high"]


def test_the_2024_scenario_names_the_military_strip_as_the_bottleneck_and_prices_the_task(demo_result):
    sc = scenario(demo_result, additional_km2="survey", budget_usd=20e6, draws=50)
    s = sc.summary["scenarios"][0]
    b = s["bottleneck"]
    assert b["never"] and b["band"] == "0-2 km"
    assert {o["operator"] for o in b["operators"]} == {"RCA", "NPMEC"}
    assert "not cleared within 100 years" in b["text"]
    assert s["by_band"]["0-2 km"]["never_share"] == 1.0 and s["by_band"]["0-2 km"]["p50"] is None
    c = sc.summary["cost"]
    land = demo_result.summary["inside_cambodia_km2"] + 179.0
    assert c["land_km2"] == pytest.approx(land)
    assert c["cost_usd"] == pytest.approx(land * 132e6 / 515.0)
    assert c["years_at_budget"] == pytest.approx(c["cost_usd"] / 20e6)
    assert sc.summary["additional_km2"] == 179.0 and "179km2" in sc.summary["additional_source"]


def test_on_the_2023_capacities_the_median_year_is_todays_year(demo_result):
    today = scenario(demo_result, capacity="2023", draws=100)  # the defaults: the CMAA's ratio in every run
    s = today.summary
    al = s["scenarios"][0]["all_land"]
    assert s["release_ratio"]["drawn"] == [s["release_ratio"]["low"]] * 2
    assert al["never_share"] == 0.0
    assert abs(al["p50"] - al["year"]) <= 1
    assert al["p05"] <= al["p50"] <= al["p95"]
    # The Review's higher release per m2 cleared can only bring the years forward: beside, and when drawn.
    assert s["scenarios"][0]["at_high_ratio"]["all_land_year"] < al["year"]
    ranged = scenario(demo_result, capacity="2023", release_ratio=(1.87, 2.79), draws=100)
    assert ranged.summary["release_ratio"]["drawn"] == [1.87, 2.79]
    assert ranged.summary["scenarios"][0]["all_land"]["p50"] <= al["p50"]
