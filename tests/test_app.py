"""Every page through streamlit.testing.v1.AppTest: no exception, and the widgets do what they say."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from marsviz.registry import REGISTRY
from ui.viewer import NO_VALUE

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["app_pages/ranking.py", "app_pages/explore.py", "app_pages/map.py", "app_pages/upload.py",
         "app_pages/method.py"]


def run_app(page=None, user=None, secrets=None, **query):
    """Run app.py under AppTest, as `user` (``st.user``) with `secrets`, then switch to `page`."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if user is not None:
        app.user = user
    for key, value in (secrets or {}).items():
        app.secrets[key] = value
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    return app


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(small_catalog_home, page):
    app = run_app(page)
    assert not app.exception
    assert app.title[0].value == Path(page).stem.capitalize()


def test_first_start_loads_the_bundled_samples(home):
    app = run_app()
    assert not app.exception
    from marsviz.catalog import Catalog

    assert Catalog().count() == 71


def test_deep_link_opens_the_viewer_with_that_image(small_catalog_home):
    from marsviz.catalog import Catalog

    frame = Catalog().frame()
    row = frame[frame["view"] == "orbital"].iloc[0]
    app = run_app("app_pages/explore.py", image=str(row["id"]))
    assert not app.exception
    headings = [m.value for m in app.markdown if m.value.startswith("####")]
    assert headings and row["name"].split(".")[0].split("_")[0] in headings[0]
    explanations = [e for e in app.expander if e.label.startswith("Why this")]
    assert len(explanations) == 2  # one per trained terrain score (on an orbital view), each with its table
    assert all(len(e.table) == 1 and len(e.table[0].value) > 0 for e in explanations)


def test_unknown_image_id_is_a_clear_message(small_catalog_home):
    app = run_app("app_pages/explore.py", image="999999")
    assert not app.exception
    assert any("no image with id 999999" in w.value for w in app.warning)


def test_weights_change_the_ranking(small_catalog_home):
    from marsviz.catalog import Catalog
    from marsviz.scoring import ranked

    frame = Catalog().frame()
    app = run_app("app_pages/ranking.py")
    for slider in app.sidebar.slider:
        slider.set_value(0.0)
    app.slider(key="weight_edge_ratio").set_value(1.0).run()
    assert not app.exception
    shown = app.dataframe[0].value
    expected = frame.sort_values(["edge_ratio", "id"], ascending=[False, True])["name"].head(len(shown)).tolist()
    assert shown["name"].tolist() == expected
    assert ranked(frame, {"edge_ratio": 1.0}).iloc[0]["name"] == shown["name"].iloc[0]


def test_a_preset_sets_the_sliders_and_orders_the_ranking_by_its_weights(small_catalog_home):
    from marsviz.catalog import Catalog
    from marsviz.scoring import ranked, weights_of_preset

    frame = Catalog().frame()
    app = run_app("app_pages/ranking.py")
    assert app.selectbox(key="preset").value == "water_and_ice"
    app.selectbox(key="preset").select("seed").run()
    assert not app.exception
    seed = weights_of_preset("seed")
    assert {name: app.slider(key=f"weight_{name}").value for name in seed} == seed
    expected = ranked(frame, seed)["name"].head(len(app.dataframe[0].value)).tolist()
    assert app.dataframe[0].value["name"].tolist() == expected

    app.slider(key="weight_edge_ratio").set_value(2.5).run()
    assert any("changed from the Seed method preset" in c.value for c in app.sidebar.caption)
    app.button(key="reset_weights").click().run()
    assert app.slider(key="weight_edge_ratio").value == seed["edge_ratio"]
    assert not any("changed from" in c.value for c in app.sidebar.caption)


def test_the_viewers_score_points_add_up_to_the_images_score(small_catalog_home):
    from marsviz.catalog import Catalog
    from marsviz.scoring import ranked

    table = ranked(Catalog().frame())
    for row in (table.iloc[0], table.iloc[-1]):
        app = run_app("app_pages/explore.py", image=str(int(row["id"])))
        assert not app.exception
        points = app.table[0].value["adds to score"]
        numbers = [float(p) for p in points if p.replace(".", "", 1).isdigit()]
        assert sum(numbers) == pytest.approx(row["score"], abs=0.003 * len(numbers))


def test_the_viewer_says_when_the_trained_score_counts_instead_of_the_seed_measurement(small_catalog_home):
    from marsviz.catalog import Catalog

    frame = Catalog().frame()
    orbital = frame[frame["view"] == "orbital"].iloc[0]
    app = run_app("app_pages/explore.py", image=str(int(orbital["id"])))
    features = app.table[0].value.set_index("feature")
    assert features.loc["Potential water/ice", "adds to score"] == "replaced"
    assert any(c.value.startswith("Potential water/ice is replaced here") for c in app.caption)
    assert features.loc["Ice terrain (trained)", "adds to score"] != NO_VALUE


