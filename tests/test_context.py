"""Where and when: Mars time (against Mars24's published values) and each image's place and season."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marsviz.context import location, mars_time


@pytest.mark.parametrize("utc, ls, msd", [
    # Mars24 "Algorithm and Worked Examples" (NASA GISS), example A and example B (Spirit's landing day).
    ("2000-01-06T00:00:00Z", 277.18758, 44795.99976),
    ("2004-01-03T13:46:31Z", 327.32416, 46215.54859),
])
def test_solar_longitude_and_sol_date_match_mars24_worked_examples(utc, ls, msd):
    days = mars_time.days_since_j2000([utc])
    assert mars_time.solar_longitude(days)[0] == pytest.approx(ls, abs=2e-4)
    assert mars_time.mars_solar_date(days)[0] == pytest.approx(msd, abs=1e-4)


@pytest.mark.parametrize("utc, year", [
    # Piqueux et al. (2015): years begin at Ls 0; MY 24 began 1998-07-14, MY 36 2021-02-07, MY 38 2024-11-12.
    ("1998-07-13", 23), ("1998-07-15", 24), ("2000-01-06", 24), ("2021-02-06", 35), ("2021-02-08", 36),
    ("2024-11-11", 37), ("2024-11-13", 38), ("1955-04-12", 1),
])
def test_mars_year_changes_at_the_northern_spring_equinox(utc, year):
    assert mars_time.mars_year(mars_time.days_since_j2000([utc]))[0] == year


def test_times_survive_the_round_trip_through_days_and_unreadable_times_are_nan():
    times = ["1976-07-20T11:53:06Z", "2012-08-06T05:17:57Z", "2017-01-01T00:00:00Z", "not a time", None]
    days = mars_time.days_since_j2000(times)
    assert np.isnan(days[3:]).all()
    back = mars_time.utc_from_days(days)
    assert [t.isoformat() for t in back[:3]] == [pd.Timestamp(t).isoformat() for t in times[:3]]
    assert back[3:].isna().all()
    assert np.isnan(mars_time.solar_longitude(days[3:])).all() and np.isnan(mars_time.mars_year(days[3:])).all()


def test_seasons_are_opposite_in_the_two_hemispheres():
    ls = np.array([45.0, 135.0, 225.0, 315.0])
    assert mars_time.season(ls, np.full(4, 30.0)).tolist() == [
        "northern spring", "northern summer", "northern autumn", "northern winter"]
    assert mars_time.season(ls, np.full(4, -80.0)).tolist() == [
        "southern autumn", "southern winter", "southern spring", "southern summer"]
    assert mars_time.season([np.nan, 10.0], [10.0, np.nan]).tolist() == [None, None]


@pytest.mark.parametrize("code, latitude", [
    (0, 0.0), (900, -90.0), (1800, 0.0), (2700, 90.0), (1720, -8.0), (945, -85.5), (3599, 0.1),
])
def test_target_code_gives_the_latitude(code, latitude):
    assert location.latitude_of_target_code(code) == pytest.approx(latitude)


@pytest.mark.parametrize("code", [3600, 8999, 9000, 9101, 9303, 9999])
def test_codes_off_mars_give_no_latitude(code):
    assert location.latitude_of_target_code(code) is None
    assert location.place_of_product_id(f"ESP_012345_{code:04d}_RED") == (None, None)


def test_product_ids_are_found_inside_names_and_not_in_look_alikes():
    assert location.place_of_product_id("TRA_000823_1720_RED.JP2") == (-8.0, None)
    assert location.place_of_product_id("crop of PSP_002804_0930_RED-0018") == (-87.0, None)
    assert location.place_of_product_id("B01_010060_1847_XN_04N137W.IMG") == (4.0, 223.0)
    assert location.place_of_product_id("G01_018572_0917_XI_88S080E") == (-88.0, 80.0)
    for other in ["ZL0_0038_0670307360_057ECM", "XESP_012345_1720", "ESP_012345_17201", "IMG_123456_1720",
                  "0180MH0001490020102531E01_DRCL", ""]:
        assert location.place_of_product_id(other) == (None, None), other


def _rows(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_a_label_wins_over_a_product_id_and_a_product_id_over_a_rover_site():
    rows = _rows(name=["ESP_011283_0945_RED.LBL", "ESP_011283_0945_RED-0030.jpg", "curiosity.png", "globe.png"],
                 mission=["MRO", "MRO", "MSL Curiosity", "Viking Orbiter"],
                 latitude=[-84.9, np.nan, np.nan, np.nan], longitude=[12.5, np.nan, np.nan, np.nan])
    found = location.locate(rows)
    assert found["location_from"].tolist() == ["label", "product_id", "rover_site", ""]
    assert found["latitude"].tolist()[:3] == [-84.9, -85.5, -4.5895]
    assert np.isnan(found["latitude"][3])
    assert found["longitude"][0] == 12.5 and np.isnan(found["longitude"][1]) and found["longitude"][2] == 137.4417


def test_two_rovers_named_together_give_no_site():
    found = location.locate(_rows(name=["x.jpg"], mission=["MER (Spirit/Opportunity)"]))
    assert found["location_from"].tolist() == [""]


def test_time_comes_from_date_taken_except_where_that_is_a_release_date_then_from_the_sol():
    rows = _rows(name=["a", "b", "c", "d"], source=["pds-atlas", "nasa-images", "msl", "upload"],
                 mission=["MRO", "MSL Curiosity", "MSL Curiosity", ""],
                 date_taken=["2008-05-25T23:38:24Z", "2015-06-01", "", ""], sol=[None, 1000, 1000, None])
    found = location.locate(rows)
    assert found["time_from"].tolist() == ["date_taken", "sol", "sol", ""]
    assert found["observed_at"][0] == "2008-05-25T23:38:24Z"
    assert found["observed_at"][1] == found["observed_at"][2]
    assert found["observed_at"][3] == "" and np.isnan(found["solar_longitude"][3])
    assert found["mars_year"][1] == 32


def test_landing_sols_are_at_their_published_season():
    # Curiosity landed at Ls 150 (MY 31), Phoenix at Ls 77 (MY 29), Spirit at Ls 328 (MY 26): sol 0 or 1.
    rows = _rows(name=["c", "p", "s"], mission=["MSL", "Phoenix", "MER Spirit"], sol=[0, 0, 1])
    found = location.locate(rows)
    assert found["solar_longitude"].to_numpy() == pytest.approx([150.7, 76.9, 327.9], abs=0.6)
    assert found["mars_year"].tolist() == [31, 29, 26]


def test_missing_columns_count_as_empty():
    found = location.locate(pd.DataFrame({"name": ["PSP_002804_0930"]}))
    assert list(found.columns) == list(location.COLUMNS)
    assert found["location_from"][0] == "product_id" and found["time_from"][0] == ""


@pytest.mark.parametrize("product_id", [
    # Real Mars 2020 product ids (bundled samples): sol, then the spacecraft clock in seconds after
    # 2000-01-01 11:58:55.816 UTC, when the frame was taken.
    "ZL0_0038_0670307360_057ECM_N0031392ZCAM08007_1100LUJ",
    "NLF_0670_0726421423_362ECM_N0320604NCAM08111_01_095J01",
    "ZR0_0897_0746567741_568ECM_N0440820ZCAM08906_1100LMJ02",
])
def test_the_middle_of_a_sol_is_within_half_a_sol_of_a_frame_taken_on_it(product_id):
    sol, clock = int(product_id[4:8]), int(product_id[9:19])
    taken = pd.Timestamp("2000-01-01T11:58:55.816Z") + pd.Timedelta(seconds=clock)
    found = location.locate(_rows(name=[product_id], mission=["Mars 2020"], sol=[sol]))
    middle = pd.Timestamp(found["observed_at"][0])
    assert abs(middle - taken) < pd.Timedelta(hours=12.33)


# -- the catalog, the command line and the pages ---------------------------------------------------------------
def test_rank_json_says_where_and_when_with_where_each_came_from(tmp_path, sample_path):
    import json
    import shutil

    from tests.archive_files import pds3_detached, terrain
    from tests.test_cli import marsviz
    label, _ = pds3_detached(tmp_path / "in", terrain())  # centre 26.5 N 0.5 E, START_TIME 2009-01-05T12:04:56
    spider = "mro_hirise_spider_ESP_049509_1075_RED-0010.jpg"
    shutil.copy(sample_path(spider), tmp_path / "in" / spider)
    home = tmp_path / "home"
    assert marsviz(home, "add", tmp_path / "in").returncode == 0
    rows = {row["name"]: row for row in json.loads(marsviz(home, "rank", "--format", "json").stdout)}
    product, crop = rows[label.name], rows[spider]
    assert (product["latitude"], product["longitude"], product["location_from"]) == (26.5, 0.5, "label")
    assert product["observed_at"] == "2009-01-05T12:04:56Z" and product["mars_year"] == 29
    expected_ls = mars_time.solar_longitude(mars_time.days_since_j2000(["2009-01-05T12:04:56"]))[0]
    assert product["solar_longitude"] == pytest.approx(expected_ls, abs=1e-3)
    assert product["season"] == mars_time.season([expected_ls], [26.5])[0]
    assert (crop["latitude"], crop["longitude"], crop["location_from"]) == (-72.5, None, "product_id")
    assert [crop[k] for k in ("observed_at", "solar_longitude", "mars_year", "season")] == [None] * 4


def test_an_older_catalog_is_located_on_opening_and_a_label_place_is_kept(tmp_path, sample_path):
    import sqlite3

    from marsviz.catalog import CATALOG_FILE, Catalog
    from marsviz.pipeline import add_file
    from marsviz.provenance import Provenance
    from tests.archive_files import pds3_detached, terrain
    catalog = Catalog(tmp_path)
    label, _ = pds3_detached(tmp_path / "in", terrain())
    add_file(catalog, label, Provenance(source="file", name=label.name))
    crop = "mro_hirise_spider_ESP_049509_1075_RED-0010.jpg"
    add_file(catalog, sample_path(crop), Provenance(source="file", name=crop))
    located = catalog.frame().set_index("name")[["latitude", "longitude", "location_from", "solar_longitude"]]
    with sqlite3.connect(tmp_path / CATALOG_FILE) as conn:  # as a catalog made before places were stored
        conn.execute("UPDATE images SET location_from = '', solar_longitude = NULL, place_version = '', "
                     "latitude = CASE WHEN name = ? THEN NULL ELSE latitude END", (crop,))
    before = Catalog(tmp_path).frame().set_index("name")[located.columns]  # opening it locates every row again
    pd.testing.assert_frame_equal(before, located)
    with sqlite3.connect(tmp_path / CATALOG_FILE) as conn:  # a later version of the rules redoes places
        conn.execute("UPDATE images SET place_version = 'location=0', latitude = 1.0 WHERE name = ?",
                     (crop,))  # found by other rules, not a label's
    pd.testing.assert_frame_equal(Catalog(tmp_path).frame().set_index("name")[located.columns], located)


def test_the_viewer_says_where_and_when_and_the_ranking_filters_by_season(small_catalog_home):
    from marsviz.catalog import Catalog
    from tests.test_app import run_app
    frame = Catalog().frame()
    curiosity = frame[frame["name"] == "msl_mr_0838MR0036830020500779I01_DRCL.jpg"].iloc[0]
    app = run_app("app_pages/ranking.py", image=str(curiosity["id"]))
    assert not app.exception
    where = [c.value.replace("\\", "") for c in app.caption if c.value.startswith("Where and when")]
    assert where == [f"Where and when: 4.59°S, 137.44°E (Curiosity, Gale crater: its landing site) · "
                     f"Ls {curiosity['solar_longitude']:.1f}°, {curiosity['season']}, Mars year "
                     f"{curiosity['mars_year']} ({curiosity['observed_at'][:10]}, the middle of sol 838)"]
    app.multiselect(key="ranking_season").set_value([curiosity["season"]]).run()
    assert not app.exception
    shown = set(app.dataframe[0].value["name"])
    assert curiosity["name"] in shown
    assert shown == set(frame.loc[frame["season"] == curiosity["season"], "name"])
    assert app.query_params["season"] == curiosity["season"]  # the link says what is shown


def test_renaming_a_file_changes_no_appearance_score_only_its_context(tmp_path, sample_path):
    from marsviz.catalog import Catalog
    from marsviz.pipeline import add_file
    from marsviz.provenance import Provenance
    from marsviz.registry import appearance_names, context_names
    from marsviz.scoring import ranked, weights_of_preset
    spider = sample_path("mro_hirise_spider_ESP_049509_1075_RED-0010.jpg")
    named, anonymous = Catalog(tmp_path / "named"), Catalog(tmp_path / "anonymous")
    add_file(named, spider, Provenance(source="file", name=spider.name))
    add_file(anonymous, spider, Provenance(source="file", name="crop.jpg"))
    a, b = named.frame().iloc[0], anonymous.frame().iloc[0]
    assert a[appearance_names()].to_dict() == b[appearance_names()].to_dict()
    assert a[context_names()].tolist() == [0.75, 1.0] and b[context_names()].isna().all()  # at 72.5°S
    appearance = weights_of_preset("appearance_only")
    assert ranked(named.frame(), appearance)["score"][0] == ranked(anonymous.frame(), appearance)["score"][0]
    place = weights_of_preset("water_and_ice")
    assert ranked(named.frame(), place)["score"][0] > ranked(anonymous.frame(), place)["score"][0]


def test_an_image_of_unknown_place_gets_no_context_term_and_the_viewer_says_so():
    import pandas as pd

    from marsviz.report import feature_lines, left_out_notes
    from marsviz.scoring import app_composite, weights_of_preset
    row = {"id": 1, "is_color": False, "view": "orbital", "ice_terrain_score": 0.2, "water_ice_ratio": 0.0,
           "terrain_view_score": 0.99, "dark_spot_ratio": 0.1, "edge_ratio": 0.1, "colour_variation": 0.0,
           "landmark_score": 0.3, "south_polar_ice_region": np.nan, "ground_ice_band": np.nan}
    weights = weights_of_preset("water_and_ice")
    at_equator = {**row, "south_polar_ice_region": 0.0, "ground_ice_band": 0.0}
    frame = pd.DataFrame([row, at_equator])
    unknown, equator = app_composite(frame, weights)
    assert unknown == equator  # not lifted above located images by a shorter mean
    lines = {line.name: line for line in feature_lines(row, weights)}
    assert lines["south_polar_ice_region"].not_applied == "place not known"
    assert lines["south_polar_ice_region"].adds == 0.0
    assert any("place is not known" in note for note in left_out_notes(row, weights))
    assert not any("place is not known" in note for note in left_out_notes(at_equator, weights))


def test_the_viewer_says_how_much_of_the_score_the_place_gives(small_catalog_home):
    import re

    from marsviz.catalog import Catalog
    from marsviz.scoring import default_weights, ranked
    from tests.test_app import run_app
    table = ranked(Catalog().frame(), default_weights())
    spider = table[table["name"] == "mro_hirise_spider_ESP_049509_1075_RED-0010.jpg"].iloc[0]
    app = run_app("app_pages/ranking.py", image=str(spider["id"]))
    assert not app.exception
    line, = [c.value for c in app.caption if c.value.startswith("Of its score")]
    total, appearance, place = map(float, re.match(r"Of its score ([\d.]+): appearance ([\d.]+), place ([\d.]+)",
                                                   line).groups())
    assert total == pytest.approx(spider["score"], abs=1e-3)
    assert total == pytest.approx(appearance + place, abs=2e-3) and place > 0.1
    assert "South polar CO2-ice region +" in line
