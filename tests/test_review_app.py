"""The review loop in the app (AppTest): label in the viewer, Next, the Ranking's review filters, Explore's colour."""

import json

import pytest

from marsviz.catalog import Catalog
from tests.test_access import ADA, AUTH
from tests.test_app import run_app


def label_pills(app):
    return next(p for p in app.pills if p.label == "Label")


def ranked_ids() -> list[int]:
    from marsviz.scoring import ranked

    return ranked(Catalog().frame())["id"].astype(int).tolist()


def open_image(app) -> int:
    return app.session_state["viewer_open_image"]


def test_a_quick_label_is_stored_shown_and_removed_by_a_second_click(small_catalog_home):
    image_id = ranked_ids()[0]
    app = run_app("app_pages/ranking.py", image=str(image_id))
    assert label_pills(app).value is None
    assert any("Not reviewed yet" in c.value for c in app.caption)
    label_pills(app).set_value("crater").run()
    assert not app.exception
    assert Catalog().label_of(image_id).label == "crater"
    assert any(m.value.startswith("**Your label:** crater") for m in app.markdown)
    assert label_pills(app).value == "crater"
    assert app.dataframe[0].value.set_index("rank").loc[1, "label"] == "crater"  # the Ranking's column

    label_pills(app).set_value(None).run()
    assert not app.exception and Catalog().label_of(image_id) is None
    assert [(c["label"]) for c in Catalog().label_history(image_id)] == ["", "crater"]


def test_a_label_another_session_just_set_is_not_overwritten_and_the_message_says_who(small_catalog_home):
    image_id = ranked_ids()[0]
    app = run_app("app_pages/ranking.py", image=str(image_id))
    Catalog().set_label(image_id, "spider", labeled_by="ana")  # another session, after this one drew the viewer
    label_pills(app).set_value("crater").run()
    assert not app.exception
    assert any("ana labeled it “spider”" in e.value and "not saved" in e.value for e in app.error)
    assert Catalog().label_of(image_id).label == "spider"
    assert label_pills(app).value == "spider"  # the viewer now shows theirs
    label_pills(app).set_value("crater").run()  # chosen again, knowing theirs: saved
    assert Catalog().label_of(image_id).label == "crater" and not app.error


def test_a_free_label_and_a_note_are_saved_with_the_reviewers_name(small_catalog_home):
    image_id = ranked_ids()[2]
    app = run_app("app_pages/explore.py", image=str(image_id))
    app.text_input(key="reviewer_name_input").input("Ana").run()
    form = f"explore_viewer_label_form_{image_id}_0"
    app.text_input(key=f"{form}_label").input("Recurring slope lineae")
    app.text_area(key=f"{form}_note").input("dark streaks on the crater wall")
    next(b for b in app.button if b.label == "Save").click().run()
    assert not app.exception
    label = Catalog().label_of(image_id)
    assert (label.label, label.note, label.labeled_by) == ("recurring_slope_lineae", "dark streaks on the crater wall",
                                                          "Ana")
    assert any("recurring slope lineae by Ana" in m.value and "dark streaks" in m.value for m in app.markdown)


def test_next_opens_the_next_image_in_the_pages_order_that_has_no_label(small_catalog_home):
    ids = ranked_ids()
    catalog = Catalog()
    catalog.set_label(ids[1], "interesting")
    catalog.set_label(ids[2], "not interesting")
    app = run_app("app_pages/explore.py", image=str(ids[0]))
    app.button(key="explore_viewer_next").click().run()
    assert not app.exception and open_image(app) == ids[3]  # ranks 2 and 3 are reviewed
    assert app.query_params["image"] == str(ids[3])

    # On Ranking, Next follows the table's own order: here by name, largest first.
    app = run_app("app_pages/ranking.py", image=str(ids[0]))
    app.selectbox(key="ranking_sort").select("name").run()
    app.toggle(key="ranking_descending").set_value(True).run()
    by_name = app.dataframe[0].value["name"].tolist()
    names = dict(zip(Catalog().frame()["id"], Catalog().frame()["name"]))
    app.button(key="ranking_viewer_next").click().run()
    after = by_name[(by_name.index(names[ids[0]]) + 1) % len(by_name):] + by_name
    expected = next(n for n in after if n not in (names[ids[1]], names[ids[2]], names[ids[0]]))
    assert names[open_image(app)] == expected