def test_ranking_filters(small_catalog_home):
    app = run_app("app_pages/ranking.py")
    app.multiselect(key="ranking_mission").select("Mars Reconnaissance Orbiter").run()
    app.multiselect(key="ranking_columns").select("mission").run()
    assert not app.exception
    shown = app.dataframe[0].value
    assert len(shown) == 2 and set(shown["mission"]) == {"Mars Reconnaissance Orbiter"}
    assert app.query_params["mission"] == "Mars Reconnaissance Orbiter"  # the link says what is shown


def test_ranking_filters_by_sol(small_catalog_home):
    from marsviz.catalog import Catalog

    sols = Catalog().frame()["sol"].dropna()
    assert sols.nunique() >= 2
    app = run_app("app_pages/ranking.py")
    app.slider(key="ranking_sols").set_range(int(sols.min()), int(sols.min())).run()
    assert not app.exception
    shown = app.dataframe[0].value
    assert len(shown) == (sols == sols.min()).sum()


def test_images_analysed_by_an_older_feature_version_are_updated_on_start(small_catalog_home):
    import sqlite3

    from marsviz.catalog import Catalog
    from marsviz.registry import feature_set_version

    with sqlite3.connect(small_catalog_home / "catalog.sqlite") as conn:
        conn.execute("UPDATE images SET feature_version = 'old', edge_ratio = NULL WHERE id <= 3")
    app = run_app()
    assert not app.exception
    frame = Catalog().frame()
    assert (frame["feature_version"] == feature_set_version()).all() and frame["edge_ratio"].notna().all()


def test_a_large_stale_catalog_is_not_reanalysed_inside_the_page(small_catalog_home, monkeypatch):
    import sqlite3

    from marsviz.catalog import Catalog

    monkeypatch.setattr("ui.data.REFRESH_IN_APP_MAX", 2)
    with sqlite3.connect(small_catalog_home / "catalog.sqlite") as conn:
        conn.execute("UPDATE images SET feature_version = 'old' WHERE id <= 3")
    app = run_app()
    assert not app.exception
    assert any("python -m marsviz analyze" in w.value for w in app.warning)
    assert (Catalog().frame()["feature_version"] == "old").sum() == 3


def test_ranking_filters_by_view_and_the_viewer_says_why_a_trained_score_is_left_out(small_catalog_home):
    from marsviz.catalog import Catalog

    frame = Catalog().frame()
    surface = frame[frame["view"] == "surface"]
    assert len(surface) and len(surface) < len(frame)
    app = run_app("app_pages/ranking.py")
    app.multiselect(key="ranking_view").select("surface").run()
    assert not app.exception
    assert set(app.dataframe[0].value["view"]) == {"surface"} and len(app.dataframe[0].value) == len(surface)

    app = run_app("app_pages/explore.py", image=str(int(surface.iloc[0]["id"])))
    assert not app.exception
    assert any(m.value.startswith("**Shows:** surface") for m in app.markdown)
    assert any("validated only on orbital images" in c.value and "surface view" in c.value for c in app.caption)
    features = app.table[0].value.set_index("feature")
    assert features.loc["Ice terrain (trained)", "value"] == "n/a (surface view)"
    assert features.loc["Ice terrain (trained)", "adds to score"] == NO_VALUE
    # No explanation of a score that does not apply here, and no overlay for a whole-frame probability.
    assert not [e for e in app.expander if e.label.startswith("Why this")]
    overlays = next(g for g in app.get("button_group") if g.proto.label == "Overlays").proto.options
    assert len(overlays) == len([f for f in REGISTRY.values() if f.has_overlay]) < len(REGISTRY)


def scatter_traces(app) -> dict[str, dict]:
    """The Explore scatter's traces by name, as the browser receives them."""
    import json

    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    return {trace["name"]: trace for trace in figure["data"]}


@pytest.mark.parametrize("colour", ["view", "mission"])
def test_explore_colours_points_by_a_category_with_one_legend_entry_each(small_catalog_home, colour):
    from marsviz.catalog import Catalog

    counts = Catalog().frame()[colour].value_counts()
    app = run_app("app_pages/explore.py")
    app.selectbox(key="explore_colour").select(colour).run()
    assert not app.exception
    traces = scatter_traces(app)
    assert set(traces) == {f"{name} ({count})" for name, count in counts.items()}
    assert len({trace["marker"]["color"] for trace in traces.values()}) == len(counts)


def test_explore_colour_scale_sits_under_the_plot(small_catalog_home):
    app = run_app("app_pages/explore.py")
    bars = [t["marker"]["colorbar"] for t in scatter_traces(app).values() if t["marker"].get("showscale")]
    assert len(bars) == 1 and bars[0]["orientation"] == "h" and bars[0]["y"] < 0


def test_a_link_sets_the_preset_and_weights_and_the_url_follows_the_sliders(small_catalog_home):
    app = run_app("app_pages/ranking.py", preset="seed", weights="edge_ratio:2.5,no_such_feature:1")
    assert not app.exception
    assert app.selectbox(key="preset").value == "seed" and app.slider(key="weight_edge_ratio").value == 2.5
    assert any("changed from the Seed method preset" in c.value for c in app.sidebar.caption)
    app.slider(key="weight_dark_spot_ratio").set_value(0.0).run()
    assert app.query_params["preset"] == "seed"
    assert set(app.query_params["weights"].split(",")) == {"edge_ratio:2.5", "dark_spot_ratio:0"}
    app.button(key="reset_weights").click().run()
    assert "weights" not in app.query_params  # the preset's own weights need no parameter


def test_resetting_the_weights_logs_no_session_state_warning(small_catalog_home, monkeypatch):
    from streamlit.elements.lib import policies

    logged = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda message, *args, **kwargs: logged.append(message % args))
    app = run_app("app_pages/ranking.py")
    app.slider(key="weight_edge_ratio").set_value(2.5).run()
    app.button(key="reset_weights").click().run()
    app.selectbox(key="preset").select("seed").run()
    assert not app.exception and app.slider(key="weight_edge_ratio").value == 1.0
    assert not [m for m in logged if "Session State API" in m]


def test_ranking_search_and_sort_cover_the_whole_catalog(small_catalog_home):
    from marsviz.catalog import Catalog
    from marsviz.scoring import ranked

    table = ranked(Catalog().frame())
    last = table.iloc[-1]  # the lowest-ranked image: only a whole-catalog search or sort brings it up
    app = run_app("app_pages/ranking.py")
    app.text_input(key="ranking_search").input(last["name"][:-4].upper()).run()
    assert not app.exception
    assert app.dataframe[0].value["name"].tolist() == [last["name"]]
    assert app.query_params["q"] == last["name"][:-4].upper()
    app.text_input(key="ranking_search").input("").run()
    app.selectbox(key="ranking_sort").select("rank").run()
    app.toggle(key="ranking_descending").set_value(True).run()
    assert app.dataframe[0].value["name"].iloc[0] == last["name"]
    assert app.query_params["order"] == "desc"


def test_ranking_says_what_in_a_link_it_did_not_understand(small_catalog_home):
    app = run_app(sort="nonsense", score="0.4-0.2")  # Ranking is the default page
    assert not app.exception
    notes = [c.value for c in app.caption if "not understood" in c.value]
    assert len(notes) == 2 and "score=0.4-0.2" in notes[0] and "sort=nonsense" in notes[1]
    assert len(app.dataframe[0].value) > 0  # the rest of the page is the plain ranking


def test_ranking_outliers_only_and_the_score_range(small_catalog_home):
    import sqlite3

    from marsviz.catalog import Catalog
    from marsviz.scoring import ranked

    with sqlite3.connect(small_catalog_home / "catalog.sqlite") as conn:  # one image unlike every other
        conn.execute("UPDATE images SET edge_ratio = 0.99, dark_spot_ratio = 0.99, colour_variation = 0.99 "
                     "WHERE id = 3")
    table = ranked(Catalog().frame())
    app = run_app("app_pages/ranking.py")
    app.toggle(key="ranking_outliers_only").set_value(True).run()
    assert not app.exception
    outliers = table[table["outlier"]]
    assert 0 < len(outliers) and app.dataframe[0].value["name"].tolist() == outliers["name"].tolist()
    app.toggle(key="ranking_outliers_only").set_value(False).run()
    app.slider(key="ranking_score").set_range(0.5, 1.0).run()
    assert app.dataframe[0].value["name"].tolist() == table[table["score"] >= 0.5]["name"].tolist()
    assert app.query_params["score"] == "0.5-1"


def test_ranking_offers_the_filtered_rows_as_csv_and_parquet(small_catalog_home):
    app = run_app("app_pages/ranking.py")
    app.multiselect(key="ranking_mission").select("Mars Reconnaissance Orbiter").run()
    assert not app.exception
    assert any(p.proto.popover.label == "Export 2 rows" for p in app.get("popover"))
    assert {b.proto.label for b in app.get("download_button")} == {"CSV", "Parquet"}


def test_with_every_weight_at_zero_the_page_says_the_order_is_not_a_ranking(small_catalog_home):
    app = run_app("app_pages/ranking.py")
    for slider in app.sidebar.slider:
        slider.set_value(0.0)
    app.run()
    assert not app.exception
    main = [w.value for w in app.main.warning]
    assert main and main[0].startswith("Every weight is 0")