def test_next_is_off_when_every_image_in_the_order_is_reviewed(small_catalog_home):
    catalog = Catalog()
    for image_id in ranked_ids():
        catalog.set_label(image_id, "other")
    app = run_app("app_pages/explore.py", image=str(ranked_ids()[0]))
    assert app.button(key="explore_viewer_next").disabled


def test_ranking_filters_reviewed_not_reviewed_and_by_label_and_the_link_keeps_them(small_catalog_home):
    ids = ranked_ids()
    catalog = Catalog()
    catalog.set_label(ids[0], "crater")
    catalog.set_label(ids[4], "spider")
    app = run_app("app_pages/ranking.py")
    app.segmented_control(key="ranking_reviewed").set_value("reviewed").run()
    assert not app.exception
    assert app.dataframe[0].value["label"].tolist() == ["crater", "spider"]
    assert app.query_params["reviewed"] == "yes"
    app.segmented_control(key="ranking_reviewed").set_value("not reviewed").run()
    assert len(app.dataframe[0].value) == len(ids) - 2
    app.segmented_control(key="ranking_reviewed").set_value(None).run()
    app.multiselect(key="ranking_label").select("spider").run()
    assert app.dataframe[0].value["label"].tolist() == ["spider"]

    linked = run_app("app_pages/ranking.py", reviewed="no")
    assert len(linked.dataframe[0].value) == len(ids) - 2


def test_explore_colours_points_by_label_with_the_unreviewed_apart(small_catalog_home):
    ids = ranked_ids()
    catalog = Catalog()
    catalog.set_label(ids[0], "not_interesting")
    catalog.set_label(ids[1], "not interesting")
    catalog.set_label(ids[2], "crater")
    app = run_app("app_pages/explore.py")
    app.selectbox(key="explore_colour").select("label").run()
    assert not app.exception
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    legend = {t["name"] for t in spec["data"] if t.get("showlegend", True)}
    assert legend == {"not interesting (2)", "crater (1)", f"not reviewed ({len(ids) - 3})"}


def test_a_signed_in_reviewer_is_recorded_by_their_sign_in(small_catalog_home):
    image_id = ranked_ids()[0]
    app = run_app("app_pages/ranking.py", user=ADA, secrets={"auth": AUTH}, image=str(image_id))
    assert not [t for t in app.text_input if t.key == "reviewer_name_input"]  # sign-in says who it is
    label_pills(app).set_value("interesting").run()
    assert Catalog().label_of(image_id).labeled_by == "ada@example.org"


@pytest.mark.parametrize("signed_out", [False, True])
def test_where_changes_are_closed_labels_are_shown_but_cannot_be_set(small_catalog_home, monkeypatch, signed_out):
    image_id = ranked_ids()[0]
    Catalog().set_label(image_id, "crater", labeled_by="ana")
    if signed_out:
        app = run_app("app_pages/ranking.py", user={"is_logged_in": False}, secrets={"auth": AUTH},
                      image=str(image_id))
    else:
        monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
        app = run_app("app_pages/ranking.py", image=str(image_id))
    assert not app.exception
    assert not [p for p in app.pills if p.label == "Label"]
    assert any(m.value.startswith("**Your label:** crater by ana") for m in app.markdown)
    assert any("can be read here but not set" in c.value for c in app.caption)


def test_the_label_history_is_shown_once_a_label_changed(small_catalog_home):
    image_id = ranked_ids()[0]
    catalog = Catalog()
    catalog.set_label(image_id, "crater", labeled_by="ana")
    catalog.set_label(image_id, "spider", labeled_by="bo")
    app = run_app("app_pages/ranking.py", image=str(image_id))
    history = [c.value for c in app.caption if c.value.startswith("History: ")]
    assert len(history) == 1 and history[0].index("spider by bo") < history[0].index("crater by ana")
